"""Loaders for the community-detection benchmark: real graphs with ground truth.

Each loader returns a :class:`LabelledGraph` (a communitok Graph plus, per node, the set of
ground-truth labels). Files are read with pyarrow from ``../shared/data`` (see each
folder's README). I/O lives here, never in the analytics packages.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.sparse as sp

from communitok.communities.text import tokenize
from communitok.graph import Bipartite, Graph, cosine_graph

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


@dataclass
class LabelledGraph:
    name: str
    graph: Graph
    #: ground-truth label sets, one per node (most have exactly one)
    labels: list[frozenset[str]]
    note: str = ""

    @property
    def single(self) -> np.ndarray:
        """Mask of nodes with exactly one ground-truth label."""
        return np.array([len(s) == 1 for s in self.labels])


def _tsv(path: Path, types: dict[str, pa.DataType] | None = None) -> pa.Table:
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t", newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=types or {}),
    )


def email_eu(shared: Path = SHARED) -> LabelledGraph:
    """SNAP email-Eu-core: undirected, unweighted, self-loops dropped; 42 departments."""
    d = shared / "graphs" / "email_eu_core"
    e = _tsv(d / "edges.tsv.gz")
    lab = _tsv(d / "department_labels.tsv.gz")
    n = lab.num_rows
    g = Graph.from_edges(e["src"].to_numpy(), e["dst"].to_numpy(), nodes=np.arange(n))
    a = g.adjacency.copy()
    a.data[:] = 1.0  # reciprocated pairs count once
    dept = dict(zip(lab["node"].to_pylist(), lab["department"].to_pylist(), strict=True))
    labels = [frozenset({str(dept[i])}) for i in range(n)]
    return LabelledGraph("email_eu_core", Graph(a, g.nodes), labels)


def stitch(shared: Path = SHARED) -> LabelledGraph:
    """TikTok StitchGraph: videos linked by stitches (edges with a known stitchee).

    A video's labels are every collection community it occurs in (edges or video rows):
    2,697 videos carry more than one, so labels overlap.
    """
    d = shared / "stitchgraph"
    ids = {"stitcher_video_id": pa.string(), "stitchee_video_id": pa.string()}
    e = _tsv(d / "edges.tsv.gz", ids)
    e = e.filter(pa.compute.is_valid(e["stitchee_video_id"]))
    e = e.filter(pa.compute.not_equal(e["stitchee_video_id"], ""))
    v = _tsv(d / "videos.tsv.gz", {"video_id": pa.string()}).select(["community", "video_id"])
    g = Graph.from_edges(
        e["stitcher_video_id"].to_numpy(zero_copy_only=False),
        e["stitchee_video_id"].to_numpy(zero_copy_only=False),
    )
    a = g.adjacency.copy()
    a.data[:] = 1.0
    g = Graph(a, g.nodes)
    sets: dict[str, set[str]] = {}
    for col in ("stitcher_video_id", "stitchee_video_id"):
        for vid, com in zip(e[col].to_pylist(), e["community"].to_pylist(), strict=True):
            sets.setdefault(vid, set()).add(com)
    for vid, com in zip(v["video_id"].to_pylist(), v["community"].to_pylist(), strict=True):
        if vid in sets:
            sets[vid].add(com)
    labels = [frozenset(sets[str(x)]) for x in g.nodes]
    return LabelledGraph("stitchgraph", g, labels, "videos linked by stitches")


def stitch_users(shared: Path = SHARED) -> LabelledGraph:
    """TikTok StitchGraph at the account level: users linked by stitching each other
    (weight = number of stitches, self-stitches dropped); a user's labels are the
    communities of the stitches they take part in (overlapping)."""
    d = shared / "stitchgraph"
    e = _tsv(d / "edges.tsv.gz", {"stitcher_user": pa.string(), "stitchee_user": pa.string()})
    e = e.filter(pa.compute.is_valid(e["stitchee_user"]))
    e = e.filter(pa.compute.not_equal(e["stitchee_user"], ""))
    g = Graph.from_edges(
        e["stitcher_user"].to_numpy(zero_copy_only=False),
        e["stitchee_user"].to_numpy(zero_copy_only=False),
    )
    keep = g.degree > 0
    g = g.subgraph(keep)
    sets: dict[str, set[str]] = {}
    for col in ("stitcher_user", "stitchee_user"):
        for u, com in zip(e[col].to_pylist(), e["community"].to_pylist(), strict=True):
            sets.setdefault(u, set()).add(com)
    return LabelledGraph(
        "stitch_users", g, [frozenset(sets[str(x)]) for x in g.nodes], "accounts linked by stitches"
    )


def stitch_videos(shared: Path = SHARED) -> pa.Table:
    """Stitchgraph videos in the core ``videos`` shape (one row per video, first
    community kept in ``categories``), with hashtags parsed from their JSON list."""
    d = shared / "stitchgraph"
    v = _tsv(d / "videos.tsv.gz", {"video_id": pa.string(), "user": pa.string()})
    seen: dict[str, int] = {}
    rows = {
        k: []
        for k in (
            "video_id",
            "creator_id",
            "created_at",
            "description",
            "hashtags",
            "view_count",
            "transcript",
            "categories",
        )
    }
    for r in v.to_pylist():
        vid = r["video_id"]
        if vid in seen:
            rows["categories"][seen[vid]].append(r["community"])
            continue
        seen[vid] = len(rows["video_id"])
        rows["video_id"].append(vid)
        rows["creator_id"].append(r["user"])
        rows["created_at"].append(int(r["create_time"]) * 1_000_000)
        rows["description"].append(r["video_description"])
        rows["hashtags"].append([h.lower() for h in json.loads(r["hashtag_names"] or "[]")])
        rows["view_count"].append(r["view_count"])
        rows["transcript"].append(r["voice_to_text"] or None)
        rows["categories"].append([r["community"]])
    t = pa.table(rows)
    return t.set_column(2, "created_at", t["created_at"].cast(pa.timestamp("us", tz="UTC")))


def kuairec(shared: Path = SHARED, k: int = 10) -> LabelledGraph:
    """KuaiRec videos as a k-nearest-neighbour graph of TF-IDF(topic tags + caption
    tokens); label = first-level category (videos without one are dropped).

    The file has 4 captions with a bare ``\\r`` inside an unquoted field: read the raw
    bytes and blank those, so that lines split on ``\\n`` only.
    """
    raw = gzip.decompress(
        (shared / "kuairec_meta" / "kuairec_caption_category.csv.gz").read_bytes()
    )
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b" ")
    t = pacsv.read_csv(
        io.BytesIO(raw),
        convert_options=pacsv.ConvertOptions(
            column_types={"caption": pa.string(), "topic_tag": pa.string()}
        ),
    )
    assert t.num_rows == 10_728, t.num_rows
    cat = t["first_level_category_name"].to_pylist()
    keep = [i for i, c in enumerate(cat) if c and c != "UNKNOWN"]
    docs: list[list[str]] = []
    for i in keep:
        topics = (t["topic_tag"][i].as_py() or "").strip("[]")
        toks = ["#" + x.strip() for x in topics.split(",") if x.strip()]
        docs.append(toks + tokenize(t["caption"][i].as_py(), keep_hashtags=True))
    vocab: dict[str, int] = {}
    r, c = [], []
    for row, toks in enumerate(docs):
        for tok in set(toks):
            r.append(row)
            c.append(vocab.setdefault(tok, len(vocab)))
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(docs), len(vocab)))
    b = Bipartite(
        m, np.asarray([str(i) for i in keep], dtype=object), np.asarray(list(vocab), dtype=object)
    )
    g = cosine_graph(b, top_k=k, min_weight=0.05)
    labels = [frozenset({cat[i]}) for i in keep]
    return LabelledGraph("kuairec", g, labels, f"{k}-NN cosine graph of TF-IDF caption+topic terms")


def planted_partition(
    n: int = 300_000,
    k: int = 200,
    m: int = 3_000_000,
    mu: float = 0.3,
    seed: int = 0,
    exponent: float = 3.5,
) -> tuple[Graph, np.ndarray]:
    """Degree-corrected planted partition (SBM): *k* equal communities, about *m* edges,
    a share *mu* of them between communities; node propensities Pareto(exponent − 1)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    rng.shuffle(y)
    theta = rng.pareto(exponent - 1.0, n) + 1.0
    order = np.argsort(y, kind="stable")
    starts = np.searchsorted(y[order], np.arange(k + 1))
    cw = np.cumsum(theta[order])
    base = np.concatenate([[0.0], cw])

    def draw(c: np.ndarray) -> np.ndarray:
        lo, hi = base[starts[c]], base[starts[c + 1]]
        u = lo + rng.random(len(c)) * (hi - lo)
        return order[np.minimum(np.searchsorted(cw, u, side="right"), n - 1)]

    m_in = int(m * (1 - mu))
    comm = rng.integers(0, k, m_in)
    a, b = draw(comm), draw(comm)
    cp = np.cumsum(theta / theta.sum())
    a2 = np.minimum(np.searchsorted(cp, rng.random(m - m_in)), n - 1)
    b2 = np.minimum(np.searchsorted(cp, rng.random(m - m_in)), n - 1)
    s, t = np.concatenate([a, a2]), np.concatenate([b, b2])
    keep = s != t
    s, t = np.minimum(s[keep], t[keep]), np.maximum(s[keep], t[keep])
    e = np.unique(s.astype(np.int64) * n + t)
    s, t = e // n, e % n
    adj = sp.coo_matrix((np.ones(2 * len(s)), (np.r_[s, t], np.r_[t, s])), shape=(n, n))
    return Graph(adj.tocsr(), np.arange(n).astype(str).astype(object)), y
