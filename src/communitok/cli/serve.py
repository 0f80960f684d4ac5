"""``communitok serve``: the API and the dashboard in one process that owns the store.

Register with ``app.command()(serve)`` in :mod:`communitok.cli.app`. The library twin is
:func:`communitok.api.create_app`.
"""

from __future__ import annotations

import gc
import logging
from typing import Annotated

import typer

from ..core.settings import load_settings
from ..engine import open_engine
from .render import console


def _logging(level: str) -> None:
    from ..api import RequestIdFilter

    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    for name in ("communitok", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level.upper())
        lg.propagate = False


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default 127.0.0.1; env COMMUNITOK_HOST)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default 8000; env COMMUNITOK_PORT).")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store", help="Store location (DuckDB file or postgresql://…); env COMMUNITOK_STORE."
        ),
    ] = None,
    new_admin_key: Annotated[
        bool, typer.Option("--new-admin-key", help="Mint and print a new admin key at start.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request (with its id).")
    ] = True,
    retrain_every: Annotated[
        float,
        typer.Option(
            "--retrain-every",
            min=0.0,
            help="Refit the feed's batch models every this many hours while serving "
            "(0 = never; sessions learn from every event in between).",
        ),
    ] = 0.0,
) -> None:
    """Serve the JSON API (/v1) and the dashboard (/) on one port; this process owns the store."""
    import uvicorn

    from ..api import create_app

    settings = load_settings(store=store, host=host, port=port)
    _logging(log_level)
    if not access_log:
        logging.getLogger("communitok.api.access").setLevel(logging.WARNING)
    with open_engine(settings) as engine:
        app = create_app(engine)
        from ..engine.feed import load_feed

        if load_feed(engine) is not None:  # a saved feed model: no training at first request
            console.print("feed: loaded the saved model (no retraining)")
        keys = app.state.api.keys
        url = f"http://{settings.host}:{settings.port}/"
        secret = None
        if new_admin_key or len(keys) == 0:
            secret, _ = keys.create("admin", "admin (from communitok serve)")
        console.print(f"communitok serving store [bold]{settings.store}[/] at [bold]{url}[/]")
        if secret is not None:
            console.print(
                "[bold yellow]Admin API key (shown once, stored hashed):[/] " + secret,
                soft_wrap=True,
                highlight=False,
            )
            console.print(
                f"Open the dashboard signed in: {url}#key={secret}", soft_wrap=True, highlight=False
            )
        else:
            console.print("Sign in with an API key (`--new-admin-key` mints a new admin key).")
        console.print(f"API: {url}v1/  ·  OpenAPI: {url}v1/openapi.json  ·  Ctrl+C to stop")
        retrainer = None
        if retrain_every > 0:
            from ..engine.feed_schedule import FeedRetrainer

            st = app.state.api
            retrainer = FeedRetrainer(
                engine, retrain_every * 3600, lock=st.compute_lock, before=st.events.flush
            ).start()
            console.print(f"feed: retraining every {retrain_every:g} h")
        # what is loaded now (modules, the saved model) lives as long as the server: keep
        # it out of the cyclic garbage collector's full passes, which would otherwise
        # walk it all every time and stall requests for tens of milliseconds
        gc.collect()
        gc.freeze()
        try:
            uvicorn.run(
                app,
                host=settings.host,
                port=settings.port,
                log_level=log_level.lower(),
                access_log=False,
                log_config=None,
                server_header=False,
            )
        finally:
            if retrainer is not None:
                retrainer.stop()
