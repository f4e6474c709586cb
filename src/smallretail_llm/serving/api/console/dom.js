// DOM helpers of the shop console: building elements (always with textContent, never HTML),
// tables that turn into cards on a phone, badges, the copy button, and the claim marks.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

export const number = (n) => Number(n).toLocaleString("ko-KR");

export const won = (n) => (n === null || n === undefined ? "-" : `${number(n)}원`);

export async function copyText(text, status) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (_) {
    ok = false;
  }
  if (!ok) { // plain http on a shop's LAN address: no Clipboard API
    const area = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      ok = document.execCommand("copy");
    } catch (_) {
      ok = false;
    }
    area.remove();
  }
  status.textContent = ok ? "복사했습니다." : "복사하지 못했습니다. 글을 길게 눌러 직접 복사하세요.";
}

export function table(caption, headers, rows, className) {
  return el("div", { class: "table-wrap" },
    el("table", { class: className },
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.map((cells) => el("tr", { class: cells.rowClass },
        cells.map((cell, i) => el("td", { "data-label": headers[i] }, cell)))))));
}

export function badge(text, kind) {
  return el("span", { class: `badge ${kind}`, text });
}

export function fieldNames(info, keys) {
  const names = new Map(((info && info.fields) || []).map((f) => [f.key, f.label]));
  return keys.map((key) => names.get(key) || key);
}

// The text with every checked claim marked: supported ones plain, unsupported ones flagged.
export function markedText(text, claims, bad) {
  const out = el("div", { class: "text-out" });
  let at = 0;
  for (const claim of claims) {
    if (claim.start < at) continue;
    out.append(text.slice(at, claim.start));
    const wrong = bad.has(`${claim.start}:${claim.end}`);
    out.append(el("mark", { class: wrong ? "claim bad" : "claim", title: claim.label },
      text.slice(claim.start, claim.end)));
    at = claim.end;
  }
  out.append(text.slice(at));
  return out;
}

export function claimList(claims, unsupported) {
  const bad = new Map(unsupported.map((c) => [`${c.start}:${c.end}`, c]));
  const spot = (c) => `${c.start}:${c.end}`;
  const listed = claims.map((c) => ({ ...c, reason: (bad.get(spot(c)) || {}).reason || null }));
  const found = new Set(claims.map(spot));
  for (const c of unsupported) {
    if (!found.has(spot(c))) { // e.g. kind "error", another shop's name
      listed.push({ ...c, label: c.field ? `${c.kind} → ${c.field}` : c.kind });
    }
  }
  if (!listed.length) {
    return el("p", { class: "hint", text: "수치·가격·원산지·알레르기·인증 같은 검사 대상이 없습니다." });
  }
  return el("ul", { class: "claims" }, listed.map((c) => el("li",
    { class: c.reason ? "bad" : "ok" },
    el("span", { class: "mark-icon", "aria-hidden": "true", text: c.reason ? "✗" : "✓" }),
    el("span", { class: "sr-only", text: c.reason ? "근거 없음: " : "근거 있음: " }),
    el("strong", { text: c.text || "(검사 오류)" }),
    el("span", { class: "kind", text: ` ${c.label}${c.field_label ? ` → ${c.field_label}` : ""}` }),
    c.reason ? el("span", { class: "reason", text: ` · ${c.reason}` }) : null)));
}

// `quiet`: say nothing when the text states no checkable claim (a hand-off answer).
export function groundingBlock(grounding, info, claims, quiet = false) {
  const parts = [];
  if (!quiet || claims.length || grounding.unsupported_claims.length) {
    parts.push(el("h4", { text: `검사한 주장 ${claims.length}개` }));
    parts.push(claimList(claims, grounding.unsupported_claims));
  }
  if (grounding.missing_required.length) {
    parts.push(el("p", { class: "warn-line" }, "문구에 빠진 필수 항목: ",
      el("strong", { text: fieldNames(info, grounding.missing_required).join(", ") })));
  }
  if (grounding.compliance_violations.length) {
    parts.push(el("h4", { text: "광고 규칙 위반" }));
    parts.push(el("ul", { class: "claims" }, grounding.compliance_violations.map((v) =>
      el("li", { class: "bad" }, el("strong", { text: v.text }),
        el("span", { class: "reason", text: ` · ${v.rule} (${v.law})` })))));
  }
  return parts;
}

// Rules the product record itself breaks (record_rules): which field, what to change.
export function recordWarnings(warnings) {
  if (!warnings || !warnings.length) return [];
  return [el("h4", { text: `상품 기록 경고 ${warnings.length}개` }),
    el("ul", { class: "claims" }, warnings.map((w) => el("li", { class: "bad" },
      el("strong", { text: w.field }), el("span", { class: "reason", text: ` · ${w.message}` }))))];
}

export function copyRow(text) {
  const status = el("span", { class: "copy-status", role: "status" });
  return el("div", { class: "copy-row" },
    el("button", {
      type: "button", class: "primary", text: "복사", onclick: () => copyText(text, status),
    }),
    status);
}
