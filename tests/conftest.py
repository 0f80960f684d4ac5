"""Shared fixtures: the real data folder (../shared/data) and fresh stores."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data sets; they sit beside the repository in CI."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not found (../shared/data sits beside the repo in CI)")
    return SHARED_DATA


@pytest.fixture
def duck(tmp_path: Path):
    from communitok.store import DuckDBStore

    store = DuckDBStore(tmp_path / "test.duckdb")
    yield store
    store.close()
