// Partner flow: brief → matching communities → listening report → content brief → ambassadors
// → test plan (power / detectable lift) → campaign read-out → feed experiment read-out, all
// from /v1/partner (privacy-protected aggregates: every row rests on at
// least k people; withheld rows are counted, never shown). State lives in the URL:
// #/partner?brief=…&hashtags=…&regions=…&exclude=…&community=<id>
import { api, health } from "../api.js";
import { badge, errorNotice, h, notice, num, table } from "../dom.js";

const FEATURE = "partner insights";
const FIELDS = [
  ["hashtags", "Seed hashtags (comma-separated)", "booktok, cleantok"],
  ["regions", "Target regions (comma-separated)", "US, GB"],
  ["exclude", "Exclusions (comma-separated)", "politics"],
];

const list = (s) => (s || "").split(",").map((x) => x.trim()).filter(Boolean);
const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);
// an interval "lo … hi" in *fmt*, or "–" when there is none
const span = (lo, hi, fmt = num) => (lo === null || lo === undefined ? "–" : `${fmt(lo)} … ${fmt(hi)}`);
const signed = (v) => (v === null || v === undefined ? "–" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} %`);
const why = (r) => [["hashtags", r.matched_hashtags], ["lingo", r.matched_lingo], ["captions", r.matched_captions]]
  .filter(([, v]) => v).map(([k, v]) => `${k}: ${v}`).join(" · ") || "size, growth and engagement only";

function href(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  return "#/partner?" + q;
}

function briefForm(params) {
  const text = h("textarea", { id: "p-brief", name: "brief", rows: "3", cols: "60", maxlength: "10000", required: true,
    placeholder: "Home cooking and easy recipes for busy parents" });
  text.value = params.get("brief") || "";
  const inputs = FIELDS.map(([name, label, ph]) => {
    const el = h("input", { id: "p-" + name, name, maxlength: "500", placeholder: ph, value: params.get(name) || "" });
    return [name, h("label", { for: "p-" + name }, label, el), el];
  });
  return h("form", {
    class: "filters", id: "brief-form", onsubmit: (ev) => {
      ev.preventDefault();
      const next = { brief: text.value.trim() };
      for (const [name, , el] of inputs) next[name] = el.value.trim();
      window.location.hash = href(next);
    },
  }, h("label", { for: "p-brief" }, "Brand brief", text), inputs.map(([, label]) => label),
  h("button", { type: "submit" }, "Find communities"));
}

export async function render(root, _arg, params) {
  root.append(h("h1", {}, "Partner flow"),
    h("p", { class: "muted" }, "Brief → matching communities → content brief → ambassadors → campaign read-out. " +
      "Every figure rests on at least k people; smaller groups are withheld."),
    briefForm(params));
  const features = await health().then((x) => x.features || {}).catch(() => ({}));
  if (features.partner === false) {
    root.append(h("div", { class: "notice unavailable", role: "status" },
      h("strong", {}, "Not available yet. "), "This server has no partner insights API yet."));
    return;
  }
  const brief = params.get("brief") || "";
  const community = params.get("community");
  if (!brief && !community) {
    root.append(h("p", {}, "Describe the audience the brand wants to reach to find its communities."));
    await safety(root);
    return;
  }
  if (brief) {
    const ok = await matches(root, params);
    if (!ok) return;
  }
  if (community !== null && community !== "") {
    await plan(root, community, params);
  } else {
    root.append(h("p", {}, "Pick a community above to get its content brief, ambassadors and a campaign read-out."));
  }
}

async function matches(root, params) {
  root.append(h("h2", {}, "Matching communities"));
  let rep;
  try {
    rep = await api("/partner/match", { method: "POST", body: {
      brief: params.get("brief"), hashtags: list(params.get("hashtags")),
      regions: list(params.get("regions")), exclude: list(params.get("exclude")), top: 10,
    } });
  } catch (err) {
    root.append(errorNotice(err, FEATURE));
    return false;
  }
  root.append(h("p", { class: "muted", id: "match-summary" },
    `${rep.matches.length} communities shown (k = ${rep.k}); ${rep.suppressed} matching communities withheld below the privacy threshold.`));
  if (!rep.matches.length) {
    root.append(notice("No community that matches the brief is large enough to be shown."));
    return true;
  }
  const base = Object.fromEntries(params.entries());
  root.append(table("Communities that fit the brief, best first", [
    { key: "rank", label: "Rank", num: true },
    { key: "name", label: "Community", render: (r) => h("a", { href: href({ ...base, community: r.community_id }) }, r.name || `community ${r.community_id}`) },
    { key: "score", label: "Score", num: true },
    { key: "n_people", label: "Viewers", num: true },
    { key: "why", label: "Why it matched", render: why },
  ], rep.matches));
  return true;
}

async function plan(root, community, params) {
  const path = "/partner/communities/" + encodeURIComponent(community);
  const [ls, cb, amb] = await Promise.allSettled([api(path + "/listen"), api(path + "/content-brief"),
    api(path + "/ambassadors", { query: { top: 10 } })]);
  root.append(h("h2", { id: "listen" }, "Listening report"));
  if (ls.status === "rejected") {
    root.append(errorNotice(ls.reason, FEATURE));
  } else {
    listening(root, ls.value);
  }
  root.append(h("h2", { id: "content-brief" }, "Content brief"));
  if (cb.status === "rejected") {
    root.append(errorNotice(cb.reason, FEATURE));
  } else {
    contentBrief(root, cb.value);
  }
  root.append(h("h2", { id: "ambassadors" }, "Ambassadors"));
  if (amb.status === "rejected") {
    root.append(errorNotice(amb.reason, FEATURE));
  } else {
    ambassadors(root, amb.value);
  }
  root.append(h("h2", { id: "plan" }, "Plan a test before launch"));
  root.append(planForm(community));
  root.append(h("h2", { id: "readout" }, "Campaign read-out"));
  const tags = cb.status === "fulfilled" ? cb.value.use_hashtags.slice(0, 2).map((t) => t.hashtag).join(", ") : "";
  root.append(readoutForm(community, params.get("campaign") || tags));
  root.append(h("h2", { id: "experiment" }, "Feed experiment read-out"));
  root.append(experimentForm(params.get("experiment") || ""));
}

// listening report (GET /v1/partner/communities/{id}/listen): what the community posts, says
// and shares, what is rising, and where its audience overlaps other communities
function listening(root, r) {
  if (r.status !== "ok") {
    root.append(notice(`Abstains: ${r.notes.join(" ") || "the audience is under the privacy threshold"}`));
    return;
  }
  root.append(h("p", { class: "muted", id: "listen-summary" },
    `${num(r.n_people)} viewers in the audience (k = ${r.k}); recent = the last ${num(r.window.recent_days)} days.`));
  const items = (rows, what) => table(what, [
    { key: "item", label: "Item", render: (r) => (r.kind === "hashtag" ? "#" + r.item : r.item) },
    { key: "n_people", label: "Viewers", num: true },
    { key: "videos", label: "Videos", num: true },
    { key: "share", label: "Share of videos", render: (r) => `${pct(r.share)} (${span(r.share_low, r.share_high, pct)})` },
    { key: "growth", label: "Growth recent ÷ before", render: (r) => (r.growth === null ? "–" : `${num(r.growth)}×`) },
  ], rows.slice(0, 10));
  const suppressed = (n) => (n ? ` ${n} withheld below the privacy threshold.` : "");
  for (const [key, what] of [["top_hashtags", "Top hashtags"], ["rising_hashtags", "Rising hashtags"],
    ["sounds", "Signature sounds"], ["effects", "Effects"]]) {
    if (r[key].length) root.append(items(r[key], what));
    else root.append(notice(`${what}: none to show.${suppressed(r[key + "_suppressed"])}`));
  }
  if (r.lingo.length) {
    root.append(table("Lingo and inside jokes", [
      { key: "term", label: "Word" },
      { key: "n_people", label: "Commenters", num: true },
      { key: "example", label: "Example (moderated comments only)" },
    ], r.lingo.slice(0, 10)));
  }
  if (r.trends.length) {
    root.append(table("Current trends", [
      { key: "item", label: "Trend", render: (t) => t.item || t.name || t.trend_id },
      { key: "n_people", label: "Viewers", num: true },
    ], r.trends.slice(0, 10)));
  }
  const pairs = (rows, what) => table(what, [
    { key: "name_b", label: "Community", render: (p) => p.name_b || `community ${p.b}` },
    { key: "shared", label: "Shared viewers", num: true },
    { key: "jaccard", label: "Jaccard", render: (p) => `${num(p.jaccard)} (${num(p.jaccard_low)} … ${num(p.jaccard_high)})` },
    { key: "lift", label: "Lift over chance", render: (p) => `${num(p.lift)}× (${num(p.lift_low)} … ${num(p.lift_high)})` },
  ], rows.slice(0, 10));
  if (r.bridges.length) root.append(pairs(r.bridges, "Bridges to other communities"));
  if (r.overlap.length) root.append(pairs(r.overlap, "Audience overlap with the brand's other targets"));
  for (const n of r.notes) root.append(notice(n));
}

// feed experiment read-out (GET /v1/partner/experiments/{experiment}/readout): each variant
// against control, raw and CUPED-adjusted, every figure with its viewers and a 95 % interval
function experimentForm(name) {
  const exp = h("input", { id: "x-experiment", name: "experiment", maxlength: "100", required: true, value: name,
    placeholder: "feed-ranker-v2" });
  const control = h("input", { id: "x-control", name: "control", maxlength: "100", required: true, value: "control" });
  const metric = h("select", { id: "x-metric", name: "metric" },
    ...[["liked", "Likes"], ["shared", "Shares"], ["commented", "Comments"], ["followed", "Follows"],
      ["completed", "Completions"], ["watch_time_s", "Watch time (s)"]].map(([v, l]) => h("option", { value: v }, l)));
  return actionForm("experiment", "Reading out…", "Read out experiment", [
    h("label", { for: "x-experiment" }, "Experiment", exp),
    h("label", { for: "x-control" }, "Control variant", control),
    h("label", { for: "x-metric" }, "Outcome per exposure", metric),
  ], async () => experiment(await api("/partner/experiments/" + encodeURIComponent(exp.value.trim()) + "/readout",
    { query: { control: control.value.trim(), metric: metric.value } })));
}

function experiment(r) {
  if (r.status !== "ok") return [notice(`Abstains: ${r.reason}`), ...r.notes.map((n) => notice(n))];
  const parts = [h("p", { class: "muted" },
    `${r.variants.length} variants shown (k = ${r.k}); ${r.suppressed} withheld below the privacy threshold. ` +
    `CUPED adjusts each viewer by their ${num(r.pre_days)} days before the experiment.`)];
  parts.push(table(`Variants against ${r.control}: ${r.metric} per exposure`, [
    { key: "variant", label: "Variant" },
    { key: "n_people", label: "Viewers", num: true },
    { key: "mean", label: "Mean (95 %)", render: (v) => `${num(v.mean)} (${span(v.mean_low, v.mean_high)})` },
    { key: "diff", label: "Difference (95 %)", render: (v) => (v.diff === null || v.diff === undefined ? "control" : `${num(v.diff)} (${span(v.ci_low, v.ci_high)})`) },
    { key: "diff_cuped", label: "CUPED difference (95 %)", render: (v) => (v.diff_cuped === null || v.diff_cuped === undefined ? "–" : `${num(v.diff_cuped)} (${span(v.ci_low_cuped, v.ci_high_cuped)})`) },
  ], r.variants));
  for (const n of r.notes) parts.push(notice(n));
  return parts;
}

function contentBrief(root, b) {
  const c = b.community || {};
  root.append(h("p", {}, h("strong", { id: "brief-community" }, c.name || `community ${c.community_id}`),
    ` · ${num(c.views)} views · ${num(c.videos)} videos (k = ${b.k})`));
  root.append(table("Hashtags to use", [
    { key: "hashtag", label: "Hashtag", render: (r) => "#" + r.hashtag },
    { key: "weight", label: "Weight", num: true },
    { key: "reason", label: "Why" },
  ], b.use_hashtags));
  if (b.avoid_hashtags.length) {
    root.append(table("Hashtags to avoid", [
      { key: "hashtag", label: "Hashtag", render: (r) => "#" + r.hashtag },
      { key: "reason", label: "Why" },
    ], b.avoid_hashtags));
  }
  const items = (rows, what) => table(what, [
    { key: "item", label: what.replace(/s in fashion$/, "") },
    { key: "lift", label: "Lift", num: true },
    { key: "videos", label: "Videos", num: true },
  ], rows.slice(0, 8));
  if (b.sounds.length) root.append(items(b.sounds, "Sounds in fashion"));
  if (b.effects.length) root.append(items(b.effects, "Effects in fashion"));
  if (b.formats.length) {
    root.append(table("Co-creation formats", [
      { key: "kind", label: "Format" },
      { key: "links", label: "Links", num: true },
      { key: "per_video", label: "Per video", num: true },
    ], b.formats));
  }
  const hours = b.posting_windows.slice().sort((x, y) => y.impressions - x.impressions).slice(0, 6);
  root.append(hours.length
    ? table("Best posting hours (UTC), busiest first", [
      { key: "hour", label: "Hour (UTC)", render: (r) => `${String(r.hour).padStart(2, "0")}:00` },
      { key: "impressions", label: "Impressions", num: true },
      { key: "n_people", label: "Viewers", num: true },
      { key: "actions_per_impression", label: "Actions / impression", num: true },
    ], hours)
    : notice("No posting hour reaches the privacy threshold."));
  if (b.lingo.length) {
    root.append(table("Lingo with example usage", [
      { key: "term", label: "Word" },
      { key: "n_people", label: "Commenters", num: true },
      { key: "example", label: "Example" },
    ], b.lingo));
  }
  for (const n of b.notes) root.append(notice(n));
}

function ambassadors(root, a) {
  root.append(h("p", { class: "muted" }, `${a.items.length} creators shown (k = ${a.k}); ${a.suppressed} withheld below the privacy threshold.`));
  if (!a.items.length) return;
  root.append(table("Ambassadors ranked by fit", [
    { key: "rank", label: "Rank", num: true },
    { key: "creator_id", label: "Creator" },
    { key: "fit", label: "Fit", num: true },
    { key: "n_people", label: "Viewers", num: true },
    { key: "audience_share", label: "Audience in community", render: (r) => pct(r.audience_share) },
    { key: "engagement_per_view", label: "Engagement / view", num: true },
    { key: "cocreation", label: "Co-creation / video", num: true },
    { key: "flags", label: "Flags", render: (r) => (r.flagged ? badge(r.flags || "flagged", "bad") : badge("none", "ok")) },
  ], a.items));
}

// power / minimum detectable lift before launch (POST /v1/partner/campaigns/plan)
function planForm(community) {
  const design = h("select", { id: "pl-design", name: "design" },
    h("option", { value: "randomised" }, "Randomised holdout (part of the audience held out)"),
    h("option", { value: "did" }, "Whole community, read out against similar ones"));
  const days = h("input", { id: "pl-days", name: "days", type: "number", min: "1", max: "90", step: "1", value: "7", required: true });
  const lift = h("input", { id: "pl-lift", name: "lift", type: "number", min: "1", max: "500", step: "1", value: "10" });
  return actionForm("plan", "Planning…", "Plan", [
    h("label", { for: "pl-design" }, "Design", design),
    h("label", { for: "pl-days" }, "Campaign length (days)", days),
    h("label", { for: "pl-lift" }, "Lift you hope for (%, optional)", lift),
  ], async () => {
    const body = { community_id: Number(community), design: design.value, days: Number(days.value) };
    if (lift.value) body.lift = Number(lift.value) / 100;
    return planResult(await api("/partner/campaigns/plan", { method: "POST", body }));
  });
}

// a form whose submit calls the API and shows the answer (or the error) below it, in
// #<name>-result; the form is #<name>-form
function actionForm(name, busy, button, fields, run) {
  const out = h("div", { id: name + "-result", role: "status", "aria-live": "polite" });
  const form = h("form", {
    class: "filters", id: name + "-form", onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren(h("p", { class: "muted" }, busy));
      try {
        out.replaceChildren(...(await run()));
      } catch (err) {
        out.replaceChildren(errorNotice(err, FEATURE));
      }
    },
  }, ...fields, h("button", { type: "submit" }, button));
  return h("div", {}, form, out);
}

function planResult(p) {
  if (p.status !== "ok") return [notice(`Abstains: ${p.reason}`)];
  const pl = p.plan;
  const range = (lo, mid, hi, f) => `${f(mid)} (${Math.round(pl.confidence * 100)} % range ${f(lo)} … ${f(hi)})`;
  const parts = [h("p", { class: "plan-mde" }, h("strong", {}, `Smallest detectable lift ${range(pl.mde_low, pl.mde, pl.mde_high, signed)}`),
    ` with ${num(pl.reach)} viewers (${p.design === "randomised" ? `${num(pl.n_treated)} treated, ${num(pl.n_control)} held out` : "whole community"}),` +
    ` ${Math.round(pl.power * 100)} % power at α = ${pl.alpha}.`)];
  if (pl.lift !== undefined) {
    parts.push(h("p", {}, `Power to detect ${signed(pl.lift)}: ${range(pl.power_at_lift_low, pl.power_at_lift, pl.power_at_lift_high, pct)}` +
      (pl.viewers_needed ? `; viewers needed for ${Math.round(pl.power * 100)} % power: ${range(pl.viewers_needed_low, pl.viewers_needed, pl.viewers_needed_high, num)}.` : ".")));
  }
  if (p.curve && p.curve.length) {
    parts.push(table("Detectable lift by audience size", [
      { key: "n_viewers", label: "Viewers", num: true },
      { key: "mde", label: "Smallest detectable lift", render: (r) => signed(r.mde) },
    ], p.curve));
  }
  parts.push(h("p", { class: "muted" }, `From ${num(p.history.n_people)} viewers over ${p.history.start.slice(0, 10)} – ${p.history.end.slice(0, 10)} (k = ${p.k}).`));
  for (const n of p.notes) parts.push(notice(n));
  return parts;
}

function readoutForm(community, tags) {
  const tagsIn = h("input", { id: "r-hashtags", name: "hashtags", maxlength: "500", required: true, value: tags });
  const startIn = h("input", { id: "r-start", name: "start", type: "datetime-local" });
  const endIn = h("input", { id: "r-end", name: "end", type: "datetime-local" });
  const iso = (v) => (v ? new Date(v + "Z").toISOString() : undefined);
  return actionForm("readout", "Reading out…", "Read out campaign", [
    h("label", { for: "r-hashtags" }, "Campaign hashtags (comma-separated)", tagsIn),
    h("label", { for: "r-start" }, "Window start (UTC, optional)", startIn),
    h("label", { for: "r-end" }, "Window end (UTC, optional)", endIn),
  ], async () => readout(await api("/partner/campaigns/readout", { method: "POST", body: {
    hashtags: list(tagsIn.value), community_id: Number(community), start: iso(startIn.value), end: iso(endIn.value),
  } })));
}

function readout(r) {
  const ro = r.readout;
  const head = ro.status === "ok"
    ? h("p", { class: "readout-lift" }, h("strong", {}, `Lift ${signed(ro.lift)}`),
      ` (${Math.round(ro.confidence * 100)} % interval ${signed(ro.ci_low)} … ${signed(ro.ci_high)}; p ≈ ${num(ro.p_value)}) · ${ro.metric}`)
    : notice(`Abstains: ${ro.reason}`);
  const parts = [head, h("p", { class: "muted" },
    `${r.campaign.videos} campaign videos in community ${r.campaign.community_id}, ${r.campaign.start.slice(0, 10)} – ${r.campaign.end.slice(0, 10)}.`)];
  if (r.arms.length) {
    parts.push(table("Campaign arms", [
      { key: "arm", label: "Arm" },
      { key: "n_people", label: "Viewers", num: true },
      { key: "impressions", label: "Impressions", num: true },
      { key: "actions", label: "Actions", num: true },
    ], r.arms));
  }
  for (const n of r.notes) parts.push(notice(n));
  return parts;
}

// what partners can see about safety: community figures above the privacy threshold
async function safety(root) {
  let agg;
  try {
    agg = await api("/safety/partner-health");
  } catch {
    return; // no safety API on this server
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
