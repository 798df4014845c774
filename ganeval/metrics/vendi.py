"""The Vendi score: the effective number of distinct samples in a set (diversity).

.. math::

    \\mathrm{VS}_q(x_1..x_n) = \\exp\\Big(\\frac{1}{1-q} \\log \\sum_i \\lambda_i^q\\Big),
    \\qquad \\mathrm{VS}_1 = \\exp\\Big(-\\sum_i \\lambda_i \\log \\lambda_i\\Big),
    \\qquad \\mathrm{VS}_\\infty = 1 / \\max_i \\lambda_i

where ``lambda_i`` are the eigenvalues of ``K / n``, ``K_ij = k(x_i, x_j)`` a positive
semi-definite kernel with ``k(x, x) = 1`` (so the eigenvalues sum to 1); ``0 log 0 = 0``.
Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine
Learning", arXiv:2210.02410. The score lies in [1, n]: 1 when all samples are the same, n
when they are mutually orthogonal in feature space.

Kernels are those of :mod:`ganeval.metrics.mmd`. The default is the linear kernel on
L2-normalised rows (cosine similarity); kernels with ``k(x, x) != 1`` (linear without
normalisation, poly) are normalised as ``K_ij / sqrt(K_ii K_jj)``. With the linear kernel
and ``d < n`` the eigenvalues come from the ``d x d`` matrix ``X^T X / n`` (the same non-zero
eigenvalues as ``X X^T / n``), so n can be large; other kernels need the ``n x n`` matrix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_choice
from ..errors import DataError, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .memorization import check_magnitude
from .mmd import KERNELS, make_kernel, median_bandwidth

__all__ = ["vendi_score", "Vendi"]

_MAX_GRAM_BYTES = 4 * 2**30


def _order(q: Any) -> float:
    if isinstance(q, str) and q.lower() in ("inf", "infinity"):
        return math.inf
    try:
        v = float(q)
    except (TypeError, ValueError):
        raise ParameterError(f"q (order) must be a number > 0 or 'inf', got {q!r}") from None
    if math.isnan(v) or v <= 0:
        raise ParameterError(f"q (order) must be > 0 or 'inf', got {q!r}")
    return v


def _score_from_eigenvalues(lam: np.ndarray, q: float) -> float:
    lam = np.clip(lam, 0.0, None)
    lam = lam / lam.sum()
    p = lam[lam > lam.max() * lam.size * np.finfo(np.float64).eps]  # drop round-off eigenvalues
    if math.isinf(q):
        return float(1.0 / p.max())
    if q == 1.0:
        return float(math.exp(-(p * np.log(p)).sum()))
    return float(math.exp(math.log((p**q).sum()) / (1.0 - q)))


def vendi_score(
    samples: Any,
    *,
    q: float | str = 1.0,
    kernel: str = "linear",
    normalize: bool = True,
    bandwidth: float | str = "median",
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: Any = 0,
) -> MetricResult:
    """Vendi score of order ``q`` of a set of feature rows.

    Parameters
    ----------
    samples : array-like of shape (n, d)
        At least 2 rows.
    q : float > 0 or "inf", default=1
        Order: 1 is the Shannon form of the paper; small q counts rare samples more,
        large q counts the dominant modes.
    kernel : {"linear", "rbf", "poly"}, default="linear"
        A kernel of :mod:`ganeval.metrics.mmd`; see the module notes on normalisation.
    normalize : bool, default=True
        Linear kernel: L2-normalise the rows first (cosine similarity). With False the
        kernel matrix is normalised to a unit diagonal instead (the same number).
    bandwidth, degree, gamma, coef0, seed : kernel options as in
        :func:`~ganeval.metrics.mmd.maximum_mean_discrepancy` (the median bandwidth is the
        median pairwise distance of the samples).

    Returns
    -------
    MetricResult
        ``value``: the score, in [1, n].

    Examples
    --------
    >>> import numpy as np
    >>> vendi_score(np.eye(4)).value  # four orthogonal samples
    4.0
    >>> round(vendi_score(np.ones((5, 3))).value, 9)  # five copies of one sample
    1.0
    """
    x = as_features(samples, "samples", min_samples=2)
    check_magnitude(x, "samples")
    q = _order(q)
    check_choice(kernel, "kernel", KERNELS)
    n, d = x.shape
    settings: dict[str, Any] = {"q": q if math.isfinite(q) else "inf"}
    if kernel == "linear":
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))
        if (norms == 0).any():
            raise DataError(
                f"samples: row {int(np.argmin(norms))} is all zeros; the linear (cosine) kernel needs non-zero rows"
            )
        xn = x / norms[:, None]
        if d < n:  # dual: the d x d matrix has the same non-zero eigenvalues
            lam = np.linalg.eigvalsh(xn.T @ xn / n)
            settings["dual"] = True
        else:
            lam = np.linalg.eigvalsh(xn @ xn.T / n)
            settings["dual"] = False
        settings.update(kernel="linear", normalize=bool(normalize))
        return MetricResult("vendi", {"value": _score_from_eigenvalues(lam, q)}, settings, n_real=None, n_fake=n)
    need = 8 * n * n * 3
    if need > _MAX_GRAM_BYTES:
        raise ParameterError(
            f"kernel={kernel!r} needs the {n} x {n} kernel matrix (about {need / 2**30:.1f} GiB); "
            f"use kernel='linear' (d x d) or fewer samples"
        )
    if kernel == "rbf" and isinstance(bandwidth, str) and bandwidth == "median":
        bandwidth = median_bandwidth(x, x[:0], seed=seed)
    k = make_kernel(kernel, d, degree=degree, gamma=gamma, coef0=coef0, bandwidth=bandwidth, seed=seed)
    k.check_range(x, x)
    gram = k.gram(x, x)
    diag = np.sqrt(np.clip(np.diagonal(gram), 0.0, None))
    if (diag == 0).any():
        raise DataError(f"samples: k(x, x) = 0 for row {int(np.argmin(diag))}; the kernel cannot be normalised")
    gram = gram / np.outer(diag, diag)
    lam = np.linalg.eigvalsh((gram + gram.T) / (2 * n))
    settings.update(k.settings())
    settings["dual"] = False
    return MetricResult("vendi", {"value": _score_from_eigenvalues(lam, q)}, settings, n_real=None, n_fake=n)


class Vendi(Metric):
    """Vendi score: the effective number of distinct samples in FAKE (higher is more diverse)."""

    name = "vendi"
    takes = "one-sample"
    higher_is_better = True
    outputs = (Output("value", True, (1.0, math.inf), "Vendi"),)
    seeded = True
    options = (
        Option(
            "q",
            "float",
            1.0,
            "Order of the score (inf: 1 / largest eigenvalue).",
            minimum=0.0,
            exclusive_minimum=True,
            words=("inf",),
        ),
        Option("kernel", "str", "linear", "Similarity kernel.", choices=tuple(KERNELS)),
        Option("normalize", "bool", True, "L2-normalise the rows first (cosine similarity with the linear kernel)."),
        Option(
            "bandwidth",
            "float",
            "median",
            "RBF length scale, or 'median'.",
            minimum=0.0,
            exclusive_minimum=True,
            words=("median",),
        ),
        Option("degree", "int", 3, "poly kernel degree.", minimum=1),
        Option("gamma", "float", None, "poly kernel scale (default 1/d).", minimum=0.0, exclusive_minimum=True),
        Option("coef0", "float", 1.0, "poly kernel offset."),
    )

    def compute(self, samples: np.ndarray, **options: Any) -> MetricResult:
        return vendi_score(samples, **options)
