"""P-precision and P-recall (Park and Kim 2023, "Probabilistic Precision and Recall Towards
Reliable Evaluation of Generative Models", ICCV 2023, arXiv:2309.01590).

Each real row ``x_i`` scores a generated row ``y_j`` with the probability that ``y_j`` lies in
the real support near ``x_i``:

.. math::

    P(y_j \\mid x_i) = \\max\\big(0,\\ 1 - \\lVert x_i - y_j \\rVert / R_X\\big), \\qquad
    R_X = a \\cdot \\frac{1}{N} \\sum_i \\mathrm{NN}_k(x_i)

(one radius for all, ``a`` times the *mean* k-NN distance of the real rows, so single
outliers cannot inflate it), and the real rows together:

.. math::

    \\text{P-precision} = \\frac{1}{M} \\sum_j \\Big[1 - \\prod_i \\big(1 - P(y_j \\mid x_i)\\big)\\Big]

P-recall is the same with the roles swapped (``R_Y`` from the generated rows). Defaults
``a = 1.2``, ``k = 4`` as the reference code (kdst-team/Probablistic_precision_recall,
``metric/pp_pr.py``: ``compute_pprecision_precall``), where the k-th neighbour does not count
the row itself. Products are taken as sums of logarithms, a block of rows at a time, in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_positive, check_same_dim
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .prdc import knn_radii
from .realism import distance_blocks

__all__ = ["p_precision_recall", "PPrecisionRecall"]


def _coverage_probability(points: np.ndarray, centers: np.ndarray, radius: float) -> np.ndarray:
    """``1 - prod_i (1 - max(0, 1 - ||p - c_i|| / radius))`` for every row ``p`` of ``points``."""
    out = np.empty(points.shape[0])
    for lo, hi, d in distance_blocks(points, centers):
        np.sqrt(d, out=d)
        d /= radius
        np.minimum(d, 1.0, out=d)  # 1 - P = min(1, dist / R)
        with np.errstate(divide="ignore"):
            log_miss = np.log(d).sum(axis=1)
        out[lo:hi] = -np.expm1(log_miss)
    return out


def p_precision_recall(real: Any, fake: Any, *, a: float = 1.2, k: int = 4) -> MetricResult:
    """P-precision and P-recall of ``fake`` against ``real`` (Park and Kim 2023, arXiv:2309.01590).

    .. math:: \\text{P-precision} = \\frac{1}{M}\\sum_j \\Big[1 - \\prod_i \\min\\big(1, \\lVert x_i - y_j\\rVert / R_X\\big)\\Big]

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    a : float, default=1.2
        Scale of the common radius (``R = a * mean k-NN distance``).
    k : int, default=4
        Neighbour whose distance sets the radius; smaller than both set sizes.

    Returns
    -------
    MetricResult
        ``p_precision``, ``p_recall`` (both in [0, 1]), ``radius_real`` and ``radius_fake``.

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> r = p_precision_recall(real, np.array([[0.5], [10.0]]), a=1.0, k=1)  # R_X = 1
    >>> round(r.p_precision, 6), r.radius_real       # (1 - 0.5 * 0.5) / 2
    (0.375, 1.0)
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    a = check_positive(a, "a")
    k = check_int(k, "k", minimum=1)
    for name, arr in (("real", x), ("fake", y)):
        if k >= arr.shape[0]:
            raise ParameterError(f"k={k} must be smaller than the {name} set's size ({arr.shape[0]} samples)")
    r_x = a * float(knn_radii(x, k).mean())
    r_y = a * float(knn_radii(y, k).mean())
    if r_x == 0 or r_y == 0:
        raise ParameterError("p-precision: a set's k-NN distances are all 0 (repeated rows); use a larger k")
    values = {
        "p_precision": float(_coverage_probability(y, x, r_x).mean()),
        "p_recall": float(_coverage_probability(x, y, r_y).mean()),
        "radius_real": r_x,
        "radius_fake": r_y,
    }
    return MetricResult("p-precision-recall", values, {"a": a, "k": k}, n_real=x.shape[0], n_fake=y.shape[0])


class PPrecisionRecall(Metric):
    """Probabilistic precision and recall of FAKE against REAL (Park and Kim 2023; higher is better)."""

    name = "p-precision-recall"
    higher_is_better = True
    outputs = (Output("p_precision", True, (0.0, 1.0), "P-precision"), Output("p_recall", True, (0.0, 1.0), "P-recall"))
    resampling = "half"
    options = (
        Option(
            "a",
            "float",
            1.2,
            "Scale of the common radius (a * mean k-NN distance).",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        Option("k", "int", 4, "Neighbour whose mean distance sets the radius.", minimum=1),
    )

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return p_precision_recall(real, fake, **options)
