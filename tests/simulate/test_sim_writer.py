"""write_dataset: every format round-trips to the in-memory tables; the truth bundle reloads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from communitok.core.errors import Conflict, InputError, NotFound
from communitok.core.schema import LOAD_ORDER, TABLES
from communitok.simulate import SimConfig, SimResult, load_truth, simulate, write_dataset
from communitok.simulate.writer import to_jsonl


@pytest.fixture(scope="module")
def small_cfg() -> SimConfig:
    return SimConfig.preset("tiny", seed=5, n_events=4_000, n_comments=600, chunk_size=1_500)


@pytest.fixture(scope="module")
def expected(small_cfg: SimConfig) -> SimResult:
    return simulate(small_cfg)


def _norm(value: object) -> object:
    """Python value → what the text formats carry (ISO strings with Z for times)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _decode_text(field: pa.Field, value: object) -> object:
    if value is None or value == "":
        return None if not pa.types.is_string(field.type) or value is None else value
    if pa.types.is_list(field.type):
        return json.loads(value)
    if pa.types.is_boolean(field.type):
        return {"true": True, "false": False}[value]
    if pa.types.is_integer(field.type):
        return int(value)
    if pa.types.is_floating(field.type):
        return float(value)
    return value


def _rows(table: pa.Table) -> list[dict]:
    return [{k: _norm(v) for k, v in row.items()} for row in table.to_pylist()]


def _read_csv(path: Path, schema: pa.Schema) -> list[dict]:
    convert = pcsv.ConvertOptions(
        column_types={f.name: pa.string() for f in schema}, strings_can_be_null=False
    )
    t = pcsv.read_csv(path, convert_options=convert)
    assert t.column_names == schema.names
    out = []
    for row in t.to_pylist():
        rec = {}
        for f in schema:
            v = row[f.name]
            rec[f.name] = (
                None
                if v == "" and not (pa.types.is_string(f.type) and not f.nullable)
                else _decode_text(f, v)
            )
        out.append(rec)
    return out


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_round_trip(fmt: str, small_cfg: SimConfig, expected: SimResult, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    info = write_dataset(small_cfg, tmp_path, fmt, progress=lambda *a: seen.append(a))
    assert info.rows == {name: expected[name].num_rows for name in LOAD_ORDER}
    assert [p.name for p in info.files.values()] == [f"{n}.{fmt}" for n in LOAD_ORDER]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == fmt and manifest["rows"] == info.rows
    assert SimConfig.from_dict(manifest["config"]) == small_cfg
    ev_progress = [s for s in seen if s[0] == "events"]
    assert len(ev_progress) >= 3 and ev_progress[-1][1:] == (small_cfg.n_events, small_cfg.n_events)
    for name in LOAD_ORDER:
        path = info.files[name]
        schema = TABLES[name].schema
        if fmt == "parquet":
            got = pq.read_table(path)
            assert got.schema.equals(schema)
            assert got.equals(expected[name]), name
        else:
            rows = _read_csv(path, schema) if fmt == "csv" else _read_jsonl(path)
            assert rows == _rows(expected[name]), name
    assert load_truth(info.truth_dir) == expected.truth


def test_text_formats_use_json_arrays_and_iso_z(tmp_path: Path, small_cfg: SimConfig) -> None:
    info = write_dataset(small_cfg, tmp_path / "csv", "csv")
    head = (tmp_path / "csv" / "videos.csv").read_text(encoding="utf-8").splitlines()
    assert head[0].startswith('"video_id","creator_id","created_at"')
    first = (
        pcsv.read_csv(
            info.files["videos"],
            convert_options=pcsv.ConvertOptions(
                column_types={f.name: pa.string() for f in TABLES["videos"].schema}
            ),
        )
        .slice(0, 1)
        .to_pylist()[0]
    )
    assert first["created_at"].endswith("Z") and "T" in first["created_at"]
    assert isinstance(json.loads(first["hashtags"]), list)
    line = (tmp_path / "csv").parent.joinpath("j")
    info = write_dataset(small_cfg, line, "jsonl")
    rec = json.loads(info.files["videos"].read_text(encoding="utf-8").splitlines()[0])
    assert rec["created_at"].endswith("Z") and isinstance(rec["hashtags"], list)
    assert rec["source"] == "simulate"


def test_jsonl_escapes_awkward_text() -> None:
    t = pa.table(
        {"s": ['a "quoted"\\ word\nnew\tline\r', None, "emoji 😂 中文"], "l": [['x"y'], [], None]}
    )
    lines = to_jsonl(t).to_pybytes().decode().splitlines()
    assert [json.loads(x) for x in lines] == [
        {"s": 'a "quoted"\\ word\nnew\tline\r', "l": ['x"y']},
        {"s": None, "l": []},
        {"s": "emoji 😂 中文", "l": None},
    ]


def test_truth_bundle_reloads_with_tables(tmp_path: Path, expected: SimResult) -> None:
    path = expected.truth.save(tmp_path / "truth")
    assert (path / "truth.json").is_file()
    again = load_truth(path)
    assert again == expected.truth
    assert set(again.tables) == set(expected.truth.tables)
    for name, table in expected.truth.tables.items():
        assert again.table(name).equals(table), name
    assert again.bursts[0].start.tzinfo is not None
    with pytest.raises(NotFound):
        load_truth(tmp_path / "nowhere")


def test_refuses_to_overwrite_and_checks_format(tmp_path: Path, small_cfg: SimConfig) -> None:
    write_dataset(small_cfg, tmp_path, "parquet")
    with pytest.raises(Conflict):
        write_dataset(small_cfg, tmp_path, "parquet")
    info = write_dataset(small_cfg, tmp_path, "parquet", overwrite=True)
    assert info.rows["events"] == small_cfg.n_events
    assert pq.ParquetFile(info.files["events"]).metadata.num_row_groups >= 3  # chunked writes
    with pytest.raises(InputError) as e:
        write_dataset(small_cfg, tmp_path / "x", "xlsx")
    assert e.value.field == "format"
