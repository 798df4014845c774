"""TopP&R: topological precision and recall (Kim et al. 2023, "TopP&R: Robust Support Estimation
Approach for Evaluating Fidelity and Diversity in Generative Models", NeurIPS 2023,
arXiv:2306.08013).

Each set's support is estimated as the points where its kernel density estimate is
*significantly* positive, with a bootstrap confidence band; only real rows inside the real
support and generated rows inside the generated support count:

.. math::

    \\text{precision} = \\frac{\\#\\{y_j : \\hat p_Y(y_j) > c_Y,\\ \\hat p_X(y_j) > c_X\\}}{\\#\\{y_j : \\hat p_Y(y_j) > c_Y\\}}, \\qquad
    \\text{recall} = \\frac{\\#\\{x_i : \\hat p_X(x_i) > c_X,\\ \\hat p_Y(x_i) > c_Y\\}}{\\#\\{x_i : \\hat p_X(x_i) > c_X\\}}

with the cosine-kernel KDE ``p_X(z) ∝ sum_i cos(pi ||z - x_i|| / (2 h_X)) 1[||z - x_i|| <= h_X]``
and ``c_X`` the bootstrap band: ``q_{1-alpha}`` of ``max_i |p_X(x_i) - p_X^*(x_i)|`` over
``bootstraps`` resamples ``X^*`` of ``X`` with replacement (numpy's linear quantile). The
KDE's constant factor ``(pi / (4h))^d / n`` is left out: every comparison is between a
density and a band of the same set, so it cancels. ``top_f1`` is their harmonic mean (0 when
either is below 1e-4).

As the reference package (``top-pr`` on PyPI, ``top_pr.compute_top_pr``): rows wider than 32
are first projected to 32 dimensions by a fixed random matrix (entries normal with variance
``2 / (d + 32)``, drawn by ``torch.Generator`` seeded 99 in float32, as its Xavier-normal
``Linear``); the bandwidth of a set of ``n`` rows in ``d`` dimensions is the
``(floor(0.5 (n - 5d)))``-th smallest (1-based) of the values ``v_i``, ``i < n - 5d``, where
``v_i`` is the ``5d``-th smallest distance from row ``i`` to the rows *after* it; 10
bootstraps, ``alpha = 0.1``. Ours draws the bootstraps from ``seed`` (the reference from the
global NumPy RNG), and uses that bandwidth rule in every dimension (the reference's path
for d <= 3, a grid and persistent homology, does not run as released). Distances in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim
from ..errors import DataError, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .realism import distance_blocks

__all__ = ["top_pr", "random_projection", "balloon_bandwidth", "TopPR"]

#: the reference package's projection seed
PROJECTION_SEED = 99


def random_projection(d: int, out_dim: int) -> np.ndarray:
    """The fixed ``(d, out_dim)`` projection matrix (float32 draws, returned as float64).

    Examples
    --------
    >>> random_projection(40, 32).shape
    (40, 32)
    """
    import torch

    g = torch.Generator().manual_seed(PROJECTION_SEED)
    w = torch.empty(out_dim, d, dtype=torch.float32).normal_(0.0, math.sqrt(2.0 / (d + out_dim)), generator=g)
    return w.numpy().astype(np.float64).T


def balloon_bandwidth(x: np.ndarray) -> float:
    """The reference's "balloon" bandwidth of rows ``x`` (see the module notes; trusted input).

    Examples
    --------
    >>> balloon_bandwidth(np.arange(12.0)[:, None])   # k = 5: v_i = 5 for i < 7; the 3rd smallest
    5.0
    """
    n, d = x.shape
    k = 5 * d
    rows = n - k
    v = np.empty(rows)
    for lo, hi, sq in distance_blocks(x[:rows], x):
        cols = np.arange(n)[None, :]
        sq[cols <= np.arange(lo, hi)[:, None]] = np.inf  # only the rows after
        v[lo:hi] = np.sqrt(np.partition(sq, k - 1, axis=1)[:, k - 1])
    v.sort()
    return float(v[int(rows * 0.5) - 1])


def _kernel_sums(positions: np.ndarray, data: np.ndarray, h: float, weights: np.ndarray | None = None) -> np.ndarray:
    """``sum_i w_i cos(pi ||z - x_i|| / (2h)) 1[||z - x_i|| <= h]`` for every row z of ``positions``
    (``weights``: (n_data, B) for B weightings at once)."""
    cols = 1 if weights is None else weights.shape[1]
    out = np.empty((positions.shape[0], cols))
    for lo, hi, sq in distance_blocks(positions, data):
        inside = sq <= h * h
        np.sqrt(sq, out=sq)
        kern = np.where(inside, np.cos((math.pi / 2.0) * sq / h), 0.0)
        out[lo:hi] = kern.sum(axis=1, keepdims=True) if weights is None else kern @ weights
    return out[:, 0] if weights is None else out


def _band(x: np.ndarray, h: float, alpha: float, bootstraps: int, rng: np.random.Generator) -> tuple[float, np.ndarray]:
    n = x.shape[0]
    counts = np.stack([np.bincount(rng.integers(0, n, size=n), minlength=n) for _ in range(bootstraps)], axis=1)
    p = _kernel_sums(x, x, h, np.concatenate([np.ones((n, 1)), counts.astype(np.float64)], axis=1))
    theta = math.sqrt(n) * np.abs(p[:, :1] - p[:, 1:]).max(axis=0)
    return float(np.quantile(theta, 1.0 - alpha)) / math.sqrt(n), p[:, 0]


def top_pr(
    real: Any, fake: Any, *, alpha: float = 0.1, bootstraps: int = 10, projection_dim: int = 32, seed: int = 0
) -> MetricResult:
    """Topological precision and recall of ``fake`` against ``real`` (Kim et al. 2023, arXiv:2306.08013).

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    alpha : float, default=0.1
        Significance level of the confidence band.
    bootstraps : int, default=10
        Bootstrap resamples for the band.
    projection_dim : int, default=32
        Rows wider than this are projected to it first by the fixed random matrix (0: never).
    seed : int, default=0
        Seed of the bootstrap draws.

    Returns
    -------
    MetricResult
        ``precision`` (fidelity), ``recall`` (diversity), ``top_f1``, the bandwidths
        ``h_real``, ``h_fake`` and the counts of rows in each support, ``n_real_support``,
        ``n_fake_support``.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> x = g.normal(size=(300, 4))
    >>> r = top_pr(x, g.normal(size=(300, 4)))
    >>> r.precision > 0.8 and r.recall > 0.8, top_pr(x, g.normal(size=(300, 4)) + 8).precision
    (True, 0.0)
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ParameterError(f"alpha must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be a number in (0, 1), got {alpha!r}")
    bootstraps = check_int(bootstraps, "bootstraps", minimum=1)
    projection_dim = check_int(projection_dim, "projection_dim", minimum=0)
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    if projection_dim and x.shape[1] > projection_dim:
        w = random_projection(x.shape[1], projection_dim)
        x, y = x @ w, y @ w
    d = x.shape[1]
    for name, arr in (("real", x), ("fake", y)):
        if arr.shape[0] < 5 * d + 2:
            raise DataError(
                f"top-pr: the {name} set has {arr.shape[0]} rows; the bandwidth rule needs more than "
                f"5 x {d} + 1 rows in {d} dimensions"
            )
    rng = np.random.default_rng(seed)
    h_x, h_y = balloon_bandwidth(x), balloon_bandwidth(y)
    if h_x <= 0 or h_y <= 0:
        raise DataError("top-pr: a bandwidth is 0 (many repeated rows)")
    c_x, p_xx = _band(x, h_x, alpha, bootstraps, rng)
    c_y, p_yy = _band(y, h_y, alpha, bootstraps, rng)
    in_x, in_y = p_xx > c_x, p_yy > c_y
    p_yx = _kernel_sums(x, y, h_y)  # the fake density at the real rows
    p_xy = _kernel_sums(y, x, h_x)  # the real density at the fake rows
    n_x, n_y = int(in_x.sum()), int(in_y.sum())
    if n_x == 0 or n_y == 0:
        raise DataError(f"top-pr: no {'real' if n_x == 0 else 'fake'} row lies in its own estimated support")
    precision = int((in_y & (p_xy > c_x)).sum()) / n_y
    recall = int((in_x & (p_yx > c_y)).sum()) / n_x
    f1 = 2.0 / (1.0 / precision + 1.0 / recall) if precision > 1e-4 and recall > 1e-4 else 0.0
    values = {
        "precision": precision,
        "recall": recall,
        "top_f1": f1,
        "h_real": h_x,
        "h_fake": h_y,
        "n_real_support": n_x,
        "n_fake_support": n_y,
    }
    return MetricResult(
        "top-pr",
        values,
        {"alpha": alpha, "bootstraps": bootstraps, "projection_dim": projection_dim, "seed": seed, "kernel": "cosine"},
        n_real=x.shape[0],
        n_fake=y.shape[0],
    )


class TopPR(Metric):
    """TopP&R: precision and recall on KDE supports with bootstrap confidence bands (higher is better)."""

    name = "top-pr"
    higher_is_better = True
    outputs = (
        Output("precision", True, (0.0, 1.0), "Top precision"),
        Output("recall", True, (0.0, 1.0), "Top recall"),
        Output("top_f1", True, (0.0, 1.0), "Top F1"),
    )
    seeded = True
    resampling = "half"
    options = (
        Option(
            "alpha",
            "float",
            0.1,
            "Significance level of the confidence band.",
            minimum=0.0,
            maximum=1.0,
            exclusive_minimum=True,
        ),
        Option("bootstraps", "int", 10, "Bootstrap resamples for the band.", minimum=1),
        Option("projection_dim", "int", 32, "Project wider rows to this many dimensions (0: never).", minimum=0),
    )
    min_samples = 2
    order_invariant = False  # the bandwidth rule looks at the rows after each row, and the bootstraps at positions

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return top_pr(real, fake, **options)
