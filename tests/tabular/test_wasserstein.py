"""Wasserstein: POT and scipy anchors, closed forms, sliced, seeds, non-convergence, memory limit."""

import math
import warnings

import numpy as np
import ot
import pytest
from scipy import stats

from ganeval.divergences import kl_divergence
from ganeval.errors import DataError, DegenerateWarning, ParameterError
from ganeval.metrics.wasserstein import ConvergenceError, random_directions, wasserstein_1d, wasserstein_distance


def test_delta_measures_w_is_abs_theta_while_kl_infinite():
    for theta in (0.3, -2.0, 7.5):
        assert wasserstein_distance([[0.0]], [[theta]]).value == pytest.approx(abs(theta))
        assert wasserstein_distance([[0.0]], [[theta]], p=2).value == pytest.approx(abs(theta))
        assert wasserstein_distance([[0.0]], [[theta]], sliced=True, projections=3).value == pytest.approx(abs(theta))
    assert kl_divergence([1.0, 0.0], [0.0, 1.0]) == math.inf


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_exact_matches_pot(rng, p):
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(45, 3)) * 1.5 + 0.4
    ours = wasserstein_distance(x, y, p=p)
    m = ot.dist(x, y, metric="euclidean") ** p
    ref = ot.emd2(np.full(60, 1 / 60), np.full(45, 1 / 45), m) ** (1 / p)
    assert ours.value == pytest.approx(ref, rel=1e-10)
    assert ours.converged is True
    assert wasserstein_distance(y, x, p=p).value == pytest.approx(ours.value, rel=1e-10)


def test_translation_and_identity(rng):
    x = rng.normal(size=(40, 2))
    assert wasserstein_distance(x, x + [3.0, 4.0], p=2).value == pytest.approx(5.0)
    assert wasserstein_distance(x, x).value == pytest.approx(0.0, abs=1e-12)


def test_per_feature_matches_scipy_and_pot_1d(rng):
    x, y = rng.normal(size=(101, 4)), rng.gamma(2.0, size=(77, 4))
    r = wasserstein_distance(x, y, per_feature=True, sliced=True)
    for j in range(4):
        assert r.per_feature[j] == pytest.approx(stats.wasserstein_distance(x[:, j], y[:, j]), rel=1e-10)
    w2 = wasserstein_1d(x, y, 2.0)
    for j in range(4):
        assert w2[j] == pytest.approx(ot.wasserstein_1d(x[:, j], y[:, j], p=2) ** 0.5, rel=1e-10)
    # 1-D exact OT equals the sorted formula
    assert wasserstein_distance(x[:, :1], y[:, :1]).value == pytest.approx(r.per_feature[0], rel=1e-10)


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_sliced_matches_pot_with_same_directions(rng, p):
    x, y = rng.normal(size=(80, 5)), rng.normal(size=(64, 5)) + 0.5
    r = wasserstein_distance(x, y, p=p, sliced=True, projections=40, seed=3)
    dirs = random_directions(5, 40, seed=3)
    ref = ot.sliced_wasserstein_distance(x, y, n_projections=40, p=p, projections=dirs)
    assert r.value == pytest.approx(float(ref), rel=1e-10)
    assert r.settings["projections"] == 40


def test_sliced_seed_determinism(rng):
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) + 1
    a = wasserstein_distance(x, y, sliced=True, projections=20, seed=7).value
    b = wasserstein_distance(x, y, sliced=True, projections=20, seed=7).value
    c = wasserstein_distance(x, y, sliced=True, projections=20, seed=8).value
    assert a == b and a != c


def test_nonconvergence_is_an_error_or_flagged(rng):
    x, y = rng.normal(size=(150, 3)), rng.normal(size=(150, 3)) + 1
    with pytest.raises(ConvergenceError, match="did not reach the optimum.*max-iter"):
        wasserstein_distance(x, y, max_iter=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = wasserstein_distance(x, y, max_iter=5, on_nonconvergence="flag")
    assert r.converged is False
    assert any(issubclass(w.category, DegenerateWarning) for w in caught)
    assert not any("numItermax" in str(w.message) and w.category is UserWarning for w in caught)


def test_memory_limit_suggests_sliced(rng):
    x = rng.normal(size=(100, 2))
    with pytest.raises(DataError, match="--sliced or subsample"):
        wasserstein_distance(x, x, max_memory=1000)
    # the sliced distance has no such limit
    assert wasserstein_distance(x, x + 1, sliced=True, max_memory=1000).value > 0


def test_bad_parameters(rng):
    x = rng.normal(size=(5, 2))
    for p in (0, -1, 0.5):
        with pytest.raises(ParameterError, match="p must be"):
            wasserstein_distance(x, x, p=p)
    with pytest.raises(ParameterError, match="projections"):
        wasserstein_distance(x, x, sliced=True, projections=0)
    with pytest.raises(ParameterError, match="on_nonconvergence"):
        wasserstein_distance(x, x, on_nonconvergence="ignore")
    with pytest.raises(DataError, match="feature dimensions differ"):
        wasserstein_distance(x, rng.normal(size=(5, 3)))
