"""Wasserstein distances between point clouds: exact (POT), per feature, and sliced.

.. math::

    W_p(X, Y) = \\Big(\\min_{\\pi \\in \\Pi(a, b)} \\sum_{ij} \\lVert x_i - y_j \\rVert^p \\pi_{ij}\\Big)^{1/p}

with uniform weights ``a = 1/n``, ``b = 1/m`` and the Euclidean ground distance (cost matrix
from :func:`scipy.spatial.distance.cdist`, exact for coincident points); solved as a
linear programme by POT's network simplex (``ot.emd2``; Bonneel et al. 2011). W2 is the
square root of the optimal squared-Euclidean cost. A solver that stops before optimality
(``numItermax`` reached) raises an error, or, with ``on_nonconvergence="flag"``, returns
the value with ``converged = False`` and a warning: never silently.

The exact solver holds the n x m cost matrix and transport plan in memory (about 16 n m
bytes plus temporaries); above the memory limit it refuses with an error that suggests
``sliced=True`` or subsampling.

In 1-D the optimal plan is the monotone rearrangement, so the per-feature distances and the
sliced distance (Rabin et al. 2011; Bonneel et al. 2015) come from sorted samples:

.. math:: SW_p(X, Y) = \\Big(\\frac{1}{L}\\sum_{l=1}^{L} W_p^p(\\theta_l^\\top X, \\theta_l^\\top Y)\\Big)^{1/p}

with ``L`` directions ``theta_l`` drawn uniformly on the sphere from a seeded generator.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import (
    as_features,
    available_memory,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    check_same_dim,
    resolve_seed,
    show,
)
from ..errors import DataError, DegenerateWarning, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = [
    "wasserstein_distance",
    "wasserstein_1d",
    "sliced_wasserstein",
    "random_directions",
    "exact_wasserstein",
    "ConvergenceError",
    "Wasserstein",
]

_BYTES_PER_CELL = 24  # cost matrix + transport plan + one temporary, float64
_MAX_SLICED_WORK = 1e11  # projections x rows x (features + log rows): beyond it, refused as absurd


class ConvergenceError(DataError):
    """The exact OT solver stopped before reaching the optimum."""


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:.1f} {unit}" if unit != "bytes" else f"{int(n_bytes)} bytes"
        n_bytes /= 1024
    return f"{n_bytes:.1f} TiB"  # pragma: no cover


def wasserstein_1d(x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """Exact ``W_p`` between the columns of ``x`` (n, k) and ``y`` (m, k), uniform weights.

    The quantile functions are step functions that change at ``i/n`` and ``j/m``; on each
    piece of the merged grid both are constant, so ``W_p^p = sum (t_k - t_{k-1})
    |x_(i_k) - y_(j_k)|^p`` exactly (trusted input; returns shape (k,)).

    Examples
    --------
    >>> import numpy as np
    >>> wasserstein_1d(np.array([[0.0], [1.0]]), np.array([[3.0]]), 1.0).tolist()
    [2.5]
    """
    n, m = x.shape[0], y.shape[0]
    xs = np.sort(x, axis=0)
    ys = np.sort(y, axis=0)
    if n == m:
        diff = np.abs(xs - ys)
        return diff.max(axis=0) if math.isinf(p) else np.mean(diff**p, axis=0) ** (1.0 / p)
    grid = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    grid[-1] = 1.0
    lower = np.concatenate([[0.0], grid[:-1]])
    mid = 0.5 * (lower + grid)
    ix = np.minimum(np.floor(mid * n).astype(np.int64), n - 1)
    iy = np.minimum(np.floor(mid * m).astype(np.int64), m - 1)
    diff = np.abs(xs[ix] - ys[iy])
    if math.isinf(p):
        return diff.max(axis=0)
    w = (grid - lower)[:, None]
    return (w * diff**p).sum(axis=0) ** (1.0 / p)


def random_directions(dim: int, projections: int, seed: Any = 0) -> np.ndarray:
    """``projections`` unit vectors in R^dim, uniform on the sphere, shape (dim, projections).

    Examples
    --------
    >>> d = random_directions(3, 4, seed=0)
    >>> d.shape, bool(np.allclose((d**2).sum(0), 1.0))
    ((3, 4), True)
    """
    rng = resolve_seed(seed)
    theta = rng.standard_normal((dim, projections))
    return theta / np.linalg.norm(theta, axis=0, keepdims=True)


def sliced_wasserstein(x: np.ndarray, y: np.ndarray, p: float, directions: np.ndarray) -> float:
    """``(mean_l W_p^p(theta_l . X, theta_l . Y))^(1/p)`` for the given unit ``directions``
    of shape (d, L) (trusted input). The same directions give ``ot.sliced_wasserstein_distance``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((3, 2)); y = x + [1.0, 0.0]
    >>> sliced_wasserstein(x, y, 1.0, np.array([[1.0], [0.0]]))
    1.0
    """
    out = np.empty(directions.shape[1])
    step = max(1, (1 << 24) // max(x.shape[0] + y.shape[0], 1))
    for start in range(0, directions.shape[1], step):
        block = directions[:, start : start + step]
        out[start : start + step] = wasserstein_1d(x @ block, y @ block, p)
    return float(np.mean(out**p) ** (1.0 / p))


def exact_wasserstein(
    x: np.ndarray,
    y: np.ndarray,
    p: float,
    *,
    max_iter: int = 10_000_000,
    on_nonconvergence: str = "error",
    max_memory: int | None = None,
) -> tuple[float, bool]:
    """Exact ``W_p`` by POT's network simplex (trusted input). Returns ``(value, converged)``.

    Raises :class:`DataError` when the problem would not fit in memory and
    :class:`ConvergenceError` when the solver stops early and ``on_nonconvergence="error"``.

    Examples
    --------
    >>> import numpy as np
    >>> exact_wasserstein(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), 1.0)
    (5.0, True)
    """
    import ot

    n, m = x.shape[0], y.shape[0]
    needed = _BYTES_PER_CELL * n * m
    limit = int(0.8 * available_memory()) if max_memory is None else int(max_memory)
    if needed > limit:
        raise DataError(
            f"exact optimal transport between {n} and {m} points needs about {_size(needed)} "
            f"(cost matrix and plan), more than the {_size(limit)} allowed; use --sliced or subsample the inputs"
        )
    # scipy's cdist sums squared coordinate differences: exact zeros on the diagonal of
    # d(x, x), unlike the |x|^2 + |y|^2 - 2 x.y expansion (ot.dist), which leaves ~1e-8
    from scipy.spatial.distance import cdist

    if p == 2.0:
        cost = cdist(x, y, metric="sqeuclidean")
    else:
        cost = cdist(x, y, metric="euclidean")
        if p != 1.0:
            cost **= p
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    with warnings.catch_warnings():
        # the result code is checked below; POT's own warning would only repeat it
        warnings.filterwarnings("ignore", message="numItermax reached")
        total, log = ot.emd2(a, b, cost, numItermax=int(max_iter), log=True)
    code = int(log["result_code"])
    converged = code == 1
    if not converged:
        why = log.get("warning") or f"result code {code}"
        msg = f"exact optimal transport did not reach the optimum ({why}); max_iter={max_iter}"
        if on_nonconvergence == "error":
            raise ConvergenceError(msg + "; raise max_iter (--max-iter) or use --sliced")
        warnings.warn(msg + "; the value is flagged converged=False", DegenerateWarning, stacklevel=3)
    return float(max(total, 0.0)) ** (1.0 / p), converged


def _check_sliced_cost(projections: int, n_rows: int, d: int) -> None:
    """Refuse a sliced distance whose memory or work (projections x rows x (d + log rows))
    is out of bounds, naming ``projections``."""
    check_memory(
        8.0 * d * projections + 8.0 * 3 * n_rows * min(projections, max(1, (1 << 24) // n_rows)),
        f"projections (--projections) {projections}",
    )
    work = float(projections) * n_rows * (d + math.log2(n_rows + 1))
    if work > _MAX_SLICED_WORK:
        raise ParameterError(
            f"projections (--projections) {projections}: about {work:.2g} operations on "
            f"{n_rows} rows of {d} features (too much work; the bound is {_MAX_SLICED_WORK:.0e}); "
            f"use fewer projections (500 is the default)"
        )


def wasserstein_distance(
    real: Any,
    fake: Any,
    *,
    p: float = 1,
    sliced: bool = False,
    projections: int = 500,
    seed: Any = 0,
    per_feature: bool = False,
    max_iter: int = 10_000_000,
    on_nonconvergence: str = "error",
    max_memory: int | None = None,
    columns: list[str] | None = None,
) -> MetricResult:
    """Wasserstein distance ``W_p`` between two point clouds (Euclidean ground distance).

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    p : float, default=1
        Order, p >= 1 (1 and 2 are the usual ones).
    sliced : bool, default=False
        Sliced Wasserstein over ``projections`` random directions instead of exact OT.
    projections : int, default=500
    seed : int, default=0
        Seed of the sliced directions.
    per_feature : bool, default=False
        Also report the exact 1-D ``W_p`` of each feature (``per_feature``).
    max_iter : int, default=10,000,000
        POT's ``numItermax`` for the exact solver.
    on_nonconvergence : {"error", "flag"}, default="error"
        What to do when the solver stops before the optimum.
    max_memory : int, optional
        Bytes the exact solver may use (default: 80% of the memory available now).
    columns : list of str, optional
        Feature names, recorded in the settings.

    Returns
    -------
    MetricResult
        ``value`` (lower is better), ``converged`` for the exact solver, and
        ``per_feature`` when asked.

    References
    ----------
    Villani, "Optimal Transport: Old and New" (2009); Arjovsky et al., "Wasserstein GAN",
    arXiv:1701.07875; Flamary et al., "POT: Python Optimal Transport", JMLR 22 (2021);
    Bonneel et al., "Sliced and Radon Wasserstein barycenters of measures" (2015).

    Examples
    --------
    >>> import numpy as np
    >>> wasserstein_distance([[0.0]], [[-2.5]]).value    # W(delta_0, delta_theta) = |theta|
    2.5
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> wasserstein_distance(x, x + [3.0, 0.0, 4.0], p=2).value   # a translation by 5
    5.0
    """
    p = check_positive(p, "p")
    if p < 1:
        raise ParameterError(f"p must be >= 1 for a Wasserstein distance, got {p!r}")
    check_choice(on_nonconvergence, "on_nonconvergence", ("error", "flag"))
    x = as_features(real, "real", min_samples=1, max_abs=None)
    y = as_features(fake, "fake", min_samples=1, max_abs=None)
    check_same_dim(x, y, "real", "fake")
    # W_p(sX, sY) = s W_p(X, Y): computed on data scaled to |value| <= 1 so huge finite
    # values cannot overflow the cost matrix, then scaled back
    # (only when needed, and by a power of two: exact)
    big = float(max(np.abs(x).max(), np.abs(y).max()))
    scale = 2.0 ** math.frexp(big)[1] if big > 1e100 else 1.0
    x, y = x / scale, y / scale
    settings: dict[str, Any] = {"p": p, "ground_metric": "euclidean", "sliced": bool(sliced)}
    values: dict[str, Any] = {}
    if sliced:
        projections = check_int(projections, "projections (--projections)", minimum=1)
        _check_sliced_cost(projections, x.shape[0] + y.shape[0], x.shape[1])
        directions = random_directions(x.shape[1], projections, seed)
        values["value"] = sliced_wasserstein(x, y, p, directions)
        settings.update(projections=projections, seed=seed if isinstance(seed, int) else None)
    else:
        max_iter = check_int(max_iter, "max_iter", minimum=1)
        value, converged = exact_wasserstein(
            x, y, p, max_iter=max_iter, on_nonconvergence=on_nonconvergence, max_memory=max_memory
        )
        values.update(value=value, converged=converged)
        settings.update(max_iter=max_iter, solver="ot.emd2")
    if per_feature:
        values["per_feature"] = wasserstein_1d(x, y, p).tolist()
    with np.errstate(over="ignore"):
        values["value"] = float(values["value"] * scale)
        if per_feature:
            values["per_feature"] = [float(v * scale) for v in values["per_feature"]]
    if not np.isfinite(values["value"]) or not np.isfinite(values.get("per_feature", [0.0])).all():
        raise DataError(f"wasserstein: the distance overflows float64 (values up to {show(scale)}); rescale the data")
    if columns is not None:
        settings["columns"] = list(columns)
    return MetricResult("wasserstein", values, settings, n_real=x.shape[0], n_fake=y.shape[0])


class Wasserstein(Metric):
    """Wasserstein distance W_p between two point clouds (exact optimal transport, or sliced)."""

    name = "wasserstein"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "Wasserstein"),)
    seeded = True
    uses_columns = True
    options = (
        Option("p", "float", 1.0, "Order p of W_p (>= 1).", minimum=1.0),
        Option("sliced", "bool", False, "Sliced Wasserstein: mean over random 1-D projections (large samples)."),
        Option("projections", "int", 500, "Random directions of the sliced distance.", minimum=1),
        Option("per_feature", "bool", False, "Also give the 1-D distance of each feature."),
        Option("max_iter", "int", 10_000_000, "Iteration limit of the exact solver.", minimum=1),
        Option(
            "on_nonconvergence",
            "str",
            "error",
            "What to do when the exact solver does not converge.",
            choices=("error", "flag"),
        ),
        Option("max_memory", "int", None, "Bytes the exact cost matrix may take.", minimum=1),
    )
    identity, symmetric = 0.0, True

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return wasserstein_distance(real, fake, **options)
