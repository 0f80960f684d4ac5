// Runs: every recorded analysis / ingest with status, filterable by kind and status.
import { api } from "../api.js";
import { badge, errorNotice, h, pager, table, when } from "../dom.js";

export async function render(root, _arg, params) {
  root.append(h("h1", {}, "Runs"));
  const kind = params.get("kind") || "";
  const status = params.get("status") || "";
  const offset = Number(params.get("offset") || 0);
  const go = (o, k = kind, s = status) => {
    const q = new URLSearchParams();
    if (k) q.set("kind", k);
    if (s) q.set("status", s);
    if (o) q.set("offset", o);
    window.location.hash = "#/runs" + (q.toString() ? "?" + q : "");
  };
  const kindIn = h("input", { id: "runs-kind", name: "kind", value: kind, maxlength: "100" });
  const statusIn = h("select", { id: "runs-status", name: "status" },
    ["", "running", "ok", "failed", "cancelled"].map((s) =>
      h("option", { value: s, selected: s === status }, s || "any")));
  root.append(h("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); go(0, kindIn.value.trim(), statusIn.value); } },
    h("label", { for: "runs-kind" }, "Kind", kindIn),
    h("label", { for: "runs-status" }, "Status", statusIn),
    h("button", { type: "submit" }, "Filter")));
  let page;
  try {
    page = await api("/runs", { query: { limit: 25, offset, kind, status } });
  } catch (err) {
    root.append(errorNotice(err));
    return;
  }
  root.append(table("Recorded runs", [
    { key: "run_id", label: "Run", render: (r) => h("code", {}, r.run_id) },
    { key: "kind", label: "Kind" },
    { key: "status", label: "Status", render: (r) => badge(r.status) },
    { key: "started_at", label: "Started", render: (r) => when(r.started_at) },
    { key: "duration_s", label: "Seconds", num: true },
    { key: "summary", label: "Summary", render: (r) => summary(r) },
  ], page.items), pager(page, (o) => go(o)));
}

function summary(r) {
  const s = r.summary || {};
  if (s.error) return s.error;
  const keys = Object.keys(s).filter((k) => typeof s[k] !== "object").slice(0, 4);
  return keys.map((k) => `${k}: ${s[k]}`).join(", ") || "–";
}
