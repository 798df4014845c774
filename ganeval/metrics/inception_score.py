"""Inception Score from class logits or probabilities.

.. math:: \\mathrm{IS} = \\exp\\big(\\mathbb{E}_x\\, \\mathrm{KL}(p(y \\mid x) \\,\\|\\, p(y))\\big)

Salimans et al. 2016, "Improved Techniques for Training GANs", arXiv:1606.03498. Natural
log; the rows are cut into ``splits`` consecutive parts (no shuffle; part ``i`` is rows
``i*N//splits`` to ``(i+1)*N//splits``), the score is computed on each with its own marginal
``p(y)``, and the result is the mean and population standard deviation over parts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_choice, check_int
from ..errors import DataError, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["inception_score", "InceptionScore"]


def inception_score(x: Any, *, splits: int = 10, input: str = "logits") -> MetricResult:
    """Inception Score of a set of class predictions.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_classes)
        Unnormalised logits (``input="logits"``) or class probabilities (``input="probs"``,
        each row non-negative and summing to 1).
    splits : int, default=10
        Number of consecutive parts; each must hold at least 1 sample.
    input : {"logits", "probs"}, default="logits"

    Returns
    -------
    MetricResult
        ``value`` (mean over splits) and ``std`` (population std over splits). With C
        classes the score lies in [1, C].

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.log(np.eye(4)[np.arange(200) % 4] + 1e-12)  # confident, balanced
    >>> round(inception_score(logits, splits=2).value, 6)
    4.0
    """
    check_choice(input, "input", ("logits", "probs"))
    arr = as_features(x, input, min_samples=1)
    splits = check_int(splits, "splits", minimum=1)
    n = arr.shape[0]
    if splits > n:
        raise ParameterError(f"splits={splits} is larger than the number of samples ({n})")
    if input == "logits":
        from scipy.special import logsumexp  # imported when used: not on the start-up path of other commands

        log_p = arr - logsumexp(arr, axis=1, keepdims=True)
    else:
        if (arr < 0).any() or not np.allclose(arr.sum(1), 1.0, atol=1e-4):
            raise DataError("probs: rows must be non-negative and sum to 1 (pass input='logits' for logits)")
        with np.errstate(divide="ignore"):
            log_p = np.log(arr / arr.sum(1, keepdims=True))
    p = np.exp(log_p)
    scores = np.empty(splits)
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        p_i, log_p_i = p[lo:hi], log_p[lo:hi]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_marginal = np.log(p_i.mean(axis=0))
            # 0 * log 0 = 0: terms with p(y|x) = 0 contribute nothing
            terms = np.where(p_i > 0, p_i * (log_p_i - log_marginal), 0.0)
        scores[i] = np.exp(terms.sum(axis=1).mean())
    return MetricResult(
        "is",
        {"value": float(scores.mean()), "std": float(scores.std())},
        {"splits": splits, "input": input},
        n_real=None,
        n_fake=n,
    )


class InceptionScore(Metric):
    """Inception Score of one sample's class logits (higher is better)."""

    name = "is"
    takes = "logits"
    higher_is_better = True
    outputs = (Output("value", True, (1.0, math.inf), "IS", spread="std"), Output("std", None, (0.0, math.inf)))
    streaming = "logits"
    min_samples = 1
    options = (
        Option("splits", "int", 10, "Consecutive splits.", minimum=1),
        Option(
            "input", "str", "logits", "What the rows are: class logits or probabilities.", choices=("logits", "probs")
        ),
    )

    def compute(self, logits: np.ndarray, **options: Any) -> MetricResult:
        return inception_score(logits, **options)
