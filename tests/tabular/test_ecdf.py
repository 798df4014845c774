"""ECDF L^p distance: scipy anchors, slow references, closed forms, multivariate, bad input."""

import math

import numpy as np
import pytest
from scipy import stats

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.ecdf import _dominance_counts, ecdf_distance, ecdf_lp_1d


def slow_ecdf_lp(x, y, p):
    """Obvious reference: integrate |F_x - F_y|^p piece by piece with explicit ECDF loops."""
    z = sorted(set(x) | set(y))
    F = lambda s, t: sum(v <= t for v in s) / len(s)
    if math.isinf(p):
        return max(abs(F(x, t) - F(y, t)) for t in z)
    total = sum(abs(F(x, a) - F(y, a)) ** p * (b - a) for a, b in zip(z[:-1], z[1:]))
    return total ** (1 / p)


def slow_joint(x, y, p):
    pooled = np.concatenate([x, y])
    fx = np.array([(x <= z).all(1).mean() for z in pooled])
    fy = np.array([(y <= z).all(1).mean() for z in pooled])
    d = np.abs(fx - fy)
    return d.max() if math.isinf(p) else np.mean(d**p) ** (1 / p)


def test_p1_is_scipy_wasserstein_and_inf_is_ks(rng):
    x = rng.normal(size=(400, 5))
    y = rng.standard_t(3, size=(333, 5)) + 0.2
    r1 = ecdf_distance(x, y, p=1)
    rinf = ecdf_distance(x, y, p="inf")
    for j in range(5):
        assert r1.per_feature[j] == pytest.approx(stats.wasserstein_distance(x[:, j], y[:, j]), rel=1e-12)
        assert rinf.per_feature[j] == pytest.approx(stats.ks_2samp(x[:, j], y[:, j]).statistic, abs=1e-15)
    assert r1.value == pytest.approx(np.mean(r1.per_feature))


def test_energy_distance_is_sqrt2_times_l2(rng):
    x, y = rng.normal(size=(300, 3)), rng.exponential(size=(250, 3))
    r2 = ecdf_distance(x, y, p=2)
    for j in range(3):
        assert math.sqrt(2) * r2.per_feature[j] == pytest.approx(stats.energy_distance(x[:, j], y[:, j]), rel=1e-10)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, math.inf])
def test_matches_slow_reference_with_ties(rng, p):
    x = rng.integers(0, 6, size=30).astype(float)
    y = rng.integers(2, 9, size=17).astype(float)
    assert ecdf_lp_1d(x, y, p) == pytest.approx(slow_ecdf_lp(list(x), list(y), p), rel=1e-12)


def test_closed_forms():
    # point masses at 0 and theta: |F - G| = 1 on an interval of length |theta|: L^p = |theta|^(1/p)
    for p in (1, 2, 7):
        assert ecdf_distance([[0.0]], [[-3.5]], p=p).value == pytest.approx(3.5 ** (1 / p))
    assert ecdf_distance([[0.0]], [[-3.5]], p="inf").value == 1.0
    x = np.arange(10.0)[:, None]
    assert ecdf_distance(x, x).value == 0.0
    assert ecdf_distance(x, x[::-1]).value == 0.0  # order does not matter


def test_symmetry(rng):
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(70, 2))
    for p in (1, 2, math.inf):
        assert ecdf_distance(x, y, p=p).value == pytest.approx(ecdf_distance(y, x, p=p).value, rel=1e-13)
        assert ecdf_distance(x, y, p=p, multivariate=True).value == pytest.approx(
            ecdf_distance(y, x, p=p, multivariate=True).value, rel=1e-13
        )


@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_multivariate_matches_slow_reference(rng, p):
    x = rng.normal(size=(120, 3))
    y = np.round(rng.normal(size=(90, 3)) + 0.3, 1)  # ties
    r = ecdf_distance(x, y, p=p, multivariate=True)
    assert r.value == pytest.approx(slow_joint(x, y, p), rel=1e-12)
    assert "per_feature" not in r.values
    # one feature: the joint ECDF is the ECDF, KS agrees
    if math.isinf(p):
        assert ecdf_distance(x[:, :1], y[:, :1], p=p, multivariate=True).value == pytest.approx(
            stats.ks_2samp(x[:, 0], y[:, 0]).statistic
        )


def test_dominance_counts_chunking(rng, monkeypatch):
    import ganeval.metrics.ecdf as mod

    pts = rng.integers(0, 7, size=(500, 4)).astype(np.uint16)
    qs = rng.integers(0, 7, size=(300, 4)).astype(np.uint16)
    ref = np.array([(pts <= q).all(1).sum() for q in qs])
    monkeypatch.setattr(mod, "_CHUNK_CELLS", 97)  # force many small chunks
    assert (mod._dominance_counts(pts, qs) == ref).all()
    monkeypatch.undo()
    assert (_dominance_counts(pts, qs) == ref).all()


@pytest.mark.parametrize("p", [0, -1, "abc", float("nan")])
def test_bad_p(p):
    with pytest.raises(ParameterError, match="p must be"):
        ecdf_distance([[0.0]], [[1.0]], p=p)


def test_bad_arrays():
    with pytest.raises(DataError, match="feature dimensions differ"):
        ecdf_distance(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(DataError, match="non-finite"):
        ecdf_distance([[0.0], [np.nan]], [[1.0]])
    with pytest.raises(DataError, match="at least 1"):
        ecdf_distance(np.zeros((0, 2)), np.zeros((4, 2)))
