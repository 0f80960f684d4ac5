"""Community safety health on planted data: exact shares, reports per 1k views, trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from communitok.core.errors import InputError
from communitok.safety import safety_health

MON = datetime(2024, 1, 1, 12, tzinfo=UTC)  # a Monday


def _planted():
    """Community 'good': 20 clean comments/week; 'bad': flagged share 10 % → 30 %."""
    cids, vids, ts, items, cats, labs = [], [], [], [], [], []
    for week in range(3):
        for comm, flagged in (("good", 0), ("bad", 2 + 2 * week)):
            for i in range(20):
                cid = f"{comm}-{week}-{i}"
                cids.append(cid)
                vids.append(f"v-{comm}")
                ts.append(MON + timedelta(days=7 * week, hours=i))
                if i < flagged:
                    items.append(cid)
                    cats.append(("hate", "offensive", "spam")[i % 3])
                    labs.append("hidden")
    comments = pa.table({"comment_id": cids, "video_id": vids, "created_at": ts})
    labels = pa.table({"item_id": items, "category": cats, "label": labs})
    members = pa.table(
        {"video_id": ["v-good", "v-bad", "v-bad"], "community": ["good", "bad", "also"]}
    )
    views = pa.table(
        {
            "video_id": ["v-good", "v-bad", "v-bad"],
            "period_start": [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 10)],
            "views": [1000, 2000, 2000],
        }
    )
    reports = pa.table(
        {"item_kind": ["comment", "video", "video"], "item_id": ["bad-0-0", "v-bad", "v-zzz"],
         "created_at": [MON, MON, MON]}
    )  # fmt: skip
    return comments, labels, members, views, reports


def test_shares_reports_and_trend() -> None:
    comments, labels, members, views, reports = _planted()
    rep = safety_health(comments, labels, members, views=views, reports=reports)
    s = {r["community"]: r for r in rep.summary.to_pylist()}
    assert s["good"]["share_flagged"] == 0 and s["good"]["direction"] == "stable"
    assert s["bad"]["comments"] == 60
    assert s["bad"]["share_flagged"] == pytest.approx(12 / 60)
    assert s["bad"]["share_hate"] + s["bad"]["share_offensive"] + s["bad"]["share_spam"] == (
        pytest.approx(12 / 60)
    )
    assert s["bad"]["trend_flagged_per_period"] == pytest.approx(0.1)
    assert s["bad"]["direction"] == "worsening"
    assert s["bad"]["reports"] == 2 and s["bad"]["views"] == 4000
    assert s["bad"]["reports_per_1k_views"] == pytest.approx(0.5)
    assert s["also"]["comments"] == 60  # overlapping membership counts in both
    weeks = [r for r in rep.by_period.to_pylist() if r["community"] == "bad"]
    assert [w["period_start"] for w in weeks] == [
        date(2024, 1, 1),
        date(2024, 1, 8),
        date(2024, 1, 15),
    ]
    assert [w["share_flagged"] for w in weeks] == pytest.approx([0.1, 0.2, 0.3])
    assert weeks[0]["reports_per_1k_views"] == pytest.approx(1.0)
    one = rep.community("bad")
    assert one.summary.num_rows == 1 and one.by_period.num_rows == 3


def test_reviewer_restored_comments_do_not_count_and_days_work() -> None:
    comments, labels, members, _, _ = _planted()
    labels = pa.table(
        {"item_id": labels["item_id"], "category": labels["category"],
         "label": ["visible"] * labels.num_rows}
    )  # fmt: skip
    rep = safety_health(comments, labels, members, period="day")
    s = {r["community"]: r for r in rep.summary.to_pylist()}
    assert s["bad"]["share_flagged"] == 0 and s["bad"]["reports_per_1k_views"] is None


def test_membership_by_comment_and_bad_args() -> None:
    comments, labels, _, _, _ = _planted()
    m = pa.table({"comment_id": ["bad-0-0", "good-0-0"], "community_id": ["x", "x"]})
    s = safety_health(comments, labels, m).summary.to_pylist()
    assert s[0]["community"] == "x" and s[0]["share_flagged"] == 0.5
    with pytest.raises(InputError):
        safety_health(comments, labels, m, period="month")
    with pytest.raises(InputError):
        safety_health(comments, labels, pa.table({"video_id": ["v"], "group": ["g"]}))
