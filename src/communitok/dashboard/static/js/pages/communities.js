// Community map (network sized by views, coloured by growth, edges = bridges) and the
// community page (lingo, sounds, creators, growth, safety health, bridges).
import { api } from "../api.js";
import { badge, chart, errorNotice, facts, h, link, num, plotText, routeHref, table } from "../dom.js";

const pct = (v) => (v === null || v === undefined ? "–" : `${v >= 0 ? "+" : ""}${num(v * 100)} %`);

/** Deterministic force-directed layout (Fruchterman–Reingold) for a small graph. */
function layout(nodes, edges) {
  const n = nodes.length;
  const idx = new Map(nodes.map((d, i) => [d.community_id, i]));
  const pos = nodes.map((_, i) => [Math.cos((2 * Math.PI * i) / n), Math.sin((2 * Math.PI * i) / n)]);
  const links = edges.map((e) => [idx.get(e.community_a), idx.get(e.community_b)]).filter(([a, b]) => a !== undefined && b !== undefined);
  const k = Math.sqrt(4 / Math.max(n, 1));
  for (let it = 0, t = 0.2; it < 150; it++, t *= 0.97) {
    const disp = pos.map(() => [0, 0]);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = pos[i][0] - pos[j][0], dy = pos[i][1] - pos[j][1];
        const d = Math.max(Math.hypot(dx, dy), 1e-3), f = (k * k) / d;
        disp[i][0] += (dx / d) * f; disp[i][1] += (dy / d) * f;
        disp[j][0] -= (dx / d) * f; disp[j][1] -= (dy / d) * f;
      }
    }
    for (const [a, b] of links) {
      const dx = pos[a][0] - pos[b][0], dy = pos[a][1] - pos[b][1];
      const d = Math.max(Math.hypot(dx, dy), 1e-3), f = (d * d) / k;
      disp[a][0] -= (dx / d) * f; disp[a][1] -= (dy / d) * f;
      disp[b][0] += (dx / d) * f; disp[b][1] += (dy / d) * f;
    }
    for (let i = 0; i < n; i++) {
      const d = Math.max(Math.hypot(...disp[i]), 1e-9), step = Math.min(d, t);
      pos[i][0] += (disp[i][0] / d) * step; pos[i][1] += (disp[i][1] / d) * step;
    }
  }
  return pos;
}

export async function map(root) {
  root.append(h("h1", {}, "Community map"));
  let m;
  try {
    m = await api("/communities/map");
  } catch (err) {
    root.append(errorNotice(err, "communities"));
    return;
  }
  if (m.suppressed) {
    root.append(h("p", { class: "muted" }, `${m.suppressed} communities hidden: below the privacy threshold.`));
  }
  if (!m.nodes.length) {
    root.append(h("p", {}, "No communities yet: run community detection first."));
    return;
  }
  const pos = layout(m.nodes, m.edges);
  const at = new Map(m.nodes.map((d, i) => [d.community_id, pos[i]]));
  const maxViews = Math.max(...m.nodes.map((d) => d.views || 0), 1);
  const edgeTraces = m.edges.filter((e) => at.has(e.community_a) && at.has(e.community_b)).map((e) => ({
    type: "scatter", mode: "lines", hoverinfo: "text", showlegend: false,
    x: [at.get(e.community_a)[0], at.get(e.community_b)[0]], y: [at.get(e.community_a)[1], at.get(e.community_b)[1]],
    line: { color: "#6b7280", width: 1 + Math.min(6, Math.log2(1 + (e.lift || 1))) },
    text: plotText(`${e.name_a} ↔ ${e.name_b} (lift ${num(e.lift)})`),
  }));
  const growth = m.nodes.map((d) => (d.growth === null || d.growth === undefined ? 0 : d.growth));
  const span = Math.max(0.1, ...growth.map((g) => Math.abs(g)));
  const nodeTrace = {
    type: "scatter", mode: "markers+text", textposition: "bottom center", showlegend: false,
    x: pos.map((p) => p[0]), y: pos.map((p) => p[1]),
    text: m.nodes.map((d) => plotText(d.name.split(" · ")[0])),
    customdata: m.nodes.map((d) => d.community_id),
    hovertext: m.nodes.map((d) => plotText(`${d.name}: ${num(d.views)} views, growth ${pct(d.growth)}`)),
    hoverinfo: "text",
    marker: {
      size: m.nodes.map((d) => 14 + 46 * Math.sqrt((d.views || 0) / maxViews)),
      color: growth, cmin: -span, cmax: span, line: { color: "#1a1a1a", width: 1 },
      colorscale: [[0, "#b3260e"], [0.5, "#d1d5db"], [1, "#11733b"]],
      colorbar: { title: { text: "growth" }, tickformat: "+.0%" },
    },
  };
  root.append(chart(`Community network: ${m.nodes.length} communities sized by views, coloured by growth, ${m.edges.length} bridges. The table below lists the same.`,
    [...edgeTraces, nodeTrace], {
      xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" }, height: 560, hovermode: "closest",
    }, (el) => el.on("plotly_click", (ev) => {  // clicking a node opens its page
      const p = ev.points && ev.points[0];
      if (p && p.customdata !== undefined) window.location.hash = routeHref("community", p.customdata);
    })));
  root.append(table("Communities", [
    { key: "name", label: "Community", render: (r) => link(routeHref("community", r.community_id), r.name) },
    { key: "views", label: "Views", num: true },
    { key: "videos", label: "Videos", num: true },
    { key: "viewers", label: "Viewers", num: true, render: (r) => num(r.n_viewers ?? r.viewers) },
    { key: "growth", label: "Growth", render: (r) => badge(pct(r.growth), r.growth > 0.05 ? "ok" : r.growth < -0.05 ? "bad" : "info") },
  ], m.nodes));
  if (m.edges.length) {
    root.append(h("h2", {}, "Bridges"), table("Bridges between communities", [
      { key: "name_a", label: "From" }, { key: "name_b", label: "To" },
      { key: "lift", label: "Lift", num: true }, { key: "shared", label: "Shared", num: true },
    ], m.edges));
  }
}

export async function show(root, id) {
  root.append(h("h1", {}, "Community"));
  let d;
  try {
    d = await api("/communities/" + encodeURIComponent(id ?? ""));
  } catch (err) {
    root.append(errorNotice(err, "communities"));
    return;
  }
  const c = d.community, p = d.profile || {};
  root.querySelector("h1").textContent = c.name;
  root.append(facts([
    ["Views", num(c.views)], ["Videos", num(c.videos)], ["Creators", num(c.creators)],
    ["Viewers", num(c.viewers)], ["Growth", pct(c.growth)],
    ["Completion rate", p.completion_rate != null ? `${num(p.completion_rate * 100)} %` : "–"],
    ["Likes per view", num(p.likes_per_view)],
  ]));
  root.append(h("h2", {}, "Lingo"), d.lingo.length ? table("Words and phrases over-represented here", [
    { key: "term", label: "Term" }, { key: "z", label: "Score (z)", num: true }, { key: "count", label: "Uses", num: true },
  ], d.lingo.slice(0, 15)) : h("p", {}, "No lingo found."));
  const items = (list) => (list || []).map((s) => (typeof s === "object" ? `${s.item} (lift ${num(s.lift)})` : s)).join(", ") || "–";
  root.append(h("h2", {}, "Sounds, effects and creators"), facts([
    ["Signature sounds", items(p.signature_sounds)], ["Signature effects", items(p.signature_effects)],
    ["Top creators", items(p.top_creators)], ["Rising creators", items(p.rising_creators)],
    ["Top hashtags", (c.top_hashtags || []).map((t) => "#" + t).join(" ") || "–"],
  ]));
  root.append(h("h2", {}, "Growth"));
  if (d.history.length > 1) {
    const hist = d.history.slice().sort((a, b) => a.window_index - b.window_index);
    root.append(chart(`Size of ${c.name} per tracked window`, [{
      type: "scatter", mode: "lines+markers", x: hist.map((x) => x.window), y: hist.map((x) => x.size), name: "members",
    }], { yaxis: { title: { text: "members" } }, xaxis: { title: { text: "window" } } }));
  } else {
    root.append(h("p", {}, "Not enough tracked windows for a growth chart yet."));
  }
  root.append(h("h2", {}, "Safety health"), await safety(c, p));
  root.append(h("h2", {}, "Bridges"), d.bridges.length ? table("Bridges to other communities", [
    { key: "other", label: "Other community", render: (r) => {
      const other = r.community_a === c.community_id ? [r.community_b, r.name_b] : [r.community_a, r.name_a];
      return link(routeHref("community", other[0]), other[1] || String(other[0]));
    } },
    { key: "lift", label: "Lift", num: true },
    { key: "hashtags", label: "Bridging hashtags", render: (r) => (r.hashtags || []).join(", ") || "–" },
  ], d.bridges) : h("p", {}, "No bridges found."));
}

async function safety(c, profile) {
  const score = profile.safety_health;
  const hasScore = score !== null && score !== undefined;
  const scoreRow = ["Health (share of comments not flagged)", hasScore ? `${num(score * 100)} %` : "–"];
  try {
    const s = await api("/safety/health/" + encodeURIComponent(c.community_id));
    return facts([
      scoreRow,
      ["Comments", num(s.summary.comments)],
      ["Flagged share", `${num((s.summary.share_flagged || 0) * 100)} %`],
      ["Reports per 1k views", num(s.summary.reports_per_1k_views)],
      ["Trend", s.summary.direction || "–"],
    ]);
  } catch (err) {
    if (hasScore) return facts([scoreRow]);
    return h("p", { class: "muted" }, `No safety figures for this community yet (${err.message}).`);
  }
}
