"""Randomised read-out intervals on known distributions: the studentised permutation
interval (``campaign_lift``'s default) against the viewer-bootstrap percentile interval
(``interval="bootstrap"``, the baseline), same data, same seeds.

Per-viewer data as in ``tests/insights/test_campaign.py``: impressions negative-binomial,
actions Poisson with a gamma(*shape*) viewer propensity (a few viewers carry most
actions); the treated rate is × (1 + lift). Cases:

- ``small_heavy``: 120 viewers (half treated), gamma(0.25), A/A only;
- ``balanced``: 900 viewers (half treated), gamma(0.7), lift 0 and 0.3;
- ``holdout_90_10``: 2,000 viewers, 90 % treated, gamma(0.5), lift 0 and 0.3.

For each: share of repeats whose 95 % interval misses the truth (for lift 0: the A/A
false-positive rate), split into intervals below and above it, with the exact
(Clopper–Pearson) 95 % range of the rate, and the mean width on ``log(1 + lift)``.
Writes ``benchmarks/results/campaign_intervals.json``.

Usage: ``.venv/bin/python benchmarks/campaign_intervals.py [--scale 1.0]`` (``--scale``
multiplies the repeats; 1.0 ≈ 4 min on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.stats import binomtest

from communitok.insights import campaign_lift

OUT = Path(__file__).parent / "results" / "campaign_intervals.json"
INTERVALS = ("permutation", "bootstrap")
#: name: (viewers, treated share, gamma shape, lifts, repeats, generator seed)
CASES: dict[str, tuple[int, float, float, tuple[float, ...], int, int]] = {
    "small_heavy": (120, 0.5, 0.25, (0.0,), 2000, 4),
    "balanced": (900, 0.5, 0.7, (0.0, 0.3), 1000, 11),
    "holdout_90_10": (2000, 0.9, 0.5, (0.0, 0.3), 600, 21),
}


def viewers(rng: np.random.Generator, n: int, share: float, shape: float, lift: float) -> pa.Table:
    arm = np.where(rng.random(n) < share, "treated", "control")
    imp = rng.negative_binomial(2, 0.2, n) + 1
    rate = 0.08 * rng.gamma(shape, 1 / shape, n) * np.where(arm == "treated", 1 + lift, 1.0)
    acts = rng.poisson(rate * imp).astype(float)
    return pa.table({"viewer_id": [f"v{j}" for j in range(n)], "arm": arm,
                     "impressions": imp, "actions": acts})  # fmt: skip


def exact_range(k: int, n: int) -> list[float]:
    """Clopper–Pearson 95 % interval of k / n."""
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


def run_case(n: int, share: float, shape: float, lifts: tuple[float, ...], reps: int,
             seed: int) -> dict[str, Any]:  # fmt: skip
    rng = np.random.default_rng(seed)
    tally = {(m, lift): {"below": 0, "above": 0, "width": 0.0} for m in INTERVALS for lift in lifts}
    for i in range(reps):
        for lift in lifts:
            t = viewers(rng, n, share, shape, lift)
            for m in INTERVALS:
                r = campaign_lift(t, n_boot=1000, seed=i, interval=m)
                x = tally[(m, lift)]
                x["below"] += r.ci_high < lift
                x["above"] += r.ci_low > lift
                x["width"] += (np.log1p(r.ci_high) - np.log1p(r.ci_low)) / reps
    out: dict[str, Any] = {"viewers": n, "treated_share": share, "gamma_shape": shape,
                           "repeats": reps, "seed": seed}  # fmt: skip
    for (m, lift), x in tally.items():
        k = x["below"] + x["above"]
        out[f"{m}/lift_{lift}"] = {"miss_rate": k / reps, "miss_rate_ci95": exact_range(k, reps),
                                   "below": x["below"], "above": x["above"],
                                   "mean_width_log": round(x["width"], 4)}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the repeats")
    a = ap.parse_args()
    if not 0 < a.scale <= 10:
        raise SystemExit("--scale must be in (0, 10]")
    res: dict[str, Any] = {"machine": "2 shared CPU cores", "resamples": 1000}
    for name, (n, share, shape, lifts, reps, seed) in CASES.items():
        t = time.time()
        res[name] = run_case(n, share, shape, lifts, max(20, round(reps * a.scale)), seed)
        res[name]["wall_s"] = round(time.time() - t, 1)
        print(name, json.dumps({k: v for k, v in res[name].items() if "/" in k}), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
