"""Dashboard end-to-end fixtures: the real server (uvicorn, loopback, random port) over a
tiny simulated store, and headless Chromium (Debian's ``chromium``) driven by Playwright.

Skips with the reason when the browser stack is missing: Playwright (pip) or Chromium at
``/usr/bin/chromium`` (or ``COMMUNITOK_CHROMIUM``); with ``COMMUNITOK_REQUIRE_BROWSER=1``
(CI, once it installed Chromium) a missing browser fails instead. Playwright's own browser
downloads are never used. Screenshots go to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .helpers import ARTIFACTS, EVIL

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

CHROMIUM = os.environ.get("COMMUNITOK_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    """Skip, or fail where the browser must be there (CI sets COMMUNITOK_REQUIRE_BROWSER=1
    once it has installed Chromium)."""
    if os.environ.get("COMMUNITOK_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _browser_or_skip() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright; never `playwright install`)")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    except Exception as exc:  # a broken Chromium install
        pw.stop()
        _missing(f"Chromium at {CHROMIUM} does not start: {exc}")
    yield b
    b.close()
    pw.stop()


def _seed(engine: Any) -> None:
    """Moderation data (stored comments classified, one hostile comment reported 3 times)
    and communities (detected last: see the integration note in tests/api)."""
    import pyarrow as pa

    vid = engine.store.read("videos", ["video_id"], limit=1).column(0)[0].as_py()
    engine.store.write(
        "comments",
        pa.table(
            {
                "comment_id": ["evil-1"],
                "video_id": [vid],
                "text": [EVIL],
                "user_id": ["u-evil"],
                "created_at": pa.array(
                    [datetime(2024, 1, 10, tzinfo=UTC)], pa.timestamp("us", tz="UTC")
                ),
            }
        ),
    )
    try:
        from communitok.engine import safety as es
    except ImportError:
        es = None
    if es is not None:
        es.classify_stored(engine.store)
        es.add_reports(engine.store, [
            {"item_kind": "comment", "item_id": "evil-1", "reporter_id": f"r{i}", "reason": "harassment",
             "created_at": "2024-01-20T00:00:00Z"}
            for i in range(3)
        ])  # fmt: skip
    # an A/A feed experiment: the last week's impressions as its exposures
    from communitok.feed.experiments import EXPOSURE_SCHEMA, Experiment

    ev = engine.store.query("SELECT viewer_id, video_id, ts FROM events WHERE ts >= "
                            "(SELECT max(ts) FROM events) - INTERVAL 7 DAY")  # fmt: skip
    exp, n = Experiment("aa", salt="x"), ev.num_rows
    engine.store.put_result("feed_exposures", pa.table({
        "experiment": ["aa"] * n, "variant": [exp.assign(v) for v in ev["viewer_id"].to_pylist()],
        "viewer_id": ev["viewer_id"], "video_id": ev["video_id"],
        "rank": pa.array([1] * n, pa.int32()), "score": pa.nulls(n, pa.float64()),
        "source": pa.nulls(n, pa.string()), "ts": ev["ts"]}, schema=EXPOSURE_SCHEMA))  # fmt: skip
    try:
        from communitok.engine.communities import detect_communities
    except ImportError:
        return
    detect_communities(engine.store)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app served over HTTP on loopback, with keys for each scope."""
    import uvicorn

    from api.helpers import GENEROUS, build_tiny_store
    from communitok.api import SCOPES, create_app
    from communitok.engine import open_engine

    settings = build_tiny_store(tmp_path_factory.mktemp("dashboard-store"))
    engine = open_engine(settings)
    _seed(engine)
    app = create_app(engine, rate_limits=GENEROUS, anon_rate=(10_000.0, 10_000))
    app.state.api.privacy_k = 5
    keys = {s: app.state.api.keys.create(s, f"dashboard {s}")[0] for s in SCOPES}
    keys["evil"] = app.state.api.keys.create("analyst", EVIL)[0]
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "keys": keys, "app": app, "engine": engine}
    srv.should_exit = True
    thread.join(timeout=10)
    engine.close()


@pytest.fixture(scope="session")
def timings() -> Iterator[dict[str, float]]:
    """Page load times (ms) collected by the tests, written as an artefact."""
    out: dict[str, float] = {}
    yield out
    if out:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "page-load-ms.json").write_text(json.dumps(out, indent=2, sort_keys=True))


@pytest.fixture(scope="session")
def browser_context(chromium: Any) -> Iterator[Any]:
    """One browser profile for the session (its HTTP cache keeps Plotly's 4.8 MB)."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def tab(browser_context: Any, server: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser tab (its own sessionStorage, so its own key); fails the test on any
    script error or alert dialog, and on any request that leaves the server (the
    dashboard works offline)."""
    pg = browser_context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and "status of 4" not in m.text and "status of 5" not in m.text
            else None
        ),
    )

    def outside(route: Any) -> None:
        problems.append(f"outside request: {route.request.url}")
        route.abort()

    pg.route(lambda url: not url.startswith(server["url"]), outside)
    pg.problems = problems
    yield pg
    pg.close()
    assert not problems, problems
