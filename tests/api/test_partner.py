"""Partner scope: only aggregates whose audience reaches the privacy threshold, no account ids."""

from __future__ import annotations

from typing import Any

import pytest

from communitok.api import privacy

from .helpers import assert_error


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
