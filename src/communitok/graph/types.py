"""Sparse graph containers: an undirected weighted :class:`Graph` and a :class:`Bipartite`
incidence (rows × columns, e.g. videos × hashtags).

Both hold a ``scipy.sparse.csr_matrix`` plus the string ids of their nodes, so they cross
package boundaries without any I/O and convert to Arrow edge lists on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from ..core.errors import InputError


def _ids(values: object, name: str) -> np.ndarray:
    """Ids as a 1-d numpy object array of ``str``."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = values.to_pylist()
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise InputError("must be one-dimensional", field=name)
    return arr


@dataclass(frozen=True, eq=False)
class Graph:
    """Undirected weighted graph: a symmetric CSR adjacency with a zero diagonal.

    ``nodes[i]`` is the id of node *i*; ``kinds[i]`` (optional) says what it is
    (``hashtag``, ``sound``, ``creator``, ...). Weights are positive floats.
    """

    adjacency: sp.csr_matrix
    nodes: np.ndarray
    kinds: np.ndarray | None = None

    def __post_init__(self) -> None:
        a = self.adjacency
        if not sp.issparse(a) or a.shape[0] != a.shape[1]:
            raise InputError("adjacency must be a square sparse matrix", field="adjacency")
        a = sp.csr_matrix(a, dtype=np.float64)
        a.setdiag(0)
        a.eliminate_zeros()
        a.sort_indices()
        object.__setattr__(self, "adjacency", a)
        object.__setattr__(self, "nodes", _ids(self.nodes, "nodes"))
        if len(self.nodes) != a.shape[0]:
            raise InputError(
                f"{len(self.nodes)} node ids for a {a.shape[0]}-node adjacency", field="nodes"
            )
        if self.kinds is not None:
            kinds = _ids(self.kinds, "kinds")
            if len(kinds) != len(self.nodes):
                raise InputError("kinds must have one entry per node", field="kinds")
            object.__setattr__(self, "kinds", kinds)
        if a.nnz and (not np.all(np.isfinite(a.data)) or a.data.min() < 0):
            raise InputError("edge weights must be finite and >= 0", field="adjacency")

    # --- sizes ----------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return int(self.adjacency.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.adjacency.indptr)

    @property
    def strength(self) -> np.ndarray:
        """Weighted degree."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel()

    @property
    def total_weight(self) -> float:
        """Sum of the undirected edge weights (each edge once)."""
        return float(self.adjacency.data.sum() / 2.0)

    # --- views ----------------------------------------------------------------
    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Upper-triangle edge list ``(source, target, weight)`` with source < target."""
        up = sp.triu(self.adjacency, k=1, format="coo")
        return up.row.astype(np.int64), up.col.astype(np.int64), up.data.astype(np.float64)

    def subgraph(self, index: np.ndarray) -> Graph:
        """The graph induced by the nodes at *index* (positions or a boolean mask)."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        a = self.adjacency[idx][:, idx]
        kinds = self.kinds[idx] if self.kinds is not None else None
        return Graph(a, self.nodes[idx], kinds)

    def index_of(self) -> dict[str, int]:
        return {str(n): i for i, n in enumerate(self.nodes)}

    def to_arrow(self) -> pa.Table:
        """Edge list ``source, target, weight`` (each undirected edge once)."""
        s, t, w = self.edges()
        return pa.table({"source": self.nodes[s], "target": self.nodes[t], "weight": w})

    def __repr__(self) -> str:
        return f"Graph(n_nodes={self.n_nodes}, n_edges={self.n_edges})"

    # --- constructors ---------------------------------------------------------
    @classmethod
    def empty(cls) -> Graph:
        return cls(sp.csr_matrix((0, 0)), np.array([], dtype=object))

    @classmethod
    def from_edges(
        cls,
        source: object,
        target: object,
        weight: object | None = None,
        *,
        nodes: object | None = None,
        kinds: np.ndarray | None = None,
    ) -> Graph:
        """Build from an edge list of ids (or integer positions when *nodes* is given).

        Direction is dropped, duplicate edges add up, self-loops are dropped. Nodes listed
        in *nodes* but without edges stay as isolated nodes.
        """
        positional = nodes is not None and all(
            np.asarray(x).dtype.kind in "iu" for x in (source, target)
        )
        src = np.asarray(source, dtype=np.int64) if positional else _ids(source, "source")
        dst = np.asarray(target, dtype=np.int64) if positional else _ids(target, "target")
        if len(src) != len(dst):
            raise InputError("source and target differ in length", field="target")
        w = np.ones(len(src)) if weight is None else np.asarray(weight, dtype=np.float64)
        if len(w) != len(src):
            raise InputError("weight differs in length from the edges", field="weight")
        if nodes is not None:
            node_ids = _ids(nodes, "nodes")
            if positional:
                si, ti = src, dst
            else:
                pos = {str(v): i for i, v in enumerate(node_ids)}
                try:
                    si = np.fromiter((pos[str(v)] for v in src), np.int64, len(src))
                    ti = np.fromiter((pos[str(v)] for v in dst), np.int64, len(dst))
                except KeyError as exc:
                    raise InputError(f"edge endpoint {exc.args[0]!r} is not in nodes") from None
        else:
            both = pa.array(np.concatenate([src, dst]).astype(str)).dictionary_encode()
            node_ids = np.asarray(both.dictionary.to_pylist(), dtype=object)
            codes = both.indices.to_numpy()
            si, ti = codes[: len(src)], codes[len(src) :]
        n = len(node_ids)
        if len(si) and (min(si.min(), ti.min()) < 0 or max(si.max(), ti.max()) >= n):
            raise InputError("edge endpoint out of range", field="source")
        keep = si != ti
        si, ti, w = si[keep], ti[keep], w[keep]
        a = sp.coo_matrix(
            (np.concatenate([w, w]), (np.concatenate([si, ti]), np.concatenate([ti, si]))),
            shape=(n, n),
        )
        return cls(a.tocsr(), node_ids, kinds)

    @classmethod
    def from_arrow(
        cls,
        table: pa.Table,
        source: str = "source",
        target: str = "target",
        weight: str | None = None,
    ) -> Graph:
        """Build from an Arrow edge table; rows with a null endpoint are dropped."""
        for col in (source, target) + ((weight,) if weight else ()):
            if col not in table.column_names:
                raise InputError(f"edge table has no column {col!r}", field=col)
        mask = pa.compute.and_(table[source].is_valid(), table[target].is_valid())
        t = table.filter(mask)
        w = None
        if weight:
            w = t[weight].fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
        return cls.from_edges(
            t[source].cast(pa.string()).to_numpy(zero_copy_only=False),
            t[target].cast(pa.string()).to_numpy(zero_copy_only=False),
            w,
        )


@dataclass(frozen=True, eq=False)
class Bipartite:
    """Incidence between two id sets: ``matrix[i, j]`` = weight of row *i* with column *j*.

    E.g. videos × hashtags (0/1), viewers × videos (engagement weight). ``col_kinds``
    optionally labels each column (``hashtag``, ``sound``, ``creator``...).
    """

    matrix: sp.csr_matrix
    rows: np.ndarray
    cols: np.ndarray
    #: kind of each column; ``""`` when not given
    col_kinds: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        m = sp.csr_matrix(self.matrix, dtype=np.float64)
        m.sum_duplicates()
        m.eliminate_zeros()
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "rows", _ids(self.rows, "rows"))
        object.__setattr__(self, "cols", _ids(self.cols, "cols"))
        if m.shape != (len(self.rows), len(self.cols)):
            raise InputError(
                f"matrix shape {m.shape} does not match {len(self.rows)} rows × "
                f"{len(self.cols)} cols"
            )
        kinds = (
            np.full(len(self.cols), "", dtype=object)
            if self.col_kinds is None
            else _ids(self.col_kinds, "col_kinds")
        )
        if len(kinds) != len(self.cols):
            raise InputError("col_kinds must have one entry per column", field="col_kinds")
        object.__setattr__(self, "col_kinds", kinds)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.cols))

    def col_frequency(self) -> np.ndarray:
        """Number of rows each column occurs in (document frequency)."""
        return np.diff(self.matrix.tocsc().indptr)

    def row_frequency(self) -> np.ndarray:
        return np.diff(self.matrix.indptr)

    def binary(self) -> Bipartite:
        m = self.matrix.copy()
        m.data[:] = 1.0
        return Bipartite(m, self.rows, self.cols, self.col_kinds)

    def transpose(self) -> Bipartite:
        return Bipartite(self.matrix.T.tocsr(), self.cols, self.rows)

    def select_cols(self, keep: np.ndarray) -> Bipartite:
        idx = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return Bipartite(self.matrix[:, idx], self.rows, self.cols[idx], self.col_kinds[idx])

    def select_rows(self, keep: np.ndarray) -> Bipartite:
        idx = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        return Bipartite(self.matrix[idx], self.rows[idx], self.cols, self.col_kinds)

    def __repr__(self) -> str:
        return f"Bipartite(rows={self.shape[0]}, cols={self.shape[1]}, nnz={self.matrix.nnz})"


def member_of(values: np.ndarray, allowed: object) -> np.ndarray:
    """Boolean mask: which *values* are in *allowed* (hash lookup; ``np.isin`` on object
    arrays sorts and is far slower)."""
    s = set(map(str, allowed))  # type: ignore[call-overload]
    return np.fromiter((str(v) in s for v in values), dtype=bool, count=len(values))


def stack_cols(parts: list[Bipartite]) -> Bipartite:
    """Concatenate incidences over the same rows side by side (rows must match)."""
    if not parts:
        raise InputError("nothing to stack")
    rows = parts[0].rows
    for p in parts[1:]:
        if len(p.rows) != len(rows) or not np.array_equal(p.rows, rows):
            raise InputError("incidences to stack must share their rows in the same order")
    kinds = [p.col_kinds for p in parts]
    return Bipartite(
        sp.hstack([p.matrix for p in parts], format="csr"),
        rows,
        np.concatenate([p.cols for p in parts]),
        np.concatenate(kinds),
    )
