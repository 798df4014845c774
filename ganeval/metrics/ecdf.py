"""L^p distance between empirical cumulative distribution functions.

Per feature (González-Prieto et al., the Smirnov-transform GAN papers):

.. math:: d_p(X, Y) = \\Big(\\int_{\\mathbb{R}} \\lvert F_X(t) - F_Y(t)\\rvert^p \\, dt\\Big)^{1/p}

computed exactly: both ECDFs are step functions that only change at the pooled sample
points ``z_1 < ... < z_K``, so the integral is ``sum_k |F_X(z_k) - F_Y(z_k)|^p (z_{k+1} - z_k)``
(one sort of the pooled sample per feature, all features at once).
Large ``p`` is computed stably: the largest difference is factored out before the power
(``0.14 ** 500`` underflows to 0), and widths are measured in units of the largest
``|value|`` of the column, so values near the float64 limit do not overflow.
``p = inf`` gives ``sup_t |F_X - F_Y|``, the Kolmogorov-Smirnov statistic; ``p = 1`` is the 1-D
Wasserstein distance; ``sqrt(2) d_2`` is the energy distance (Székely & Rizzo).

Multivariate (``multivariate=True``): the joint ECDFs ``F(z) = #{i : x_i <= z componentwise} / n``
compared on the pooled sample points, ``(mean_z |F_X(z) - F_Y(z)|^p)^(1/p)`` (``max`` for
``p = inf``). The dominance counts are computed on per-feature ranks stored as small
integers, in chunks of query points, so n = 20,000, d = 20 takes seconds, with memory
bounded by the chunk size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_positive, check_same_dim
from ..errors import DataError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["ecdf_distance", "ecdf_lp_1d", "ecdf_lp_columns", "joint_ecdf_distance", "ECDF"]

_CHUNK_CELLS = 1 << 24  # query-chunk x rows comparisons held at once (16 MiB of booleans)


def _parse_p(p: Any) -> float:
    if isinstance(p, str) and p.strip().lower() in ("inf", "infinity"):
        return math.inf
    return check_positive(p, "p", allow_inf=True)


def ecdf_lp_columns(x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """Exact ``(integral |F_x - F_y|^p dt)^(1/p)`` for each column of ``x`` (n, d) and ``y``
    (m, d), all columns at once (trusted input; returns shape (d,)).

    The pooled column is sorted once; the running counts of x- and y-points give both ECDFs
    at every pooled point. Inside a group of tied values the running counts are not yet the
    ECDF values, but those positions are followed by a zero-width piece, so they add nothing
    to the integral and are skipped for the supremum.

    Examples
    --------
    >>> import numpy as np
    >>> ecdf_lp_columns(np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]]), 1.0).tolist()
    [0.5]
    """
    n, m = x.shape[0], y.shape[0]
    z = np.ascontiguousarray(np.concatenate([x, y]).T)  # one row per feature
    order = np.argsort(z, axis=1, kind="stable")
    zs = np.take_along_axis(z, order, axis=1)
    from_x = order < n
    diff = np.abs(np.cumsum(from_x, axis=1) / n - np.cumsum(~from_x, axis=1) / m)
    # widths in units of each column's largest |value|, so huge values cannot overflow
    scale = np.maximum(np.abs(zs[:, 0]), np.abs(zs[:, -1]))
    scale = np.where(scale > 0, scale, 1.0)
    widths = np.diff(zs / scale[:, None], axis=1)
    if math.isinf(p):
        last_of_ties = np.ones(diff.shape, dtype=bool)
        last_of_ties[:, :-1] = widths > 0
        return np.where(last_of_ties, diff, 0.0).max(axis=1)
    head = diff[:, :-1]
    # |F - G|^p for large p underflows (0.14 ** 500 == 0.0): factor out the largest difference,
    # (sum d^p w)^(1/p) = d_max (sum (d / d_max)^p w)^(1/p)
    d_max = head.max(axis=1, initial=0.0)
    safe = np.where(d_max > 0, d_max, 1.0)
    ratio = head / safe[:, None]
    integral = np.einsum("ij,ij->i", ratio if p == 1 else ratio**p, widths)
    with np.errstate(over="ignore"):
        return d_max * integral ** (1.0 / p) * scale ** (1.0 / p)


def ecdf_lp_1d(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """Exact ``(integral |F_x - F_y|^p dt)^(1/p)`` between two 1-D samples (trusted input).

    Examples
    --------
    >>> import numpy as np
    >>> ecdf_lp_1d(np.array([0.0]), np.array([3.0]), 1.0)
    3.0
    >>> ecdf_lp_1d(np.array([0.0, 1.0]), np.array([0.0, 2.0]), math.inf)
    0.5
    """
    return float(
        ecdf_lp_columns(np.asarray(x, dtype=np.float64)[:, None], np.asarray(y, dtype=np.float64)[:, None], p)[0]
    )


def _dense_ranks(pooled: np.ndarray) -> np.ndarray:
    """Per column, the rank of each value among the column's distinct values (ties share a
    rank), as the smallest unsigned integer type that holds it."""
    n, d = pooled.shape
    dtype = np.uint16 if n < 2**16 else np.uint32
    ranks = np.empty((n, d), dtype=dtype)
    for j in range(d):
        _, inv = np.unique(pooled[:, j], return_inverse=True)
        ranks[:, j] = inv.reshape(-1)
    return ranks


def _dominance_counts(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query row q, #{rows r of points : r <= q componentwise} (integer ranks).

    Points and queries are sorted by their first column, so a chunk of queries only has to
    be compared with the prefix of points whose first coordinate is small enough.
    """
    n, d = points.shape
    order_p = np.argsort(points[:, 0], kind="stable")
    pts = points[order_p]
    cols = [np.ascontiguousarray(pts[:, j]) for j in range(d)]
    order_q = np.argsort(queries[:, 0], kind="stable")
    qs = queries[order_q]
    # number of points whose first coordinate is <= each query's first coordinate
    prefix = np.searchsorted(cols[0], qs[:, 0], side="right")
    out_sorted = np.zeros(qs.shape[0], dtype=np.int64)
    start = 0
    while start < qs.shape[0]:
        # grow the chunk while its largest prefix keeps the block under the cell budget
        k_hi = int(prefix[min(start + 1, qs.shape[0]) - 1])
        stop = start + max(1, _CHUNK_CELLS // max(k_hi, 1))
        stop = min(stop, qs.shape[0])
        k = int(prefix[stop - 1])
        while stop - start > 1 and (stop - start) * k > 2 * _CHUNK_CELLS:
            stop = start + (stop - start) // 2
            k = int(prefix[stop - 1])
        if k > 0:
            q = qs[start:stop]
            acc = cols[0][None, :k] <= q[:, 0:1]
            tmp = np.empty_like(acc)
            for j in range(1, d):
                np.less_equal(cols[j][None, :k], q[:, j : j + 1], out=tmp)
                acc &= tmp
            out_sorted[start:stop] = np.count_nonzero(acc, axis=1)
        start = stop
    out = np.empty_like(out_sorted)
    out[order_q] = out_sorted
    return out


def joint_ecdf_distance(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """``(mean_z |F_x(z) - F_y(z)|^p)^(1/p)`` over the pooled points z (trusted input).

    Examples
    --------
    >>> import numpy as np
    >>> joint_ecdf_distance(np.zeros((2, 2)), np.ones((2, 2)), math.inf)
    1.0
    """
    pooled = np.concatenate([x, y])
    ranks = _dense_ranks(pooled)
    rx, ry = ranks[: x.shape[0]], ranks[x.shape[0] :]
    fx = _dominance_counts(rx, ranks) / x.shape[0]
    fy = _dominance_counts(ry, ranks) / y.shape[0]
    diff = np.abs(fx - fy)
    d_max = float(diff.max())
    if math.isinf(p) or d_max == 0.0:
        return d_max
    return float(d_max * np.mean((diff / d_max) ** p) ** (1.0 / p))  # scaled: no underflow for large p


def ecdf_distance(
    real: Any, fake: Any, *, p: float | str = 1, multivariate: bool = False, columns: list[str] | None = None
) -> MetricResult:
    """L^p distance between the empirical CDFs of ``real`` and ``fake``.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    p : float or "inf", default=1
        Exponent, any p > 0 (``inf``: the Kolmogorov-Smirnov statistic).
    multivariate : bool, default=False
        Compare the joint ECDFs on the pooled points instead of feature by feature.
    columns : list of str, optional
        Feature names, recorded in the result's settings.

    Returns
    -------
    MetricResult
        ``value``: the mean over features of the per-feature distance, with
        ``per_feature`` listing them; or, with ``multivariate``, the joint distance.
        Lower is better; 0 for identical samples.

    References
    ----------
    González-Prieto, Mozo, Gómez-Canaval & Talavera, "Improving the quality of generative
    models through Smirnov transformation", arXiv:2110.15914.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0]])
    >>> ecdf_distance(x, x + 2.0).value   # p = 1: a shift by 2
    2.0
    >>> ecdf_distance(x, x + 2.0, p="inf").value
    1.0
    """
    p = _parse_p(p)
    x = as_features(real, "real", min_samples=1, max_abs=None)  # huge values: see the module notes
    y = as_features(fake, "fake", min_samples=1, max_abs=None)
    check_same_dim(x, y, "real", "fake")
    settings: dict[str, Any] = {"p": p, "multivariate": bool(multivariate)}
    if columns is not None:
        settings["columns"] = list(columns)
    if multivariate:
        values = {"value": joint_ecdf_distance(x, y, p)}
    else:
        per_arr = ecdf_lp_columns(x, y, p)
        if not np.isfinite(per_arr).all():
            j = int(np.argmax(~np.isfinite(per_arr)))
            name = columns[j] if columns is not None and j < len(columns) else f"column {j}"
            raise DataError(
                f"ecdf: the distance of feature {name} for p={p:g} overflows float64 (values up to "
                f"{float(np.abs(np.concatenate([x[:, j], y[:, j]])).max()):.3g}); rescale the data "
                f"or use a p nearer 1"
            )
        per = per_arr.tolist()
        values = {"value": float(np.mean(per)), "per_feature": per}
    return MetricResult("ecdf", values, settings, n_real=x.shape[0], n_fake=y.shape[0])


class ECDF(Metric):
    """Exact L^p distance between the empirical CDFs of each feature (p = inf: Kolmogorov-Smirnov)."""

    name = "ecdf"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "ECDF L^p"),)
    uses_columns = True
    options = (
        Option(
            "p",
            "float",
            1.0,
            "Order of the L^p distance (inf: the Kolmogorov-Smirnov statistic).",
            minimum=0.0,
            exclusive_minimum=True,
            words=("inf",),
        ),
        Option("multivariate", "bool", False, "Compare the joint ECDFs on the pooled sample points instead."),
    )
    identity, symmetric = 0.0, True

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return ecdf_distance(real, fake, **options)
