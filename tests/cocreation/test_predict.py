"""Early prediction: SEISMIC final size and doubling, on planted self-exciting cascades."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from communitok.cocreation import DoublingPredictor, Kernel, SeismicPredictor, doubling_features
from communitok.cocreation.planted import hawkes_cascades
from communitok.core.errors import InputError


def test_kernel_cdf_is_a_distribution() -> None:
    k = Kernel()
    s = np.array([0.0, 150.0, 300.0, 3600.0, 1e15])
    c = k.cdf(s)
    assert c[0] == 0 and np.all(np.diff(c) > 0) and c[-1] == pytest.approx(1.0, abs=0.01)
    assert c[2] == pytest.approx(k.theta / (1 + k.theta))


def test_seismic_recovers_final_size_on_planted_cascades() -> None:
    nodes = hawkes_cascades(400, seed=1)
    pred = SeismicPredictor(observe_s=6 * 3600).predict(nodes)  # untrained, as in the paper
    fin = np.asarray(pred.column("final_size").to_numpy())
    est = np.asarray(pred.column("predicted_size").to_numpy())
    obs = np.asarray(pred.column("observed_children").to_numpy())
    big = (fin >= 20) & (obs >= 5)
    assert big.sum() >= 20
    rel = np.abs(est[big] - fin[big]) / fin[big]
    naive = np.abs(obs[big] + 1 - fin[big]) / fin[big]  # "what we saw is final"
    assert np.median(rel) < 0.35
    assert np.median(rel) < np.median(naive)


def test_seismic_fit_tunes_and_handles_empty_children() -> None:
    nodes = hawkes_cascades(150, seed=2)
    sp = SeismicPredictor(observe_s=3600).fit(nodes)
    assert sp.kernel_.theta > 0 and sp.alpha_ > 0
    lonely = pa.table({"cascade_id": ["a"], "video_id": ["a"],
                       "created_at": pa.array([0], pa.timestamp("us", tz="UTC"))})  # fmt: skip
    p = SeismicPredictor().predict(lonely)
    assert p.column("predicted_size").to_pylist() == [1.0]
    with pytest.raises(InputError):
        SeismicPredictor(observe_s=0)
    with pytest.raises(InputError):
        SeismicPredictor().predict(pa.table({"x": [1]}))


def test_doubling_beats_the_base_rate() -> None:
    nodes = hawkes_cascades(800, seed=3)
    ids, x, _y = doubling_features(nodes, k=5)
    assert x.shape == (ids.size, 12) and np.isfinite(x).all()
    rep = DoublingPredictor(k=5, seed=0).evaluate(nodes)
    assert rep.n_cascades >= 50
    assert rep.auc > 0.6 and rep.accuracy > rep.majority_accuracy - 0.02
    p = DoublingPredictor(k=5).fit(nodes).predict_proba(nodes)
    assert p.num_rows == ids.size
    with pytest.raises(InputError):
        doubling_features(nodes, k=1)
