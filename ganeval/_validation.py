"""Validation helpers shared by the public entry points.

Public functions validate once with these helpers; private functions compute and trust
their input. Every message names the parameter (or input) and the value received.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np

from .errors import DataError, ParameterError

__all__ = [
    "as_features",
    "check_same_dim",
    "check_moments",
    "check_int",
    "check_bool",
    "check_positive",
    "check_choice",
    "resolve_seed",
    "column_scale",
    "show",
    "check_memory",
    "MAX_ABS_FEATURE",
]

#: default bound on |feature value|: beyond it, squares and pairwise squared distances of a
#: few million entries overflow float64 (1.8e308) and a metric would come out NaN or Inf
MAX_ABS_FEATURE = 1e150


def as_features(
    x: Any, name: str, *, min_samples: int = 2, dtype=np.float64, max_abs: float | None = MAX_ABS_FEATURE
) -> np.ndarray:
    """Return ``x`` as a finite 2-D float array of shape (n_samples, n_features).

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Feature rows. A torch tensor is accepted (moved to CPU).
    name : str
        What to call the input in error messages (a file name or parameter name).
    min_samples : int, default=2
        Fewest rows accepted.
    dtype : numpy dtype or None, default=float64
        Target dtype. ``None`` keeps float32 input as float32 (no copy) and makes anything
        else float64.
    max_abs : float or None, default=MAX_ABS_FEATURE (1e150)
        Largest ``|value|`` accepted (the squares of larger values overflow float64); None:
        no bound (for metrics that rescale their input first).
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    refuse_complex(x, name)
    if dtype is None:
        dtype = np.float32 if getattr(x, "dtype", None) == np.float32 else np.float64
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: cannot be read as a numeric array ({exc})") from None
    if arr.ndim == 1:
        raise DataError(
            f"{name}: expected a 2-D array of shape (n_samples, n_features), got 1-D shape "
            f"{arr.shape}; reshape to (-1, 1) for a single feature"
        )
    if arr.ndim != 2:
        raise DataError(f"{name}: expected a 2-D array of shape (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise DataError(f"{name}: has zero features (shape {arr.shape})")
    if arr.shape[0] < min_samples:
        raise DataError(f"{name}: needs at least {min_samples} samples, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        n_bad = int((~np.isfinite(arr)).sum())
        raise DataError(
            f"{name}: contains {n_bad} non-finite value(s) (NaN or Inf), first at row {bad[0]}, column {bad[1]}"
        )
    if max_abs is not None and arr.size:
        big = max(abs(float(arr.max())), abs(float(arr.min())))  # no |arr| copy; no float32 cast of max_abs
        if big > max_abs:
            i, j = np.unravel_index(int(np.argmax(np.abs(arr))), arr.shape)
            raise DataError(
                f"{name}: value {show(arr[i, j])} at row {i}, column {j} is too large (|value| > {max_abs:g}): "
                f"squared distances would overflow float64; rescale the features"
            )
    return arr


def column_scale(*arrays: np.ndarray) -> np.ndarray:
    """Per column, the largest ``|value|`` over all ``arrays`` (1 where a column is all 0).

    Dividing by it makes huge but finite values safe for scale-free computations
    (standardised classifiers, trees, optimal transport with a rescaled result).

    Examples
    --------
    >>> import numpy as np
    >>> column_scale(np.array([[1e300, 0.0]]), np.array([[-2e300, 0.0]])).tolist()
    [2e+300, 1.0]
    """
    scale = np.max([np.abs(a).max(axis=0) for a in arrays], axis=0)
    return np.where(scale > 0, scale, 1.0)


def show(value: Any) -> str:
    """``repr`` of a value as the user wrote it: NumPy scalars as plain Python numbers.

    Examples
    --------
    >>> import numpy as np
    >>> show(np.float64(np.inf)), show(np.int64(3)), show("a")
    ('inf', '3', "'a'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else str(value)
    return repr(value)


def check_memory(n_bytes: float, what: str, *, limit: float | None = None) -> None:
    """Refuse, before allocating, work whose memory estimate exceeds ``limit`` (default: the
    memory available now, or 64 GiB where that is unknown), with the estimate in the message.

    Examples
    --------
    >>> check_memory(1e6, "--bins 10")
    >>> check_memory(1e18, "--bins 1e17")
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: --bins 1e17: needs about 888 PiB of memory...
    """
    if limit is None:
        limit = available_memory()
    if n_bytes > limit:
        raise ParameterError(
            f"{what}: needs about {format_bytes(n_bytes)} of memory, more than the "
            f"{format_bytes(limit)} available; use a smaller value"
        )


def available_memory() -> float:
    """Bytes of host memory available now (``MemAvailable`` on Linux, else the free pages;
    64 GiB where neither is known). The one place ganeval asks; every memory guard uses it."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return float(64 << 30)


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"


def refuse_complex(x: Any, name: str) -> None:
    """A :class:`DataError` for complex numbers (casting them to float would silently drop
    the imaginary part).

    >>> refuse_complex(np.zeros(2, complex), "f.npy")
    Traceback (most recent call last):
    ...
    ganeval.errors.DataError: f.npy: holds complex numbers (dtype complex128); features must be real
    """
    dt = getattr(x, "dtype", None)
    if dt is None:
        try:
            dt = np.asarray(x).dtype
        except (TypeError, ValueError):
            return
    try:
        kind = np.dtype(dt).kind
    except TypeError:
        return
    if kind == "c":
        raise DataError(f"{name}: holds complex numbers (dtype {dt}); features must be real")


def check_moments(mu: Any, sigma: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a mean and covariance as float64 ``(d,)`` and symmetric ``(d, d)`` arrays, or
    raise :class:`DataError` naming ``name``.

    Checked: numeric, shapes ``(d,)`` and ``(d, d)`` with ``d >= 1``, finite, symmetric up to
    round-off (``max |S - S^T| <= 1e-6 max |S|``; float32 files round each entry on their
    own), and positive semi-definite up to round-off: the smallest eigenvalue must be at
    least ``-tol * max(eigenvalue)`` with ``tol = max(10 d eps, 1e-9)``, ``eps`` the machine
    epsilon of the stored dtype (a Cholesky factorisation of ``S + tol max(diag S) I``
    decides; the eigenvalues are computed only to word the error). Anything else is not a
    covariance and would give a silently wrong FID.

    Examples
    --------
    >>> import numpy as np
    >>> check_moments([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], "s.npz")
    Traceback (most recent call last):
    ...
    ganeval.errors.DataError: s.npz: sigma is not a covariance matrix: it has a negative eigenvalue (-1, largest 3)
    """
    import scipy.linalg

    try:
        mu_in, sigma_in = np.asarray(mu), np.asarray(sigma)
        for arr_in, what in ((mu_in, "mu"), (sigma_in, "sigma")):
            refuse_complex(arr_in, f"{name}: {what}")
        mu_arr = np.atleast_1d(np.asarray(mu_in, dtype=np.float64))
        sigma_arr = np.atleast_2d(np.asarray(sigma_in, dtype=np.float64))
    except (TypeError, ValueError):
        raise DataError(
            f"{name}: mu and sigma must be numeric arrays (got dtypes "
            f"{np.asarray(mu).dtype} and {np.asarray(sigma).dtype})"
        ) from None
    if mu_arr.ndim != 1 or mu_arr.size == 0 or sigma_arr.shape != (mu_arr.size, mu_arr.size):
        raise DataError(
            f"{name}: mu must have shape (d,) and sigma (d, d) with d >= 1; "
            f"got {tuple(mu_arr.shape)} and {tuple(sigma_arr.shape)}"
        )
    bad_mu, bad_sigma = int((~np.isfinite(mu_arr)).sum()), int((~np.isfinite(sigma_arr)).sum())
    if bad_mu or bad_sigma:
        raise DataError(f"{name}: contains non-finite values (NaN or Inf): {bad_mu} in mu, {bad_sigma} in sigma")
    scale = float(np.abs(sigma_arr).max())
    asym = float(np.abs(sigma_arr - sigma_arr.T).max())
    if asym > 1e-6 * scale:
        raise DataError(
            f"{name}: sigma is not symmetric (max |sigma - sigma^T| = {asym:.3g}, entries up to "
            f"{scale:.3g}); not a covariance matrix"
        )
    sigma_arr = (sigma_arr + sigma_arr.T) / 2
    d = mu_arr.size
    stored = sigma_in.dtype if sigma_in.dtype.kind == "f" else np.dtype(np.float64)
    tol = max(10 * d * float(np.finfo(stored).eps), 1e-9)
    diag = np.diag(sigma_arr)
    if (diag < -tol * max(scale, 0.0)).any():
        j = int(np.argmin(diag))
        raise DataError(
            f"{name}: sigma is not a covariance matrix: variance {float(diag[j]):.6g} on the "
            f"diagonal (index {j}) is negative"
        )
    if scale > 0:
        try:
            scipy.linalg.cholesky(sigma_arr + tol * float(diag.max()) * np.eye(d), lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            w = np.linalg.eigvalsh(sigma_arr)
            if w[0] < -tol * max(float(w[-1]), 0.0):
                raise DataError(
                    f"{name}: sigma is not a covariance matrix: it has a negative eigenvalue "
                    f"({float(w[0]):.6g}, largest {float(w[-1]):.6g})"
                ) from None
    return mu_arr, sigma_arr


def check_same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise :class:`DataError` unless two feature arrays have the same number of columns."""
    if a.shape[-1] != b.shape[-1]:
        raise DataError(f"feature dimensions differ: {name_a} has {a.shape[-1]}, {name_b} has {b.shape[-1]}")


#: largest seed accepted: scikit-learn's and NumPy's legacy seeding take 32-bit seeds
MAX_SEED = 2**32 - 1


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, checking it is integral and within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            # typeshed types numbers.Real.__trunc__ as returning a protocol, not int
            value = int(value)  # type: ignore[call-overload]
        else:
            raise ParameterError(f"{name} must be an integer, got {show(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {show(value)}")
    if maximum is not None and value > maximum:
        raise ParameterError(f"{name} must be <= {maximum}, got {show(value)}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a bool, accepting only True/False (and NumPy's bools).

    Examples
    --------
    >>> check_bool(True, "tf32")
    True
    >>> check_bool("no", "tf32")
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: tf32 must be True or False, got 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be True or False, got {show(value)}")
    return bool(value)


def check_positive(value: Any, name: str, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a float, checking it is > 0 (and finite unless ``allow_inf``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a positive number, got {show(value)}") from None
    if np.isnan(v) or v <= 0 or (np.isinf(v) and not allow_inf):
        raise ParameterError(f"{name} must be a positive {'' if allow_inf else 'finite '}number, got {show(value)}")
    return v


def check_choice(value: Any, name: str, choices) -> Any:
    """Raise :class:`ParameterError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name} must be one of {options}; got {show(value)}")
    return value


def resolve_seed(seed: Any, name: str = "seed") -> np.random.Generator:
    """Return a fresh :class:`numpy.random.Generator` for ``seed``.

    ``seed`` may be an int or an existing Generator (returned as is). No global RNG state
    is read or written.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int(seed, name, minimum=0, maximum=MAX_SEED))
