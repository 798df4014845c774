"""Fréchet distance between Gaussians fitted to feature sets (FID when the features are
Inception pool3 activations).

.. math::

    d^2 = \\lVert \\mu_1 - \\mu_2 \\rVert^2 + \\operatorname{tr}(\\Sigma_1) + \\operatorname{tr}(\\Sigma_2)
          - 2 \\operatorname{tr}\\big((\\Sigma_1^{1/2} \\Sigma_2 \\Sigma_1^{1/2})^{1/2}\\big)

Heusel et al. 2017, arXiv:1706.08500. The trace term is the sum of the square roots of the
eigenvalues of the symmetric PSD matrix ``A^T S2 A`` for any factor ``S1 = A A^T`` (those
eigenvalues are the eigenvalues of ``S1 S2``). ``A`` is the Cholesky factor when ``S1`` is
positive definite, else ``V diag(sqrt(w))`` from a symmetric eigendecomposition (singular
covariances, e.g. fewer samples than dimensions). No general matrix square root, no
imaginary parts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg

from .._validation import as_features, check_moments, check_same_dim, show
from ..errors import DataError, ParameterError
from ..results import MetricResult
from ..statistics import FeatureStats
from .base import Metric, Option, Output

__all__ = ["frechet_distance", "trace_sqrt_product", "drop_roundoff", "fid_from_stats", "fid_from_features", "FID"]


def _check_moments(mu: Any, sigma: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    return check_moments(mu, sigma, name)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr((S1^{1/2} S2 S1^{1/2})^{1/2})`` for symmetric PSD ``S1``, ``S2`` (trusted input).

    Examples
    --------
    >>> import numpy as np
    >>> round(trace_sqrt_product(np.diag([4.0, 9.0]), np.diag([1.0, 4.0])), 12)
    8.0
    """
    try:
        factor = scipy.linalg.cholesky(sigma1, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(sigma1)
        factor = v * np.sqrt(drop_roundoff(w))
    m = factor.T @ sigma2 @ factor
    m = (m + m.T) / 2
    ev = np.linalg.eigvalsh(m)  # LAPACK syevd: faster here than scipy's default driver
    return float(np.sqrt(drop_roundoff(ev)).sum())


def drop_roundoff(eigenvalues: np.ndarray) -> np.ndarray:
    """Set eigenvalues that are zero up to round-off (below d * eps * max) to exactly 0.

    A singular covariance has eigenvalues that come out as +-1e-15 rather than 0; their square
    roots (~3e-8 each) would otherwise add up to a visible bias in the trace term.
    """
    tol = eigenvalues.size * np.finfo(np.float64).eps * max(float(np.abs(eigenvalues).max(initial=0.0)), 0.0)
    return np.where(eigenvalues > tol, eigenvalues, 0.0)


def frechet_distance(
    mu1: Any,
    sigma1: Any,
    mu2: Any,
    sigma2: Any,
    *,
    eps: float = 0.0,
    names: tuple[str, str] = ("first distribution", "second distribution"),
) -> float:
    """Fréchet (2-Wasserstein) distance squared between N(mu1, sigma1) and N(mu2, sigma2).

    .. math:: \\lVert \\mu_1-\\mu_2\\rVert^2 + \\operatorname{tr}\\Sigma_1 + \\operatorname{tr}\\Sigma_2
              - 2\\operatorname{tr}\\big((\\Sigma_1^{1/2}\\Sigma_2\\Sigma_1^{1/2})^{1/2}\\big)

    Parameters
    ----------
    mu1, mu2 : array-like of shape (d,)
        Means.
    sigma1, sigma2 : array-like of shape (d, d)
        Covariances (symmetric positive semi-definite).
    eps : float, default=0.0
        Added to both diagonals before the trace term (a regulariser some codes use for
        singular covariances; not needed here, kept for comparisons).
    names : (str, str), optional
        What the two distributions are called in error messages. The moments are checked
        (:func:`ganeval._validation.check_moments`): a sigma that is not symmetric positive
        semi-definite up to round-off is a :class:`DataError`, not a silently wrong distance.

    Returns
    -------
    float
        The distance, clipped at 0 against round-off.

    References
    ----------
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium", arXiv:1706.08500.

    Examples
    --------
    >>> import numpy as np
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
    mu1, sigma1 = _check_moments(mu1, sigma1, names[0])
    mu2, sigma2 = _check_moments(mu2, sigma2, names[1])
    return _frechet_distance(mu1, sigma1, mu2, sigma2, eps, names)


def _frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: Any, names: tuple[str, str]
) -> float:
    """:func:`frechet_distance` of moments already checked by :func:`check_moments`."""
    if mu1.size != mu2.size:
        raise DataError(f"feature dimensions differ: {names[0]} has {mu1.size}, {names[1]} has {mu2.size}")
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise ParameterError(f"eps (--eps) must be a number >= 0, got {eps!r}") from None
    if not np.isfinite(eps) or eps < 0 or eps > _MAX_EPS:
        raise ParameterError(f"eps (--eps) must be a number in [0, {_MAX_EPS:g}], got {show(eps)}")
    if eps:
        sigma1 = sigma1 + eps * np.eye(mu1.size)
        sigma2 = sigma2 + eps * np.eye(mu2.size)
    diff = mu1 - mu2
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            tr_covmean = trace_sqrt_product(sigma1, sigma2)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise DataError(
                f"{names[0]} and {names[1]}: the trace term cannot be computed ({exc}); "
                f"the covariances are too large or ill-conditioned"
            ) from None
        value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)
    if not np.isfinite(value):
        raise DataError(f"{names[0]} and {names[1]}: the Fréchet distance overflows float64; rescale the features")
    return max(value, 0.0)


#: largest eps accepted: beyond it, products of covariances overflow float64
_MAX_EPS = 1e100


def fid_from_stats(
    real: FeatureStats,
    fake: FeatureStats,
    *,
    eps: float = 0.0,
    settings: dict | None = None,
    names: tuple[str, str] = ("real", "fake"),
) -> MetricResult:
    """FID between two :class:`~ganeval.statistics.FeatureStats` as a :class:`MetricResult`.

    ``names`` are what the two inputs are called in error messages (file names).
    """
    if real.dim != fake.dim:
        raise DataError(f"feature dimensions differ: {names[0]} has {real.dim}, {names[1]} has {fake.dim}")
    moments: list[np.ndarray] = []  # mu1, sigma1, mu2, sigma2
    for st, name in zip((real, fake), names):
        if st._fixed_sigma is None and st.n < 2:
            raise DataError(f"{name}: FID needs a covariance, which needs at least 2 samples; {name} has {st.n}")
        if st._fixed_sigma is None:
            moments += _check_moments(st.mean, st.cov, name)
        else:  # read from mu/sigma: checked when loaded (FeatureStats.from_moments); a second check costs a
            moments += [st.mean, st.cov]  # Cholesky factorisation (1/4 of a d = 2048 FID) and changes nothing
    value = _frechet_distance(moments[0], moments[1], moments[2], moments[3], eps, names)
    return MetricResult(
        "fid", {"value": value}, {"eps": eps, **(settings or {})}, n_real=real.n or None, n_fake=fake.n or None
    )


def fid_from_features(real: Any, fake: Any, *, eps: float = 0.0) -> MetricResult:
    """FID between two arrays of feature rows, shapes (n_real, d) and (n_fake, d).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 3))
    >>> round(fid_from_features(x, x + 1.0).value, 9)  # a shift by (1, 1, 1)
    3.0
    """
    real = as_features(real, "real")
    fake = as_features(fake, "fake")
    check_same_dim(real, fake, "real", "fake")
    return fid_from_stats(FeatureStats.from_features(real), FeatureStats.from_features(fake), eps=eps)


class FID(Metric):
    """Fréchet Inception Distance between two samples' feature moments (lower is better)."""

    name = "fid"
    takes = "moments"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "FID"),)
    streaming = "moments"
    options = (
        Option(
            "eps", "float", 0.0, "Added to both covariance diagonals (only to compare with codes that do).", minimum=0.0
        ),
    )
    identity, symmetric = 0.0, True

    def compute(
        self, real: FeatureStats, fake: FeatureStats, *, eps: float = 0.0, names: tuple[str, str] = ("real", "fake")
    ) -> MetricResult:
        return fid_from_stats(real, fake, eps=eps, names=names)
