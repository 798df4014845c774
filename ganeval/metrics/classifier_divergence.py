"""Divergence estimates from a real-vs-fake classifier's probabilities (the density-ratio trick).

A probabilistic classifier ``D`` trained on *balanced* data to tell real (label 1) from
generated (label 0) estimates the density ratio ``p(x)/q(x) = D(x) / (1 - D(x))``
(Mohamed & Lakshminarayanan 2016, arXiv:1610.03483; Sugiyama et al. 2012). From the
out-of-fold probabilities of :func:`~ganeval.metrics.c2st.classifier_two_sample_test`:

- KL estimate: ``KL(P||Q) ~ mean over real x of log(D(x) / (1 - D(x)))``. A plug-in value,
  not a bound: it is as good as the classifier's calibration and can even be negative for
  a poor classifier (reported as is).
- JS lower bound: with ``L`` the mean binary cross-entropy (log-loss, nats) of the
  classifier on the balanced set, ``JS(P, Q) >= ln 2 - L`` (the GAN discriminator bound,
  Goodfellow et al. 2014, arXiv:1406.2661; Nowozin et al. 2016, arXiv:1606.00709). Any
  classifier gives a lower bound; a better one gives a tighter one. Reported clipped at 0.

Probabilities are clipped to ``[eps, 1 - eps]`` (``eps = 1e-7``) before logs are taken.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = ["kl_from_probabilities", "js_lower_bound", "log_loss"]

EPS = 1e-7


def _probs(prob: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(prob, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if d.shape != y.shape:
        raise DataError(f"probabilities and labels differ in length: {d.size} and {y.size}")
    if d.size == 0 or not np.isfinite(d).all() or (d < 0).any() or (d > 1).any():
        raise DataError("probabilities must be a non-empty array of numbers in [0, 1]")
    if not np.isin(y, (0, 1)).all():
        raise DataError("labels must be 0 (fake) or 1 (real)")
    return np.clip(d, EPS, 1.0 - EPS), y.astype(bool)


def log_loss(prob: Any, labels: Any) -> float:
    """Mean binary cross-entropy (nats) of real-class probabilities ``prob`` against ``labels``.

    Examples
    --------
    >>> round(log_loss([0.5, 0.5], [1, 0]), 6)  # a coin: ln 2
    0.693147
    """
    d, y = _probs(prob, labels)
    return float(-np.mean(np.where(y, np.log(d), np.log1p(-d))))


def kl_from_probabilities(prob: Any, labels: Any) -> float:
    """Plug-in estimate of ``KL(P||Q)``: mean over real rows of ``log(D / (1 - D))``.

    ``prob`` is the classifier's probability that a row is real, on balanced data.

    Examples
    --------
    >>> round(kl_from_probabilities([0.8, 0.8, 0.2, 0.2], [1, 1, 0, 0]), 6)  # log 4
    1.386294
    """
    d, y = _probs(prob, labels)
    if not y.any():
        raise DataError("kl_from_probabilities: no real rows (label 1)")
    return float(np.mean(np.log(d[y]) - np.log1p(-d[y])))


def js_lower_bound(prob: Any, labels: Any) -> float:
    """Lower bound ``max(0, ln 2 - L)`` on ``JS(P, Q)`` (nats) from the log-loss ``L``.

    Examples
    --------
    >>> js_lower_bound([0.5, 0.5], [1, 0])
    0.0
    >>> js_lower_bound([1.0, 0.0], [1, 0]) <= math.log(2)
    True
    """
    return float(max(0.0, math.log(2.0) - log_loss(prob, labels)))
