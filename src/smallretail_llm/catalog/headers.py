"""Map a shop export's column headers onto the standard record's fields.

Core fields have built-in Korean (and English) synonyms; 상품정보제공고시 columns are matched per row
against the labels and aliases of that row's category spec; anything else is kept in `extra`."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

from smallretail_llm.core.categories import CategorySpec

# Standard record attribute -> the headers shops use for it (normalized with `header_key`).
CORE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "shop_id": ("shop_id", "상점", "상점코드", "상점아이디", "스토어"),
    "sku": ("sku", "상품코드", "상품번호", "자체상품코드", "판매자상품코드", "품번", "관리코드", "상품id"),
    "name": ("name", "상품명", "제품명", "품명", "상품이름", "상품명칭"),
    "category": ("category", "카테고리", "분류", "상품분류", "상품군", "품목군", "상품정보제공고시"),
    "price_krw": ("price_krw", "price", "판매가", "가격", "판매가격", "정가", "소비자가", "판매금액"),
    "brand": ("brand", "브랜드", "브랜드명"),
    "manufacturer": ("manufacturer", "제조사", "제조원", "제조자", "제조업체", "생산자", "제조사명"),
    "origin": ("origin", "원산지", "제조국", "생산지", "국가"),
    "net_content": ("net_content", "용량", "중량", "용량중량", "내용량", "용량/중량"),
    "gtin": ("gtin", "barcode", "바코드", "바코드번호", "gtin코드", "ean", "상품바코드"),
    "stock": ("stock", "재고", "재고수량", "재고량"),
    "keywords": ("keywords", "키워드", "검색어", "태그", "검색키워드"),
    "existing_description": ("existing_description", "상세설명", "상품설명", "설명", "상품상세"),
    "allergens": ("allergens", "알레르기", "알러지", "알레르기유발물질", "알레르기성분", "알레르기정보"),
    "cross_contact": ("cross_contact", "혼입가능알레르기", "교차오염", "같은제조시설"),
    "storage": ("storage", "보관방법", "보관", "보관방법및취급방법", "보관및취급방법"),
    "use_by": ("use_by", "소비기한", "유통기한", "사용기한", "유효기간", "소비기한유통기한"),
    "certifications": ("certifications", "인증", "인증정보", "인증사항", "인증마크", "인증허가사항"),
}

_SYNONYM_INDEX: dict[str, str] = {}


@lru_cache(maxsize=4096)
def header_key(header: str) -> str:
    """Compare headers loosely: NFKC, no spaces or punctuation, lower-case, no "(원)"-style suffix."""
    text = unicodedata.normalize("NFKC", header).strip().lower()
    text = re.sub(r"\((원|개|g|ml|kg|l|krw|￦|\s)*\)$", "", text)
    return re.sub(r"[\s_\-·・/.,:()\[\]]+", "", text)


def core_field(header: str) -> str | None:
    """The standard record attribute a header names, or None."""
    if not _SYNONYM_INDEX:
        for attr, names in CORE_SYNONYMS.items():
            for n in names:
                _SYNONYM_INDEX[header_key(n)] = attr
    return _SYNONYM_INDEX.get(header_key(header))


@lru_cache(maxsize=4096)
def notice_field(header: str, spec: CategorySpec) -> str | None:
    """The notice key of `spec` whose label or alias matches the header, or None (cached: an
    export repeats the same few headers and categories on every row)."""
    key = header_key(header)
    for f in spec.fields:
        if key == header_key(f.label) or key == header_key(f.key) or any(
            key == header_key(a) for a in f.aliases
        ):
            return f.key
    return None


class MappingError(ValueError):
    """A --mapping file that cannot be used."""


def load_mapping(path: str | Path | None) -> dict[str, str]:
    """A shop's own header mapping: {"원본 열": "price_krw" | "notice.<key>" | "extra"}."""
    if path is None:
        return {}
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"열 매핑 파일을 읽을 수 없습니다: {path} ({exc})") from exc
    if not isinstance(doc, dict):
        raise MappingError(f"열 매핑 파일은 '원본 열: 필드' 형식이어야 합니다: {path}")
    mapping = {}
    for header, target in doc.items():
        target = str(target)
        if target not in CORE_SYNONYMS and target != "extra" and not target.startswith("notice."):
            raise MappingError(
                f"열 매핑 '{header}: {target}'의 대상 필드를 알 수 없습니다. "
                f"가능한 값: {', '.join(CORE_SYNONYMS)}, notice.<항목키>, extra"
            )
        mapping[str(header)] = target
    return mapping
