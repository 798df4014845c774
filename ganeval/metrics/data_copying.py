"""The data-copying test C_T (Meehan, Chaudhuri and Dasgupta 2020, arXiv:2004.05675).

A generative model *copies* its training set ``T`` when its samples ``Q_m`` lie closer to
``T`` than fresh samples of the data law do. Fresh samples are a *held-out* real set ``P_n``
that the model never saw: C_T needs three sets (``takes = "train-test-fake"``). A part of the
training set cannot stand in for ``P_n``: the model was fitted to it.

The space is cut into cells ``pi`` by k-means fitted to ``T``. In each cell, with
``L(x) = min_{t in T_pi} ||x - t||`` (distance to the nearest training row *of the cell*),
the Mann-Whitney U statistic of ``L(Q_m^pi)`` against ``L(P_n^pi)`` is z-scored under the
null hypothesis (continuity correction 0.5, no tie correction):

.. math::

    U = \\#\\{(q, p): L(q) > L(p)\\} + \\tfrac12 \\#\\{(q, p): L(q) = L(p)\\}, \\qquad
    Z_U(\\pi) = \\frac{U - mn/2 + 1/2}{\\sqrt{mn(m + n + 1)/12}}

(``m``, ``n``: the cell's generated and test counts), and

.. math::

    C_T = \\frac{\\sum_{\\pi \\in \\Pi_\\tau} P_n(\\pi) Z_U(\\pi)}{\\sum_{\\pi \\in \\Pi_\\tau} P_n(\\pi)}

over the cells ``Pi_tau`` that hold more than ``fake_threshold`` generated samples
(``Q_m(pi) > tau`` with ``tau = fake_threshold / m``). ``C_T << 0`` (e.g. below -3): data
copying; ``C_T >> 0``: the model underfits (its samples are farther from ``T`` than fresh
data); about 0 (a standard normal under the null): neither.

Defaults follow the reference code as the FLD package (marcojira/fld, ``CTTest``, from
casey-meehan/data-copying) runs it: features above 64 dimensions are first projected on the
training set's 64 leading principal components, 3 cells (k-means with 10 starts), and
``tau = 20 / m``. Our k-means is scikit-learn's, seeded by ``seed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_same_dim
from ..errors import DataError
from ..results import MetricResult
from .base import Metric, Option, Output
from .realism import distance_blocks

__all__ = ["data_copying", "ct_statistic", "mann_whitney_z", "DataCopying"]


def _nearest(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape[0])
    for lo, hi, d in distance_blocks(x, ref):
        out[lo:hi] = np.sqrt(d.min(axis=1))
    return out


def mann_whitney_z(l_fake: Any, l_test: Any) -> float:
    """Z-scored Mann-Whitney U of ``l_fake`` against ``l_test`` (Meehan et al. 2020, eq. 2).

    .. math:: Z_U = (U - mn/2 + 1/2) / \\sqrt{mn(m + n + 1)/12}

    ``U`` counts the pairs with ``l_fake > l_test`` (ties count one half).

    Examples
    --------
    >>> round(mann_whitney_z([1.0, 2.0], [3.0, 4.0]), 6)   # U = 0, m = n = 2
    -1.161895
    """
    from scipy.stats import rankdata

    a = np.asarray(l_fake, dtype=np.float64).ravel()
    b = np.asarray(l_test, dtype=np.float64).ravel()
    m, n = a.size, b.size
    ranks = rankdata(np.concatenate([a, b]))
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float((u - m * n / 2.0 + 0.5) / math.sqrt(m * n * (m + n + 1) / 12.0))


def ct_statistic(
    train: np.ndarray,
    test: np.ndarray,
    fake: np.ndarray,
    train_cells: np.ndarray,
    test_cells: np.ndarray,
    fake_cells: np.ndarray,
    *,
    n_cells: int,
    fake_threshold: int = 20,
) -> dict[str, Any]:
    """C_T from rows already assigned to cells ``0 .. n_cells - 1`` (trusted input).

    Returns ``value`` (C_T) and, per cell, ``z`` (Z_U; 0 for a cell without generated
    samples), ``test_share`` (P_n(pi)), ``fake_count`` and ``included`` (in Pi_tau).
    """
    z = np.zeros(n_cells)
    fake_count = np.bincount(fake_cells, minlength=n_cells)
    test_share = np.bincount(test_cells, minlength=n_cells) / test.shape[0]
    for c in range(n_cells):
        t_c, p_c, q_c = train[train_cells == c], test[test_cells == c], fake[fake_cells == c]
        if t_c.shape[0] == 0 or p_c.shape[0] == 0:
            raise DataError(
                f"data-copying: cell {c} holds {t_c.shape[0]} training and {p_c.shape[0]} test "
                f"samples; each cell needs both: use fewer cells or more samples"
            )
        if q_c.shape[0]:
            z[c] = mann_whitney_z(_nearest(q_c, t_c), _nearest(p_c, t_c))
    included = fake_count > fake_threshold
    if not included.any():
        raise DataError(
            f"data-copying: no cell holds more than {fake_threshold} generated samples "
            f"(counts {fake_count.tolist()}); use more generated samples or a lower fake_threshold"
        )
    w = test_share[included]
    value = float(w @ z[included] / w.sum())
    return {
        "value": value,
        "z": z.tolist(),
        "test_share": test_share.tolist(),
        "fake_count": fake_count.tolist(),
        "included": included.tolist(),
    }


def data_copying(
    train: Any, test: Any, fake: Any, *, cells: int = 3, fake_threshold: int = 20, pca_dims: int = 64, seed: int = 0
) -> MetricResult:
    """The data-copying statistic C_T of generated rows (Meehan et al. 2020, arXiv:2004.05675).

    Parameters
    ----------
    train : array-like of shape (n_train, d)
        Features of the model's training set.
    test : array-like of shape (n_test, d)
        Features of held-out real samples from the same law, never used in training.
    fake : array-like of shape (n_fake, d)
        Features of the generated samples.
    cells : int, default=3
        Number of k-means cells (fitted on ``train``).
    fake_threshold : int, default=20
        A cell enters C_T when it holds more than this many generated samples.
    pca_dims : int, default=64
        Rows wider than this are projected on the training set's leading principal
        components first (0: never).
    seed : int, default=0
        Seed of k-means.

    Returns
    -------
    MetricResult
        ``value`` (C_T: below about -3 suggests copying, above 3 underfitting) and the
        per-cell ``z``, ``test_share``, ``fake_count``, ``included``.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> train, test = g.normal(size=(400, 2)), g.normal(size=(400, 2))
    >>> data_copying(train, test, train[:300] + 1e-3).value < -10      # copies
    True
    >>> abs(data_copying(train, test, g.normal(size=(300, 2))).value) < 3   # fresh samples
    True
    """
    t = as_features(train, "train")
    p = as_features(test, "test")
    q = as_features(fake, "fake")
    check_same_dim(t, p, "train", "test")
    check_same_dim(t, q, "train", "fake")
    cells = check_int(cells, "cells", minimum=1)
    fake_threshold = check_int(fake_threshold, "fake_threshold", minimum=0)
    pca_dims = check_int(pca_dims, "pca_dims", minimum=0)
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    if cells > t.shape[0]:
        raise DataError(f"data-copying: {cells} cells need at least {cells} training samples, got {t.shape[0]}")
    if pca_dims and t.shape[1] > pca_dims:
        mean = t.mean(axis=0)
        _, _, vt = np.linalg.svd(t - mean, full_matrices=False)
        basis = vt[:pca_dims].T
        t, p, q = (t - mean) @ basis, (p - mean) @ basis, (q - mean) @ basis
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=cells, n_init=10, random_state=seed).fit(t)
    out = ct_statistic(
        t, p, q, km.predict(t), km.predict(p), km.predict(q), n_cells=cells, fake_threshold=fake_threshold
    )
    return MetricResult(
        "data-copying",
        out,
        {"cells": cells, "fake_threshold": fake_threshold, "pca_dims": pca_dims, "seed": seed},
        n_real=p.shape[0],
        n_fake=q.shape[0],
    )


class DataCopying(Metric):
    """Data-copying test C_T of FAKE against TRAIN, with held-out TEST (about 0 is best; << 0: copies)."""

    name = "data-copying"
    takes = "train-test-fake"
    higher_is_better = None
    outputs = (Output("value", None, label="C_T", target=0.0),)
    seeded = True
    resampling = None
    no_interval = "C_T is a z-score: under no copying it is about standard normal, which is its own scale."
    options = (
        Option("cells", "int", 3, "Number of k-means cells fitted on TRAIN.", minimum=1),
        Option("fake_threshold", "int", 20, "A cell counts when it holds more generated samples than this.", minimum=0),
        Option(
            "pca_dims",
            "int",
            64,
            "Project wider features on TRAIN's leading principal components (0: never).",
            minimum=0,
        ),
    )
    min_samples = 2

    def compute(self, train: np.ndarray, test: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return data_copying(train, test, fake, **options)
