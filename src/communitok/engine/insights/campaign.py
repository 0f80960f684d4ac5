"""Campaign read-out on the store: find the campaign's videos, target community and
window, then read the lift out by the campaign's design:

* ``randomised`` — *arms* (``viewer_id, arm``) given: treated vs control viewers,
  viewer-bootstrap interval (:mod:`communitok.insights.campaign`);
* ``did`` / ``synthetic`` — no arms (the campaign exposed the community): the target
  community against comparable communities over the same days, difference-in-differences
  and synthetic control with two-way bootstrap intervals (:mod:`communitok.insights.causal`);
  both estimates are reported, the named one leads;
* ``exposed`` — viewers who saw a campaign video vs the community's other viewers
  (observational, biased by who gets exposed; kept for comparison).

Every figure passes the k-anonymity guard: each arm (or community × period cell) must
rest on ≥ k viewers, else the read-out abstains.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError, NotFound
from ...insights import CampaignReadout, campaign_lift, partner_campaign, per_viewer_outcomes
from ...insights.causal import METRIC, Panel, causal_lift, default_pre_start
from ...safety.privacy import PartnerAggregate
from ...store.base import Store
from ._common import EV_COLS, FLAGS, PRIMARY_VIDEOS, _community, _k, _need
from .audience import screen_engagement

DESIGNS = ("auto", "randomised", "did", "synthetic", "exposed")


@dataclass
class CampaignReport:
    campaign: dict[str, Any]
    readout: CampaignReadout
    arms: PartnerAggregate | None = None
    notes: list[str] = field(default_factory=list)
    design: str = "randomised"
    #: every estimator's read-out (one row each) for non-randomised designs
    estimates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "design": self.design,
                "readout": self.readout.to_dict(), "estimates": self.estimates,
                "arms": self.arms.to_pylist() if self.arms else [], "notes": self.notes}  # fmt: skip


def _abstained(r: CampaignReadout, reason: str) -> CampaignReadout:
    return replace(r, status="abstain", reason=reason, n_treated=0, n_control=0,
                   impressions_treated=0, impressions_control=0, rate_treated=None,
                   rate_control=None, lift=None, ci_low=None, ci_high=None, p_value=None)  # fmt: skip


def campaign_videos(
    store: Store, hashtags: list[str] | None = None, video_ids: list[str] | None = None
) -> pa.Table:
    """``video_id, created_at`` of the campaign: videos carrying any of *hashtags*, or
    the listed *video_ids*."""
    tags = [t.strip().lstrip("#").lower() for t in hashtags or [] if t.strip("# ")]
    ids = [v.strip() for v in video_ids or [] if v and v.strip()]
    if not tags and not ids:
        raise InputError("give the campaign's hashtags or video ids", field="hashtags")
    if ids:
        camp = store.query(
            f"SELECT video_id, created_at FROM videos WHERE video_id IN ({', '.join('?' * len(ids))})",
            ids,
        )
        missing = sorted(set(ids) - set(camp["video_id"].to_pylist()))
        if missing:
            raise NotFound(f"unknown campaign videos {missing[:5]}")
        return camp
    cond = " OR ".join("? IN (SELECT unnest(hashtags))" for _ in tags)  # portable SQL
    camp = store.query(f"SELECT video_id, created_at FROM videos WHERE {cond}", tags)
    if camp.num_rows == 0:
        raise NotFound(f"no videos carry the campaign hashtags {tags}")
    return camp


def _target(store: Store, camp: pa.Table) -> int:
    prim = store.query(PRIMARY_VIDEOS)
    home = dict(zip(prim["video_id"].to_pylist(), prim["community_id"].to_pylist(), strict=True))
    counts = Counter(home[v] for v in camp["video_id"].to_pylist() if v in home)
    if not counts:
        raise InputError("the campaign videos belong to no community; pass one", field="community")
    return int(counts.most_common(1)[0][0])


def campaign_readout(
    store: Store,
    hashtags: list[str] | None = None,
    *,
    video_ids: list[str] | None = None,
    arms: pa.Table | None = None,
    design: str = "auto",
    start: datetime | None = None,
    end: datetime | None = None,
    pre_start: datetime | None = None,
    community_id: int | None = None,
    donors: list[int] | None = None,
    k: int | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> CampaignReport:
    """Lift of the campaign on its target community (see the module doc for designs).

    The campaign's videos carry *hashtags* (or are *video_ids*); the target community is
    where most of them sit (or *community_id*); the window defaults to the campaign
    videos' upload span. ``design="auto"``: randomised when *arms* are given, else
    difference-in-differences (with synthetic control alongside). *donors*: the
    comparable communities (default: every other community with enough daily data);
    *pre_start*: start of the comparison period (default: a window-long span before,
    at least 7 days). *n_boot*: resamples of the randomised read-out (its permutations); did /
    synthetic run ``n_boot / 5`` per variance term (each re-runs the estimator, the
    synthetic control with its donor weights held fixed)."""
    if design not in DESIGNS:
        raise InputError(f"design is one of {', '.join(DESIGNS)}", field="design")
    if design == "randomised" and arms is None:
        raise InputError("a randomised read-out needs the arms (viewer_id, arm)", field="arms")
    if design in ("did", "synthetic", "exposed") and arms is not None:
        raise InputError(f"arms are for the randomised design, not {design}", field="design")
    design = ("randomised" if arms is not None else "did") if design == "auto" else design
    _need(store, "community_members")
    k = _k(store, k)
    camp = campaign_videos(store, hashtags, video_ids)
    if community_id is None:
        community_id = _target(store, camp)
    _community(store, community_id)
    start = start or pc.min(camp["created_at"]).as_py()
    end = end or pc.max(camp["created_at"]).as_py()
    for name, t in (("start", start), ("end", end), ("pre_start", pre_start)):
        if t is not None and t.tzinfo is None:
            raise InputError("times must be timezone-aware (UTC)", field=name)
    if end <= start:
        raise InputError("the window is empty (end <= start)", field="window")
    info = {"hashtags": [t.lstrip("#").lower() for t in hashtags or []],
            "video_ids": len(video_ids or []), "community_id": community_id,
            "start": start.isoformat(), "end": end.isoformat(), "videos": camp.num_rows}  # fmt: skip
    if design in ("did", "synthetic"):
        return _non_randomised(store, design, info, community_id, start, end, pre_start,
                               donors, k, n_boot, seed)  # fmt: skip
    events = store.query(
        f"SELECT {EV_COLS} FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ? AND e.ts >= ? AND e.ts < ?",
        [int(community_id), start, end],
    )
    if events.num_rows == 0:
        raise InputError("no events in the campaign window", field="window")
    notes: list[str] = []
    if arms is None:
        seen = set(
            events.filter(pc.is_in(events["video_id"], camp["video_id"]))["viewer_id"].to_pylist()
        )
        ids = sorted(set(events["viewer_id"].to_pylist()))
        arms = pa.table({"viewer_id": ids,
                         "arm": ["treated" if v in seen else "control" for v in ids]})  # fmt: skip
        notes.append("no randomised arms: exposed vs unexposed viewers (observational, "
                     "biased by who gets exposed)")  # fmt: skip
    outcomes = per_viewer_outcomes(events, arms)
    readout = campaign_lift(outcomes, n_boot=n_boot, seed=seed)
    agg = partner_campaign(outcomes, readout, k=k)
    if agg.table.num_rows < 2:
        notes.append(f"an arm has fewer than k={k} viewers: the read-out is withheld")
        readout = _abstained(readout, f"an arm has fewer than k={k} viewers")
    return CampaignReport(info, readout, agg, notes, design)


def _non_randomised(
    store: Store,
    design: str,
    info: dict[str, Any],
    community_id: int,
    start: datetime,
    end: datetime,
    pre_start: datetime | None,
    donors: list[int] | None,
    k: int,
    n_boot: int,
    seed: int,
) -> CampaignReport:
    first = store.query("SELECT min(ts) AS t FROM events")["t"][0].as_py()
    n = store.query(
        f"SELECT count(*) AS n FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ? AND e.ts >= ? AND e.ts < ?",
        [int(community_id), start, end],
    )["n"][0].as_py()
    if first is None or not n:
        raise InputError("no events in the campaign window", field="window")
    pre_start = pre_start or default_pre_start(start, end, first)
    if pre_start >= start:
        none = CampaignReadout("abstain", "no data before the campaign to compare with",
                               METRIC, 0, 0, 0, 0, None, None, None, None, None, 0.95, None,
                               "none")  # fmt: skip
        return CampaignReport(info, none, None, [none.reason], design)
    where = ""
    params: list[Any] = [pre_start, end]
    if donors is not None:
        ids = sorted({int(d) for d in donors} | {int(community_id)})
        where = f"AND m.community_id IN ({', '.join('?' * len(ids))})"
        params += ids
    events = store.query(
        f"SELECT CAST(m.community_id AS VARCHAR) AS unit, {EV_COLS} FROM events e "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        f"WHERE e.ts >= ? AND e.ts < ? {where}",
        params,
    )
    # bought likes and pod engagement move a community's rate by themselves: leave out
    # the videos of creators the fraud screen flagged
    flags = store.read(FLAGS) if store.has_result(FLAGS) else screen_engagement(store)
    bad = flags.filter(pc.or_(flags["fake_engagement"], flags["pod"]))["creator_id"]
    n_bad = n_bad_viewers = 0
    if len(bad):
        vids = store.query(
            f"SELECT video_id FROM videos WHERE creator_id IN ({', '.join('?' * len(bad))})",
            bad.to_pylist(),
        )["video_id"]
        drop = pc.is_in(events["video_id"], vids)
        n_bad = int(pc.sum(drop).as_py() or 0)
        n_bad_viewers = pc.count_distinct(events.filter(drop)["viewer_id"]).as_py() if n_bad else 0
        events = events.filter(pc.invert(drop))
    target = str(community_id)
    unit, ts = events["unit"], events["ts"]
    utc = pa.timestamp("us", "UTC")
    during = pc.and_(pc.greater_equal(ts, pa.scalar(start, utc)), pc.less(ts, pa.scalar(end, utc)))
    info = {**info, "pre_start": pre_start.isoformat()}
    panel = Panel(events, target, start=start, end=end, pre_start=pre_start)
    estimates = {
        est: causal_lift(panel, est, n_boot=max(100, n_boot // 5), seed=seed)
        for est in ("did", "synthetic")
    }
    readout = estimates[design]
    # the guard: each (target | comparison) × (before | during) cell rests on ≥ k viewers
    arm = pc.binary_join_element_wise(
        pc.if_else(pc.equal(unit, target), "target", "comparison"),
        pc.if_else(during, "during", "before"), "/",
    )  # fmt: skip
    rows = pa.table({"viewer_id": events["viewer_id"], "arm": arm, **{
        c: events[c] for c in ("liked", "shared", "commented", "followed")}})  # fmt: skip
    acts = None
    for c in ("liked", "shared", "commented", "followed"):
        x = pc.cast(pc.fill_null(rows[c], False), pa.float64())
        acts = x if acts is None else pc.add(acts, x)
    per = pa.table({"viewer_id": rows["viewer_id"], "arm": rows["arm"], "actions": acts,
                    "one": pa.array([1] * rows.num_rows, pa.int64())})  # fmt: skip
    per = per.group_by(["viewer_id", "arm"]).aggregate([("one", "sum"), ("actions", "sum")])
    per = per.rename_columns(["viewer_id", "arm", "impressions", "actions"])
    agg = partner_campaign(per, readout, k=k)
    notes = [f"non-randomised campaign: the target community vs comparable communities "
             f"({design}); read as causal only if the target would have moved like them"]  # fmt: skip
    if n_bad and n_bad_viewers >= k:
        notes.append(f"{n_bad} impressions ({n_bad_viewers} viewers) on videos of {len(bad)} "
                     "creators flagged for fake engagement or pods left out")  # fmt: skip
    elif n_bad:  # counts resting on fewer than k viewers are not shown
        notes.append(f"impressions of fewer than k={k} viewers on videos of creators flagged "
                     "for fake engagement or pods left out")  # fmt: skip
    rows_out = []
    for est, r in estimates.items():
        rows_out.append({"estimator": est, "status": r.status, "reason": r.reason,
                         "lift": r.lift, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "p_value": r.p_value, "n_target_viewers": r.n_treated,
                         "n_comparison_viewers": r.n_control, "method": r.method})  # fmt: skip
    if agg.table.num_rows < 4:
        reason = f"a community × period cell has fewer than k={k} viewers"
        notes.append(reason + ": the read-out is withheld")
        readout = _abstained(readout, reason)
        rows_out = []
    return CampaignReport(info, readout, agg, notes, design, rows_out)
