"""Property tests for the vectorised parsers (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from communitok.core.schema import TABLES
from communitok.core.timeutil import parse_timestamp
from communitok.ingest.validate import validate_batch

EVENTS = TABLES["events"]


def _events(**cols):
    n = len(next(iter(cols.values())))
    base = {"viewer_id": ["u"] * n, "video_id": ["v"] * n, "ts": ["1714557600"] * n}
    base.update(cols)
    return pa.table(base)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**31), min_size=1, max_size=30))
def test_epoch_seconds_text_and_numbers_agree(xs: list[int]) -> None:
    as_text = validate_batch(_events(ts=[str(x) for x in xs]), EVENTS, source="t").table
    as_int = validate_batch(_events(ts=pa.array(xs, pa.int64())), EVENTS, source="t").table
    assert as_text.column("ts").to_pylist() == as_int.column("ts").to_pylist()
    assert [d.timestamp() for d in as_text.column("ts").to_pylist()] == [float(x) for x in xs]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_iso_strings_parse_exactly(dts: list[datetime]) -> None:
    text = [d.isoformat() for d in dts]
    got = validate_batch(_events(ts=text), EVENTS, source="t").table.column("ts").to_pylist()
    assert got == [parse_timestamp(t) for t in text]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=8), st.floats(allow_nan=True), st.integers()),
        min_size=1,
        max_size=30,
    )
)
def test_any_watch_time_text_is_either_valid_or_rejected_never_crashes(
    values: list[object],
) -> None:
    raw = [None if v is None else str(v) for v in values]
    v = validate_batch(_events(watch_time_s=raw), EVENTS, source="t")
    assert v.table.num_rows + v.rejected_rows == len(raw)
    for w in v.table.column("watch_time_s").to_pylist():
        assert w is None or (w >= 0 and w == w)
    assert all(r.field == "watch_time_s" and r.line is not None for r in v.rejects)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=20))
def test_bools_accept_known_words_only(words: list[str]) -> None:
    v = validate_batch(_events(liked=words), EVENTS, source="t")
    known = {"true", "t", "1", "yes", "y", "false", "f", "0", "no", "n", ""}
    expected_bad = sum(1 for w in words if w.strip().lower() not in known)
    assert v.rejected_rows == expected_bad
