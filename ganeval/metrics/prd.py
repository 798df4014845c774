"""Precision-recall curves for distributions (PRD) from k-means histograms.

The union of real and generated features is clustered with k-means into ``clusters``
cells; ``P`` (real) and ``Q`` (generated) are the two histograms over the cells. For each
angle ``theta`` in ``(0, pi/2)`` (``angles`` values, slope ``lambda = tan theta``):

.. math::

    \\alpha(\\lambda) = \\sum_i \\min(\\lambda P_i, Q_i), \\qquad \\beta(\\lambda) = \\alpha(\\lambda) / \\lambda

``alpha`` is the precision and ``beta`` the recall of ``Q`` with respect to ``P``. The curve is
averaged over ``runs`` clusterings (seeds ``seed``, ``seed + 1``, ...), and summarised by

.. math:: F_\\beta = \\max_\\lambda \\frac{(1 + \\beta^2)\\, \\alpha\\beta_r}{\\beta^2 \\alpha + \\beta_r}

with ``beta = 8`` (``f8``, a recall-like number) and ``beta = 1/8`` (``f1_8``, a
precision-like number). Sajjadi et al. 2018, "Assessing Generative Models via Precision and
Recall", arXiv:1806.00035 (defaults as their code: 20 clusters, 1001 angles, 10 runs,
mini-batch k-means with 10 initialisations).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim, resolve_seed
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .memorization import check_magnitude

__all__ = ["prd", "prd_curve", "f_beta_max", "PRD"]

_EPS = 1e-10
_MAX_CURVE_BYTES = 2**30


def prd_curve(real_hist: np.ndarray, fake_hist: np.ndarray, angles: int = 1001) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall over ``angles`` slopes for two histograms (trusted input).

    Examples
    --------
    >>> p, r = prd_curve(np.array([0.5, 0.5]), np.array([0.5, 0.5]), angles=3)
    >>> float(p.max()), float(r.max())
    (1.0, 1.0)
    """
    theta = np.linspace(_EPS, math.pi / 2 - _EPS, angles)
    slopes = np.tan(theta)
    precision = np.minimum(real_hist[None, :] * slopes[:, None], fake_hist[None, :]).sum(axis=1)
    recall = precision / slopes
    return np.clip(precision, 0.0, 1.0), np.clip(recall, 0.0, 1.0)


def f_beta_max(precision: np.ndarray, recall: np.ndarray, beta: float) -> float:
    """``max_lambda F_beta`` over a PRD curve (0 where precision and recall are both 0).

    Examples
    --------
    >>> f_beta_max(np.array([1.0, 0.5]), np.array([0.5, 1.0]), 1.0)
    0.6666666666666666
    """
    num = (1 + beta**2) * precision * recall
    den = beta**2 * precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return float(f.max())


def prd(
    real: Any, fake: Any, *, clusters: int = 20, angles: int = 1001, runs: int = 10, seed: Any = 0, beta: float = 8.0
) -> MetricResult:
    """PRD curve and its F_beta summaries between ``real`` and ``fake``.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    clusters : int, default=20
        k-means cells on the union; each set needs at least this many samples.
    angles : int, default=1001
        Points on the curve.
    runs : int, default=10
        Clusterings averaged (seeds ``seed .. seed + runs - 1``).
    seed : int, default=0
    beta : float, default=8
        ``f8`` is F_beta and ``f1_8`` is F_{1/beta}.

    Returns
    -------
    MetricResult
        ``f8``, ``f1_8``, ``precision`` and ``recall`` (arrays of ``angles`` values, the
        averaged curve).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(300, 2))
    >>> r = prd(x, x + 100.0, clusters=5, runs=2)
    >>> r.f8, r.f1_8
    (0.0, 0.0)
    """
    from sklearn.cluster import MiniBatchKMeans

    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    check_magnitude(x, "real")
    check_magnitude(y, "fake")
    clusters = check_int(clusters, "clusters", minimum=1)
    angles = check_int(angles, "angles", minimum=3)
    runs = check_int(runs, "runs", minimum=1)
    base = resolve_seed(seed)
    beta = float(beta)
    if not (math.isfinite(beta) and beta > 0):
        raise ParameterError(f"beta must be a positive number, got {beta!r}")
    if 8.0 * angles * clusters > _MAX_CURVE_BYTES:
        raise ParameterError(
            f"angles={angles} x clusters={clusters} needs {8.0 * angles * clusters / 2**30:.1f} GiB "
            f"for the curve (limit {_MAX_CURVE_BYTES / 2**30:.0f} GiB); pass fewer angles"
        )
    for name, arr in (("real", x), ("fake", y)):
        if arr.shape[0] < clusters:
            raise ParameterError(f"PRD needs at least clusters={clusters} samples per set; {name} has {arr.shape[0]}")
    union = np.concatenate([x, y])
    n_real = x.shape[0]
    precisions, recalls = [], []
    seeds = base.integers(0, 2**31 - 1, size=runs)
    for s in seeds:
        km = MiniBatchKMeans(n_clusters=clusters, n_init=10, random_state=int(s))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's notices on duplicate points / memory leaks
            labels = km.fit(union).labels_
        real_hist = np.bincount(labels[:n_real], minlength=clusters) / n_real
        fake_hist = np.bincount(labels[n_real:], minlength=clusters) / y.shape[0]
        p, r = prd_curve(real_hist, fake_hist, angles)
        precisions.append(p)
        recalls.append(r)
    precision = np.mean(precisions, axis=0)
    recall = np.mean(recalls, axis=0)
    values = {
        "f8": f_beta_max(precision, recall, beta),
        "f1_8": f_beta_max(precision, recall, 1.0 / beta),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
    }
    settings = {
        "clusters": clusters,
        "angles": angles,
        "runs": runs,
        "beta": beta,
        "seed": seed if isinstance(seed, int) else None,
        "clustering": "MiniBatchKMeans(n_init=10)",
    }
    return MetricResult("prd", values, settings, n_real=n_real, n_fake=y.shape[0])


class PRD(Metric):
    """Precision-recall curve for distributions (Sajjadi et al. 2018): F_8 and F_1/8."""

    name = "prd"
    higher_is_better = True
    outputs = (Output("f8", True, (0.0, 1.0), "F_8"), Output("f1_8", True, (0.0, 1.0), "F_1/8"))
    seeded = True
    options = (
        Option("clusters", "int", 20, "k-means clusters of the pooled sample.", minimum=2),
        Option("angles", "int", 1001, "Points of the curve.", minimum=3),
        Option("runs", "int", 10, "k-means runs averaged.", minimum=1),
        Option("beta", "float", 8.0, "beta of F_beta and F_1/beta.", minimum=0.0, exclusive_minimum=True),
    )
    test_options = {"clusters": 5, "runs": 2, "angles": 101}
    identity = 1.0
    order_invariant = False

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return prd(real, fake, **options)
