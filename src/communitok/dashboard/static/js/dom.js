// DOM helpers. Data is only ever inserted as text (textContent / attributes), never as HTML.
import { ApiError, isUnavailable } from "./api.js";

/** h("a", {href: "#/x", class: "y"}, "text", child) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const NUM = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
export function num(v) {
  return v === null || v === undefined ? "–" : NUM.format(v);
}
export function when(v) {
  if (!v) return "–";
  const d = new Date(v);
  return isNaN(d) ? String(v) : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}
export function day(v) {
  return v ? String(v).slice(0, 10) : "–";
}

/** Escape text for Plotly labels (Plotly reads a few HTML-like tags in strings). */
export function plotText(s) {
  return String(s ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function badge(text, kind) {
  return h("span", { class: "badge " + (kind || text || "") }, text || "unknown");
}

export function link(href, text) {
  return h("a", { href }, text);
}

export function routeHref(name, arg) {
  return "#/" + name + (arg !== undefined ? "/" + encodeURIComponent(arg) : "");
}

/**
 * A data table. columns: [{key, label, num?, render?(row)}]; caption is required
 * (it names the table for screen readers).
 */
export function table(caption, columns, rows) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)));
  const body = rows.map((r) =>
    h("tr", {}, columns.map((c, i) => {
      const v = c.render ? c.render(r) : c.num ? num(r[c.key]) : r[c.key] ?? "–";
      const cell = i === 0 ? "th" : "td";
      return h(cell, { class: c.num ? "num" : null, scope: i === 0 ? "row" : null }, v);
    })));
  const t = h("table", {}, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body));
  return h("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" }, t);
}

const SVG_NS = "http://www.w3.org/2000/svg"; // a namespace name, never fetched

/** An inline SVG sparkline with a text alternative. */
export function sparkline(values, label) {
  const vals = (values || []).map((v) => (v === null ? 0 : v));
  const w = 120, hgt = 28;
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", w);
  svg.setAttribute("height", hgt);
  svg.setAttribute("role", "img");
  const summary = vals.length
    ? `${label}: ${vals.length} days, min ${num(Math.min(...vals))}, max ${num(Math.max(...vals))}, last ${num(vals[vals.length - 1])}`
    : `${label}: no data`;
  svg.setAttribute("aria-label", summary);
  const title = document.createElementNS(SVG_NS, "title");
  title.textContent = summary;
  svg.append(title);
  if (vals.length > 1) {
    const max = Math.max(...vals) || 1;
    const pts = vals.map((v, i) => `${(i / (vals.length - 1)) * (w - 2) + 1},${hgt - 2 - (v / max) * (hgt - 4)}`);
    const line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("points", pts.join(" "));
    svg.append(line);
  }
  return svg;
}

export function notice(text, kind = "") {
  return h("div", { class: "notice " + kind, role: kind === "error" ? "alert" : "status" }, text);
}

/** The standard way to show an API error (incl. "not available yet" for 501). */
export function errorNotice(err, feature) {
  if (isUnavailable(err)) {
    return h("div", { class: "notice unavailable", role: "status" },
      h("strong", {}, "Not available yet. "),
      `This server has no ${feature || "such"} API yet (${err.message}).`);
  }
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    return notice(`${err.status === 401 ? "Sign in" : "Not allowed"}: ${err.message}. ` +
      "Enter an API key with the right scope above.", "error");
  }
  const rid = err && err.requestId ? ` (request ${err.requestId})` : "";
  return notice(`Error: ${err && err.message ? err.message : err}${rid}`, "error");
}

/** Previous / next buttons for a page {limit, offset, next_offset}. */
export function pager(page, go) {
  const prev = h("button", { type: "button", class: "secondary", disabled: page.offset === 0,
    onclick: () => go(Math.max(0, page.offset - page.limit)) }, "Previous page");
  const next = h("button", { type: "button", class: "secondary", disabled: page.next_offset === null,
    onclick: () => go(page.next_offset) }, "Next page");
  const shown = page.items.length ? `${page.offset + 1}–${page.offset + page.items.length}` : "none";
  return h("div", { class: "pager" }, prev, next, h("span", { class: "muted" }, `Showing ${shown}`));
}

let plotlyLoading = null;
/** Load the bundled Plotly (served by this server: no network needed) on first use. */
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/static/vendor/plotly.min.js";
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { plotlyLoading = null; reject(new Error("Plotly did not load")); };
      document.head.append(s);
    });
  }
  return plotlyLoading;
}

/** A Plotly chart in a labelled container (with a text fallback if Plotly is missing). */
export function chart(label, traces, layout = {}, onReady = null) {
  const el = h("div", { class: "chart", role: "img", "aria-label": label });
  if (layout.height) el.style.height = `${layout.height}px`;
  loadPlotly().catch(() => null).then((Plotly) => {
    if (!Plotly) {
      el.append(notice("Charts are unavailable (Plotly did not load)."));
      return;
    }
    Plotly.newPlot(el, traces, {
      margin: { t: 30, r: 20, b: 50, l: 60 }, font: { size: 13, color: "#1a1a1a" },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", ...layout,
    }, { displaylogo: false, responsive: true });
    if (onReady) onReady(el);
    el.dataset.plotted = "true";
  });
  return el;
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
