"""PostgreSQL fixtures shared by the store tests: a throwaway local server
(scripts/pg-test-server.sh, or ``COMMUNITOK_TEST_PG_DSN``) and a fresh schema per test."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

REPO = Path(__file__).resolve().parents[2]


def _dsn() -> str | None:
    dsn = os.environ.get("COMMUNITOK_TEST_PG_DSN")
    if dsn:
        return dsn
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "pg-test-server.sh")], capture_output=True, text=True
    )
    for line in out.stdout.splitlines():
        if line.startswith("export COMMUNITOK_TEST_PG_DSN="):
            return line.split("=", 1)[1]
    return None


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of a PostgreSQL server; skips (outside CI only) when none can be started."""
    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    dsn = _dsn()
    if dsn is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide a PostgreSQL server (scripts/pg-test-server.sh)")
        pytest.skip("no PostgreSQL server could be started here (scripts/pg-test-server.sh)")
    return dsn


def fresh_schema(pg_dsn: str, prefix: str) -> Iterator[str]:
    """A DSN whose search_path is a new, empty schema named *prefix*…; the schema is
    dropped when the generator is closed (a fixture's teardown)."""
    import psycopg

    name = prefix + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in pg_dsn else "?"
    yield f"{pg_dsn}{sep}options={quote(f'-csearch_path={name}')}"
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A DSN whose search_path is a fresh, empty schema (dropped afterwards)."""
    yield from fresh_schema(pg_dsn, "t_")
