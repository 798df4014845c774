"""Precision, recall, density and coverage from k-nearest-neighbour balls.

For a set S and k, the radius of a point s in S is its distance to its k-th nearest *other*
point of S (Euclidean). With real rows r_i (radii rho_i) and fake rows f_j (radii tau_j):

- precision = mean_j 1[exists i: ||f_j - r_i|| < rho_i]   (Kynkäänniemi et al. 2019, arXiv:1904.06991)
- recall    = mean_i 1[exists j: ||r_i - f_j|| < tau_j]
- density   = (1/k) mean_j sum_i 1[||f_j - r_i|| < rho_i]   (Naeem et al. 2020, arXiv:2002.09797)
- coverage  = mean_i 1[min_j ||r_i - f_j|| < rho_i]

Exact: every distance is computed (no approximate search), in float64, a block of rows at a
time, so memory stays O(block x n) and no N x N matrix is ever held. One implementation,
:func:`prdc_core`, runs on the rows' device (numpy on the CPU, torch on a GPU; float64 on
both, so the two agree to the last bit up to the matrix products' summation order); the numpy entry point
:func:`prdc`, :class:`~ganeval.streaming.StreamingPRDC` and :class:`~ganeval.Evaluator` call it.

Memory: the two sets in float64 (``8 (n_real + n_fake) d`` bytes), ``k`` neighbour
distances per row and one block of distances; sizes whose estimate exceeds the memory
available are refused up front with the estimate in the message.
"""

from __future__ import annotations

from typing import Any

import math

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
    try:
        import torch

        if device is not None and torch.device(device).type == "cuda":
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
    except Exception:  # pragma: no cover - informational
        return None
    return int(available_memory())


def check_prdc_sizes(n_real: int, n_fake: int, d: int, k: int, *, device: Any = None,
                     held_bytes: int = 0) -> None:
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


def prdc_core(x, y, k: int, *, backend: str = "auto") -> dict[str, float]:
    """Precision, recall, density, coverage of rows ``y`` (fake) against ``x`` (real): float64
    torch tensors on one device, trusted input (k < both sizes). ``backend="auto"`` runs CPU
    tensors through numpy (zero-copy) and GPU tensors through torch; ``"torch"`` runs the GPU
    code on any device (tests)."""
    import torch

    if backend == "auto" and not _is_np(x) and x.device.type == "cpu":
        x, y = x.numpy(), y.numpy()
    with torch.inference_mode():
        real_r2 = _knn_radii2(x, k)
        fake_r2 = _knn_radii2(y, k)
        n_real, n_fake = x.shape[0], y.shape[0]
        x_sq, y_sq = _row_sq(x), _row_sq(y)
        inside_count: Any  # numpy arrays or torch tensors, as ``x``
        recall_hit: Any
        covered: Any
        if _is_np(x):
            inside_count = np.zeros(n_fake)            # real balls holding fake j
            recall_hit = np.zeros(n_real, dtype=bool)  # real i inside some fake ball
            covered = np.zeros(n_real, dtype=bool)     # nearest fake inside real ball i
        else:
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


def prdc_from_tensors(x, y, *, k: int = 5) -> MetricResult:
    """PRDC between torch row tensors on one device (validates ``k`` and sizes, not rows)."""
    k = check_int(k, "k", minimum=1)
    for name, t in (("real", x), ("fake", y)):
        if k >= t.shape[0]:
            raise ParameterError(f"k={k} must be smaller than the {name} set's size ({t.shape[0]} samples)")
    n_real, n_fake, d = int(x.shape[0]), int(y.shape[0]), int(x.shape[1])
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
    import torch

    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    return prdc_from_tensors(torch.from_numpy(x), torch.from_numpy(y), k=k)


class PRDC(Metric):
    """Precision, recall, density and coverage of FAKE against REAL (k-NN balls, exact)."""

    name = "prdc"
    higher_is_better = True
    outputs = (Output("precision", True, (0.0, 1.0), "Precision"), Output("recall", True, (0.0, 1.0), "Recall"),
               Output("density", True, (0.0, math.inf), "Density"), Output("coverage", True, (0.0, 1.0), "Coverage"))
    resampling = "half"
    streaming = "rows"
    options = (Option("k", "int", 5, "Nearest-neighbour count.", minimum=1),)
    test_options = {"k": 3}
    identity = 1.0

    def compute(self, real: np.ndarray, fake: np.ndarray, *, k: int = 5) -> MetricResult:
        return prdc(real, fake, k=k)
