"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel, averaged over
random subsets.

.. math:: k(x, y) = (\\gamma\\, x \\cdot y + c_0)^{p}, \\quad \\gamma = 1/d,\\ c_0 = 1,\\ p = 3

Binkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401. Each subset takes
``subset_size`` rows from each set without replacement, drawn from a generator seeded by
``seed``; the result is the mean and the (population) standard deviation over subsets.

One implementation, :func:`kid_core`, runs on the rows' device (numpy for CPU rows, without
importing torch; torch on a GPU); the numpy entry point :func:`kernel_inception_distance` and
the streaming / :class:`~ganeval.Evaluator` front ends all call it. Inner products run in the
rows' precision (float32 features: a float32 matrix product, as the KID reference code and
torch-fidelity do); kernel values and their sums are float64. Two ways to the same sums, chosen by arithmetic cost:

- *per subset*: three Gram blocks of ``subset_size`` rows per subset;
- *whole Gram*: the Gram matrices of all rows are computed once, in square blocks of even
  size (each pair once: the within-set blocks use symmetry, the diagonal ones through BLAS
  ``syrk``), and every subset's sum is read off a block by a product with the subsets' 0/1
  membership matrix. It wins when subsets overlap a lot (e.g. 100 subsets of 1,000 out of
  10,000 rows: 2/3 of the multiply-adds of three general products per subset, in large
  products).

At those settings the whole-Gram path does as many multiply-adds as per-subset products
that use ``syrk`` for the within-set terms (torch-fidelity's numpy code does: ``X @ X.T``),
so on a CPU the two run at the speed of the same float32 matrix products, and what differs
is the work around them (kernel values in cache-sized chunks, no per-subset gathers).

Both give the same kernel sums up to float32 rounding of the inner products (relative
1e-6 of the mean kernel value at d = 2048; exact to 1e-12 for float64 rows).

Before computing, the largest possible kernel value ``(gamma |x| |y| + |c0|)^p`` is bounded;
settings whose kernel sums could overflow float64 are refused with a
:class:`~ganeval.errors.ParameterError` naming ``gamma``/``degree`` (never a NaN or Inf result).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import numpy as np

from .._validation import as_features, check_int, check_positive, check_same_dim, resolve_seed
from ..errors import DegenerateWarning, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["kernel_inception_distance", "kid_core", "check_kernel_overflow", "kid_options", "KID"]

#: rows per Gram block in the whole-Gram path (evened out: 4 blocks of 2,500 for 10,000 rows)
_BLOCK = 2500
_MEMBERSHIP_BYTES = 256 * 2**20  # largest subsets x n membership matrix (float64) kept
_LOG_MAX = math.log(np.finfo(np.float64).max)
_LOG_MAX32 = math.log(np.finfo(np.float32).max)


def kid_options(
    dim: int,
    n_real: int,
    n_fake: int,
    *,
    subsets: int = 100,
    subset_size: int | None = None,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> dict[str, Any]:
    """Validate KID options for sets of ``n_real`` and ``n_fake`` rows of width ``dim``."""
    subsets = check_int(subsets, "subsets", minimum=1)
    if subset_size is None:
        subset_size = min(1000, n_real, n_fake)
    subset_size = check_int(subset_size, "subset_size", minimum=2)
    for name, n in (("real", n_real), ("fake", n_fake)):
        if subset_size > n:
            raise ParameterError(
                f"subset_size={subset_size} is larger than the {name} set ({n} samples); "
                f"pass a subset size <= {min(n_real, n_fake)}"
            )
    degree = check_int(degree, "degree", minimum=1)
    gamma = 1.0 / dim if gamma is None else check_positive(gamma, "gamma")
    coef0 = float(coef0)
    if not math.isfinite(coef0):
        raise ParameterError(f"coef0 must be finite, got {coef0!r}")
    return {"subsets": subsets, "subset_size": subset_size, "degree": degree, "gamma": gamma, "coef0": coef0}


def _log_kernel_bound(max_norm_real: float, max_norm_fake: float, degree: int, gamma: float, coef0: float) -> float:
    """log of ``(gamma |x| |y| + |coef0|)^degree`` at the largest row norms (Cauchy-Schwarz)."""
    top = gamma * max(max_norm_real, max_norm_fake) ** 2 + abs(coef0)
    return degree * math.log(top) if top > 0 else -math.inf


def check_kernel_overflow(
    max_norm_real: float, max_norm_fake: float, *, subset_size: int, degree: int, gamma: float, coef0: float
) -> None:
    """Refuse kernel settings whose values or sums could overflow float64.

    ``|k(x, y)| <= (gamma |x| |y| + |coef0|)^degree`` (Cauchy-Schwarz); a sum adds at most
    ``subset_size^2`` of them. (Float32 rows whose kernel values could overflow float32 are
    computed in float64 instead: :func:`kid_from_tensors`.)

    Examples
    --------
    >>> check_kernel_overflow(10.0, 10.0, subset_size=1000, degree=3, gamma=1e200, coef0=1.0)
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: gamma=1e+200, degree=3: kernel values ... can reach 1e+606 ... overflow float64; ...
    """
    log_top = _log_kernel_bound(max_norm_real, max_norm_fake, degree, gamma, coef0)
    if log_top + 2 * math.log(subset_size) > _LOG_MAX - 1:
        exp10 = log_top / math.log(10)
        raise ParameterError(
            f"gamma={gamma:g}, degree={degree}: kernel values (gamma x.y + coef0)^degree can reach "
            f"1e+{exp10:.0f} on these features and would overflow float64; use a smaller gamma "
            f"(default 1/d) or degree"
        )


def _fits_float32(max_norm_real: float, max_norm_fake: float, *, degree: int, gamma: float, coef0: float) -> bool:
    """Whether float32 products stay finite: the inner products, each kernel value, and the
    whole-Gram path's float32 partial sums over a block's rows (at most ``_BLOCK + 1`` values)."""
    if not (math.isfinite(max_norm_real) and math.isfinite(max_norm_fake)):
        return False
    log_top = _log_kernel_bound(max_norm_real, max_norm_fake, degree, gamma, coef0)
    log_dot = 2 * math.log(max(max_norm_real, max_norm_fake, 1e-300))
    return max(log_top + math.log(_BLOCK + 1), log_dot) < _LOG_MAX32 - 1


def _draw_subsets(n_real: int, n_fake: int, subsets: int, subset_size: int, seed: Any) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of every subset, (subsets, subset_size) per side; the draws alternate
    real, fake, real, ... from one generator seeded by ``seed``."""
    rng = resolve_seed(seed)
    ix = np.empty((subsets, subset_size), dtype=np.int64)
    iy = np.empty((subsets, subset_size), dtype=np.int64)
    for s in range(subsets):
        ix[s] = rng.choice(n_real, subset_size, replace=False)
        iy[s] = rng.choice(n_fake, subset_size, replace=False)
    return ix, iy


# The helpers below take numpy arrays (rows on the CPU: numpy's BLAS and fancy indexing run
# these small-block operations several times faster than torch's CPU kernels) or torch
# tensors (rows on a GPU); the arithmetic is written once for both.


def _is_np(a) -> bool:
    return isinstance(a, np.ndarray)


def _gram(a, b, out: dict | None = None):
    """``a @ b.T`` in the rows' precision; numpy products go into a buffer kept in ``out``
    per block shape (no fresh pages for every block)."""
    if out is None or not _is_np(a):
        return a @ b.T
    shape = (a.shape[0], b.shape[0])
    buf = out.get(shape)
    if buf is None:
        buf = out[shape] = np.empty(shape, dtype=np.result_type(a, b))
    return np.matmul(a, b.T, out=buf)


def _kernel_(g, gamma: float, coef0: float, degree: int):
    """Inner products -> kernel values, in place, in the products' precision (each value
    keeps float32 relative accuracy; every sum of them is float64). Integer powers up to 4
    are repeated products (numpy's ``**= 3`` calls ``pow`` per element: 7.2 ms for a 2500^2
    float32 block here, against 2.3 ms for two multiplications; ``bench_kid.py --floor``); numpy blocks are worked
    on 64 rows at a time, so that every pass stays in the CPU cache."""
    if not _is_np(g):
        g.mul_(gamma).add_(coef0)
        if degree != 1:
            g.pow_(degree)
        return g
    rows = 64
    scratch = np.empty((min(rows, g.shape[0]), g.shape[1]), dtype=g.dtype) if 1 < degree <= 4 else None
    for lo in range(0, g.shape[0], rows):
        chunk = g[lo : lo + rows]
        chunk *= gamma
        chunk += coef0
        if degree > 4:  # few roundings matter more than speed for a rare high degree
            chunk **= degree
        elif scratch is not None:  # 1 < degree <= 4
            base = scratch[: chunk.shape[0]]
            np.copyto(base, chunk)
            for _ in range(degree - 1):
                chunk *= base
    return g


def _sum64(a) -> float:
    if _is_np(a):
        return float(a.sum(dtype=np.float64))
    import torch

    return float(a.sum(dtype=torch.float64))


def _zero_diagonal(k) -> None:
    if _is_np(k):
        np.fill_diagonal(k, 0.0)
    else:
        k.diagonal().zero_()


def _take(x, idx):
    if _is_np(x):
        return x[idx]
    import torch

    return x.index_select(0, torch.from_numpy(idx).to(x.device))


def _sums_per_subset(x, y, ix, iy, gamma, coef0, degree):
    s = ix.shape[0]
    sxx, syy, sxy = (np.empty(s) for _ in range(3))
    for i in range(s):
        a, b = _take(x, ix[i]), _take(y, iy[i])
        for out, p, q in ((sxx, a, a), (syy, b, b)):
            k = _kernel_(_gram(p, q), gamma, coef0, degree)
            _zero_diagonal(k)
            out[i] = _sum64(k)
        sxy[i] = _sum64(_kernel_(_gram(a, b), gamma, coef0, degree))
    return sxx, syy, sxy


class _Members:
    """Which rows each subset holds, as a 0/1 membership matrix (subsets x n), so that every
    subset's sum over a Gram block is one matrix product: ``(M_r K) * M_c`` summed per row.

    On the CPU the matrix is in the rows' precision (a float32 product, ~10% of the Gram
    block's multiply-adds, then float64 sums: measured 0.8 s -> 0.3 s against per-subset index
    gathers at n = 10,000, 100 subsets; values agree to float32 round-off); on a GPU it is
    float64 and the block is promoted."""

    def __init__(self, idx: np.ndarray, n: int, rows):
        self.count = idx.shape[0]
        self.dense: Any  # a numpy array or a torch tensor, as ``rows``
        if _is_np(rows):
            self.dense = np.zeros((idx.shape[0], n), dtype=rows.dtype)
            np.put_along_axis(self.dense, idx, 1.0, axis=1)
        else:
            import torch

            self.dense = torch.zeros(idx.shape[0], n, dtype=torch.float64, device=rows.device)
            self.dense.scatter_(1, torch.from_numpy(idx).to(rows.device), 1.0)


def _subset_sums(k, rows: _Members, cols: _Members, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """For each subset s: the sum of the kernel block ``k`` (rows r0:r1, columns c0:c1)
    over the rows and columns s holds, in float64."""
    if _is_np(k):
        partial = (rows.dense[:, r0:r1] @ k).astype(np.float64)
        return np.einsum("ij,ij->i", partial, cols.dense[:, c0:c1].astype(np.float64))
    return ((rows.dense[:, r0:r1] @ k.double()) * cols.dense[:, c0:c1]).sum(1).cpu().numpy()


def _blocks(n: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` row ranges of about ``_BLOCK`` rows, all of one size (+-1), so that no
    small left-over block runs at a fraction of the matrix product's speed."""
    count = max(1, -(-n // _BLOCK))
    edges = [round(i * n / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _within_sums(x, mem: _Members, gamma, coef0, degree) -> np.ndarray:
    """For each subset s: sum over i != j in s of k(x_i, x_j), from the whole Gram matrix of
    ``x`` in blocks (upper triangle only). A diagonal block is ``a @ a.T`` of one array,
    which numpy hands to BLAS ``syrk`` (half the multiply-adds of a general product)."""
    total = np.zeros(mem.count)
    buffers: dict = {}
    spans = _blocks(x.shape[0])
    for i, (lo, hi) in enumerate(spans):
        for lo2, hi2 in spans[i:]:
            a = x[lo:hi]
            k = _kernel_(_gram(a, a if lo2 == lo else x[lo2:hi2], buffers), gamma, coef0, degree)
            if lo == lo2:
                _zero_diagonal(k)
            part = _subset_sums(k, mem, mem, lo, hi, lo2, hi2)
            total += part if lo == lo2 else 2.0 * part
    return total


def _cross_sums(x, y, mem_x: _Members, mem_y: _Members, gamma, coef0, degree) -> np.ndarray:
    total = np.zeros(mem_x.count)
    buffers: dict = {}
    for lo, hi in _blocks(x.shape[0]):
        for lo2, hi2 in _blocks(y.shape[0]):
            k = _kernel_(_gram(x[lo:hi], y[lo2:hi2], buffers), gamma, coef0, degree)
            total += _subset_sums(k, mem_x, mem_y, lo, hi, lo2, hi2)
    return total


def _whole_gram_cost(n_x: int, n_y: int, d: int, subsets: int) -> float:
    pairs = n_x * (n_x + 1) / 2 + n_y * (n_y + 1) / 2 + n_x * n_y
    return pairs * (d + subsets)  # Gram products + the membership products


def kid_core(
    x,
    y,
    *,
    subsets: int,
    subset_size: int,
    degree: int,
    gamma: float,
    coef0: float,
    seed: Any = 0,
    method: str = "auto",
    backend: str = "auto",
) -> np.ndarray:
    """KID of every subset, from rows ``x`` (n_x, d) and ``y`` (n_y, d): numpy arrays, or
    torch tensors on one device.

    Trusted input (validated options, finite rows of one dtype). ``method``: ``"auto"``
    (the cheaper in multiply-adds), ``"subsets"`` or ``"gram"``. ``backend="auto"`` runs numpy
    arrays and CPU tensors through numpy (zero-copy; torch is not needed for numpy rows) and
    GPU tensors through torch; ``"torch"`` runs the GPU code on any device (tests). Returns
    the float64 array of per-subset unbiased MMD^2 values.
    """
    n_x, n_y, d = x.shape[0], y.shape[0], x.shape[1]
    m = subset_size
    ix, iy = _draw_subsets(n_x, n_y, subsets, m, seed)
    if method == "auto":
        per_subset = subsets * 3.0 * m * m * d
        fits = subsets * max(n_x, n_y) * 8 <= _MEMBERSHIP_BYTES
        method = "gram" if fits and _whole_gram_cost(n_x, n_y, d, subsets) < per_subset else "subsets"
    if _is_np(x) and backend == "torch":
        import torch

        x, y = torch.from_numpy(x), torch.from_numpy(y)
    if not _is_np(x) and backend == "auto" and x.device.type == "cpu":
        x, y = x.numpy(), y.numpy()
    with contextlib.nullcontext() if _is_np(x) else _inference_mode():
        if method == "gram":
            mem_x, mem_y = _Members(ix, n_x, x), _Members(iy, n_y, y)
            sxx = _within_sums(x, mem_x, gamma, coef0, degree)
            syy = _within_sums(y, mem_y, gamma, coef0, degree)
            sxy = _cross_sums(x, y, mem_x, mem_y, gamma, coef0, degree)
        else:
            sxx, syy, sxy = _sums_per_subset(x, y, ix, iy, gamma, coef0, degree)
    return sxx / (m * (m - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (m * m)


def _inference_mode():
    import torch

    return torch.inference_mode()


def _double(t):
    return t.astype(np.float64) if _is_np(t) else t.double()


def _is_float64(t) -> bool:
    return t.dtype == np.float64 if _is_np(t) else t.is_floating_point() and t.element_size() == 8


def _max_norm(t) -> float:
    """Largest row norm, in the rows' precision (an overflow there gives inf, and the caller
    then works in float64), else float64."""
    if not t.shape[0]:
        return 0.0
    if _is_np(t):
        with np.errstate(over="ignore"):
            top = float(np.sqrt(np.einsum("ij,ij->i", t, t)).max())
        return top if math.isfinite(top) else float(np.linalg.norm(t.astype(np.float64), axis=1).max())
    top = float(t.norm(dim=1).max())
    return top if math.isfinite(top) else float(t.double().norm(dim=1).max())


def _warn_whole_sets(subsets: int, subset_size: int, n_real: int, n_fake: int) -> None:
    """Subsets as large as a set hold all of it: their std is not a sampling spread."""
    whole = [f"{side} ({n})" for side, n in (("real", n_real), ("fake", n_fake)) if subset_size >= n]
    if subsets > 1 and whole:
        warnings.warn(
            f"kid: subset_size {subset_size} reaches the size of the {' and '.join(whole)} set: every "
            f"subset holds all of it, so std (over subsets) does not measure the sampling spread of KID; "
            f"use subset_size < n for a meaningful std",
            DegenerateWarning,
            stacklevel=3,
        )


def kid_from_tensors(x, y, *, seed: Any = 0, method: str = "auto", **options: Any) -> MetricResult:
    """KID between rows on one device: numpy arrays or torch tensors (validates options,
    not the rows).

    Float32 rows whose inner products or kernel values could leave the float32 range are
    promoted to float64 first (the right number, more slowly), so no inf or NaN is made."""
    opts = kid_options(x.shape[1], x.shape[0], y.shape[0], **options)
    if x.dtype != y.dtype:
        x, y = _double(x), _double(y)
    kernel = {k: opts[k] for k in ("degree", "gamma", "coef0")}
    norm_x, norm_y = _max_norm(x), _max_norm(y)
    if not _is_float64(x) and not _fits_float32(norm_x, norm_y, **kernel):
        x, y = _double(x), _double(y)
        norm_x, norm_y = _max_norm(x), _max_norm(y)
    check_kernel_overflow(norm_x, norm_y, subset_size=opts["subset_size"], **kernel)
    _warn_whole_sets(opts["subsets"], opts["subset_size"], int(x.shape[0]), int(y.shape[0]))
    scores = kid_core(x, y, seed=seed, method=method, **opts)
    settings = {
        "kernel": "poly",
        "degree": opts["degree"],
        "gamma": opts["gamma"],
        "coef0": opts["coef0"],
        "subsets": opts["subsets"],
        "subset_size": opts["subset_size"],
        "seed": seed if isinstance(seed, int) else None,
    }
    scale = float(np.abs(scores).max()) or 1.0  # the std of values near the float64 limit, without squaring them
    return MetricResult(
        "kid",
        {"value": float(scores.mean()), "std": scale * float((scores / scale).std())},
        settings,
        n_real=int(x.shape[0]),
        n_fake=int(y.shape[0]),
    )


def kernel_inception_distance(
    real: Any,
    fake: Any,
    *,
    subsets: int = 100,
    subset_size: int | None = None,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: Any = 0,
) -> MetricResult:
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
    return kid_from_tensors(
        np.ascontiguousarray(x),
        np.ascontiguousarray(y),
        subsets=subsets,
        subset_size=subset_size,
        degree=degree,
        gamma=gamma,
        coef0=coef0,
        seed=seed,
    )


class KID(Metric):
    """Kernel Inception Distance: unbiased MMD^2, kernel (x.y/d + 1)^3, mean and std over subsets."""

    name = "kid"
    higher_is_better = False
    outputs = (Output("value", False, label="KID", spread="std"), Output("std", None, (0.0, math.inf)))
    seeded = True
    streaming = "rows"
    options = (
        Option("subsets", "int", 100, "Number of random subsets.", minimum=1),
        Option(
            "subset_size",
            "int",
            None,
            "Samples per subset from each side (default: min(1000, n_real, n_fake)).",
            minimum=2,
        ),
        Option("degree", "int", 3, "Polynomial kernel degree.", minimum=1),
        Option("gamma", "float", None, "Kernel scale (default 1/d).", minimum=0.0, exclusive_minimum=True),
        Option("coef0", "float", 1.0, "Kernel offset."),
    )
    test_options = {"subsets": 10, "subset_size": 20}
    order_invariant = False
    keeps_float32 = True  # float32 rows take the float32 products, as the function does

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return kernel_inception_distance(real, fake, **options)
