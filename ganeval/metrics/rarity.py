"""Rarity score of each generated sample (Han et al. 2022, arXiv:2206.08549).

For the real rows ``r_i`` with k-NN radii ``rho_i`` (distance to the k-th nearest *other*
real row) and a generated row ``g``:

.. math:: \\mathrm{rarity}(g) = \\min_{i:\\ \\lVert g - r_i \\rVert < \\rho_i} \\rho_i

the radius of the *smallest* real k-NN ball that holds ``g``: a sample in a sparse region of
the real data (only large balls reach it) is rare. A generated row inside no real ball is
outside the estimated real manifold; it has no rarity. The reference code
(hichoe95/Rarity-Score, ``MANIFOLD.rarity``, k = 3, strict ``<``) gives such rows the score 0
and ranks only the others; so do we: ``per_sample`` holds 0 for them, ``inside`` says which,
and the summaries (``value`` the mean, ``median``) are over the rows inside (0 when none is).

Rarity is neither better nor worse when higher: it is for finding the unusual samples
(``per_sample``), and for comparing how rare two models' in-manifold samples are.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .prdc import knn_radii
from .realism import distance_blocks

__all__ = ["rarity_scores", "rarity", "Rarity"]


def rarity_scores(real: Any, fake: Any, *, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The rarity score of every generated row, and whether it lies inside the real manifold.

    .. math:: \\mathrm{rarity}(g) = \\min \\{\\rho_i : \\lVert g - r_i \\rVert < \\rho_i\\}

    (Han et al. 2022, arXiv:2206.08549); 0 for rows inside no real k-NN ball.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    k : int, default=3
        Neighbourhood size of the real radii; smaller than n_real.

    Returns
    -------
    scores : ndarray of shape (n_fake,)
    inside : ndarray of bool, shape (n_fake,)

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> s, inside = rarity_scores(real, np.array([[0.2], [6.5], [30.0]]), k=1)
    >>> s.tolist(), inside.tolist()
    ([1.0, 8.0, 0.0], [True, True, False])
    """
    x = as_features(real, "real", min_samples=2)
    y = as_features(fake, "fake", min_samples=1)
    check_same_dim(x, y, "real", "fake")
    k = check_int(k, "k", minimum=1)
    if k >= x.shape[0]:
        raise ParameterError(f"k={k} must be smaller than the real set's size ({x.shape[0]} samples)")
    radii = knn_radii(x, k)
    r2 = radii**2
    scores = np.zeros(y.shape[0])
    inside = np.zeros(y.shape[0], dtype=bool)
    for lo, hi, d in distance_blocks(y, x):
        held = d < r2[None, :]
        cand = np.where(held, radii[None, :], np.inf).min(axis=1)
        inside[lo:hi] = held.any(axis=1)
        scores[lo:hi] = np.where(inside[lo:hi], cand, 0.0)
    return scores, inside


def rarity(real: Any, fake: Any, *, k: int = 3) -> MetricResult:
    """Rarity scores of the generated rows, summarised (see :func:`rarity_scores`).

    Returns
    -------
    MetricResult
        ``value`` (mean rarity of the rows inside the real manifold), ``median`` (of those),
        ``inside`` (their share), ``per_sample`` (every row's score, 0 outside, in input
        order) and ``rarest`` (indices of the inside rows, rarest first).

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> r = rarity(real, np.array([[0.2], [6.5], [30.0]]), k=1)
    >>> r.value, r.inside, r.rarest
    (4.5, 0.6666666666666666, [1, 0])
    """
    scores, inside = rarity_scores(real, fake, k=k)
    kept = scores[inside]
    if kept.size == 0:
        warnings.warn("rarity: no generated sample lies inside the real manifold; value set to 0", stacklevel=2)
    order = np.flatnonzero(inside)[np.argsort(-kept, kind="stable")]
    values = {
        "value": float(kept.mean()) if kept.size else 0.0,
        "median": float(np.median(kept)) if kept.size else 0.0,
        "inside": float(inside.mean()),
        "per_sample": scores.tolist(),
        "rarest": order.tolist(),
    }
    return MetricResult("rarity", values, {"k": int(k)}, n_real=np.asarray(real).shape[0], n_fake=scores.shape[0])


class Rarity(Metric):
    """Rarity score of each generated sample inside the real manifold (mean; per_sample has them all)."""

    name = "rarity"
    higher_is_better = None
    outputs = (
        Output("value", None, (0.0, np.inf), "Rarity (mean)"),
        Output("median", None, (0.0, np.inf)),
        Output("inside", True, (0.0, 1.0), "Inside"),
    )
    resampling = "half"
    options = (Option("k", "int", 3, "Nearest-neighbour count of the real radii.", minimum=1),)
    test_options = {"k": 3}

    def compute(self, real: np.ndarray, fake: np.ndarray, *, k: int = 3) -> MetricResult:
        return rarity(real, fake, k=k)
