"""The dashboard's files, served by the API process (no browser needed)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from communitok.api import create_app
from communitok.core.settings import Settings
from communitok.dashboard import STATIC_DIR, plotly_js


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(store=":memory:")))


def test_page_and_assets_are_served(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
        assert client.get(ref).status_code == 200, ref
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) == plotly_js().stat().st_size
    assert "max-age" in js.headers["cache-control"]


def test_every_module_import_resolves(client: TestClient) -> None:
    for path in STATIC_DIR.rglob("*.js"):
        for ref in re.findall(r'from "(\.[^"]+)"', path.read_text()):
            target = (path.parent / ref).resolve()
            assert target.is_file(), f"{path.name} imports missing {ref}"
            url = "/static/" + target.relative_to(STATIC_DIR).as_posix()
            assert client.get(url).status_code == 200


def test_no_outside_urls_and_no_html_injection_sinks() -> None:
    for path in STATIC_DIR.rglob("*"):
        if path.suffix not in {".js", ".html", ".css"}:
            continue
        text = path.read_text().replace('"http://www.w3.org/2000/svg"', "")  # SVG namespace
        assert not re.search(r"https?://", text), f"{path.name} refers to an outside URL"
        for sink in ("innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{path.name} uses {sink}"


def test_unknown_static_file_is_404_in_the_error_shape(client: TestClient) -> None:
    r = client.get("/static/nope.js")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
