"""Safety over HTTP: classify, classify stored comments, reports → queue, reviewer
decisions, community health, and the partner (k-anonymous) view."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("communitok.engine.safety")

from .helpers import assert_error


@pytest.fixture(scope="module")
def classified(client: Any, keys: dict[str, str]) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {keys['analyst']}"}
    r = client.post("/v1/safety/classify-stored", json={"item_kind": "comment"}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_classify_texts(client: Any, as_scope: Any) -> None:
    texts = ["love this book so much", "BUY CHEAP FOLLOWERS NOW click http://spam.example", ""]
    r = client.post(
        "/v1/safety/classify", json={"texts": texts}, headers=as_scope("viewer-service")
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_version"] and len(out["items"]) == 3
    for it in out["items"]:
        assert it["category"] in {"hate", "offensive", "spam", "ok"}
        total = it["p_hate"] + it["p_offensive"] + it["p_spam"] + it["p_ok"]
        assert total == pytest.approx(1.0, abs=1e-6)
        assert it["label"] in {"visible", "limited", "hidden", "needs_review"}
    assert out["items"][2]["category"] == "ok"
    h = as_scope("analyst")
    assert_error(client.post("/v1/safety/classify", json={"texts": []}, headers=h), 422)
    assert_error(client.post("/v1/safety/classify", json={"texts": [1]}, headers=h), 422)
    big = {"texts": ["x" * 100_001]}
    assert client.post("/v1/safety/classify", json=big, headers=h).status_code in (413, 422)


def test_classify_stored_and_decision_log(
    client: Any, as_scope: Any, classified: dict[str, Any]
) -> None:
    assert classified["classified"] > 0 and classified["item_kind"] == "comment"
    h = as_scope("analyst")
    page = client.get("/v1/safety/decisions?limit=5&source=model", headers=h).json()
    assert len(page["items"]) == 5 and all(d["source"] == "model" for d in page["items"])
    one = page["items"][0]["item_id"]
    mine = client.get(f"/v1/safety/decisions?item_id={one}", headers=h).json()["items"]
    assert mine and all(d["item_id"] == one for d in mine)


def test_reports_fill_the_queue_and_a_reviewer_clears_it(client: Any, as_scope: Any, classified: dict[str, Any]) -> None:  # fmt: skip
    vs, an = as_scope("viewer-service"), as_scope("analyst")
    item = "m00007"
    for who in ("r1", "r2", "r3"):
        r = client.post("/v1/safety/reports", headers=vs, json={"item_kind": "comment", "item_id": item, "reporter_id": who, "reason": "harassment"})  # fmt: skip
        assert r.status_code == 201 and r.json()["recorded"] == 1
    again = client.post("/v1/safety/reports", headers=vs, json={"item_kind": "comment", "item_id": item, "reporter_id": "r1", "reason": "harassment"})  # fmt: skip
    assert again.json()["recorded"] == 0
    queue = client.get("/v1/safety/queue?limit=200", headers=an).json()["items"]
    assert item in {q["item_id"] for q in queue}
    prio = [q["priority"] for q in queue]
    assert prio == sorted(prio, reverse=True)
    body = {"item_kind": "comment", "item_id": item, "label": "hidden", "reason": "harassment confirmed", "category": "offensive"}  # fmt: skip
    r = client.post("/v1/safety/decisions", json=body, headers=an)
    assert (
        r.status_code == 201 and r.json()["label"] == "hidden" and r.json()["source"] == "reviewer"
    )
    queue = client.get("/v1/safety/queue?limit=200", headers=an).json()["items"]
    assert item not in {q["item_id"] for q in queue}
    log = client.get(f"/v1/safety/decisions?item_id={item}&source=reviewer", headers=an).json()
    assert log["items"][0]["reviewer_id"].startswith("key:")
    bad = {**body, "label": "deleted"}
    assert_error(client.post("/v1/safety/decisions", json=bad, headers=an), 422)
    bad = {**body, "reason": ""}
    assert_error(client.post("/v1/safety/decisions", json=bad, headers=an), 422)


def test_community_health(client: Any, as_scope: Any, classified: dict[str, Any]) -> None:
    h = as_scope("analyst")
    page = client.get("/v1/safety/health?limit=200", headers=h).json()
    assert page["items"]
    name = page["items"][0]["community"]
    one = client.get(f"/v1/safety/health/{name}?period=day", headers=h).json()
    assert one["community"] == name and one["by_period"]
    assert 0.0 <= one["summary"]["share_flagged"] <= 1.0
    assert_error(client.get("/v1/safety/health/no-such-community", headers=h), 404, "not_found")


def test_partner_safety_respects_k(client: Any, as_scope: Any, app: Any, monkeypatch: pytest.MonkeyPatch, classified: dict[str, Any]) -> None:  # fmt: skip
    monkeypatch.setattr(app.state.api, "privacy_k", 5)
    low = client.get("/v1/safety/partner-health", headers=as_scope("partner")).json()
    assert low["k"] == 5 and low["items"]
    assert all(r["n_people"] >= 5 for r in low["items"])
    assert not any("user_id" in r for r in low["items"])
    monkeypatch.setattr(app.state.api, "privacy_k", 10**9)
    high = client.get("/v1/safety/partner-health", headers=as_scope("partner")).json()
    assert high["items"] == [] and high["suppressed"] >= len(low["items"])
