"""FLD, feature likelihood divergence (Jiralerspong et al. 2023, arXiv:2302.04440).

A mixture of isotropic Gaussians is centred at the generated rows ``g_j`` (``M`` of them),
each with its own variance ``sigma_j^2``; the variances are fitted to the *training* rows
(maximum likelihood); the mixture's likelihood of the *held-out test* rows then says how
well the samples generalise. Memorised samples fit the training rows with tiny variances
and give the test rows a low likelihood; so do samples of poor quality or diversity.

.. math::

    \\log p(x) = \\log \\frac{1}{M} \\sum_{j=1}^{M} \\mathcal{N}(x \\mid g_j, \\sigma_j^2 I), \\qquad
    \\mathrm{NLL}(X) = -\\frac{1}{|X|\\, d} \\sum_{x \\in X} \\log p(x)

    \\mathrm{FLD} = 100\\, \\big(\\mathrm{NLL}_{\\text{fake}}(\\text{test}) - \\mathrm{NLL}_{\\text{baseline}}(\\text{test})\\big)

The baseline is the same construction with the generated rows replaced by a random half of
the training set (``min(M, n_train // 2)`` centres) fitted to the rest of it: a "perfect
generator" that draws fresh samples of the data law. Lower is better; about 0 matches the
baseline, negative is possible. ``mode="gap"`` gives the generalisation gap
``100 (NLL_fake(train) - NLL_fake(test))`` (very negative: memorisation).

Procedure, as in the reference package (marcojira/fld, ``fld/MoG.py`` and
``fld/metrics/FLD.py``): every input is first standardised with the test rows' mean and
(unbiased) standard deviation per feature; at most 10,000 generated rows are used (a seeded
subset); ``log sigma_j^2`` starts at ``log((min_x ||x - g_j||^2 + 1e-3) / d)`` over the
fitting rows; during the fit an extra Gaussian at the mean of the fitting rows, with
distances shrunk by ``0.9^2`` and its own fitted variance (started at 1), is added to the
mixture with unnormalised weight 1, so that every row has some likelihood; it is not part of
the evaluated mixture. The loss ``-mean log p / d`` is minimised with Adam (learning rate
0.5), batches of 10,000 rows, ``log sigma^2`` clamped to [-40, 40] after each step, for up to
50 epochs, stopping once the epoch loss changed by less than 5e-4 over the last five
epochs (after epoch 5). All random draws (the subset, the baseline split, the fitting
order) come from ``seed``; our arithmetic is float64 (the reference runs float32).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import (
    as_features,
    check_choice,
    check_int,
    check_same_dim,
    resolve_seed,
)
from ..errors import DataError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["fld", "fit_mixture_variances", "mixture_nll", "FLD"]

#: the reference package's constants
MAX_FAKE = 10_000
LEARNING_RATE = 0.5
MAX_EPOCHS = 50
BATCH_ROWS = 10_000
ORIGIN_SHRINK = (1 - 0.1) ** 2
LOG_VAR_CLAMP = 40.0
EARLY_STOP = 5e-4


def _sq_dists(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = x @ c.T
    d *= -2.0
    d += np.einsum("ij,ij->i", x, x)[:, None]
    d += np.einsum("ij,ij->i", c, c)[None, :]
    return np.maximum(d, 0.0, out=d)


def _pairwise_ll(dists: np.ndarray, log_var: Any, dim: int) -> np.ndarray:
    """``log N(x_i | c_j, exp(log_var_j) I)`` from squared distances."""
    return -0.5 * dists * np.exp(-log_var) - 0.5 * dim * log_var - 0.5 * dim * math.log(2 * math.pi)


def _logsumexp_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise log-sum-exp and the softmax weights."""
    top = a.max(axis=1, keepdims=True)
    w = np.exp(a - top)
    s = w.sum(axis=1, keepdims=True)
    w /= s
    return (np.log(s) + top)[:, 0], w


def mixture_nll(centers: np.ndarray, log_var: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-row negative log-likelihood over the dimension, ``-log p(x) / d``, of the mixture
    ``(1/M) sum_j N(x | centers_j, exp(log_var_j) I)`` (trusted float64 input).

    Examples
    --------
    >>> from scipy.stats import norm
    >>> bool(np.isclose(mixture_nll(np.zeros((1, 1)), np.zeros(1), np.array([[0.5]]))[0], -norm.logpdf(0.5)))
    True
    """
    m, dim = centers.shape
    out = np.empty(x.shape[0])
    step = max(1, min(BATCH_ROWS, (64 * 2**20) // (8 * max(m, 1))))
    for lo in range(0, x.shape[0], step):
        ll = _pairwise_ll(_sq_dists(x[lo : lo + step], centers), log_var[None, :], dim) - math.log(m)
        out[lo : lo + step] = -_logsumexp_rows(ll)[0] / dim
    return out


def fit_mixture_variances(centers: np.ndarray, rows: np.ndarray, *, seed: Any = 0) -> np.ndarray:
    """``log sigma_j^2`` of the Gaussians centred at ``centers``, fitted to ``rows`` by the
    reference package's procedure (see the module notes; trusted float64 input).

    The gradient of the loss is written out (``d loss / d log sigma_j^2 = -(1/(B d)) sum_i
    w_ij (D_ij / (2 sigma_j^2) - d/2)``, ``w`` the posterior weights) and Adam's update is
    PyTorch's (betas 0.9, 0.999, eps 1e-8), so no autograd is needed.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> lv = fit_mixture_variances(np.zeros((1, 3)), g.normal(size=(2000, 3)) * 2.0)
    >>> 3.5 < float(np.exp(lv[0])) < 4.5   # about the maximum-likelihood variance, 4
    True
    """
    rng = resolve_seed(seed)
    dim = centers.shape[1]
    x = np.ascontiguousarray(rows[rng.permutation(rows.shape[0])], dtype=np.float64)
    c = np.ascontiguousarray(centers, dtype=np.float64)
    cached = x.shape[0] <= 250_000
    all_d = _sq_dists(x, c) if cached else None
    if all_d is not None:
        min_d = all_d.min(axis=0)
    else:
        min_d = np.min(
            [_sq_dists(x[lo : lo + BATCH_ROWS], c).min(axis=0) for lo in range(0, x.shape[0], BATCH_ROWS)], axis=0
        )
    origin_d = ORIGIN_SHRINK * _sq_dists(x, x.mean(axis=0, keepdims=True))[:, 0]
    params = np.concatenate([np.log((min_d + 1e-3) / dim), [0.0]])  # log variances, then the origin's
    m1, m2 = np.zeros_like(params), np.zeros_like(params)
    beta1, beta2, adam_eps = 0.9, 0.999, 1e-8
    log_m = math.log(c.shape[0])
    losses: list[float] = []
    step = 0
    for epoch in range(MAX_EPOCHS):
        epoch_losses = []
        for lo in range(0, x.shape[0], BATCH_ROWS):
            d = all_d[lo : lo + BATCH_ROWS] if all_d is not None else _sq_dists(x[lo : lo + BATCH_ROWS], c)
            d = np.concatenate([d, origin_d[lo : lo + BATCH_ROWS, None]], axis=1)
            lv = params[None, :]
            a = _pairwise_ll(d, lv, dim)
            a[:, :-1] -= log_m
            lse, w = _logsumexp_rows(a)
            b = d.shape[0]
            epoch_losses.append(float(-lse.mean() / dim))
            grad = -(w * (0.5 * d * np.exp(-lv) - 0.5 * dim)).sum(axis=0) / (b * dim)
            step += 1
            m1 = beta1 * m1 + (1 - beta1) * grad
            m2 = beta2 * m2 + (1 - beta2) * grad * grad
            denom = np.sqrt(m2) / math.sqrt(1 - beta2**step) + adam_eps
            params = params - LEARNING_RATE / (1 - beta1**step) * m1 / denom
            params[:-1] = np.clip(params[:-1], -LOG_VAR_CLAMP, LOG_VAR_CLAMP)
        losses.append(sum(epoch_losses) / len(epoch_losses))
        if epoch > 5 and max(abs(losses[-1] - losses[-j]) for j in range(1, 6)) < EARLY_STOP:
            break
    return params[:-1].copy()


def fld(train: Any, test: Any, fake: Any, *, mode: str = "test", seed: int = 0) -> MetricResult:
    """Feature likelihood divergence of generated rows (Jiralerspong et al. 2023, arXiv:2302.04440).

    .. math:: \\mathrm{FLD} = 100\\,(\\mathrm{NLL}_{\\text{fake}}(\\text{test}) - \\mathrm{NLL}_{\\text{baseline}}(\\text{test}))

    Parameters
    ----------
    train : array-like of shape (n_train, d)
        Features of the model's training set (the mixture's variances are fitted to it).
    test : array-like of shape (n_test, d)
        Features of held-out real samples (their likelihood is the score).
    fake : array-like of shape (n_fake, d)
        Features of the generated samples (the mixture's centres; at most 10,000 are used).
    mode : {"test", "train", "gap"}, default="test"
        ``"test"``: FLD; ``"train"``: the same with the training rows evaluated;
        ``"gap"``: ``100 (NLL_fake(train) - NLL_fake(test))``, no baseline.
    seed : int, default=0
        Seed of the subset of generated rows, the baseline split and the fitting order.

    Returns
    -------
    MetricResult
        ``value`` and the NLLs behind it: ``nll`` (of the evaluated rows under the fitted
        mixture) and ``baseline_nll`` (absent for ``"gap"``; there ``nll_train`` and ``nll_test``).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> train, test = g.normal(size=(600, 4)), g.normal(size=(300, 4))
    >>> fresh = fld(train, test, g.normal(size=(300, 4))).value
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:   # memorised: a warning
    ...     copies = fld(train, test, train[:300]).value
    >>> abs(fresh) < 5, copies > 20
    (True, True)
    """
    t = as_features(train, "train")
    p = as_features(test, "test")
    q = as_features(fake, "fake")
    check_same_dim(t, p, "train", "test")
    check_same_dim(t, q, "train", "fake")
    check_choice(mode, "mode", ("test", "train", "gap"))
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    if mode != "gap" and t.shape[0] < 4:
        raise DataError(
            f"fld: the baseline splits the training set in two halves of at least 2; train has {t.shape[0]}"
        )
    rng = np.random.default_rng(seed)
    n_fake = q.shape[0]
    if n_fake > MAX_FAKE:
        q = q[rng.choice(n_fake, MAX_FAKE, replace=False)]
    mean, std = p.mean(axis=0), p.std(axis=0, ddof=1)
    if not np.all(std > 0):
        bad = int(np.flatnonzero(~(std > 0))[0])
        raise DataError(f"fld: feature {bad} is constant over the test rows; the standardisation needs a spread")
    t, p, q = ((a - mean) / std for a in (t, p, q))
    fit_seed, base_seed = rng.integers(0, 2**32 - 1, size=2)
    log_var = fit_mixture_variances(q, t, seed=int(fit_seed))
    settings = {"mode": mode, "seed": seed, "max_fake": MAX_FAKE}
    if mode == "gap":
        nll_train = float(mixture_nll(q, log_var, t).mean())
        nll_test = float(mixture_nll(q, log_var, p).mean())
        value = 100.0 * (nll_train - nll_test)
        if value < -1000:
            warnings.warn(
                "fld: generalisation gap below -1000: the generated samples are likely memorised", stacklevel=2
            )
        values = {"value": value, "nll_train": nll_train, "nll_test": nll_test}
    else:
        nll = float(mixture_nll(q, log_var, p if mode == "test" else t).mean())
        base_rng = np.random.default_rng(int(base_seed))
        shuffled = t[base_rng.permutation(t.shape[0])]
        split = min(q.shape[0], t.shape[0] // 2)
        base_lv = fit_mixture_variances(shuffled[:split], shuffled[split:], seed=base_rng)
        baseline = float(mixture_nll(shuffled[:split], base_lv, p).mean())
        value = 100.0 * (nll - baseline)
        if value > 1000:
            warnings.warn("fld: value above 1000: the generated samples are likely memorised", stacklevel=2)
        values = {"value": value, "nll": nll, "baseline_nll": baseline}
    if not all(math.isfinite(v) for v in values.values()):
        raise DataError("fld: a likelihood is not finite; check the features")
    return MetricResult("fld", values, settings, n_real=p.shape[0], n_fake=n_fake)


class FLD(Metric):
    """Feature likelihood divergence: test-set NLL of a Gaussian mixture at FAKE, fitted on TRAIN, minus a baseline (lower is better)."""

    name = "fld"
    takes = "train-test-fake"
    higher_is_better = False
    outputs = (Output("value", False, label="FLD"),)
    seeded = True
    resampling = None
    no_interval = "each value fits a mixture by gradient descent; compare seeds instead of resampling."
    options = (
        Option(
            "mode",
            "str",
            "test",
            "test: FLD; train: training rows evaluated; gap: train minus test NLL.",
            choices=("test", "train", "gap"),
        ),
    )
    min_samples = 2

    def compute(self, train: np.ndarray, test: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return fld(train, test, fake, **options)
