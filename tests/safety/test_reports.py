"""Reports and the review queue ordered by severity × reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.safety import (
    current_visibility,
    make_reports,
    model_decisions,
    review_queue,
    reviewer_decision,
)
from communitok.safety.reports import dedupe_reports

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _rep(item: str, who: str, reason: str = "hate", kind: str = "comment", dt: int = 0):
    return {"item_kind": kind, "item_id": item, "reporter_id": who, "reason": reason,
            "created_at": T0 + timedelta(hours=dt)}  # fmt: skip


def test_make_reports_validates_and_dedupes() -> None:
    t = make_reports([_rep("c1", "u1"), _rep("c1", "u1", dt=2), _rep("v1", "u2", "spam", "video")])
    assert t.num_rows == 3 and dedupe_reports(t).num_rows == 2
    with pytest.raises(InputError):
        make_reports([_rep("c1", "u1", reason="meh")])
    with pytest.raises(InputError):
        make_reports([_rep("c1", "", reason="hate")])
    with pytest.raises(InputError):
        make_reports([{**_rep("c1", "u1"), "item_kind": "user"}])


def test_queue_orders_by_severity_times_reach() -> None:
    proba = np.array([[0.5, 0.3, 0, 0.2], [0.4, 0.3, 0, 0.3], [0, 0.97, 0, 0.03]])
    log = model_decisions(
        ["small", "big", "rude"], proba, ["hate", "hate", "offensive"], model_version="m",
        decided_at=T0,
    )  # fmt: skip
    cur = current_visibility(log)
    reach = {("comment", "small"): 10.0, ("comment", "big"): 10_000.0, ("comment", "rude"): 50.0}
    q = review_queue(cur, None, reach).to_pylist()
    assert [r["item_id"] for r in q] == ["big", "rude", "small"]  # 0.4×10001, 0.6×0.97×51, 0.5×11
    assert q[0]["priority"] == pytest.approx(0.4 * 10_001)
    assert review_queue(cur, None, reach, limit=1).num_rows == 1


def test_reported_items_enter_and_review_closes_them() -> None:
    log = model_decisions(
        ["c1", "c2"], np.array([[0, 0, 0, 1.0], [0, 0, 0, 1.0]]), ["ok", "ok"],
        model_version="m", decided_at=T0,
    )  # fmt: skip
    reps = make_reports([_rep("c1", "u1", "spam", dt=1), _rep("c2", "u1", "hate", dt=1)])
    reach = {("comment", "c1"): 100.0, ("comment", "c2"): 100.0}
    q = review_queue(current_visibility(log, reps), reps, reach).to_pylist()
    assert [r["item_id"] for r in q] == ["c2", "c1"]  # hate report outranks spam report
    assert q[0]["open_reports"] == 1 and q[0]["severity"] == pytest.approx(0.5)
    review = reviewer_decision(
        "comment",
        "c2",
        "visible",
        reviewer_id="r",
        reason="fine",
        decided_at=T0 + timedelta(hours=2),
    )
    cur = current_visibility(pa.concat_tables([log, review]), reps)
    assert [r["item_id"] for r in review_queue(cur, reps, reach).to_pylist()] == ["c1"]
    newer = make_reports([_rep("c2", "u7", "hate", dt=3)])
    q = review_queue(cur, pa.concat_tables([reps, newer]), reach).to_pylist()
    assert {r["item_id"] for r in q} == {"c1", "c2"}  # a new report reopens it


def test_queue_validates_limit() -> None:
    with pytest.raises(InputError):
        review_queue(current_visibility(model_decisions([], np.zeros((0, 4)), [], model_version="m",
                                                        decided_at=T0)), None, {}, limit=-1)  # fmt: skip
