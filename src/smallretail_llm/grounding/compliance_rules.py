"""The advertising rules `compliance` checks copy against: 식품표시광고법 제8조 (foods), 화장품법
제13조 (cosmetics) and generic no-invention rules (certifications, rankings, guarantees), each a
morpheme pattern, plus the safety wording that looks like a claim and the trigger words that make
a sentence worth analysing at all. The engine (morphemes, negation, what the record backs) is
`compliance`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from smallretail_llm.core import vocab
from smallretail_llm.core.categories import food_categories

LAW_FOOD = "식품 등의 표시·광고에 관한 법률 제8조"
LAW_COSMETICS = "화장품법 제13조"
LAW_HEALTH_STATEMENT = "식품 등의 표시·광고에 관한 법률 제4조 (건강기능식품 표시기준)"
LAW_FAIR_AD = "표시·광고의 공정화에 관한 법률 제3조"

COSMETICS = frozenset({"cosmetics"})


# --- pattern language -------------------------------------------------------------------------
# A pattern is a tuple of elements: "forms:TAGS" (forms is a regex alternation, TAGS a key of
# _TAGS or a raw tag regex) or "~n" (up to n arbitrary morphemes in between).
_TAGS = {
    "N": r"NN[GPB]|NR|SL|XR",
    "V": r"(?:VV|VA|VX|XSV|XSA)(?:-[IR])?",
    "VV": r"VV(?:-[IR])?",
    "*": r"[^\s/]+",
}


def _compile(*elements: str) -> re.Pattern[str]:
    out = ""
    for element in elements:
        if element.startswith("~"):
            out += rf"(?: \S+){{0,{int(element[1:])}}}"
            continue
        forms, _, tags = element.rpartition(":")
        item = rf"(?<!\S)(?:{forms})/(?:{_TAGS.get(tags, tags)})(?!\S)"
        out += f" {item}" if out else item
    return re.compile(out, re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """One advertising rule: its name, law, the categories it applies to (None: all) and the
    morpheme pattern that breaks it."""

    rule: str
    law: str
    categories: frozenset[str] | None  # None: every category
    pattern: re.Pattern[str]
    except_health_food: bool = False
    cert: str | None = None  # invented_certification: the certification group it names


def _rule(rule: str, law: str, categories: frozenset[str] | None, *elements: str,
          except_health_food: bool = False, cert: str | None = None) -> Rule:
    return Rule(rule, law, categories, _compile(*elements), except_health_food, cert)


@functools.cache
def rules() -> tuple[Rule, ...]:
    """Every rule, in priority order: where two matches overlap, the earlier rule's violation is
    kept. Built on first use: the food groups come from categories.yaml (`food: true`), the disease
    and health-marker words from vocab.yaml (`ad_claims`)."""
    foods = food_categories()
    ordinary_foods = foods - {"health_food"}  # a 건강기능식품 may state its approved function
    diseases = "|".join(vocab.ad_claims().diseases)
    markers = "|".join(vocab.ad_claims().health_markers)
    return (
        # 식품표시광고법 제8조: disease prevention/treatment, medicine-likeness, fake 건강기능식품.
        _rule("disease_claim", LAW_FOOD, foods, r"치료\w*|완치|치유|항암\w*|특효|예방:N"),
        _rule("disease_claim", LAW_FOOD, foods, "낫:VV"),
        _rule("disease_claim", LAW_FOOD, foods, f"병|{diseases}:N", "~3", "고치:VV"),
        _rule("disease_claim", LAW_FOOD, foods, f"{diseases}:N", "~2",
              r"좋|효과|효능|효험|도움|개선|탁월|직빵|그만|특효:*"),
        _rule("disease_claim", LAW_FOOD, foods, f"{markers}:N", "~2",
              r"낮추|내리|떨어뜨리|떨어트리|정상화:*"),
        _rule("medicine_like", LAW_FOOD, foods, r"약효|처방\w*|특효약|명약|만병통치\w*|영약|보약|신약|양약:N"),
        _rule("medicine_like", LAW_FOOD, foods, "약:NNG", "처럼|같이:JKB"),
        _rule("fake_health_functional", LAW_FOOD, ordinary_foods, "건강:N", "기능:N", "식품:N"),
        _rule("fake_health_functional", LAW_FOOD, ordinary_foods, r"건강기능식품|기능성\w*:N"),
        _rule("fake_health_functional", LAW_FOOD, ordinary_foods, "기능:N", "성:XSN"),
        _rule("fake_health_functional", LAW_FOOD, ordinary_foods, r"면역\w*:N", "~1",
              r"증진|강화|향상|높이|올리|개선:*"),
        _rule("fake_health_functional", LAW_FOOD, ordinary_foods, f"{markers}|체지방:N", "~1",
              r"조절|개선|감소:N"),
        _rule("testimonial", LAW_FOOD, foods, r"의사|한의사|약사|전문의|의학\w*|교수|박사|영양사:N",
              "~2", r"추천|권장|극찬|인정|보증:*"),
        _rule("testimonial", LAW_FOOD, foods, r"체험담|체험기:N"),
        _rule("testimonial", LAW_FOOD, foods, "체험:N", r"사례|담|기|후기:*"),
        _rule("testimonial", LAW_FOOD, foods, "효과:N", "~1", "보:VV"),
        # 화장품법 제13조: medicine-like claims.
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS,
              r"치료\w*|완치|치유|소독|살균|멸균|발모|양모|육모|지방분해|체중감량:N"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "낫:VV"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, r"피부|세포|진피|손상:N", "~1", "재생:N"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "재생:N", r"시키|되|하:XSV"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "발:N", "모:N"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "지방:N", "분해:N"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "체중:N", r"감량|감소:N"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "살:N", "~1", "빠지:VV"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS, "셀룰라이트:N", "~1", r"분해|제거:*"),
        _rule("cosmetic_medical_claim", LAW_COSMETICS, COSMETICS,
              r"염증|아토피|습진|건선|피부염|무좀|상처|흉터:N", "~2",
              r"완화|개선|억제|진정|제거|없애|가라앉히|아물:*"),
        # 화장품법 제13조: functional claims need 기능성 심사 (checked against the record below).
        _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"미백|화이트닝:N"),
        _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, "주름:N", "~1",
              r"개선|완화|감소|제거|예방|펴|없애:*"),
        _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"자외선|UV:N", "~1",
              r"차단|보호|막:*"),
        _rule("cosmetic_functional_unapproved", LAW_COSMETICS, COSMETICS, r"SPF|PA:SL"),
        # Generic: certifications the record does not hold.
        _rule("invented_certification", LAW_FAIR_AD, None, r"KC|KCC:SL", "~1",
              r"인증\w*|마크|안전인증|적합성\w*:N", cert="kc"),
        _rule("invented_certification", LAW_FAIR_AD, None, r"HACCP|해썹|햅썹:N", cert="haccp"),
        _rule("invented_certification", LAW_FAIR_AD, None, "안전관리인증:N", cert="haccp"),
        _rule("invented_certification", LAW_FAIR_AD, None, r"유기농\w*|유기가공\w*|오가닉|organic:N",
              cert="organic"),
        _rule("invented_certification", LAW_FAIR_AD, None, "유기:N", r"농산물|재배|인증|가공:N",
              cert="organic"),
        _rule("invented_certification", LAW_FAIR_AD, None, r"무|저:XPN", "농약:N",
              cert="pesticide_free"),
        _rule("invented_certification", LAW_FAIR_AD, None, r"무농약|저농약:N", cert="pesticide_free"),
        _rule("invented_certification", LAW_FAIR_AD, None, "친환경:N", "~2", r"인증\w*:N", cert="eco"),
        _rule("invented_certification", LAW_FAIR_AD, None, "친:XPN", "환경:N", "~2", r"인증\w*:N",
              cert="eco"),
        _rule("invented_certification", LAW_FAIR_AD, None, "FDA:SL", cert="fda"),
        _rule("invented_certification", LAW_FAIR_AD, None, "c?GMP:SL", cert="gmp"),
        _rule("invented_certification", LAW_FAIR_AD, None, "ISO:SL", cert="iso"),
        _rule("invented_certification", LAW_FAIR_AD, None, r"식약처|식품의약품안전처|식약청:N", "~2",
              r"인증|인정|승인|허가|검증:*", except_health_food=True, cert="mfds"),
        # Generic: rankings, awards, popularity claims.
        _rule("ranking_or_award", LAW_FAIR_AD, None, r"대상|금상|은상|동상|우수상|상:N", "~2", "수상:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, r"\d+:SN", "위:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "1:SN", "등:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, r"no\.?:SL", "~1", "1:SN"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "넘버:N", r"원|1:*"),
        _rule("ranking_or_award", LAW_FAIR_AD, None,
              r"넘버원|베스트셀러|완판|랭킹|판매왕|주문폭주|어워드|어워즈|그랑프리|금상|최우수상:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "주문:N", "폭주:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "품절:N", "대란:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "수상:N", r"경력|작|제품|내역|이력:N"),
        _rule("ranking_or_award", LAW_FAIR_AD, None, "수상:N", "하:XSV", "었|았:EP"),
        # Generic: guarantees.
        _rule("guarantee", LAW_FAIR_AD, None, r"환불|효과|만족|결과|반품|교환:N", "~1", r"보장|보증:N"),
        _rule("guarantee", LAW_FAIR_AD, None, "100:SN", "%:SW", "~1", r"환불|만족|보장|효과:N"),
        _rule("guarantee", LAW_FAIR_AD, None, "무조건:*", "~1", r"환불|교환|반품:N"),
        _rule("guarantee", LAW_FAIR_AD, None, "평생:N", r"보증|보장:N"),
    )


# Spans that look like claims but are safety wording or caution notices; matches inside are dropped.
SAFE: tuple[re.Pattern[str], ...] = (
    _compile(r"식중독|질식|변질|사고|화재|부상|화상|오염|곰팡이|산패|결로|감전|누전|충돌|파손:N",
             "~1", "예방:N"),
    _compile(r"치료\w*:N", "~1", "중:NNB"),
    _compile(r"치료\w*:N", "~2", r"받|필요:*"),
)

# Surface words that can start a match; sentences without any are not tokenized at all.
TRIGGER = re.compile(
    r"치료|완치|치유|항암|특효|예방|낫|나[아았으을]|고[치쳐칠]|당뇨|혈압|혈당|암|관절염|골다공|치매|변비|"
    r"비만|위염|간염|감기|독감|아토피|불면|우울|빈혈|통풍|심장병|뇌졸중|동맥경화|고지혈|천식|비염|질병|"
    r"질환|염증|콜레스테롤|중성지방|요산|약효|처방|보약|명약|신약|양약|영약|만병통치|약\s?(?:처럼|같)|"
    r"건강\s?기능|기능성|면역|체지방|의사|약사|전문의|의학|교수|박사|영양사|체험|효과\S*\s*(?:봤|보았|보셨|봐|보고|보는|볼)|"
    r"재생|소독|살균|멸균|발모|양모|육모|지방|체중|살이|살\s?빠|셀룰라이트|습진|건선|피부염|무좀|상처|"
    r"흉터|미백|화이트닝|주름|자외선|UV|SPF|PA|KC|HACCP|해썹|햅썹|안전관리인증|유기|오가닉|organic|농약|"
    r"친환경|FDA|GMP|ISO|식약|식품의약품안전처|\d\s*위|1\s*등|no|넘버|베스트셀러|완판|랭킹|판매왕|폭주|대란|"
    r"어워드|어워즈|그랑프리|금상|최우수상|수상|보장|보증|무조건",
    re.IGNORECASE,
)
