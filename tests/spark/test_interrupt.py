"""A Spark job killed for real (SIGKILL of the driver and its JVM) half-way through its
output, then rerun: the output is complete and nothing is duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # only reason to skip: the optional extra is absent
    pytest.skip(
        f"pyspark is not importable ({exc}): pip install 'communitok[spark]' to run tests/spark",
        allow_module_level=True,
    )

from communitok.engine import spark as sj

JOB = """
import sys
from communitok.engine.spark import hashtag_cooccurrence, spark_session
spark = spark_session("local[1]", app="communitok-killed")
hashtag_cooccurrence(spark, sys.argv[1], sys.argv[2])
print("committed", flush=True)
"""


def rows(t) -> list[tuple]:
    return sorted(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))


def test_killed_job_leaves_nothing_visible_and_rerun_is_complete(
    spark, sim: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hashtags"
    script = tmp_path / "job.py"
    script.write_text(JOB)
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(sim / "videos.parquet"), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    killed = False
    deadline = time.monotonic() + 240
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            # the first part is written; the second is being written: kill the whole job
            if list(tmp_path.glob(".hashtags._tmp-*/tags/_SUCCESS")):
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and not killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert killed, "the job finished (or failed) before it could be killed"
    assert not out.exists()  # nothing half-written is visible
    assert len(list(tmp_path.glob(".hashtags._tmp-*"))) == 1
    with pytest.raises(Exception, match="no committed"):
        sj.read_output(out, "pairs")
    sj.hashtag_cooccurrence(spark, sim / "videos.parquet", out)
    assert not list(tmp_path.glob(".hashtags._*"))  # the stale folder is gone
    tags, pairs, n = sj.hashtag_cooccurrence_single(pq.read_table(sim / "videos.parquet"))
    assert rows(sj.read_output(out, "pairs")) == rows(pairs)
    assert rows(sj.read_output(out, "tags")) == rows(tags)
    man = sj.manifest(out)
    assert man["rows"] == {"tags": tags.num_rows, "pairs": pairs.num_rows} and man["n_videos"] == n
