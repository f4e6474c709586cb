"""How a customer question is put, beyond which field it names (intent.py does that): the
separate questions of one message, whether it is a yes/no question, the kind of amount it asks
for (a count is not a weight), the amounts and words it proposes ("1리터에요?", "스테인리스
맞죠?"), and whether it asks about options the record does not list ("다른 색상도 있나요?").

Decisions:
- A message splits at sentence ends and "그리고"; a part counts as a question only when it ends
  with "?", asks with a question word, or ends like a question ("나요", "까요", "했어요?"), so
  "안녕하세요." or "급해요." never becomes an unanswered part.
- Amount kinds ("count", "weight", "volume", "length") come from the unit words people type, in
  either script (개/개입/과/봉, 그램/키로/kg, 미리/리터/ml, 센치/cm/mm, 지름/두께 …). "미리" is a
  volume unless the question is about a length (지름, 두께, 길이, 크기).
- A yes/no question has no question word (뭐, 몇, 얼마, 어디 …) and ends like a question.
- Proposed words are the question's words of two or more characters, particles and predicate
  endings dropped; the caller drops the words of field names. One-syllable words are too
  ambiguous to search with ("울" is also "울다"), except next to a percent or amount question.
"""

from __future__ import annotations

import re
import unicodedata

from smallretail_llm.core.normalize import find_quantities

_PART_SPLIT = re.compile(r"(?<=[?？!])\s*|(?<=[.。])\s+|\s+그리고\s+|\n+")
_QUESTION_WORDS = ("뭐", "무엇", "무슨", "어떤", "어떻", "어느", "어디", "언제", "얼마", "몇", "누가",
                   "누구", "왜", "알려", "궁금", "뭔", "뭘", "어케", "어때", "언재", "얼머", "몃", "머에요",
                   "머예요", "모에요", "어딘", "며칠", "몇일")
_QUESTION_WORD_RE = re.compile("|".join(sorted(_QUESTION_WORDS, key=len, reverse=True)))
_QUESTION_END = re.compile(r"(?:나요|까요|가요|죠|지요|니|냐|을까|는지|건지|인지|인가|되나|있나|없나|맞나)"
                           r"[~.!]*$")
_YES_NO_END = re.compile(
    r"(?:맞[아나지죠냐음는]|아니[죠지에야]|아닌|인가|인지|이[에죠]|예요|에요|이야|나요|까요|가요|"
    r"[있없되돼]|했|해도|어도|아도|되[나요]|돼요|되요|있[나어을음니냐죠]|없[나어을음니냐죠]|들어|"
    r"[가이]요)[^가-힣a-z0-9]*$|[?？]\s*$")
_GREETING = ("안녕", "감사", "수고", "고맙", "문의드", "궁금한게", "질문있", "질문이있")

# Unit words of each amount kind (normalized: no spaces, lower case).
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "count": ("몇개", "개입", "몇과", "몇알", "몇봉", "몇포", "몇팩", "몇병", "몇캡슐", "몇정", "몇장",
              "몇매", "몇입", "몇롤", "몇구", "몇마리", "개수", "갯수", "수량", "몇조각", "몇인분"),
    "weight": ("무게", "중량", "몇그램", "몇g", "몇키로", "몇킬로", "몇kg", "그램", "키로", "킬로"),
    "volume": ("몇ml", "몇리터", "몇l", "몇미리", "몇cc", "리터", "미리", "밀리", "cc"),
    "length": ("몇센치", "몇센티", "몇cm", "몇mm", "몇미터", "센치", "센티", "지름", "두께", "길이",
               "높이", "몇인치", "인치"),
}
_GENERIC_WORDS = ("무게", "중량", "수량")
"""Words for any amount of a kind ("무게 얼마예요?" of a 50mL bottle: its net content)."""
_LENGTH_CONTEXT = ("지름", "두께", "길이", "높이", "가로", "세로", "크기", "사이즈")
_LENGTH_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(cm|mm|센치|센티|센티미터|미리|m|미터)(?![a-z가-힣])",
                        re.IGNORECASE)
_LENGTH_FACTOR = {"cm": 10.0, "센치": 10.0, "센티": 10.0, "센티미터": 10.0, "mm": 1.0, "미리": 1.0,
                  "m": 1000.0, "미터": 1000.0}
_COUNT_RE = re.compile(r"(\d+)\s*(과|알|구|롤|조각|인분|개입|개|입|봉|포|팩|병|캡슐|정|장|매|세트|박스)"
                       r"(?![가-힣])|(\d+)\s*(과|개입|개|입|봉|포|팩|병|캡슐|정|장|매)(?=[이가은는도요에짜])")

_ONE_SYLLABLE_STOP = frozenset(["몇", "뭐", "왜", "좀", "더", "또", "꼭", "잘", "안", "못", "다", "이", "그", "저", "제", "내", "네", "예", "것", "거", "건", "게", "수", "때", "데", "줄", "분", "등", "및", "소", "중", "대", "폭"])
_VERB_END = re.compile(r"(?:해야|해도|하나|하면|할까|어야|아야|돼|되|해|했|한|할|된|될|어|아)$")
_DEPENDENT = re.compile(r"^(?:거|것|건|게|걸)(?:죠|지|예요|에요|야|임|요|인가요|인가|인데|죠\?)?$")
"""A dependent noun and its copula ("거죠", "건가요"): the question's frame, never a value."""
_PARTICLE_END = re.compile(
    r"(?:이랑|하고|에서|으로|로도|에도|까지|부터|처럼|보다|인데|이에요|예요|에요|이요|이고|이나|"
    r"은요|는요|이죠|인가요|인가|은|는|이|가|을|를|도|만|랑|와|과|의|에|로|요)$")
_STOP_WORDS = frozenset({
    "이거", "그거", "저거", "이건", "그건", "이게", "그게", "혹시", "정말", "진짜", "제품", "상품", "물건",
    "맞아요", "맞죠", "맞나요", "맞는지", "맞지", "맞음", "맞아", "맞냐", "있어요", "있나요", "있음",
    "있는지", "없나요", "없어요", "되나요", "돼요", "되요", "들어", "들어가요", "들어있나요", "들어있어요",
    "들어갔나요", "알려주세요", "알려줘", "알려", "주세요", "궁금해요", "궁금", "어떻게", "얼마나",
    "얼마", "몇", "뭐예요", "뭐에요", "무슨", "어떤", "어느", "언제", "그럼", "그리고", "근데", "좀",
    "아니죠", "아닌가요", "인가요", "건가요", "거예요", "거에요", "건지", "나요", "되는지", "해도",
    "되나", "가능", "가능해요", "가능한가요", "사용", "여부", "정도", "확인", "부탁", "문의",
    "받은", "받았", "나온", "만든", "쓰는", "하는", "들어간", "먹어도", "써도", "해야", "해야해요",
    "넣어", "넣어도", "돌려", "돌려도", "먹으면", "쓰면", "하면", "사면", "각각", "같이", "그냥",
})


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def split_parts(message: str) -> list[str]:
    """The separate questions of one message, in order; a message that is one question (or
    has no question-like part) is returned whole."""
    pieces = [p.strip() for p in _PART_SPLIT.split(message or "") if p and p.strip()]
    parts = [p for p in pieces if is_question(p)]
    return parts if len(parts) > 1 else [message]


def question_word_count(part: str) -> int:
    """How many question words one part holds: "소비기한 언제까지고 어느 지역에서 나온 거예요?"
    has two (언제, 어느), so it asks two things although it is one sentence."""
    squashed = re.sub(r"\s+", "", _norm(part))
    return len(_QUESTION_WORD_RE.findall(squashed))


def is_question(part: str) -> bool:
    """True for a part that asks something (not a greeting or a remark)."""
    text = _norm(part).strip()
    squashed = re.sub(r"\s+", "", text)
    if not re.search(r"[가-힣a-z0-9]", squashed):
        return False
    if any(squashed.startswith(g) for g in _GREETING) and "?" not in text:
        return False
    return ("?" in text or "？" in text or any(w in squashed for w in _QUESTION_WORDS)
            or bool(_QUESTION_END.search(squashed)))


def is_yes_no(part: str) -> bool:
    """"국산 콩 맞아요?", "우유 들어갔나요?", "1리터에요?": a question answered 네 or 아니요."""
    text = _norm(part)
    squashed = re.sub(r"\s+", "", text)
    if any(w in squashed for w in _QUESTION_WORDS) or is_choice(part):
        return False
    return bool(_YES_NO_END.search(squashed))


def amount_kind(part: str, explicit: bool = False) -> str | None:
    """"count", "weight", "volume" or "length" when the question asks for an amount of that
    kind ("몇 개 들어있어요?" -> count, "몇 센치에요?" -> length); None otherwise. "용량" alone
    reads as a volume only through `generic_kind`: people say it for any amount."""
    text = re.sub(r"몇개월|몇개국|개월", "", re.sub(r"\s+", "", _norm(part)))  # periods, not counts
    found = [(text.find(w), kind) for kind, words in _KIND_WORDS.items() for w in words
             if w in text and not (explicit and w in _GENERIC_WORDS)]
    if not found:
        return None
    kinds = {kind for _, kind in found}
    if "volume" in kinds and "length" in kinds and any(w in text for w in _LENGTH_CONTEXT) \
            and not any(w in text for w in ("용량", "리터", "ml", "cc")):
        return "length"
    return min(found)[1]


def generic_kind(part: str) -> str | None:
    """"volume" for a question that says only "용량" (any amount will do as its answer)."""
    return "volume" if "용량" in re.sub(r"\s+", "", _norm(part)) else None


def is_choice(part: str) -> bool:
    """"거위털이에요 오리털이에요?", "식전에 먹어요 식후에 먹어요?", "A 아니면 B": an either-or
    question, answered with the value, not 네/아니요."""
    text = re.sub(r"\s+", " ", _norm(part))
    if re.search(r"아니면|혹은|또는|\bor\b", text):
        return True
    return len(re.findall(r"[가-힣a-z0-9]+(?:이에요|예요|에요|어요|아요|이야|인가요|나요)(?=\s|[?？]|$)",
                          text)) >= 2


def quantities(text: str) -> list[tuple[float, str]]:
    """Amounts in a text in base units: ("g" | "mL" | "개" | "매" | "mm", value); "20cm" ->
    (200.0, "mm"), "1.5리터" -> (1500.0, "mL"), "10과" -> (10.0, "개")."""
    text = _norm(text)
    found: list[tuple[int, float, str]] = []
    spans = []
    for m in _LENGTH_RE.finditer(text):
        unit = m.group(2)
        if unit == "미리" and not any(w in text for w in _LENGTH_CONTEXT):
            continue  # "500미리" is a volume unless the text is about a length
        found.append((m.start(), float(m.group(1)) * _LENGTH_FACTOR[unit], "mm"))
        spans.append((m.start(), m.end()))
    for q in find_quantities(text):
        if not any(s <= q.start < e for s, e in spans):
            found.append((q.start, q.value, q.unit))
    for m in _COUNT_RE.finditer(text):
        if not any(pos == m.start() for pos, _, _ in found):
            found.append((m.start(), float(m.group(1) or m.group(3)), "개"))
    return [(value, unit) for _, value, unit in sorted(found)]


KIND_OF_UNIT = {"g": "weight", "mL": "volume", "개": "count", "매": "count", "mm": "length"}


def proposed_words(part: str) -> list[str]:
    """The words a question puts forward, particles dropped ("재질이 스테인리스 맞죠?" ->
    ["재질", "스테인리스"]); question words, predicates and one-syllable words left out."""
    words = []
    for raw in re.findall(r"[가-힣a-z0-9%.+]+", _norm(part)):
        word = raw.strip(".")
        if re.fullmatch(r"[가-힣]", word) and word not in _ONE_SYLLABLE_STOP:
            words.append(word)  # "꿀 들어가요?", "울 함량": a noun on its own
            continue
        if quantities(word):
            continue  # an amount is compared as an amount, never searched as a word
        verb = _VERB_END.sub("", word)
        if verb != word:  # "녹음돼" -> "녹음"; "먹어" is a verb only: dropped
            if len(verb) < 2:
                continue
            word = verb
        for _ in range(2):
            if word in _STOP_WORDS:
                break
            stripped = _PARTICLE_END.sub("", word)
            if len(stripped) < 2 and not re.fullmatch(r"[a-z0-9%]{2,}", stripped):
                break
            word = stripped
        if word in _STOP_WORDS or len(word) < 2 or _DEPENDENT.match(word) or any(
                word.startswith(w) for w in _QUESTION_WORDS):
            continue
        if re.fullmatch(r"[\d.%]+", word):
            continue
        words.append(word)
    return words


_ALTERNATIVES = re.compile(
    r"다른\s*(?:색|색상|컬러|사이즈|치수|용량|맛|디자인|모델|종류|옵션|크기)|(?:색|색상|컬러|사이즈|"
    r"용량|맛|종류|옵션)\s*도\s*(?:더|또)?\s*있|(?:큰|작은|소|중|대)\s*사이즈도|\d\s*[a-z가-힣]{0,3}\s*짜리도")
_FIT = re.compile(r"(?:키|체중|몸무게)\s*\d|\d+\s*(?:키로|kg)\s*(?:인데|이면|면|나가)|(?:\d+|[0-9]{2})\s*"
                  r"(?:입는|사이즈\s*입)|입어야|맞을까|사람도\s*맞|몇\s*인분|인분\s*하려면|하려면\s*몇")


def asks_alternatives(part: str) -> bool:
    """"다른 색상도 있나요?", "화이트 말고 …", "소 사이즈도 있어요?": options the record does
    not list (it holds this product's own value only)."""
    return bool(_ALTERNATIVES.search(_norm(part)))


def asks_advice(part: str) -> bool:
    """Fit or portion advice ("키 175에 70키로면 무슨 사이즈?", "2인분 하려면 몇 병?"): a judgement
    about the customer, not a record value."""
    return bool(_FIT.search(_norm(part)))


_HOW_MUCH = re.compile(r"함량|얼마나|몇|비율|퍼센트|%")
_BUYS_UNITS = re.compile(r"(?:\d+|한|두|세|네|다섯)\s*(?:개|봉|병|팩|박스|세트|포|통|장|묶음)\s*"
                         r"(?:사면|사야|구매하면|주문하면|시키면)")
_OPENED = re.compile(r"개봉|뜯")
_EXTRA_FEE = re.compile(r"추가|더\s*(?:붙|들|내|나와|받|있)|별도|도서\s*산간|제주")


def asks_how_much(part: str) -> bool:
    """"울 함량이 어떻게 돼요", "유산균 몇마리 들어있어요?": an amount of something named."""
    return bool(_HOW_MUCH.search(_norm(part)))


def buys_units(part: str) -> bool:
    """"고춧가루 두 봉 사면 되나?", "3개 주문하면 무료배송이에요?": units the customer would buy,
    not how many the pack holds."""
    return bool(_BUYS_UNITS.search(_norm(part)))


def asks_after_opening(part: str) -> bool:
    """"개봉하고 얼마나 보관 가능해요?": the opened product, not the sealed one's use-by date."""
    return bool(_OPENED.search(_norm(part)))


def asks_extra_fee(text: str) -> bool:
    """"제주도는 배송비 더 붙나요?", "추가 배송비 있어요?"; and a shipping line that states one."""
    return bool(_EXTRA_FEE.search(_norm(text)))
