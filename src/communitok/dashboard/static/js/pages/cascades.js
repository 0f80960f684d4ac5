// Cascade explorer: the largest duet / stitch / sound-reuse cascades, and one as a tree.
import { api } from "../api.js";
import { chart, errorNotice, facts, h, link, num, pager, plotText, routeHref, table, when } from "../dom.js";

const SORTS = ["size", "depth", "structural_virality", "max_breadth", "communities_reached"];

export async function list(root, _arg, params) {
  root.append(h("h1", {}, "Cascades"));
  const by = params.get("by") || "size";
  const community = params.get("community") || "";
  const offset = Number(params.get("offset") || 0);
  const go = (o, b = by, c = community) => {
    const q = new URLSearchParams({ by: b });
    if (c) q.set("community", c);
    if (o) q.set("offset", o);
    window.location.hash = "#/cascades?" + q;
  };
  const byIn = h("select", { id: "c-by", name: "by" }, SORTS.map((s) =>
    h("option", { value: s, selected: s === by }, s.replace(/_/g, " "))));
  const comIn = h("input", { id: "c-community", name: "community", value: community, maxlength: "100" });
  root.append(h("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); go(0, byIn.value, comIn.value.trim()); } },
    h("label", { for: "c-by" }, "Sort by", byIn),
    h("label", { for: "c-community" }, "Reaching community", comIn),
    h("button", { type: "submit" }, "Apply")));
  let page;
  try {
    page = await api("/cascades", { query: { limit: 20, offset, by, community } });
  } catch (err) {
    root.append(errorNotice(err, "cascades"));
    return;
  }
  if (!page.items.length) {
    root.append(h("p", {}, "No cascades found."));
    return;
  }
  root.append(table("Largest cascades", [
    { key: "cascade_id", label: "Root video", render: (r) => link(routeHref("cascade", r.cascade_id), r.cascade_id) },
    { key: "size", label: "Videos", num: true },
    { key: "depth", label: "Depth", num: true },
    { key: "max_breadth", label: "Breadth", num: true },
    { key: "structural_virality", label: "Virality", num: true },
    { key: "communities_reached", label: "Communities", num: true },
    { key: "root_creator", label: "Root creator" },
  ], page.items), pager(page, (o) => go(o)));
}

export async function show(root, id) {
  root.append(h("h1", {}, "Cascade ", h("code", {}, id || "")));
  if (!id) return;
  let d;
  try {
    d = await api("/cascades/" + encodeURIComponent(id));
  } catch (err) {
    root.append(errorNotice(err, "cascades"));
    return;
  }
  const c = d.cascade;
  root.append(facts([
    ["Videos", num(c.size)], ["Depth", num(c.depth)], ["Widest level", num(c.max_breadth)],
    ["Structural virality", num(c.structural_virality)], ["Communities reached", num(c.communities_reached)],
    ["Started", when(c.start)], ["Root creator", c.root_creator || "–"],
  ]));
  if (d.truncated) root.append(h("p", { class: "muted" }, `Showing the first ${d.nodes.length} videos by depth.`));
  const ids = d.nodes.map((n) => n.video_id);
  const known = new Set(ids);
  root.append(h("h2", {}, "Shape"), chart(`Cascade ${id} as an icicle chart: each box is a video, children under their parent`, [{
    type: "icicle",
    ids,
    labels: d.nodes.map((n) => plotText(n.video_id)),
    parents: d.nodes.map((n) => (n.parent_video_id && known.has(n.parent_video_id) ? n.parent_video_id : "")),
    text: d.nodes.map((n) => plotText(`${n.kind || "root"} by ${n.creator_id || "?"}`)),
    hovertemplate: "%{label}<br>%{text}<extra></extra>",
    tiling: { orientation: "v" },
  }], { margin: { t: 10, r: 10, b: 10, l: 10 } }));
  root.append(h("h2", {}, "Tree"), tree(d.nodes));
}

/** Nested, keyboard-operable tree (details/summary) of the cascade's videos. */
function tree(nodes) {
  const children = new Map();
  const known = new Set(nodes.map((n) => n.video_id));
  const roots = [];
  for (const n of nodes) {
    if (n.parent_video_id && known.has(n.parent_video_id)) {
      if (!children.has(n.parent_video_id)) children.set(n.parent_video_id, []);
      children.get(n.parent_video_id).push(n);
    } else roots.push(n);
  }
  const label = (n) => [h("span", { class: "mono" }, n.video_id), " ",
    h("span", { class: "node-kind" }, `${n.kind || "root"} · ${n.creator_id || "?"} · ${when(n.created_at)}`)];
  const item = (n) => {
    const kids = children.get(n.video_id) || [];
    if (!kids.length) return h("li", { class: "leaf" }, label(n));
    return h("li", {}, h("details", { open: n.depth < 2 },
      h("summary", {}, label(n), ` (${kids.length} direct)`),
      h("ul", {}, kids.map(item))));
  };
  return h("ul", { class: "tree", "aria-label": "Cascade tree" }, roots.map(item));
}
