"""Tabular metrics on hostile values: huge finite values, large p, continuous or mixed targets,
absurd sizes refused up front with the estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganeval import DataError, ParameterError
from ganeval.divergences import divergence_from_samples
from ganeval.metrics.c2st import classifier_two_sample_test
from ganeval.metrics.ecdf import ecdf_distance
from ganeval.metrics.nested_f1 import nested_model_f1
from ganeval.metrics.wasserstein import wasserstein_distance


@pytest.fixture
def pair(rng):
    return rng.normal(size=(80, 2)), rng.normal(size=(80, 2)) + 0.4


@pytest.mark.parametrize("multivariate", [False, True])
def test_ecdf_large_p_converges_to_sup(pair, multivariate):
    x, y = pair
    sup = ecdf_distance(x, y, p="inf", multivariate=multivariate).value
    values = [ecdf_distance(x, y, p=p, multivariate=multivariate).value for p in (300, 500, 1000, 1e6)]
    assert all(v > 0 for v in values)  # 0.14 ** 500 used to underflow to 0
    assert values == sorted(values) or np.allclose(values, sorted(values), rtol=1e-9)
    assert values[-1] == pytest.approx(sup, rel=1e-4)
    assert values[0] == pytest.approx(sup, rel=0.1)


def test_ecdf_huge_values_scale(pair):
    x, y = pair
    small = ecdf_distance(x, y, p=2).value
    big = ecdf_distance(x * 2.0**1000, y * 2.0**1000, p=2).value
    assert big == pytest.approx(small * 2.0 ** (1000 / 2), rel=1e-12)


@pytest.mark.parametrize("classifier", ["logreg", "knn", "rf", "mlp"])
def test_c2st_huge_values_same_as_scaled(pair, classifier):
    x, y = pair
    ref = classifier_two_sample_test(x, y, classifier=classifier, folds=3)
    big = classifier_two_sample_test(x * 1e300, y * 1e300, classifier=classifier, folds=3)
    assert big.accuracy == pytest.approx(ref.accuracy, abs=0.05)
    assert all(math.isfinite(v) for v in big.values.values())


@pytest.mark.parametrize("model", ["rf", "logreg"])
def test_nested_f1_huge_values(rng, model):
    x = rng.normal(size=(120, 2))
    y = (x[:, 0] > 0).astype(int)
    ref = nested_model_f1(x, y, x, y, model=model)
    big = nested_model_f1(x * 1e300, y, x * 1e300, y, model=model)
    assert big.value == pytest.approx(ref.value, abs=0.05) and math.isfinite(big.value)


def test_nested_f1_continuous_target_refused(rng):
    x = rng.normal(size=(60, 2))
    with pytest.raises(DataError, match="continuous.*class labels"):
        nested_model_f1(x, x[:, 0], x, (x[:, 0] > 0).astype(int))
    with pytest.raises(DataError, match="fake_train: the target labels are continuous"):
        nested_model_f1(x, (x[:, 0] > 0).astype(int), x, x[:, 1])


def test_nested_f1_mixed_label_types_compared_as_text(rng):
    x = rng.normal(size=(90, 2))
    y_num = (x[:, 0] > 0).astype(int)
    y_text = np.array([str(v) for v in y_num], dtype=object)
    y_mixed = np.array([v if i % 2 else int(v) for i, v in enumerate(y_text)], dtype=object)
    a = nested_model_f1(x, y_num, x, y_text, model="logreg")
    b = nested_model_f1(x, y_mixed, x, y_num, model="logreg")
    assert a.value == pytest.approx(a.f1_real) and b.value == pytest.approx(b.f1_real)


def test_wasserstein_huge_values_exact_and_sliced(pair):
    x, y = pair
    for sliced in (False, True):
        ref = wasserstein_distance(x, y, sliced=sliced, projections=50).value
        big = wasserstein_distance(x * 2.0**900, y * 2.0**900, sliced=sliced, projections=50).value
        assert big == pytest.approx(ref * 2.0**900, rel=1e-9)


def test_divergence_huge_values(pair):
    x, y = pair
    ref = divergence_from_samples(x, y, "js", bins=10)["value"]
    assert divergence_from_samples(x * 2.0**1000, y * 2.0**1000, "js", bins=10)["value"] == pytest.approx(ref)


def test_absurd_sizes_refused_up_front_with_estimate(pair):
    x, y = pair
    with pytest.raises(ParameterError, match=r"--bins.*GiB"):
        divergence_from_samples(x, y, "js", bins=10**11)
    with pytest.raises(ParameterError, match=r"--projections.*(memory|operations)"):
        wasserstein_distance(x, y, sliced=True, projections=10**12)
    with pytest.raises(ParameterError, match="permutations"):
        classifier_two_sample_test(x, y, permutations=10**12)
    with pytest.raises(ParameterError, match="seed"):
        classifier_two_sample_test(x, y, seed=2**40)
