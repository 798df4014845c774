"""FLD (Jiralerspong et al. 2023): the mixture likelihood against scipy, the fitted variances
against a direct minimisation of the same objective, and the regimes the paper describes.

The reference package (marcojira/fld) is not on PyPI; benchmarks/ref_fld.py compares with its
source (agreement 3e-8 relative on the NLLs, float32 there, float64 here)."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from ganeval.errors import DataError
from ganeval.metrics.fld import fit_mixture_variances, fld, mixture_nll
from ganeval.metrics.registry import get


def test_mixture_nll_matches_scipy(rng):
    centers, lv, x = rng.normal(size=(5, 3)), rng.normal(size=5) * 0.5, rng.normal(size=(7, 3))
    dens = sum(multivariate_normal(c, np.exp(v) * np.eye(3)).pdf(x) for c, v in zip(centers, lv)) / 5
    assert mixture_nll(centers, lv, x) == pytest.approx(-np.log(dens) / 3, rel=1e-12)


def _objective(params, centers, rows):
    # the reference's fitting loss, written directly: mixture at the centres (weights 1/M) plus
    # one Gaussian at the rows' mean, distances shrunk by 0.81, weight 1
    d = centers.shape[1]
    lv, lo = params[:-1], params[-1]
    sq = ((rows[:, None, :] - centers[None]) ** 2).sum(-1)
    ll = -0.5 * sq / np.exp(lv) - 0.5 * d * lv - 0.5 * d * np.log(2 * np.pi) - np.log(len(centers))
    o = 0.81 * ((rows - rows.mean(0)) ** 2).sum(-1)
    ll0 = -0.5 * o / np.exp(lo) - 0.5 * d * lo - 0.5 * d * np.log(2 * np.pi)
    return -logsumexp(np.concatenate([ll, ll0[:, None]], 1), axis=1).mean() / d


def test_fitted_variances_nearly_minimise_the_objective(rng):
    centers, rows = rng.normal(size=(6, 2)), rng.normal(size=(300, 2)) * 1.3
    lv = fit_mixture_variances(centers, rows, seed=0)
    # the objective is not convex (a Gaussian can shrink onto one row): compare with the local
    # minimum reached from our point; Adam stops early (loss change < 5e-4 over five epochs),
    # as the reference does
    grid = np.linspace(-4, 4, 801)
    o = grid[np.argmin([_objective(np.append(lv, v), centers, rows) for v in grid])]
    ours = _objective(np.append(lv, o), centers, rows)
    best = minimize(_objective, np.append(lv, o), args=(centers, rows), method="L-BFGS-B")
    assert best.fun <= ours + 1e-12 and ours - best.fun < 3e-3
    assert np.abs(best.x[:-1] - lv).max() < 0.5


def test_regimes_fresh_copies_and_poor_samples():
    g = np.random.default_rng(0)
    train, test = g.normal(size=(600, 4)), g.normal(size=(300, 4))
    fresh = fld(train, test, g.normal(size=(300, 4))).value
    poor = fld(train, test, g.normal(size=(300, 4)) * 0.5 + 0.7).value
    with pytest.warns(UserWarning, match="likely memorised"):
        copies = fld(train, test, train[:300]).value
    assert abs(fresh) < 5 and poor > fresh + 10 and copies > 1000
    with pytest.warns(UserWarning, match="likely memorised"):
        gap = fld(train, test, train[:300], mode="gap").value
    assert gap < -1000 and abs(fld(train, test, g.normal(size=(300, 4)), mode="gap").value) < 10


def test_seeded_and_registered(rng):
    train, test, fake = rng.normal(size=(200, 3)), rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    np.random.seed(0)
    a = fld(train, test, fake, seed=4).to_dict()
    np.random.seed(1)
    assert fld(train, test, fake, seed=4).to_dict() == a
    m = get("fld")
    assert m.takes == "train-test-fake" and m(train, test, fake, seed=4).value == a["value"]
    with pytest.raises(DataError, match="feature 1 is constant over the test rows"):
        fld(train, np.column_stack([test[:, 0], np.ones(100), test[:, 2]]), fake)
