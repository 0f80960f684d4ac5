"""Public entry points: :func:`simulate` (all in memory) and :func:`iter_tables` (streaming).

The stages run in a fixed order, each with its own seed derived from ``config.seed``
and a stage label, so the output depends only on the config::

    world (communities, creators, viewers, planted actors)
      → plans (bursts, campaigns) → videos (+ co-creation) → content (text, tags, sounds)
      → event model (+ planted fake engagement) → comments, follows → tables + truth
      → events, chunk by chunk

Everything except the events is small (≤ a few million rows at the ``large`` preset) and
built up front; events are generated lazily in chunks of ``config.chunk_size`` rows,
each chunk from its own seed, so streaming never holds more than one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..core.errors import InputError, NotFound
from ..core.schema import LOAD_ORDER
from ..core.seeds import derive_seed
from .config import SimConfig
from .content import build_content
from .events import EventModel
from .plans import plan_bursts, plan_campaigns
from .planted import build_truth
from .social import build_comments, build_follows
from .tables import (
    cocreation_table,
    creators_table,
    effects_table,
    hashtags_table,
    make_id_arrays,
    sound_ids,
    sounds_table,
    videos_table,
    viewers_table,
)
from .truth import GroundTruth
from .videos import build_videos
from .world import build_world


@dataclass(frozen=True)
class SimResult:
    """A whole simulated platform in memory: ``tables[name]`` has the core schema of *name*."""

    config: SimConfig
    tables: dict[str, pa.Table]
    truth: GroundTruth

    def __getitem__(self, name: str) -> pa.Table:
        if name not in self.tables:
            raise NotFound(f"no simulated table {name!r}; known: {', '.join(self.tables)}")
        return self.tables[name]


@dataclass
class TableStream:
    """Iterable of ``(table_name, batch)`` in load order; events come last, in chunks.

    ``truth`` and the row count of every table (``rows``) are known before iterating.
    Iterating again regenerates the same batches.
    """

    config: SimConfig
    truth: GroundTruth
    static: dict[str, pa.Table] = field(repr=False)
    model: EventModel = field(repr=False)

    @property
    def rows(self) -> dict[str, int]:
        out = {name: t.num_rows for name, t in self.static.items()}
        out["events"] = self.config.n_events
        return out

    def __iter__(self) -> Iterator[tuple[str, pa.Table]]:
        for name in LOAD_ORDER:
            if name == "events":
                for chunk in self.model.iter_chunks():
                    yield "events", chunk
            else:
                yield name, self.static[name]


def _coerce(config: SimConfig | str | None) -> SimConfig:
    if config is None:
        return SimConfig.preset("tiny")
    if isinstance(config, str):
        return SimConfig.preset(config)
    if not isinstance(config, SimConfig):
        raise InputError(
            f"expected a SimConfig or preset name, got {type(config).__name__}", field="config"
        )
    return config


def iter_tables(config: SimConfig | str | None = None) -> TableStream:
    """Build the platform and return a :class:`TableStream` (events generated lazily)."""
    cfg = _coerce(config)
    w = build_world(cfg)
    bursts = plan_bursts(w)  # registers burst sounds before content is drawn
    campaigns = plan_campaigns(w)
    v = build_videos(w, bursts, campaigns)
    ids = make_id_arrays(w, v.n)
    content = build_content(w, v, bursts, campaigns, ids.creators, ids.effects)
    model = EventModel(w, v, content, campaigns, ids.viewers, ids.videos)
    comments, labels, per_video = build_comments(model, ids.creators, ids.viewers, ids.videos)
    follows, followers, following = build_follows(model, ids.creators, ids.viewers)
    counts = model.expected_counts(
        np.random.default_rng(derive_seed(cfg.seed, "simulate", "counts"))
    )
    sids = sound_ids(content.n_fixed_sounds + content.original_creator.size)
    static = {
        "creators": creators_table(w, ids, v, counts["like_count"], followers, following),
        "viewers": viewers_table(w, ids),
        "hashtags": hashtags_table(content, w, bursts, campaigns),
        "sounds": sounds_table(w, ids, content),
        "effects": effects_table(w, ids),
        "videos": videos_table(v, ids, content, counts, per_video, cfg.view_scale),
        "cocreation_links": cocreation_table(v, ids),
        "comments": comments,
        "follows": follows,
    }
    truth = build_truth(
        cfg,
        w,
        bursts,
        campaigns,
        v,
        content,
        model,
        ids,
        sids,
        comments.column("comment_id").combine_chunks(),
        labels,
    )
    return TableStream(cfg, truth, static, model)


def simulate(config: SimConfig | str | None = None) -> SimResult:
    """Generate the whole platform in memory (use :func:`write_dataset` for big presets)."""
    stream = iter_tables(config)
    batches: dict[str, list[pa.Table]] = {}
    for name, batch in stream:
        batches.setdefault(name, []).append(batch)
    tables = {name: pa.concat_tables(parts) for name, parts in batches.items()}
    return SimResult(stream.config, tables, stream.truth)
