"""PRD curves: a slow obvious reference of the curve and of F_beta, closed forms, bad input."""

import math

import numpy as np
import pytest

from ganeval import ParameterError, prd
from ganeval.metrics.prd import f_beta_max, prd_curve


def _slow_curve(p_real, q_fake, angles):
    precision, recall = [], []
    for theta in np.linspace(1e-10, math.pi / 2 - 1e-10, angles):
        lam = math.tan(theta)
        a = sum(min(lam * p, q) for p, q in zip(p_real, q_fake))
        precision.append(min(a, 1.0))
        recall.append(min(a / lam, 1.0))
    return np.array(precision), np.array(recall)


def _slow_f_beta(precision, recall, beta):
    best = 0.0
    for p, r in zip(precision, recall):
        if p > 0 or r > 0:
            best = max(best, (1 + beta**2) * p * r / (beta**2 * p + r))
    return best


def test_curve_and_f_beta_match_slow_reference():
    g = np.random.default_rng(0)
    p, q = g.dirichlet(np.ones(7)), g.dirichlet(np.ones(7) * 0.3)
    ours = prd_curve(p, q, 201)
    ref = _slow_curve(p, q, 201)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12, atol=1e-15)
    for beta in (8, 1 / 8, 1):
        assert f_beta_max(*ours, beta) == pytest.approx(_slow_f_beta(*ref, beta), rel=1e-12)


def test_end_to_end_equals_reference_on_the_same_clustering():
    from sklearn.cluster import MiniBatchKMeans

    g = np.random.default_rng(1)
    x, y = g.normal(size=(200, 3)), g.normal(size=(150, 3)) * 0.5 + 1
    r = prd(x, y, clusters=6, runs=1, angles=101, seed=4)
    s = int(np.random.default_rng(4).integers(0, 2**31 - 1, size=1)[0])
    labels = MiniBatchKMeans(n_clusters=6, n_init=10, random_state=s).fit(np.concatenate([x, y])).labels_
    p = np.bincount(labels[:200], minlength=6) / 200
    q = np.bincount(labels[200:], minlength=6) / 150
    prec, rec = _slow_curve(p, q, 101)
    np.testing.assert_allclose(r.precision, prec, atol=1e-12)
    np.testing.assert_allclose(r.recall, rec, atol=1e-12)
    assert r.f8 == pytest.approx(_slow_f_beta(prec, rec, 8))
    assert r.f1_8 == pytest.approx(_slow_f_beta(prec, rec, 1 / 8))


def test_closed_forms_and_directions():
    g = np.random.default_rng(2)
    x = g.normal(size=(300, 2))
    same = prd(x, x.copy(), clusters=5, runs=2)
    assert same.f8 == pytest.approx(1.0) and same.f1_8 == pytest.approx(1.0)
    # fake covers only part of real: precision-like f1_8 high, recall-like f8 low
    part = x[x[:, 0] > 0.5]
    r = prd(x, part, clusters=10, runs=3)
    assert r.f1_8 > 0.8 > r.f8
    assert len(r.precision) == 1001 and len(r.recall) == 1001
    assert prd(x, part, clusters=10, runs=3, seed=7).to_dict() == prd(x, part, clusters=10, runs=3, seed=7).to_dict()


def test_bad_input():
    g = np.random.default_rng(3)
    with pytest.raises(ParameterError, match="at least clusters=20 samples per set; fake has 10"):
        prd(g.normal(size=(50, 2)), g.normal(size=(10, 2)))
    with pytest.raises(ParameterError, match="runs must be >= 1"):
        prd(g.normal(size=(50, 2)), g.normal(size=(50, 2)), runs=0)


def test_absurd_sizes_are_refused_up_front():
    g = np.random.default_rng(4)
    with pytest.raises(ParameterError, match="angles=1000000000 x clusters=20 needs .* GiB"):
        prd(g.normal(size=(50, 2)), g.normal(size=(50, 2)), angles=10**9)
