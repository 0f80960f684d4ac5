"""Seeded SEISMIC-style cascades with a known generative process, for tests and benchmarks.

Each video's uploader has log-normal followers (roots larger); a video spawns
``Poisson(p · followers)`` children at delays drawn from SEISMIC's power-law kernel
(:class:`~.predict.Kernel`), so the process is exactly the self-exciting one SEISMIC
assumes (Zhao et al., KDD 2015). Output: the node table :class:`~.predict.SeismicPredictor`
and :func:`~.predict.doubling_features` take.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..core.seeds import rng as make_rng
from .predict import Kernel


def kernel_delays(g: np.random.Generator, n: int, k: Kernel) -> np.ndarray:
    """Draws from φ: uniform on [0, s0] with mass θ/(1+θ), Pareto(θ) tail after."""
    early = g.random(n) < k.theta / (1 + k.theta)
    u = g.random(n)
    return np.where(early, u * k.s0, k.s0 * u ** (-1.0 / k.theta))


def hawkes_cascades(
    n: int = 300,
    p: float = 0.006,
    seed: int = 0,
    kernel: Kernel = Kernel(),
    horizon_s: float = 1e12,
) -> pa.Table:
    """*n* cascades; each video's uploader has log-normal followers (roots: larger) and
    spawns Poisson(p · followers) children at kernel delays (up to *horizon_s*)."""
    g = make_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("cascade_id", "video_id", "parent_video_id", "created_at",
                                             "followers", "depth")}  # fmt: skip
    t0 = 1_714_521_600_000_000
    for c in range(n):
        root = f"c{c}"
        queue: list[tuple[str, str | None, float, int]] = [(root, None, 0.0, 0)]
        k = 0
        while queue and k < 2000:
            vid, par, t, d = queue.pop()
            fol = float(np.exp(g.normal(6.5 if d == 0 else 4.0, 1.0)))
            for key, v in (("cascade_id", root), ("video_id", vid), ("parent_video_id", par),
                           ("created_at", t0 + int(t * 1e6)), ("followers", fol), ("depth", d)):  # fmt: skip
                rows[key].append(v)
            kids = g.poisson(p * fol)
            for j, dt in enumerate(kernel_delays(g, kids, kernel)):
                if t + dt < horizon_s:
                    queue.append((f"{vid}.{j}", vid, t + dt, d + 1))
            k += 1
    tab = pa.table(rows)
    return tab.set_column(
        3, "created_at", tab.column("created_at").cast(pa.timestamp("us", tz="UTC"))
    )
