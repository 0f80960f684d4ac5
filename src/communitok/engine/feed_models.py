"""Fitted feeds saved beside the store, and loaded at start instead of retraining.

For a DuckDB file store ``platform.duckdb`` the trained feed lives in the folder
``platform.duckdb.feed/``: ``model.json`` (the key below, the training summary and one
manifest per A/B variant, see :mod:`communitok.feed.persist`) and one
``<variant>-<token>.npz`` of numeric arrays per variant. ``model.json`` is written last
and atomically (write, then rename), so a reader sees the old model or the new one,
never half of one.

A saved model is used only when its **key** matches what training would use now: the
storage format, the package version, the input fingerprint of the store (counts, time
span, memberships, labels, moderation labels; see
:func:`~.feed_inputs.load_feed_inputs`), every variant's configuration, the experiment,
the window and the seed. Anything else retrains (and saves again).

Safety: nothing is unpickled. Arrays are read with ``allow_pickle=False``, the JSON
names only allow-listed classes of the feed package, and the files are read only from
beside the store the process already owns and trusts; they are never taken from a
request. A store in memory or on PostgreSQL has no folder: its feed is retrained at
start.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..core.errors import InputError
from ..feed import FeedPipeline, SessionStore
from ..feed.persist import FORMAT_VERSION, NotPersistable, pipeline_state, restore_pipeline
from ..store.base import Store

log = logging.getLogger("communitok.feed")
MANIFEST = "model.json"


def model_dir(store: Store, models_dir: str | Path | None = None) -> Path | None:
    """The folder of the store's saved feed: *models_dir* (the ``models_dir`` setting)
    when given, else beside a file store (``<store>.feed``); None for a store that is not
    a file and no *models_dir* (nothing is saved: the feed retrains at each start). A
    saved model records the fingerprint of the data it was trained on, so a folder
    shared by mistake between stores makes a model retrain, never serve another store."""
    if models_dir is not None and not isinstance(models_dir, str | Path):
        raise InputError("must be a folder path", field="models_dir")
    if models_dir:
        return Path(models_dir).expanduser().resolve()
    path = getattr(store, "path", None)
    if not isinstance(path, str) or not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve().with_name(Path(path).name + ".feed")


def model_key(fingerprint: str, params: dict[str, Any], seed: int) -> dict[str, Any]:
    """What a saved model must match to be used (JSON-normalised)."""
    key = {
        "format": FORMAT_VERSION,
        "version": __version__,
        "fingerprint": fingerprint,
        "params": params,
        "seed": seed,
    }
    return json.loads(json.dumps(key, default=str))


def save_models(
    store: Store,
    key: dict[str, Any],
    pipelines: dict[str, FeedPipeline],
    info: dict[str, Any],
    models_dir: str | Path | None = None,
) -> Path | None:
    """Save fitted pipelines beside the store; returns the folder, or None when the
    store has no folder or a pipeline cannot be stored (it is retrained next time)."""
    folder = model_dir(store, models_dir)
    if folder is None:
        return None
    try:
        states = {name: pipeline_state(p) for name, p in pipelines.items()}
    except NotPersistable as exc:
        log.info("feed model not saved: %s", exc)
        return None
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    variants = {}
    for name, (manifest, arrays) in states.items():
        file = f"{_safe(name)}-{token}.npz"
        with open(folder / file, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        variants[name] = {"file": file, "manifest": manifest}
    doc = {"key": key, "info": info, "variants": variants}
    tmp = folder / f".{MANIFEST}.{token}"
    tmp.write_text(json.dumps(doc, default=str))
    os.replace(tmp, folder / MANIFEST)
    keep = {v["file"] for v in variants.values()}
    for old in folder.glob("*.npz"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    return folder


def load_models(
    store: Store,
    key: dict[str, Any],
    sessions: SessionStore,
    models_dir: str | Path | None = None,
) -> tuple[dict[str, FeedPipeline], dict[str, Any]] | None:
    """The saved pipelines (sharing *sessions*) and the training summary, if a saved
    model matches *key*; None otherwise (missing, stale or unreadable: retrain)."""
    folder = model_dir(store, models_dir)
    if folder is None or not (folder / MANIFEST).is_file():
        return None
    try:
        doc = json.loads((folder / MANIFEST).read_text())
        if doc.get("key") != key:
            return None
        pipelines = {}
        for name, v in doc["variants"].items():
            file = folder / Path(str(v["file"])).name  # never outside the folder
            with np.load(file, allow_pickle=False) as arrays:
                pipelines[name] = restore_pipeline(v["manifest"], arrays, sessions=sessions)
        for p in pipelines.values():  # a model that cannot serve is retrained
            p.recommend("__communitok_probe__", 1, mark_served=False)
    except Exception as exc:  # unreadable or from other code: retrain, never fail start
        log.warning("ignoring the saved feed model in %s: %s", folder, exc)
        return None
    return pipelines, dict(doc.get("info") or {})


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60] or "variant"
