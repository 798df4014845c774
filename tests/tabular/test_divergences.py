"""Histogram divergences: closed forms of GAN theory, scipy agreement, f-divergence table, bad input."""

import itertools
import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from ganeval import divergences as dv
from ganeval.errors import DataError, ParameterError

SYMMETRIC = [
    dv.total_variation,
    dv.js_divergence,
    dv.squared_hellinger,
    dv.jeffreys_divergence,
    dv.chi2_statistic,
    dv.histogram_intersection,
    dv.ks_distance,
    lambda p, q: dv.minkowski_distance(p, q, 3.0),
]


def _random_hist(rng, k=7):
    h = rng.random(k)
    return h / h.sum()


def test_disjoint_supports_closed_forms():
    p, q = [0.3, 0.7, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]
    assert dv.total_variation(p, q) == 1.0
    assert dv.js_divergence(p, q) == pytest.approx(math.log(2), abs=1e-15)
    assert dv.kl_divergence(p, q) == math.inf
    assert dv.reverse_kl_divergence(p, q) == math.inf
    assert dv.jeffreys_divergence(p, q) == math.inf
    assert dv.pearson_chi2(p, q) == math.inf and dv.neyman_chi2(p, q) == math.inf
    assert dv.squared_hellinger(p, q) == pytest.approx(2.0)
    assert dv.histogram_intersection(p, q) == 0.0
    assert dv.f_divergence(p, q, "gan") == pytest.approx(2 * math.log(2) - math.log(4), abs=1e-12)
    for name in dv.F_GENERATORS:  # never NaN
        assert not math.isnan(dv.f_divergence(p, q, name))


def test_delta_measures_kl_infinite_js_ln2():
    # P = delta_0, Q = delta_theta on a grid: KL = inf, JS = ln 2 (W would be |theta|)
    p, q = np.zeros(11), np.zeros(11)
    p[5], q[8] = 1.0, 1.0
    assert dv.kl_divergence(p, q) == math.inf
    assert dv.js_divergence(p, q) == math.log(2)
    assert dv.total_variation(p, q) == 1.0


def test_identical_is_zero_and_nonnegative(rng):
    for _ in range(20):
        p, q = _random_hist(rng), _random_hist(rng)
        for f in (
            dv.kl_divergence,
            dv.reverse_kl_divergence,
            dv.js_divergence,
            dv.pearson_chi2,
            dv.neyman_chi2,
            dv.squared_hellinger,
            dv.jeffreys_divergence,
            dv.total_variation,
        ):
            assert f(p, q) >= 0
            assert f(p, p) == pytest.approx(0.0, abs=1e-14)
        assert dv.js_divergence(p, q) <= math.log(2)


def test_symmetric_ones_are_symmetric_kl_is_not(rng):
    p, q = _random_hist(rng), _random_hist(rng)
    for f in SYMMETRIC:
        assert f(p, q) == pytest.approx(f(q, p), rel=1e-12)
    assert dv.kl_divergence(p, q) != pytest.approx(dv.kl_divergence(q, p), rel=1e-6)
    assert dv.kl_divergence(p, q) == pytest.approx(dv.reverse_kl_divergence(q, p))
    assert dv.pearson_chi2(p, q) == pytest.approx(dv.neyman_chi2(q, p))


def test_tv_sum_equals_sup_over_subsets():
    p = np.array([0.1, 0.4, 0.2, 0.05, 0.25])
    q = np.array([0.3, 0.1, 0.1, 0.35, 0.15])
    best = max(abs(p[list(s)].sum() - q[list(s)].sum()) for r in range(6) for s in itertools.combinations(range(5), r))
    assert dv.total_variation(p, q) == pytest.approx(best, abs=1e-15)
    assert 1 - dv.histogram_intersection(p, q) == pytest.approx(best)


def test_agrees_with_scipy(rng):
    for _ in range(10):
        p, q = _random_hist(rng, 9), _random_hist(rng, 9)
        assert dv.kl_divergence(p, q) == pytest.approx(rel_entr(p, q).sum(), rel=1e-12)
        assert math.sqrt(dv.js_divergence(p, q)) == pytest.approx(jensenshannon(p, q), rel=1e-10)
    # counts are normalised like scipy's jensenshannon does
    assert dv.js_divergence([2, 6], [5, 5]) == pytest.approx(jensenshannon([2, 6], [5, 5]) ** 2)
    p, q = [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]
    assert dv.kl_divergence(p, q) == rel_entr(p, q).sum()
    assert dv.kl_divergence(q, p) == rel_entr(q, p).sum() == math.inf


def test_f_divergence_generators_match_closed_forms(rng):
    named = {
        "total_variation": dv.total_variation,
        "kl": dv.kl_divergence,
        "reverse_kl": dv.reverse_kl_divergence,
        "pearson": dv.pearson_chi2,
        "neyman": dv.neyman_chi2,
        "squared_hellinger": dv.squared_hellinger,
        "jeffreys": dv.jeffreys_divergence,
        "jensen_shannon": dv.js_divergence,
    }
    cases = [
        (_random_hist(rng), _random_hist(rng)),
        ([0.5, 0.5, 0.0], [0.2, 0.3, 0.5]),
        ([0.0, 0.6, 0.4], [0.5, 0.5, 0.0]),
    ]
    for p, q in cases:
        for name, fn in named.items():
            assert dv.f_divergence(p, q, name) == pytest.approx(fn(p, q), rel=1e-10, abs=1e-14), name
        assert dv.f_divergence(p, q, "gan") == pytest.approx(2 * dv.js_divergence(p, q) - math.log(4), abs=1e-12)
    # a user generator, with the limits given where needed
    p, q = cases[1]
    assert dv.f_divergence(p, q, lambda u: (u - 1) ** 2) == pytest.approx(dv.pearson_chi2(p, q))
    assert dv.f_divergence(p, q, lambda u: 0.5 * np.abs(u - 1)) == pytest.approx(dv.total_variation(p, q))
    p, q = cases[2]
    with pytest.raises(ParameterError, match="slope_at_infinity"):
        dv.f_divergence(p, q, lambda u: 0.5 * np.abs(u - 1))
    assert dv.f_divergence(p, q, lambda u: 0.5 * np.abs(u - 1), slope_at_infinity=0.5) == pytest.approx(
        dv.total_variation(p, q)
    )


def test_histogram_distances():
    assert dv.minkowski_distance([1, 0], [0, 1], r=2) == pytest.approx(math.sqrt(2))
    assert dv.chi2_statistic([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert dv.ks_distance([0.5, 0.5, 0], [0, 0.5, 0.5]) == 0.5


@pytest.mark.parametrize(
    "p,q,match",
    [
        ([0.5, -0.1, 0.6], [0.3, 0.3, 0.4], "negative"),
        ([0, 0, 0], [0.3, 0.3, 0.4], "normalised"),
        ([0.5, np.nan, 0.5], [0.3, 0.3, 0.4], "NaN"),
        ([0.5, np.inf], [0.5, 0.5], "NaN or Inf"),
        ([0.5, 0.5], [0.3, 0.3, 0.4], "different numbers of bins"),
        ([], [], "empty"),
    ],
)
def test_bad_histograms(p, q, match):
    for f in (dv.kl_divergence, dv.total_variation, lambda a, b: dv.f_divergence(a, b, "kl")):
        with pytest.raises(DataError, match=match):
            f(p, q)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="r must be"):
        dv.minkowski_distance([1], [1], r=0)
    with pytest.raises(ParameterError, match="f must be one of"):
        dv.f_divergence([1], [1], "nope")
    with pytest.raises(ParameterError, match="bins"):
        dv.shared_histograms([1, 2], [3], bins=0)


def test_shared_binning_covers_both_samples(rng):
    x, y = rng.normal(size=500), rng.normal(size=300) + 4
    cx, cy, edges = dv.shared_histograms(x, y, bins=20)
    assert cx.sum() == 500 and cy.sum() == 300
    assert edges[0] == min(x.min(), y.min()) and edges[-1] == max(x.max(), y.max())
    r = dv.divergence_from_samples(np.zeros((50, 2)), np.ones((40, 2)), "js", bins=4)
    assert r["value"] == math.log(2) and r["per_feature"] == [math.log(2)] * 2
    r = dv.divergence_from_samples(np.zeros((50, 1)), np.ones((40, 1)), "kl", bins=4)
    assert r["value"] == math.inf
    # estimate converges towards the closed form: TV(N(0,1), N(1,1)) = 2 Phi(1/2) - 1
    from scipy.stats import norm

    big_x, big_y = rng.normal(size=200_000), rng.normal(size=200_000) + 1
    est = dv.divergence_from_samples(big_x, big_y, "tv", bins=200)["value"]
    assert est == pytest.approx(2 * norm.cdf(0.5) - 1, abs=0.01)
    with pytest.raises(DataError, match="dimensions differ"):
        dv.divergence_from_samples(np.zeros((5, 2)), np.zeros((5, 3)))
