"""Realism score of each generated sample (Kynkäänniemi et al. 2019, arXiv:1904.06991, sec. 5).

For a generated row ``g`` and the real rows ``r_i`` with k-NN radii ``rho_i`` (distance to
the k-th nearest *other* real row, as in :mod:`ganeval.metrics.prdc`):

.. math:: R(g) = \\max_{i \\in K} \\frac{\\rho_i}{\\lVert g - r_i \\rVert}

where ``K`` keeps the real rows whose radius is at most the ``prune_percentile`` percentile
of all radii (the paper and its reference code drop the half with the largest radii, so that
outliers of the real set do not make everything look realistic). ``R(g) >= 1`` exactly when
``g`` lies inside one of the kept k-NN balls; larger means "deeper inside the real manifold".

The reference code (``ManifoldEstimator.evaluate`` in kynkaat/improved-precision-and-recall-metric,
``clamp_to_percentile=50``, ``eps=1e-5``) computes the ratio of *squared* distances with a
guard: ``max_i rho_i^2 / (||g - r_i||^2 + 1e-5)``. Ours is its square root,

.. math:: R(g) = \\max_{i \\in K} \\sqrt{\\rho_i^2 / (\\lVert g - r_i \\rVert^2 + \\varepsilon)},
          \\qquad \\varepsilon = 10^{-5},

which is the paper's ratio of distances wherever ``||g - r_i||^2 >> 1e-5`` and stays finite
for exact copies. ``squared=True`` gives the reference code's number itself.

Exact Euclidean distances in float64, a block of generated rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._validation import as_features, check_bool, check_int, check_same_dim
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .prdc import knn_radii

__all__ = ["realism_scores", "realism", "distance_blocks", "Realism"]

_BLOCK_BYTES = 64 * 2**20
#: the reference code's guard, added to squared distances
REALISM_EPS = 1e-5


def distance_blocks(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(lo, hi, D)`` for consecutive blocks of rows of ``a``: ``D[i, j]`` is the squared
    Euclidean distance between ``a[lo + i]`` and ``b[j]`` (float64, clipped at 0; trusted input).

    Examples
    --------
    >>> [d.tolist() for _, _, d in distance_blocks(np.array([[0.0], [2.0]]), np.array([[1.0]]))]
    [[[1.0], [1.0]]]
    """
    a_sq = np.einsum("ij,ij->i", a, a)
    b_sq = np.einsum("ij,ij->i", b, b)
    step = max(1, min(4096, _BLOCK_BYTES // (8 * max(b.shape[0], 1))))
    for lo in range(0, a.shape[0], step):
        hi = min(a.shape[0], lo + step)
        d = a[lo:hi] @ b.T
        d *= -2.0
        d += a_sq[lo:hi, None]
        d += b_sq[None, :]
        np.maximum(d, 0.0, out=d)
        yield lo, hi, d


def _check(real: Any, fake: Any, k: Any) -> tuple[np.ndarray, np.ndarray, int]:
    x = as_features(real, "real", min_samples=2)
    y = as_features(fake, "fake", min_samples=1)
    check_same_dim(x, y, "real", "fake")
    k = check_int(k, "k", minimum=1)
    if k >= x.shape[0]:
        raise ParameterError(f"k={k} must be smaller than the real set's size ({x.shape[0]} samples)")
    return x, y, k


def realism_scores(
    real: Any, fake: Any, *, k: int = 3, prune_percentile: float = 50.0, squared: bool = False
) -> np.ndarray:
    """The realism score of every generated row (Kynkäänniemi et al. 2019, arXiv:1904.06991).

    .. math:: R(g) = \\max_{i:\\ \\rho_i \\le q} \\sqrt{\\rho_i^2 / (\\lVert g - r_i \\rVert^2 + 10^{-5})}

    with ``rho_i`` the distance from real row ``i`` to its k-th nearest other real row and
    ``q`` the ``prune_percentile`` percentile of the radii (numpy's linear interpolation).

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    k : int, default=3
        Neighbourhood size of the real radii (the paper's k = 3); smaller than n_real.
    prune_percentile : float, default=50
        Real rows whose radius is above this percentile are left out (100: none).
    squared : bool, default=False
        Return the ratio of squared distances, as the reference code does (the square of
        the default).

    Returns
    -------
    ndarray of shape (n_fake,)

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> realism_scores(real, np.array([[0.5], [10.0]]), k=1, prune_percentile=100).round(4).tolist()
    [2.0, 0.1429]
    """
    x, y, k = _check(real, fake, k)
    pct = _check_percentile(prune_percentile)
    squared = check_bool(squared, "squared")
    r2 = knn_radii(x, k) ** 2
    keep = r2 <= np.percentile(r2, pct)
    x, r2 = x[keep], r2[keep]
    out = np.empty(y.shape[0])
    for lo, hi, d in distance_blocks(y, x):
        d += REALISM_EPS
        np.divide(r2[None, :], d, out=d)
        out[lo:hi] = d.max(axis=1)
    return out if squared else np.sqrt(out)


def _check_percentile(p: Any) -> float:
    try:
        v = float(p)
    except (TypeError, ValueError):
        raise ParameterError(f"prune_percentile must be a number in (0, 100], got {p!r}") from None
    if not 0.0 < v <= 100.0:
        raise ParameterError(f"prune_percentile must be a number in (0, 100], got {p!r}")
    return v


def realism(real: Any, fake: Any, *, k: int = 3, prune_percentile: float = 50.0, squared: bool = False) -> MetricResult:
    """Realism scores of the generated rows, summarised (see :func:`realism_scores`).

    Returns
    -------
    MetricResult
        ``value`` (median score), ``mean``, ``inside`` (share with score >= 1: inside a kept
        real k-NN ball), and ``per_sample`` (the score of every generated row, in input order,
        so a report can show the most and least realistic samples).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> x = g.normal(size=(200, 2))
    >>> r = realism(x, g.normal(size=(50, 2)))
    >>> r.value > 1.0, realism(x, x[:5] + 50.0).value < 0.1
    (True, True)
    """
    scores = realism_scores(real, fake, k=k, prune_percentile=prune_percentile, squared=squared)
    n_real = np.asarray(real).shape[0]
    values = {
        "value": float(np.median(scores)),
        "mean": float(scores.mean()),
        "inside": float((scores >= 1.0).mean()),
        "per_sample": scores.tolist(),
    }
    return MetricResult(
        "realism",
        values,
        {"k": int(k), "prune_percentile": float(prune_percentile), "squared": bool(squared), "eps": REALISM_EPS},
        n_real=n_real,
        n_fake=scores.shape[0],
    )


class Realism(Metric):
    """Realism score of each generated sample (median over FAKE; per_sample has them all)."""

    name = "realism"
    higher_is_better = True
    outputs = (
        Output("value", True, (0.0, np.inf), "Realism (median)"),
        Output("mean", True, (0.0, np.inf)),
        Output("inside", True, (0.0, 1.0), "Inside"),
    )
    resampling = "half"
    options = (
        Option("k", "int", 3, "Nearest-neighbour count of the real radii.", minimum=1),
        Option(
            "prune_percentile",
            "float",
            50.0,
            "Real radii above this percentile are left out.",
            minimum=0.0,
            maximum=100.0,
            exclusive_minimum=True,
        ),
        Option("squared", "bool", False, "Ratio of squared distances (the reference code's number)."),
    )
    test_options = {"k": 3}

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return realism(real, fake, **options)
