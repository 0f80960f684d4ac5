"""Viewer reports and the review queue (ordered by severity × reach).

A report is one viewer flagging one comment or video with a reason. The review queue
holds every item a person should look at — the model said ``needs_review``, or viewers
reported it after its last reviewer decision — ordered by *priority = severity × reach*:

- severity ∈ [0, 1]: the larger of the model's ``SEVERITY[category] × probability`` and the
  reports' ``SEVERITY[reason] × (1 − 2^−n)`` (one report counts half, three 7/8); a
  reviewer's escalation to ``needs_review`` weighs ``SEVERITY[category]`` (0.5 without one);
- reach: ``1 + views`` of the item (a comment inherits its video's views), i.e. how many
  people the item can still harm while it waits.

Ordering harm by expected exposure is the triage rule of e.g. Meta's integrity queues
("prioritising content by virality and severity", Meta Transparency Center, 2022) and
Gorwa, Binns & Katzenbach, "Algorithmic content moderation", Big Data & Society 2020.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from ..core.errors import InputError
from ..core.timeutil import to_utc
from .visibility import ITEM_KINDS, SEVERITY, TS

#: Report reasons → the moderation category they allege.
REPORT_REASONS: Mapping[str, str] = {
    "hate": "hate",
    "harassment": "offensive",
    "offensive": "offensive",
    "spam": "spam",
    "other": "offensive",
}

REPORT_SCHEMA = pa.schema(
    [
        pa.field("report_id", pa.string(), nullable=False),
        pa.field("item_kind", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("reporter_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("created_at", TS, nullable=False),
    ]
)

QUEUE_SCHEMA = pa.schema(
    [
        ("item_kind", pa.string()),
        ("item_id", pa.string()),
        ("label", pa.string()),
        ("category", pa.string()),
        ("score", pa.float64()),
        ("open_reports", pa.int64()),
        ("severity", pa.float64()),
        ("reach", pa.float64()),
        ("priority", pa.float64()),
        ("why", pa.string()),
    ]
)


def make_reports(rows: Iterable[Mapping[str, object]]) -> pa.Table:
    """Validated report rows (``item_kind``, ``item_id``, ``reporter_id``, ``reason``,
    ``created_at``) → a :data:`REPORT_SCHEMA` table; a repeat report by the same viewer
    on the same item gets the same ``report_id``."""
    out: dict[str, list[object]] = {f.name: [] for f in REPORT_SCHEMA}
    for i, r in enumerate(rows):
        kind, item, who = r.get("item_kind"), r.get("item_id"), r.get("reporter_id")
        reason = str(r.get("reason") or "other").strip().lower()
        if kind not in ITEM_KINDS:
            raise InputError(f"row {i}: must be one of {ITEM_KINDS}", field="item_kind")
        for name, v in (("item_id", item), ("reporter_id", who)):
            if not isinstance(v, str) or not v.strip():
                raise InputError(f"row {i}: must be a non-empty string", field=name)
        if reason not in REPORT_REASONS:
            raise InputError(f"row {i}: must be one of {sorted(REPORT_REASONS)}", field="reason")
        at = to_utc(r.get("created_at"), field="created_at")
        rid = hashlib.blake2b(f"{kind}\x1f{item}\x1f{who}".encode(), digest_size=10).hexdigest()
        for k, v in zip(REPORT_SCHEMA.names, (rid, kind, item, who, reason, at), strict=True):
            out[k].append(v)
    return pa.table(out, schema=REPORT_SCHEMA)


def dedupe_reports(reports: pa.Table) -> pa.Table:
    """One report per viewer and item (the first)."""
    if reports.num_rows == 0:
        return reports
    t = reports.sort_by([("report_id", "ascending"), ("created_at", "ascending")])
    ids = np.asarray(t["report_id"].to_pylist(), dtype=object)
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return t.filter(pa.array(first))


def review_queue(
    current: pa.Table,
    reports: pa.Table | None,
    reach: Mapping[tuple[str, str], float],
    *,
    limit: int | None = None,
) -> pa.Table:
    """Items to review, highest ``severity × reach`` first (see the module docstring).

    *current* is :func:`~communitok.safety.visibility.current_visibility`'s table;
    *reach* maps ``(item_kind, item_id)`` to views (missing → 0). Reports count as open
    when they are newer than the item's latest reviewer decision.
    """
    if limit is not None and limit < 0:
        raise InputError("must be >= 0", field="limit")
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for row in current.to_pylist():
        state[(row["item_kind"], row["item_id"])] = row
    open_reports: dict[tuple[str, str], list[str]] = {}
    if reports is not None and reports.num_rows:
        for r in dedupe_reports(reports).to_pylist():
            key = (r["item_kind"], r["item_id"])
            prev = state.get(key)
            if prev and prev["source"] == "reviewer" and r["created_at"] <= prev["decided_at"]:
                continue
            open_reports.setdefault(key, []).append(r["reason"])
    keys = {k for k, v in state.items() if v["label"] == "needs_review"} | set(open_reports)
    rows: list[dict[str, Any]] = []
    for key in keys:
        cur: dict[str, Any] = state.get(key, {})
        cat = cur.get("category") or "ok"
        score = cur.get("score")
        model_sev = SEVERITY.get(str(cat), 0.0) * float(score or 0.0)
        if cur.get("source") == "reviewer":  # a person judged the model's evidence:
            # their escalation weighs by its category (0.5 without one), a release by 0
            model_sev = (
                SEVERITY.get(str(cur.get("category")), 0.5)
                if cur.get("label") == "needs_review"
                else 0.0
            )
        reasons = open_reports.get(key, [])
        report_sev = (
            max(SEVERITY[REPORT_REASONS[r]] for r in reasons) * (1 - 2.0 ** -len(reasons))
            if reasons
            else 0.0
        )
        severity = max(model_sev, report_sev)
        r = 1.0 + max(0.0, float(reach.get(key, 0.0)))
        why = []
        if cur.get("label") == "needs_review":
            why.append(str(cur.get("reason")))
        if reasons:
            why.append(f"{len(reasons)} open report(s): {', '.join(sorted(set(reasons)))}")
        rows.append(
            {
                "item_kind": key[0],
                "item_id": key[1],
                "label": cur.get("label", "visible"),
                "category": cat,
                "score": None if score is None else float(score),
                "open_reports": len(reasons),
                "severity": severity,
                "reach": r,
                "priority": severity * r,
                "why": "; ".join(why),
            }
        )
    rows.sort(key=lambda d: (-d["priority"], d["item_kind"], d["item_id"]))
    if limit is not None:
        rows = rows[:limit]
    return pa.Table.from_pylist(rows, schema=QUEUE_SCHEMA)
