"""Fixtures of the feed tests: planted two-community platform, shared data folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from communitok.core.schema import empty_table
from communitok.feed import Catalogue, ContentModel, FitContext, Interactions

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
NOW = datetime(2026, 1, 31, tzinfo=UTC)


def planted_tables(
    n_viewers: int = 40, n_videos: int = 40, per_viewer: int = 6, seed: int = 0
) -> dict[str, pa.Table]:
    """Two communities ("booktok", "guitartok") with disjoint videos, creators, sounds,
    hashtags and viewers; viewers watch only their community's videos (planted truth).
    Videos v{n-2}, v{n-1} are new (no events) and belong to one community each."""
    g = np.random.default_rng(seed)
    half_v, half_u = n_videos // 2, n_viewers // 2
    comm = ["booktok" if i < half_v else "guitartok" for i in range(n_videos)]
    videos = {
        "video_id": [f"v{i}" for i in range(n_videos)],
        "creator_id": [f"c{i // 4}" for i in range(n_videos)],
        "created_at": [NOW - timedelta(days=float(20 - (i % 20))) for i in range(n_videos)],
        "duration_s": [float(10 + 10 * (i % 5)) for i in range(n_videos)],
        "hashtags": [[comm[i], "fyp", f"tag{i % 3}{comm[i][0]}"] for i in range(n_videos)],
        "sound_id": [f"s{i // 2}" for i in range(n_videos)],
    }
    spec = empty_table("videos").schema
    vt = pa.table(
        {c: pa.array(videos.get(c, [None] * n_videos), type=spec.field(c).type) for c in spec.names}
    )
    rows = {
        k: []
        for k in (
            "viewer_id",
            "video_id",
            "ts",
            "watch_time_s",
            "completed",
            "liked",
            "shared",
            "commented",
            "followed",
            "skipped",
            "not_interested",
        )
    }
    warm = n_videos - 2
    for u in range(n_viewers):
        lo, hi = (0, min(half_v, warm)) if u < half_u else (half_v, warm)
        for j in g.choice(np.arange(lo, hi), per_viewer, replace=False):
            d = videos["duration_s"][j]
            rows["viewer_id"].append(f"u{u}")
            rows["video_id"].append(f"v{j}")
            rows["ts"].append(NOW - timedelta(hours=float(g.integers(1, 200))))
            rows["watch_time_s"].append(float(d * g.uniform(0.6, 1.0)))
            rows["completed"].append(bool(g.random() < 0.5))
            rows["liked"].append(bool(g.random() < 0.3))
            for f in ("shared", "commented", "followed", "skipped", "not_interested"):
                rows[f].append(False)
    es = empty_table("events").schema
    et = pa.table(
        {
            c: pa.array(rows.get(c, [None] * len(rows["viewer_id"])), type=es.field(c).type)
            for c in es.names
        }
    )
    vc = pa.table(
        {"video_id": videos["video_id"], "community_id": comm, "weight": [1.0] * n_videos}
    )
    wc = pa.table(
        {
            "viewer_id": [f"u{u}" for u in range(n_viewers)],
            "community_id": ["booktok" if u < half_u else "guitartok" for u in range(n_viewers)],
            "weight": [1.0] * n_viewers,
        }
    )
    follows = pa.table({"follower_id": ["u0", "u1"], "followee_id": ["c0", "c1"]})
    return {
        "videos": vt,
        "events": et,
        "video_communities": vc,
        "viewer_communities": wc,
        "follows": follows,
    }


def planted_features(n_videos: int = 40, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed)
    centres = g.normal(size=(2, 8)) * 3
    return np.vstack(
        [centres[0 if i < n_videos // 2 else 1] + g.normal(size=8) for i in range(n_videos)]
    ).astype(np.float32)


@pytest.fixture(scope="session")
def planted() -> dict[str, pa.Table]:
    return planted_tables()


@pytest.fixture(scope="session")
def planted_data(planted: dict[str, pa.Table]) -> tuple[Catalogue, Interactions]:
    cat = Catalogue.from_arrow(
        planted["videos"],
        video_communities=planted["video_communities"],
        features=planted_features(),
    )
    inter = Interactions.from_events(
        planted["events"],
        cat,
        viewer_communities=planted["viewer_communities"],
        follows=planted["follows"],
    )
    return cat, inter


@pytest.fixture(scope="session")
def planted_ctx(planted_data: tuple[Catalogue, Interactions]) -> FitContext:
    cat, inter = planted_data
    content = ContentModel().fit(cat, inter)
    return FitContext(cat, inter, content, float(inter.event_ts.max()))


@pytest.fixture(scope="session")
def make_planted() -> Any:
    """``make_planted(n_viewers=…, n_videos=…, per_viewer=…)`` → (tables, features):
    larger planted platforms for tests that need them."""

    def make(**kw: Any) -> tuple[dict[str, pa.Table], np.ndarray]:
        return planted_tables(**kw), planted_features(kw.get("n_videos", 40))

    return make
