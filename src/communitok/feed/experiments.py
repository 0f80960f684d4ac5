"""A/B experiments: deterministic bucketing, exposure records, per-variant metrics.

Bucketing hashes (salt, experiment, viewer) with a process-independent hash into 10,000
buckets (as in Kohavi, Tang & Xu, "Trustworthy Online Controlled Experiments", 2020,
ch. 4): the same viewer always lands in the same variant, and a new salt reshuffles.
Exposure records are returned, never written: the engine stores them. Metrics join
exposures with the events that followed and report, per variant, the engagement rates
and the difference to control with a normal-approximation 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import TS
from ..core.seeds import stable_hash

N_BUCKETS = 10_000

EXPOSURE_SCHEMA = pa.schema(
    [
        pa.field("experiment", pa.string(), nullable=False),
        pa.field("variant", pa.string(), nullable=False),
        pa.field("viewer_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("score", pa.float64()),
        pa.field("source", pa.string()),
        pa.field("ts", TS),
    ]
)


@dataclass(frozen=True)
class Experiment:
    """An experiment: a name, variants with traffic weights, a salt."""

    name: str
    variants: tuple[tuple[str, float], ...] = (("control", 0.5), ("treatment", 0.5))
    salt: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError("must be a non-empty string", field="name")
        if not self.variants:
            raise InputError("needs at least one variant", field="variants")
        names = [v for v, _ in self.variants]
        if len(set(names)) != len(names):
            raise InputError("variant names must be unique", field="variants")
        w = np.asarray([w for _, w in self.variants], dtype=float)
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("weights must be >= 0 with a positive sum", field="variants")

    def bucket(self, viewer_id: str) -> int:
        return stable_hash(self.salt, self.name, viewer_id) % N_BUCKETS

    def assign(self, viewer_id: str) -> str:
        """The viewer's variant (deterministic)."""
        w = np.asarray([w for _, w in self.variants], dtype=float)
        edges = np.cumsum(w / w.sum()) * N_BUCKETS
        i = int(np.searchsorted(edges, self.bucket(viewer_id), side="right"))
        return self.variants[min(i, len(self.variants) - 1)][0]


def exposure_table(
    experiment: str,
    variant: str,
    viewer_id: str,
    video_ids: list[str],
    *,
    scores: list[float] | None = None,
    sources: list[str] | None = None,
    ts: object = None,
) -> pa.Table:
    """Exposure rows for one served feed (schema :data:`EXPOSURE_SCHEMA`)."""
    n = len(video_ids)
    return pa.table(
        {
            "experiment": [experiment] * n,
            "variant": [variant] * n,
            "viewer_id": [viewer_id] * n,
            "video_id": list(video_ids),
            "rank": list(range(1, n + 1)),
            "score": scores if scores is not None else [None] * n,
            "source": sources if sources is not None else [None] * n,
            "ts": [ts] * n,
        },
        schema=EXPOSURE_SCHEMA,
    )


_METRICS = ("watch_time_s", "liked", "shared", "followed", "skipped", "not_interested")


def variant_metrics(exposures: pa.Table, events: pa.Table, *, control: str = "control") -> pa.Table:
    """Per-variant engagement of exposed videos: exposures, viewers, and per-exposure
    means of watch time, likes, shares, follows, skips and "not interested", with the
    difference to ``control`` and its 95 % interval (viewer-level means would be more
    conservative; this is the impression-level readout)."""
    for name, t, cols in (
        ("exposures", exposures, ("variant", "viewer_id", "video_id")),
        ("events", events, ("viewer_id", "video_id")),
    ):
        missing = [c for c in cols if c not in t.column_names]
        if missing:
            raise InputError(f"missing columns {missing}", field=name)
    ev_cols = ["viewer_id", "video_id"] + [c for c in _METRICS if c in events.column_names]
    ev = events.select(ev_cols)
    casts = {c: pc.cast(ev.column(c), pa.float64()) for c in ev_cols[2:]}
    for c, col in casts.items():
        ev = ev.set_column(ev.column_names.index(c), c, col)
    agg = ev.group_by(["viewer_id", "video_id"]).aggregate([(c, "max") for c in ev_cols[2:]])
    ex = exposures.select(["variant", "viewer_id", "video_id"])
    joined = ex.join(agg, ["viewer_id", "video_id"], join_type="left outer")
    variants = sorted(set(joined.column("variant").to_pylist()))
    rows: dict[str, list] = {
        "variant": [],
        "exposures": [],
        "viewers": [],
        "metric": [],
        "mean": [],
        "diff_vs_control": [],
        "ci95_low": [],
        "ci95_high": [],
    }
    var_col = np.asarray(joined.column("variant").to_pylist(), dtype=object)
    stats: dict[tuple[str, str], tuple[float, float, int]] = {}
    for v in variants:
        m = var_col == v
        for c in ev_cols[2:]:
            x = np.nan_to_num(
                np.asarray(joined.column(f"{c}_max").to_numpy(zero_copy_only=False), dtype=float)[
                    m
                ],
                nan=0.0,
            )
            stats[(v, c)] = (
                float(x.mean()) if len(x) else 0.0,
                float(x.var(ddof=1)) if len(x) > 1 else 0.0,
                len(x),
            )
    for v in variants:
        m = var_col == v
        n_viewers = len(set(np.asarray(joined.column("viewer_id").to_pylist(), dtype=object)[m]))
        for c in ev_cols[2:]:
            mean, var, n = stats[(v, c)]
            diff = lo = hi = None
            if control in variants and v != control:
                cm, cv, cn = stats[(control, c)]
                diff = mean - cm
                se = float(np.sqrt(var / max(n, 1) + cv / max(cn, 1)))
                lo, hi = diff - 1.96 * se, diff + 1.96 * se
            for key, val in (
                ("variant", v),
                ("exposures", n),
                ("viewers", n_viewers),
                ("metric", c),
                ("mean", mean),
                ("diff_vs_control", diff),
                ("ci95_low", lo),
                ("ci95_high", hi),
            ):
                rows[key].append(val)
    return pa.table(rows)
