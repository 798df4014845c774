"""MMD: blocked sums give the numbers of the former whole-matrix code, the biased (V)
estimator against its formula, overflow refused before computing, kernels reusable."""

import warnings

import numpy as np
import pytest

from ganeval import ParameterError, maximum_mean_discrepancy
from ganeval.metrics.mmd import Kernel, make_kernel, mmd2


@pytest.fixture(scope="module")
def xy():
    g = np.random.default_rng(7)
    return g.normal(size=(300, 5)), g.normal(size=(250, 5)) * 1.2 + 0.1


# values printed by the whole-matrix implementation (commit 7d7313e) on the fixture above
FORMER = [
    (dict(kernel="rbf", bandwidth=1.5), 0.022916540719252865),
    (dict(kernel="rbf"), 0.014907093879227284),
    (dict(kernel="poly"), 0.2505829377836881),
    (dict(kernel="poly", degree=2, gamma=0.5, coef0=0.3), 0.3255752894048305),
]


@pytest.mark.parametrize("options,former", FORMER)
@pytest.mark.parametrize("block_size", [None, 1, 7, 1000])
def test_blocked_sums_equal_former_values(xy, options, former, block_size):
    r = maximum_mean_discrepancy(*xy, block_size=block_size, **options)
    assert r.value == pytest.approx(former, rel=1e-12)
    assert r.settings["estimator"] == "unbiased"
    if block_size is not None:
        assert r.settings["block_size"] == block_size


def _v_statistic(x, y, k):
    kxx = np.array([[k(a, b) for b in x] for a in x])
    kyy = np.array([[k(a, b) for b in y] for a in y])
    kxy = np.array([[k(a, b) for b in y] for a in x])
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


@pytest.mark.parametrize("kernel", ["rbf", "poly", "linear"])
def test_biased_estimator_is_the_v_statistic(kernel):
    g = np.random.default_rng(1)
    x, y = g.normal(size=(15, 3)), g.normal(size=(11, 3)) + 0.7
    funcs = {
        "rbf": lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * 10.0**2)),
        "poly": lambda a, b: (a @ b / 3 + 1) ** 3,
        "linear": lambda a, b: a @ b,
    }
    r = maximum_mean_discrepancy(x, y, kernel=kernel, bandwidth=10.0, estimator="biased", block_size=4)
    assert r.value == pytest.approx(_v_statistic(x, y, funcs[kernel]), rel=1e-10)
    assert r.settings["estimator"] == "biased"
    # V-statistic = ||mean x - mean y||^2 for the linear kernel
    if kernel == "linear":
        d = x.mean(0) - y.mean(0)
        assert r.value == pytest.approx(d @ d, rel=1e-10)


def test_cmmd_formula_matches_v_statistic():
    # CMMD = 1000 * biased MMD^2 with an RBF of sigma = 10 (Jayasumana et al. 2024)
    g = np.random.default_rng(3)
    x, y = g.normal(size=(40, 8)), g.normal(size=(30, 8)) * 1.5
    gamma = 1 / (2 * 10.0**2)

    def mean_k(a, b):
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-gamma * sq).mean()

    expected = 1000 * (mean_k(x, x) + mean_k(y, y) - 2 * mean_k(x, y))
    got = 1000 * maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth=10.0, estimator="biased").value
    assert got == pytest.approx(expected, rel=1e-9)


def test_bad_estimator_and_block_size(xy):
    with pytest.raises(ParameterError, match="estimator must be one of"):
        maximum_mean_discrepancy(*xy, estimator="v")
    with pytest.raises(ParameterError, match="block_size must be >= 1"):
        maximum_mean_discrepancy(*xy, block_size=0)


@pytest.mark.parametrize(
    "options,match",
    [
        (dict(kernel="rbf", bandwidth=1e-300), "bandwidth=1e-300 is too small"),
        (dict(kernel="rbf", bandwidth=1e300), "bandwidth=1e\\+300 is too large"),
        (dict(kernel="poly", gamma=1e200), "poly kernel overflows.*gamma=1e\\+200"),
        (dict(kernel="poly", degree=1000), "poly kernel overflows.*degree=1000"),
        (dict(kernel="poly", coef0=1e150), "poly kernel overflows"),
    ],
)
def test_overflowing_kernels_are_refused_without_warnings(xy, options, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one RuntimeWarning on the way
        with pytest.raises(ParameterError, match=match):
            maximum_mean_discrepancy(*xy, **options)


def test_tiny_but_valid_bandwidth_and_high_degree_give_finite_numbers(xy):
    assert np.isfinite(maximum_mean_discrepancy(*xy, bandwidth=1e-140).value)
    x, y = xy
    high = maximum_mean_discrepancy(x[:20], y[:20], kernel="poly", degree=40).value
    kxx = (x[:20] @ x[:20].T / 5 + 1) ** 40
    kyy = (y[:20] @ y[:20].T / 5 + 1) ** 40
    kxy = (x[:20] @ y[:20].T / 5 + 1) ** 40
    ref = (kxx.sum() - np.trace(kxx)) / 380 + (kyy.sum() - np.trace(kyy)) / 380 - 2 * kxy.mean()
    assert high == pytest.approx(ref, rel=1e-9)


def test_kernels_are_reusable_objects(xy):
    x, y = xy
    k = make_kernel("rbf", 5, bandwidth=2.0)
    assert isinstance(k, Kernel)
    g = k.gram(x[:4], x[:4])
    assert np.allclose(np.diag(g), 1.0) and np.allclose(k.diagonal(x[:4]), 1.0)
    lin = make_kernel("linear", 5)
    assert np.allclose(lin.diagonal(x[:3]), (x[:3] ** 2).sum(1))
    assert mmd2(x, y, k) == pytest.approx(maximum_mean_discrepancy(x, y, bandwidth=2.0).value, rel=1e-12)
