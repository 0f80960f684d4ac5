"""Partner scope: only aggregates whose audience reaches the privacy threshold, no account ids."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from communitok.api import SCOPES, create_app, privacy
from communitok.engine import open_engine

from .helpers import GENEROUS, assert_error, auth


@pytest.fixture
def k(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_k(value: int) -> None:
        monkeypatch.setattr(app.state.api, "privacy_k", value)

    return set_k


def test_audiences_count_distinct_viewers(engine: Any) -> None:
    ids = [r["trend_id"] for r in engine.store.read("trend_discover").to_pylist()]
    aud = privacy.audiences(engine, [*ids, "hashtag:never-used@all"])
    assert aud["hashtag:never-used@all"] == 0
    assert max(aud.values()) > 0
    total = (
        engine.store.query("SELECT count(DISTINCT viewer_id) AS n FROM events")
        .column("n")[0]
        .as_py()
    )
    assert all(0 <= n <= total for n in aud.values())


def test_partner_sees_only_trends_above_k(client: Any, as_scope: Any, engine: Any, k: Any) -> None:
    analyst = client.get("/v1/trends/discover?limit=200", headers=as_scope("analyst")).json()[
        "items"
    ]
    aud = privacy.audiences(engine, [r["trend_id"] for r in analyst])
    cut = sorted(aud.values())[len(aud) // 2] or 1  # roughly half pass
    k(cut)
    page = client.get("/v1/trends/discover?limit=200", headers=as_scope("partner")).json()
    shown = {r["trend_id"] for r in page["items"]}
    assert shown == {t for t, n in aud.items() if n >= cut}
    assert page["suppressed"] == len(analyst) - len(shown)
    assert all(r["n_viewers"] >= cut for r in page["items"])


def test_partner_trend_page_respects_k(client: Any, as_scope: Any, engine: Any, k: Any) -> None:
    tid = client.get("/v1/trends/discover", headers=as_scope("analyst")).json()["items"][0][
        "trend_id"
    ]
    n = privacy.audiences(engine, [tid])[tid]
    assert n > 0
    k(n)
    d = client.get(f"/v1/trends/{tid}", headers=as_scope("partner")).json()
    assert d["n_viewers"] == n
    for row in d["spillover"] + d["bursts"]:
        assert not set(row) & set(privacy.PERSONAL_COLUMNS)
    k(n + 1)
    assert_error(client.get(f"/v1/trends/{tid}", headers=as_scope("partner")), 404, "not_found")
    page = client.get("/v1/trends/discover?limit=200", headers=as_scope("partner")).json()
    assert tid not in {r["trend_id"] for r in page["items"]}


def test_huge_k_hides_everything(client: Any, as_scope: Any, k: Any) -> None:
    k(10**9)
    page = client.get("/v1/trends/discover?sparklines=true", headers=as_scope("partner")).json()
    assert page["items"] == [] and page["suppressed"] > 0
    # the analyst view is unaffected
    assert client.get("/v1/trends/discover", headers=as_scope("analyst")).json()["items"]


def test_partner_refused_everything_else(client: Any, as_scope: Any) -> None:
    h = as_scope("partner")
    for path in ("/v1/status", "/v1/runs", "/v1/cascades", "/v1/keys"):
        assert_error(client.get(path, headers=h), 403, "forbidden")
    assert_error(client.post("/v1/trends/forecast", json={}, headers=h), 403)


# -- /v1/partner: the brand flow (its own copy of the tiny store, communities detected) --
@pytest.fixture(scope="module")
def world(fresh_settings: Any) -> Iterator[dict[str, Any]]:
    pytest.importorskip("communitok.engine.insights")
    from communitok.engine.communities import detect_communities

    eng = open_engine(fresh_settings())
    detect_communities(eng.store)
    app = create_app(eng, rate_limits=GENEROUS, dashboard=False)
    keys = {s: app.state.api.keys.create(s)[0] for s in SCOPES}
    comms = eng.store.read("communities").sort_by([("views", "descending")]).to_pylist()
    tags = [
        r["member_id"]
        for r in eng.store.read("community_members").to_pylist()
        if r["member_kind"] == "hashtag" and r["community_id"] == comms[0]["community_id"]
    ]
    yield {
        "client": TestClient(app, raise_server_exceptions=False),
        "keys": keys,
        "app": app,
        "engine": eng,
        "community": comms[0],
        "tags": tags,
    }
    eng.close()


@pytest.fixture
def small_k(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``small_k(v)`` sets the privacy threshold of the partner world's app."""

    def set_k(value: int) -> None:
        monkeypatch.setattr(world["app"].state.api, "privacy_k", value)

    set_k(5)  # the tiny store's communities have ~70-200 viewers
    return set_k


def _calls(world: dict[str, Any]) -> list[tuple[str, str, Any]]:
    cid = world["community"]["community_id"]
    return [
        ("POST", "/v1/partner/match", {"brief": world["community"]["name"] + " fans"}),
        ("GET", f"/v1/partner/communities/{cid}/ambassadors", None),
        ("GET", "/v1/partner/overlap", None),
        ("GET", f"/v1/partner/communities/{cid}/content-brief", None),
        ("GET", f"/v1/partner/communities/{cid}/listen", None),
        ("POST", "/v1/partner/campaigns/readout",
         {"hashtags": world["tags"][:2], "design": "exposed"}),
    ]  # fmt: skip


def _req(world: dict[str, Any], method: str, path: str, body: Any, scope: str | None) -> Any:
    headers = auth(world["keys"][scope]) if scope else {}
    return world["client"].request(method, path, json=body, headers=headers)


def test_partner_endpoints_scopes(world: dict[str, Any], small_k: Any) -> None:
    for method, path, body in _calls(world):
        for scope in ("partner", "analyst", "admin"):
            r = _req(world, method, path, body, scope)
            assert r.status_code == 200, (scope, path, r.text)
        err = assert_error(_req(world, method, path, body, "viewer-service"), 403, "forbidden")
        assert "viewer-service" in err["message"]
        assert_error(_req(world, method, path, body, None), 401, "unauthorized")


def test_match_says_why(world: dict[str, Any], small_k: Any) -> None:
    com = world["community"]
    top = com["top_hashtags"][0]
    r = _req(world, "POST", "/v1/partner/match",
             {"brief": f"{top} lovers", "hashtags": [top], "exclude": ["zzz"], "top": 3},
             "partner").json()  # fmt: skip
    assert r["k"] == 5 and r["brief"]["hashtags"] == [top]
    first = r["matches"][0]
    assert first["community_id"] == com["community_id"] and first["rank"] == 1
    assert top in first["matched_hashtags"] and first["n_people"] >= 5
    assert len(r["matches"]) <= 3
    assert not {"viewer_id", "user_id"} & set(first)


def test_flow_payloads(world: dict[str, Any], small_k: Any) -> None:
    cid = world["community"]["community_id"]
    amb = _req(world, "GET", f"/v1/partner/communities/{cid}/ambassadors?top=5", None,
               "partner").json()  # fmt: skip
    assert amb["community_id"] == cid and 1 <= len(amb["items"]) <= 5
    assert all(x["n_people"] >= 5 and "fit" in x and "creator_id" in x for x in amb["items"])
    ov = _req(world, "GET", "/v1/partner/overlap?top=3", None, "partner").json()
    lifts = [x["lift"] for x in ov["items"]]
    assert ov["kind"] == "community" and lifts == sorted(lifts, reverse=True) and lifts
    assert all(x["shared"] >= 5 for x in ov["items"])
    cb = _req(world, "GET", f"/v1/partner/communities/{cid}/content-brief", None,
              "partner").json()  # fmt: skip
    assert cb["community"]["community_id"] == cid and cb["use_hashtags"]
    assert all(w["n_people"] >= 5 for w in cb["posting_windows"])
    ro = _req(world, "POST", "/v1/partner/campaigns/readout",
              {"hashtags": world["tags"][:2], "design": "exposed"}, "partner").json()  # fmt: skip
    assert ro["readout"]["status"] == "ok" and ro["readout"]["ci_low"] is not None
    assert {a["arm"] for a in ro["arms"]} == {"treated", "control"}
    # no arms: the community against comparable ones, both estimators, 4 guarded cells
    did = _req(world, "POST", "/v1/partner/campaigns/readout", {"hashtags": ["ad"]},
               "partner").json()  # fmt: skip
    assert did["design"] == "did" and len(did["estimates"]) in (0, 2)
    assert all(a["n_people"] >= 5 for a in did["arms"])
    if did["readout"]["status"] == "ok":
        assert {a["arm"] for a in did["arms"]} == {
            "target/before",
            "target/during",
            "comparison/before",
            "comparison/during",
        }
    else:
        assert did["readout"]["reason"] and did["readout"]["lift"] is None


def test_listen(world: dict[str, Any], small_k: Any) -> None:
    cid = world["community"]["community_id"]
    comms = [c["community_id"] for c in world["engine"].store.read("communities").to_pylist()]
    others = [c for c in comms if c != cid][:2]
    q = "&".join(f"target={t}" for t in others)
    r = _req(world, "GET", f"/v1/partner/communities/{cid}/listen?{q}&recent_days=3", None,
             "partner").json()  # fmt: skip
    assert r["status"] == "ok" and r["k"] == 5 and r["community"]["community_id"] == cid
    assert r["top_hashtags"] and r["top_hashtags"][0]["item"] in world["tags"]
    for sec in ("top_hashtags", "rising_hashtags", "sounds", "effects", "lingo", "trends",
                "bridges", "overlap"):  # fmt: skip
        assert all(x["n_people"] >= 5 for x in r[sec]), sec
        assert not {"viewer_id", "user_id", "creator_id"} & {c for x in r[sec] for c in x}
    assert {x["b"] for x in r["overlap"]} <= {str(t) for t in others}
    assert all(x["share_low"] <= x["share"] <= x["share_high"] for x in r["top_hashtags"])
    # exports of the same report
    h = _req(world, "GET", f"/v1/partner/communities/{cid}/listen?format=html", None, "partner")
    assert h.status_code == 200 and h.headers["content-type"].startswith("text/html")
    assert "Plotly.newPlot" in h.text and ' src="http' not in h.text
    c = _req(world, "GET", f"/v1/partner/communities/{cid}/listen?format=csv", None, "partner")
    assert c.headers["content-type"].startswith("text/csv") and c.text.startswith("section,")
    j = _req(world, "GET", "/v1/partner/overlap?format=csv&top=2", None, "partner")
    assert j.status_code == 200 and "jaccard" in j.text.splitlines()[0]
    m = world["client"].post("/v1/partner/match?format=html", json={"brief": "<b>x</b> " +
                             world["community"]["name"]}, headers=auth(world["keys"]["partner"]))  # fmt: skip
    assert m.status_code == 200 and "<b>x</b>" not in m.text and "&lt;b&gt;x" in m.text
    # bad input
    for path in (f"/v1/partner/communities/{cid}/listen?format=pdf",
                 f"/v1/partner/communities/{cid}/listen?recent_days=0",
                 f"/v1/partner/communities/{cid}/listen?target=-3",
                 f"/v1/partner/communities/{cid}/listen?target=x"):  # fmt: skip
        assert_error(_req(world, "GET", path, None, "partner"), 422)
    assert_error(_req(world, "GET", f"/v1/partner/communities/{cid}/listen?target=999999",
                      None, "partner"), 404, "not_found")  # fmt: skip


def test_high_k_suppresses_everything(world: dict[str, Any], small_k: Any) -> None:
    small_k(10**6)
    cid = world["community"]["community_id"]
    r = _req(world, "POST", "/v1/partner/match", {"brief": world["community"]["name"]},
             "partner").json()  # fmt: skip
    assert r["matches"] == [] and r["suppressed"] >= 1 and r["k"] == 10**6
    ov = _req(world, "GET", "/v1/partner/overlap", None, "partner").json()
    assert ov["items"] == [] and ov["suppressed"] > 0
    # a partner learns nothing about a community under k: same answer as an unknown one
    for path in (f"/v1/partner/communities/{cid}/ambassadors",
                 f"/v1/partner/communities/{cid}/content-brief",
                 f"/v1/partner/communities/{cid}/listen",
                 f"/v1/partner/communities/{cid}/listen?format=html",
                 "/v1/partner/communities/999999/listen",
                 "/v1/partner/communities/999999/content-brief"):  # fmt: skip
        assert_error(_req(world, "GET", path, None, "partner"), 404, "not_found")
    # analysts get the guarded aggregates: rows withheld, figures never below k
    amb = _req(world, "GET", f"/v1/partner/communities/{cid}/ambassadors", None,
               "analyst").json()  # fmt: skip
    assert amb["items"] == [] and amb["suppressed"] > 0
    cb = _req(world, "GET", f"/v1/partner/communities/{cid}/content-brief", None,
              "analyst").json()  # fmt: skip
    assert cb["posting_windows"] == [] and cb["lingo"] == []
    li = _req(world, "GET", f"/v1/partner/communities/{cid}/listen", None, "analyst").json()
    assert li["status"] == "abstain" and li["top_hashtags"] == [] and li["n_people"] is None
    assert set(li["community"]) == {"community_id", "name"}
    for design in ("exposed", "did"):
        ro = _req(world, "POST", "/v1/partner/campaigns/readout",
                  {"hashtags": ["ad"], "design": design}, "partner").json()  # fmt: skip
        assert ro["readout"]["status"] == "abstain" and ro["arms"] == []
        assert ro["readout"]["lift"] is None and ro["estimates"] == []


def test_bad_input_is_422(world: dict[str, Any], small_k: Any) -> None:
    cid = world["community"]["community_id"]
    bad = [
        ("POST", "/v1/partner/match", {}),
        ("POST", "/v1/partner/match", {"brief": ""}),
        ("POST", "/v1/partner/match", {"brief": "the and of"}),  # stop words only
        ("POST", "/v1/partner/match", {"brief": "x", "top": 0}),
        ("POST", "/v1/partner/match", {"brief": "x", "hashtags": "booktok"}),
        ("POST", "/v1/partner/match", {"brief": "x", "surprise": 1}),
        ("GET", "/v1/partner/overlap?kind=galaxy", None),
        ("GET", "/v1/partner/overlap?top=0", None),
        ("GET", "/v1/partner/communities/-1/ambassadors", None),
        ("GET", f"/v1/partner/communities/{cid}/ambassadors?top=1000", None),
        ("GET", "/v1/partner/communities/abc/content-brief", None),
        ("POST", "/v1/partner/campaigns/readout", {"hashtags": []}),
        ("POST", "/v1/partner/campaigns/readout", {"hashtags": ["x"], "design": "magic"}),
        ("POST", "/v1/partner/campaigns/readout", {"hashtags": ["x"], "donors": [-1]}),
        ("POST", "/v1/partner/campaigns/readout", {"hashtags": ["#"]}),
        ("POST", "/v1/partner/campaigns/readout",
         {"hashtags": world["tags"][:1], "start": "2024-02-01T00:00:00Z",
          "end": "2024-01-01T00:00:00Z"}),
        ("POST", "/v1/partner/campaigns/readout",
         {"hashtags": world["tags"][:1], "start": "1990-01-01T00:00:00Z",
          "end": "1990-01-02T00:00:00Z"}),  # a window with no data
    ]  # fmt: skip
    for method, path, body in bad:
        err = assert_error(_req(world, method, path, body, "partner"), 422)
        # request validation → invalid_input; the engine's own checks → input_error
        assert err["code"] in ("invalid_input", "input_error"), (path, body, err)
    assert_error(
        _req(world, "POST", "/v1/partner/campaigns/readout", {"hashtags": ["nosuchtag"]},
             "partner"), 404, "not_found",
    )  # fmt: skip


def test_script_strings_are_data(world: dict[str, Any], small_k: Any) -> None:
    evil = "<script>alert(1)</script> '; DROP TABLE videos; --"
    r = _req(world, "POST", "/v1/partner/match",
             {"brief": evil, "hashtags": [evil], "exclude": [evil]}, "partner")  # fmt: skip
    assert r.status_code in (200, 404, 422), r.text
    if r.status_code != 200:
        assert_error(r, r.status_code)
    assert world["engine"].store.count("videos") > 0


# -- campaign plan and feed-experiment read-outs --------------------------------------
def _exposures(experiment: str, variants: list[str], ev: Any) -> Any:
    """Exposure rows (the feed's schema) for the impressions *ev*, one variant each."""
    import pyarrow as pa

    from communitok.feed.experiments import EXPOSURE_SCHEMA

    n = ev.num_rows
    return pa.table(
        {"experiment": [experiment] * n, "variant": variants, "viewer_id": ev["viewer_id"],
         "video_id": ev["video_id"], "rank": pa.array([1] * n, pa.int32()),
         "score": pa.nulls(n, pa.float64()), "source": pa.nulls(n, pa.string()),
         "ts": ev["ts"]},
        schema=EXPOSURE_SCHEMA,
    )  # fmt: skip


@pytest.fixture(scope="module")
def experiments(world: dict[str, Any]) -> dict[str, Any]:
    """Two feed experiments over the last week's impressions: ``aa`` (viewers bucketed by
    the feed's hash, no effect) and ``planted`` (control: every impression of its viewers;
    treatment: only the impressions its viewers liked, so its likes per exposure is ~1)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from communitok.feed.experiments import Experiment

    store = world["engine"].store
    ev = store.query("SELECT viewer_id, video_id, ts, coalesce(liked, false) AS liked FROM "
                     "events WHERE ts >= (SELECT max(ts) FROM events) - INTERVAL 7 DAY "
                     "ORDER BY viewer_id, ts")  # fmt: skip
    aa = Experiment("aa", salt="x")
    arm = {v: aa.assign(v) for v in set(ev["viewer_id"].to_pylist())}
    rows = [_exposures("aa", [arm[v] for v in ev["viewer_id"].to_pylist()], ev)]
    treated = pc.equal(pa.array([arm[v] for v in ev["viewer_id"].to_pylist()]), "treatment")
    liked = ev.filter(pc.and_(treated, ev["liked"]))
    control = ev.filter(pc.invert(treated))
    rows += [_exposures("planted", ["treatment"] * liked.num_rows, liked),
             _exposures("planted", ["control"] * control.num_rows, control)]  # fmt: skip
    store.put_result("feed_exposures", pa.concat_tables(rows))
    return {
        "arm": arm,
        "viewers": {v: sum(a == v for a in arm.values()) for v in ("control", "treatment")},
        "planted_treated": len(set(liked["viewer_id"].to_pylist())),
    }


def test_experiment_readout(world: dict[str, Any], small_k: Any, experiments: Any) -> None:
    r = _req(world, "GET", "/v1/partner/experiments/aa/readout", None, "partner").json()
    assert r["status"] == "ok" and r["reason"] == "" and r["k"] == 5 and r["suppressed"] == 0
    ctl, tr = r["variants"]
    assert (ctl["variant"], tr["variant"]) == ("control", "treatment")
    # every viewer of the week is in exactly one bucket: the counts are the hash's
    assert ctl["n_people"] == experiments["viewers"]["control"]
    assert tr["n_people"] == experiments["viewers"]["treatment"]
    for row in (ctl, tr):
        assert row["mean_low"] <= row["mean"] <= row["mean_high"]
        assert not {"viewer_id", "user_id"} & set(row)
    assert ctl["diff"] is None and ctl["ci_low"] is None
    assert math.isclose(tr["diff"], tr["mean"] - ctl["mean"], abs_tol=1e-12)
    assert tr["ci_low"] <= 0 <= tr["ci_high"]  # A/A: no effect
    assert tr["ci_low_cuped"] <= 0 <= tr["ci_high_cuped"]
    # the planted effect: treatment exposures are liked impressions (1 like each, diluted
    # only by later re-views of the same video)
    p = _req(world, "GET", "/v1/partner/experiments/planted/readout?pre_days=7", None,
             "partner").json()  # fmt: skip
    ctl, tr = p["variants"]
    assert tr["n_people"] == experiments["planted_treated"] and tr["mean"] > 0.7
    assert ctl["mean"] < 0.5 and tr["ci_low"] > 0.4 and tr["ci_low_cuped"] > 0.4
    w = _req(world, "GET", "/v1/partner/experiments/aa/readout?metric=watch_time_s", None,
             "analyst").json()  # fmt: skip
    assert w["metric"] == "watch_time_s" and w["variants"][1]["diff"] is not None
    c = _req(world, "GET", "/v1/partner/experiments/aa/readout?format=csv", None, "partner")
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    assert "diff_cuped" in c.text
    # thin variants: control under k abstains (a difference to it is a figure about it)
    small_k(min(experiments["viewers"].values()) + 1)
    r = _req(world, "GET", "/v1/partner/experiments/aa/readout", None, "partner").json()
    assert r["status"] == "abstain" and r["reason"] and r["variants"] == []
    assert r["suppressed"] == 2


def test_campaign_plan(world: dict[str, Any], small_k: Any) -> None:
    from communitok.insights.plan import mde, se_log_lift

    cid = world["community"]["community_id"]
    body = {"community_id": cid, "lift": 0.2}
    p = _req(world, "POST", "/v1/partner/campaigns/plan", body, "partner").json()
    assert p["status"] == "ok" and p["reason"] == "" and p["k"] == 5 and p["design"] == "randomised"
    h, plan = p["history"], p["plan"]
    assert h["n_people"] >= 5 and h["rate_low"] <= h["rate"] <= h["rate_high"]
    assert h["rel_var_low"] <= h["rel_var"] <= h["rel_var_high"]
    # the plan is the delta-method formula on the community's own history
    n = h["n_people"]
    assert plan["reach"] == n
    assert math.isclose(plan["mde"], mde(se_log_lift(h["rel_var"], n / 2, n / 2)), rel_tol=1e-9)
    assert 0 < plan["mde_low"] <= plan["mde"] <= plan["mde_high"]
    assert plan["power_at_lift_low"] <= plan["power_at_lift"] <= plan["power_at_lift_high"]
    assert plan["viewers_needed_low"] <= plan["viewers_needed"] <= plan["viewers_needed_high"]
    mdes = [r["mde"] for r in p["curve"]]
    assert mdes == sorted(mdes, reverse=True) and len(mdes) >= 4
    # four times the reach halves the detectable log-lift
    big = _req(world, "POST", "/v1/partner/campaigns/plan", {**body, "reach": 4 * n},
               "analyst").json()["plan"]  # fmt: skip
    assert math.isclose(math.log1p(big["mde"]) / math.log1p(plan["mde"]), 0.5, rel_tol=1e-6)
    d = _req(world, "POST", "/v1/partner/campaigns/plan", {"community_id": cid, "design": "did"},
             "partner").json()  # fmt: skip
    assert d["design"] == "did" and d["plan"].get("n_control") is None
    if d["status"] == "ok":
        assert d["plan"]["se_log_low"] <= d["plan"]["se_log"] <= d["plan"]["se_log_high"]
    else:
        assert d["reason"] and d["plan"] == {}
    h = _req(world, "POST", "/v1/partner/campaigns/plan?format=html", body, "partner")
    assert h.status_code == 200 and "minimum detectable lift" in h.text
    # under k: a partner learns nothing (404, as an unknown community); analysts see abstain
    small_k(10**6)
    assert_error(_req(world, "POST", "/v1/partner/campaigns/plan", body, "partner"), 404)
    a = _req(world, "POST", "/v1/partner/campaigns/plan", body, "analyst").json()
    assert a["status"] == "abstain" and "k=1000000" in a["reason"]
    assert a["plan"] == {} and a["history"] == {} and a["curve"] == []


def test_plan_and_experiment_bad_input(
    world: dict[str, Any], small_k: Any, experiments: Any
) -> None:
    cid = world["community"]["community_id"]
    plan = "/v1/partner/campaigns/plan"
    for body in ({}, {"community_id": "1"}, {"community_id": -1}, {"community_id": True},
                 {"community_id": cid, "days": 0}, {"community_id": cid, "days": 91},
                 {"community_id": cid, "design": "magic"},
                 {"community_id": cid, "treated_share": 1},
                 {"community_id": cid, "alpha": 0.6}, {"community_id": cid, "power": 1},
                 {"community_id": cid, "lift": 0}, {"community_id": cid, "reach": 1},
                 {"community_id": cid, "surprise": 1}):  # fmt: skip
        err = assert_error(_req(world, "POST", plan, body, "partner"), 422, "invalid_input")
        assert err["details"] and err["details"][0]["loc"][0] == "body", body
    assert_error(_req(world, "POST", plan, {"community_id": 999999}, "analyst"), 404)
    base = "/v1/partner/experiments"
    for path in (f"{base}/aa/readout?metric=vibes", f"{base}/aa/readout?pre_days=0",
                 f"{base}/aa/readout?control=a%20b", f"{base}/bad%20name!/readout",
                 f"{base}/aa/readout?format=pdf", f"{base}/aa/readout?metric=liked&metric=shared"):  # fmt: skip
        assert_error(_req(world, "GET", path, None, "partner"), 422, "invalid_input")
    assert_error(_req(world, "GET", f"{base}/nope/readout", None, "partner"), 404, "not_found")
    err = assert_error(
        _req(world, "GET", f"{base}/aa/readout?control=baseline", None, "partner"), 404
    )
    assert "baseline" in err["message"]


def test_plan_and_experiment_scopes(world: dict[str, Any], small_k: Any, experiments: Any) -> None:
    cid = world["community"]["community_id"]
    for method, path, body in (
        ("POST", "/v1/partner/campaigns/plan", {"community_id": cid}),
        ("GET", "/v1/partner/experiments/aa/readout", None),
    ):
        for scope in ("partner", "analyst", "admin"):
            r = _req(world, method, path, body, scope)
            assert r.status_code == 200 and r.json()["status"] == "ok", (scope, path, r.text)
        err = assert_error(_req(world, method, path, body, "viewer-service"), 403, "forbidden")
        assert "viewer-service" in err["message"]
        assert_error(_req(world, method, path, body, None), 401, "unauthorized")
