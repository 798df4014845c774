"""Maximum mean discrepancy: kernels and the unbiased (U) and biased (V) MMD^2 estimators.

.. math::

    \\widehat{\\mathrm{MMD}}^2_u = \\frac{1}{m(m-1)}\\sum_{i \\ne j} k(x_i, x_j)
        + \\frac{1}{n(n-1)}\\sum_{i \\ne j} k(y_i, y_j) - \\frac{2}{mn}\\sum_{i,j} k(x_i, y_j)

    \\widehat{\\mathrm{MMD}}^2_b = \\frac{1}{m^2}\\sum_{i, j} k(x_i, x_j)
        + \\frac{1}{n^2}\\sum_{i, j} k(y_i, y_j) - \\frac{2}{mn}\\sum_{i,j} k(x_i, y_j)

Gretton et al. 2012, "A Kernel Two-Sample Test" (JMLR 13). The biased V-statistic keeps the
diagonal terms ``k(x_i, x_i)``; it is what CMMD uses (Jayasumana et al. 2024,
arXiv:2401.09603). The kernels:

- ``poly``: ``k(x, y) = (gamma x.y + coef0)^degree``, default gamma = 1/d, coef0 = 1,
  degree = 3 (the KID kernel, Binkowski et al. 2018, arXiv:1801.01401);
- ``rbf``: ``k(x, y) = exp(-||x - y||^2 / (2 bandwidth^2))``; ``bandwidth="median"`` uses
  the median pairwise Euclidean distance of the pooled sample (the median heuristic),
  computed on at most 1,000 pooled points drawn with ``seed``;
- ``linear``: ``k(x, y) = x.y``.

The kernel sums are taken a block of rows at a time (``block_size`` rows against all the
other side's rows), so no m x n matrix is ever held: memory is O(block_size x n). Kernel
settings whose values could overflow float64 are refused before anything is computed
(:class:`~ganeval.errors.ParameterError` naming the option), so a result never holds NaN or
Inf. The :class:`Kernel` objects are shared with other kernel metrics (the Vendi score).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_features, check_choice, check_int, check_positive, check_same_dim, resolve_seed
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = [
    "Kernel",
    "KERNELS",
    "ESTIMATORS",
    "make_kernel",
    "median_bandwidth",
    "mmd2_unbiased",
    "mmd2",
    "maximum_mean_discrepancy",
    "MMD",
]

KERNELS = ("rbf", "poly", "linear")
ESTIMATORS = ("unbiased", "biased")
_MEDIAN_POINTS = 1000
_BLOCK_BYTES = 32 * 2**20  # one block of kernel values (float64)
_LOG_MAX = math.log(np.finfo(np.float64).max)  # ~709.78


def default_block_rows(n_cols: int) -> int:
    """Rows per block so that one block of ``n_cols`` float64 kernel values stays near 32 MiB."""
    return max(1, min(8192, _BLOCK_BYTES // (8 * max(n_cols, 1))))


@dataclass(frozen=True)
class Kernel:
    """A positive-definite kernel evaluated on blocks of rows.

    Examples
    --------
    >>> import numpy as np
    >>> k = Kernel("rbf", bandwidth=1.0)
    >>> float(k.gram(np.zeros((1, 2)), np.ones((1, 2)))[0, 0]) == float(np.exp(-1.0))
    True
    """

    name: str
    degree: int = 3
    gamma: float = 1.0
    coef0: float = 1.0
    bandwidth: float = 1.0

    def gram(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Kernel matrix ``K[i, j] = k(x_i, y_j)`` in float64.

        The inner products are computed in the inputs' precision (float32 inputs: a float32
        matrix product, as the KID reference code does); the kernel values are float64.
        """
        if self.name == "poly":
            return (self.gamma * (x @ y.T).astype(np.float64) + self.coef0) ** self.degree
        if self.name == "linear":
            return (x @ y.T).astype(np.float64)
        sq = _squared_distances(x.astype(np.float64, copy=False), y.astype(np.float64, copy=False))
        return np.exp(-sq / (2.0 * self.bandwidth**2))

    def diagonal(self, x: np.ndarray) -> np.ndarray:
        """``k(x_i, x_i)`` for every row, float64 (no matrix)."""
        if self.name == "rbf":
            return np.ones(x.shape[0])
        sq = np.einsum("ij,ij->i", x, x).astype(np.float64)  # in the inputs' precision, as the products
        if self.name == "linear":
            return sq
        return (self.gamma * sq + self.coef0) ** self.degree

    def sum_over(self, x: np.ndarray, y: np.ndarray, *, same: bool = False, block_size: int | None = None) -> float:
        """``sum_ij k(x_i, y_j)``, leaving out ``i == j`` when ``same`` (``y`` is ``x``).

        Taken ``block_size`` rows of ``x`` at a time (default: about 32 MiB of kernel values
        per block); no full matrix is formed. For the polynomial kernel the sum of
        ``degree``-th powers is one ``einsum`` pass over ``gamma x.y + coef0`` per block.
        """
        m = x.shape[0]
        step = default_block_rows(y.shape[0]) if block_size is None else max(1, int(block_size))
        total = 0.0
        for lo in range(0, m, step):
            hi = min(m, lo + step)
            total += self._block_sum(x[lo:hi], y)
        if same:
            total -= float(self.diagonal(x).sum())
        return total

    def _block_sum(self, xb: np.ndarray, y: np.ndarray) -> float:
        if self.name == "linear":  # sum_ij x_i.y_j = (sum_i x_i).(sum_j y_j): no matrix at all
            return float(xb.sum(0, dtype=np.float64) @ y.sum(0, dtype=np.float64))
        if self.name != "poly":
            return float(self.gram(xb, y).sum())
        base = (xb @ y.T).astype(np.float64)
        base *= self.gamma
        base += self.coef0
        if self.degree > 8:  # einsum takes a bounded number of operands
            return float((base**self.degree).sum())
        return float(np.einsum(",".join(["ij"] * self.degree) + "->", *([base] * self.degree), optimize=False))

    def check_range(self, x: np.ndarray, y: np.ndarray) -> None:
        """Refuse settings whose kernel values or sums over ``x`` and ``y`` could overflow.

        Raises :class:`~ganeval.errors.ParameterError` naming the option. The bound is
        ``|k(x, y)| <= (gamma |x| |y| + |coef0|)^degree`` (Cauchy-Schwarz) times the number
        of pairs.
        """
        if self.name == "rbf":
            with np.errstate(over="ignore", under="ignore"):
                denom = 2.0 * self.bandwidth * self.bandwidth
            if denom == 0.0 or not np.isfinite(denom):
                side = "small" if denom == 0.0 else "large"
                raise ParameterError(
                    f"bandwidth={self.bandwidth:g} is too {side}: 2 * bandwidth^2 "
                    f"{'underflows to 0' if side == 'small' else 'overflows'} in float64; "
                    f"pass a bandwidth between 1e-150 and 1e150, or 'median'"
                )
            return
        nx = float(np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64).max(initial=0.0)))
        ny = float(np.sqrt(np.einsum("ij,ij->i", y, y, dtype=np.float64).max(initial=0.0)))
        pairs = math.log(max(x.shape[0], 1)) + math.log(max(y.shape[0], 1))
        if x.dtype == np.float32 and nx * ny >= float(np.finfo(np.float32).max) / 4:
            raise ParameterError(
                "float32 features too large: their inner products overflow float32; pass float64 features"
            )
        if self.name == "linear":
            bound = nx * ny
            if bound > 0 and math.log(bound) + pairs >= _LOG_MAX - 1:
                raise ParameterError("linear kernel: inner products of these features overflow float64 sums")
            return
        bound = self.gamma * nx * ny + abs(self.coef0)
        if not math.isfinite(bound) or (bound > 0 and self.degree * math.log(bound) + pairs >= _LOG_MAX - 1):
            raise ParameterError(
                f"poly kernel overflows: (gamma x.y + coef0)^degree reaches about {bound:.3g}^{self.degree} "
                f"with gamma={self.gamma:g}, coef0={self.coef0:g}, degree={self.degree}; pass a smaller "
                f"gamma (default 1/d), coef0 or degree"
            )

    def settings(self) -> dict[str, Any]:
        if self.name == "poly":
            return {"kernel": "poly", "degree": self.degree, "gamma": self.gamma, "coef0": self.coef0}
        if self.name == "linear":
            return {"kernel": "linear"}
        return {"kernel": "rbf", "bandwidth": self.bandwidth}


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.maximum(sq, 0.0)


def median_bandwidth(x: np.ndarray, y: np.ndarray, *, seed: Any = 0) -> float:
    """Median pairwise Euclidean distance of the pooled rows of ``x`` and ``y``.

    At most 1,000 pooled points are used (drawn without replacement with ``seed``).

    Examples
    --------
    >>> import numpy as np
    >>> median_bandwidth(np.array([[0.0], [1.0]]), np.array([[3.0]]))
    2.0
    """
    pooled = np.concatenate([x, y])
    if pooled.shape[0] > _MEDIAN_POINTS:
        idx = resolve_seed(seed).choice(pooled.shape[0], _MEDIAN_POINTS, replace=False)
        pooled = pooled[idx]
    d = np.sqrt(_squared_distances(pooled, pooled))
    med = float(np.median(d[np.triu_indices(d.shape[0], 1)]))
    if med <= 0:
        raise ParameterError(
            "bandwidth='median': the median pairwise distance is 0 (too many identical points); pass a bandwidth"
        )
    return med


def make_kernel(
    kernel: str,
    dim: int,
    *,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    bandwidth: float | str = "median",
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    seed: Any = 0,
) -> Kernel:
    """Validate kernel options and build a :class:`Kernel` (``x``, ``y`` for the median).

    Examples
    --------
    >>> make_kernel("poly", 4).settings()
    {'kernel': 'poly', 'degree': 3, 'gamma': 0.25, 'coef0': 1.0}
    """
    check_choice(kernel, "kernel", KERNELS)
    if kernel == "linear":
        return Kernel("linear")
    if kernel == "poly":
        degree = check_int(degree, "degree", minimum=1)
        gamma = 1.0 / dim if gamma is None else check_positive(gamma, "gamma")
        coef0 = float(coef0)
        if not np.isfinite(coef0):
            raise ParameterError(f"coef0 must be finite, got {coef0!r}")
        return Kernel("poly", degree=degree, gamma=gamma, coef0=coef0)
    if isinstance(bandwidth, str):
        if bandwidth != "median":
            raise ParameterError(f"bandwidth must be a positive number or 'median', got {bandwidth!r}")
        if x is None or y is None:
            raise ParameterError("bandwidth='median' needs the rows x and y")
        bandwidth = median_bandwidth(x, y, seed=seed)
    k = Kernel("rbf", bandwidth=check_positive(bandwidth, "bandwidth"))
    k.check_range(np.zeros((1, 1)), np.zeros((1, 1)))
    return k


def mmd2(
    x: np.ndarray, y: np.ndarray, kernel: Kernel, *, estimator: str = "unbiased", block_size: int | None = None
) -> float:
    """MMD^2 between the rows of ``x`` and ``y`` with the given estimator (trusted input;
    the unbiased one needs at least 2 rows per side)."""
    m, n = x.shape[0], y.shape[0]
    kernel.check_range(x, y)
    same = estimator == "unbiased"
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        sxx = kernel.sum_over(x, x, same=same, block_size=block_size)
        syy = kernel.sum_over(y, y, same=same, block_size=block_size)
        sxy = kernel.sum_over(x, y, block_size=block_size)
    if same:
        value = sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2.0 * sxy / (m * n)
    else:
        value = sxx / (m * m) + syy / (n * n) - 2.0 * sxy / (m * n)
    if not math.isfinite(value):  # the range check should make this unreachable
        raise ParameterError(f"kernel settings {kernel.settings()} overflow on these features")
    return float(value)


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, kernel: Kernel) -> float:
    """Unbiased MMD^2 between the rows of ``x`` (m >= 2) and ``y`` (n >= 2); trusted input."""
    return mmd2(x, y, kernel, estimator="unbiased")


def maximum_mean_discrepancy(
    real: Any,
    fake: Any,
    *,
    kernel: str = "rbf",
    bandwidth: float | str = "median",
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: Any = 0,
    estimator: str = "unbiased",
    block_size: int | None = None,
) -> MetricResult:
    """Squared MMD between two sets of rows (unbiased U-statistic by default).

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    kernel : {"rbf", "poly", "linear"}, default="rbf"
    bandwidth : float or "median", default="median"
        RBF length scale sigma in ``exp(-||x-y||^2 / (2 sigma^2))``.
    degree, gamma, coef0 : polynomial kernel ``(gamma x.y + coef0)^degree``; gamma
        defaults to 1/d.
    seed : int, default=0
        Seed of the subsample used by the median heuristic.
    estimator : {"unbiased", "biased"}, default="unbiased"
        ``"unbiased"``: the U-statistic (leaves out ``k(x_i, x_i)``); ``"biased"``: the
        V-statistic that keeps the diagonal terms (as CMMD's code does).
    block_size : int, optional
        Rows per block of kernel values (memory ~ 8 x block_size x n bytes). Default: blocks
        of about 32 MiB. Does not change the number beyond float round-off.

    Returns
    -------
    MetricResult
        ``value`` is MMD^2 (the unbiased one may be slightly negative for equal laws);
        settings record the kernel, ``estimator`` and ``block_size``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 3
    >>> maximum_mean_discrepancy(x, y).value > 0.5
    True
    >>> maximum_mean_discrepancy(x, x, kernel="rbf", bandwidth=1.0, estimator="biased").value
    0.0
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    check_choice(estimator, "estimator", ESTIMATORS)
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1)
    k = make_kernel(
        kernel, x.shape[1], degree=degree, gamma=gamma, coef0=coef0, bandwidth=bandwidth, x=x, y=y, seed=seed
    )
    value = mmd2(x, y, k, estimator=estimator, block_size=block_size)
    settings = k.settings()
    settings["estimator"] = estimator
    if kernel == "rbf":
        settings["bandwidth_rule"] = bandwidth if isinstance(bandwidth, str) else "given"
        settings["seed"] = seed if isinstance(seed, int) else None
    settings["block_size"] = block_size if block_size is not None else default_block_rows(max(x.shape[0], y.shape[0]))
    return MetricResult("mmd", {"value": value}, settings, n_real=x.shape[0], n_fake=y.shape[0])


class MMD(Metric):
    """Squared maximum mean discrepancy between REAL and FAKE (unbiased by default), in blocks."""

    name = "mmd"
    higher_is_better = False
    outputs = (Output("value", False, label="MMD^2"),)
    seeded = True
    streaming = "rows"
    uses_columns = False
    options = (
        Option(
            "kernel",
            "str",
            "rbf",
            "rbf exp(-|x-y|^2 / (2 bandwidth^2)), poly (gamma x.y + coef0)^degree, linear x.y.",
            choices=tuple(KERNELS),
        ),
        Option(
            "bandwidth",
            "float",
            "median",
            "RBF length scale, or 'median' (median pairwise distance of the pooled sample).",
            minimum=0.0,
            exclusive_minimum=True,
            words=("median",),
        ),
        Option("degree", "int", 3, "poly kernel degree.", minimum=1),
        Option("gamma", "float", None, "poly kernel scale (default 1/d).", minimum=0.0, exclusive_minimum=True),
        Option("coef0", "float", 1.0, "poly kernel offset."),
        Option(
            "estimator",
            "str",
            "unbiased",
            "unbiased U-statistic, or the biased V-statistic that keeps k(x, x) (as CMMD).",
            choices=("unbiased", "biased"),
        ),
        Option("block_size", "int", None, "Rows per block of kernel values (memory ~ 8 x block x n bytes).", minimum=1),
    )
    symmetric = True

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return maximum_mean_discrepancy(real, fake, **options)
