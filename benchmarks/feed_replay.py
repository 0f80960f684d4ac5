"""Replay: planted viewers respond to served feeds; full pipeline vs popularity vs CF.

    .venv/bin/python benchmarks/feed_replay.py

A small planted platform (20 communities, 3,000 videos, 600 viewers, each with a main
and a secondary community) stands in for the simulator until it is plugged in through
the same ``recommend`` / ``respond`` / ``observe`` callables of
:func:`communitok.evaluation.replay`. Every policy starts from the same history and
serves 5 feeds of 10 videos per viewer; each event goes back into the policy's
session state. Reports watch time per session, distinct communities per 50 items,
new creators' share, like / skip rates and repeats (must be 0). Writes
``benchmarks/results/feed_replay.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from communitok.core.schema import empty_table
from communitok.evaluation import replay
from communitok.feed import Catalogue, FeedConfig, FeedPipeline, Interactions, StageSpec

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "feed_replay.json"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
N_COMM, N_VIDEOS, N_VIEWERS, SEED = 20, 3000, 600, 0


def world(seed: int = SEED) -> dict:
    g = np.random.default_rng(seed)
    comm = g.integers(0, N_COMM, N_VIDEOS)
    # creators live in one community; 8 % of creators are new (one or two fresh videos)
    creator = np.empty(N_VIDEOS, dtype=object)
    new_creator = np.zeros(N_VIDEOS, bool)
    age_days = g.uniform(0, 60, N_VIDEOS)
    for c in range(N_COMM):
        idx = np.flatnonzero(comm == c)
        n_new = max(1, int(0.08 * len(idx)))
        for j, i in enumerate(idx):
            if j < n_new:
                creator[i], new_creator[i], age_days[i] = f"new{c}_{j}", True, g.uniform(0, 3)
            else:
                creator[i] = f"c{c}_{j % 12}"
    quality = g.beta(2, 2, N_VIDEOS)
    duration = g.choice([8.0, 15.0, 30.0, 60.0], N_VIDEOS)
    spec = empty_table("videos").schema
    vids = [f"v{i}" for i in range(N_VIDEOS)]
    cols = {
        "video_id": vids,
        "creator_id": creator.tolist(),
        "created_at": [NOW - timedelta(days=float(a)) for a in age_days],
        "duration_s": duration.tolist(),
        "hashtags": [[f"tok{c}", "fyp"] for c in comm],
        "sound_id": [f"s{i // 3}" for i in range(N_VIDEOS)],
    }
    videos = pa.table(
        {c: pa.array(cols.get(c, [None] * N_VIDEOS), type=spec.field(c).type) for c in spec.names}
    )
    main = g.integers(0, N_COMM, N_VIEWERS)
    second = (main + g.integers(1, N_COMM, N_VIEWERS)) % N_COMM
    ev = {k: [] for k in ("viewer_id", "video_id", "ts", "watch_time_s", "liked", "skipped")}
    old = np.flatnonzero(~new_creator)
    for u in range(N_VIEWERS):
        for _ in range(15):
            r = g.random()
            c = main[u] if r < 0.7 else second[u] if r < 0.9 else g.integers(0, N_COMM)
            pool = old[comm[old] == c]
            i = int(g.choice(pool))
            frac = float(
                np.clip(
                    g.normal(0.85 if c == main[u] else 0.6 if c == second[u] else 0.1, 0.1), 0, 1
                )
            )
            ev["viewer_id"].append(f"u{u}")
            ev["video_id"].append(vids[i])
            ev["ts"].append(NOW - timedelta(hours=float(g.uniform(1, 24 * 14))))
            ev["watch_time_s"].append(frac * duration[i])
            ev["liked"].append(bool(frac > 0.7 and g.random() < 0.3))
            ev["skipped"].append(frac < 0.2)
    es = empty_table("events").schema
    events = pa.table(
        {
            c: pa.array(ev.get(c, [None] * len(ev["viewer_id"])), type=es.field(c).type)
            for c in es.names
        }
    )
    # the communities package would supply memberships; here half the viewers have them
    vc = pa.table(
        {"video_id": vids, "community_id": [f"tok{c}" for c in comm], "weight": [1.0] * N_VIDEOS}
    )
    wc = pa.table(
        {
            "viewer_id": [f"u{u}" for u in range(0, N_VIEWERS, 2)],
            "community_id": [f"tok{main[u]}" for u in range(0, N_VIEWERS, 2)],
            "weight": [1.0] * len(range(0, N_VIEWERS, 2)),
        }
    )
    return {
        "videos": videos,
        "events": events,
        "video_communities": vc,
        "viewer_communities": wc,
        "comm": comm,
        "main": main,
        "second": second,
        "quality": quality,
        "duration": duration,
        "new_creator": new_creator,
        "vids": vids,
    }


def responder(w: dict):
    index = {v: i for i, v in enumerate(w["vids"])}

    def respond(viewer: str, videos: list[str], step: int, g: np.random.Generator) -> list[dict]:
        u = int(viewer[1:])
        out = []
        for v in videos:
            i = index[v]
            c = w["comm"][i]
            base = 0.85 if c == w["main"][u] else 0.6 if c == w["second"][u] else 0.12
            frac = float(np.clip(g.normal(base * (0.6 + 0.4 * w["quality"][i]) / 0.8, 0.1), 0, 1))
            out.append(
                {
                    "viewer_id": viewer,
                    "video_id": v,
                    "watch_time_s": frac * w["duration"][i],
                    "completed": frac > 0.95,
                    "liked": bool(frac > 0.7 and g.random() < 0.3),
                    "skipped": frac < 0.2,
                    "not_interested": bool(frac < 0.1 and g.random() < 0.2),
                }
            )
        return out

    return respond


POLICIES = {
    "popularity": FeedConfig(
        sources=(StageSpec("popular", {}, n=200),),
        rerank={
            "diversity": 0.0,
            "creator_cap": 0,
            "sound_cap": 0,
            "community_quota": 1.0,
            "explore_share": 0.0,
        },
    ),
    "collaborative_ease": FeedConfig(
        sources=(StageSpec("ease", {"l2": 20.0}, n=200),),
        rerank={
            "diversity": 0.0,
            "creator_cap": 0,
            "sound_cap": 0,
            "community_quota": 1.0,
            "explore_share": 0.0,
        },
    ),
    "full_pipeline": FeedConfig(),
    "full_pipeline_relevance_first": FeedConfig(
        rerank={"diversity": 0.0, "community_quota": 1.0, "explore_share": 0.1}
    ),
}


def main() -> int:
    w = world()
    cat = Catalogue.from_arrow(w["videos"], video_communities=w["video_communities"])
    inter = Interactions.from_events(w["events"], cat, viewer_communities=w["viewer_communities"])
    viewers = [f"u{u}" for u in range(N_VIEWERS)]
    video_comm = {v: f"tok{c}" for v, c in zip(w["vids"], w["comm"], strict=True)}
    new_videos = {v for v, n in zip(w["vids"], w["new_creator"], strict=True) if n}
    out = {
        "communities": N_COMM,
        "videos": N_VIDEOS,
        "viewers": N_VIEWERS,
        "steps": 5,
        "k": 10,
        "policies": {},
    }
    for name, cfg in POLICIES.items():
        p = FeedPipeline(cfg).fit(cat, inter)
        r = replay(
            lambda v, k, p=p: p.recommend(v, k).video_ids,
            responder(w),
            viewers,
            steps=5,
            k=10,
            observe=p.observe,
            video_community=video_comm,
            new_creator_videos=new_videos,
            seed=SEED,
        )
        res = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.__dict__.items()}
        out["policies"][name] = res
        print(name, res, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
