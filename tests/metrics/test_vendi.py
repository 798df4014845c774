"""Vendi score: the vendi-score package as oracle, its published examples, closed forms."""

import math

import numpy as np
import pytest
from vendi_score import vendi

from ganeval import DataError, ParameterError, vendi_score

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(60, 8))


def _cosine_gram(a):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return a @ a.T


@pytest.mark.parametrize("q", [0.5, 1, 2, "inf"])
def test_linear_kernel_equals_the_package(x, q):
    ours = vendi_score(x, q=q)
    assert ours.settings["dual"] is True  # d = 8 < n = 60
    assert ours.value == pytest.approx(vendi.score_dual(x, q=q), rel=1e-10)
    # the n x n route (the package keeps round-off eigenvalues, which q < 1 magnifies slightly)
    assert ours.value == pytest.approx(vendi.score_K(_cosine_gram(x), q=q), rel=1e-6)
    wide = vendi_score(x[:5], q=q)  # d >= n: the n x n matrix
    assert wide.settings["dual"] is False
    assert wide.value == pytest.approx(vendi.score_K(_cosine_gram(x[:5]), q=q), rel=1e-6)


def test_rbf_and_poly_equal_the_package_on_the_same_kernel(x):
    k_rbf = lambda a, b: math.exp(-np.sum((a - b) ** 2) / (2 * 2.0**2))
    assert vendi_score(x, kernel="rbf", bandwidth=2.0).value == pytest.approx(vendi.score(x, k_rbf), rel=1e-9)
    k_poly = lambda a, b: (a @ b / 8 + 1) ** 3
    assert vendi_score(x, kernel="poly").value == pytest.approx(vendi.score(x, k_poly, normalize=True), rel=1e-9)


def test_published_example_three_distinct_groups():
    # the package's README: samples [0, 0, 10, 10, 20, 20] with a kernel ~0 across groups -> 3
    samples = np.array([0, 0, 10, 10, 20, 20], dtype=float)[:, None]
    ours = vendi_score(samples, kernel="rbf", bandwidth=1.0).value
    ref = vendi.score([0, 0, 10, 10, 20, 20], lambda a, b: np.exp(-np.abs(a - b)))
    assert ours == pytest.approx(3.0, abs=1e-9) and ref == pytest.approx(3.0, abs=1e-6)


def test_closed_forms():
    assert vendi_score(np.eye(6)).value == pytest.approx(6.0)  # orthogonal: n
    assert vendi_score(np.tile([[1.0, 2.0]], (7, 1))).value == pytest.approx(1.0)  # identical: 1
    # two orthogonal groups of sizes 3 and 1: eigenvalues 3/4, 1/4
    rows = np.array([[1.0, 0], [1, 0], [1, 0], [0, 1]])
    p = np.array([0.75, 0.25])
    assert vendi_score(rows).value == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert vendi_score(rows, q=2).value == pytest.approx(1 / (p**2).sum())
    assert vendi_score(rows, q="inf").value == pytest.approx(1 / 0.75)


def test_invariances(x):
    g = np.random.default_rng(1)
    v = vendi_score(x).value
    assert vendi_score(x[g.permutation(len(x))]).value == pytest.approx(v, rel=1e-10)  # row order
    assert vendi_score(x * 3.7).value == pytest.approx(v, rel=1e-10)  # cosine: scale-free
    assert 1 <= v <= len(x)
    # more diverse sample, higher score
    assert vendi_score(x * np.array([1] + [0.01] * 7)).value < v


def test_bad_input(x):
    with pytest.raises(DataError, match="at least 2 samples, got 1"):
        vendi_score(x[:1])
    with pytest.raises(ParameterError, match="q \\(order\\) must be > 0"):
        vendi_score(x, q=0)
    with pytest.raises(ParameterError, match="kernel must be one of"):
        vendi_score(x, kernel="laplace")
    with pytest.raises(DataError, match="row 1 is all zeros"):
        vendi_score(np.array([[1.0, 0], [0, 0]]))
