// Sổ biên chế — the page served at "/" (issue 13). Plain JavaScript, no build step, nothing loaded from
// outside the service. It uses the same GraphQL API and tokens as any client. Its state (unit, as-of
// date, known-at moment, view) lives in the URL query; the token is kept in this browser only (taken
// from "#token=..." once, never sent in a URL).
"use strict";

const LABELS = {
  CADRE: "Cán bộ", CIVIL_SERVANT: "Công chức", PUBLIC_EMPLOYEE: "Viên chức", CONTRACT_WORKER: "Hợp đồng lao động",
  WITHIN_EXCEPTION: "Vượt, trong thời hạn ngoại lệ", EXCEPTION_EXPIRED: "Vượt, đã hết hạn ngoại lệ",
  NO_EXCEPTION: "Vượt, không có ngoại lệ", ABSORB: "sáp nhập", CONSOLIDATE: "hợp nhất", SPLIT: "chia",
  SEPARATE: "tách", DISSOLVE: "giải thể", ESTABLISH: "thành lập", ACTIVE: "đang hoạt động", ENDED: "đã chấm dứt",
};
const COLORS = { CADRE: "#7a1f1f", CIVIL_SERVANT: "#1f5f7a", PUBLIC_EMPLOYEE: "#3d7a1f", CONTRACT_WORKER: "#7a5f1f" };
const NUMBER = new Intl.NumberFormat("vi-VN");
const $ = (id) => document.getElementById(id);

function label(code) { return LABELS[code] || code || ""; }
function num(n) { return NUMBER.format(n || 0); }
function day(iso) { return iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : ""; }
function moment(iso, seconds) {  // dd/mm/yyyy hh:mm[:ss] in the browser's time zone
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (v) => String(v).padStart(2, "0");
  return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}` +
    (seconds ? `:${pad(d.getSeconds())}` : "");
}

// ---------------------------------------------------------------- elements (text only: data is never HTML)
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v; else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return el;
}
function table(el, head, rows) {
  el.replaceChildren(h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.length ? rows : [h("tr", {}, h("td", { colspan: head.length }, "Không có"))]));
}
function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// ---------------------------------------------------------------- state in the URL, token in the browser
const state = { unit: null, asOf: null, knownAt: null, view: "unit" };
function readUrl() {
  const q = new URLSearchParams(location.search);
  state.unit = q.get("unit");
  state.asOf = q.get("asOf") || new Date().toISOString().slice(0, 10);
  state.knownAt = q.get("knownAt");
  state.view = q.get("view") || "unit";
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    localStorage.setItem("staffing.token", fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);  // the token leaves the address bar
  }
}
function writeUrl() {
  const q = new URLSearchParams();
  if (state.unit) q.set("unit", state.unit);
  q.set("asOf", state.asOf);
  if (state.knownAt) q.set("knownAt", state.knownAt);
  if (state.view !== "unit") q.set("view", state.view);
  history.pushState(null, "", `/?${q}`);
}
// dates are typed and shown as dd/mm/yyyy (and moments as dd/mm/yyyy hh:mm[:ss], the browser's own time
// zone), whatever the browser's language: a date picker would follow the browser's locale instead
function parseDay(text) {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
  if (!m) return null;
  const iso = `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}
function parseMoment(text) {
  if (!text || !text.trim()) return null;
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(text);
  if (!m) return undefined;
  const d = new Date(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +(m[6] || 0));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

// ---------------------------------------------------------------- the API
function status(message, error) {
  $("status").textContent = message || "";
  $("status").className = error ? "error" : "";
}
async function gql(query, variables) {
  const token = localStorage.getItem("staffing.token");
  if (!token) throw new Error("Cần mã truy cập: dán mã vào ô “Mã truy cập” (lệnh demo in sẵn một đường dẫn có mã).");
  const response = await fetch("/graphql", {
    method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}
async function download(format) {
  const q = new URLSearchParams({ asOf: state.asOf, rootUnitId: state.unit });
  if (state.knownAt) q.set("knownAt", state.knownAt);
  const response = await fetch(`/downloads/staffing-report.${format}?${q}`, {
    headers: { Authorization: `Bearer ${localStorage.getItem("staffing.token") || ""}` } });
  if (!response.ok) { status(`Không tải được báo cáo: ${(await response.json()).message}`, true); return; }
  const link = h("a", { href: URL.createObjectURL(await response.blob()), download: `bao-cao-bien-che-${state.asOf}.${format}` });
  document.body.append(link); link.click(); link.remove();
}

// ---------------------------------------------------------------- search as you type
let searchTimer = null;
function onSearch() {
  clearTimeout(searchTimer);
  const text = $("search").value.trim();
  if (text.length < 2) { $("suggestions").replaceChildren(); return; }
  searchTimer = setTimeout(async () => {
    try {
      const data = await gql(`query($d: Date, $k: DateTime, $s: String) { units(asOf: $d, knownAt: $k, search: $s,
        first: 12) { edges { node { id code name kind } } } }`, { d: state.asOf, k: state.knownAt, s: text });
      $("suggestions").replaceChildren(...data.units.edges.map(({ node }) => h("li", {
        tabindex: 0, "data-id": node.id, onclick: () => pick(node),
        onkeydown: (e) => { if (e.key === "Enter") pick(node); } }, `${node.name} (${node.code})`)));
      status("");
    } catch (e) { status(e.message, true); }
  }, 200);
}
function pick(node) {
  state.unit = node.id;
  $("search").value = node.name;
  $("suggestions").replaceChildren();
  writeUrl();
  render();
}

// ---------------------------------------------------------------- the unit view
const UNIT = `query($u: ID!, $d: Date!, $k: DateTime) {
  unit(id: $u, asOf: $d, knownAt: $k) { id code name kind status establishedOn endedOn
    parent { code name parent { code name parent { code name parent { code name } } } }
    predecessors { change effectiveOn unit { id code name } } successors { change effectiveOn unit { id code name } }
    people { fullName assignment { category rank since } } positions { title vacant holders { fullName } } }
  staffing(unitId: $u, asOf: $d, knownAt: $k, includeDescendants: true) { totalQuota totalHeadcount totalVacancy
    totalSurplus grossVacancy grossSurplus overQuota exceptionDeadline logPosition headHash
    lines { category quota headcount } }
  staffingReport(rootUnitId: $u, asOf: $d, knownAt: $k, depth: 1, includeDescendants: true) { level
    unit { id code name kind } totalQuota totalHeadcount totalVacancy totalSurplus grossVacancy grossSurplus
    overQuota exceptionDeadline }
}`;

async function render() {
  $("asOf").value = day(state.asOf);
  $("knownAt").value = moment(state.knownAt, true);
  for (const b of document.querySelectorAll("#views button")) b.classList.toggle("active", b.dataset.view === state.view);
  $("unit-view").hidden = state.view !== "unit";
  $("diff-view").hidden = state.view !== "diff";
  if (state.view === "diff") { renderDiffDefaults(); return; }
  if (!state.unit) { $("unit").hidden = true; $("empty").hidden = false; return; }
  status("Đang tải…");
  try {
    const data = await gql(UNIT, { u: state.unit, d: state.asOf, k: state.knownAt });
    if (!data.unit) {
      status("Đơn vị chưa được thành lập vào ngày này (theo dữ liệu đã ghi): chọn một ngày muộn hơn, hoặc đơn vị tiền thân.", true);
      return;
    }
    showUnit(data);
    status("");
    await showChart(data.unit, data.staffing);
  } catch (e) { status(e.message, true); }
}

function showUnit({ unit, staffing, staffingReport }) {
  $("empty").hidden = true;
  $("unit").hidden = false;
  $("search").value = unit.name;
  $("unit-title").textContent = `${unit.name} (${unit.code})`;
  const place = [];
  for (let p = unit.parent; p; p = p.parent) place.unshift(`${p.name} (${p.code})`);
  $("unit-place").textContent = `${place.length ? "Thuộc: " + place.join(" › ") + " · " : ""}` +
    `${label(unit.status)} · thành lập ${day(unit.establishedOn)}${unit.endedOn ? " · chấm dứt " + day(unit.endedOn) : ""}` +
    ` · số liệu tại ${day(state.asOf)}${state.knownAt ? ", theo dữ liệu ghi đến " + moment(state.knownAt) : ""}`;
  const s = staffing || { lines: [] };
  const card = (title, value, cls) => h("div", { class: `card ${cls || ""}` }, title, h("b", {}, value));
  $("figures").replaceChildren(
    card("Biên chế", num(s.totalQuota)), card("Có mặt", num(s.totalHeadcount)),
    card("Thiếu (ròng)", num(s.totalVacancy)), card("Vượt (ròng)", num(s.totalSurplus)),
    card("Thiếu (gộp)", num(s.grossVacancy)), card("Vượt (gộp)", num(s.grossSurplus), s.grossSurplus ? "warn" : ""),
    ...(s.overQuota ? [card("Cảnh báo", label(s.overQuota), "warn")] : []),
    ...(s.exceptionDeadline ? [card("Hạn ngoại lệ", day(s.exceptionDeadline))] : []),
    ...s.lines.map((l) => card(label(l.category), `${num(l.headcount)} / ${num(l.quota)}`)));
  $("figures").dataset.quota = s.totalQuota;
  $("figures").dataset.headcount = s.totalHeadcount;
  showLineage(unit);
  table($("report"), ["Cấp", "Mã", "Đơn vị", "Biên chế", "Có mặt", "Thiếu (gộp)", "Vượt (gộp)", "Thiếu (ròng)",
    "Vượt (ròng)", "Cảnh báo", "Hạn ngoại lệ"], staffingReport.map((r) => h("tr", { "data-unit": r.unit.id },
    h("td", {}, r.level), h("td", {}, r.unit.code),
    h("td", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); pick(r.unit); } }, r.unit.name)),
    h("td", { class: "n" }, num(r.totalQuota)), h("td", { class: "n" }, num(r.totalHeadcount)),
    h("td", { class: "n" }, num(r.grossVacancy)), h("td", { class: "n" }, num(r.grossSurplus)),
    h("td", { class: "n" }, num(r.totalVacancy)), h("td", { class: "n" }, num(r.totalSurplus)),
    h("td", {}, label(r.overQuota)), h("td", {}, day(r.exceptionDeadline)))));
  table($("people"), ["Họ và tên", "Ngạch / hạng", "Loại", "Từ ngày"], unit.people.map((p) => h("tr", {},
    h("td", {}, p.fullName), h("td", {}, p.assignment.rank), h("td", {}, label(p.assignment.category)),
    h("td", {}, day(p.assignment.since)))));
  table($("positions"), ["Vị trí việc làm", "Người đảm nhiệm"], unit.positions.map((p) => h("tr", {},
    h("td", {}, p.title), h("td", {}, p.vacant ? "(trống)" : p.holders.map((x) => x.fullName).join(", ")))));
}

function showLineage(unit) {
  // predecessors on the left, the unit in the middle, successors on the right; each arrow names the change
  const before = unit.predecessors, after = unit.successors;
  const rows = Math.max(before.length, after.length, 1);
  const width = 1000, box = 260, line = 46, height = rows * line + 24;
  const node = (x, y, text, unit) => {
    const g = svg("g", unit ? { "data-unit": unit.id, class: "lineage-unit", cursor: "pointer" } : {},
      svg("rect", { x, y, width: box, height: 30, rx: 4, fill: "#fff", stroke: "#7a1f1f" }),
      svg("text", { x: x + 8, y: y + 19 }, text));
    if (unit) g.addEventListener("click", () => pick(unit));  // follow the lineage to that unit
    return g;
  };
  const middle = (height - 30) / 2;
  const parts = [node(width / 2 - box / 2, middle, `${unit.name} (${unit.code})`)];
  const arrow = (x1, y1, x2, y2, text, labelX, labelY) => [
    svg("line", { x1, y1, x2, y2, stroke: "#55616d", "marker-end": "url(#arrow)" }),
    svg("text", { x: labelX, y: labelY, class: "change" }, text)];
  before.forEach((e, i) => {
    const y = 10 + i * line;
    parts.push(node(0, y, `${e.unit.name} (${e.unit.code})`, e.unit),
      ...arrow(box, y + 15, width / 2 - box / 2, middle + 15, `${label(e.change)} ${day(e.effectiveOn)}`, box + 6, y + 11));
  });
  after.forEach((e, i) => {
    const y = 10 + i * line;
    parts.push(node(width - box, y, `${e.unit.name} (${e.unit.code})`, e.unit),
      ...arrow(width / 2 + box / 2, middle + 15, width - box, y + 15, `${label(e.change)} ${day(e.effectiveOn)}`,
        width - box - 110, y + 11));
  });
  const defs = svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6,
    markerHeight: 6, orient: "auto" }, svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#55616d" })));
  $("lineage").replaceChildren(before.length || after.length
    ? svg("svg", { width, height, role: "img", "aria-label": "Sơ đồ lịch sử tổ chức" }, defs, ...parts)
    : h("p", { class: "hint" }, "Không có đơn vị tiền thân hay kế thừa."));
}

async function showChart(unit, staffing) {
  // quota (dashed) and headcount (solid) by category on yearly dates up to the as-of date
  const end = new Date(state.asOf), start = unit.establishedOn ? new Date(unit.establishedOn) : new Date(end.getFullYear() - 9, 0, 1);
  const dates = [], from = unit.establishedOn || "0000-01-01";
  const years = end.getFullYear() - start.getFullYear();
  if (years >= 2) {  // yearly over (at most) the last ten years
    for (let y = Math.max(start.getFullYear(), end.getFullYear() - 9); y <= end.getFullYear(); y++) dates.push(`${y}-01-01`);
  } else {  // a young unit: monthly since it was established
    for (let d = new Date(start.getFullYear(), start.getMonth(), 1); d <= end; d.setMonth(d.getMonth() + 1)) {
      dates.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-01`);
    }
  }
  if (unit.establishedOn) dates.push(unit.establishedOn);
  dates.push(state.asOf);
  const points0 = [...new Set(dates.filter((d) => d >= from && d <= state.asOf))].sort();
  dates.length = 0;
  dates.push(...points0);
  const fields = dates.map((d, i) => `p${i}: staffing(unitId: $u, asOf: "${d}", knownAt: $k, includeDescendants: true)` +
    " { lines { category quota headcount } }").join("\n");
  let data;
  try { data = await gql(`query($u: ID!, $k: DateTime) { ${fields} }`, { u: unit.id, k: state.knownAt }); }
  catch (e) { status(e.message, true); return; }
  const points = dates.map((d, i) => ({ d, lines: (data[`p${i}`] || { lines: [] }).lines }));
  const max = Math.max(1, ...points.flatMap((p) => p.lines.flatMap((l) => [l.quota, l.headcount])));
  const W = 900, H = 260, L = 60, B = 30, T = 10, R = 150;
  const x = (i) => L + (points.length === 1 ? 0 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const parts = [svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }),
    svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#999" }), svg("text", { x: 4, y: T + 10 }, num(max)),
    svg("text", { x: 4, y: H - B }, "0"),
    ...points.filter((_, i) => i % Math.ceil(points.length / 10) === 0 || i === points.length - 1)
      .map((p) => svg("text", { x: x(points.indexOf(p)) - 28, y: H - 10 }, day(p.d)))];
  Object.keys(COLORS).forEach((category, k) => {
    const series = (field) => points.map((p, i) => `${x(i)},${y((p.lines.find((l) => l.category === category) || {})[field] || 0)}`).join(" ");
    if (!points.some((p) => p.lines.some((l) => l.category === category && (l.quota || l.headcount)))) return;
    parts.push(svg("polyline", { points: series("quota"), fill: "none", stroke: COLORS[category], "stroke-dasharray": "5 3" }),
      svg("polyline", { points: series("headcount"), fill: "none", stroke: COLORS[category], "stroke-width": 2 }),
      svg("text", { x: W - R + 10, y: T + 30 + k * 16, fill: COLORS[category] }, `${label(category)}`));
  });
  parts.push(svg("text", { x: W - R + 10, y: T + 106 }, "— có mặt, - - biên chế"));
  if (staffing && staffing.exceptionDeadline) {
    const deadline = staffing.exceptionDeadline, i = points.findIndex((p) => p.d >= deadline);
    const at = i < 0 ? W - R : x(Math.max(i, 0));
    parts.push(svg("line", { x1: at, y1: T, x2: at, y2: H - B, stroke: "#d9822b", "stroke-dasharray": "2 2" }),
      svg("text", { x: Math.min(at + 4, W - R + 10), y: T + 12, fill: "#d9822b" }, `hạn ngoại lệ ${day(deadline)}`));
  }
  $("chart").replaceChildren(svg("svg", { width: W, height: H, role: "img", "aria-label": "Biểu đồ biên chế" }, ...parts));
}

// ---------------------------------------------------------------- the diff view
function renderDiffDefaults() {
  if (!$("afterAsOf").value) $("afterAsOf").value = day(state.asOf);
  if (!$("beforeAsOf").value) $("beforeAsOf").value = day(state.asOf);
}
async function showDiff(event) {
  event.preventDefault();
  if (!state.unit) { status("Chọn một đơn vị trước.", true); return; }
  const snapshot = (which) => ({ asOf: parseDay($(`${which}AsOf`).value), knownAt: parseMoment($(`${which}KnownAt`).value) });
  const given = [snapshot("before"), snapshot("after")];
  if (given.some((g) => !g.asOf || g.knownAt === undefined)) {
    status("Nhập ngày dạng dd/mm/yyyy và thời điểm dạng dd/mm/yyyy hh:mm (có thể bỏ trống).", true);
    return;
  }
  status("Đang so sánh…");
  try {
    const data = await gql(`query($u: ID, $b: SnapshotInput!, $a: SnapshotInput!) { staffingDiff(rootUnitId: $u,
      before: $b, after: $a) { rows { unit { code name } category quotaBefore quotaAfter headcountBefore headcountAfter
      facts { id type effectiveOn recordedAt act { number issuer } } } } }`,
      { u: state.unit, b: given[0], a: given[1] });
    const cell = (before, after) => h("td", { class: `n ${after > before ? "up" : after < before ? "down" : ""}` },
      before === after ? num(after) : `${num(before)} → ${num(after)}`);
    table($("diff"), ["Đơn vị", "Loại", "Biên chế trước → sau", "Có mặt trước → sau", "Dữ kiện giải thích"],
      data.staffingDiff.rows.map((r) => h("tr", { class: "changed" }, h("td", {}, `${r.unit.name} (${r.unit.code})`),
        h("td", {}, label(r.category)), cell(r.quotaBefore, r.quotaAfter), cell(r.headcountBefore, r.headcountAfter),
        h("td", {}, h("ul", {}, r.facts.map((f) => h("li", {}, `${f.type}, hiệu lực ${day(f.effectiveOn)}, ghi ` +
          `${moment(f.recordedAt)}, ${f.act.number} (${f.act.issuer})`)))))));
    status(data.staffingDiff.rows.length ? "" : "Hai thời điểm không khác nhau.");
  } catch (e) { status(e.message, true); }
}

// ---------------------------------------------------------------- wiring
function init() {
  readUrl();
  $("token").value = localStorage.getItem("staffing.token") || "";
  $("token").addEventListener("change", () => { localStorage.setItem("staffing.token", $("token").value.trim()); render(); });
  $("search").addEventListener("input", onSearch);
  $("asOf").addEventListener("change", () => {
    const iso = parseDay($("asOf").value);
    if (!iso) { status("Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 31/07/2025.", true); return; }
    state.asOf = iso; writeUrl(); render();
  });
  $("knownAt").addEventListener("change", () => {
    const iso = parseMoment($("knownAt").value);
    if (iso === undefined) { status("Thời điểm không hợp lệ: nhập dd/mm/yyyy hh:mm, ví dụ 10/08/2025 08:59.", true); return; }
    state.knownAt = iso; writeUrl(); render();
  });
  for (const b of document.querySelectorAll("#views button")) {
    b.addEventListener("click", () => { state.view = b.dataset.view; writeUrl(); render(); });
  }
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  $("diff-form").addEventListener("submit", showDiff);
  $("download-xlsx").addEventListener("click", () => download("xlsx"));
  $("download-csv").addEventListener("click", () => download("csv"));
  window.addEventListener("popstate", () => { readUrl(); render(); });
  render();
}
init();
