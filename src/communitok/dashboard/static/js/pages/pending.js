// Pages whose API is not on this server yet: each asks its endpoint and shows the API's
// answer (501 → "not available yet"), so the page lights up the day the API lands.
import { api } from "../api.js";
import { errorNotice, h, notice, table } from "../dom.js";

async function probe(root, title, feature, path, what) {
  root.append(h("h1", {}, title), h("p", { class: "muted" }, what));
  try {
    await api(path, { query: { limit: 1 } });
  } catch (err) {
    root.append(errorNotice(err, feature));
    return;
  }
  root.append(notice(`The ${feature} API answers on this server, but this dashboard page is not built yet.`));
}

export async function partner(root) {
  await probe(root, "Partner flow", "partner insights", "/partner",
    "Brief → matching communities → content brief → ambassadors → campaign read-out.");
  // what partners can already see: community safety above the privacy threshold
  let agg;
  try {
    agg = await api("/safety/partner-health");
  } catch {
    return; // no safety API either: the notice above says enough
  }
  root.append(h("h2", {}, "Community safety (privacy-protected)"),
    h("p", { class: "muted" }, `Only communities with at least ${agg.k} distinct commenters are shown; ${agg.suppressed} withheld.`),
    table("Community safety for partners", [
      { key: "community", label: "Community" },
      { key: "n_people", label: "Commenters", num: true },
      { key: "comments", label: "Comments", num: true },
      { key: "share_flagged", label: "Flagged share", num: true },
    ], agg.items));
}
