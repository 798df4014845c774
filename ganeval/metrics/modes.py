"""Mode metrics for samples of a known Gaussian mixture (mode collapse on toy data).

Each generated point is assigned to its nearest mode mean ``c_k``. With ``sigma`` the
mixtures' (isotropic) standard deviation:

- a point is *high quality* when ``||x - c_k|| <= threshold * sigma`` (threshold 3), and
  ``high_quality`` is their share of all points (Srivastava et al. 2017, VEEGAN,
  arXiv:1705.07761);
- a mode is *covered* when at least ``min_count`` high-quality points sit at it;
  ``modes_covered`` counts them (Metz et al. 2016, unrolled GANs, arXiv:1611.02163);
- ``kl_uniform = sum_k p_k log(K p_k)`` is the KL divergence (natural log) of the
  histogram ``p`` of nearest-mode assignments of *all* points against the uniform law over
  the ``K`` modes (0 when every mode gets the same share, ``log K`` when one mode takes all).

``min_count`` defaults to 20 points per 2,500 samples (a mode with fewer counts as lost, as
in PacGAN, Lin et al. 2018, arXiv:1712.04086, who draw 2,500 samples), scaled to the sample
size: ``max(1, round(20 n / 2500))`` (:func:`scaled_min_count`), so 100 samples need 1 point
per mode and 10,000 need 80. The result's settings record the count used and the rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_positive, check_same_dim
from ..results import MetricResult

__all__ = ["mode_metrics", "scaled_min_count", "MIN_COUNT_PER_2500"]

#: high-quality points a mode needs per 2,500 samples (PacGAN's 20 of 2,500)
MIN_COUNT_PER_2500 = 20


def scaled_min_count(n_samples: int) -> int:
    """``max(1, round(20 * n_samples / 2500))``: PacGAN's 20-of-2,500 rule at ``n_samples``.

    Examples
    --------
    >>> scaled_min_count(2500), scaled_min_count(100), scaled_min_count(10_000)
    (20, 1, 80)
    """
    return max(1, round(MIN_COUNT_PER_2500 * int(n_samples) / 2500))


def mode_metrics(
    samples: Any, centers: Any, std: float, *, threshold: float = 3.0, min_count: int | None = None
) -> MetricResult:
    """Modes covered, share of high-quality samples and KL of the mode histogram vs uniform.

    Parameters
    ----------
    samples : array-like of shape (n, d)
        Generated points.
    centers : array-like of shape (K, d)
        Means of the mixture's modes.
    std : float
        Standard deviation of every mode (isotropic).
    threshold : float, default=3.0
        A point within ``threshold * std`` of its nearest mean is high quality.
    min_count : int, optional
        High-quality points a mode needs to count as covered (default
        :func:`scaled_min_count` of the sample size: 20 for 2,500 samples).

    Returns
    -------
    MetricResult
        ``metric="modes"`` with ``modes_covered`` (int), ``n_modes``, ``high_quality``
        (share in [0, 1]), ``kl_uniform`` (nats) and ``counts`` (high-quality points per
        mode); ``settings["min_count"]`` is the count used and ``settings["min_count_rule"]``
        says whether it was given or scaled with the sample size.

    Examples
    --------
    >>> import numpy as np
    >>> centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> x = np.repeat(centers[:1], 40, axis=0)             # all 40 points on mode 0
    >>> r = mode_metrics(x, centers, 0.1)
    >>> r.modes_covered, r.high_quality, round(r.kl_uniform, 6) == round(float(np.log(2)), 6)
    (1, 1.0, True)
    >>> r.settings["min_count"], r.settings["min_count_rule"]
    (1, 'scaled: 20 per 2,500 samples at n=40')
    """
    x = as_features(samples, "samples", min_samples=1)
    c = as_features(centers, "centers", min_samples=1)
    check_same_dim(c, x, "centers", "samples")
    std = check_positive(std, "std")
    threshold = check_positive(threshold, "threshold")
    if min_count is None:
        min_count = scaled_min_count(x.shape[0])
        rule = f"scaled: {MIN_COUNT_PER_2500} per 2,500 samples at n={x.shape[0]:,}"
    else:
        min_count = check_int(min_count, "min_count", minimum=1)
        rule = "given"
    sq = (x * x).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2.0 * (x @ c.T)
    nearest = sq.argmin(1)
    dist = np.sqrt(np.maximum(sq[np.arange(x.shape[0]), nearest], 0.0))
    good = dist <= threshold * std
    k = c.shape[0]
    counts = np.bincount(nearest[good], minlength=k)
    p = np.bincount(nearest, minlength=k) / x.shape[0]
    nz = p > 0
    kl = float(np.sum(p[nz] * np.log(k * p[nz])))
    values = {
        "modes_covered": int((counts >= min_count).sum()),
        "n_modes": int(k),
        "high_quality": float(good.mean()),
        "kl_uniform": kl,
        "counts": counts.astype(int).tolist(),
    }
    settings = {"std": std, "threshold": threshold, "min_count": min_count, "min_count_rule": rule}
    return MetricResult("modes", values, settings, n_real=None, n_fake=int(x.shape[0]))
