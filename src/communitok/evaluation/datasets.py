"""Small loaders for benchmark interaction data (the one place here that reads files).

The analytics layers never do I/O; benchmark splits are an exception kept to this
module so the benchmark scripts and the tests read them the same way. Files: tab-
separated ``user``/``item`` integer pairs (optionally gzip-compressed) and ``.npy``
feature matrices, as in ``../shared/data/tiktok_rec`` (see its README).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.sparse as sp

from ..core.errors import InputError, NotFound


def load_interactions(path: str | Path, *, max_rows: int | None = None) -> pa.Table:
    """Read a ``user``/``item`` TSV (``.gz`` ok) into an Arrow table of int64 columns."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no such file: {p}")
    try:
        t = pacsv.read_csv(
            p,
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(
                column_types={"user": pa.int64(), "item": pa.int64()}
            ),
        )
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"cannot read interactions: {e}", source=str(p)) from None
    missing = {"user", "item"} - set(t.column_names)
    if missing:
        raise InputError(f"missing columns {sorted(missing)}", source=str(p))
    t = t.select(["user", "item"])
    if max_rows is not None:
        t = t.slice(0, max_rows)
    if t.num_rows and (
        min(t.column("user").to_numpy().min(), t.column("item").to_numpy().min()) < 0
    ):
        raise InputError("ids must be >= 0", source=str(p))
    return t


def to_csr(pairs: pa.Table, shape: tuple[int, int]) -> sp.csr_matrix:
    """Binary user × item matrix from a ``user``/``item`` table."""
    u = pairs.column("user").to_numpy()
    i = pairs.column("item").to_numpy()
    if len(u) and (u.max() >= shape[0] or i.max() >= shape[1]):
        raise InputError(f"ids exceed the shape {shape}", field="shape")
    m = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=shape)
    m.data[:] = 1.0
    return m


@dataclass(frozen=True, eq=False)
class InteractionSplit:
    """A train / validation / test split over one id space, with optional item features."""

    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix
    item_features: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, int]:
        return self.train.shape


def load_tiktok_rec(
    folder: str | Path, *, n_users: int = 9308, n_items: int = 6710
) -> InteractionSplit:
    """The TikTok multimodal split (DiffMM / MMSSL): train / val / test and the 128-d
    image and audio features (cast to float32)."""
    d = Path(folder)
    if not d.is_dir():
        raise NotFound(f"no such folder: {d}")
    shape = (n_users, n_items)
    parts = {
        name: to_csr(load_interactions(d / f"{name}.tsv.gz"), shape)
        for name in ("train", "val", "test")
    }
    feats = {}
    for name in ("image", "audio"):
        f = d / f"{name}_feat.npy"
        if f.is_file():
            a = np.load(f).astype(np.float32)
            if a.shape[0] != n_items:
                raise InputError(f"has {a.shape[0]} rows for {n_items} items", source=str(f))
            feats[name] = a
    return InteractionSplit(parts["train"], parts["val"], parts["test"], feats)
