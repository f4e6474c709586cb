"""python -m smallretail_llm.catalog.samples.build [--out DIR] [--fixtures DIR] [--seed N]

Writes the sample catalog: `shops.json` (3 ShopPolicy dicts) and one Excel-style CSV per shop
(`<shop_id>.csv`, UTF-8 with BOM, Korean headers) into this package folder, plus the messy CP949
import fixture `tests/fixtures/messy_export.csv` and its expected rejects when run from a checkout.

The product facts live in the data modules (food, agri, health, beauty, household, goods,
kitchen, electronics); this script only formats them the way shops do (mixed price and date
spellings, GTIN-13s with 880 prefixes, comma lists) and leaves deliberate, valid gaps: about 10%
of rows lack an optional field and about 5% lack a required 상품정보제공고시 field. Everything is
drawn from one seeded `random.Random`, so the same seed gives the same bytes on every run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from smallretail_llm.catalog.samples import (
    agri,
    beauty,
    electronics,
    food,
    goods,
    health,
    household,
    kitchen,
)
from smallretail_llm.catalog.samples.item import Item
from smallretail_llm.core.categories import get_category
from smallretail_llm.core.record import ShopPolicy

log = logging.getLogger(__name__)

SEED = 20250601
PACKAGE_DIR = Path(__file__).resolve().parent
OPTIONAL_GAP_RATE = 0.10
REQUIRED_GAP_RATE = 0.05

# (policy, SKU prefix, category builders) per shop, in output order.
SHOPS: list[tuple[dict, str, list[Callable[[], list[Item]]]]] = [
    (food.SHOP, food.PREFIX, [food.processed_food, agri.agri_food, health.health_food]),
    (beauty.SHOP, beauty.PREFIX, [beauty.cosmetics, household.household_chemical]),
    (goods.SHOP, goods.PREFIX, [goods.wear, kitchen.kitchenware, electronics.small_electronics]),
]
SKU_CODES = {"processed_food": "PF", "agri_food": "AG", "health_food": "HF", "cosmetics": "CO",
             "household_chemical": "HC", "wear": "WR", "kitchenware": "KT", "small_electronics": "EL"}

# The export's core columns and the ProductRecord attribute each one fills.
STANDARD = {"상품코드": "sku", "상품명": "name", "카테고리": "category", "판매가": "price_krw",
            "브랜드": "brand", "제조사": "manufacturer", "원산지": "origin", "용량/중량": "net_content",
            "바코드": "gtin", "재고수량": "stock", "알레르기": "allergens",
            "혼입 가능 알레르기": "cross_contact", "보관방법": "storage", "소비기한": "use_by",
            "인증": "certifications", "키워드": "keywords", "상세설명": "existing_description"}
OPTIONAL_GAPS = ("브랜드", "바코드", "재고수량", "키워드")
OPTIONAL_NOTICE_GAPS = ("nutrition", "gmo", "legal_marks", "pack_size")


# ---------------------------------------------------------------- value formatting
def gtin13(body12: str) -> str:
    """A 12-digit body plus its GS1 mod-10 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body12)))
    return body12 + str((10 - total % 10) % 10)


def _price(rng: random.Random, price: int) -> str:
    style = rng.choice(("{:,}원", "{:,}원", "{}", "{:,}"))
    return style.format(price)


def _date(rng: random.Random) -> str:
    day = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365))
    y, m, d = day.year, day.month, day.day
    return rng.choice((f"{y}.{m:02d}.{d:02d}", f"{y}-{m}-{d}", f"{y}.{m}.{d}", f"{y}-{m:02d}-{d:02d}",
                       f"{y}년 {m}월 {d}일"))


def _use_by(rng: random.Random, value: int | str | None) -> str:
    """Months of shelf life become a 2027 date (sometimes the period as written on the pack)."""
    if value is None or isinstance(value, str):
        return value or ""
    if rng.random() < 0.1:
        return f"제조일로부터 {value}개월"
    return _date(rng)


def _allergens(rng: random.Random, names: list[str], food_row: bool) -> str:
    if not names:
        return rng.choice(("", "없음", "해당없음")) if food_row else ""
    style = rng.choice(("{} 함유", "{} 함유", "알레르기 유발물질: {}", "{}"))
    sep = "·" if rng.random() < 0.3 else ", "
    return style.format(sep.join(names))


class _Gtins:
    """Per-brand GS1 Korea company prefixes (880 + 4 digits) and item numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.companies: dict[str, tuple[str, int]] = {}  # owner -> (company prefix, next item)
        self.used: set[str] = set()

    def next(self, owner: str) -> str:
        if owner not in self.companies:
            prefix = f"880{self.rng.randrange(1000, 10000)}"
            while prefix in {p for p, _ in self.companies.values()}:
                prefix = f"880{self.rng.randrange(1000, 10000)}"
            self.companies[owner] = (prefix, self.rng.randrange(10000, 60000))
        prefix, item = self.companies[owner]
        self.companies[owner] = (prefix, item + 1)
        code = gtin13(f"{prefix}{item:05d}")
        self.used.add(code)
        return code


# ---------------------------------------------------------------- rows
def _notice_columns(items: list[Item]) -> list[str]:
    """Korean labels of the notice fields the core columns do not cover, in spec order."""
    covered = {"name", "manufacturer", "origin", "net_content", "storage", "use_by"}
    provided = {(it.category, key) for it in items for key in it.notice}
    columns: list[str] = []
    for code in dict.fromkeys(it.category for it in items):
        for field in get_category(code).fields:
            if field.record_attr in covered and (code, field.key) not in provided:
                continue
            if field.label not in columns and field.label not in STANDARD:
                columns.append(field.label)
    return columns


def _row(rng: random.Random, item: Item, sku: str, gtins: _Gtins) -> dict[str, str]:
    spec = get_category(item.category)
    food_row = spec.food
    copy = item.copy if item.copy and rng.random() < 0.6 else ""
    row = {
        "상품코드": sku, "상품명": item.name, "카테고리": spec.label,
        "판매가": _price(rng, item.price), "브랜드": item.brand or "",
        "제조사": item.maker or "", "원산지": item.origin or "", "용량/중량": item.net or "",
        "바코드": gtins.next(item.brand or item.maker) if item.barcode else "",
        "재고수량": str(rng.choice((0, rng.randrange(1, 40), rng.randrange(40, 400)))),
        "알레르기": _allergens(rng, item.allergens, food_row),
        "혼입 가능 알레르기": item.cross or "", "보관방법": item.storage or "",
        "소비기한": _use_by(rng, item.use_by), "인증": ", ".join(item.certs),
        "키워드": ", ".join(item.keywords), "상세설명": copy,
    }
    for key, value in item.notice.items():
        row[spec.field(key).label] = value  # KeyError here means the data names an unknown field
    return row


def _add_gaps(rng: random.Random, rows: list[dict[str, str]], items: list[Item]) -> None:
    """Blank an optional cell in ~10% of rows and a required notice cell in ~5% (valid, just missing)."""
    order = rng.sample(range(len(rows)), len(rows))
    n_opt, n_req = round(len(rows) * OPTIONAL_GAP_RATE), round(len(rows) * REQUIRED_GAP_RATE)
    for i in order[:n_opt]:
        spec = get_category(items[i].category)
        choices = [h for h in OPTIONAL_GAPS if rows[i][h]] + [
            spec.field(k).label for k in OPTIONAL_NOTICE_GAPS if k in items[i].notice]
        rows[i][rng.choice(choices)] = ""
    for i in order[n_opt:n_opt + n_req]:
        spec = get_category(items[i].category)
        required = [f.label for f in spec.fields if f.required and f.key in items[i].notice]
        rows[i][rng.choice(required)] = ""


def _csv_text(header: list[str], rows: Sequence[Mapping[str, str | None]]) -> str:
    """None cells (a messy export's blanks) are written empty, as csv.writer does."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # what Excel writes
    writer.writerow(header)
    writer.writerows([row.get(h, "") for h in header] for row in rows)
    return buf.getvalue()


def build(out_dir: Path = PACKAGE_DIR, seed: int = SEED) -> dict[str, int]:
    """Write shops.json and one CSV per shop into `out_dir`; returns product counts per category."""
    rng = random.Random(seed)
    gtins = _Gtins(rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    policies = []
    for policy, prefix, builders in SHOPS:
        policies.append(ShopPolicy.model_validate(policy).model_dump(mode="json"))
        items = [item for make in builders for item in make()]
        rows = []
        for item in items:
            counts[item.category] = counts.get(item.category, 0) + 1
            sku = f"{prefix}-{SKU_CODES[item.category]}-{counts[item.category]:03d}"
            rows.append(_row(rng, item, sku, gtins))
        _add_gaps(rng, rows, items)
        used = [h for h in STANDARD if any(row[h] for row in rows)]
        header = used + _notice_columns(items)
        text = _csv_text(header, rows)
        (out_dir / f"{policy['shop_id']}.csv").write_bytes(text.encode("utf-8-sig"))
        log.info("%s: %d products", policy["shop_id"], len(rows))
    text = json.dumps(policies, ensure_ascii=False, indent=2) + "\n"
    (out_dir / "shops.json").write_bytes(text.encode("utf-8"))
    return counts


# ---------------------------------------------------------------- messy import fixture
MESSY_HEADER = ["상품코드", "상품명", "카테고리", "가격", "브랜드", "제조사", "원산지", "중량", "바코드",
                "재고수량", "알레르기", "보관방법", "유통기한", "인증", "키워드", "식품의 유형",
                "원재료명 및 함량", "메모", "공급처"]
DUPLICATE_REASON = "같은 파일에 같은 상품코드가 이미 있음"
# (data row index 0-based, column, bad value, reason substring); row number = index + 2.
MESSY_BAD = [
    (2, "상품명", "", "필수 항목이 비어 있음"),
    (5, "가격", "가격문의", "가격을 숫자로 읽을 수 없습니다"),
    (8, "바코드", "8801234567890", "검증 숫자"),
    (10, "바코드", "88012345678", "자릿수"),
    (13, "알레르기", "밀, 아몬드 함유", "알 수 없는 알레르기 항목"),
    (15, "유통기한", "내년 3월쯤", "유통기한을 읽을 수 없습니다"),
    (18, "카테고리", "잡화류", "알 수 없는 카테고리"),
    (21, "상품코드", None, DUPLICATE_REASON),  # None: copy the SKU of row index 4
    (24, "재고수량", "-5", "음수"),
    (27, "중량", "많이", "용량을 읽을 수 없습니다"),
]


def build_messy_fixture(out_dir: Path, seed: int = SEED) -> list[dict]:
    """A CP949 export of the food shop with synonym headers, unknown columns and one bad cell in
    each of 10 rows; writes messy_export.csv and messy_export.expected.json, returns the latter."""
    rng = random.Random(seed + 1)
    items = food.processed_food()[:18] + agri.agri_food()[:12]
    rng.shuffle(items)
    rows = []
    for i, item in enumerate(items):
        spec = get_category(item.category)
        rows.append({
            "상품코드": f"A{1001 + i}", "상품명": item.name, "카테고리": spec.label,
            "가격": f"￦{item.price:,}" if rng.random() < 0.2 else _price(rng, item.price),
            "브랜드": item.brand or "", "제조사": item.maker, "원산지": item.origin, "중량": item.net,
            "바코드": gtin13(f"8809{rng.randrange(10**7, 10**8)}") if item.barcode else "",
            "재고수량": str(rng.randrange(0, 200)), "알레르기": _allergens(rng, item.allergens, True),
            "보관방법": item.storage, "유통기한": _use_by(rng, item.use_by),
            "인증": ", ".join(item.certs), "키워드": ", ".join(item.keywords),
            "식품의 유형": item.notice.get("food_type", ""),
            "원재료명 및 함량": item.notice.get("ingredients", ""),
            "메모": rng.choice(("", "", "재입고 예정", "추석 선물세트 후보", "단가 인상 예정")),
            "공급처": item.maker if rng.random() < 0.5 else "",
        })
    expected = []
    for index, column, value, reason in MESSY_BAD:
        rows[index][column] = rows[4]["상품코드"] if value is None else value
        expected.append({"row": index + 2, "column": column, "reason_contains": reason})
    out_dir.mkdir(parents=True, exist_ok=True)
    data = _csv_text(MESSY_HEADER, rows).encode("cp949")  # strict: fails on a non-CP949 character
    (out_dir / "messy_export.csv").write_bytes(data)
    text = json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    (out_dir / "messy_export.expected.json").write_bytes(text.encode("utf-8"))
    return expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR, help="folder for shops.json and CSVs")
    parser.add_argument("--fixtures", type=Path, default=PACKAGE_DIR.parents[3] / "tests" / "fixtures",
                        help="folder for the messy import fixture (skipped when its parent is missing)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counts = build(args.out, args.seed)
    if args.fixtures.parent.is_dir():
        build_messy_fixture(args.fixtures, args.seed)
    print(json.dumps({"total": sum(counts.values()), **counts}, ensure_ascii=False))  # CLI summary


if __name__ == "__main__":
    main()
