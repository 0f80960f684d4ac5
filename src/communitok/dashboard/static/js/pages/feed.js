// Feed preview: any viewer's For You feed with the "why" of every item; simulate a
// viewing event and watch the feed update live.
import { api } from "../api.js";
import { badge, errorNotice, h, notice } from "../dom.js";

export async function render(root, _arg, params) {
  root.append(h("h1", {}, "Feed preview"));
  const viewer = params.get("viewer") || "";
  const interests = params.get("interests") || "";
  const viewerIn = h("input", { id: "f-viewer", name: "viewer", value: viewer, maxlength: "200", list: "f-viewers", required: true });
  const interestsIn = h("input", { id: "f-interests", name: "interests", value: interests, maxlength: "500", placeholder: "booktok, cleantok" });
  const list = h("datalist", { id: "f-viewers" });
  root.append(h("form", {
    class: "filters", onsubmit: (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams({ viewer: viewerIn.value.trim() });
      if (interestsIn.value.trim()) q.set("interests", interestsIn.value.trim());
      window.location.hash = "#/feed?" + q;
    },
  },
  h("label", { for: "f-viewer" }, "Viewer id", viewerIn), list,
  h("label", { for: "f-interests" }, "Interests for a new viewer (optional)", interestsIn),
  h("button", { type: "submit" }, "Show feed")));
  api("/feed/viewers", { query: { limit: 20 } }).then((v) => {
    for (const id of v.items) list.append(h("option", { value: id }));
    if (!viewerIn.value && v.items.length) viewerIn.placeholder = v.items[0];
  }).catch(() => {});
  if (!viewer) {
    root.append(h("p", {}, "Pick a viewer to see their feed (the feed trains on first use)."));
    return;
  }
  const status = h("p", { role: "status", id: "feed-status", class: "muted" });
  const holder = h("div", {});
  root.append(status, holder);
  // interests go as repeated ?interests= (a list); api() adds the single-valued k and preview
  const wanted = interests.split(",").map((s) => s.trim()).filter(Boolean);
  const path = "/feed/" + encodeURIComponent(viewer) +
    (wanted.length ? "?" + wanted.map((w) => "interests=" + encodeURIComponent(w)).join("&") : "");
  const load = () => api(path, { query: { k: 20, preview: true } });
  let feed;
  try {
    feed = await load();
  } catch (err) {
    root.append(errorNotice(err, "feed"));
    return;
  }
  const draw = (f, previous) => {
    const before = new Set((previous || []).map((i) => i.video_id));
    holder.replaceChildren(
      h("p", {}, `Variant ${f.variant} of experiment ${f.experiment}`,
        f.cold_start ? [" · ", badge("cold start", "info")] : "",
        f.interests.length ? ` · interests: ${f.interests.join(", ")}` : ""),
      h("ol", { class: "feed", "aria-label": `Feed of ${f.viewer_id}` }, f.items.map((it) => item(it, previous && !before.has(it.video_id)))),
    );
  };
  const item = (it, isNew) => h("li", { class: "feed-item", "data-video": it.video_id },
    h("div", {}, h("strong", { class: "mono" }, it.video_id), " by ", it.creator_id || "?",
      it.community ? [" · ", badge(it.community, "info")] : "", it.exploration ? [" · ", badge("exploration", "peaking")] : "",
      isNew ? [" · ", badge("new", "ok")] : ""),
    h("div", { class: "why" }, "Why: ", it.why),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => simulate(it, { liked: true, completed: true, watch_time_s: 30 }, "watched and liked") }, "Simulate: watch & like"),
      h("button", { type: "button", class: "secondary", onclick: () => simulate(it, { not_interested: true }, "not interested") }, "Simulate: not interested")));
  const simulate = async (it, fields, what) => {
    status.textContent = "Sending the event…";
    const t0 = performance.now();
    try {
      const r = await api("/events", { method: "POST", body: { viewer_id: viewer, video_id: it.video_id, ...fields } });
      const previous = feed.items;
      feed = await load();
      const ms = Math.round(performance.now() - t0);
      const gone = previous.filter((p) => !feed.items.some((n) => n.video_id === p.video_id)).map((p) => p.video_id);
      draw(feed, previous);
      status.textContent = `Event "${what}" on ${it.video_id} ${r.session_updated ? "updated the live session" : "was stored (no live session change)"}; ` +
        `feed refreshed in ${ms} ms${gone.length ? `; removed: ${gone.join(", ")}` : ""}.`;
    } catch (err) {
      status.replaceChildren(errorNotice(err, "events"));
    }
  };
  draw(feed, null);
  root.append(notice("Previews mark nothing as served. Simulated events are real viewing events: they need a key with the viewer-service or admin scope."));
}
