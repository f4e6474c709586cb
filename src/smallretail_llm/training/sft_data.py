"""SFT data, before any model: read the splits, check their prompt versions, and turn each
conversation into token ids with assistant-only labels (everything else IGNORE_INDEX), padded
into batches. Kept apart from sft.py (loading the model, running the Trainer): this part needs
only the data and a tokenizer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from datasets import DatasetDict
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100


def load_sft_splits(path: str | Path) -> DatasetDict:
    """Read SFT data: a save_to_disk folder, a folder of {split}.jsonl, or one .jsonl file
    (split by its `split` column if it has one, else all rows are "train")."""
    from datasets import Dataset, DatasetDict, load_from_disk

    path = Path(path)
    if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
        loaded = load_from_disk(str(path))
        return loaded if isinstance(loaded, DatasetDict) else DatasetDict({"train": loaded})
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"학습 데이터가 없습니다: {path} (save_to_disk 폴더나 *.jsonl 필요)")
        return DatasetDict({f.stem: Dataset.from_list(_read_jsonl(f)) for f in files})
    if not path.is_file():
        raise FileNotFoundError(f"학습 데이터 파일이 없습니다: {path}")
    rows = _read_jsonl(path)
    if rows and "split" in rows[0]:
        names = sorted({r["split"] for r in rows})
        return DatasetDict({n: Dataset.from_list([r for r in rows if r["split"] == n]) for n in names})
    return DatasetDict({"train": Dataset.from_list(rows)})


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: JSON 줄을 읽을 수 없습니다 ({exc.msg})") from None
    return rows


def task_of(prompt_version: str) -> str:
    """"describe.v1" -> "describe": the prompt a version belongs to."""
    return prompt_version.split(".", 1)[0]


def resolve_prompt_versions(splits: DatasetDict, configured: list[str] | None) -> list[str]:
    """The prompt versions the data was rendered with: one per prompt (task), sorted. When the
    config names versions too, they must be exactly the data's."""
    found: set[str] = set()
    for split in splits.values():
        if "prompt_version" in split.column_names:
            found.update(v for v in split["prompt_version"] if v)
    tasks = sorted(task_of(v) for v in found)
    clashes = sorted({t for t in tasks if tasks.count(t) > 1})
    if clashes:
        raise ValueError(f"학습 데이터에 같은 프롬프트의 여러 버전이 섞여 있습니다: {', '.join(clashes)}")
    if configured and found and set(configured) != found:
        raise ValueError(
            f"설정의 prompt_versions {sorted(configured)}와 데이터의 {sorted(found)}가 다릅니다."
        )
    versions = sorted(found or configured or [])
    if not versions:
        raise ValueError("프롬프트 버전을 알 수 없습니다: 데이터 행(prompt_version)이나 설정에 넣으세요.")
    return versions


def encode_chat(
    messages: list[dict[str, str]],
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    template_kwargs: dict[str, Any] | None = None,
) -> dict[str, list[int]] | None:
    """Token ids and labels for one conversation: every assistant turn (content, end marker
    and EOS) is learned, everything else is IGNORE_INDEX. Returns None when the example has
    no assistant turn or is longer than `max_length` (a cut example would lose its EOS).

    Spans come from rendering the conversation prefix by prefix with the model's own chat
    template, then mapping characters to tokens, so it works for any template whose render
    of a prefix is a prefix of the whole render."""
    kwargs = template_kwargs or {}

    def render(msgs: list[dict[str, str]], generation_prompt: bool) -> str:
        # tokenize=False renders one conversation to one str (the stub lists every return kind)
        return cast(str, tokenizer.apply_chat_template(
            msgs, tokenize=False, add_generation_prompt=generation_prompt, **kwargs
        ))

    full = render(messages, False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt, upto = render(messages[:i], True), render(messages[: i + 1], False)
        if not (full.startswith(prompt) and full.startswith(upto) and upto.startswith(prompt)):
            raise ValueError(
                "채팅 템플릿이 대화 앞부분을 다르게 그립니다: 어시스턴트 구간을 찾을 수 없습니다 "
                f"(턴 {i}). 한 턴짜리 대화로 만들거나 템플릿을 확인하세요."
            )
        spans.append((len(prompt), len(upto)))
    if not spans:
        return None
    encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    labels = [IGNORE_INDEX] * len(ids)
    for index, (start, _end) in enumerate(offsets):
        if any(a <= start < b for a, b in spans):
            labels[index] = ids[index]
    eos = tokenizer.eos_token_id
    if eos is not None and eos not in [t for t in labels if t != IGNORE_INDEX]:
        ids, labels = ids + [eos], labels + [eos]  # a template that never emits EOS
    if len(ids) > max_length:
        return None
    return {"input_ids": ids, "labels": labels}


@dataclass
class SFTCollator:
    """Right-pads a batch: pad id for inputs, IGNORE_INDEX for labels, 0 in the mask."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        batch: dict[str, list[list[int]]] = {"input_ids": [], "labels": [], "attention_mask": []}
        for f in features:
            pad = longest - len(f["input_ids"])
            batch["input_ids"].append(f["input_ids"] + [self.pad_token_id] * pad)
            batch["labels"].append(f["labels"] + [IGNORE_INDEX] * pad)
            batch["attention_mask"].append([1] * len(f["input_ids"]) + [0] * pad)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


def tokenize_split(split, tokenizer, max_length: int, template_kwargs: dict[str, Any],
                   targets: str = "text"):
    """Encode a datasets split; returns (encoded split, number of examples dropped). With
    targets="slots" the reply learned is the row's `slot_target` (value slots, see slots.py)."""
    if targets == "slots" and "slot_target" not in split.column_names:
        raise ValueError("targets: slots 인데 학습 데이터에 slot_target 열이 없습니다: "
                         "`smallretail data build`로 데이터를 다시 만드세요.")

    def encode(row: dict[str, Any]) -> dict[str, list[int]]:
        messages = row["messages"]
        if targets == "slots":
            messages = [*messages[:-1], {"role": "assistant", "content": row["slot_target"]}]
        out = encode_chat(messages, tokenizer, max_length, template_kwargs)
        return out or {"input_ids": [], "labels": []}

    encoded = split.map(encode, remove_columns=split.column_names, keep_in_memory=True)
    kept = encoded.filter(lambda row: len(row["input_ids"]) > 0, keep_in_memory=True)
    return kept, len(encoded) - len(kept)

