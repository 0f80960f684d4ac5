"""Visibility labels and the append-only decision log.

A *visibility label* (``visible``, ``limited``, ``hidden``, ``needs_review``; see
:data:`communitok.core.schema.VISIBILITY`) says where an item may appear. It is kept apart
from ranking scores: the feed filters on the label and never mixes it into relevance.

Every decision — by the model or by a reviewer — is one row of the decision log
(:data:`DECISION_SCHEMA`) with the model version, score and a human-readable reason. The
log is append-only; :func:`current_visibility` derives the label in force: the latest
reviewer decision if there is one, otherwise the latest model decision, escalated to
``needs_review`` when enough viewers reported the item.

The policy follows the graded-response idea of platform moderation (reduce reach before
removal, escalate uncertain cases to people): Gillespie, "Custodians of the Internet",
2018, ch. 7; Goldman, "Content Moderation Remedies", Mich. Tech. L. Rev. 28, 2021.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError
from ..core.schema import VISIBILITY
from ..core.timeutil import to_utc
from .model import CATEGORIES

ITEM_KINDS = ("comment", "video")
SOURCES = ("model", "reviewer")
#: How bad a category is when it is right (used by the review queue and health).
SEVERITY: Mapping[str, float] = {"hate": 1.0, "offensive": 0.6, "spam": 0.4, "ok": 0.0}

TS = pa.timestamp("us", tz="UTC")
DECISION_SCHEMA = pa.schema(
    [
        pa.field("decision_id", pa.string(), nullable=False),
        pa.field("item_kind", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("p_hate", pa.float64()),
        pa.field("p_offensive", pa.float64()),
        pa.field("p_spam", pa.float64()),
        pa.field("model_version", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("reviewer_id", pa.string()),
        pa.field("decided_at", TS, nullable=False),
    ]
)


@dataclass(frozen=True)
class VisibilityPolicy:
    """From a category and its probability to a label.

    - ``hate``: at or over ``hate_hide`` → hidden; over the model threshold → needs_review.
    - ``offensive`` (harassment, insults, slurs used casually): over the threshold →
      limited (kept in its thread, not recommended); over ``offensive_review`` →
      needs_review.
    - ``spam``: at or over ``spam_hide`` → hidden; over the threshold → limited.
    - ``ok`` → visible.
    """

    hate_hide: float = 0.80
    offensive_review: float = 0.95
    spam_hide: float = 0.90
    #: reports on an item without a reviewer decision that escalate it to needs_review
    min_reports: int = 3

    def __post_init__(self) -> None:
        for name in ("hate_hide", "offensive_review", "spam_hide"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise InputError("must be in (0, 1]", field=name)
        if self.min_reports < 1:
            raise InputError("must be >= 1", field="min_reports")

    def label(self, category: str, score: float) -> tuple[str, str]:
        """``(label, why)`` for one classified item."""
        if category == "hate":
            if score >= self.hate_hide:
                return "hidden", f"hate p={score:.2f} >= {self.hate_hide:.2f}"
            return "needs_review", f"hate p={score:.2f} over threshold, below auto-hide"
        if category == "offensive":
            if score >= self.offensive_review:
                return "needs_review", f"offensive p={score:.2f} >= {self.offensive_review:.2f}"
            return "limited", f"offensive p={score:.2f} over threshold"
        if category == "spam":
            if score >= self.spam_hide:
                return "hidden", f"spam p={score:.2f} >= {self.spam_hide:.2f}"
            return "limited", f"spam p={score:.2f} over threshold"
        return "visible", "no category over its threshold"


def _decision_id(*parts: object) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=10).hexdigest()


def model_decisions(
    item_ids: Sequence[str],
    proba: np.ndarray,
    categories: Sequence[str],
    *,
    model_version: str,
    decided_at: datetime,
    item_kind: str = "comment",
    policy: VisibilityPolicy | None = None,
) -> pa.Table:
    """Decision-log rows for classified items (``proba`` in ``CATEGORIES`` order)."""
    policy = policy or VisibilityPolicy()
    if item_kind not in ITEM_KINDS:
        raise InputError(f"must be one of {ITEM_KINDS}", field="item_kind")
    proba = np.asarray(proba, dtype=np.float64).reshape(-1, len(CATEGORIES))
    if not (len(item_ids) == len(proba) == len(categories)):
        raise InputError("item_ids, proba and categories differ in length")
    at = to_utc(decided_at, field="decided_at")
    cols = {c: proba[:, i] for i, c in enumerate(CATEGORIES)}
    labels, reasons, scores = [], [], []
    for i, cat in enumerate(categories):
        score = float(cols[cat][i])
        lab, why = policy.label(cat, score)
        labels.append(lab)
        reasons.append(f"{why} (model {model_version})")
        scores.append(score)
    return pa.table(
        {
            "decision_id": [_decision_id(item_kind, i, model_version, at) for i in item_ids],
            "item_kind": [item_kind] * len(item_ids),
            "item_id": list(map(str, item_ids)),
            "label": labels,
            "category": list(categories),
            "score": scores,
            "p_hate": cols["hate"],
            "p_offensive": cols["offensive"],
            "p_spam": cols["spam"],
            "model_version": [model_version] * len(item_ids),
            "reason": reasons,
            "source": ["model"] * len(item_ids),
            "reviewer_id": pa.nulls(len(item_ids), pa.string()),
            "decided_at": pa.array([at] * len(item_ids), TS),
        },
        schema=DECISION_SCHEMA,
    )


def reviewer_decision(
    item_kind: str,
    item_id: str,
    label: str,
    *,
    reviewer_id: str,
    reason: str,
    decided_at: datetime,
    category: str | None = None,
) -> pa.Table:
    """One reviewer override row; it outranks every model decision on the item."""
    if item_kind not in ITEM_KINDS:
        raise InputError(f"must be one of {ITEM_KINDS}", field="item_kind")
    if label not in VISIBILITY:
        raise InputError(f"must be one of {VISIBILITY}", field="label")
    if category is not None and category not in CATEGORIES:
        raise InputError(f"must be one of {CATEGORIES}", field="category")
    for name, v in (("item_id", item_id), ("reviewer_id", reviewer_id), ("reason", reason)):
        if not isinstance(v, str) or not v.strip():
            raise InputError("must be a non-empty string", field=name)
    at = to_utc(decided_at, field="decided_at")
    row = {
        "decision_id": [_decision_id(item_kind, item_id, "reviewer", reviewer_id, at)],
        "item_kind": [item_kind],
        "item_id": [item_id],
        "label": [label],
        "category": [category],
        "score": [None],
        "p_hate": [None],
        "p_offensive": [None],
        "p_spam": [None],
        "model_version": [None],
        "reason": [reason.strip()],
        "source": ["reviewer"],
        "reviewer_id": [reviewer_id],
        "decided_at": pa.array([at], TS),
    }
    return pa.table(row, schema=DECISION_SCHEMA)


def empty_log() -> pa.Table:
    return DECISION_SCHEMA.empty_table()


def _last_per_key(t: pa.Table, keys: Sequence[str], order: Sequence[str]) -> pa.Table:
    """The last row of every *keys* group after sorting by keys + order."""
    if t.num_rows == 0:
        return t
    t = t.sort_by([(k, "ascending") for k in (*keys, *order)])
    key = pc.binary_join_element_wise(*[pc.cast(t[k], pa.string()) for k in keys], "\x1f")
    k = np.asarray(key.to_pylist(), dtype=object)
    last = np.ones(len(k), dtype=bool)
    last[:-1] = k[:-1] != k[1:]
    return t.filter(pa.array(last))


def current_visibility(
    log: pa.Table, reports: pa.Table | None = None, policy: VisibilityPolicy | None = None
) -> pa.Table:
    """The label in force per item: latest reviewer row, else latest model row.

    Items whose label is ``visible`` or ``limited``, that no reviewer decided, and that
    have at least ``policy.min_reports`` reports become ``needs_review``.
    """
    policy = policy or VisibilityPolicy()
    if log.num_rows == 0:
        return log.select([f.name for f in DECISION_SCHEMA]).cast(DECISION_SCHEMA)
    log = log.append_column("_rank", pc.equal(log["source"], "reviewer").cast(pa.int8()))
    cur = _last_per_key(log, ["item_kind", "item_id"], ["_rank", "decided_at"])
    if reports is not None and reports.num_rows:
        counts = reports.group_by(["item_kind", "item_id"]).aggregate([("item_id", "count")])
        n = {
            (a, b): c
            for a, b, c in zip(
                counts["item_kind"].to_pylist(),
                counts["item_id"].to_pylist(),
                counts["item_id_count"].to_pylist(),
                strict=True,
            )
        }
        labels = cur["label"].to_pylist()
        reasons = cur["reason"].to_pylist()
        for i, (kind, item, rank) in enumerate(
            zip(
                cur["item_kind"].to_pylist(),
                cur["item_id"].to_pylist(),
                cur["_rank"].to_pylist(),
                strict=True,
            )
        ):
            k = n.get((kind, item), 0)
            if rank == 0 and labels[i] in ("visible", "limited") and k >= policy.min_reports:
                labels[i] = "needs_review"
                reasons[i] = f"{k} viewer reports (>= {policy.min_reports}); {reasons[i]}"
        cur = cur.set_column(cur.schema.get_field_index("label"), "label", pa.array(labels))
        cur = cur.set_column(cur.schema.get_field_index("reason"), "reason", pa.array(reasons))
    return cur.drop_columns(["_rank"]).cast(DECISION_SCHEMA)
