"""C2ST: detection, calibration under H0, seeds, permutation p-value, classifier divergences."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.c2st import CLASSIFIERS, classifier_two_sample_test
from ganeval.metrics.classifier_divergence import js_lower_bound, kl_from_probabilities, log_loss


def test_shifted_law_detected(rng):
    x = rng.normal(size=(200, 4))
    y = rng.normal(size=(250, 4)) + [0.6, 0, 0, 0]
    r = classifier_two_sample_test(x, y)
    assert r.accuracy > 0.6 and r.auc > 0.65 and r.p_value < 1e-3
    assert r.n_real == 200 and r.n_fake == 250 and r.settings["n_per_class"] == 200
    assert r.value == r.accuracy


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_every_classifier_separates_far_laws(rng, classifier):
    x = rng.normal(size=(80, 2))
    r = classifier_two_sample_test(x, x + 4.0, classifier=classifier, folds=3)
    assert r.accuracy > 0.9 and r.auc > 0.95 and r.p_value < 1e-6


def test_same_law_p_values_roughly_uniform():
    # 60 repetitions with knn (fast); the binomial p-value is conservative (discrete), so
    # the rejection rate at 5% must stay small and the p-values must not pile up near 0.
    pvals = []
    for seed in range(60):
        rng = np.random.default_rng(1000 + seed)
        x, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2))
        pvals.append(classifier_two_sample_test(x, y, classifier="knn", seed=seed).p_value)
    pvals = np.array(pvals)
    assert np.mean(pvals < 0.05) <= 0.15
    assert 0.3 < np.mean(pvals) < 0.75
    assert stats.kstest(pvals, "uniform").pvalue > 1e-3


def test_seed_determinism(rng):
    x, y = rng.normal(size=(90, 3)), rng.normal(size=(70, 3)) + 0.3
    a = classifier_two_sample_test(x, y, classifier="mlp", seed=4)
    b = classifier_two_sample_test(x, y, classifier="mlp", seed=4)
    assert a.to_dict() == b.to_dict()
    c = classifier_two_sample_test(x, y, classifier="mlp", seed=5)
    assert (c.accuracy, c.auc) != (a.accuracy, a.auc)


def test_permutation_p_value(rng):
    x = rng.normal(size=(40, 2))
    r = classifier_two_sample_test(x, x + 3, classifier="knn", permutations=19)
    assert r.p_value == pytest.approx(1 / 20) and r.settings["test"] == "permutation"
    y = rng.normal(size=(40, 2))
    r0 = classifier_two_sample_test(x, y, classifier="knn", permutations=19)
    assert r0.p_value > 1 / 20


def test_kl_estimate_and_js_bound_gaussians():
    # N(0,1) vs N(mu,1): the log-ratio is linear, so logistic regression is well specified
    rng = np.random.default_rng(3)
    mu = 1.0
    x, y = rng.normal(size=(3000, 1)), rng.normal(size=(3000, 1)) + mu
    r = classifier_two_sample_test(x, y)
    assert r.kl == pytest.approx(mu**2 / 2, abs=0.1)
    p = lambda t: stats.norm.pdf(t)
    q = lambda t: stats.norm.pdf(t, mu)
    m = lambda t: 0.5 * (p(t) + q(t))
    js = (
        0.5 * quad(lambda t: p(t) * math.log(p(t) / m(t)), -12, 12)[0]
        + 0.5 * quad(lambda t: q(t) * math.log(q(t) / m(t)), -12, 12)[0]
    )
    assert 0 < r.js_lower_bound <= js + 0.01  # a lower bound (up to sampling noise)
    assert r.js_lower_bound > 0.5 * js  # and not a loose one here
    assert r.log_loss == pytest.approx(math.log(2) - r.js_lower_bound)


def test_probability_helpers():
    assert log_loss([0.5] * 4, [1, 1, 0, 0]) == pytest.approx(math.log(2))
    assert js_lower_bound([0.5] * 4, [1, 1, 0, 0]) == 0.0
    assert js_lower_bound([1.0, 0.0], [1, 0]) == pytest.approx(math.log(2), abs=1e-6)
    assert kl_from_probabilities([0.5, 0.5], [1, 0]) == 0.0
    with pytest.raises(DataError, match="in \\[0, 1\\]"):
        log_loss([1.5], [1])
    with pytest.raises(DataError, match="labels"):
        log_loss([0.5], [2])


def test_bad_input(rng):
    x = rng.normal(size=(20, 2))
    with pytest.raises(ParameterError, match="folds=30"):
        classifier_two_sample_test(x, x, folds=30)
    with pytest.raises(ParameterError, match="classifier must be one of"):
        classifier_two_sample_test(x, x, classifier="svm")
    with pytest.raises(ParameterError, match="folds must be >= 2"):
        classifier_two_sample_test(x, x, folds=1)
    with pytest.raises(DataError, match="feature dimensions differ"):
        classifier_two_sample_test(x, rng.normal(size=(20, 3)))
    with pytest.raises(DataError, match="constant"):
        classifier_two_sample_test(np.ones((10, 2)), np.ones((10, 2)))
