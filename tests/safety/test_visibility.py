"""Visibility policy, decision log rows and the label in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.safety import (
    DECISION_SCHEMA,
    VisibilityPolicy,
    current_visibility,
    make_reports,
    model_decisions,
    reviewer_decision,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def test_policy_labels() -> None:
    p = VisibilityPolicy()
    assert p.label("hate", 0.9)[0] == "hidden"
    assert p.label("hate", 0.3)[0] == "needs_review"
    assert p.label("offensive", 0.5)[0] == "limited"
    assert p.label("offensive", 0.99)[0] == "needs_review"
    assert p.label("spam", 0.95)[0] == "hidden"
    assert p.label("spam", 0.4)[0] == "limited"
    assert p.label("ok", 0.9)[0] == "visible"
    with pytest.raises(InputError):
        VisibilityPolicy(hate_hide=0)


def _log() -> pa.Table:
    proba = np.array([[0.9, 0.05, 0.0, 0.05], [0.0, 0.6, 0.0, 0.4], [0.0, 0.0, 0.0, 1.0]])
    return model_decisions(
        ["c1", "c2", "c3"], proba, ["hate", "offensive", "ok"], model_version="m1", decided_at=T0
    )


def test_model_decisions_rows() -> None:
    log = _log()
    assert log.schema == DECISION_SCHEMA
    rows = log.to_pylist()
    assert [r["label"] for r in rows] == ["hidden", "limited", "visible"]
    assert all(r["model_version"] == "m1" and r["source"] == "model" for r in rows)
    assert rows[0]["score"] == pytest.approx(0.9) and "m1" in rows[0]["reason"]
    assert len(set(log["decision_id"].to_pylist())) == 3


def test_reviewer_outranks_model_even_when_older() -> None:
    review = reviewer_decision(
        "comment", "c1", "visible", reviewer_id="r9", reason="quote, not hate", decided_at=T0
    )
    later = model_decisions(
        ["c1"], np.array([[0.95, 0, 0, 0.05]]), ["hate"], model_version="m2",
        decided_at=T0 + timedelta(days=1),
    )  # fmt: skip
    cur = current_visibility(pa.concat_tables([_log(), review, later]))
    by_id = {r["item_id"]: r for r in cur.to_pylist()}
    assert by_id["c1"]["label"] == "visible" and by_id["c1"]["reviewer_id"] == "r9"
    assert by_id["c2"]["label"] == "limited"
    assert cur.num_rows == 3


def test_latest_model_decision_wins_without_review() -> None:
    later = model_decisions(
        ["c3"], np.array([[0.0, 0.0, 0.97, 0.03]]), ["spam"], model_version="m2",
        decided_at=T0 + timedelta(hours=1),
    )  # fmt: skip
    cur = {
        r["item_id"]: r for r in current_visibility(pa.concat_tables([_log(), later])).to_pylist()
    }
    assert cur["c3"]["label"] == "hidden" and cur["c3"]["model_version"] == "m2"


def test_reports_escalate_unreviewed_items() -> None:
    reps = make_reports(
        {"item_kind": "comment", "item_id": "c3", "reporter_id": f"u{i}", "reason": "harassment",
         "created_at": T0}
        for i in range(3)
    )  # fmt: skip
    cur = {r["item_id"]: r for r in current_visibility(_log(), reps).to_pylist()}
    assert cur["c3"]["label"] == "needs_review" and "3 viewer reports" in cur["c3"]["reason"]


def test_reviewer_decision_validates() -> None:
    with pytest.raises(InputError):
        reviewer_decision("comment", "c1", "deleted", reviewer_id="r", reason="x", decided_at=T0)
    with pytest.raises(InputError):
        reviewer_decision("comment", "c1", "hidden", reviewer_id="", reason="x", decided_at=T0)
    with pytest.raises(InputError):
        reviewer_decision("post", "c1", "hidden", reviewer_id="r", reason="x", decided_at=T0)


def test_empty_log() -> None:
    assert current_visibility(DECISION_SCHEMA.empty_table()).num_rows == 0
