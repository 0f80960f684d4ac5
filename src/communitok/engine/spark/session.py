"""Spark session and the commit protocol every job uses.

A job writes all of its parts under a hidden temporary folder beside *out* and renames
it into place only when every part is written, so a job killed mid-way leaves either
the previous complete output or none, never a partial or duplicated one; a rerun first
removes stale temporary folders. Renames are atomic on a local / POSIX file system (on
object stores use a committing output format).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ...core.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_TMP, _OLD = "._tmp-", "._old-"
MANIFEST = "_COMMITTED.json"


def spark_session(
    master: str = "local[2]", *, app: str = "communitok", **conf: str
) -> SparkSession:
    """A local SparkSession bound to 127.0.0.1, UI off, few shuffle partitions, UTC."""
    if not isinstance(master, str) or not master:
        raise InputError("must be a Spark master URL such as local[2]", field="master")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    settings = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": "1g",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **conf,
    }
    b = SparkSession.builder.master(master).appName(app)
    for k, v in settings.items():
        b = b.config(k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


def _before_rename(tmp: Path) -> None:
    """Hook between writing and committing (tests patch it to simulate a crash)."""


def commit(out: str | Path, parts: Mapping[str, DataFrame], meta: Mapping[str, Any]) -> Path:
    """Write *parts* (name → DataFrame) as Parquet folders under a temporary folder,
    then rename it to *out* (replacing a previous output)."""
    if not parts:
        raise InputError("a job must write at least one part", field="parts")
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}{_TMP}*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out.parent / f".{out.name}{_TMP}{uuid.uuid4().hex[:12]}"
    rows = {}
    for name, df in parts.items():
        df.write.mode("errorifexists").parquet(str(tmp / name))
        if not (tmp / name / "_SUCCESS").exists():
            raise RuntimeError(f"Spark did not finish writing {tmp / name}")
        rows[name] = df.sparkSession.read.parquet(str(tmp / name)).count()
    (tmp / MANIFEST).write_text(json.dumps({**meta, "rows": rows}, indent=1, default=str))
    _before_rename(tmp)
    old = None
    if out.exists():
        old = out.parent / f".{out.name}{_OLD}{uuid.uuid4().hex[:12]}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}{_OLD}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return out


def manifest(out: str | Path) -> dict[str, Any]:
    """The committed manifest of a job's output (parameters, row counts per part)."""
    path = Path(out) / MANIFEST
    if not path.exists():
        raise InputError(f"{out} holds no committed job output", field="out")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def read_output(out: str | Path, part: str) -> pa.Table:
    """One committed part of a job's output as an Arrow table (raises if uncommitted)."""
    import pyarrow.parquet as pq

    out = Path(out)
    manifest(out)
    files = sorted((out / part).glob("*.parquet"))
    if not files:
        return pq.read_table(out / part) if (out / part).exists() else pa.table({})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def check_path(value: str | Path, field: str) -> str:
    """An existing input file or folder, as a string for Spark."""
    if not isinstance(value, str | Path) or not str(value):
        raise InputError("must be a path", field=field)
    if not Path(value).exists():
        raise InputError(f"{value} does not exist", field=field)
    return str(value)
