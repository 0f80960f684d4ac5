"""PostgreSQL reads: Arrow through ADBC, the psycopg-rows fallback (same contract), a
lost reader connection, and how result tables keep their Arrow schema."""

from __future__ import annotations

import pyarrow as pa
import pytest

from .contract import StoreContract, videos


@pytest.fixture
def pg(schema_dsn: str):
    from communitok.store.postgres_store import PostgresStore

    s = PostgresStore(schema_dsn)
    yield s
    s.close()


class TestPostgresRowsContract(StoreContract):
    """The whole contract with reads built from psycopg rows (no ADBC driver)."""

    @pytest.fixture
    def store(self, pg):
        if pg._reader is not None:
            pg._reader.close()
        pg._reader = None  # what a store without adbc-driver-postgresql does
        return pg


def test_reads_go_through_adbc(pg) -> None:
    pytest.importorskip("adbc_driver_postgresql")
    assert pg._reader is not None
    pg.write("videos", videos(["a", "b"], views=[1, 2], tags=[["x"], None]))
    before = pg._reader._conn
    assert pg.read("videos").num_rows == 2
    assert pg._reader._conn is not None and pg._reader._conn is not before


def test_lost_reader_connection_gives_clear_error_then_reconnects(pg, schema_dsn) -> None:
    import psycopg

    from communitok.core.errors import StoreError

    pytest.importorskip("adbc_driver_postgresql")
    pid = pg.query("SELECT pg_backend_pid() AS pid")["pid"][0].as_py()
    assert pid != pg._conn.info.backend_pid  # reads have their own connection
    with psycopg.connect(schema_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(StoreError, match="connection lost, the next call reconnects"):
        pg.query("SELECT 1 AS one")
    assert pg.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]


def test_bad_sql_is_a_store_error_and_the_reader_recovers(pg) -> None:
    from communitok.core.errors import StoreError

    with pytest.raises(StoreError, match="query failed"):
        pg.query("SELECT nope FROM videos")
    assert pg.query("SELECT count(*) AS n FROM videos").to_pylist() == [{"n": 0}]


def test_nested_result_columns_are_jsonb_and_keep_their_type(pg) -> None:
    item = pa.struct([("item", pa.string()), ("lift", pa.float64())])
    t = pa.table(
        {
            "community_id": pa.array([1, 2], pa.int32()),
            "signature": pa.array([[{"item": "s1", "lift": 2.5}], None], pa.list_(item)),
        }
    )
    pg.put_result("profiles", t)
    types = dict(
        pg._rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'result_profiles' AND table_schema = current_schema()"
        )
    )
    assert types == {"community_id": "bigint", "signature": "jsonb"}
    # SQL sees JSON; a read gives back the Arrow types that were put
    q = pg.query("SELECT signature -> 0 ->> 'item' AS first FROM result_profiles ORDER BY 1")
    assert q.column("first").to_pylist() == ["s1", None]
    assert pg.read("profiles").schema == t.schema
    assert pg.read("profiles").to_pylist() == t.to_pylist()
    assert [b.schema for b in pg.iter_batches("profiles")] == [t.schema]


def test_query_types_are_communitoks(pg) -> None:
    pg.write("videos", videos(["a", "b"], views=[1, 2], tags=[["x"], []]))
    t = pg.query(
        "SELECT CAST(1 AS INTEGER) AS i4, CAST(1.5 AS REAL) AS f4, sum(view_count) AS s, "
        "avg(view_count) AS m, min(created_at) AS t0, "
        "min(created_at AT TIME ZONE 'UTC') AS naive FROM videos"
    )
    types = {f.name: f.type for f in t.schema}
    assert types["i4"] == types["s"] == pa.int64()
    assert types["f4"] == types["m"] == pa.float64()
    assert types["t0"] == types["naive"] == pa.timestamp("us", tz="UTC")
    assert t.column("naive").to_pylist() == t.column("t0").to_pylist()
    assert all(not f.metadata for f in t.schema)
