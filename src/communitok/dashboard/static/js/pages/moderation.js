// Moderation: the review queue (severity × reach) with reviewer actions, a text checker,
// and community safety health.
import { api } from "../api.js";
import { badge, errorNotice, h, notice, num, pager, table } from "../dom.js";

const ACTIONS = [["visible", "Keep visible"], ["limited", "Limit reach"], ["hidden", "Hide"]];

export async function render(root, _arg, params) {
  root.append(h("h1", {}, "Moderation queue"));
  const offset = Number(params.get("offset") || 0);
  let page;
  try {
    page = await api("/safety/queue", { query: { limit: 20, offset } });
  } catch (err) {
    root.append(errorNotice(err, "safety"));
    return;
  }
  const status = h("p", { role: "status", class: "muted", id: "moderation-status" });
  root.append(status);
  if (!page.items.length) {
    root.append(h("p", {}, "The queue is empty: nothing waits for a reviewer."));
  } else {
    root.append(table("Items waiting for review, highest priority first", [
      { key: "item_id", label: "Item", render: (r) => h("span", {}, `${r.item_kind} `, h("code", {}, r.item_id)) },
      { key: "text", label: "Text", render: (r) => h("span", { class: "queue-text" }, r.text ?? "–") },
      { key: "label", label: "Now", render: (r) => badge(r.label || "unlabelled", r.label === "hidden" ? "bad" : "info") },
      { key: "category", label: "Category" },
      { key: "open_reports", label: "Reports", num: true },
      { key: "priority", label: "Priority", num: true },
      { key: "why", label: "Why" },
      { key: "actions", label: "Decide", render: (r) => actions(r, status) },
    ], page.items), pager(page, (o) => { window.location.hash = "#/moderation?offset=" + o; }));
  }
  root.append(h("h2", {}, "Check a text"), checker());
  root.append(h("h2", {}, "Community safety health"));
  try {
    const health = await api("/safety/health", { query: { limit: 15 } });
    const rows = health.items.slice().sort((a, b) => (b.share_flagged ?? 0) - (a.share_flagged ?? 0));
    root.append(table("Safety health per community (most flagged first)", [
      { key: "community", label: "Community" },
      { key: "comments", label: "Comments", num: true },
      { key: "share_flagged", label: "Flagged share", render: (r) => pct(r.share_flagged) },
      { key: "reports_per_1k_views", label: "Reports / 1k views", num: true },
      { key: "direction", label: "Trend", render: (r) => badge(r.direction || "–", r.direction === "worsening" ? "bad" : r.direction === "improving" ? "ok" : "info") },
    ], rows));
  } catch (err) {
    root.append(errorNotice(err, "safety"));
  }
}

function pct(v) {
  return v === null || v === undefined ? "–" : `${num(v * 100)} %`;
}

function actions(item, status) {
  const reasonId = `reason-${item.item_kind}-${item.item_id}`;
  const reason = h("input", { id: reasonId, value: "reviewed", maxlength: "2000", size: "12" });
  const buttons = ACTIONS.map(([label, text]) => h("button", {
    type: "button", class: "secondary", "data-label": label,
    onclick: async (ev) => {
      const row = ev.target.closest("tr");
      for (const b of row.querySelectorAll("button")) b.disabled = true;
      try {
        const d = await api("/safety/decisions", {
          method: "POST",
          body: { item_kind: item.item_kind, item_id: item.item_id, label, reason: reason.value.trim() || "reviewed" },
        });
        status.textContent = `${item.item_kind} ${item.item_id}: now ${d.label}.`;
        row.remove();
      } catch (err) {
        status.replaceChildren(errorNotice(err));
        for (const b of row.querySelectorAll("button")) b.disabled = false;
      }
    },
  }, text));
  return h("div", { class: "actions" }, h("label", { for: reasonId, class: "visually-hidden" }, "Reason"), reason, ...buttons);
}

function checker() {
  const area = h("textarea", { id: "check-text", rows: "3", cols: "60", maxlength: "100000" });
  const out = h("div", { role: "status", id: "check-result" });
  const form = h("form", {
    class: "filters", onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren();
      try {
        const r = await api("/safety/classify", { method: "POST", body: { texts: [area.value] } });
        const it = r.items[0];
        out.append(h("p", {}, "Category ", badge(it.category, it.category === "ok" ? "ok" : "bad"),
          ` → label ${it.label} (${it.why}); model ${r.model_version}`));
      } catch (err) {
        out.append(errorNotice(err, "safety"));
      }
    },
  }, h("label", { for: "check-text" }, "Comment text", area), h("button", { type: "submit" }, "Classify"));
  return h("div", {}, form, out, notice("Nothing typed here is stored."));
}
