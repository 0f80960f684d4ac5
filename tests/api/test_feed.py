"""The For You feed over HTTP: served with reasons, sessions updated by POST /v1/events,
previews, cold start, moderation labels, bounds. Own copy of the tiny store with
communities detected (community-aware feed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

pytest.importorskip("communitok.engine.feed")

from fastapi.testclient import TestClient

from communitok.api import SCOPES, create_app
from communitok.engine import open_engine

from .helpers import GENEROUS, assert_error, auth


@pytest.fixture(scope="module")
def world(fresh_settings: Any) -> Iterator[dict[str, Any]]:
    eng = open_engine(fresh_settings())
    try:
        from communitok.engine.communities import detect_communities

        detect_communities(eng.store)
    except ImportError:
        pass
    app = create_app(eng, rate_limits=GENEROUS, dashboard=False)
    keys = {s: app.state.api.keys.create(s)[0] for s in SCOPES}
    viewers = eng.store.read("viewers", ["viewer_id"], limit=5).column(0).to_pylist()
    yield {"c": TestClient(app, raise_server_exceptions=False), "keys": keys, "viewers": viewers}
    eng.close()


def _h(w: dict[str, Any], scope: str) -> dict[str, str]:
    return auth(w["keys"][scope])


def test_feed_trains_on_first_use_and_explains(world: dict[str, Any]) -> None:
    c = world["c"]
    assert_error(c.get("/v1/feed", headers=_h(world, "analyst")), 404, "not_found")
    r = c.get(f"/v1/feed/{world['viewers'][0]}?k=10", headers=_h(world, "viewer-service"))
    assert r.status_code == 200, r.text
    feed = r.json()
    ids = [i["video_id"] for i in feed["items"]]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert [i["rank"] for i in feed["items"]] == list(range(1, 11))
    assert all(i["why"] and i["reason_kind"] for i in feed["items"])
    status = c.get("/v1/feed", headers=_h(world, "analyst")).json()
    assert status["videos"] == 800 and status["variants"]


def test_serving_never_repeats_but_previews_do_not_mark(world: dict[str, Any]) -> None:
    c, v = world["c"], world["viewers"][1]
    a = [
        i["video_id"]
        for i in c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "analyst")).json()["items"]
    ]
    b = [
        i["video_id"]
        for i in c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "analyst")).json()["items"]
    ]
    assert a == b  # an analyst only previews
    s1 = [
        i["video_id"]
        for i in c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "viewer-service")).json()["items"]
    ]
    s2 = [
        i["video_id"]
        for i in c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "viewer-service")).json()["items"]
    ]
    assert not set(s1) & set(s2)  # served items are not served again


def test_event_updates_the_next_feed(world: dict[str, Any]) -> None:
    c, v = world["c"], world["viewers"][2]
    vs = _h(world, "viewer-service")
    before = [
        i["video_id"] for i in c.get(f"/v1/feed/{v}?k=10&preview=true", headers=vs).json()["items"]
    ]
    t0 = time.perf_counter()
    r = c.post(
        "/v1/events",
        json={"viewer_id": v, "video_id": before[0], "not_interested": True},
        headers=vs,
    )
    assert r.status_code == 202 and r.json()["session_updated"] is True
    after = [
        i["video_id"] for i in c.get(f"/v1/feed/{v}?k=10&preview=true", headers=vs).json()["items"]
    ]
    reflected_ms = (time.perf_counter() - t0) * 1000
    assert before[0] not in after
    assert reflected_ms < 1000
    assert c.delete(f"/v1/feed/{v}/session", headers=vs).status_code == 204


def test_cold_start_with_interests(world: dict[str, Any]) -> None:
    c = world["c"]
    r = c.get(
        "/v1/feed/brand-new-viewer?k=5&interests=cleantok&interests=booktok",
        headers=_h(world, "analyst"),
    )
    feed = r.json()
    assert r.status_code == 200 and feed["cold_start"] is True and len(feed["items"]) == 5
    plain = c.get("/v1/feed/another-new-viewer?k=5", headers=_h(world, "analyst")).json()
    assert plain["cold_start"] is True and plain["items"]


def test_reviewer_hiding_a_video_removes_it_from_feeds(world: dict[str, Any]) -> None:
    if importlib_missing("communitok.engine.safety"):
        pytest.skip("no safety engine")
    c, v = world["c"], world["viewers"][3]
    top = c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "analyst")).json()["items"][0]["video_id"]
    body = {"item_kind": "video", "item_id": top, "label": "hidden", "reason": "test"}
    assert (
        c.post("/v1/safety/decisions", json=body, headers=_h(world, "analyst")).status_code == 201
    )
    again = [
        i["video_id"]
        for i in c.get(f"/v1/feed/{v}?k=5", headers=_h(world, "analyst")).json()["items"]
    ]
    assert top not in again


def test_bad_feed_requests(world: dict[str, Any]) -> None:
    c, h = world["c"], _h(world, "viewer-service")
    assert_error(c.get("/v1/feed/u1?k=0", headers=h), 422)
    assert_error(c.get("/v1/feed/u1?k=100000", headers=h), 422)
    assert_error(c.get("/v1/feed/u1?k=2&k=3", headers=h), 422)
    assert_error(c.get("/v1/feed/u1", headers=_h(world, "partner")), 403)
    assert_error(
        c.post("/v1/feed/train", json={"window_days": -1}, headers=_h(world, "analyst")), 422
    )
    viewers = c.get("/v1/feed/viewers?limit=3", headers=_h(world, "analyst")).json()["items"]
    assert len(viewers) == 3


def test_retrain(world: dict[str, Any]) -> None:
    r = world["c"].post("/v1/feed/train", json={}, headers=_h(world, "analyst"))
    assert r.status_code == 200 and r.json()["videos"] == 800


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


def test_bad_input_over_http(world: dict[str, Any]) -> None:
    c, vs = world["c"], _h(world, "viewer-service")
    # an unknown viewer gets a cold-start feed, never an error
    r = c.get("/v1/feed/nobody-we-know?k=5&preview=true", headers=vs)
    assert r.status_code == 200 and r.json()["cold_start"] and len(r.json()["items"]) == 5
    # the largest k is served (capped by the catalogue), one more is refused
    big = c.get("/v1/feed/nobody-we-know?k=1000&preview=true", headers=vs).json()["items"]
    assert 0 < len(big) <= 800 and len({i["video_id"] for i in big}) == len(big)
    assert_error(c.get("/v1/feed/nobody-we-know?k=1001", headers=vs), 422)
    assert_error(c.get("/v1/feed/nobody-we-know?k=-1", headers=vs), 422)
    # an event for a video nobody stored: 404, the session untouched
    ev = {"viewer_id": "nobody-we-know", "video_id": "no-such-video", "liked": True}
    assert_error(c.post("/v1/events", json=ev, headers=vs), 404, "not_found")


def test_event_for_a_video_stored_after_training(world: dict[str, Any]) -> None:
    from communitok.core.schema import empty_table

    c, vs = world["c"], _h(world, "viewer-service")
    c.get("/v1/feed/u0001?k=1&preview=true", headers=vs)  # trained
    app = c.app
    schema = empty_table("videos").schema
    from communitok.core.timeutil import utcnow

    row = {"video_id": "late-video", "creator_id": "c0001", "created_at": utcnow()}
    late = pa.table({f: pa.array([row.get(f)], type=schema.field(f).type) for f in schema.names})
    app.state.api.engine.store.write("videos", late)
    r = c.post("/v1/events", json={"viewer_id": "u0001", "video_id": "late-video"}, headers=vs)
    # stored (queued for the store) but the trained feed does not know it yet
    assert r.status_code == 202 and r.json()["session_updated"] is False


def test_exposures_reach_the_store_at_shutdown(fresh_settings: Any) -> None:
    from communitok.engine.feed import exposures

    settings = fresh_settings()
    eng = open_engine(settings)
    try:
        app = create_app(eng, rate_limits=GENEROUS, dashboard=False)
        key = app.state.api.keys.create("viewer-service")[0]
        served = 0
        with TestClient(app) as c:  # runs the app's lifespan: shutdown at exit
            for v in ("u0001", "u0002", "someone-new"):
                r = c.get(f"/v1/feed/{v}?k=7", headers=auth(key))
                assert r.status_code == 200
                served += len(r.json()["items"])
            stats = c.get("/v1/feed", headers=auth(app.state.api.keys.create("analyst")[0]))
            assert stats.json()["exposures_buffered"] + stats.json()["exposures_logged"] == served
        log = exposures(eng.store)  # written by the shutdown hook, not by a request
        assert log.num_rows == served
        assert set(log["viewer_id"].to_pylist()) == {"u0001", "u0002", "someone-new"}
    finally:
        eng.close()


def test_empty_catalogue_serves_an_empty_feed(tmp_path: Any) -> None:
    from communitok.core.settings import load_settings

    eng = open_engine(load_settings(env={}, store=str(tmp_path / "empty.duckdb")))
    try:
        app = create_app(eng, rate_limits=GENEROUS, dashboard=False)
        key = app.state.api.keys.create("viewer-service")[0]
        c = TestClient(app, raise_server_exceptions=False)
        r = c.get("/v1/feed/anyone?k=10", headers=auth(key))
        assert r.status_code == 200 and r.json()["items"] == [] and r.json()["cold_start"]
    finally:
        eng.close()


def test_concurrent_feed_requests_are_batched_and_served_as_if_one_by_one(
    world: dict[str, Any],
) -> None:
    """Requests that arrive together are served as one batch (api.batching), with the
    same feeds as sequential previews, and a bad request in a batch fails alone."""
    import asyncio

    import httpx

    c = world["c"]
    app = c.app
    h = _h(world, "analyst")  # previews: nothing marked, so order does not matter
    viewers = world["viewers"] + ["someone-new"]
    assert c.get(f"/v1/feed/{viewers[0]}?k=5", headers=h).status_code == 200  # trained
    one_by_one = {v: c.get(f"/v1/feed/{v}?k=7", headers=h).json()["items"] for v in viewers}
    batcher = app.state.api.feed_batcher
    before_req, before_batches = batcher.requests, batcher.batches

    async def together() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as ac:
            calls = [ac.get(f"/v1/feed/{v}?k=7", headers=h) for v in viewers * 2]
            calls.append(ac.get("/v1/feed/x?k=0", headers=h))  # rejected by validation
            return list(await asyncio.gather(*calls))

    got = asyncio.run(together())
    assert [r.status_code for r in got[:-1]] == [200] * (2 * len(viewers))
    assert got[-1].status_code == 422
    for v, r in zip(viewers * 2, got[:-1], strict=True):
        assert r.json()["items"] == one_by_one[v]
    served = batcher.requests - before_req
    assert served == 2 * len(viewers)
    assert batcher.batches - before_batches < served  # some were served together


def test_feed_batcher_isolates_a_failing_request_and_skips_gone_clients() -> None:
    import asyncio

    from communitok.api.batching import FeedBatcher
    from communitok.core.errors import InputError
    from communitok.engine.feed_service import FeedRequest

    class Fake:
        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def recommend_many(self, reqs: list[FeedRequest]) -> list[str]:
            self.calls.append([r.viewer_id for r in reqs])
            if any(r.viewer_id == "bad" for r in reqs):
                raise InputError("bad viewer", field="viewer_id")
            return [f"feed:{r.viewer_id}" for r in reqs]

    async def run() -> tuple[list[Any], Fake, FeedBatcher]:
        svc, b = Fake(), FeedBatcher(max_batch=3)
        names = ["a", "bad", "c", "d", "gone", "e"]
        tasks = [asyncio.create_task(b.recommend(svc, FeedRequest(n, 5))) for n in names]
        await asyncio.sleep(0)  # all queued, none served yet
        tasks[4].cancel()  # the client went away
        out = await asyncio.gather(*tasks, return_exceptions=True)
        return out, svc, b

    out, svc, b = asyncio.run(run())
    assert out[0] == "feed:a" and out[2:4] == ["feed:c", "feed:d"] and out[5] == "feed:e"
    assert isinstance(out[1], InputError) and isinstance(out[4], asyncio.CancelledError)
    assert svc.calls[0] == ["a", "bad", "c"]  # one batch of three, then one by one
    assert ["a"] in svc.calls and ["bad"] in svc.calls and ["d", "e"] in svc.calls
    assert not any("gone" in c for c in svc.calls)  # never computed
    assert b.requests == 4 and b.batches == 3
    with pytest.raises(InputError):
        FeedBatcher(max_batch=0)


def test_feed_batcher_waits_for_more_only_when_busy() -> None:
    """A quiet server serves a lone request at once; a busy one lets a batch that is not
    full wait (at most max_wait) for requests still to come."""
    import asyncio
    import time as _time

    from communitok.api.batching import FeedBatcher
    from communitok.core.errors import InputError
    from communitok.engine.feed_service import FeedRequest

    class Slow:
        def __init__(self, cost: float) -> None:
            self.cost = cost
            self.batches: list[int] = []

        def recommend_many(self, reqs: list[FeedRequest]) -> list[str]:
            self.batches.append(len(reqs))
            _time.sleep(self.cost)  # a feed's CPU
            return [r.viewer_id for r in reqs]

    async def arrivals(b: FeedBatcher, svc: Slow, n: int, gap: float) -> None:
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(b.recommend(svc, FeedRequest(f"v{i}", 5))))
            await asyncio.sleep(gap)
        assert await asyncio.gather(*tasks) == [f"v{i}" for i in range(n)]

    quiet, svc_q = FeedBatcher(max_wait=0.01), Slow(0.004)
    asyncio.run(arrivals(quiet, svc_q, 10, 0.03))  # mostly idle: never waits
    assert quiet.waited == 0 and set(svc_q.batches) == {1} and quiet.busy() < 0.6
    busy, svc_b = FeedBatcher(max_wait=0.01, busy_window=0.05), Slow(0.01)
    asyncio.run(arrivals(busy, svc_b, 40, 0.002))  # arrivals 5x faster than service
    assert busy.waited > 0 and max(svc_b.batches) > 1 and sum(svc_b.batches) == 40
    with pytest.raises(InputError):
        FeedBatcher(max_wait=-1)
    with pytest.raises(InputError):
        FeedBatcher(busy_share=0)
