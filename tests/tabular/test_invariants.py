"""Shared invariants of the sample-space distances: d(x, x) = 0, symmetry, row-order invariance,
seed determinism, and the JSON contract of the result."""

import json
import math

import pytest

from ganeval.divergences import divergence_from_samples
from ganeval.metrics.c2st import classifier_two_sample_test
from ganeval.metrics.ecdf import ecdf_distance
from ganeval.metrics.wasserstein import wasserstein_distance

DISTANCES = {
    "ecdf_p1": lambda x, y: ecdf_distance(x, y, p=1).value,
    "ecdf_p2": lambda x, y: ecdf_distance(x, y, p=2).value,
    "ecdf_ks": lambda x, y: ecdf_distance(x, y, p=math.inf).value,
    "ecdf_joint": lambda x, y: ecdf_distance(x, y, p=2, multivariate=True).value,
    "w1_exact": lambda x, y: wasserstein_distance(x, y, p=1).value,
    "w2_exact": lambda x, y: wasserstein_distance(x, y, p=2).value,
    "sw2": lambda x, y: wasserstein_distance(x, y, p=2, sliced=True, projections=30, seed=1).value,
    "js_hist": lambda x, y: divergence_from_samples(x, y, "js", bins=8)["value"],
    "tv_hist": lambda x, y: divergence_from_samples(x, y, "tv", bins=8)["value"],
}


@pytest.fixture
def samples(rng):
    return rng.normal(size=(60, 3)), rng.normal(size=(45, 3)) * 1.3 + 0.4


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_zero_on_identical_samples(name, samples):
    x, _ = samples
    assert DISTANCES[name](x, x.copy()) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_symmetric_and_positive(name, samples):
    x, y = samples
    d_xy, d_yx = DISTANCES[name](x, y), DISTANCES[name](y, x)
    assert d_xy > 0
    assert d_xy == pytest.approx(d_yx, rel=1e-10)


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_row_order_invariant(name, samples, rng):
    x, y = samples
    shuffled = DISTANCES[name](x[rng.permutation(len(x))], y[rng.permutation(len(y))])
    assert shuffled == pytest.approx(DISTANCES[name](x, y), rel=1e-10)


def test_results_are_plain_json(samples):
    x, y = samples
    results = [
        ecdf_distance(x, y),
        ecdf_distance(x, y, p="inf", multivariate=True),
        wasserstein_distance(x, y, per_feature=True),
        wasserstein_distance(x, y, sliced=True, projections=10),
        classifier_two_sample_test(x, y, classifier="knn"),
    ]
    for r in results:
        d = json.loads(r.to_json())
        assert d["metric"] in ("ecdf", "wasserstein", "c2st")
        assert d["n_real"] == 60 and d["n_fake"] == 45 and "version" in d and "value" in d
