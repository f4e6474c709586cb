"""The shop console driven in headless Chromium against a real uvicorn server (fake engine):
connect with a key, upload the messy fixture, read the rejected rows and missing fields,
generate descriptions (model and fallback), ask questions (automatic and hand-off), check the
counters and that nothing stays in browser storage. Once at a desktop size, once at a phone's.

Needs Debian's chromium (`apt-get install -y chromium fonts-noto-cjk`) and the Python
`playwright` package; it never downloads a browser. Screenshots, one PNG per screen, go to
out/test-artifacts/console/ (or $SMALLRETAIL_TEST_ARTIFACTS/console/).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest

from fake_engine import FakeEngine, shop_policy

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"console browser tests need Debian's chromium at {CHROMIUM} "
           "(apt-get install -y chromium fonts-noto-cjk)")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="console browser tests need `pip install playwright`")

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "messy_export.csv"
EXPECTED_REJECTS = json.loads((ROOT / "tests" / "fixtures" / "messy_export.expected.json")
                              .read_text(encoding="utf-8"))
# Test runs write under out/ (git-ignored); the committed screenshots in eval/reports/console/ were
# made with SMALLRETAIL_TEST_ARTIFACTS=eval/reports.
ARTIFACTS = Path(os.environ.get("SMALLRETAIL_TEST_ARTIFACTS") or ROOT / "out/test-artifacts") / "console"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=ko-KR"]
TIMEOUT_MS = 15_000

INTRO = "햇살장독 재래식 된장 500g, 국내산 대두로 만든 한식된장입니다."
UNGROUNDED = "당뇨 치료에 좋은 100% 유기농 된장 1kg, 지금 9,900원!"
STORAGE_ANSWER = "개봉 전에는 서늘한 곳, 개봉 후에는 냉장 보관(0~10℃)해 주세요."
HANDOFF_QUESTION = "할인 쿠폰 있나요? 제 번호는 010-1234-5678 이에요"


def scripted_reply(request) -> str:
    """Intro drafts are grounded (source "model"); other styles are not, so they end in the
    renderer fallback; answers state the storage rule of A1002."""
    prompt = "\n".join(m["content"] for m in request.messages or ())
    if "[고객 질문]" in prompt:
        return STORAGE_ANSWER
    return INTRO if "한줄소개" in prompt else UNGROUNDED


class Server:
    """create_app under a real uvicorn on 127.0.0.1 (a port the OS picks), in a thread."""

    def __init__(self, tmp: Path) -> None:
        import uvicorn

        from smallretail_llm.db.keys import create_key
        from smallretail_llm.db.store import Store
        from smallretail_llm.serving.api import create_app
        from smallretail_llm.serving.settings import Settings

        settings = Settings(db=f"sqlite:///{tmp / 'console.db'}", max_regenerations=1)
        store = Store(settings.db)
        self.keys = {shop: create_key(store, shop) for shop in ("maeul", "haneul")}
        for shop in self.keys:
            store.put_policy(shop_policy(shop, shop_name="햇살 상회"))
        app = create_app(settings, FakeEngine(reply=scripted_reply), store)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    from smallretail_llm.core.record import ProductRecord
    from smallretail_llm.grounding.check import check_description

    # load the morpheme analyzer now, not inside the first browser-driven request
    check_description("두부입니다.", ProductRecord(shop_id="w", sku="w", name="두부",
                                                  category="processed_food"))
    with Server(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str, selector: str | None = None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # From the top of the page, so the sticky bar of quick links stays at the top; an element is
    # cut out of the whole page (rendered in full even where it runs past the viewport).
    page.evaluate("() => window.scrollTo(0, 0)")
    clip = page.locator(selector).bounding_box() if selector else None
    page.screenshot(path=str(path), full_page=True, clip=clip, animations="disabled")
    return path


def connect(page, server: Server, shop: str) -> None:
    page.goto(f"{server.url}/console")
    page.fill("#api-key", server.keys[shop])
    page.click("#login-form button[type=submit]")
    sync_api.expect(page.locator("#shop-status")).to_have_text(f"상점 ‘{shop}’에 연결되었습니다.")
    sync_api.expect(page.locator("#app")).to_be_visible()


def upload_fixture(page) -> None:
    page.set_input_files("#import-file", str(FIXTURE))
    page.click("#import-form button[type=submit]")
    sync_api.expect(page.locator("#import-result")).to_be_visible()


def texts(locator) -> list[str]:
    return [t.strip() for t in locator.all_inner_texts()]


def check_rejects(page) -> None:
    rows = page.locator("#import-rejects tbody tr")
    sync_api.expect(rows).to_have_count(len(EXPECTED_REJECTS))
    for i, expected in enumerate(EXPECTED_REJECTS):
        cells = texts(rows.nth(i).locator("td"))
        assert cells[0] == str(expected["row"]) and cells[1] == expected["column"], cells
        assert expected["reason_contains"] in cells[2], cells


def describe(page, style: str, tone: str) -> None:
    page.select_option("#describe-style", style)
    page.select_option("#describe-tone", tone)
    page.click("#describe-form button[type=submit]")
    sync_api.expect(page.locator("#describe-result")).to_be_visible()
    sync_api.expect(page.locator("#describe-form button[type=submit]")).to_be_enabled()


def ask(page, question: str) -> None:
    page.fill("#ask-question", question)
    page.click("#ask-form button[type=submit]")
    sync_api.expect(page.locator("#ask-result")).to_be_visible()
    sync_api.expect(page.locator("#ask-form button[type=submit]")).to_be_enabled()


def counters(page) -> tuple[str, str, str, str]:
    """(products, descriptions, answered automatically, handed off) as the page shows them."""
    return tuple(page.inner_text(f"#stat-{name}")  # type: ignore[return-value]
                 for name in ("products", "descriptions", "automatic", "handoff"))


def assert_nothing_stored(page, key: str) -> None:
    kept = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert kept == [0, 0, ""]
    assert key not in page.content()


def test_console_desktop(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR",
                                  reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/console")
    assert page.title() == "상품 도우미 콘솔"
    assert page.get_attribute("html", "lang") == "ko"

    # a wrong key is refused in Korean, and the page stays on the key form
    page.fill("#api-key", "sr_wrong")
    page.click("#login-form button[type=submit]")
    sync_api.expect(page.locator("#login-msg")).to_contain_text("API 키가 올바르지 않거나")
    assert page.locator("#app").is_hidden()
    shot(page, "01-connect")

    connect(page, server, "maeul")
    assert page.input_value("#api-key") == ""
    assert counters(page) == ("0", "0", "0", "0")

    upload_fixture(page)
    summary = dict(zip(texts(page.locator("#import-summary dt")),
                       texts(page.locator("#import-summary dd")), strict=True))
    assert summary == {"전체 행": "30", "새로 등록": "20", "갱신": "0 (바뀐 상품 0)",
                       "거부된 행": "10", "필수 항목이 빈 상품": "20", "경고가 있는 상품": "0",
                       "파일 인코딩": "CP949"}
    check_rejects(page)
    assert "알 수 없는 카테고리\n1건" in texts(page.locator("#import-reasons li"))
    shot(page, "02-import", "#import")

    # the product list: every imported product, its missing required fields as red chips
    rows = page.locator("#products-table tbody tr")
    sync_api.expect(rows).to_have_count(20)
    assert page.locator("#products-table tr.has-missing").count() == 20
    assert page.inner_text("#products-summary") == "상품 20개 중 20개에 빠진 필수 항목이 있습니다."
    doenjang = rows.filter(has_text="A1002")
    assert texts(doenjang.locator(".chip.missing")) == ["소재지", "소비자안전을 위한 주의사항"]
    assert texts(rows.filter(has_text="A1007").locator(".chip.missing")) == [
        "제조연월일(포장일 또는 생산연도)", "상품구성", "소비자안전을 위한 주의사항"]
    page.fill("#product-filter", "된장")
    sync_api.expect(rows).to_have_count(1)
    page.fill("#product-filter", "")
    sync_api.expect(rows).to_have_count(20)
    shot(page, "03-products", "#products")

    # pick A1002 from the list; an intro comes from the model, a detail from the fallback
    doenjang.get_by_role("button").click()
    assert page.input_value("#describe-product") == "A1002"
    assert page.input_value("#ask-product") == "A1002"
    describe(page, "intro", "polite")
    result = page.locator("#describe-result")
    assert texts(result.locator(".badge")) == ["출처: 모델", "근거 검사 통과", "한줄소개 · 정중"]
    assert result.locator(".text-out").inner_text() == INTRO
    assert texts(result.locator("mark.claim")) == ["국내산", "대두"]  # "500g": in the name
    assert result.locator("mark.claim.bad").count() == 0
    assert texts(result.locator("h4")) == ["검사한 주장 2개"]
    result.get_by_role("button", name="복사").click()
    sync_api.expect(result.locator(".copy-status")).to_have_text("복사했습니다.")
    assert page.evaluate("() => navigator.clipboard.readText()") == INTRO
    shot(page, "04-description-model", "#describe")

    describe(page, "detail", "friendly")
    assert texts(result.locator(".badge"))[:2] == ["출처: 규칙 기반 대체 문구(fallback)", "근거 검사 통과"]
    assert "1번 다시 만들어 봄" in result.locator(".why").inner_text()
    text = result.locator(".text-out").inner_text()
    assert "햇살장독 재래식 된장" in text and "당뇨" not in text
    assert texts(result.locator("h4")) == ["검사한 주장 10개"]  # the CS phone is a claim too
    assert texts(result.locator(".claims li.ok strong")) == [
        "500g", "8,500원", "국내산", "0~10℃", "2027-11-22", "대두", "3,000원", "30,000원", "무료배송",
        "02-123-4567"]
    shot(page, "05-description-fallback", "#describe")

    ask(page, "보관은 어떻게 하나요?")
    answer = page.locator("#ask-result")
    assert texts(answer.locator(".badge")) == ["자동 답변", "모델 답변"]
    assert answer.locator(".text-out").inner_text() == STORAGE_ANSWER
    assert texts(answer.locator(".chip.evidence")) == ["보관방법"]
    shot(page, "06-answer", "#ask")

    ask(page, HANDOFF_QUESTION)
    assert texts(answer.locator(".badge")) == ["담당자 연결 필요", "담당자 연결 안내"]
    assert "담당자가 확인 후 답변드리겠습니다" in answer.locator(".text-out").inner_text()
    assert "010-1234-5678" not in answer.inner_text()
    shot(page, "07-handoff", "#ask")

    assert counters(page) == ("20", "2", "1", "1")
    shot(page, "08-stats", "#stats")
    shot(page, "09-full-page")
    assert_nothing_stored(page, server.keys["maeul"])

    page.click("#logout")
    sync_api.expect(page.locator("#login")).to_be_visible()
    assert page.locator("#app").is_hidden()
    assert page.locator("#ask-result").inner_text() == ""
    assert page.locator("#products-table").inner_text() == ""
    assert errors == []
    assert [url for url in requested if not url.startswith(f"{server.url}/")] == []
    assert f"{server.url}/console/dom.js" in requested
    context.close()


def test_console_phone(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, locale="ko-KR", reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def fits_width() -> bool:
        return page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.goto(f"{server.url}/console")
    shot(page, "phone-01-connect")
    connect(page, server, "haneul")
    assert fits_width()

    upload_fixture(page)
    check_rejects(page)
    # on a phone each rejected row is a card that names its columns
    first = page.locator("#import-rejects tbody tr").first.locator("td").first
    label = first.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label == '"행"'
    assert fits_width()
    shot(page, "phone-02-import", "#import")

    page.fill("#product-filter", "햇살장독")
    rows = page.locator("#products-table tbody tr")
    sync_api.expect(rows).to_have_count(5)
    assert fits_width()
    shot(page, "phone-03-products", "#products")

    rows.filter(has_text="A1002").get_by_role("button").tap()
    describe(page, "intro", "friendly")
    assert texts(page.locator("#describe-result .badge"))[0] == "출처: 모델"
    assert fits_width()
    shot(page, "phone-04-description", "#describe")

    ask(page, HANDOFF_QUESTION)
    assert texts(page.locator("#ask-result .badge"))[0] == "담당자 연결 필요"
    assert fits_width()
    shot(page, "phone-05-answer", "#ask")

    page.click("#stats-refresh")
    sync_api.expect(page.locator("#stat-handoff")).to_have_text("1")
    assert counters(page) == ("20", "1", "0", "1")
    shot(page, "phone-06-stats", "#stats")
    assert_nothing_stored(page, server.keys["haneul"])
    assert errors == []
    context.close()

