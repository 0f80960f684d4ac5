"""Communities over HTTP: list, map, one community, bridges, history, detection, and the
partner (k-anonymous) view. Runs on its own copy of the tiny store with communities
detected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("communitok.engine.communities")

from fastapi.testclient import TestClient

from communitok.api import SCOPES, create_app
from communitok.engine import open_engine
from communitok.engine.communities import detect_communities

from .helpers import GENEROUS, assert_error, auth


@pytest.fixture(scope="module")
def world(fresh_settings: Any) -> Iterator[dict[str, Any]]:
    eng = open_engine(fresh_settings())
    detect_communities(eng.store)
    app = create_app(eng, rate_limits=GENEROUS, dashboard=False)
    keys = {s: app.state.api.keys.create(s)[0] for s in SCOPES}
    yield {
        "client": TestClient(app, raise_server_exceptions=False),
        "keys": keys,
        "app": app,
        "engine": eng,
    }
    eng.close()


def _h(world: dict[str, Any], scope: str) -> dict[str, str]:
    return auth(world["keys"][scope])


def test_list_sorted_and_paged(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")
    page = c.get("/v1/communities", headers=h).json()
    views = [x["views"] for x in page["items"]]
    assert len(views) >= 2 and views == sorted(views, reverse=True)
    assert all(x["name"] and x["top_hashtags"] for x in page["items"])
    by_viewers = c.get("/v1/communities?sort=viewers&limit=2", headers=h).json()
    assert len(by_viewers["items"]) == 2 and by_viewers["next_offset"] == 2
    assert_error(c.get("/v1/communities?sort=size", headers=h), 422)


def test_map_has_nodes_and_bridges(world: dict[str, Any]) -> None:
    m = world["client"].get("/v1/communities/map", headers=_h(world, "analyst")).json()
    ids = {n["community_id"] for n in m["nodes"]}
    assert len(ids) >= 2 and m["suppressed"] == 0
    for e in m["edges"]:
        assert {e["community_a"], e["community_b"]} <= ids and e["lift"] > 0


def test_one_community(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")
    first = c.get("/v1/communities?limit=1", headers=h).json()["items"][0]
    d = c.get(f"/v1/communities/{first['community_id']}?top=3", headers=h).json()
    assert d["community"]["name"] == first["name"]
    assert d["lingo"] and d["lingo"][0]["rank"] == 1
    assert set(d["members"]) >= {"hashtag", "creator"} and len(d["members"]["hashtag"]) <= 3
    assert "signature_sounds" in d["profile"]
    assert_error(c.get("/v1/communities/999999", headers=h), 404, "not_found")
    assert_error(c.get("/v1/communities/abc", headers=h), 422)


def test_bridges_and_history(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")
    b = c.get("/v1/communities/bridges", headers=h).json()
    for x in b["items"]:
        assert x["name_a"] and x["name_b"]
    if b["items"]:
        cid = b["items"][0]["community_a"]
        mine = c.get(f"/v1/communities/bridges?community_id={cid}", headers=h).json()["items"]
        assert mine and all(cid in (x["community_a"], x["community_b"]) for x in mine)
    hist = c.get("/v1/communities/history", headers=h).json()
    assert hist["history"] and {"window", "community_id", "size"} <= set(hist["history"][0])
    one = hist["history"][0]["community_id"]
    sub = c.get(f"/v1/communities/history?community_id={one}", headers=h).json()
    assert all(r["community_id"] == one for r in sub["history"])


def test_detect_again(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")
    r = c.post("/v1/communities/detect", json={"window_days": 7}, headers=h)
    assert r.status_code == 200 and r.json()["communities"] >= 2 and r.json()["run_id"]
    assert c.get("/v1/communities", headers=h).json()["items"]
    assert_error(c.post("/v1/communities/detect", json={"window_days": 0}, headers=h), 422)


def test_detect_again_keeps_ids(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")

    def ids() -> dict[str, int]:
        items = c.get("/v1/communities?limit=200", headers=h).json()["items"]
        return {x["name"]: x["community_id"] for x in items}

    before = ids()
    assert c.post("/v1/communities/detect", json={"window_days": 7}, headers=h).status_code == 200
    after = ids()
    common = set(before) & set(after)
    assert common and {n: after[n] for n in common} == {n: before[n] for n in common}


def test_partner_sees_only_communities_above_k(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    c, app = world["client"], world["app"]
    every = c.get("/v1/communities?limit=200", headers=_h(world, "analyst")).json()["items"]
    counts = sorted(x["viewers"] for x in every)
    k = counts[len(counts) // 2]
    monkeypatch.setattr(app.state.api, "privacy_k", k)
    page = c.get("/v1/communities?limit=200", headers=_h(world, "partner")).json()
    assert page["items"] and page["suppressed"] >= 1
    assert all(x["n_viewers"] >= k and "creators" not in x for x in page["items"])
    m = c.get("/v1/communities/map", headers=_h(world, "partner")).json()
    assert {n["community_id"] for n in m["nodes"]} == {x["community_id"] for x in page["items"]}
    assert all(e["shared"] >= k for e in m["edges"])
    monkeypatch.setattr(app.state.api, "privacy_k", 10**9)
    assert c.get("/v1/communities", headers=_h(world, "partner")).json()["items"] == []
    for path in ("/v1/communities/0", "/v1/communities/bridges", "/v1/communities/history"):
        assert_error(c.get(path, headers=_h(world, "partner")), 403, "forbidden")
    assert_error(c.post("/v1/communities/detect", json={}, headers=_h(world, "partner")), 403)
    for scope in ("viewer-service",):
        assert_error(c.get("/v1/communities", headers=_h(world, scope)), 403)


def test_other_analyses_still_run_after_communities_detect(world: dict[str, Any]) -> None:
    c, h = world["client"], _h(world, "analyst")
    assert c.post("/v1/trends/detect", json={}, headers=h).status_code == 200
    assert c.post("/v1/cascades/build", json={}, headers=h).status_code == 200
    assert c.get("/v1/safety/health", headers=h).status_code == 200
