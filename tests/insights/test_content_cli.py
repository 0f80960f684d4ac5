"""Content brief and the ``communitok insights`` CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from communitok.core.errors import NotFound
from communitok.engine import insights as ei
from communitok.insights import lingo_examples, partner_lingo
from communitok.safety import PARTNER_FACING

from .conftest import detected_for


def test_partner_functions_are_registered() -> None:
    names = {q.rsplit(".", 1)[-1] for q in PARTNER_FACING if ".insights." in q}
    assert names >= {"partner_matches", "partner_overlap", "partner_ambassadors",
                     "partner_campaign", "partner_lingo", "partner_posting_windows"}  # fmt: skip


def test_content_brief(store, small) -> None:
    cid = detected_for(store, small.truth.community("planttok"))
    b = ei.content_brief(store, cid, k=50)
    use = [r["hashtag"] for r in b.use_hashtags]
    assert "planttok" in use and "fyp" not in use
    assert "fyp" in [r["hashtag"] for r in b.avoid_hashtags]
    assert b.sounds and b.formats and b.posting_windows.table.num_rows > 0
    assert all(r["n_people"] >= 50 for r in b.posting_windows.to_pylist())
    assert b.lingo is None and "not moderated" in b.notes[0]  # no moderation run yet
    with pytest.raises(NotFound):
        ei.content_brief(store, 987654)


def test_lingo_examples_skip_flagged_and_guard() -> None:
    import pyarrow as pa

    lingo = pa.table({"term": ["zork"], "rank": [1]})
    n = 12
    com = pa.table({"comment_id": [f"c{i}" for i in range(n)],
                    "user_id": [f"u{i}" for i in range(n)],
                    "text": [f"so zork {i}" for i in range(n)]})  # fmt: skip
    ex = lingo_examples(lingo, com, flagged={"c0", "c1"})
    assert ex.num_rows == n - 2 and "so zork 0" not in ex["example"][0].as_py()
    assert partner_lingo(ex, k=10).to_pylist()[0]["n_people"] == 10
    assert partner_lingo(ex, k=11).table.num_rows == 0


def test_cli(store_path, small) -> None:
    from communitok.cli.app import app

    run = CliRunner()
    s = ["--store", str(store_path)]
    r = run.invoke(app, ["insights", "match", "books and reading", "--json", *s])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["matches"][0]["n_people"] >= 50
    r = run.invoke(app, ["insights", "match", "plants", "--hashtag", "planttok", *s])
    assert r.exit_code == 0, r.output
    cid = json.loads(run.invoke(app, ["insights", "match", "plants", "--json", *s]).output)[
        "matches"][0]["community_id"]  # fmt: skip
    for args in (["ambassadors", str(cid), "--k", "20"], ["overlap"], ["brief", str(cid)],
                 ["campaign", ",".join(small.truth.campaigns[0].hashtags)]):  # fmt: skip
        r = run.invoke(app, ["insights", *args, *s])
        assert r.exit_code == 0, (args, r.output)
    r = run.invoke(app, ["insights", "ambassadors", "987654", *s])
    assert isinstance(r.exception, NotFound)
