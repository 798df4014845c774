"""MiFID, memorization-informed Fréchet Inception Distance: FID divided by a memorisation penalty.

Defined for Kaggle's "Generative Dog Images" competition (2019) and by Bai et al. 2021, "On
Training Sample Memorization: Lessons from Benchmarking Generative Modeling with a
Large-scale Competition" (arXiv:2106.03062); the parameters are those of torchmetrics'
``MemorizationInformedFrechetInceptionDistance`` (torchmetrics/image/mifid.py):

.. math::

    d = \\frac{1}{|A|} \\sum_{a \\in A} \\min_{b \\in B} \\Big(1 - \\frac{|a \\cdot b|}{\\lVert a\\rVert \\lVert b\\rVert}\\Big),
    \\qquad
    d_\\varepsilon = \\begin{cases} d & d < \\varepsilon \\\\ 1 & \\text{otherwise} \\end{cases},
    \\qquad
    \\mathrm{MiFID} = \\frac{\\mathrm{FID}(\\text{train}, \\text{fake})}{d_\\varepsilon + 10^{-14}}

(0 when FID <= 1e-8), with rows whose entries sum to 0 left out of ``d`` (as both reference
codes do) and the cosine distance threshold ``epsilon = 0.1``. So MiFID equals FID unless the
generated samples are, on average, within cosine distance 0.1 of training samples; then
it is FID magnified by ``1/d``. The first input is the *training set* of the generator:
the penalty is about copying it.

Which side is averaged: torchmetrics takes ``A`` = the real (training) rows and ``B`` =
the generated rows (``average_over="train"``, the default); Kaggle's original scorer takes
``A`` = the generated rows and ``B`` = the training rows (``average_over="fake"``).

FID is :func:`ganeval.metrics.fid.frechet_distance` on unbiased covariances (torchmetrics
computes the same number from the eigenvalues of ``S1 S2``). All in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_choice, check_same_dim
from ..errors import DataError, ParameterError
from ..results import MetricResult
from ..statistics import FeatureStats
from .base import Metric, Option, Output
from .fid import fid_from_stats

__all__ = ["mifid", "min_cosine_distance", "MiFID"]

#: torchmetrics' guard added to the thresholded distance (written there as ``10e-15``)
MIFID_GUARD = 1e-14
_BLOCK_BYTES = 64 * 2**20


def min_cosine_distance(a: Any, b: Any) -> float:
    """Mean over the rows of ``a`` of the smallest ``1 - |cos|`` to a row of ``b``.

    Rows whose entries sum to 0 are left out on both sides (as torchmetrics and Kaggle's
    scorer do).

    Examples
    --------
    >>> round(min_cosine_distance(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 1.0]])), 6)
    0.292893
    """
    a = as_features(a, "a", min_samples=1)
    b = as_features(b, "b", min_samples=1)
    a = a[a.sum(axis=1) != 0]
    b = b[b.sum(axis=1) != 0]
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise DataError("mifid: every row of one input sums to 0; the cosine distance is undefined")
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    step = max(1, min(4096, _BLOCK_BYTES // (8 * b.shape[0])))
    total = 0.0
    for lo in range(0, a.shape[0], step):
        sim = np.abs(a[lo : lo + step] @ b.T)
        total += float((1.0 - sim.max(axis=1)).sum())
    return total / a.shape[0]


def mifid(train: Any, fake: Any, *, cosine_distance_eps: float = 0.1, average_over: str = "train") -> MetricResult:
    """Memorization-informed FID of ``fake`` against the generator's training set.

    .. math:: \\mathrm{MiFID} = \\mathrm{FID} / (d_\\varepsilon + 10^{-14})

    (see the module notes; Bai et al. 2021, arXiv:2106.03062; torchmetrics' definition).

    Parameters
    ----------
    train : array-like of shape (n_train, d)
        Features of the training set (at least 2 rows).
    fake : array-like of shape (n_fake, d)
        Features of the generated samples (at least 2 rows).
    cosine_distance_eps : float, default=0.1
        Threshold: a mean minimum cosine distance at or above it counts as 1 (no penalty).
    average_over : {"train", "fake"}, default="train"
        The rows the minimum distances are averaged over: ``"train"`` as torchmetrics,
        ``"fake"`` as Kaggle's original scorer.

    Returns
    -------
    MetricResult
        ``value`` (MiFID), ``fid``, ``distance`` (``d`` before thresholding) and
        ``penalized`` (whether ``d < epsilon``).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> train = g.normal(size=(200, 64))
    >>> r = mifid(train, g.normal(size=(200, 64)) + 0.5)
    >>> r.penalized, round(r.value / r.fid, 6)   # no copies: MiFID = FID
    (False, 1.0)
    >>> r = mifid(train, train * 1.3)      # scaled copies: cosine distance 0
    >>> r.penalized, r.value > 1e6 * r.fid
    (True, True)
    """
    t = as_features(train, "train")
    f = as_features(fake, "fake")
    check_same_dim(t, f, "train", "fake")
    try:
        eps = float(cosine_distance_eps)
    except (TypeError, ValueError):
        raise ParameterError(f"cosine_distance_eps must be a number in (0, 1], got {cosine_distance_eps!r}") from None
    if not 0.0 < eps <= 1.0:
        raise ParameterError(f"cosine_distance_eps must be a number in (0, 1], got {cosine_distance_eps!r}")
    check_choice(average_over, "average_over", ("train", "fake"))
    fid = fid_from_stats(FeatureStats.from_features(t), FeatureStats.from_features(f), names=("train", "fake")).value
    a, b = (t, f) if average_over == "train" else (f, t)
    d = min_cosine_distance(a, b)
    d_eps = d if d < eps else 1.0
    value = fid / (d_eps + MIFID_GUARD) if fid > 1e-8 else 0.0
    if not math.isfinite(value):
        raise DataError("mifid: the value overflows float64; rescale the features")
    return MetricResult(
        "mifid",
        {"value": value, "fid": fid, "distance": d, "penalized": d < eps},
        {"cosine_distance_eps": eps, "average_over": average_over},
        n_real=t.shape[0],
        n_fake=f.shape[0],
    )


class MiFID(Metric):
    """Memorization-informed FID: FID divided by the mean minimum cosine distance when below epsilon (lower is better)."""

    name = "mifid"
    takes = "train-fake"
    higher_is_better = False
    outputs = (
        Output("value", False, (0.0, math.inf), "MiFID"),
        Output("fid", False, (0.0, math.inf), "FID"),
        Output("distance", True, (0.0, 1.0), "Cosine distance"),
    )
    resampling = "half"
    options = (
        Option(
            "cosine_distance_eps",
            "float",
            0.1,
            "Cosine distance threshold (epsilon).",
            minimum=0.0,
            maximum=1.0,
            exclusive_minimum=True,
        ),
        Option(
            "average_over",
            "str",
            "train",
            "Rows the minimum distances are averaged over (train: torchmetrics; fake: Kaggle's scorer).",
            choices=("train", "fake"),
        ),
    )

    def compute(self, train: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return mifid(train, fake, **options)
