"""Campaign planning on the store: the minimum detectable lift (and the audience needed)
from a community's own history, before launch (:mod:`communitok.insights.plan`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError
from ...insights.causal import Panel, causal_lift, default_pre_start
from ...insights.plan import mde, mde_curve, power_at, required_viewers, se_log_lift, viewer_moments
from ...safety.privacy import k_anonymous_aggregate
from ...store.base import Store
from ._common import EV_COLS, PRIMARY_VIDEOS, _community, _k

DESIGNS = ("randomised", "did")


@dataclass
class CampaignPlan:
    community: dict[str, Any]
    design: str
    k: int
    status: str
    history: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    curve: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan_campaign(
    store: Store,
    community_id: int,
    *,
    days: float = 7.0,
    design: str = "randomised",
    treated_share: float = 0.5,
    reach: int | None = None,
    lift: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    k: int | None = None,
) -> CampaignPlan:
    """Minimum detectable lift of a *days*-long campaign on the community's actions per
    impression. ``randomised``: *treated_share* of *reach* viewers (default: the
    community's audience over the last *days*) treated, the rest held out; ``did``: the
    whole community exposed, read out against comparable communities (the standard
    error of a placebo read-out over the last *days* stands in). With *lift*, also the
    power and the audience a randomised test needs for it."""
    row = _community(store, community_id)
    k = _k(store, k)
    if design not in DESIGNS:
        raise InputError(f"design is one of {', '.join(DESIGNS)}", field="design")
    if not 1 <= days <= 90:
        raise InputError("must be in [1, 90]", field="days")
    if reach is not None and reach < 2:
        raise InputError("must be >= 2", field="reach")
    if lift is not None and not lift > 0:
        raise InputError("must be > 0", field="lift")
    head = {"community_id": row["community_id"], "name": row["name"]}
    last = store.query(
        f"SELECT max(e.ts) AS t FROM events e JOIN ({PRIMARY_VIDEOS}) m "
        "ON m.video_id = e.video_id WHERE m.community_id = ?",
        [int(community_id)],
    )["t"][0].as_py()
    if last is None:
        raise InputError("no history for this community", field="community")
    end = last + timedelta(microseconds=1)
    start = end - timedelta(days=days)
    ev = store.query(
        f"SELECT {EV_COLS} FROM events e JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id "
        "WHERE m.community_id = ? AND e.ts >= ? AND e.ts < ?",
        [int(community_id), start, end],
    )
    acts = None
    for c in ("liked", "shared", "commented", "followed"):
        x = pc.cast(pc.fill_null(ev[c], False), pa.float64())
        acts = x if acts is None else pc.add(acts, x)
    per = pa.table({"viewer_id": ev["viewer_id"], "actions": acts,
                    "impressions": pa.array([1] * ev.num_rows, pa.int64())})  # fmt: skip
    per = per.group_by("viewer_id").aggregate([("impressions", "sum"), ("actions", "sum")])
    per = per.rename_columns(["viewer_id", "impressions", "actions"])
    size = k_anonymous_aggregate(per.append_column("g", pa.array([0] * per.num_rows)),
                                 by=["g"], person="viewer_id", metrics={}, k=k)  # fmt: skip
    plan = CampaignPlan(head, design, k, "abstain")
    if size.table.num_rows == 0:
        plan.notes.append(f"the community's recent audience has fewer than k={k} viewers")
        return plan
    mom = viewer_moments(per)
    n = reach or mom.n_viewers
    plan.history = {"start": start.isoformat(), "end": end.isoformat(), "n_people": mom.n_viewers,
                    **mom.to_dict()}  # fmt: skip
    nt, nc = max(1.0, n * treated_share), max(1.0, n * (1 - treated_share))
    if design == "randomised":
        if not 0 < treated_share < 1:
            raise InputError("must be in (0, 1)", field="treated_share")
        se = se_log_lift(mom.rel_var, nt, nc)
        sizes = sorted({max(2, round(n * f)) for f in (0.25, 0.5, 1, 2, 4, 8)})
        plan.curve = mde_curve(mom.rel_var, sizes, treated_share=treated_share, alpha=alpha,
                               power=power).to_pylist()  # fmt: skip
    else:
        placebo = _placebo_se(store, community_id, start, end, days)
        if placebo is None:
            plan.notes.append("too little data for a placebo read-out over the last "
                              f"{days:g} days (and the comparison period before)")  # fmt: skip
            return plan
        se = placebo
    plan.status = "ok"
    plan.plan = {"reach": n, "n_treated": nt if design == "randomised" else n,
                 "n_control": nc if design == "randomised" else None, "alpha": alpha,
                 "power": power, "se_log": se, "mde": mde(se, alpha=alpha, power=power)}  # fmt: skip
    if lift is not None:
        plan.plan["lift"] = lift
        plan.plan["power_at_lift"] = power_at(se, lift, alpha=alpha)
        if design == "randomised":
            plan.plan["viewers_needed"] = required_viewers(
                mom.rel_var, lift, treated_share=treated_share, alpha=alpha, power=power
            )
    return plan


def _placebo_se(store: Store, community_id: int, start: Any, end: Any, days: float) -> float | None:
    """Standard error of ``log(1 + lift)`` of a placebo read-out: the last *days* of the
    community as if a campaign had run (sampling and between-community shocks)."""
    first = store.query("SELECT min(ts) AS t FROM events")["t"][0].as_py()
    pre = default_pre_start(start, end, first)
    if pre >= start:
        return None
    events = store.query(
        f"SELECT CAST(m.community_id AS VARCHAR) AS unit, {EV_COLS} FROM events e "
        f"JOIN ({PRIMARY_VIDEOS}) m ON m.video_id = e.video_id WHERE e.ts >= ? AND e.ts < ?",
        [pre, end],
    )
    try:
        panel = Panel(events, str(community_id), start=start, end=end, pre_start=pre)
    except InputError:
        return None
    r = causal_lift(panel, "did", n_boot=200)
    if r.status != "ok":
        return None
    return float((r.extra["se_log_sampling"] ** 2 + r.extra["se_log_shocks"] ** 2) ** 0.5)
