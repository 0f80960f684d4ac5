"""Content brief and the ``communitok insights`` CLI."""

from __future__ import annotations

import json
import re

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
    assert all(r["n_people"] >= 50 for r in b.posting_windows.to_pylist() + b.sounds)
    # every figure carries its interval
    assert all(r["api_low"] <= r["actions_per_impression"] <= r["api_high"]
               for r in b.posting_windows.to_pylist())  # fmt: skip
    assert all(r["share_low"] <= r["share"] <= r["share_high"] for r in b.sounds)
    sig = set(small.truth.community("planttok").sounds)
    assert sig & {r["item"] for r in b.sounds}  # the planted signature sounds
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


def test_content_brief_moderated(listened, small) -> None:
    cid = detected_for(listened, small.truth.community("planttok"))
    b = ei.content_brief(listened, cid, k=50).to_dict()
    assert b["lingo"] and all(r["n_people"] >= 50 for r in b["lingo"])
    assert set(small.truth.community("planttok").lingo) & {r["term"] for r in b["lingo"]}
    assert all(" | " in r["example"] or r["example"] for r in b["lingo"])


def test_cli(store_path, small, tmp_path) -> None:
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
    # the old names keep working
    for args in (["ambassadors", str(cid), "--k", "20"], ["overlap"], ["brief", str(cid)],
                 ["campaign", ",".join(small.truth.campaigns[0].hashtags), "--n-boot", "100"]):  # fmt: skip
        r = run.invoke(app, ["insights", *args, *s])
        assert r.exit_code == 0, (args, r.output)
    r = run.invoke(app, ["insights", "ambassadors", "987654", *s])
    assert isinstance(r.exception, NotFound)


def test_partner_cli_exports(store_path, small, tmp_path) -> None:
    from communitok.cli.app import app

    run = CliRunner()
    s = ["--store", str(store_path)]
    brief = tmp_path / "brief.txt"
    brief.write_text("Indoor plants, plant care and houseplant lovers", encoding="utf-8")
    out = tmp_path / "m.csv"
    r = run.invoke(app, ["partner", "match", str(brief), "--format", "csv", "--out", str(out), *s])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("section,") and "planttok" in out.read_text()
    cid = detected_for_path(store_path, small)
    for cmd in (["listen", str(cid)], ["content-brief", str(cid)],
                ["ambassadors", str(cid), "--top", "5"], ["overlap", "--top", "3"]):  # fmt: skip
        for fmt in ("json", "html"):
            f = tmp_path / f"{cmd[0]}.{fmt}"
            r = run.invoke(app, ["partner", *cmd, "--format", fmt, "--out", str(f), *s])
            assert r.exit_code == 0, (cmd, r.output)
            text = f.read_text(encoding="utf-8")
            if fmt == "json":
                assert json.loads(text)["k"] == 50
            else:
                assert text.startswith("<!DOCTYPE html>") and "Plotly" in text
        r = run.invoke(app, ["partner", *cmd, *s])  # terminal tables
        assert r.exit_code == 0, (cmd, r.output)
    c = small.truth.campaigns[0]
    win = f"{c.start.isoformat()}/{c.end.isoformat()}"
    r = run.invoke(app, ["partner", "campaign", "--hashtags", ",".join(c.hashtags), "--window",
                         win, "--design", "did", "--n-boot", "100", "--format", "json", *s])  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["design"] == "did" and {e["estimator"] for e in d["estimates"]} == {"did", "synthetic"}
    # the planted fake-engagement creators' videos are left out, and the note counts their
    # impressions only when they come from k or more viewers
    (left_out,) = [n for n in d["notes"] if "flagged for fake engagement" in n]
    shown = re.search(r"\((\d+) viewers\)", left_out)
    assert (int(shown.group(1)) >= 50) if shown else ("fewer than k=50" in left_out), left_out
    # bad input: an empty brief, a one-word stop word, a window without data, bad formats
    for args, code in ((["match", " "], 2), (["match", "the"], 2),
                       (["campaign", "--hashtags", c.hashtags[0], "--window",
                         "2031-01-01T00:00:00Z/2031-01-02T00:00:00Z"], 2),
                       (["campaign", "--hashtags", c.hashtags[0], "--window", "2031-01-01"], 2),
                       (["listen", str(cid), "--format", "pdf"], 2),
                       (["listen", str(cid), "--out", str(tmp_path / "x")], 2)):  # fmt: skip
        r = run.invoke(app, ["partner", *args, *s])
        assert r.exit_code != 0 and getattr(r.exception, "exit_code", code) == code, (
            args,
            r.output,
        )


def detected_for_path(store_path, small) -> int:
    from communitok.store import DuckDBStore

    with DuckDBStore(store_path) as st:
        return detected_for(st, small.truth.community("planttok"))
