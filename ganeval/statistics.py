"""Streaming first and second moments of feature vectors (the input of FID).

:class:`FeatureStats` keeps constant-size sufficient statistics in float64: the count ``n``,
the mean, and the centred sum of outer products ``M2 = sum (x - mean)(x - mean)^T``. Batches
may come in any order and size; two stats merge exactly (Chan, Golub & LeVeque's pairwise
update), so per-process or per-shard statistics combine into the single-pass result.

Centred sums are used rather than raw ``sum x x^T`` because the raw form loses digits to
cancellation when the mean is large against the spread; the two carry the same information
(``sum x x^T = M2 + n mean mean^T``) and :attr:`FeatureStats.sum` /
:attr:`FeatureStats.sum_outer` expose the raw form.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import as_features, check_moments
from .errors import DataError, InputError

__all__ = ["FeatureStats", "load_stats_file", "batch_moments", "combine_moments"]


def batch_moments(x: Any) -> tuple[int, Any, Any]:
    """``(n, mean, M2)`` of a float64 batch of rows (numpy array or torch tensor, on any
    device): the one moment computation behind :class:`FeatureStats` and the on-device
    accumulator of :class:`~ganeval.Evaluator`.

    Examples
    --------
    >>> n, mean, m2 = batch_moments(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> n, mean.tolist(), m2.tolist()
    (2, [1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    n = int(x.shape[0])
    mean = x.sum(0) / n
    xc = x - mean
    return n, mean, xc.T @ xc


def combine_moments(n_a: int, mean_a: Any, m2_a: Any, n_b: int, mean_b: Any, m2_b: Any) -> tuple[int, Any, Any]:
    """Exact pairwise merge of two ``(n, mean, M2)`` (Chan, Golub & LeVeque 1979), for numpy
    arrays or torch tensors alike.

    Examples
    --------
    >>> x = np.arange(10.0).reshape(5, 2)
    >>> n, mean, m2 = combine_moments(*batch_moments(x[:2]), *batch_moments(x[2:]))
    >>> bool(np.allclose(m2, batch_moments(x)[2]))
    True
    """
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / n)
    m2 = m2_a + m2_b + (delta[:, None] * delta[None, :]) * (n_a * n_b / n)
    return n, mean, m2


class FeatureStats:
    """Running mean and covariance of feature rows, in float64.

    Parameters
    ----------
    dim : int, optional
        Feature dimension. If omitted it is taken from the first batch.
    metadata : mapping, optional
        Free-form description saved with the statistics (extractor, preprocessing, ...).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> s = FeatureStats()
    >>> s.update(x[:2]); s.update(x[2:])
    >>> bool(np.allclose(s.mean, x.mean(0)) and np.allclose(s.cov, np.cov(x, rowvar=False)))
    True
    """

    def __init__(self, dim: int | None = None, metadata: Mapping[str, Any] | None = None):
        self.dim = dim
        self.n = 0
        self._mean: np.ndarray | None = None if dim is None else np.zeros(dim)
        self._m2: np.ndarray | None = None if dim is None else np.zeros((dim, dim))
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._fixed_sigma: np.ndarray | None = None  # set when loaded from mu/sigma only

    # -- accumulation -------------------------------------------------------------------
    def update(self, batch: Any) -> None:
        """Add a batch of rows of shape (n, dim)."""
        x = as_features(batch, "batch", min_samples=1)
        self._check_mutable()
        if self.dim is None:
            self.dim = int(x.shape[1])
            self._mean = np.zeros(self.dim)
            self._m2 = np.zeros((self.dim, self.dim))
        elif x.shape[1] != self.dim:
            raise DataError(f"batch has {x.shape[1]} features, these statistics have {self.dim}")
        self._combine(*batch_moments(x))

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Add the samples summarised by ``other`` into ``self`` (returns ``self``)."""
        self._check_mutable()
        other._check_mutable()
        if other.n == 0:
            return self
        other_mean, other_m2 = other._moments()
        if self.dim is None:
            self.dim = other.dim
            self._mean = np.zeros(other_mean.shape[0])
            self._m2 = np.zeros((other_mean.shape[0], other_mean.shape[0]))
        if other.dim != self.dim:
            raise DataError(f"cannot merge statistics of dimension {other.dim} into {self.dim}")
        self._combine(other.n, other_mean, other_m2)
        return self

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The running ``(mean, M2)``; they exist as soon as ``dim`` is known."""
        if self._mean is None or self._m2 is None:
            raise DataError("statistics are empty: no samples were added")
        return self._mean, self._m2

    def _combine(self, n_b: int, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        mean_a, m2_a = self._moments()
        self.n, self._mean, self._m2 = combine_moments(self.n, mean_a, m2_a, n_b, mean_b, m2_b)

    def _check_mutable(self) -> None:
        if self._fixed_sigma is not None:
            raise DataError("statistics loaded from mu/sigma only cannot be updated or merged")

    def reset(self) -> None:
        """Forget all samples (keeps ``dim`` and ``metadata``)."""
        self.n = 0
        self._mean = None if self.dim is None else np.zeros(self.dim)
        self._m2 = None if self.dim is None else np.zeros((self.dim, self.dim))
        self._fixed_sigma = None

    # -- results ------------------------------------------------------------------------
    @property
    def mean(self) -> np.ndarray:
        """Mean vector, shape (dim,)."""
        if self.n == 0 and self._fixed_sigma is None:
            raise DataError("statistics are empty: no samples were added")
        return self._moments()[0].copy()

    @property
    def cov(self) -> np.ndarray:
        """Unbiased covariance (divides by n - 1), shape (dim, dim)."""
        if self._fixed_sigma is not None:
            return self._fixed_sigma.copy()
        if self.n < 2:
            what = self.metadata.get("source") or "these statistics"
            raise DataError(f"{what}: a covariance needs at least 2 samples, got {self.n}")
        cov: np.ndarray = self._moments()[1] / (self.n - 1)
        return (cov + cov.T) / 2

    @property
    def sum(self) -> np.ndarray:
        """Raw sum of the rows, shape (dim,)."""
        return self.mean * self.n

    @property
    def sum_outer(self) -> np.ndarray:
        """Raw sum of outer products ``sum x x^T``, shape (dim, dim)."""
        if self._fixed_sigma is not None:
            raise DataError("statistics loaded from mu/sigma only have no raw sums")
        mean, m2 = self._moments()
        return m2 + self.n * np.outer(mean, mean)

    @classmethod
    def from_features(
        cls, features: Any, metadata: Mapping[str, Any] | None = None, name: str = "features"
    ) -> FeatureStats:
        """Statistics of an array of rows."""
        x = as_features(features, name, min_samples=1)
        s = cls(x.shape[1], metadata)
        s.update(x)
        return s

    @classmethod
    def from_running(cls, n: int, mean: Any, m2: Any, metadata: Mapping[str, Any] | None = None) -> FeatureStats:
        """Statistics of ``n`` rows given their mean and centred sum of outer products ``M2``
        (what :func:`batch_moments` / :func:`combine_moments` keep); they can still be updated.

        >>> import numpy as np
        >>> x = np.arange(12.0).reshape(6, 2)
        >>> s = FeatureStats.from_running(6, x.mean(0), (x - x.mean(0)).T @ (x - x.mean(0)))
        >>> bool(np.allclose(s.cov, np.cov(x, rowvar=False)))
        True
        """
        mean = np.asarray(mean, dtype=np.float64)
        m2 = np.asarray(m2, dtype=np.float64)
        if mean.ndim != 1 or m2.shape != (mean.shape[0], mean.shape[0]):
            raise DataError(f"running moments: mean of shape {mean.shape} and M2 of shape {m2.shape} do not match")
        s = cls(mean.shape[0], metadata)
        if int(n) > 0:
            s.n, s._mean, s._m2 = int(n), mean.copy(), m2.copy()
        return s

    @classmethod
    def from_moments(
        cls, mu: Any, sigma: Any, n: int = 0, metadata: Mapping[str, Any] | None = None, name: str = "statistics"
    ) -> FeatureStats:
        """Statistics given only by a mean and covariance (e.g. a pytorch-fid ``.npz``).

        The moments are validated (:func:`ganeval._validation.check_moments`: shapes, finite,
        symmetric, positive semi-definite up to round-off); a :class:`DataError` names ``name``.
        """
        mu, sigma = check_moments(mu, sigma, name)
        try:
            ok = not isinstance(n, bool) and float(n).is_integer() and float(n) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(f"{name}: sample count n must be a whole number >= 0, got {n!s}")
        s = cls(mu.shape[0], metadata)
        s.n = int(n)
        s._mean = mu
        s._fixed_sigma = sigma
        return s

    # -- files --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, spatial: FeatureStats | None = None) -> None:
        """Write an ``.npz`` with ``mu``, ``sigma`` (read by pytorch-fid and clean-fid), ``n``
        and ``metadata`` (a JSON string). The write is atomic and goes through a symlink to its
        target; a path that is a folder, FIFO or device is refused (:mod:`ganeval.atomic`).

        ``spatial``: moments of the same images' spatial features (sFID), written as
        ``mu_s``, ``sigma_s`` and ``n_s``, the names ADM's reference batches use, so ADM's
        evaluator reads them as well."""
        from .atomic import atomic_write

        arrays = {
            "mu": self.mean,
            "sigma": self.cov,
            "n": np.int64(self.n),
            "metadata": np.array(json.dumps(self.metadata, sort_keys=True)),
        }
        if spatial is not None:
            arrays.update(mu_s=spatial.mean, sigma_s=spatial.cov, n_s=np.int64(spatial.n))
        atomic_write(path, lambda fh: np.savez(fh, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureStats:
        """Read statistics written by ganeval, pytorch-fid or clean-fid (``mu``/``sigma``)."""
        return load_stats_file(path)

    def __repr__(self) -> str:
        return f"FeatureStats(n={self.n}, dim={self.dim})"


def load_stats_file(path: str | os.PathLike, *, suffix: str = "") -> FeatureStats:
    """Load an ``.npz`` with ``mu`` and ``sigma`` arrays, never unpickling.

    ``suffix="_s"`` reads ``mu_s``, ``sigma_s`` (and ``n_s``): the spatial (sFID) moments of
    ADM reference batches and of ``ganeval stats`` files written with them."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    k_mu, k_sigma, k_n = f"mu{suffix}", f"sigma{suffix}", f"n{suffix}"
    try:
        with np.load(p, allow_pickle=False) as data:
            keys = set(data.files)
            if not {k_mu, k_sigma} <= keys:
                raise InputError(
                    f"{p}: not a statistics file (needs arrays {k_mu!r} and {k_sigma!r}, has {sorted(keys)})"
                )
            mu, sigma = data[k_mu], data[k_sigma]
            n = data[k_n].item() if k_n in keys and data[k_n].size == 1 else (-1 if k_n in keys else 0)
            meta = json.loads(str(data["metadata"])) if "metadata" in keys else {}
            if not isinstance(meta, dict):
                raise ValueError("metadata is not a JSON object")
    except InputError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError (pickled), OSError
        why = (
            "holds Python objects (pickled); ganeval never unpickles"
            if "pickle" in str(exc).lower()
            else f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        )
        raise InputError(f"{p}: cannot be read as an .npz statistics file ({why})") from None
    return FeatureStats.from_moments(
        mu, sigma, n=n, metadata=meta, name=f"{p}[{k_mu}, {k_sigma}]" if suffix else str(p)
    )
