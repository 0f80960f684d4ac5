"""Trends (Discover, one trend, detect, forecast) and cascades (list, tree, build)."""

from __future__ import annotations

from typing import Any

from .helpers import assert_error


def test_discover_lists_trends_with_stage_and_sparklines(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    page = client.get("/v1/trends/discover?sparklines=true", headers=h).json()
    assert page["items"] and page["suppressed"] == 0
    top = page["items"][0]
    assert top["scope"] == "all" and top["rank"] == 1 and top["stage"]
    assert top["sparkline"] and all(v is None or v >= 0 for v in top["sparkline"])
    scores = [r["score"] for r in page["items"]]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/v1/trends/discover", headers=h).json()["items"][0].get("sparkline") is None


def test_discover_filters_and_pages(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    every = client.get("/v1/trends/discover?limit=200", headers=h).json()["items"]
    kinds = {r["kind"] for r in every}
    for kind in kinds:
        got = client.get(f"/v1/trends/discover?kind={kind}", headers=h).json()["items"]
        assert got and all(r["kind"] == kind for r in got)
    stage = every[0]["stage"]
    got = client.get(f"/v1/trends/discover?stage={stage}", headers=h).json()["items"]
    assert got and all(r["stage"] == stage for r in got)
    p1 = client.get("/v1/trends/discover?limit=1", headers=h).json()
    assert len(p1["items"]) == 1
    if len(every) > 1:
        assert p1["next_offset"] == 1
        p2 = client.get("/v1/trends/discover?limit=1&offset=1", headers=h).json()
        assert p2["items"][0]["trend_id"] == every[1]["trend_id"]
    scoped = client.get("/v1/trends/discover?scope=k08&limit=200", headers=h).json()["items"]
    assert all(r["scope"] == "k08" for r in scoped)
    assert_error(client.get("/v1/trends/discover?kind=bogus", headers=h), 422)


def test_one_trend(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    tid = client.get("/v1/trends/discover", headers=h).json()["items"][0]["trend_id"]
    d = client.get(f"/v1/trends/{tid}", headers=h).json()
    assert d["trend_id"] == tid and d["series"] and d["bursts"] and d["stage"]
    assert all(p["value"] >= 0 for p in d["series"])
    hourly = client.get(f"/v1/trends/{tid}?grain=hour", headers=h).json()
    assert len(hourly["series"]) > len(d["series"])
    assert_error(
        client.get("/v1/trends/hashtag:never-used-anywhere@all", headers=h), 404, "not_found"
    )
    assert_error(client.get(f"/v1/trends/{tid}?grain=week", headers=h), 422)


def test_forecast_and_detect(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    tid = client.get("/v1/trends/discover", headers=h).json()["items"][0]["trend_id"]
    f = client.post("/v1/trends/forecast", json={"trend_ids": [tid], "days": 3}, headers=h).json()
    rows = [r for r in f["forecasts"] if r["trend_id"] == tid]
    assert len(rows) == 3 and all(r["lo_80"] <= r["forecast"] <= r["hi_80"] for r in rows)
    assert "mase_mean" in f["backtest"]
    assert_error(
        client.post("/v1/trends/forecast", json={"trend_ids": [], "days": 3}, headers=h), 422
    )
    assert_error(client.post("/v1/trends/forecast", json={"days": "3"}, headers=h), 422)
    s = client.post("/v1/trends/detect", json={"grain": "hour"}, headers=h).json()["summary"]
    assert s["n_series"] > 0 and s["grain"] == "hour"
    assert client.get("/v1/trends/discover", headers=h).json()["items"]


def test_cascades_list_and_tree(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    page = client.get("/v1/cascades?limit=5", headers=h).json()
    sizes = [c["size"] for c in page["items"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 2
    assert page["next_offset"] == 5
    deep = client.get("/v1/cascades?by=depth&limit=3", headers=h).json()["items"]
    assert [c["depth"] for c in deep] == sorted((c["depth"] for c in deep), reverse=True)
    assert client.get("/v1/cascades?min_size=1000", headers=h).json()["items"] == []
    root = page["items"][0]["cascade_id"]
    d = client.get(f"/v1/cascades/{root}", headers=h).json()
    assert d["cascade"]["cascade_id"] == root and len(d["nodes"]) == d["cascade"]["size"]
    ids = {n["video_id"] for n in d["nodes"]}
    assert all(n["parent_video_id"] in ids for n in d["nodes"] if n["depth"] > 0)
    assert not d["truncated"]
    member = next(n["video_id"] for n in d["nodes"] if n["depth"] > 0)
    assert client.get(f"/v1/cascades/{member}", headers=h).json()["cascade"]["cascade_id"] == root
    cut = client.get(f"/v1/cascades/{root}?max_nodes=2", headers=h).json()
    assert len(cut["nodes"]) == 2 and cut["truncated"]


def test_cascades_rebuild(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    s = client.post("/v1/cascades/build", json={}, headers=h).json()["summary"]
    assert s["n_cascades"] > 0
    assert_error(client.post("/v1/cascades/build", json={"sound_attribution": "x"}, headers=h), 422)


def test_sound_trend_page(client: Any, as_scope: Any, engine: Any) -> None:
    sound = engine.store.read("videos", ["sound_id"], limit=1).column(0)[0].as_py()
    r = client.get(f"/v1/trends/sound:{sound}@all", headers=as_scope("analyst"))
    assert r.status_code == 200, r.text
