"""Keys (created, listed, revoked; stored hashed), status, runs, health."""

from __future__ import annotations

from typing import Any

from communitok.api import KeyRing
from communitok.api.security import KEYS_RESULT, hash_key

from .helpers import assert_error, auth


def test_create_list_get_revoke(client: Any, as_scope: Any) -> None:
    h = as_scope("admin")
    r = client.post("/v1/keys", json={"scope": "partner", "name": "brand team"}, headers=h)
    assert r.status_code == 201
    made = r.json()
    assert made["key"].startswith(f"ctk_{made['key_id']}_") and made["active"]
    assert client.get("/v1/me", headers=auth(made["key"])).json()["name"] == "brand team"
    listed = client.get("/v1/keys?limit=200", headers=h).json()["items"]
    mine = [k for k in listed if k["key_id"] == made["key_id"]]
    assert mine and "key" not in mine[0] and "key_hash" not in mine[0]
    assert client.get(f"/v1/keys/{made['key_id']}", headers=h).json()["scope"] == "partner"
    assert client.delete(f"/v1/keys/{made['key_id']}", headers=h).json()["revoked_at"]
    assert_error(client.get("/v1/me", headers=auth(made["key"])), 401)
    assert_error(client.get("/v1/keys/ffffffff", headers=h), 404, "not_found")
    assert_error(client.get("/v1/keys/not-hex", headers=h), 422)


def test_key_cannot_revoke_itself(client: Any, app: Any, keys: dict[str, str]) -> None:
    me = client.get("/v1/me", headers=auth(keys["admin"])).json()
    assert_error(
        client.delete(f"/v1/keys/{me['key_id']}", headers=auth(keys["admin"])), 409, "conflict"
    )


def test_bad_key_requests(client: Any, as_scope: Any) -> None:
    h = as_scope("admin")
    assert_error(client.post("/v1/keys", json={"scope": "root"}, headers=h), 422)
    assert_error(client.post("/v1/keys", json={"scope": "admin", "name": 5}, headers=h), 422)
    assert_error(client.post("/v1/keys", json={"scope": "admin", "rate_per_s": 0}, headers=h), 422)


def test_keys_stored_hashed_and_reloaded(engine: Any, keys: dict[str, str]) -> None:
    stored = engine.store.read(KEYS_RESULT)
    text = str(stored.to_pylist())
    for secret in keys.values():
        assert secret not in text
        assert hash_key(secret) in stored.column("key_hash").to_pylist()
    again = KeyRing(engine.store)  # a restarted server knows the same keys
    assert again.check(keys["analyst"]).scope == "analyst"  # type: ignore[union-attr]
    assert again.check(keys["analyst"] + "x") is None


def test_health_and_status(client: Any, as_scope: Any) -> None:
    hl = client.get("/v1/health").json()
    assert hl["status"] == "ok" and hl["features"]["cascades"]
    st = client.get("/v1/status?runs=3", headers=as_scope("analyst")).json()
    assert st["backend"] == "duckdb" and st["counts"]["videos"] == 800
    assert len(st["runs"]) == 3 and {"trend_discover", "cascades"} <= set(st["results"])
    assert_error(client.get("/v1/status?runs=0", headers=as_scope("analyst")), 422)


def test_runs_pagination_and_filters(client: Any, as_scope: Any) -> None:
    h = as_scope("analyst")
    first = client.get("/v1/runs?limit=2", headers=h).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    second = client.get("/v1/runs?limit=2&offset=2", headers=h).json()
    assert {r["run_id"] for r in first["items"]}.isdisjoint(r["run_id"] for r in second["items"])
    built = client.get("/v1/runs?kind=cascades-build", headers=h).json()["items"]
    assert built and all(r["kind"] == "cascades-build" for r in built)
    ok = client.get("/v1/runs?status=ok&limit=200", headers=h).json()
    assert ok["items"] and all(r["status"] == "ok" for r in ok["items"])
    one = client.get(f"/v1/runs/{built[0]['run_id']}", headers=h).json()
    assert one["kind"] == "cascades-build" and one["summary"]["n_cascades"] > 0
    assert_error(client.get("/v1/runs/nope", headers=h), 404, "not_found")
    assert_error(client.get("/v1/runs?status=weird", headers=h), 422)


def test_two_rings_on_one_store_keep_each_others_keys(engine: Any) -> None:
    a, b = KeyRing(engine.store), KeyRing(engine.store)
    ka, _ = a.create("analyst", "from a")
    kb, _ = b.create("partner", "from b")  # b did not know ka when it saved
    fresh = KeyRing(engine.store)
    assert fresh.check(ka) is not None and fresh.check(kb) is not None
    _, rec = a.create("analyst", "to revoke")
    b2 = KeyRing(engine.store)
    a.revoke(rec.key_id)
    b2.create("viewer-service", "later")  # b2 still holds the key as active
    assert KeyRing(engine.store).get(rec.key_id).revoked_at is not None
