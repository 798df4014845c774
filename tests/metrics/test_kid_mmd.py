"""KID and MMD: slow reference, torch-fidelity as oracle, seeds, bad input."""

import numpy as np
import pytest
import torch

from ganeval import DataError, ParameterError, kernel_inception_distance, maximum_mean_discrepancy
from ganeval.metrics.mmd import make_kernel, median_bandwidth, mmd2_unbiased


def _slow_mmd2(x, y, k):
    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return sxx + syy - 2 * sxy


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_poly_mmd_matches_slow_reference(rng, degree):
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(9, 3)) + 0.5
    kern = make_kernel("poly", 3, degree=degree)
    ref = _slow_mmd2(x, y, lambda a, b: (a @ b / 3 + 1) ** degree)
    assert mmd2_unbiased(x, y, kern) == pytest.approx(ref, rel=1e-12)


def test_rbf_mmd_matches_slow_reference(rng):
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(11, 2)) * 2
    r = maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth=1.5)
    ref = _slow_mmd2(x, y, lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * 1.5**2)))
    assert r.value == pytest.approx(ref, rel=1e-12)
    assert r.settings["bandwidth"] == 1.5


def test_linear_kernel_closed_form(rng):
    # degree 1, gamma 1, coef0 0: unbiased MMD^2 = |mean x - mean y|^2 - (tr Sx / m + tr Sy / n)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(40, 4)) + 1
    r = maximum_mean_discrepancy(x, y, kernel="poly", degree=1, gamma=1.0, coef0=0.0)
    d = x.mean(0) - y.mean(0)
    expected = d @ d - np.trace(np.cov(x, rowvar=False)) / 30 - np.trace(np.cov(y, rowvar=False)) / 40
    assert r.value == pytest.approx(expected, rel=1e-10)


def test_kid_whole_set_equals_torch_fidelity(rng):
    from torch_fidelity.metric_kid import kid_features_to_metric

    x, y = rng.normal(size=(80, 16)), rng.normal(size=(80, 16)) * 1.2
    ours = kernel_inception_distance(x, y, subsets=3, subset_size=80, seed=0)
    ref = kid_features_to_metric(torch.from_numpy(x), torch.from_numpy(y), kid_subsets=3, kid_subset_size=80,
                                 kid_degree=3, kid_gamma=None, kid_coef0=1, verbose=False, rng_seed=0,
                                 kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                                 kid_kernel_poly_coef0=1)
    # with the whole set in every subset, the draw order cannot change the number
    assert ours.value == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-10)
    assert ours.std == pytest.approx(0.0, abs=1e-12)


def test_kid_subsets_are_seeded_and_distribution_free_of_global_rng(rng):
    x, y = rng.normal(size=(200, 5)), rng.normal(size=(150, 5)) + 0.2
    a = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=7)
    np.random.seed(123)  # the global RNG must not matter
    b = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=7)
    c = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=8)
    assert (a.value, a.std) == (b.value, b.std)
    assert a.value != c.value
    assert a.settings["seed"] == 7 and a.settings["subset_size"] == 50


def test_kid_detects_shift_and_is_near_zero_for_same_law():
    g = np.random.default_rng(0)
    x, y = g.normal(size=(600, 8)), g.normal(size=(600, 8))
    same = kernel_inception_distance(x, y, subsets=30, subset_size=300)
    shifted = kernel_inception_distance(x, y + 1.0, subsets=30, subset_size=300)
    assert abs(same.value) < 3 * same.std + 1e-3
    assert shifted.value > 10 * max(abs(same.value), same.std)


def test_kid_default_subset_size_is_capped():
    g = np.random.default_rng(1)
    r = kernel_inception_distance(g.normal(size=(50, 3)), g.normal(size=(40, 3)), subsets=2)
    assert r.settings["subset_size"] == 40


def test_median_bandwidth(rng):
    x = np.array([[0.0], [1.0]])
    y = np.array([[3.0]])
    # pairwise distances 1, 3, 2 -> median 2
    assert median_bandwidth(x, y) == 2.0
    big = rng.normal(size=(1500, 2))
    assert median_bandwidth(big, big, seed=0) == median_bandwidth(big, big, seed=0)


def test_bad_inputs(rng):
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(10, 3))
    with pytest.raises(ParameterError, match="subset_size=11 is larger than the fake set"):
        kernel_inception_distance(x, y, subset_size=11)
    with pytest.raises(ParameterError, match="subsets must be >= 1"):
        kernel_inception_distance(x, y, subsets=0, subset_size=5)
    with pytest.raises(ParameterError, match="kernel must be one of"):
        maximum_mean_discrepancy(x, y, kernel="laplace")
    with pytest.raises(ParameterError, match="bandwidth"):
        maximum_mean_discrepancy(x, y, bandwidth="mean")
    with pytest.raises(ParameterError, match="bandwidth"):
        maximum_mean_discrepancy(x, y, bandwidth=-1.0)
    with pytest.raises(DataError, match="dimensions differ"):
        kernel_inception_distance(x, rng.normal(size=(10, 4)), subset_size=5)
    with pytest.raises(DataError, match="non-finite"):
        maximum_mean_discrepancy(np.full((3, 3), np.inf), y)
    with pytest.raises(ParameterError, match="median pairwise distance is 0"):
        maximum_mean_discrepancy(np.zeros((5, 2)), np.zeros((5, 2)))


def test_float32_features_agree_with_float64(rng):
    x, y = rng.normal(size=(300, 64)), rng.normal(size=(300, 64)) + 0.1
    r64 = kernel_inception_distance(x, y, subsets=5, subset_size=100)
    r32 = kernel_inception_distance(x.astype(np.float32), y.astype(np.float32), subsets=5, subset_size=100)
    assert r32.value == pytest.approx(r64.value, rel=1e-4)
