"""Campaign planning on the store: the minimum detectable lift (and the audience needed)
from a community's own history, before launch (:mod:`communitok.insights.plan`).

Every planned figure carries the history's size (``history.n_people``, ≥ k distinct
viewers, else the plan abstains) and an interval for the uncertainty of the history it
was estimated from (``*_low`` / ``*_high``, ``plan.confidence``): for ``randomised``,
the viewer-bootstrap interval of the relative variance
(:func:`~communitok.insights.plan.moments_interval`) carried through the (monotone) MDE,
power and audience formulas; for ``did``, a χ² interval on the placebo read-out's
variance with as many degrees of freedom as placebo read-outs (the between-community
part, estimated from that many donors, dominates its uncertainty)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import chi2

from ...core.errors import InputError
from ...insights.causal import Panel, causal_lift, default_pre_start
from ...insights.plan import (
    mde,
    mde_curve,
    moments_interval,
    power_at,
    required_viewers,
    se_log_lift,
    viewer_moments,
)
from ...safety.privacy import k_anonymous_aggregate
from ...store.base import Store
from ._common import EV_COLS, PRIMARY_VIDEOS, _community, _k

DESIGNS = ("randomised", "did")
#: level of the intervals around planned figures
CONFIDENCE = 0.95


@dataclass
class CampaignPlan:
    community: dict[str, Any]
    design: str
    k: int
    status: str
    #: why the plan abstains (empty when ``status`` is ok)
    reason: str = ""
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
    k = _k(store, k)
    if k < 1:
        raise InputError("must be >= 1", field="k")
    if design not in DESIGNS:
        raise InputError(f"design is one of {', '.join(DESIGNS)}", field="design")
    if not 1 <= days <= 90:
        raise InputError("must be in [1, 90]", field="days")
    if reach is not None and reach < 2:
        raise InputError("must be >= 2", field="reach")
    if lift is not None and not lift > 0:
        raise InputError("must be > 0", field="lift")
    if not 0 < treated_share < 1:
        raise InputError("must be in (0, 1)", field="treated_share")
    if not 0 < alpha < 0.5:
        raise InputError("must be in (0, 0.5)", field="alpha")
    if not 0.5 <= power < 1:
        raise InputError("must be in [0.5, 1)", field="power")
    row = _community(store, community_id)
    head = {"community_id": row["community_id"], "name": row["name"]}
    last = store.query(
        f"SELECT max(e.ts) AS t FROM events e JOIN ({PRIMARY_VIDEOS}) m "
        "ON m.video_id = e.video_id WHERE m.community_id = ?",
        [int(community_id)],
    )["t"][0].as_py()
    if last is None:
        return CampaignPlan(head, design, k, "abstain", "no viewing events on the community's "
                            "videos: no history to plan from")  # fmt: skip
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
        plan.reason = f"the community's recent audience has fewer than k={k} viewers"
        return plan
    try:
        mom = viewer_moments(per)
        band = moments_interval(per, confidence=CONFIDENCE, seed=0)
    except InputError as e:  # thin history: say so instead of failing the request
        plan.reason = str(e)
        return plan
    n = reach or mom.n_viewers
    plan.history = {"start": start.isoformat(), "end": end.isoformat(), "n_people": mom.n_viewers,
                    **mom.to_dict(), **band.to_dict()}  # fmt: skip
    nt, nc = max(1.0, n * treated_share), max(1.0, n * (1 - treated_share))
    if design == "randomised":
        if not (mom.rel_var > 0 and band.rel_var_low > 0 and band.rel_var_high > 0):
            # e.g. (nearly) every viewer with the same actions per impression, or too few
            # acting viewers for a resampled variance: nothing to scale a test by
            plan.reason = (
                f"no actions (likes, shares, comments, follows) in the last {days:g} days"
                if mom.rate <= 0
                else "too little variation in the community's recent actions per viewer "
                f"to plan from ({mom.n_viewers} viewers)"
            )
            return plan
        se = se_log_lift(mom.rel_var, nt, nc)
        se_band = (se_log_lift(band.rel_var_low, nt, nc), se_log_lift(band.rel_var_high, nt, nc))
        sizes = sorted({max(2, round(n * f)) for f in (0.25, 0.5, 1, 2, 4, 8)})
        plan.curve = mde_curve(mom.rel_var, sizes, treated_share=treated_share, alpha=alpha,
                               power=power).to_pylist()  # fmt: skip
    else:
        placebo = _placebo_se(store, community_id, start, end, days)
        if placebo is None:
            plan.reason = ("too little data for a placebo read-out over the last "
                           f"{days:g} days (and the comparison period before)")  # fmt: skip
            return plan
        se, dof = placebo
        # χ² interval of a variance estimated with `dof` degrees of freedom
        q = ((1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2)
        se_band = (se * (dof / chi2.ppf(q[1], dof)) ** 0.5, se * (dof / chi2.ppf(q[0], dof)) ** 0.5)
        plan.notes.append(f"did: standard error from a placebo read-out with {dof} placebo "
                          "communities; its interval is χ² with that many degrees of freedom")  # fmt: skip
    plan.status = "ok"

    def mdes(s: float) -> float:
        return mde(s, alpha=alpha, power=power)

    plan.plan = {"reach": n, "n_treated": nt if design == "randomised" else n,
                 "n_control": nc if design == "randomised" else None, "alpha": alpha,
                 "power": power, "confidence": CONFIDENCE, "se_log": se,
                 "se_log_low": se_band[0], "se_log_high": se_band[1], "mde": mdes(se),
                 "mde_low": mdes(se_band[0]), "mde_high": mdes(se_band[1])}  # fmt: skip
    if lift is not None:
        plan.plan["lift"] = lift
        plan.plan["power_at_lift"] = power_at(se, lift, alpha=alpha)
        # a larger standard error means less power
        plan.plan["power_at_lift_low"] = power_at(se_band[1], lift, alpha=alpha)
        plan.plan["power_at_lift_high"] = power_at(se_band[0], lift, alpha=alpha)
        if design == "randomised":
            need = [required_viewers(v, lift, treated_share=treated_share, alpha=alpha,
                                     power=power)
                    for v in (mom.rel_var, band.rel_var_low, band.rel_var_high)]  # fmt: skip
            plan.plan["viewers_needed"] = need[0]
            plan.plan["viewers_needed_low"], plan.plan["viewers_needed_high"] = need[1], need[2]
    return plan


def _placebo_se(
    store: Store, community_id: int, start: Any, end: Any, days: float
) -> tuple[float, int] | None:
    """Standard error of ``log(1 + lift)`` of a placebo read-out: the last *days* of the
    community as if a campaign had run (sampling and between-community shocks); and the
    number of placebo read-outs behind its shock part (at least 1)."""
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
    se = float((r.extra["se_log_sampling"] ** 2 + r.extra["se_log_shocks"] ** 2) ** 0.5)
    return se, max(1, int(r.extra.get("placebos", 1)))
