"""Precision, recall, density and coverage from k-nearest-neighbour balls.

For a set S and k, the radius of a point s in S is its distance to its k-th nearest *other*
point of S (Euclidean). With real rows r_i (radii rho_i) and fake rows f_j (radii tau_j):

- precision = mean_j 1[exists i: ||f_j - r_i|| < rho_i]   (Kynkäänniemi et al. 2019, arXiv:1904.06991)
- recall    = mean_i 1[exists j: ||r_i - f_j|| < tau_j]
- density   = (1/k) mean_j sum_i 1[||f_j - r_i|| < rho_i]   (Naeem et al. 2020, arXiv:2002.09797)
- coverage  = mean_i 1[min_j ||r_i - f_j|| < rho_i]

Exact: every distance is computed (no approximate search), a block of rows at a time, so
memory stays O(block x n) and no N x N matrix is ever held. One implementation,
:func:`prdc_core`, runs on the rows' device; the numpy entry point :func:`prdc`,
:class:`~ganeval.streaming.StreamingPRDC` and :class:`~ganeval.Evaluator` call it.

- CPU (numpy): float32 products of the rows centred on the real mean, and every decision
  (which neighbour is the k-th, whether a point lies inside a ball) made exactly in float64:
  only the pairs whose float32 distance is within its proven error bound of a radius are
  recomputed in float64 from the input rows (about 1 pair in 10^4 on Inception-like
  features). The four numbers are those of the float64 products (tested on near-tie data
  against that path and the prdc package), ~1.4x faster, in half the memory (the inputs are
  not widened to float64).
- GPU (torch): float64 products.

Memory on the CPU: the rows centred in float32 (``4 (n_real + n_fake) d`` bytes), ``k``
distances per row and one 16 MiB block of distances; sizes whose (float64, GPU) estimate
exceeds the memory available are refused up front with the estimate in the message.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from .._validation import as_features, available_memory, check_int, check_same_dim
from ..errors import ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["prdc", "knn_radii", "prdc_core", "prdc_memory_bytes", "check_prdc_sizes", "PRDC"]

_BLOCK_BYTES = 64 * 2**20  # memory for one block of distances
_SQUARE_BLOCK = 1024  # rows per block in the k-NN radius pass
_GPU_SCALE = 4  # on a GPU, blocks 4x larger per side (fewer, larger kernels)


def _block_rows(n_cols: int) -> int:
    return max(1, min(4096, _BLOCK_BYTES // (8 * max(n_cols, 1))))


def prdc_memory_bytes(n_real: int, n_fake: int, d: int, k: int) -> int:
    """Estimated peak bytes of :func:`prdc` on float64 rows (inputs included).

    Examples
    --------
    >>> prdc_memory_bytes(10_000, 10_000, 2048, 5) // 2**20  # MiB
    1083
    """
    rows = 8 * (n_real + n_fake) * d
    neighbours = 8 * 3 * 2 * k * max(n_real, n_fake)  # k best, candidates, partition
    sq = _SQUARE_BLOCK * _GPU_SCALE
    block = _BLOCK_BYTES * _GPU_SCALE * 2 + 8 * 2 * sq * (sq + k)  # the larger (GPU) blocks
    return int(rows + neighbours + block)


def _available_bytes(device: Any) -> int | None:
    """Free memory where the rows live (None: unknown)."""
    if device is None:  # numpy rows: host memory (no torch import, ~0.6 GiB of resident memory)
        return int(available_memory())
    try:
        import torch

        if device is not None and torch.device(device).type == "cuda":
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
    except Exception:  # pragma: no cover - informational
        return None
    return int(available_memory())


def check_prdc_sizes(n_real: int, n_fake: int, d: int, k: int, *, device: Any = None, held_bytes: int = 0) -> None:
    """Refuse ``k``, set sizes and width whose memory estimate exceeds what is available.

    ``held_bytes``: part of the estimate already allocated by the caller (the rows).
    """
    need = prdc_memory_bytes(n_real, n_fake, d, k)
    avail = _available_bytes(device)
    if avail is not None and need - held_bytes > avail:
        raise ParameterError(
            f"prdc: k={k} with {n_real} real and {n_fake} fake rows of {d} features needs about "
            f"{need / 2**30:.1f} GiB, more than the {avail / 2**30:.1f} GiB available; use fewer samples or a smaller k"
        )


# The helpers below take numpy arrays (rows on the CPU: numpy's BLAS and np.partition run
# these blocks ~1.5x faster than torch's CPU kernels on the benchmark machine) or torch
# tensors (rows on a GPU); the algorithm is written once for both.


def _is_np(a) -> bool:
    return isinstance(a, np.ndarray)


def _sq_dists(a, a_sq, b, b_sq):
    d = a @ b.T
    d *= -2.0
    d += a_sq[:, None]
    d += b_sq[None, :]
    if _is_np(d):
        return np.maximum(d, 0.0, out=d)
    return d.clamp_(min=0.0)


def _keep_smallest(best, new):
    """Row-wise: the ``best.shape[1]`` smallest of ``best`` and ``new`` together (unsorted)."""
    k = best.shape[1]
    if _is_np(best):
        both = np.concatenate([best, new], axis=1)
        return np.partition(both, k - 1, axis=1)[:, :k]
    import torch

    return torch.topk(torch.cat([best, new], dim=1), k, dim=1, largest=False, sorted=False).values


def _row_sq(x):
    return np.einsum("ij,ij->i", x, x) if _is_np(x) else (x * x).sum(1)


def _knn_radii2(x, k: int):
    """Squared distance from each row of ``x`` to its k-th nearest other row."""
    n = x.shape[0]
    sq = _row_sq(x)
    best: Any  # a numpy array or a torch tensor, as ``x``
    if _is_np(x):
        best = np.full((n, k), np.inf)
    else:
        import torch

        best = torch.full((n, k), float("inf"), dtype=x.dtype, device=x.device)
    step = _SQUARE_BLOCK if _is_np(x) else _SQUARE_BLOCK * _GPU_SCALE
    for lo_i in range(0, n, step):
        hi_i = min(n, lo_i + step)
        for lo_j in range(lo_i, n, step):
            hi_j = min(n, lo_j + step)
            d = _sq_dists(x[lo_i:hi_i], sq[lo_i:hi_i], x[lo_j:hi_j], sq[lo_j:hi_j])
            if lo_i == lo_j:  # a point is not its own neighbour
                np.fill_diagonal(d, np.inf) if _is_np(d) else d.fill_diagonal_(float("inf"))
            best[lo_i:hi_i] = _keep_smallest(best[lo_i:hi_i], d)
            if lo_j != lo_i:
                best[lo_j:hi_j] = _keep_smallest(best[lo_j:hi_j], np.ascontiguousarray(d.T) if _is_np(d) else d.T)
    return best.max(1) if _is_np(best) else best.max(dim=1).values


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest other row (trusted input, k < n).

    Distances are computed block pair by block pair over the upper triangle only (the
    distance matrix is symmetric), each block serving its rows and, transposed, its
    columns: half the arithmetic of the full matrix, O(block^2) memory.

    Examples
    --------
    >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), 1)
    array([1., 1., 2.])
    """
    return np.sqrt(_knn_radii2(np.ascontiguousarray(x, dtype=np.float64), k))


# -- float32 products, exact decisions ------------------------------------------------------
#
# On the CPU the distances are computed as float32 products of the rows centred on the real
# mean, which run twice as fast and take half the memory of float64 ones. Every decision
# (``||a - b||^2 < radius``, which neighbour is k-th) is then made exactly as in float64: a
# float32 squared distance ``d32`` is within ``E = tol (|a| + |b|)^2`` of the exact one, with
# ``tol = (d + 16) 2^-24`` (rows rounded to float32: 2u S; the expanded form's roundings: 3u S;
# the float32 product: d u |a||b| <= d u S / 4; S = (|a| + |b|)^2, about twice that bound in
# all), so only the pairs whose ``d32`` lies within ``E`` of a radius are undecided, and those
# few are recomputed in float64 from the input rows, ``sum((a - b)^2)`` (exact for rows of
# small integers, so exact ties fall as in the float64 path).

_RECHECK_ELEMENTS = 2**20  # float64 elements gathered at a time for the exact re-check


def _tol32(d: int) -> float:
    return (d + 16) * 2.0**-24


def _centered32(x: np.ndarray, center: np.ndarray) -> np.ndarray:
    """``x - center`` in float32, a block of rows at a time (no float64 copy of ``x``)."""
    out = np.empty(x.shape, dtype=np.float32)
    step = max(1, _RECHECK_ELEMENTS // max(x.shape[1], 1))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: inf, and the caller falls back
        for lo in range(0, x.shape[0], step):
            np.subtract(x[lo : lo + step], center, out=out[lo : lo + step], casting="same_kind")
    return out


#: centred row norms for which the float32 bound holds: products and squared norms far from
#: float32 overflow, and the bound far above float32 underflow (else the float64 path runs)
_NORM_RANGE = (1e-15, 1e17)


def _fits_float32(*rows32: np.ndarray) -> bool:
    top = max(float(np.sqrt(np.einsum("ij,ij->i", r, r, dtype=np.float64).max(initial=0.0))) for r in rows32)
    return _NORM_RANGE[0] <= top <= _NORM_RANGE[1]


def _exact_sq(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Float64 ``sum((a[i] - b[j])^2)`` for index pairs, a bounded number of rows at a time."""
    out = np.empty(len(i))
    step = max(1, _RECHECK_ELEMENTS // max(a.shape[1], 1))
    for lo in range(0, len(i), step):
        diff = np.subtract(a[i[lo : lo + step]], b[j[lo : lo + step]], dtype=np.float64)
        out[lo : lo + step] = np.einsum("ij,ij->i", diff, diff)
    return out


def _down32(v: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 value."""
    f = v.astype(np.float32)
    return np.where(f.astype(np.float64) > v, np.nextafter(f, np.float32(-np.inf)), f)


def _up32(v: np.ndarray) -> np.ndarray:
    """Smallest float32 >= each float64 value."""
    f = v.astype(np.float32)
    return np.where(f.astype(np.float64) < v, np.nextafter(f, np.float32(np.inf)), f)


def _d32(a32, a_sq, b32, b_sq, buf=None):
    """float32 squared distances ``|a|^2 + |b|^2 - 2 a.b`` (not clamped: the bounds hold as is)."""
    d = np.matmul(a32, b32.T, out=buf)
    d *= np.float32(-2.0)
    d += a_sq[:, None]
    d += b_sq[None, :]
    return d


def _exact_radii2(x: np.ndarray, x32: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest other row, exact (the float64
    value of ``sum((a - b)^2)``), from float32 products and a float64 re-check of the few
    neighbours near the k-th.

    One pass over the upper triangle keeps each row's k smallest float32 distances (as the
    float64 path does) and records every pair within ``2 E`` of the row's running k-th value:
    that value only falls, so the record holds every pair that can be near the final one.
    The exact radius is then the ``(k - c)``-th smallest exact value among the recorded pairs
    within ``2 E`` of the float32 radius, ``c`` the pairs surely below it."""
    n = x.shape[0]
    sq = np.einsum("ij,ij->i", x32, x32, dtype=np.float64)
    norm = np.sqrt(sq)
    sq32 = sq.astype(np.float32)
    err = _tol32(x.shape[1]) * (norm + norm.max()) ** 2  # bound on |d32 - d| for every pair of row i
    best = np.full((n, k), np.inf, dtype=np.float32)
    rec_i: list[np.ndarray] = []
    rec_j: list[np.ndarray] = []
    rec_v: list[np.ndarray] = []

    def merge(lo: int, hi: int, d: np.ndarray, cols0: int) -> None:
        best[lo:hi] = np.partition(np.concatenate([best[lo:hi], d], axis=1), k - 1, axis=1)[:, :k]
        limit = _up32(best[lo:hi].max(1).astype(np.float64) + 2 * err[lo:hi])
        r, c = np.nonzero(d <= limit[:, None])
        rec_i.append(r + lo)
        rec_j.append(c + cols0)
        rec_v.append(d[r, c])

    for lo_i in range(0, n, _SQUARE_BLOCK):
        hi_i = min(n, lo_i + _SQUARE_BLOCK)
        for lo_j in range(lo_i, n, _SQUARE_BLOCK):
            hi_j = min(n, lo_j + _SQUARE_BLOCK)
            d = _d32(x32[lo_i:hi_i], sq32[lo_i:hi_i], x32[lo_j:hi_j], sq32[lo_j:hi_j])
            if lo_i == lo_j:
                np.fill_diagonal(d, np.inf)
            merge(lo_i, hi_i, d, lo_j)
            if lo_j != lo_i:
                merge(lo_j, hi_j, np.ascontiguousarray(d.T), lo_i)
    r32 = best.max(1).astype(np.float64)  # the k-th smallest float32 distance
    lo, hi = r32 - 2 * err, r32 + 2 * err  # the exact radius is within err of r32; each distance within err
    rows, cols = np.concatenate(rec_i), np.concatenate(rec_j)
    vals = np.concatenate(rec_v).astype(np.float64)
    below = np.bincount(rows[vals < lo[rows]], minlength=n)  # surely nearer than the k-th
    band = (vals >= lo[rows]) & (vals <= hi[rows])
    rows, cols = rows[band], cols[band]
    exact = _exact_sq(x, x, rows, cols)
    order = np.lexsort((exact, rows))
    rows, exact = rows[order], exact[order]
    first = np.searchsorted(rows, np.arange(n))
    return exact[first + (k - 1 - below)]


def _prdc_float32(x: np.ndarray, y: np.ndarray, k: int) -> dict[str, float]:
    """:func:`prdc_core` on numpy rows (float32 or float64) through float32 products with exact
    decisions (see the notes above)."""
    n_real, n_fake, d = x.shape[0], y.shape[0], x.shape[1]
    center = x.mean(0, dtype=np.float64)
    x32, y32 = _centered32(x, center), _centered32(y, center)
    if not _fits_float32(x32, y32):  # huge or all but identical rows: float64 products
        del x32, y32
        return prdc_core(x, y, k, backend="float64")
    real_r2 = _exact_radii2(x, x32, k)
    fake_r2 = _exact_radii2(y, y32, k)
    x_sq = np.einsum("ij,ij->i", x32, x32, dtype=np.float64)
    y_sq = np.einsum("ij,ij->i", y32, y32, dtype=np.float64)
    x_n, y_n = np.sqrt(x_sq), np.sqrt(y_sq)
    tol = _tol32(d)
    err_real = tol * (x_n + y_n.max()) ** 2  # per real row: the bound over every fake column
    err_fake = tol * (x_n.max() + y_n) ** 2
    real_lo, real_hi = _down32(real_r2 - err_real), _up32(real_r2 + err_real)
    fake_lo, fake_hi = _down32(fake_r2 - err_fake), _up32(fake_r2 + err_fake)
    x_sq32, y_sq32 = x_sq.astype(np.float32), y_sq.astype(np.float32)
    inside_count = np.zeros(n_fake, dtype=np.int64)  # real balls holding fake j
    recall_hit = np.zeros(n_real, dtype=bool)  # real i inside some fake ball
    covered = np.zeros(n_real, dtype=bool)  # some fake inside real ball i
    step = max(1, min(4096, _BLOCK_BYTES // (16 * max(n_fake, 1))))  # 16 MiB of float32 distances
    buf = np.empty((min(step, n_real), n_fake), dtype=np.float32)
    for lo in range(0, n_real, step):
        hi = min(n_real, lo + step)
        dist = _d32(x32[lo:hi], x_sq32[lo:hi], y32, y_sq32, buf[: hi - lo])
        in_real = dist < real_lo[lo:hi, None]  # surely inside real ball i
        unsure = (dist < real_hi[lo:hi, None]) & ~in_real
        rows, cols = np.nonzero(unsure)
        if rows.size:
            in_real[rows, cols] = _exact_sq(x, y, rows + lo, cols) < real_r2[rows + lo]
        in_fake = dist < fake_lo[None, :]
        unsure = (dist < fake_hi[None, :]) & ~in_fake
        rows, cols = np.nonzero(unsure)
        if rows.size:
            in_fake[rows, cols] = _exact_sq(x, y, rows + lo, cols) < fake_r2[cols]
        inside_count += in_real.sum(0)
        covered[lo:hi] = in_real.any(1)
        recall_hit[lo:hi] = in_fake.any(1)
    return {
        "precision": float((inside_count > 0).sum()) / n_fake,
        "recall": float(recall_hit.sum()) / n_real,
        "density": float(inside_count.sum()) / n_fake / k,
        "coverage": float(covered.sum()) / n_real,
    }


def prdc_core(x, y, k: int, *, backend: str = "auto") -> dict[str, float]:
    """Precision, recall, density, coverage of rows ``y`` (fake) against ``x`` (real): numpy
    arrays or torch tensors on one device, trusted input (k < both sizes).

    ``backend="auto"`` runs numpy arrays and CPU tensors through float32 products with exact
    float64 decisions (the notes above ``_prdc_float32``) and GPU tensors through torch in
    float64; ``"float64"`` runs the float64 products on numpy rows (the reference the fast path
    is tested against); ``"torch"`` runs the GPU code on any device (tests)."""
    if not _is_np(x) and backend != "torch" and x.device.type == "cpu":
        x, y = x.numpy(), y.numpy()
    if _is_np(x) and backend == "auto":
        return _prdc_float32(x, y, k)
    if _is_np(x):
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    with contextlib.nullcontext() if _is_np(x) else _inference_mode():
        real_r2 = _knn_radii2(x, k)
        fake_r2 = _knn_radii2(y, k)
        n_real, n_fake = x.shape[0], y.shape[0]
        x_sq, y_sq = _row_sq(x), _row_sq(y)
        inside_count: Any  # numpy arrays or torch tensors, as ``x``
        recall_hit: Any
        covered: Any
        if _is_np(x):
            inside_count = np.zeros(n_fake)  # real balls holding fake j
            recall_hit = np.zeros(n_real, dtype=bool)  # real i inside some fake ball
            covered = np.zeros(n_real, dtype=bool)  # nearest fake inside real ball i
        else:
            import torch

            inside_count = torch.zeros(n_fake, dtype=torch.float64, device=x.device)
            recall_hit = torch.zeros(n_real, dtype=torch.bool, device=x.device)
            covered = torch.zeros(n_real, dtype=torch.bool, device=x.device)
        step = _block_rows(n_fake) * (1 if _is_np(x) else _GPU_SCALE)
        for lo in range(0, n_real, step):
            hi = min(n_real, lo + step)
            d = _sq_dists(x[lo:hi], x_sq[lo:hi], y, y_sq)  # (block, n_fake)
            in_real_ball = d < real_r2[lo:hi, None]
            inside_count += in_real_ball.sum(0)
            covered[lo:hi] = in_real_ball.any(1)
            recall_hit[lo:hi] = (d < fake_r2[None, :]).any(1)
        return {
            "precision": float((inside_count > 0).sum()) / n_fake,
            "recall": float(recall_hit.sum()) / n_real,
            "density": float(inside_count.sum()) / n_fake / k,
            "coverage": float(covered.sum()) / n_real,
        }


def _inference_mode():
    import torch

    return torch.inference_mode()


def prdc_from_tensors(x, y, *, k: int = 5) -> MetricResult:
    """PRDC between rows on one device, numpy arrays or torch tensors (validates ``k`` and
    sizes, not rows)."""
    k = check_int(k, "k", minimum=1)
    for name, t in (("real", x), ("fake", y)):
        if k >= t.shape[0]:
            raise ParameterError(f"k={k} must be smaller than the {name} set's size ({t.shape[0]} samples)")
    n_real, n_fake, d = int(x.shape[0]), int(y.shape[0]), int(x.shape[1])
    if _is_np(x):
        check_prdc_sizes(n_real, n_fake, d, k, held_bytes=8 * (n_real + n_fake) * d)
        values = prdc_core(x, y, k)
    else:
        held = 8 * (n_real + n_fake) * d if x.dtype == y.dtype and x.element_size() == 8 else 0
        check_prdc_sizes(n_real, n_fake, d, k, device=x.device, held_bytes=held)
        values = prdc_core(x.double(), y.double(), k)
    return MetricResult("prdc", values, {"k": k, "distance": "euclidean"}, n_real=n_real, n_fake=n_fake)


def prdc(real: Any, fake: Any, *, k: int = 5) -> MetricResult:
    """Precision, recall, density and coverage of ``fake`` with respect to ``real``.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    k : int, default=5
        Neighbourhood size; must be smaller than both set sizes.

    Returns
    -------
    MetricResult
        ``precision``, ``recall``, ``density``, ``coverage``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> r = prdc(x, x + 100.0, k=3)
    >>> r.precision, r.recall, r.density, r.coverage
    (0.0, 0.0, 0.0, 0.0)
    """
    x = as_features(real, "real", dtype=None)  # float32 rows stay float32: the products are float32 anyway
    y = as_features(fake, "fake", dtype=None)
    check_same_dim(x, y, "real", "fake")
    return prdc_from_tensors(x, y, k=k)


class PRDC(Metric):
    """Precision, recall, density and coverage of FAKE against REAL (k-NN balls, exact)."""

    name = "prdc"
    higher_is_better = True
    outputs = (
        Output("precision", True, (0.0, 1.0), "Precision"),
        Output("recall", True, (0.0, 1.0), "Recall"),
        Output("density", True, (0.0, math.inf), "Density"),
        Output("coverage", True, (0.0, 1.0), "Coverage"),
    )
    resampling = "half"
    streaming = "rows"
    options = (Option("k", "int", 5, "Nearest-neighbour count.", minimum=1),)
    test_options = {"k": 3}
    identity = 1.0

    def compute(self, real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> MetricResult:
        return prdc(real, fake, k=k)
