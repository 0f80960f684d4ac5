"""Community safety health: flagged shares per category, reports per 1k views, trend.

:func:`safety_health` is a pure function over Arrow tables so that a community profile
(``communities``) or the engine can call it with whatever membership it has. Per community
and period (day or ISO week, UTC) it reports the number of comments, the share flagged as
hate / offensive / spam (by the label in force), reports and views, and reports per 1,000
views; per community, the totals and the trend of the flagged share: the least-squares
slope per period and a direction (``worsening`` / ``improving`` when the slope exceeds
``trend_tol`` in absolute value, else ``stable``).

Health indicators of this kind (prevalence of violating content, user reports per views)
follow the "prevalence" metric of platform transparency reports (Meta Community
Standards Enforcement Report; YouTube "violative view rate") and the community-level
measures of Chandrasekharan et al., "The Internet's Hidden Rules", CSCW 2018.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError

PERIODS = ("day", "week")
_EPOCH = date(1970, 1, 1)
_FLAGS = ("hate", "offensive", "spam")

BY_PERIOD_SCHEMA = pa.schema(
    [
        ("community", pa.string()),
        ("period_start", pa.date32()),
        ("comments", pa.int64()),
        *[(f"share_{c}", pa.float64()) for c in _FLAGS],
        ("share_flagged", pa.float64()),
        ("reports", pa.int64()),
        ("views", pa.float64()),
        ("reports_per_1k_views", pa.float64()),
    ]
)
SUMMARY_SCHEMA = pa.schema(
    [
        ("community", pa.string()),
        ("comments", pa.int64()),
        *[(f"share_{c}", pa.float64()) for c in _FLAGS],
        ("share_flagged", pa.float64()),
        ("reports", pa.int64()),
        ("views", pa.float64()),
        ("reports_per_1k_views", pa.float64()),
        ("periods", pa.int64()),
        ("trend_flagged_per_period", pa.float64()),
        ("direction", pa.string()),
    ]
)


@dataclass(frozen=True)
class HealthReport:
    """``by_period`` (community × period) and ``summary`` (one row per community)."""

    by_period: pa.Table
    summary: pa.Table

    def community(self, name: str) -> HealthReport:
        keep = lambda t: t.filter(pc.equal(t["community"], name))  # noqa: E731
        return HealthReport(keep(self.by_period), keep(self.summary))


def _period(ts: pa.ChunkedArray | pa.Array, period: str) -> np.ndarray:
    days = np.asarray(
        pc.cast(pc.cast(ts, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(
            zero_copy_only=False
        )
        // 86_400_000_000
    )
    if period == "week":
        days = days - (days + 3) % 7  # 1970-01-01 was a Thursday; weeks start Monday
    return days


def _community_column(t: pa.Table) -> str:
    for c in ("community", "community_id", "name"):
        if c in t.column_names:
            return c
    raise InputError("membership needs a community, community_id or name column")


def comment_communities(membership: pa.Table, comments: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(comment row index, community) pairs; membership by comment_id or video_id."""
    ccol = _community_column(membership)
    key = next((k for k in ("comment_id", "video_id") if k in membership.column_names), None)
    if key is None:
        raise InputError("membership needs a comment_id or video_id column")
    groups: dict[str, list[str]] = {}
    for k, c in zip(membership[key].to_pylist(), membership[ccol].to_pylist(), strict=True):
        if k is not None and c is not None:
            groups.setdefault(str(k), []).append(str(c))
    rows, comms = [], []
    for i, k in enumerate(comments[key].to_pylist()):
        for c in groups.get(str(k), ()):
            rows.append(i)
            comms.append(c)
    return np.asarray(rows, dtype=np.int64), np.asarray(comms, dtype=object)


def flagged_categories(labels: pa.Table) -> dict[str, str]:
    """``item_id → category`` of items flagged hate / offensive / spam and not ``visible``."""
    out: dict[str, str] = {}
    if labels.num_rows == 0:
        return out
    for i, c, lab in zip(
        labels["item_id"].to_pylist(),
        labels["category"].to_pylist(),
        labels["label"].to_pylist(),
        strict=True,
    ):
        if c in _FLAGS and lab != "visible":
            out[str(i)] = c
    return out


def _slope(y: np.ndarray) -> float:
    if len(y) < 2:
        return 0.0
    x = np.arange(len(y), dtype=float)
    x -= x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def safety_health(
    comments: pa.Table,
    labels: pa.Table,
    membership: pa.Table,
    *,
    views: pa.Table | None = None,
    reports: pa.Table | None = None,
    period: str = "week",
    trend_tol: float = 0.005,
) -> HealthReport:
    """Safety health per community (see the module docstring).

    - *comments*: ``comment_id``, ``video_id``, ``created_at``.
    - *labels*: the label in force per comment (``item_id``, ``category``, ``label``;
      e.g. :func:`~communitok.safety.visibility.current_visibility`); a comment counts as
      flagged in category c when its category is c and its label is not ``visible``
      (a reviewer who restored it clears the flag). Unlabelled comments count as ok.
    - *membership*: ``video_id`` or ``comment_id`` → ``community`` (overlap allowed).
    - *views*: ``video_id``, ``views`` and optionally ``period_start`` (date); without a
      period, a video's views count in the period of its comments' first week.
    - *reports*: ``item_kind``, ``item_id``, ``created_at`` (comment and video reports).
    """
    if period not in PERIODS:
        raise InputError(f"must be one of {PERIODS}", field="period")
    cat_of = flagged_categories(labels)
    rows, comms = comment_communities(membership, comments)
    p = _period(comments["created_at"], period)[rows] if len(rows) else np.zeros(0, np.int64)
    cids = comments["comment_id"].to_pylist()
    vids = comments["video_id"].to_pylist()
    cat = np.asarray([cat_of.get(str(cids[i]), "ok") for i in rows], dtype=object)

    acc: dict[tuple[str, int], dict[str, float]] = {}

    def cell(c: str, d: int) -> dict[str, float]:
        return acc.setdefault(
            (c, d),
            {"comments": 0, "hate": 0, "offensive": 0, "spam": 0, "reports": 0, "views": 0.0},
        )

    for c, d, k in zip(comms, p, cat, strict=True):
        e = cell(c, int(d))
        e["comments"] += 1
        if k != "ok":
            e[k] += 1
    # where a video/comment lives: communities and its first comment period
    video_comm: dict[str, set[str]] = {}
    video_first: dict[tuple[str, str], int] = {}
    comment_comm: dict[str, list[tuple[str, int]]] = {}
    for i, c, d in zip(rows, comms, p, strict=True):
        v = str(vids[i])
        video_comm.setdefault(v, set()).add(c)
        video_first[(v, c)] = min(int(d), video_first.get((v, c), int(d)))
        comment_comm.setdefault(str(cids[i]), []).append((c, int(d)))
    if reports is not None and reports.num_rows:
        rp = _period(reports["created_at"], period)
        for kind, item, d in zip(
            reports["item_kind"].to_pylist(), reports["item_id"].to_pylist(), rp, strict=True
        ):
            if kind == "comment":
                targets = [c for c, _ in comment_comm.get(str(item), ())]
            else:
                targets = sorted(video_comm.get(str(item), ()))
            for c in targets:
                cell(c, int(d))["reports"] += 1
    if views is not None and views.num_rows:
        has_p = "period_start" in views.column_names
        vp = (
            pc.cast(views["period_start"], pa.int32()).to_numpy(zero_copy_only=False)
            if has_p
            else None
        )
        for j, (v, n) in enumerate(
            zip(views["video_id"].to_pylist(), views["views"].to_pylist(), strict=True)
        ):
            for c in sorted(video_comm.get(str(v), ())):
                d = int(vp[j]) if vp is not None else video_first[(str(v), c)]
                if has_p and period == "week":
                    d = d - (d + 3) % 7
                cell(c, d)["views"] += float(n or 0)

    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    out: list[dict[str, Any]] = []
    for (c, d), e in sorted(acc.items()):
        n = e["comments"]
        flagged = e["hate"] + e["offensive"] + e["spam"]
        out.append(
            {
                "community": c,
                "period_start": int(d),
                "comments": int(n),
                **{f"share_{k}": ratio(e[k], n) for k in _FLAGS},
                "share_flagged": ratio(flagged, n),
                "reports": int(e["reports"]),
                "views": e["views"],
                "reports_per_1k_views": ratio(1000 * e["reports"], e["views"]),
            }
        )
    by_period = pa.Table.from_pylist(
        [{**r, "period_start": _EPOCH + timedelta(days=r["period_start"])} for r in out],
        schema=BY_PERIOD_SCHEMA,
    )
    summary = []
    for c in sorted({r["community"] for r in out}):
        mine = [r for r in out if r["community"] == c]
        n = sum(r["comments"] for r in mine)
        tot = {k: sum(acc[(c, r["period_start"])][k] for r in mine) for k in _FLAGS}
        rep = sum(r["reports"] for r in mine)
        vw = sum(r["views"] for r in mine)
        shares = np.array([r["share_flagged"] or 0.0 for r in mine if r["comments"]])
        slope = _slope(shares)
        summary.append(
            {
                "community": c,
                "comments": n,
                **{f"share_{k}": ratio(tot[k], n) for k in _FLAGS},
                "share_flagged": ratio(sum(tot.values()), n),
                "reports": rep,
                "views": vw,
                "reports_per_1k_views": ratio(1000 * rep, vw),
                "periods": len(shares),
                "trend_flagged_per_period": slope,
                "direction": "worsening"
                if slope > trend_tol
                else "improving"
                if slope < -trend_tol
                else "stable",
            }
        )
    return HealthReport(by_period, pa.Table.from_pylist(summary, schema=SUMMARY_SCHEMA))
