"""Campaign read-out: lift of treated over control with a bootstrap confidence interval.

Outcome: actions (likes, shares, comments, follows) per impression on the campaign's
target videos during the campaign window, a ratio of sums per arm. The estimate is the
relative lift ``rate_treated / rate_control − 1``; its interval comes from a viewer-level
(cluster) bootstrap: viewers are resampled within each arm, so the correlation of one
viewer's impressions is respected (Efron & Tibshirani, "An Introduction to the
Bootstrap", 1993, ch. 13, percentile interval). It abstains (``status`` says why) when an arm has too few viewers.

Why the percentile interval (checked for issue 8, where seeds 1000–1099 gave 7 / 100 A/A
false positives): on 300 development seeds (5000–5299, never reported) it was compared
with a normal interval on ``log(1 + lift)`` (bootstrap or delta-method standard error),
the studentised bootstrap (bootstrap-t with the viewer-level delta-method standard error
per replicate, Hall 1992) and BCa (Efron 1987; jackknife-free acceleration from the
viewers' influence values). All five gave A/A false positives 0.043–0.053 and
planted-lift coverage 0.940–0.950 with the same widths (within 0.5 %); the A/A estimate showed
no bias (mean ``log(1 + lift)`` −0.0003, spread 0.076 against a mean standard error of
0.072). The 0.07 is within binomial noise of 0.05 (P(≥ 7 of 100) ≈ 0.23), so the
method stays. Known limit: with very heavy-tailed viewers (gamma(0.7) propensities,
~450 viewers an arm; ``tests/insights/test_campaign.py``) every one of these intervals
misses 5.5–8 % instead of 5 % (400 repeats).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

ARMS = ("treated", "control")


@dataclass(frozen=True)
class CampaignReadout:
    status: str  # ok | abstain
    reason: str
    metric: str
    n_treated: int
    n_control: int
    impressions_treated: int
    impressions_control: int
    rate_treated: float | None
    rate_control: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    p_value: float | None
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def significant(self) -> bool:
        return self.ci_low is not None and (self.ci_low > 0 or (self.ci_high or 0) < 0)


def per_viewer_outcomes(events: pa.Table, arms: pa.Table) -> pa.Table:
    """``viewer_id, arm, impressions, actions`` from target-video *events* and *arms*
    (``viewer_id, arm`` with arm ``treated`` | ``control``). Viewers with no impression
    in the window are dropped (they carry no information on a per-impression rate)."""
    for c in ("viewer_id", "arm"):
        if c not in arms.column_names:
            raise InputError(f"arms need a {c!r} column", field="arms")
    bad = set(arms["arm"].to_pylist()) - set(ARMS)
    if bad:
        raise InputError(f"unknown arms {sorted(bad)}; use treated / control", field="arms")
    if events.num_rows == 0:
        return pa.table(
            {"viewer_id": pa.array([], pa.string()), "arm": pa.array([], pa.string()),
             "impressions": pa.array([], pa.int64()), "actions": pa.array([], pa.float64())}
        )  # fmt: skip
    acts = None
    for c in ("liked", "shared", "commented", "followed"):
        x = pc.cast(pc.fill_null(events[c], False), pa.float64())
        acts = x if acts is None else pc.add(acts, x)
    t = pa.table(
        {
            "viewer_id": events["viewer_id"],
            "actions": acts,
            "one": pa.array(np.ones(events.num_rows, np.int64)),
        }
    )
    g = t.group_by("viewer_id").aggregate([("one", "sum"), ("actions", "sum")])
    g = g.rename_columns(["viewer_id", "impressions", "actions"])
    a = arms.select(["viewer_id", "arm"]).group_by(["viewer_id", "arm"]).aggregate([])
    return (
        g.join(a, "viewer_id", join_type="inner")
        .select(["viewer_id", "arm", "impressions", "actions"])
        .sort_by("viewer_id")
    )


def campaign_lift(
    outcomes: pa.Table,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    min_viewers: int = 30,
    seed: int = 0,
) -> CampaignReadout:
    """Relative lift of treated over control from :func:`per_viewer_outcomes` rows."""
    if not 0.5 < confidence < 1:
        raise InputError("must be in (0.5, 1)", field="confidence")
    d = outcomes.to_pydict()
    arm = np.array(d["arm"], dtype=object)
    imp = np.array(d["impressions"], float)
    act = np.array(d["actions"], float)
    t, c = arm == "treated", arm == "control"
    nt, nc = int(t.sum()), int(c.sum())
    base: dict[str, Any] = dict(
        metric="actions (like, share, comment, follow) per impression",
        n_treated=nt,
        n_control=nc,
        impressions_treated=int(imp[t].sum()),
        impressions_control=int(imp[c].sum()),
        confidence=confidence,
    )
    if min(nt, nc) < min_viewers:
        return CampaignReadout(
            "abstain", f"too few viewers with impressions (treated {nt}, control {nc}; "
            f"need {min_viewers} per arm)", rate_treated=None, rate_control=None, lift=None,
            ci_low=None, ci_high=None, p_value=None, method="none", **base,
        )  # fmt: skip
    if act[c].sum() == 0:
        return CampaignReadout(
            "abstain", "the control arm has no actions: the lift is undefined",
            rate_treated=None, rate_control=None, lift=None, ci_low=None, ci_high=None,
            p_value=None, method="none", **base,
        )  # fmt: skip
    adj = act
    method = "ratio of means, viewer (cluster) bootstrap, percentile interval"
    rt = adj[t].sum() / imp[t].sum()
    rc = adj[c].sum() / imp[c].sum()
    lift = rt / rc - 1
    rng = np.random.default_rng(seed)
    ti, ci_ = np.flatnonzero(t), np.flatnonzero(c)
    bt = rng.integers(0, nt, (n_boot, nt))
    bc = rng.integers(0, nc, (n_boot, nc))
    brt = adj[ti][bt].sum(1) / imp[ti][bt].sum(1)
    brc = adj[ci_][bc].sum(1) / imp[ci_][bc].sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bl = brt / brc - 1
    bl = bl[np.isfinite(bl)]
    a = (1 - confidence) / 2
    lo, hi = np.quantile(bl, [a, 1 - a])
    p = float(min(1.0, 2 * min((bl <= 0).mean(), (bl >= 0).mean()) + 1 / len(bl)))
    return CampaignReadout(
        "ok", "", rate_treated=float(act[t].sum() / imp[t].sum()),
        rate_control=float(act[c].sum() / imp[c].sum()), lift=float(lift), ci_low=float(lo),
        ci_high=float(hi), p_value=p, method=method,
        extra={"bootstrap": n_boot, "seed": seed}, **base,
    )  # fmt: skip
