// 상품 도우미 콘솔: calls the shop's /v1 API with the key the owner types in.
// The key and every result live only in this script's memory (no localStorage, sessionStorage or
// cookies): closing or reloading the tab forgets them, and "연결 끊기" wipes the screen.
// All server text is put on the page with textContent, never as HTML (see dom.js).
import {
  badge, copyRow, el, fieldNames, groundingBlock, markedText, number, recordWarnings, table, won,
} from "./dom.js";

const state = { key: null, products: [], total: 0 };
const $ = (id) => document.getElementById(id);

const CATEGORY = {
  processed_food: "가공식품", agri_food: "농수산물", health_food: "건강기능식품",
  cosmetics: "화장품", wear: "의류", kitchenware: "주방용품",
  household_chemical: "생활화학제품", small_electronics: "소형전자",
};
const STYLE = { detail: "상세설명", intro: "한줄소개", bullets: "핵심 특징", seo: "SEO 제목" };
const TONE = { friendly: "친근", polite: "정중", concise: "간결" };
const HANDOFF_NOTE = "상품 기록과 상점 정책만으로 답할 수 없는 질문이라 자동으로 답하지 않고 "
  + "담당자에게 넘깁니다. 고객에게는 아래 안내가 나갑니다.";
const AUTOMATIC_NOTE = "상품 기록과 상점 정책에 있는 사실로만 답했습니다.";
const ANSWER_SOURCE = {
  model: "모델 답변", fallback: "규칙 기반 답변", handoff: "담당자 연결 안내", refusal: "답변 거절",
};

// ------------------------------------------------------------ small helpers
function say(id, text) {
  $(id).textContent = text || "";
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch (_) {
    throw new ApiError(0, "서버에 연결할 수 없습니다. 인터넷 연결과 서버가 켜져 있는지 확인하세요.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error && data.error.message)
      || `요청이 실패했습니다 (HTTP ${response.status}).`;
    throw new ApiError(response.status, message);
  }
  return data;
}

// Runs `work` with the form's buttons disabled and the section marked busy.
async function busy(form, label, msgId, work) {
  const section = form.closest("section");
  const submit = form.querySelector("button[type=submit]");
  const original = submit.textContent;
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  submit.textContent = label;
  section.setAttribute("aria-busy", "true");
  say(msgId, "");
  try {
    await work();
  } catch (error) {
    say(msgId, error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    submit.textContent = original;
    section.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------ connect / disconnect
async function connect(event) {
  event.preventDefault();
  const input = $("api-key");
  const key = input.value.trim();
  if (!key) {
    say("login-msg", "API 키를 넣어 주세요.");
    return;
  }
  state.key = key;
  const form = $("login-form");
  await busy(form, "연결 중…", "login-msg", async () => {
    try {
      const stats = await api("/v1/console/stats");
      input.value = "";
      showStats(stats);
      $("login").hidden = true;
      $("app").hidden = false;
      $("quicknav").hidden = false;
      $("shop-status").textContent = `상점 ‘${stats.shop_id}’에 연결되었습니다.`;
      await loadProducts();
      $("stats-h").setAttribute("tabindex", "-1");
      $("stats-h").focus();
    } catch (error) {
      state.key = null;
      throw error;
    }
  });
}

function disconnect() {
  state.key = null;
  state.products = [];
  state.total = 0;
  for (const id of ["import-summary", "import-reasons", "import-rejects", "products-table",
    "describe-result", "ask-result", "describe-product", "ask-product"]) {
    $(id).replaceChildren();
  }
  for (const id of ["import-result", "describe-result", "ask-result"]) $(id).hidden = true;
  for (const id of ["import-form", "describe-form", "ask-form"]) $(id).reset();
  for (const id of ["stats-msg", "import-msg", "products-msg", "describe-msg", "ask-msg",
    "products-summary", "stat-since"]) say(id, "");
  $("app").hidden = true;
  $("quicknav").hidden = true;
  $("login").hidden = false;
  $("shop-status").textContent = "연결을 끊었습니다. 화면의 내용을 지웠습니다.";
  $("api-key").focus();
}

// ------------------------------------------------------------ counters
function showStats(stats) {
  $("stat-products").textContent = number(stats.products);
  $("stat-descriptions").textContent = number(stats.descriptions);
  $("stat-automatic").textContent = number(stats.answers_automatic);
  $("stat-handoff").textContent = number(stats.answers_handoff);
  const since = new Date(stats.since).toLocaleString("ko-KR");
  $("stat-since").textContent = `설명·답변 수는 서버가 시작된 ${since} 이후의 숫자입니다.`;
}

async function refreshStats() {
  try {
    showStats(await api("/v1/console/stats"));
    say("stats-msg", "");
  } catch (error) {
    say("stats-msg", error.message);
  }
}

// ------------------------------------------------------------ import
async function upload(event) {
  event.preventDefault();
  const file = $("import-file").files[0];
  if (!file) {
    say("import-msg", "올릴 파일을 고르세요.");
    return;
  }
  await busy($("import-form"), "올리는 중…", "import-msg", async () => {
    const form = new FormData();
    form.append("file", file, file.name);
    const mapping = $("import-mapping").value.trim();
    if (mapping) form.append("mapping", mapping);
    const report = await api("/v1/products/import", { method: "POST", form });
    showImport(report);
    await loadProducts();
    await refreshStats();
  });
}

function showImport(report) {
  const items = [
    ["전체 행", report.rows], ["새로 등록", report.imported],
    ["갱신", `${number(report.updated)} (바뀐 상품 ${number(report.changed)})`],
    ["거부된 행", report.rejected], ["필수 항목이 빈 상품", report.missing_required],
    ["경고가 있는 상품", report.warnings || 0],
    ["파일 인코딩", (report.encoding || "-").toUpperCase()],
  ];
  $("import-summary").replaceChildren(...items.map(([name, value]) => el("div",
    { class: name === "거부된 행" && report.rejected ? "bad" : null },
    el("dt", { text: name }),
    el("dd", { text: typeof value === "number" ? number(value) : value }))));

  const reasons = Object.entries(report.reasons || {});
  $("import-reasons").replaceChildren(...(reasons.length ? [
    el("h4", { text: "거부 사유별 건수" }),
    el("ul", { class: "reasons" }, reasons.map(([reason, count]) =>
      el("li", {}, el("span", { text: reason }), el("strong", { text: `${number(count)}건` })))),
  ] : []));

  const warned = report.warning_examples || [];
  $("import-reasons").append(...(warned.length ? [table(
    `경고 ${number(report.warnings)}개 상품 (등록은 됨): 필드를 고쳐 주세요`, ["행", "상품코드", "필드", "안내"],
    warned.map((w) => [String(w.row), w.sku, w.field, w.message]), "warnings")] : []));

  const rejects = report.rejects || [];
  $("import-rejects").replaceChildren(rejects.length
    ? table(`거부된 행 ${number(rejects.length)}개: 파일에서 고친 뒤 다시 올리세요`,
      ["행", "열", "사유", "값"],
      rejects.map((r) => [String(r.row), r.column, r.reason, r.value || "(비어 있음)"]), "rejects")
    : el("p", { class: "ok-line", text: "거부된 행이 없습니다." }));
  $("import-result").hidden = false;
}

// ------------------------------------------------------------ products
async function loadProducts() {
  try {
    const list = await api("/v1/products?limit=500");
    state.products = list.items;
    state.total = list.total;
    say("products-msg", "");
  } catch (error) {
    say("products-msg", error.message);
    return;
  }
  showProducts();
  fillSelect($("describe-product"));
  fillSelect($("ask-product"));
}

function showProducts() {
  const query = $("product-filter").value.trim().toLowerCase();
  const missingOnly = $("missing-only").checked;
  const all = state.products;
  const shown = all.filter((item) => {
    const p = item.product;
    if (missingOnly && !item.missing_required.length) return false;
    return !query || p.sku.toLowerCase().includes(query) || p.name.toLowerCase().includes(query);
  });
  const withMissing = all.filter((item) => item.missing_required.length).length;
  let line = `상품 ${number(all.length)}개 중 ${number(withMissing)}개에 빠진 필수 항목이 있습니다.`;
  if (state.total > all.length) {
    line += ` (전체 ${number(state.total)}개 중 처음 ${number(all.length)}개만 보입니다)`;
  }
  if (shown.length !== all.length) line += ` 조건에 맞는 상품 ${number(shown.length)}개.`;
  say("products-summary", all.length ? line : "등록된 상품이 없습니다. 상품 파일을 올려 주세요.");

  const rows = shown.map((item) => {
    const p = item.product;
    const missing = item.missing_required;
    const warnings = item.warnings || [];
    const chips = missing.length || warnings.length
      ? el("ul", { class: "chips", "aria-label": `빠진 필수 항목 ${missing.length}개, 경고 ${warnings.length}개` },
        missing.map((m) => el("li", { class: "chip missing", text: m.label })),
        warnings.map((w) => el("li", { class: "chip missing", title: w.message,
          text: `경고: ${w.field} (${w.rule})` })))
      : el("span", { class: "chip done", text: "모두 입력됨" });
    const pick = el("button", {
      type: "button", class: "small", text: "이 상품 쓰기",
      "aria-label": `${p.name} 상품으로 설명 만들기와 질문 시험`,
      onclick: () => pickProduct(p.sku),
    });
    const category = CATEGORY[p.category] || p.category;
    const cells = [p.sku, p.name, category, won(p.price_krw), chips, pick];
    cells.rowClass = missing.length ? "has-missing" : null;
    return cells;
  });
  $("products-table").replaceChildren(rows.length
    ? table("상품과 빠진 필수 항목", ["상품코드", "상품명", "분류", "가격", "빠진 필수 항목", "선택"],
      rows, "products")
    : []);
}

function fillSelect(select) {
  const current = select.value;
  select.replaceChildren(...state.products.map((item) => el("option",
    { value: item.product.sku, text: `${item.product.sku} · ${item.product.name}` })));
  if (state.products.some((item) => item.product.sku === current)) select.value = current;
}

function pickProduct(sku) {
  $("describe-product").value = sku;
  $("ask-product").value = sku;
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  $("describe").scrollIntoView({ behavior: calm ? "auto" : "smooth", block: "start" });
  $("describe-product").focus({ preventScroll: true });
}

// ------------------------------------------------------------ explain (claims, field names)
async function explain(productId, text, fields) {
  try {
    return await api("/v1/console/explain", {
      method: "POST", json: { product_id: productId, text, fields },
    });
  } catch (_) {
    return null; // the result is still shown, only without the claim list and field names
  }
}

// ------------------------------------------------------------ descriptions
async function describe(event) {
  event.preventDefault();
  const productId = $("describe-product").value;
  if (!productId) {
    say("describe-msg", "상품을 먼저 고르세요. 상품이 없으면 상품 파일을 올려 주세요.");
    return;
  }
  await busy($("describe-form"), "만드는 중…", "describe-msg", async () => {
    const body = { product_id: productId, style: $("describe-style").value };
    if ($("describe-tone").value) body.tone = $("describe-tone").value;
    if ($("describe-max").value) body.max_chars = Number($("describe-max").value);
    const result = await api("/v1/descriptions", { method: "POST", json: body });
    const info = await explain(productId, result.text, result.grounding.missing_required);
    showDescription(result, info);
    await refreshStats();
  });
}

function showDescription(result, info) {
  const claims = (info && info.claims) || [];
  const bad = new Set(result.grounding.unsupported_claims.map((c) => `${c.start}:${c.end}`));
  const fromModel = result.source === "model";
  const retries = result.regenerations ? ` (${result.regenerations}번 다시 만들어 봄)` : "";
  const why = fromModel
    ? "모델이 쓴 초안이 상품 기록과 대조하는 근거 검사를 통과했습니다."
    : `모델 초안이 근거 검사를 통과하지 못했습니다${retries}. `
      + "그래서 상품 기록만으로 만든 규칙 기반 문구로 바꿨습니다.";
  const passed = result.grounding.passed;
  $("describe-result").replaceChildren(
    el("div", { class: "badges" },
      badge(fromModel ? "출처: 모델" : "출처: 규칙 기반 대체 문구(fallback)", fromModel ? "ok" : "warn"),
      badge(passed ? "근거 검사 통과" : "근거 검사 실패", passed ? "ok" : "bad"),
      badge(`${STYLE[result.style] || result.style} · ${TONE[result.tone] || result.tone}`,
        "plain")),
    el("p", { class: "why", text: why }),
    markedText(result.text, claims, bad),
    copyRow(result.text),
    ...recordWarnings(result.record_warnings),
    ...groundingBlock(result.grounding, info, claims),
    el("p", {
      class: "hint",
      text: `상품 ${result.product_id} · 모델 ${result.model} · 다시 생성 ${result.regenerations}회`
        + ` · ${number(result.text.length)}자`,
    }));
  $("describe-result").hidden = false;
}

// ------------------------------------------------------------ questions
async function ask(event) {
  event.preventDefault();
  const productId = $("ask-product").value;
  const question = $("ask-question").value.trim();
  if (!productId || !question) {
    say("ask-msg", !productId ? "상품을 먼저 고르세요." : "고객 질문을 넣어 주세요.");
    return;
  }
  await busy($("ask-form"), "답변 만드는 중…", "ask-msg", async () => {
    const result = await api("/v1/answers", {
      method: "POST", json: { product_id: productId, question },
    });
    const fields = [...result.evidence, ...result.grounding.missing_required];
    const info = await explain(productId, result.answer, fields);
    showAnswer(result, info);
    await refreshStats();
  });
}

function showAnswer(result, info) {
  const claims = (info && info.claims) || [];
  const bad = new Set(result.grounding.unsupported_claims.map((c) => `${c.start}:${c.end}`));
  const evidence = fieldNames(info, result.evidence);
  $("ask-result").replaceChildren(
    el("div", { class: "badges" },
      result.needs_human ? badge("담당자 연결 필요", "warn") : badge("자동 답변", "ok"),
      badge(ANSWER_SOURCE[result.source] || result.source, "plain")),
    el("p", { class: "why", text: result.needs_human ? HANDOFF_NOTE : AUTOMATIC_NOTE }),
    markedText(result.answer, claims, bad),
    copyRow(result.answer),
    ...(evidence.length || !result.needs_human ? [
      el("h4", { text: "답변의 근거 항목" }),
      evidence.length
        ? el("ul", { class: "chips" },
          evidence.map((name) => el("li", { class: "chip evidence", text: name })))
        : el("p", { class: "hint", text: "근거로 쓴 항목이 없습니다." }),
    ] : []),
    ...groundingBlock(result.grounding, info, claims, true));
  $("ask-result").hidden = false;
}

function clearQuestion() {
  $("ask-question").value = "";
  $("ask-result").replaceChildren();
  $("ask-result").hidden = true;
  say("ask-msg", "");
  $("ask-question").focus();
}

// ------------------------------------------------------------ wiring
document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", connect);
  $("logout").addEventListener("click", disconnect);
  $("stats-refresh").addEventListener("click", refreshStats);
  $("import-form").addEventListener("submit", upload);
  $("products-refresh").addEventListener("click", loadProducts);
  $("product-filter").addEventListener("input", showProducts);
  $("missing-only").addEventListener("change", showProducts);
  $("describe-form").addEventListener("submit", describe);
  $("ask-form").addEventListener("submit", ask);
  $("ask-clear").addEventListener("click", clearQuestion);
});
