"""The web dashboard: static HTML/JS/CSS that reads only the JSON API (``/v1``).

:func:`mount` serves it from the API's process: ``/`` (the page), ``/static/…`` (its
scripts and styles) and ``/static/vendor/plotly.min.js`` (Plotly's JavaScript from the
installed ``plotly`` package, so charts work offline). Nothing here touches the engine.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"


def plotly_js() -> Path:
    """Path of the bundled ``plotly.min.js`` (from the ``plotly`` package)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError(path)
    return path


def mount(app: Any) -> None:
    """Serve the dashboard from *app* (a FastAPI/Starlette app)."""
    from starlette.responses import FileResponse
    from starlette.staticfiles import StaticFiles

    index = STATIC_DIR / "index.html"

    async def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    async def plotly() -> FileResponse:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/static/vendor/plotly.min.js", plotly, methods=["GET"], include_in_schema=False
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
