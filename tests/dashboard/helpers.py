"""Helpers of the dashboard tests: artefact folder, screenshots, waiting for a page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
#: script-ish text stored in the data and used as a key name: must show as text only
EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ready(page: Any, name: str, timeout_ms: int = 15_000) -> float:
    """Wait until the dashboard rendered page *name*; return the ms it took."""
    t0 = time.perf_counter()
    page.wait_for_selector(f'main[data-page="{name}"][data-ready="true"]', timeout=timeout_ms)
    return (time.perf_counter() - t0) * 1000


def open_signed_in(page: Any, server: dict[str, Any], key: str, route: str = "") -> float:
    """Open the dashboard with *key* handed over in the URL fragment (as `serve` prints it),
    then go to *route*; return the page's load time in ms."""
    t0 = time.perf_counter()
    page.goto(f"{server['url']}/#key={server['keys'][key]}")
    ready(page, "overview")
    if route:
        page.evaluate("r => { window.location.hash = r; }", f"#/{route}")
        ready(page, route.split("/")[0].split("?")[0] or "overview")
    return (time.perf_counter() - t0) * 1000
