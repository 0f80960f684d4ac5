"""The CLI through a real subprocess: exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = [sys.executable, "-m", "communitok.cli.app"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ingest_then_status(tmp_path: Path) -> None:
    f = tmp_path / "videos.jsonl"
    f.write_text(
        '{"video_id": "1", "creator_id": "a", "created_at": 1714557600}\n'
        '{"video_id": "2", "creator_id": "", "created_at": 1714557600}\n'
    )
    r = run("ingest", str(f), "--json", "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["rows_good"] == 1 and out["rows_rejected"] == 1
    assert Path(out["rejects_path"]).is_file()
    r = run("status", "--json", "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["counts"]["videos"] == 1
    assert st["runs"][0]["kind"] == "ingest" and st["runs"][0]["status"] == "ok"


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    r = run(
        "ingest", str(tmp_path / "nope.csv"), "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path
    )
    assert r.returncode == 2
    assert "file not found" in r.stderr and "Traceback" not in r.stderr
    r = run("status", "--store", str(tmp_path / "missing" / "s.duckdb"), cwd=tmp_path)
    assert r.returncode == 2 and "folder does not exist" in r.stderr
    r = run("bogus-command", cwd=tmp_path)
    assert r.returncode != 0
