"""Feed experiment read-outs on the store: per-variant differences to control, raw and
CUPED-adjusted (:mod:`communitok.insights.cuped`), from the ``feed_exposures`` result
(one row per served video with its experiment and variant) and the events after it.

Privacy: a variant is read out only when it rests on ≥ k distinct viewers, and only
when control does too — a variant's difference to control is a figure about control's
viewers as well. Variants under k are left out before the read-out (CUPED's θ is pooled
over the published variants only); with control under k, or no other variant at k, the
report abstains (``status`` ``abstain`` and the ``reason``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ...core.errors import InputError, NotFound
from ...insights.cuped import cuped_readout
from ...insights.partner import partner_variants
from ...safety.privacy import PartnerAggregate, k_anonymous_aggregate
from ...store.base import Store
from ._common import R, _k

EXPOSURES = "feed_exposures"
METRICS = ("liked", "shared", "commented", "followed", "completed", "skipped", "watch_time_s")


@dataclass
class ExperimentReport:
    experiment: str
    metric: str
    k: int
    variants: PartnerAggregate
    pre_days: float
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    control: str = "control"
    #: variants left out before the read-out (under k viewers, or all when abstaining)
    withheld: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "metric": self.metric, "status": self.status,
                "reason": self.reason, "control": self.control, "k": self.k,
                "pre_days": self.pre_days, "suppressed": self.variants.suppressed + self.withheld,
                "variants": self.variants.to_pylist(), "notes": self.notes}  # fmt: skip


def experiment_viewers(
    store: Store, experiment: str, metric: str = "liked", *, pre_days: float = 14.0
) -> pa.Table:
    """Per viewer: ``variant, viewer_id, y`` (mean *metric* per exposure: the events of
    the exposed video at or after the exposure) and ``x`` (mean *metric* per impression
    in the *pre_days* before the viewer's first exposure; null without history)."""
    if metric not in METRICS:
        raise InputError(f"metric is one of {', '.join(METRICS)}", field="metric")
    if not 0 < pre_days <= 365:
        raise InputError("must be in (0, 365]", field="pre_days")
    if not store.has_result(EXPOSURES):
        raise NotFound("no feed exposures recorded yet (serve a feed with an experiment)")
    val = f"CAST(coalesce(e.{metric}, {'0' if metric == 'watch_time_s' else 'false'}) AS DOUBLE)"
    x = f"{R}{EXPOSURES}"
    t = store.query(
        f"""WITH x AS (SELECT variant, viewer_id, video_id, ts FROM {x} WHERE experiment = ?),
        firsts AS (SELECT viewer_id, min(variant) AS variant, count(DISTINCT variant) AS nv,
                   min(ts) AS first FROM x GROUP BY viewer_id),
        y AS (SELECT x.viewer_id, avg(coalesce(o.v, 0)) AS y FROM x LEFT JOIN (
                SELECT e.viewer_id, e.video_id, e.ts, {val} AS v FROM events e) o
              ON o.viewer_id = x.viewer_id AND o.video_id = x.video_id
                 AND (x.ts IS NULL OR o.ts >= x.ts)
              GROUP BY x.viewer_id),
        pre AS (SELECT e.viewer_id, avg({val}) AS x FROM events e JOIN firsts f
                ON f.viewer_id = e.viewer_id AND e.ts < f.first
                AND e.ts >= f.first - to_microseconds(CAST(? AS BIGINT))
                GROUP BY e.viewer_id)
        SELECT f.variant, f.viewer_id, f.nv, y.y, pre.x FROM firsts f JOIN y USING (viewer_id)
        LEFT JOIN pre USING (viewer_id) ORDER BY f.viewer_id""",
        [experiment, int(pre_days * 86_400 * 1_000_000)],
    )
    if t.num_rows == 0:
        raise NotFound(f"no exposures of experiment {experiment!r}")
    return t


def experiment_readout(
    store: Store,
    experiment: str,
    *,
    metric: str = "liked",
    control: str = "control",
    pre_days: float = 14.0,
    k: int | None = None,
) -> ExperimentReport:
    """Per-variant read-out of a feed experiment, each variant against *control*, with
    and without CUPED; variants of ≥ k viewers only."""
    if not isinstance(experiment, str) or not experiment.strip():
        raise InputError("name the experiment", field="experiment")
    if not isinstance(control, str) or not control:
        raise InputError("name the control variant", field="control")
    k = _k(store, k)
    if k < 1:
        raise InputError("must be >= 1", field="k")
    t = experiment_viewers(store, experiment, metric, pre_days=pre_days)
    notes = []
    mixed = pc.greater(t["nv"], 1)
    n_mixed = int(pc.sum(mixed).as_py() or 0)
    if n_mixed:
        notes.append(f"{_count(n_mixed, k)} viewers saw more than one variant (a re-salted "
                     "experiment?): left out")  # fmt: skip
        t = t.filter(pc.invert(mixed))
    no_hist = int(pc.sum(pc.is_null(t["x"])).as_py() or 0)
    if no_hist:
        notes.append(f"{_count(no_hist, k)} of {_count(t.num_rows, k)} viewers have no history "
                     "before their first exposure: CUPED adjusts them by their own mean")  # fmt: skip
    names = sorted(set(t["variant"].to_pylist()))
    if control not in names:
        raise NotFound(f"experiment {experiment!r} has no variant {control!r} (variants: "
                       f"{', '.join(names)})")  # fmt: skip
    # which variants reach k distinct viewers (the guard decides; needs 2+ for a variance)
    sizes = k_anonymous_aggregate(t, by=["variant"], person="viewer_id", metrics={},
                                  k=max(k, 2))  # fmt: skip
    ok = set(sizes.table["variant"].to_pylist())
    none = k_anonymous_aggregate(t.slice(0, 0), by=["variant"], person="viewer_id",
                                 metrics={}, k=k)  # fmt: skip
    report = ExperimentReport(experiment, metric, k, none, pre_days, notes, control=control,
                              withheld=len(names))  # fmt: skip
    if control not in ok:
        report.status, report.reason = "abstain", (
            f"the control variant {control!r} has fewer than k={k} viewers: no variant can "
            "be compared with it")  # fmt: skip
        return report
    if len(ok) < 2:
        report.status, report.reason = "abstain", (
            f"no variant besides {control!r} has k={k} or more viewers")  # fmt: skip
        return report
    if len(ok) < len(names):
        notes.append(f"variants under k={k} viewers are withheld")
        t = t.filter(pc.is_in(t["variant"], pa.array(sorted(ok), pa.string())))
    readout = cuped_readout(t, control=control)
    report.variants = partner_variants(t, readout, k=k)
    report.withheld = len(names) - len(ok)
    return report


def _count(n: int, k: int) -> str:
    """A viewer count for a partner-facing note: exact from k viewers up, else only
    "fewer than k" (a count is an aggregate too)."""
    return f"{n:,}" if n >= k else f"fewer than k={k}"
