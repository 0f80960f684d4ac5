from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from communitok.core import InputError, Video, ViewEvent, load_settings, table_spec
from communitok.core.errors import CommunitokError, NotFound
from communitok.core.seeds import derive_seed, rng, stable_hash
from communitok.core.timeutil import parse_timestamp


def test_settings_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[communitok]\nstore = "from-file.duckdb"\nprivacy_k = 20\n')
    s = load_settings(env={"COMMUNITOK_PRIVACY_K": "75"}, config_file=cfg)
    assert s.store == "from-file.duckdb" and s.privacy_k == 75
    s2 = load_settings(env={"COMMUNITOK_STORE": "postgresql://x/db"}, store=None)
    assert s2.backend == "postgresql"
    assert load_settings(env={}).store == "communitok.duckdb"
    assert load_settings(env={}, store="duckdb:///tmp/a.duckdb").duckdb_path == "/tmp/a.duckdb"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"COMMUNITOK_PRIVACY_K": "zero"}, "COMMUNITOK_PRIVACY_K"),
        ({"COMMUNITOK_PRIVACY_K": "0"}, "privacy_k"),
        ({"COMMUNITOK_PORT": "70000"}, "port"),
        ({"COMMUNITOK_BATCH_ROWS": "-1"}, "batch_rows"),
    ],
)
def test_settings_validation(env: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as exc:
        load_settings(env=env)
    assert exc.value.field == field


def test_unknown_setting_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("colour = 'blue'\n")
    with pytest.raises(InputError, match="unknown setting"):
        load_settings(env={}, config_file=cfg)


def test_timestamps_epoch_and_iso() -> None:
    t = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_timestamp(1714557600) == t
    assert parse_timestamp("1714557600") == t
    assert parse_timestamp(1714557600000) == t  # ms
    assert parse_timestamp(1714557600000000) == t  # µs
    assert parse_timestamp("2024-05-01T10:00:00Z") == t
    assert parse_timestamp("2024-05-01T12:00:00+02:00") == t
    assert parse_timestamp(datetime(2024, 5, 1, 10)) == t
    assert parse_timestamp(datetime(2024, 5, 1, 11, tzinfo=timezone(timedelta(hours=1)))) == t
    for bad in ("", "yesterday", None, True, float("nan")):
        with pytest.raises(InputError):
            parse_timestamp(bad)


def test_domain_types_validate() -> None:
    v = Video("1", "c", 1714557600, hashtags=["booktok"])
    assert v.created_at.tzinfo is not None
    assert Video.to_arrow([v]).schema == table_spec("videos").schema
    with pytest.raises(InputError, match="video_id"):
        Video("", "c", 0)
    with pytest.raises(InputError, match="view_count"):
        Video("1", "c", 0, view_count=-1)
    with pytest.raises(InputError, match="watch_time_s"):
        ViewEvent("u", "v", 0, watch_time_s=-3)
    assert (
        ViewEvent.from_dict(
            {"viewer_id": "u", "video_id": "v", "ts": "2024-01-01T00:00:00Z"}
        ).ts.year
        == 2024
    )
    with pytest.raises(InputError, match="unknown fields"):
        ViewEvent.from_dict({"viewer_id": "u", "video_id": "v", "ts": 0, "colour": 1})


def test_errors_hierarchy() -> None:
    e = InputError("bad value", source="f.csv", line=3, field="ts")
    assert str(e) == "f.csv:3: field 'ts': bad value"
    assert isinstance(e, CommunitokError) and e.status_code == 422
    assert NotFound("x").status_code == 404
    with pytest.raises(NotFound):
        table_spec("nope")


def test_seeds() -> None:
    assert rng(3).integers(0, 100, 5).tolist() == rng(3).integers(0, 100, 5).tolist()
    assert derive_seed(1, "a") == derive_seed(1, "a") != derive_seed(1, "b")
    assert stable_hash("x", 1) == stable_hash("x", 1)
    for bad in (None, -1, 1.5, True):
        with pytest.raises(InputError):
            rng(bad)
