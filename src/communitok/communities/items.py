"""Item communities: groups of hashtags, sounds and creators the same videos and viewers
share — the platform's "CommunityTok" (#BookTok = book hashtags + their sounds + creators).

The item graph has up to three layers, each with weights in (0, 1]:

* **content** — items co-occurring on videos, weighted by positive NPMI
  (:func:`communitok.graph.npmi_graph`): a creator links to the tags and sounds they
  use, tags to tags, tags to sounds;
* **audience** — creators whose viewers overlap, cosine of TF-IDF-weighted
  creator × viewer engagement, top-k per creator (SimClusters' producer–producer
  similarity, Satuluri et al. 2020);
* **co-creation** — creators who duet / stitch each other.

Detection runs twice: pass 1 finds communities; every hashtag and sound then gets a
*spread*: the entropy of its edge weight over its neighbours' pass-1 communities,
relative to the entropy of the communities' overall weight (NPMI keeps mega-items'
edges weak but everywhere, so their spread is near 1); items
spread over many communities are learned stop-items (#fyp, #viral, a meme sound) and
are removed before pass 2. Nothing is hard-coded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.errors import InputError
from ..graph import (
    Bipartite,
    EngagementWeights,
    Graph,
    cocreation_graph,
    combine,
    cosine_graph,
    engagement,
    group_spread,
    member_of,
    npmi_graph,
    stop_items,
    video_items,
)
from .detect import Leiden

STOP_KINDS = ("hashtag", "sound", "effect")


@dataclass(frozen=True)
class CommunityConfig:
    """Parameters of the community pipeline (validated once, see :meth:`validate`)."""

    kinds: tuple[str, ...] = ("hashtag", "sound", "creator")
    #: items on fewer videos stay out of the graph (they still count in profiles)
    min_item_videos: int = 2
    #: item pairs co-occurring on fewer videos get no content edge
    min_pair_videos: int = 2
    content_weight: float = 1.0
    audience_weight: float = 1.0
    cocreation_weight: float = 0.5
    #: neighbours kept per creator in the audience layer
    audience_top_k: int = 30
    learn_stop_items: bool = True
    #: items always treated as stop-items besides the learned ones (``hashtag:fyp``)
    extra_stop_items: tuple[str, ...] = ()
    stop_threshold: float = 0.5
    stop_min_groups: float = 2.0
    stop_min_videos: int = 10
    #: …and on at least this share of all videos (mega-items are frequent by nature)
    stop_min_share: float = 0.01
    #: communities with fewer items are left unassigned (label -1)
    min_community_items: int = 3
    resolution: float | str = "auto"
    node_weights: str = "strength"
    n_seeds: int = 3
    seed: int = 0
    #: overlapping memberships: keep weights ≥ this, at most this many per member
    membership_min_weight: float = 0.1
    membership_top_k: int = 5
    engagement: EngagementWeights = field(default_factory=EngagementWeights)

    def validate(self) -> CommunityConfig:
        if not self.kinds or any(
            k not in ("hashtag", "sound", "creator", "effect") for k in self.kinds
        ):
            raise InputError(
                "kinds must be a non-empty subset of hashtag, sound, creator, effect", field="kinds"
            )
        for name in (
            "min_item_videos",
            "min_pair_videos",
            "audience_top_k",
            "stop_min_videos",
            "min_community_items",
            "n_seeds",
            "membership_top_k",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"must be an integer >= 1, got {v!r}", field=name)
        for name in ("content_weight", "audience_weight", "cocreation_weight"):
            if not getattr(self, name) >= 0:
                raise InputError("must be >= 0", field=name)
        if not 0 <= self.stop_min_share < 1:
            raise InputError("must be in [0, 1)", field="stop_min_share")
        if not 0 < self.stop_threshold <= 1:
            raise InputError("must be in (0, 1]", field="stop_threshold")
        if not 0 <= self.membership_min_weight < 1:
            raise InputError("must be in [0, 1)", field="membership_min_weight")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError("must be a non-negative integer", field="seed")
        return self


@dataclass(frozen=True, eq=False)
class ItemCommunities:
    """Result of :func:`detect_items`."""

    #: videos × items (all items, stop-items included), 0/1
    incidence: Bipartite
    #: the final item graph (stop-items and rare items removed)
    graph: Graph
    #: community of each graph node (-1: unassigned), 0 = largest
    labels: np.ndarray
    #: learned stop-items (ids like ``hashtag:fyp``)
    stop: tuple[str, ...]
    #: per item: kind, videos, spread, effective groups, stop flag
    spread: pa.Table
    detector: Leiden | None

    @property
    def n_communities(self) -> int:
        return int(self.labels.max()) + 1 if self.labels.size and self.labels.max() >= 0 else 0

    def item_labels(self) -> dict[str, int]:
        return {
            str(n): int(c) for n, c in zip(self.graph.nodes, self.labels, strict=True) if c >= 0
        }


def item_graph(
    items: Bipartite,
    cfg: CommunityConfig,
    *,
    viewers: Bipartite | None = None,
    cocreation: Graph | None = None,
) -> Graph:
    """Combine the content, audience and co-creation layers over *items*' columns."""
    layers, weights = [], []
    layers.append(npmi_graph(items, min_count=cfg.min_pair_videos))
    weights.append(cfg.content_weight)
    if viewers is not None and viewers.shape[0] and cfg.audience_weight > 0:
        # creators × viewers through the videos (viewers: viewers × videos)
        is_creator = items.col_kinds == "creator"
        if is_creator.any():
            cv = (items.matrix[:, is_creator].T @ viewers.matrix.T).tocsr()
            b = Bipartite(cv, items.cols[is_creator], viewers.rows)
            g = cosine_graph(b, top_k=cfg.audience_top_k)
            layers.append(Graph(g.adjacency, g.nodes, np.full(g.n_nodes, "creator", object)))
            weights.append(cfg.audience_weight)
    if cocreation is not None and cocreation.n_edges and cfg.cocreation_weight > 0:
        a = cocreation.adjacency.copy()
        a.data = a.data / (a.data + 1.0)  # 1 link → 0.5, many → 1
        nodes = np.asarray(["creator:" + str(x) for x in cocreation.nodes], dtype=object)
        layers.append(Graph(a, nodes, np.full(len(nodes), "creator", object)))
        weights.append(cfg.cocreation_weight)
    g = combine(layers, weights)
    keep = member_of(g.nodes, items.cols)  # co-creation may name creators without videos
    return g.subgraph(keep) if not keep.all() else g


def _detect(graph: Graph, cfg: CommunityConfig) -> tuple[np.ndarray, Leiden]:
    det = Leiden(
        resolution=cfg.resolution, node_weights=cfg.node_weights, seed=cfg.seed, n_seeds=cfg.n_seeds
    )
    labels = det.fit(graph).labels_.copy()
    if labels.size:
        sizes = np.bincount(labels)
        labels[sizes[labels] < cfg.min_community_items] = -1
        keep = np.unique(labels[labels >= 0])
        remap = np.full(int(labels.max()) + 2, -1)
        remap[keep] = np.arange(len(keep))
        labels = np.where(labels >= 0, remap[labels], -1)
    return labels, det


def detect_items(
    videos: pa.Table,
    events: pa.Table | None = None,
    links: pa.Table | None = None,
    config: CommunityConfig | None = None,
) -> ItemCommunities:
    """Detect item communities from the ``videos`` table (plus optional ``events`` and
    ``cocreation_links``). See the module docstring for the method."""
    cfg = (config or CommunityConfig()).validate()
    inc = video_items(videos, cfg.kinds)
    df = inc.col_frequency()
    extra = set(cfg.extra_stop_items)
    kept = inc.select_cols((df >= cfg.min_item_videos) & ~member_of(inc.cols, extra))
    viewers = None
    if events is not None and events.num_rows:
        viewers = engagement(events, videos=inc.rows, weights=cfg.engagement)
    co = None
    if links is not None and links.num_rows and "creator" in cfg.kinds:
        co = cocreation_graph(links, videos.select(["video_id", "creator_id"]), level="creator")
    graph = item_graph(kept, cfg, viewers=viewers, cocreation=co)
    labels, det = _detect(graph, cfg)
    stop: list[str] = sorted(extra & set(map(str, inc.cols)))
    n_given = len(stop)
    learn = cfg.learn_stop_items and graph.n_nodes and labels.max(initial=-1) >= 1
    spread_tab = _spread_table(kept, graph, labels, cfg, stop if learn else None)
    if learn and len(stop) > n_given:
        graph = graph.subgraph(~member_of(graph.nodes, stop))
        # same scale as pass 1: removing weakly linked stop-items barely moves it
        fixed = (
            cfg
            if cfg.resolution != "auto" or det.profile_ is None
            else replace(cfg, resolution=float(det.resolution_))
        )
        labels, det1 = _detect(graph, fixed)
        det1.profile_ = det.profile_
        det = det1
    return ItemCommunities(inc, graph, labels, tuple(stop), spread_tab, det)


def _spread_table(
    kept: Bipartite,
    graph: Graph,
    labels: np.ndarray,
    cfg: CommunityConfig,
    stop_out: list[str] | None,
) -> pa.Table:
    """Spread of each kept item over the communities of its co-items; fills *stop_out*."""
    n = len(kept.cols)
    df = kept.col_frequency()
    if stop_out is None or n == 0:
        return pa.table(
            {
                "item_id": kept.cols.astype(str),
                "kind": kept.col_kinds.astype(str),
                "videos": df.astype(np.int64),
                "spread": np.zeros(n),
                "effective_groups": np.ones(n),
                "stop": np.zeros(n, dtype=bool),
            }
        )
    # spread of each item's association mass (graph edge weights: NPMI etc., which are
    # near 0 towards mega-items) over its neighbours' pass-1 communities
    pos = {str(x): i for i, x in enumerate(graph.nodes)}
    rows = np.asarray([pos.get(str(c), -1) for c in kept.cols])
    usage = graph.adjacency[np.maximum(rows, 0)]
    usage = sp.diags((rows >= 0).astype(float)) @ usage
    k = int(labels.max()) + 1
    ok = labels >= 0
    baseline = np.bincount(labels[ok], weights=graph.strength[ok], minlength=k)
    sp_ = group_spread(usage, labels, k, baseline=baseline)
    mask = stop_items(
        sp_, threshold=cfg.stop_threshold, min_groups=cfg.stop_min_groups, min_support=0.0
    )
    min_videos = max(cfg.stop_min_videos, cfg.stop_min_share * kept.shape[0])
    mask &= member_of(kept.col_kinds, STOP_KINDS) & (df >= min_videos)
    stop_out.extend(str(c) for c in kept.cols[mask])
    return pa.table(
        {
            "item_id": kept.cols.astype(str),
            "kind": kept.col_kinds.astype(str),
            "videos": df.astype(np.int64),
            "spread": sp_.entropy,
            "effective_groups": sp_.effective_groups,
            "stop": mask,
        }
    )
