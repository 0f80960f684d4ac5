// Overview: features of this server, the calling key, store counts and the last runs.
import { api, getKey, health } from "../api.js";
import { badge, errorNotice, h, notice, num, table, when } from "../dom.js";

const FEATURE_LABELS = {
  system: "Status and runs", keys: "API keys", ingest: "Ingest and events",
  trends: "Trends and Discover", cascades: "Co-creation cascades",
  communities: "Communities", feed: "For You feed", safety: "Safety and moderation",
  partner: "Partner insights",
};

export async function render(root) {
  root.append(h("h1", {}, "Overview"));
  const hl = await health();
  root.append(
    h("h2", {}, "What this server offers"),
    h("ul", { class: "features" }, Object.entries(hl.features).map(([name, on]) =>
      h("li", {}, badge(on ? "available" : "not available yet", on ? "ok" : "off"), " ",
        FEATURE_LABELS[name] || name))),
  );
  if (!getKey()) {
    root.append(notice("Enter an API key above to see the data. `communitok serve` prints an admin key on first start."));
    return;
  }
  try {
    const me = await api("/me");
    root.append(h("p", {}, "Your key: ", h("strong", { class: "key-name" }, me.name),
      ` (scope ${me.scope}, id `, h("code", {}, me.key_id), ")"));
  } catch (err) {
    root.append(errorNotice(err));
    return;
  }
  let st;
  try {
    st = await api("/status", { query: { runs: 5 } });
  } catch (err) {
    root.append(h("h2", {}, "Store"), errorNotice(err));
    return;
  }
  root.append(
    h("h2", {}, "Store"),
    h("p", { class: "muted" }, `${st.backend} store, schema v${st.schema_version}`),
    h("div", { class: "cards" }, Object.entries(st.counts).map(([t, n]) =>
      h("div", { class: "card" }, h("div", { class: "value" }, num(n)), h("div", { class: "label" }, t)))),
    h("h2", {}, "Latest runs"),
    table("Latest runs", [
      { key: "kind", label: "Kind" },
      { key: "status", label: "Status", render: (r) => badge(r.status) },
      { key: "started_at", label: "Started", render: (r) => when(r.started_at) },
      { key: "duration_s", label: "Seconds", num: true },
    ], st.runs),
  );
}
