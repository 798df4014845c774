"""Precision, recall, density and coverage from k-nearest-neighbour balls.

For a set S and k, the radius of a point s in S is its distance to its k-th nearest *other*
point of S (Euclidean). With real rows r_i (radii rho_i) and fake rows f_j (radii tau_j):

- precision = mean_j 1[exists i: ||f_j - r_i|| < rho_i]   (Kynkäänniemi et al. 2019, arXiv:1904.06991)
- recall    = mean_i 1[exists j: ||r_i - f_j|| < tau_j]
- density   = (1/k) mean_j sum_i 1[||f_j - r_i|| < rho_i]   (Naeem et al. 2020, arXiv:2002.09797)
- coverage  = mean_i 1[min_j ||r_i - f_j|| < rho_i]

Exact: every distance is computed (no approximate search), in float64, a block of rows at a
time, so memory stays O(block x n) and no N x N matrix is ever held.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim
from ..errors import ParameterError
from ..results import MetricResult

__all__ = ["prdc", "knn_radii"]

_BLOCK_BYTES = 64 * 2**20  # memory for one block of distances
_SQUARE_BLOCK = 1024  # rows per block in the k-NN radius pass


def _block_rows(n_cols: int) -> int:
    return max(1, min(4096, _BLOCK_BYTES // (8 * max(n_cols, 1))))


def _sq_dists(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    d = a @ b.T
    d *= -2.0
    d += a_sq[:, None]
    d += b_sq[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def _keep_smallest(best: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Row-wise: the ``best.shape[1]`` smallest of ``best`` and ``new`` together (unsorted)."""
    k = best.shape[1]
    both = np.concatenate([best, new], axis=1)
    return np.partition(both, k - 1, axis=1)[:, :k]


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest other row (trusted input, k < n).

    Distances are computed block pair by block pair over the upper triangle only (the
    distance matrix is symmetric), each block serving its rows and, transposed, its
    columns: half the arithmetic of the full matrix, O(block^2) memory.
    """
    n = x.shape[0]
    sq = np.einsum("ij,ij->i", x, x)
    best = np.full((n, k), np.inf)  # k smallest squared distances per row so far
    step = _SQUARE_BLOCK
    starts = range(0, n, step)
    for lo_i in starts:
        hi_i = min(n, lo_i + step)
        for lo_j in range(lo_i, n, step):
            hi_j = min(n, lo_j + step)
            d = _sq_dists(x[lo_i:hi_i], sq[lo_i:hi_i], x[lo_j:hi_j], sq[lo_j:hi_j])
            if lo_i == lo_j:
                np.fill_diagonal(d, np.inf)  # a point is not its own neighbour
            best[lo_i:hi_i] = _keep_smallest(best[lo_i:hi_i], d)
            if lo_j != lo_i:
                best[lo_j:hi_j] = _keep_smallest(best[lo_j:hi_j], np.ascontiguousarray(d.T))
    return np.sqrt(best.max(axis=1))


def prdc(real: Any, fake: Any, *, k: int = 5) -> MetricResult:
    """Precision, recall, density and coverage of ``fake`` with respect to ``real``.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    k : int, default=5
        Neighbourhood size; must be smaller than both set sizes.

    Returns
    -------
    MetricResult
        ``precision``, ``recall``, ``density``, ``coverage``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> r = prdc(x, x + 100.0, k=3)
    >>> r.precision, r.recall, r.density, r.coverage
    (0.0, 0.0, 0.0, 0.0)
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    k = check_int(k, "k", minimum=1)
    for name, arr in (("real", x), ("fake", y)):
        if k >= arr.shape[0]:
            raise ParameterError(f"k={k} must be smaller than the {name} set's size ({arr.shape[0]} samples)")
    real_r2 = knn_radii(x, k) ** 2
    fake_r2 = knn_radii(y, k) ** 2
    n_real, n_fake = x.shape[0], y.shape[0]
    x_sq = np.einsum("ij,ij->i", x, x)
    y_sq = np.einsum("ij,ij->i", y, y)

    inside_count = np.zeros(n_fake)          # density: number of real balls holding fake j
    recall_hit = np.zeros(n_real, dtype=bool)  # real i inside some fake ball
    covered = np.zeros(n_real, dtype=bool)     # nearest fake to real i inside real ball i
    step = _block_rows(n_fake)
    for lo in range(0, n_real, step):
        hi = min(n_real, lo + step)
        d = _sq_dists(x[lo:hi], x_sq[lo:hi], y, y_sq)  # (block, n_fake)
        in_real_ball = d < real_r2[lo:hi, None]
        inside_count += in_real_ball.sum(axis=0)
        covered[lo:hi] = in_real_ball.any(axis=1)
        recall_hit[lo:hi] = (d < fake_r2[None, :]).any(axis=1)
    values = {
        "precision": float((inside_count > 0).mean()),
        "recall": float(recall_hit.mean()),
        "density": float(inside_count.mean() / k),
        "coverage": float(covered.mean()),
    }
    return MetricResult("prdc", values, {"k": k, "distance": "euclidean"},
                        n_real=n_real, n_fake=n_fake)
