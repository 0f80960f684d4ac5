"""The Store contract: every backend (DuckDB, PostgreSQL) must pass this suite.

Subclass :class:`StoreContract` and provide a ``store`` fixture returning a fresh,
migrated, empty store of your backend.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from communitok.core.errors import CommunitokError, InputError, NotFound
from communitok.core.schema import LOAD_ORDER, TABLES
from communitok.store.base import Store

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def videos(ids, views=None, tags=None, creator="c1"):
    n = len(ids)
    return pa.table(
        {
            "video_id": ids,
            "creator_id": [creator] * n,
            "created_at": pa.array(
                [T0 + timedelta(hours=i) for i in range(n)], pa.timestamp("us", tz="UTC")
            ),
            "view_count": views if views is not None else [None] * n,
            "hashtags": tags if tags is not None else [None] * n,
        }
    )


def events(n, start=0, viewer="u"):
    return pa.table(
        {
            "viewer_id": [f"{viewer}{i % 7}" for i in range(start, start + n)],
            "video_id": [f"v{i % 11}" for i in range(start, start + n)],
            "ts": pa.array(
                [T0 + timedelta(seconds=i) for i in range(start, start + n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "watch_time_s": [float(i % 30) for i in range(start, start + n)],
        }
    )


class StoreContract:
    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.backend in {"duckdb", "postgresql"}

    def test_fresh_store_is_migrated_and_empty(self, store: Store) -> None:
        assert store.schema_version() >= 1
        assert store.migrate() == []  # idempotent
        counts = store.counts()
        assert set(counts) == set(TABLES)
        assert all(v == 0 for v in counts.values())

    def test_stored_columns_match_core_specs(self, store: Store) -> None:
        for name in LOAD_ORDER:
            t = store.read(name, limit=0)
            assert t.column_names == TABLES[name].column_names, name
            for col in TABLES[name].columns:
                assert t.schema.field(col.name).type == col.type, (name, col.name)

    def test_upsert_merges_and_counts(self, store: Store) -> None:
        r1 = store.write("videos", videos(["a", "b"], views=[1, 2], tags=[["x"], None]))
        assert (r1.inserted, r1.updated, r1.unchanged) == (2, 0, 0)
        # null keeps stored value, non-null wins
        r2 = store.write(
            "videos", videos(["a", "b", "c"], views=[None, 5, 7], tags=[None, ["y"], []])
        )
        assert (r2.inserted, r2.updated, r2.unchanged) == (1, 1, 1)
        rows = {r["video_id"]: r for r in store.read("videos").to_pylist()}
        assert rows["a"]["view_count"] == 1 and rows["a"]["hashtags"] == ["x"]
        assert rows["b"]["view_count"] == 5 and rows["b"]["hashtags"] == ["y"]
        assert rows["c"]["hashtags"] == []
        assert store.count("videos") == 3

    def test_duplicate_keys_in_one_batch_merge_in_order(self, store: Store) -> None:
        store.write("videos", videos(["a", "a", "a"], views=[1, 9, None]))
        rows = store.read("videos").to_pylist()
        assert len(rows) == 1 and rows[0]["view_count"] == 9

    def test_events_insert_if_absent(self, store: Store) -> None:
        r1 = store.write("events", events(50))
        assert r1.inserted == 50
        r2 = store.write("events", events(60, start=40))  # 10 overlap
        assert r2.inserted == 50 and r2.unchanged == 10
        dup = pa.concat_tables([events(5, start=200), events(5, start=200)])
        assert store.write("events", dup).inserted == 5
        assert store.count("events") == 105

    def test_batch_ledger_makes_reload_a_no_op(self, store: Store) -> None:
        b = videos(["a"], views=[1])
        assert not store.has_batch("videos:abc")
        store.write("videos", b, batch_id="videos:abc")
        assert store.has_batch("videos:abc")
        again = store.write("videos", videos(["zz"]), batch_id="videos:abc")
        assert again.skipped_batch and again.inserted == 0
        assert store.count("videos") == 1

    def test_failed_batch_rolls_back_entirely(self, store: Store) -> None:
        store.write("videos", videos(["keep"], views=[3]))
        bad = pa.table(
            {"child_video_id": ["x", "y"], "parent_video_id": ["p", "q"], "kind": ["duet", "bogus"]}
        )
        with pytest.raises(CommunitokError):
            store.write("cocreation_links", bad, batch_id="links:1")
        assert store.count("cocreation_links") == 0
        assert not store.has_batch("links:1")
        assert store.count("videos") == 1

    def test_write_rejects_bad_schema(self, store: Store) -> None:
        with pytest.raises(InputError):
            store.write("videos", pa.table({"video_id": ["a"], "nope": [1]}))
        with pytest.raises(InputError):
            store.write("videos", pa.table({"video_id": ["a"]}))  # required columns missing
        with pytest.raises(NotFound):
            store.write("no_such_table", pa.table({"a": [1]}))

    def test_read_filters_columns_limit(self, store: Store) -> None:
        store.write("videos", videos(["a", "b", "c"], views=[1, 2, 3]))
        t = store.read("videos", ["video_id", "view_count"], filters={"video_id": ["a", "c"]})
        assert sorted(t.column("video_id").to_pylist()) == ["a", "c"]
        assert store.read("videos", filters={"video_id": "b"}).num_rows == 1
        assert store.read("videos", limit=2).num_rows == 2
        with pytest.raises(InputError):
            store.read("videos", ["video_id; drop table videos"])
        with pytest.raises(InputError):
            store.read("videos", limit=-1)

    def test_iter_batches_streams_everything(self, store: Store) -> None:
        store.write("events", events(250))
        total = sum(b.num_rows for b in store.iter_batches("events", ["viewer_id"], batch_rows=100))
        assert total == 250

    def test_query_portable_sql_with_params(self, store: Store) -> None:
        store.write("videos", videos(["a", "b"], views=[10, 20]))
        t = store.query("SELECT sum(view_count) AS v FROM videos WHERE view_count > ?", [15])
        assert t.column("v").to_pylist() == [20]

    def test_results_replace_atomically(self, store: Store) -> None:
        t1 = pa.table({"community_id": [1, 2], "name": ["a", "b"]})
        store.put_result("communities", t1, run_id="r1")
        assert store.has_result("communities")
        assert "communities" in store.result_names()
        store.put_result("communities", pa.table({"community_id": [3], "name": ["c"]}))
        assert store.read("communities").column("name").to_pylist() == ["c"]
        with pytest.raises(InputError):
            store.put_result("videos", t1)
        with pytest.raises(NotFound):
            store.read("never_written")

    def test_append_result_grows_the_log(self, store: Store) -> None:
        t1 = pa.table({"viewer_id": ["a", "b"], "score": [1.0, 2.0]})
        assert store.append_result("log", t1, run_id="r1") == 2
        t2 = pa.table({"score": [3.0], "viewer_id": ["c"]})  # column order may differ
        assert store.append_result("log", t2) == 3
        got = store.read("log")
        assert sorted(got.column("viewer_id").to_pylist()) == ["a", "b", "c"]
        assert sorted(got.column("score").to_pylist()) == [1.0, 2.0, 3.0]
        with pytest.raises(InputError):
            store.append_result("log", pa.table({"other": [1]}))
        assert store.read("log").num_rows == 3  # refused append changed nothing
        with pytest.raises(InputError):
            store.append_result("events", t1)

    def test_runs_are_recorded(self, store: Store) -> None:
        rid = store.start_run("detect", {"resolution": 0.1}, seed=7, input_fingerprint="abc")
        running = store.runs(kind="detect")
        assert running[0].status == "running"
        rec = store.finish_run(rid, "ok", {"communities": 12})
        assert rec.status == "ok" and rec.seed == 7 and rec.params == {"resolution": 0.1}
        assert rec.summary == {"communities": 12} and rec.duration_s is not None
        with pytest.raises(NotFound):
            store.finish_run("nope")
        with pytest.raises(InputError):
            store.finish_run(rid, "weird")

    def test_unicode_round_trip(self, store: Store) -> None:
        text = "抖音 🎉 caf\u00e9 \r line"
        t = videos(["u1"])
        t = t.append_column("description", pa.array([text]))
        store.write("videos", t)
        assert store.read("videos", ["description"]).column(0).to_pylist() == [text]

    # --- types that must come back exactly (every backend) ------------------------------
    def test_core_values_round_trip_exactly(self, store: Store) -> None:
        t = videos(["a", "b", "c"], views=[1, None, 3], tags=[["x", None, "é"], [], None])
        t = t.append_column("description", pa.array(["抖音 🎉", "", None]))
        store.write("videos", t)
        got = store.read("videos", ["video_id", "created_at", "view_count", "hashtags",
                                    "description"]).sort_by("video_id")  # fmt: skip
        assert got.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
        assert got.column("created_at").to_pylist() == t.column("created_at").to_pylist()
        assert got.column("view_count").to_pylist() == [1, None, 3]
        assert got.column("hashtags").to_pylist() == [["x", None, "é"], [], None]
        assert got.column("description").to_pylist() == ["抖音 🎉", "", None]

    def test_result_types_round_trip(self, store: Store) -> None:
        item = pa.struct([("item", pa.string()), ("lift", pa.float64()), ("videos", pa.int64())])
        at = pa.struct([("n", pa.int64()), ("who", pa.string())])
        t = pa.table(
            {
                "i32": pa.array([1, None], pa.int32()),
                "f32": pa.array([1.5, None], pa.float32()),
                "day": pa.array([T0.date(), None], pa.date32()),
                "tags": pa.array([["a", None], []], pa.list_(pa.string())),
                "ranked": pa.array(
                    [[{"item": "s1", "lift": 2.5, "videos": 3}], []], pa.list_(item)
                ),
                "nested": pa.array([[[1, 2], [3]], None], pa.list_(pa.list_(pa.int64()))),
                "seen": pa.array([{"n": 7, "who": "ü"}, None], at),
                "ts": pa.array([T0, None], pa.timestamp("us", tz="UTC")),
            }
        )
        store.put_result("typed", t)
        got = store.read("typed")
        assert got.column_names == t.column_names
        for f in t.schema:
            assert got.schema.field(f.name).type == f.type, f.name
        assert got.to_pylist() == t.to_pylist()
        assert (
            store.read("typed", ["ranked", "i32"]).to_pylist()
            == t.select(["ranked", "i32"]).to_pylist()
        )
        store.append_result("typed", t.slice(0, 1))
        assert store.read("typed").to_pylist() == t.to_pylist() + t.slice(0, 1).to_pylist()
        d = pa.table({"label": pa.array(["x", "y", "x"]).dictionary_encode()})
        store.put_result("labels", d)
        assert store.read("labels").column("label").to_pylist() == ["x", "y", "x"]

    def test_query_aggregates_and_empty_filters(self, store: Store) -> None:
        store.write("videos", videos(["a", "b", "c"], views=[10, 20, 31]))
        t = store.query(
            "SELECT sum(view_count) AS s, avg(view_count) AS m, count(*) AS n FROM videos"
        )
        assert t.to_pylist() == [{"s": 61, "m": pytest.approx(61 / 3), "n": 3}]
        assert pa.types.is_integer(t.schema.field("n").type)
        assert store.read("videos", filters={"video_id": []}).num_rows == 0

    def test_iter_batches_bounds_batch_size(self, store: Store) -> None:
        store.write("events", events(250))
        sizes = [b.num_rows for b in store.iter_batches("events", batch_rows=64)]
        assert sum(sizes) == 250 and max(sizes) <= 64
        b = next(iter(store.iter_batches("events", ["ts"], batch_rows=10)))
        assert b.schema.field("ts").type == pa.timestamp("us", tz="UTC")

    def test_in_key_order_is_the_same_on_every_backend(self, store: Store) -> None:
        from communitok.store.base import in_key_order

        store.write("videos", videos(["b", "a", "é", "B"]))
        store.write("videos", videos(["a"], views=[5]))  # an update may move a row
        got = in_key_order(store.read("videos", ["video_id"]), "videos")
        assert got.column("video_id").to_pylist() == ["B", "a", "b", "é"]
        with pytest.raises(InputError):
            in_key_order(got, "not_a_table")
