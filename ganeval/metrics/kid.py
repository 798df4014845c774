"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel, averaged over
random subsets.

.. math:: k(x, y) = (\\gamma\\, x \\cdot y + c_0)^{p}, \\quad \\gamma = 1/d,\\ c_0 = 1,\\ p = 3

Binkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401. Each subset takes
``subset_size`` rows from each set without replacement, drawn from a generator seeded by
``seed``; the result is the mean and the (population) standard deviation over subsets.

Inner products run in the features' precision (float32 features: a float32 matrix product,
as the KID reference code and torch-fidelity do); kernel values and sums are float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim, resolve_seed
from ..errors import ParameterError
from ..results import MetricResult
from .mmd import make_kernel, mmd2_unbiased

__all__ = ["kernel_inception_distance"]


def kernel_inception_distance(real: Any, fake: Any, *, subsets: int = 100, subset_size: int | None = None,
                              degree: int = 3, gamma: float | None = None, coef0: float = 1.0,
                              seed: Any = 0) -> MetricResult:
    """KID between two feature sets.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    subsets : int, default=100
        Number of random subsets.
    subset_size : int, optional
        Rows per subset from each set; must not exceed either set's size. Default:
        ``min(1000, n_real, n_fake)``.
    degree, gamma, coef0 : kernel ``(gamma x.y + coef0)^degree``; gamma defaults to 1/d.
    seed : int, default=0
        Seed of the subset draws. The same seed gives the same number.

    Returns
    -------
    MetricResult
        ``value`` (mean over subsets) and ``std`` (population std over subsets).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 4))
    >>> r = kernel_inception_distance(x, x + 1.0, subsets=10, subset_size=100)
    >>> r.value > 0.1, r.metric
    (True, 'kid')
    """
    x = as_features(real, "real", dtype=None)
    y = as_features(fake, "fake", dtype=None)
    check_same_dim(x, y, "real", "fake")
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64), y.astype(np.float64)
    subsets = check_int(subsets, "subsets", minimum=1)
    if subset_size is None:
        subset_size = min(1000, x.shape[0], y.shape[0])
    subset_size = check_int(subset_size, "subset_size", minimum=2)
    for name, arr in (("real", x), ("fake", y)):
        if subset_size > arr.shape[0]:
            raise ParameterError(
                f"subset_size={subset_size} is larger than the {name} set ({arr.shape[0]} samples); "
                f"pass a subset size <= {min(x.shape[0], y.shape[0])}"
            )
    kernel = make_kernel("poly", x.shape[1], degree=degree, gamma=gamma, coef0=coef0)
    rng = resolve_seed(seed)
    scores = np.empty(subsets)
    for s in range(subsets):
        ix = rng.choice(x.shape[0], subset_size, replace=False)
        iy = rng.choice(y.shape[0], subset_size, replace=False)
        scores[s] = mmd2_unbiased(x[ix], y[iy], kernel)
    settings = {**kernel.settings(), "subsets": subsets, "subset_size": subset_size,
                "seed": seed if isinstance(seed, int) else None}
    return MetricResult("kid", {"value": float(scores.mean()), "std": float(scores.std())},
                        settings, n_real=x.shape[0], n_fake=y.shape[0])

