// Discover: what is trending, with lifecycle stage and a daily sparkline per trend.
import { api } from "../api.js";
import { badge, errorNotice, h, link, pager, routeHref, sparkline, table, when } from "../dom.js";

const KINDS = ["", "hashtag", "sound", "effect", "community"];
const STAGES = ["", "emerging", "rising", "peaking", "declining", "evergreen", "dormant"];

export async function render(root, _arg, params) {
  root.append(h("h1", {}, "Discover"));
  const scope = params.get("scope") || "";
  const kind = params.get("kind") || "";
  const stage = params.get("stage") || "";
  const offset = Number(params.get("offset") || 0);
  const go = (o, s = scope, k = kind, st = stage) => {
    const q = new URLSearchParams();
    if (s) q.set("scope", s);
    if (k) q.set("kind", k);
    if (st) q.set("stage", st);
    if (o) q.set("offset", o);
    window.location.hash = "#/discover" + (q.toString() ? "?" + q : "");
  };
  const scopeIn = h("input", { id: "d-scope", name: "scope", value: scope, placeholder: "all", maxlength: "100" });
  const kindIn = select("d-kind", KINDS, kind);
  const stageIn = select("d-stage", STAGES, stage);
  root.append(h("form", {
    class: "filters", onsubmit: (ev) => { ev.preventDefault(); go(0, scopeIn.value.trim(), kindIn.value, stageIn.value); },
  },
  h("label", { for: "d-scope" }, "Community (empty: platform-wide)", scopeIn),
  h("label", { for: "d-kind" }, "Kind", kindIn),
  h("label", { for: "d-stage" }, "Lifecycle stage", stageIn),
  h("button", { type: "submit" }, "Apply")));

  let page;
  try {
    page = await api("/trends/discover", {
      query: { limit: 20, offset, scope, kind, stage, sparklines: true },
    });
  } catch (err) {
    root.append(errorNotice(err, "trends"));
    return;
  }
  if (page.suppressed) {
    root.append(h("p", { class: "muted" },
      `${page.suppressed} trend(s) hidden: their audience is below the privacy threshold.`));
  }
  if (!page.items.length) {
    root.append(h("p", {}, "Nothing is trending here right now."));
    return;
  }
  root.append(table(`Trending ${scope ? "in " + scope : "platform-wide"}`, [
    { key: "trend_id", label: "Trend", render: (r) => link(routeHref("trend", r.trend_id), `${r.kind === "hashtag" ? "#" : ""}${r.item}`) },
    { key: "rank", label: "Rank", num: true },
    { key: "kind", label: "Kind" },
    { key: "stage", label: "Lifecycle", render: (r) => badge(r.stage || "unknown") },
    { key: "score", label: "Score", num: true },
    { key: "peak", label: "Peak", render: (r) => when(r.peak) },
    { key: "sparkline", label: "Daily videos", render: (r) => sparkline(r.sparkline, r.trend_id) },
    ...(page.items.some((r) => r.n_viewers != null)
      ? [{ key: "n_viewers", label: "Viewers", num: true }] : []),
  ], page.items), pager(page, (o) => go(o)));
}

function select(id, values, current) {
  return h("select", { id, name: id }, values.map((v) =>
    h("option", { value: v, selected: v === current }, v || "any")));
}
