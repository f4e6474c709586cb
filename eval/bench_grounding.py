"""python eval/bench_grounding.py [--seconds 5] [--chars 600]

Description checks per second on one core for ~600-character model-like texts over the records
of the sample categories (tests/data/grounding_records.json), with a shop policy, style detail.
The process is pinned to one CPU where the OS allows it, and the rate is taken over this
process's CPU time, so other load on a shared machine does not count (the wall-clock rate is
printed too). Every text is different (a nonsense word per text), so the per-sentence morpheme
cache of `compliance` does not flatter the figure. Texts mix supported facts, invented claims and
ad-rule words, so the claim extractor and the compliance checker (kiwipiepy, analyzer loaded once
per process) both work. Prints one JSON line:
{"checks_per_s", "wall_checks_per_s", "texts", "mean_chars", "ms_per_check", "target_per_s"}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from smallretail_llm.core.record import ProductRecord, ShopPolicy
from smallretail_llm.grounding.check import check_description

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "grounding_records.json"
TARGET_PER_S = 200

# Sentences a model might write; "{...}" fields come from the record, so about half hold.
SENTENCES = (
    "{name}을 소개합니다.", "가격은 {price:,}원이에요.", "원산지는 {origin}입니다.",
    "제조사는 {manufacturer}입니다.", "지금 주문하면 10% 추가 할인과 무료배송 혜택을 드려요.",
    "국내 판매 1위, 주문 폭주 중인 인기 상품입니다.", "HACCP 인증 시설에서 위생적으로 만들었어요.",
    "소비기한은 2026년 3월 1일까지이며 냉장 보관해 주세요.", "우유와 대두를 사용하지 않았습니다.",
    "1kg 대용량으로 넉넉하게 드실 수 있어요.", "배송비는 3,000원이고 3만원 이상 무료배송입니다.",
    "면역력 강화와 피부 재생에 좋아요.", "고객센터 1588-1234로 문의해 주세요.",
    "맛이 없으면 100% 환불 보장해 드립니다.", "오후 2시 이전 결제 시 당일 출고됩니다.",
)


def make_text(record: ProductRecord, job: int, chars: int) -> str:
    """About `chars` characters of copy for `record`; `job` varies the sentences and the nonce."""
    values = {"name": record.name, "price": record.price_krw or 9900,
              "origin": record.origin or "국내산", "manufacturer": record.manufacturer or "한빛식품"}
    nonce = "".join("가나다라마바사아자차"[int(d)] for d in f"{job:04d}")  # no claim, no rule word
    out, i = [], job
    while sum(len(s) + 1 for s in out) < chars:
        out.append(f"{nonce} " + SENTENCES[i % len(SENTENCES)].format(**values))
        i += 4
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description="grounding check throughput on one core")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--chars", type=int, default=600)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    data = json.loads(DATA.read_text(encoding="utf-8"))
    policy = ShopPolicy.model_validate(data["policies"]["basic"])
    records = [ProductRecord.model_validate(r) for r in data["records"].values()]
    jobs = [(make_text(records[k % len(records)], k, args.chars), records[k % len(records)])
            for k in range(2000)]
    check_description(*jobs[0], policy)  # warm-up: loads the kiwipiepy model once
    done, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < args.seconds:
        text, record = jobs[done % len(jobs)]
        check_description(text, record, policy, "detail")
        done += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({
        "checks_per_s": round(done / cpu, 1), "wall_checks_per_s": round(done / elapsed, 1),
        "texts": len(jobs), "mean_chars": round(statistics.mean(len(t) for t, _ in jobs)),
        "ms_per_check": round(1000 * cpu / done, 2), "target_per_s": TARGET_PER_S,
    }))


if __name__ == "__main__":
    main()
