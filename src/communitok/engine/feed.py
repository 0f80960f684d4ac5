"""Engine wiring for the For You feed: train from the store, serve in process, log exposures.

:func:`train_feed` loads what the feed needs from a store — the videos, the events of the
training window, follows, community memberships (the ``community_members`` and
``communities`` results, when the communities engine has produced them) and moderation
labels (the ``visibility`` result of the safety engine) — fits the duration debiaser and
one :class:`~communitok.feed.FeedPipeline` per A/B variant (optionally a learned scorer
on a later window), records a ``feed-train`` run (configuration, seed, input
fingerprint, window, counts) and returns a :class:`~.feed_service.FeedService` that it
also keeps for the engine, so a server process trains once and then serves:

    svc = feed_service(engine)                 # trained on first use, then kept
    svc.recommend("u0042", k=20)               # items with "why", in the viewer's variant
    svc.observe({"viewer_id": "u0042", "video_id": "v0007", "not_interested": True})

Served feeds are logged as exposure rows (:data:`communitok.feed.EXPOSURE_SCHEMA`),
appended in batches to the ``feed_exposures`` result. Without community results the
feed runs without communities (community sources stay silent; the viewer's history and
trending still work; onboarding interests cannot be matched): run
``communitok communities detect`` first for community-aware feeds and explanations.
Offline evaluation and the latency benchmark live in :mod:`.feed_eval`.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import InputError, NotFound
from ..core.timeutil import utcnow
from ..feed import EASE_MAX_ITEMS as EASE_MAX_ITEMS  # re-exported: the default's EASE cap
from ..feed import (
    Catalogue,
    DurationDebiaser,
    Experiment,
    FeedConfig,
    FeedPipeline,
    InMemorySessionStore,
    Interactions,
    StageSpec,
    VisibilityFilter,
)
from ..store.base import Store
from .core import Engine
from .feed_inputs import (
    FeedInputs,
    load_feed_inputs,
    time_window,
    visibility_labels,
)
from .feed_log import FEED_EXPOSURES as FEED_EXPOSURES
from .feed_log import FLUSH_ROWS, store_sink
from .feed_log import append_exposures as append_exposures
from .feed_log import exposures as exposures
from .feed_models import load_models, model_dir, model_key, save_models
from .feed_service import FeedRequest as FeedRequest
from .feed_service import FeedResponse, FeedService

#: the learned scorer's target window when none is given (days before the window end)
DEFAULT_SCORER_DAYS = 2.0

_SERVICES: weakref.WeakKeyDictionary[Engine, FeedService] = weakref.WeakKeyDictionary()


def default_config(seed: int = 0) -> FeedConfig:
    """The engine's default pipeline: :class:`~communitok.feed.FeedConfig` (sources,
    scorer and re-ranker that scale with the catalogue on their own; EASE limited to
    :data:`EASE_MAX_ITEMS` videos), seeded."""
    return FeedConfig(seed=seed)


# --------------------------------------------------------------------------- fitting
def fit_debiaser(events: pa.Table, catalogue: Catalogue) -> DurationDebiaser | None:
    """Duration-debiasing quantiles fitted on *events* (None without watch times)."""
    if events.num_rows == 0 or "watch_time_s" not in events.column_names:
        return None
    idx = catalogue.lookup(events["video_id"].to_pylist())
    dur = np.where(idx >= 0, catalogue.duration_s[np.maximum(idx, 0)], np.nan)
    watch = np.asarray(
        pc.cast(events["watch_time_s"], pa.float64()).to_numpy(zero_copy_only=False), float
    )
    if not np.isfinite(watch).any():
        return None
    return DurationDebiaser().fit(watch, dur)


def _interactions(
    events: pa.Table, cat: Catalogue, inputs: FeedInputs, deb: DurationDebiaser | None
) -> Interactions:
    return Interactions.from_events(
        events,
        cat,
        viewer_communities=inputs.viewer_communities,
        follows=inputs.follows,
        debiaser=deb,
    )


def _fit_variant(
    cfg: FeedConfig,
    cat: Catalogue,
    inter: Interactions,
    inputs: FeedInputs,
    deb: DurationDebiaser | None,
    sessions: InMemorySessionStore,
    scorer_days: float | None,
) -> tuple[FeedPipeline, dict[str, Any]]:
    """Fit one variant; a learned scorer is trained on the last *scorer_days* of the
    window with sources fitted before it, then moved onto sources fitted on it all."""
    info: dict[str, Any] = {"scorer": cfg.scorer.kind}
    scorer = None
    if cfg.scorer.kind == "learned" and cat.n_videos:
        days = DEFAULT_SCORER_DAYS if scorer_days is None else scorer_days
        ev = inputs.events
        if ev.num_rows == 0:
            raise InputError("a learned scorer needs events", field="scorer")
        cut = pc.max(ev["ts"]).as_py() - timedelta(days=float(days))
        early = time_window(ev, "ts", None, cut)
        late = time_window(ev, "ts", cut, None)
        if early.num_rows == 0 or late.num_rows == 0:
            raise InputError(
                f"no events on one side of the scorer cut {cut.isoformat()}", field="scorer_days"
            )
        p0 = FeedPipeline(cfg).fit(cat, _interactions(early, cat, inputs, deb), debiaser=deb)
        targets = p0.targets_from_events(late)
        p0.fit_scorer(targets)
        scorer = p0.scorer
        info.update(
            scorer_cut=cut.isoformat(), scorer_events=late.num_rows, scorer_targets=targets.nnz
        )
    p = FeedPipeline(cfg, sessions=sessions).fit(cat, inter, debiaser=deb)
    if scorer is not None:
        p.scorer = scorer
    return p, info


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))


def _configs(
    config: FeedConfig | Mapping[str, Any] | None,
    variants: Mapping[str, FeedConfig | Mapping[str, Any]] | None,
    seed: int,
) -> dict[str, FeedConfig]:
    def one(c: FeedConfig | Mapping[str, Any] | None) -> FeedConfig:
        if c is None:
            return default_config(seed)
        if isinstance(c, FeedConfig):
            return c
        if isinstance(c, Mapping):
            return FeedConfig.from_dict({"seed": seed, **c})
        raise InputError(
            f"must be a FeedConfig or a mapping, got {type(c).__name__}", field="config"
        )

    if variants is None:
        return {"control": one(config)}
    if config is not None:
        raise InputError("give either config or variants", field="variants")
    if not isinstance(variants, Mapping) or not variants:
        raise InputError("must map variant names to configs", field="variants")
    return {str(k): one(v) for k, v in variants.items()}


@dataclass(frozen=True)
class TrainSummary:
    """What one training run did."""

    run_id: str
    inputs: dict[str, Any]
    variants: dict[str, dict[str, Any]]
    experiment: str
    seconds: float
    viewers: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_feed(
    engine: Engine,
    *,
    config: FeedConfig | Mapping[str, Any] | None = None,
    variants: Mapping[str, FeedConfig | Mapping[str, Any]] | None = None,
    experiment: Experiment | None = None,
    end: datetime | None = None,
    window_days: float | None = None,
    scorer_days: float | None = None,
    seed: int | None = None,
    communities: bool = True,
    flush_rows: int = FLUSH_ROWS,
    keep: bool = True,
    reuse: bool = True,
    save: bool = True,
    train: bool = True,
) -> FeedService:
    """Train the feed on the engine's store (one recorded ``feed-train`` run), or load
    the saved one when it matches (see :mod:`.feed_models`).

    config / variants : one pipeline configuration, or one per A/B variant (then the
        experiment splits traffic equally unless *experiment* says otherwise).
    end, window_days : the training window (default: every stored event).
    scorer_days : for a learned scorer, the later window its targets come from.
    seed : default :attr:`Settings.seed`; seeds the default config and the run record.
    keep : keep the service for the engine (what :func:`feed_service` returns).
    reuse : load the model saved beside the store when its key (input fingerprint,
        configuration, experiment, window, seed, version) matches, instead of training.
    save : save what was trained beside the store (file-backed stores only).
    train : False = load only (:class:`NotFound` when no saved model matches).
    """
    seed = engine.settings.seed if seed is None else seed
    configs = _configs(config, variants, seed)
    if experiment is None:
        experiment = Experiment("feed", tuple((name, 1.0) for name in configs))
    if scorer_days is not None and not (isinstance(scorer_days, int | float) and scorer_days > 0):
        raise InputError(f"must be > 0, got {scorer_days!r}", field="scorer_days")
    store = engine.store
    t0 = time.perf_counter()
    inputs = load_feed_inputs(store, end=end, window_days=window_days, communities=communities)
    params = {
        "variants": {k: c.to_dict() for k, c in configs.items()},
        "experiment": {
            "name": experiment.name,
            "variants": [list(v) for v in experiment.variants],
            "salt": experiment.salt,
        },
        "end": end,
        "window_days": window_days,
        "scorer_days": scorer_days,
        "communities": communities,
    }
    key = model_key(inputs.fingerprint, _jsonable(params), seed)
    sessions = InMemorySessionStore()
    folder = engine.settings.models_dir or None
    loaded = load_models(store, key, sessions, folder) if reuse else None
    if loaded is not None:
        pipelines, info = loaded
        info = {
            **info,
            "loaded_from": str(model_dir(store, folder)),
            "loaded_at": utcnow().isoformat(),
            "load_seconds": round(time.perf_counter() - t0, 3),
        }
    elif not train:
        raise NotFound("no saved feed model matches the store (train the feed)")
    else:
        pipelines, info = _train(
            store, inputs, configs, experiment, params, sessions, scorer_days, seed, t0
        )
        if save:
            info["saved_to"] = str(save_models(store, key, pipelines, info, folder) or "") or None
    service = FeedService(
        pipelines,
        experiment=experiment,
        labels=inputs.labels,
        onboarding=inputs.onboarding,
        visibility=VisibilityFilter(inputs.visibility),
        exposure_sink=store_sink(store, info["run_id"]),
        flush_rows=flush_rows,
        info=info,
    )
    if keep:
        old = _SERVICES.get(engine)
        if old is not None:
            old.close()
        _SERVICES[engine] = service
        engine.on_close("feed", lambda: drop_feed_service(engine))
    return service


def _train(
    store: Store,
    inputs: FeedInputs,
    configs: dict[str, FeedConfig],
    experiment: Experiment,
    params: dict[str, Any],
    sessions: InMemorySessionStore,
    scorer_days: float | None,
    seed: int,
    t0: float,
) -> tuple[dict[str, FeedPipeline], dict[str, Any]]:
    """Fit every variant under one recorded ``feed-train`` run."""
    run_id = store.start_run(
        "feed-train", _jsonable(params), seed=seed, input_fingerprint=inputs.fingerprint
    )
    try:
        notes: list[str] = []
        if inputs.videos.num_rows == 0:
            notes.append("empty catalogue: every feed is empty until videos are ingested")
            configs = {k: FeedConfig(sources=(StageSpec("popular"),), seed=seed) for k in configs}
        if inputs.communities_source == "none":
            notes.append(
                "no community results: run `communitok communities detect` for "
                "community sources, onboarding and community explanations"
            )
        cat = Catalogue.from_arrow(inputs.videos, video_communities=inputs.video_communities)
        deb = fit_debiaser(inputs.events, cat)
        inter = _interactions(inputs.events, cat, inputs, deb)
        pipelines, info = {}, {}
        for name, cfg in configs.items():
            pipelines[name], info[name] = _fit_variant(
                cfg, cat, inter, inputs, deb, sessions, scorer_days
            )
        summary = TrainSummary(
            run_id=run_id,
            inputs=inputs.summary(),
            variants=info,
            experiment=experiment.name,
            seconds=round(time.perf_counter() - t0, 3),
            viewers=inter.n_viewers,
            notes=notes,
        )
    except BaseException as exc:
        store.finish_run(run_id, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        raise
    store.finish_run(run_id, "ok", _jsonable(summary.to_dict()))
    return pipelines, {"run_id": run_id, "trained_at": utcnow().isoformat(), **summary.to_dict()}


# --------------------------------------------------------------------------- serving
def feed_service(engine: Engine, *, train: bool = True) -> FeedService:
    """The engine's trained feed service (trained with defaults on first use)."""
    svc = _SERVICES.get(engine)
    if svc is None:
        if not train:
            raise NotFound("the feed is not trained yet: call train_feed() first")
        svc = train_feed(engine)
    return svc


def load_feed(engine: Engine) -> FeedService | None:
    """At server start: the saved feed (default configuration) when it matches the
    store, kept for the engine; None otherwise (the feed then trains on first use).
    Never trains."""
    if model_dir(engine.store, engine.settings.models_dir or None) is None:
        return None
    try:
        return train_feed(engine, train=False)
    except NotFound:
        return None


def drop_feed_service(engine: Engine) -> None:
    """Write the buffered exposure rows, stop the writer and forget the engine's feed
    service (call before closing the store, e.g. at server shutdown)."""
    svc = _SERVICES.pop(engine, None)
    if svc is not None:
        svc.close()


def observe_event(engine: Engine, event: Any) -> bool:
    """Event hook for ``POST /v1/events``: update the viewer's live session if the feed
    is trained (False otherwise, or when the video is not in the trained catalogue)."""
    svc = _SERVICES.get(engine)
    return bool(svc.observe(event)) if svc is not None else False


def knows_video(engine: Engine, video_id: str) -> bool:
    """Is *video_id* in the trained feed's catalogue (False when not trained)?"""
    svc = _SERVICES.get(engine)
    return svc is not None and video_id in svc.control.ctx_.catalogue.index


def refresh_visibility_labels(engine: Engine) -> int:
    """Reload moderation labels from the ``visibility`` result into the live service."""
    svc = feed_service(engine, train=False)
    labels = visibility_labels(engine.store)
    svc.set_visibility(VisibilityFilter(labels))
    return len(labels)


def show_feed(
    engine: Engine, viewer_id: str, k: int = 20, *, interests: Sequence[str] | None = None
) -> FeedResponse:
    """A preview of *viewer_id*'s feed (nothing marked as served, no exposure logged):
    the library twin of ``communitok feed show``."""
    return feed_service(engine).recommend(
        viewer_id, k, interests=interests, log_exposure=False, mark_served=False
    )


from . import feed_demo as _feed_demo  # noqa: E402,F401  (registers the demo section)
