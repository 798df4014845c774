"""CMMD: the squared MMD between CLIP embeddings with a Gaussian kernel (Jayasumana et al. 2024).

.. math::

    \\mathrm{CMMD} = 1000 \\Big( \\frac{1}{m^2} \\sum_{i, j} k(x_i, x_j)
        + \\frac{1}{n^2} \\sum_{i, j} k(y_i, y_j) - \\frac{2}{mn} \\sum_{i, j} k(x_i, y_j) \\Big),
    \\qquad k(x, y) = \\exp\\Big(-\\frac{\\lVert x - y \\rVert^2}{2 \\sigma^2}\\Big),\\ \\sigma = 10

on L2-normalised CLIP ViT-L/14@336 image embeddings ("Rethinking FID: Towards a Better
Evaluation Metric for Image Generation", arXiv:2401.09603). The estimator is the one of the
paper's code (google-research ``cmmd/distance.py``): the *biased* V-statistic, which keeps
the diagonal terms ``k(x_i, x_i) = 1`` (so CMMD >= 0, and it is not zero-mean for equal laws).
It is :func:`~ganeval.metrics.mmd.maximum_mean_discrepancy` with these fixed settings, times 1000.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..results import MetricResult
from .base import Metric, Output
from .mmd import maximum_mean_discrepancy

__all__ = ["cmmd_from_features", "CMMD_SIGMA", "CMMD_SCALE", "CMMD"]

CMMD_SIGMA = 10.0  # the RBF bandwidth of the CMMD code (_SIGMA)
CMMD_SCALE = 1000.0  # the CMMD code reports 1000 x MMD^2 (_SCALE)


def cmmd_from_features(real: Any, fake: Any) -> MetricResult:
    """CMMD between two sets of (CLIP) feature rows: ``1000 x`` biased RBF MMD^2, sigma = 10.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
        CLIP image embeddings, L2-normalised (``--extractor clip``); any rows are accepted,
        but only normalised CLIP ViT-L/14@336 embeddings give numbers comparable with the paper.

    Returns
    -------
    MetricResult
        ``value`` = CMMD (lower is better); settings: kernel, bandwidth, estimator, scale.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 8)); x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> round(cmmd_from_features(x, x).value, 12)
    0.0
    >>> cmmd_from_features(x, -x).value > 0
    True
    """
    r = maximum_mean_discrepancy(real, fake, kernel="rbf", bandwidth=CMMD_SIGMA, estimator="biased")
    settings = {"kernel": "rbf", "bandwidth": CMMD_SIGMA, "estimator": "biased", "scale": CMMD_SCALE}
    return MetricResult("cmmd", {"value": CMMD_SCALE * r.value}, settings, n_real=r.n_real, n_fake=r.n_fake)


class CMMD(Metric):
    """CMMD: 1000 x the biased RBF MMD^2 (sigma 10) between CLIP feature rows (lower is better)."""

    name = "cmmd"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "CMMD"),)
    streaming = "rows"
    identity, symmetric = 0.0, True

    def compute(self, real: np.ndarray, fake: np.ndarray) -> MetricResult:
        return cmmd_from_features(real, fake)
