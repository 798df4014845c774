"""Divergences and distances between histograms (discrete laws), and their estimates from
samples through a shared binning.

Every function takes two histograms ``p`` (real) and ``q`` (generated) over the same bins:
non-negative finite numbers with a positive sum. Counts are fine: each histogram is divided
by its sum first. Logarithms are natural (nats).

=====================  ============================================  ======================
name                   value                                         generator f(u), u=p/q
=====================  ============================================  ======================
total variation        1/2 sum abs(p - q)                            1/2 abs(u - 1)
KL                     sum p log(p/q)                                u log u
reverse KL             sum q log(q/p)                                -log u
Pearson chi^2          sum (p - q)^2 / q                             (u - 1)^2
Neyman chi^2           sum (p - q)^2 / p                             (1 - u)^2 / u
squared Hellinger      sum (sqrt p - sqrt q)^2   (no factor 1/2)     (sqrt u - 1)^2
Jeffreys               sum (p - q) log(p/q)                          (u - 1) log u
Jensen-Shannon         1/2 KL(p||m) + 1/2 KL(q||m), m = (p+q)/2      1/2 (u log u - (u+1) log((u+1)/2))
GAN                    2 JS - log 4                                  u log u - (u+1) log(u+1)
=====================  ============================================  ======================

with the f-divergence convention ``D_f(P||Q) = sum_i q_i f(p_i / q_i)`` of the f-GAN paper
(Nowozin, Cseke & Tomioka 2016, arXiv:1606.00709). The Pearson/Neyman names follow the
generators (Pearson's chi^2 of P against the reference Q divides by q); the f-GAN paper's
integral column lists the two the other way round. Our Jensen-Shannon generator carries the
factor 1/2 so that ``f_divergence(p, q, "jensen_shannon")`` is JS itself (<= ln 2).

Infinite values are returned as ``inf``, never NaN: KL is infinite when some ``q_i = 0 < p_i``
(disjoint supports), reverse KL when some ``p_i = 0 < q_i``. Terms with ``p_i = q_i = 0``
contribute nothing; a term with ``q_i = 0 < p_i`` contributes ``p_i * lim_{u->inf} f(u)/u``
and one with ``p_i = 0 < q_i`` contributes ``q_i * f(0)``.

Histogram distances that are not f-divergences: :func:`minkowski_distance` (L^r),
:func:`histogram_intersection`, :func:`chi2_statistic` (1/2 sum (p-q)^2/(p+q)) and
:func:`ks_distance` (largest gap between the cumulative histograms).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_features, check_choice, check_int, check_memory, check_positive, show
from .errors import DataError, ParameterError

__all__ = [
    "total_variation",
    "kl_divergence",
    "reverse_kl_divergence",
    "js_divergence",
    "squared_hellinger",
    "pearson_chi2",
    "neyman_chi2",
    "jeffreys_divergence",
    "f_divergence",
    "F_GENERATORS",
    "Generator",
    "minkowski_distance",
    "histogram_intersection",
    "chi2_statistic",
    "ks_distance",
    "shared_histograms",
    "divergence_from_samples",
    "HISTOGRAM_DIVERGENCES",
]


def _histograms(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate two histograms over the same bins and normalise each to sum 1."""
    out = []
    for name, h in (("p", p), ("q", q)):
        try:
            arr = np.asarray(h, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"histogram {name}: cannot be read as numbers") from None
        arr = arr.ravel() if arr.ndim > 1 else np.atleast_1d(arr)
        if arr.size == 0:
            raise DataError(f"histogram {name}: is empty")
        if not np.isfinite(arr).all():
            raise DataError(f"histogram {name}: contains NaN or Inf (first at bin {int(np.argmin(np.isfinite(arr)))})")
        if (arr < 0).any():
            i = int(np.argmax(arr < 0))
            raise DataError(f"histogram {name}: has a negative entry {show(arr[i])} at bin {i}")
        total = arr.sum()
        if not total > 0 or not np.isfinite(total):
            raise DataError(f"histogram {name}: cannot be normalised (sum {show(total)})")
        out.append(arr / total)
    if out[0].shape != out[1].shape:
        raise DataError(f"histograms have different numbers of bins: p has {out[0].size}, q has {out[1].size}")
    return out[0], out[1]


def _xlogy_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """sum a log(a/b) with 0 log(0/b) = 0 and a log(a/0) = inf for a > 0."""
    if ((a > 0) & (b == 0)).any():
        return math.inf
    mask = a > 0
    return float(max(np.sum(a[mask] * np.log(a[mask] / b[mask])), 0.0))


def total_variation(p: Any, q: Any) -> float:
    """Total variation distance ``TV = 1/2 sum_i abs(p_i - q_i)`` in [0, 1].

    Equals ``max over sets A of abs(P(A) - Q(A))`` (Scheffé's lemma); 1 for disjoint
    supports. See the module table for the f-GAN generator (arXiv:1606.00709).

    Examples
    --------
    >>> total_variation([1, 0], [0, 1])
    1.0
    >>> total_variation([2, 2], [1, 3])
    0.25
    """
    p, q = _histograms(p, q)
    return float(0.5 * np.abs(p - q).sum())


def kl_divergence(p: Any, q: Any) -> float:
    """Kullback-Leibler divergence ``KL(p||q) = sum_i p_i log(p_i / q_i)`` (nats), >= 0.

    ``inf`` when some ``q_i = 0 < p_i``. Agrees with ``scipy.special.rel_entr(p, q).sum()``.
    Generator ``u log u`` (Nowozin et al. 2016, arXiv:1606.00709).

    Examples
    --------
    >>> round(kl_divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    >>> kl_divergence([1, 0], [0, 1])
    inf
    """
    p, q = _histograms(p, q)
    return _xlogy_ratio(p, q)


def reverse_kl_divergence(p: Any, q: Any) -> float:
    """Reverse KL ``KL(q||p) = sum_i q_i log(q_i / p_i)``; generator ``-log u``.

    Examples
    --------
    >>> round(reverse_kl_divergence([0.25, 0.75], [0.5, 0.5]), 6)
    0.143841
    """
    p, q = _histograms(p, q)
    return _xlogy_ratio(q, p)


def js_divergence(p: Any, q: Any) -> float:
    """Jensen-Shannon divergence ``1/2 KL(p||m) + 1/2 KL(q||m)``, ``m = (p + q)/2`` (nats).

    Symmetric, in [0, ln 2], ``ln 2`` exactly on disjoint supports; its square root is
    ``scipy.spatial.distance.jensenshannon(p, q)``. With the optimal discriminator the GAN
    value is ``2 JS - log 4`` (Goodfellow et al. 2014, arXiv:1406.2661).

    Examples
    --------
    >>> import math
    >>> js_divergence([1, 0], [0, 1]) == math.log(2)
    True
    """
    p, q = _histograms(p, q)
    m = 0.5 * (p + q)
    value = 0.5 * _xlogy_ratio(p, m) + 0.5 * _xlogy_ratio(q, m)
    return float(min(value, math.log(2.0)))


def squared_hellinger(p: Any, q: Any) -> float:
    """Squared Hellinger distance ``sum_i (sqrt p_i - sqrt q_i)^2`` in [0, 2] (no factor 1/2).

    Generator ``(sqrt u - 1)^2`` (arXiv:1606.00709).

    Examples
    --------
    >>> squared_hellinger([1, 0], [0, 1])
    2.0
    """
    p, q = _histograms(p, q)
    return float(((np.sqrt(p) - np.sqrt(q)) ** 2).sum())


def _chi2(a: np.ndarray, b: np.ndarray) -> float:
    """sum (a - b)^2 / b, inf when some b_i = 0 < a_i."""
    if ((a > 0) & (b == 0)).any():
        return math.inf
    mask = b > 0
    return float(((a[mask] - b[mask]) ** 2 / b[mask]).sum())


def pearson_chi2(p: Any, q: Any) -> float:
    """Pearson chi^2 divergence ``sum_i (p_i - q_i)^2 / q_i``; generator ``(u - 1)^2``.

    ``inf`` when some ``q_i = 0 < p_i``.

    Examples
    --------
    >>> pearson_chi2([0.5, 0.5], [0.25, 0.75])
    0.3333333333333333
    """
    p, q = _histograms(p, q)
    return _chi2(p, q)


def neyman_chi2(p: Any, q: Any) -> float:
    """Neyman chi^2 divergence ``sum_i (p_i - q_i)^2 / p_i``; generator ``(1 - u)^2 / u``.

    Examples
    --------
    >>> neyman_chi2([0.25, 0.75], [0.5, 0.5])
    0.3333333333333333
    """
    p, q = _histograms(p, q)
    return _chi2(q, p)


def jeffreys_divergence(p: Any, q: Any) -> float:
    """Jeffreys divergence ``KL(p||q) + KL(q||p) = sum_i (p_i - q_i) log(p_i / q_i)``.

    Generator ``(u - 1) log u``; symmetric; ``inf`` unless both supports agree.

    Examples
    --------
    >>> round(jeffreys_divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.274653
    """
    p, q = _histograms(p, q)
    return float(_xlogy_ratio(p, q) + _xlogy_ratio(q, p))


# -- f-divergences --------------------------------------------------------------------------


@dataclass(frozen=True)
class Generator:
    """A convex ``f`` with ``f(1) = 0``, its value ``f(0)`` and slope ``lim f(u)/u`` at infinity."""

    f: Callable[[np.ndarray], np.ndarray]
    f_at_zero: float
    slope_at_infinity: float


def _xlogx(u: np.ndarray) -> np.ndarray:
    return np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)


#: The generator table of the f-GAN paper (Nowozin et al. 2016, arXiv:1606.00709, table 1),
#: with JS scaled by 1/2 so that it gives JS itself.
F_GENERATORS: dict[str, Generator] = {
    "total_variation": Generator(lambda u: 0.5 * np.abs(u - 1.0), 0.5, 0.5),
    "kl": Generator(_xlogx, 0.0, math.inf),
    "reverse_kl": Generator(lambda u: -np.log(u), math.inf, 0.0),
    "pearson": Generator(lambda u: (u - 1.0) ** 2, 1.0, math.inf),
    "neyman": Generator(lambda u: (1.0 - u) ** 2 / u, math.inf, 1.0),
    "squared_hellinger": Generator(lambda u: (np.sqrt(u) - 1.0) ** 2, 1.0, 1.0),
    "jeffreys": Generator(lambda u: (u - 1.0) * np.log(u), math.inf, math.inf),
    "jensen_shannon": Generator(
        lambda u: 0.5 * (_xlogx(u) - (u + 1.0) * np.log((u + 1.0) / 2.0)), math.log(2.0) / 2.0, math.log(2.0) / 2.0
    ),
    "gan": Generator(lambda u: _xlogx(u) - (u + 1.0) * np.log(u + 1.0), 0.0, 0.0),
}


def f_divergence(
    p: Any,
    q: Any,
    f: str | Callable[[np.ndarray], np.ndarray],
    *,
    f_at_zero: float | None = None,
    slope_at_infinity: float | None = None,
) -> float:
    """The f-divergence ``D_f(P||Q) = sum_i q_i f(p_i / q_i)``.

    Parameters
    ----------
    p, q : array-like of shape (n_bins,)
        Histograms over the same bins (normalised here).
    f : str or callable
        A name from :data:`F_GENERATORS` (``"total_variation"``, ``"kl"``, ``"reverse_kl"``,
        ``"pearson"``, ``"neyman"``, ``"squared_hellinger"``, ``"jeffreys"``,
        ``"jensen_shannon"``, ``"gan"``) or a vectorised convex function with ``f(1) = 0``.
    f_at_zero : float, optional
        ``f(0)`` for a callable (used where ``p_i = 0 < q_i``); default: ``f(0.0)``.
    slope_at_infinity : float, optional
        ``lim_{u->inf} f(u)/u`` for a callable, needed only where ``q_i = 0 < p_i``.

    References
    ----------
    Nowozin, Cseke & Tomioka, "f-GAN", arXiv:1606.00709; Ali & Silvey 1966; Csiszár 1967.

    Examples
    --------
    >>> p, q = [0.5, 0.5], [0.25, 0.75]
    >>> abs(f_divergence(p, q, "kl") - kl_divergence(p, q)) < 1e-12
    True
    >>> f_divergence([1, 0], [0, 1], "total_variation")
    1.0
    >>> round(f_divergence(p, q, lambda u: (u - 1) ** 2), 6)
    0.333333
    """
    p, q = _histograms(p, q)
    if isinstance(f, str):
        check_choice(f, "f", tuple(F_GENERATORS))
        gen = F_GENERATORS[f]
    elif callable(f):
        if f_at_zero is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                f_at_zero = float(np.asarray(f(np.zeros(1)), dtype=np.float64)[0])
        gen = Generator(f, f_at_zero, math.nan if slope_at_infinity is None else float(slope_at_infinity))
    else:
        raise ParameterError(f"f must be a generator name or a callable, got {type(f).__name__}")
    both = (p > 0) & (q > 0)
    only_p = (p > 0) & (q == 0)
    only_q = (p == 0) & (q > 0)
    u = p[both] / q[both]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = q[both] * np.asarray(gen.f(u), dtype=np.float64)
    total = float(terms.sum())
    if only_p.any():
        if math.isnan(gen.slope_at_infinity):
            raise ParameterError(
                "f_divergence: p has mass where q is 0; pass slope_at_infinity = lim f(u)/u for this f"
            )
        total += _mass_times(p[only_p].sum(), gen.slope_at_infinity)
    if only_q.any():
        if math.isnan(gen.f_at_zero):
            raise ParameterError("f_divergence: q has mass where p is 0 and f(0) is NaN; pass f_at_zero")
        total += _mass_times(q[only_q].sum(), gen.f_at_zero)
    if math.isnan(total):
        raise DataError("f_divergence: the sum is undefined (inf - inf); check the generator")
    return total


def _mass_times(mass: float, factor: float) -> float:
    if factor == 0:
        return 0.0
    return float(mass * factor)


# -- histogram distances --------------------------------------------------------------------


def minkowski_distance(p: Any, q: Any, r: float = 2.0) -> float:
    """Minkowski ``L^r`` distance ``(sum_i abs(p_i - q_i)^r)^(1/r)`` between normalised
    histograms; ``r = inf`` gives the largest bin difference.

    Examples
    --------
    >>> minkowski_distance([1, 0], [0, 1], r=1)
    2.0
    >>> minkowski_distance([1, 0], [0, 1], r=float("inf"))
    1.0
    """
    r = check_positive(r, "r", allow_inf=True)
    p, q = _histograms(p, q)
    diff = np.abs(p - q)
    if math.isinf(r):
        return float(diff.max())
    return float((diff**r).sum() ** (1.0 / r))


def histogram_intersection(p: Any, q: Any) -> float:
    """Histogram intersection ``sum_i min(p_i, q_i)`` in [0, 1] (a similarity: 1 means equal;
    ``1 - intersection`` equals the total variation) (Swain & Ballard 1991).

    Examples
    --------
    >>> histogram_intersection([2, 2], [1, 3])
    0.75
    """
    p, q = _histograms(p, q)
    return float(np.minimum(p, q).sum())


def chi2_statistic(p: Any, q: Any) -> float:
    """Symmetric chi^2 histogram distance ``1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` in [0, 1]
    (bins empty in both are skipped).

    Examples
    --------
    >>> chi2_statistic([1, 0], [0, 1])
    1.0
    """
    p, q = _histograms(p, q)
    s = p + q
    mask = s > 0
    return float(0.5 * ((p[mask] - q[mask]) ** 2 / s[mask]).sum())


def ks_distance(p: Any, q: Any) -> float:
    """Kolmogorov-Smirnov distance between histograms over ordered bins: the largest
    absolute difference of the cumulative sums.

    Examples
    --------
    >>> ks_distance([1, 0, 0], [0, 0, 1])
    1.0
    """
    p, q = _histograms(p, q)
    return float(np.abs(np.cumsum(p) - np.cumsum(q)).max())


HISTOGRAM_DIVERGENCES: dict[str, Callable[[Any, Any], float]] = {
    "tv": total_variation,
    "kl": kl_divergence,
    "reverse_kl": reverse_kl_divergence,
    "js": js_divergence,
    "hellinger2": squared_hellinger,
    "pearson": pearson_chi2,
    "neyman": neyman_chi2,
    "jeffreys": jeffreys_divergence,
    "l1": lambda p, q: minkowski_distance(p, q, 1.0),
    "l2": lambda p, q: minkowski_distance(p, q, 2.0),
    "intersection": histogram_intersection,
    "chi2": chi2_statistic,
    "ks": ks_distance,
}


# -- estimates from samples -----------------------------------------------------------------


def shared_histograms(x: Any, y: Any, bins: int | str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two 1-D samples over the same bins, which cover both samples.

    Parameters
    ----------
    x, y : array-like of shape (n,) and (m,)
    bins : int or str, default="auto"
        Number of equal-width bins over ``[min, max]`` of the pooled sample, or a rule of
        :func:`numpy.histogram_bin_edges` (``"auto"``, ``"fd"``, ``"sturges"``, ...)
        applied to the pooled sample.

    Returns
    -------
    counts_x, counts_y, edges

    Examples
    --------
    >>> cx, cy, edges = shared_histograms([0, 0, 1], [1, 1, 2], bins=2)
    >>> cx.tolist(), cy.tolist(), edges.tolist()
    ([2, 1], [0, 3], [0.0, 1.0, 2.0])
    """
    xs = _sample_1d(x, "x")
    ys = _sample_1d(y, "y")
    if not isinstance(bins, str):
        bins = _check_bins(bins)
    pooled = np.concatenate([xs, ys])
    # bins are scale-free: huge finite values are divided by a power of two (exact) so the
    # pooled range cannot overflow
    big = float(np.abs(pooled).max())
    if big > 1e100:
        scale = 2.0 ** math.frexp(big)[1]
        xs, ys, pooled = xs / scale, ys / scale, pooled / scale
    else:
        scale = 1.0
    try:
        edges = np.histogram_bin_edges(pooled, bins=bins)
    except (ValueError, MemoryError) as exc:
        why = "too many bins" if isinstance(exc, MemoryError) else str(exc)
        raise ParameterError(
            f"bins (--bins) {show(bins)}: not usable on this sample ({why}); give a bin count"
        ) from None
    if edges.size - 1 > MAX_BINS:
        raise ParameterError(
            f"bins (--bins) {show(bins)}: the rule gives {edges.size - 1} bins, more than {MAX_BINS}; give a bin count"
        )
    cx, _ = np.histogram(xs, edges)
    cy, _ = np.histogram(ys, edges)
    return cx, cy, edges * scale


#: most bins per feature (a histogram with more bins than this is refused up front)
MAX_BINS = 10_000_000


def _check_bins(bins: Any) -> int:
    bins = check_int(bins, "bins (--bins)", minimum=1)
    if bins > MAX_BINS:
        raise ParameterError(
            f"bins (--bins) {bins}: more than {MAX_BINS} bins per feature "
            f"(about {24 * bins / 2**30:.3g} GiB per feature); use fewer bins"
        )
    check_memory(24.0 * bins, f"bins (--bins) {bins}")
    return bins


def _sample_1d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64) if not hasattr(x, "detach") else x.detach().cpu().numpy().astype(np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D sample, got shape {arr.shape}")
    return as_features(arr[:, None], name, min_samples=1, max_abs=None)[:, 0]


def divergence_from_samples(
    real: Any,
    fake: Any,
    divergence: str = "js",
    *,
    bins: int | str = "auto",
) -> dict[str, Any]:
    """Estimate a histogram divergence between two samples, feature by feature.

    Each feature of ``real`` and ``fake`` is binned with the same edges (covering both
    samples, :func:`shared_histograms`); the divergence of the two histograms is that
    feature's value and ``value`` is the mean over features (``inf`` if any is).

    Parameters
    ----------
    real, fake : array-like of shape (n, d) and (m, d), or 1-D
    divergence : str, default="js"
        One of :data:`HISTOGRAM_DIVERGENCES`: ``tv``, ``kl``, ``reverse_kl``, ``js``,
        ``hellinger2``, ``pearson``, ``neyman``, ``jeffreys``, ``l1``, ``l2``,
        ``intersection``, ``chi2``, ``ks``.
    bins : int or str, default="auto"

    Returns
    -------
    dict
        ``value`` (mean over features), ``per_feature`` (list) and ``bins`` (per feature).

    Examples
    --------
    >>> import numpy as np
    >>> r = divergence_from_samples(np.zeros((5, 1)), np.ones((5, 1)), "tv", bins=2)
    >>> r["value"]
    1.0
    """
    check_choice(divergence, "divergence", tuple(HISTOGRAM_DIVERGENCES))
    x = _as_2d(real, "real")
    y = _as_2d(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise DataError(f"feature dimensions differ: real has {x.shape[1]}, fake has {y.shape[1]}")
    if not isinstance(bins, str):
        bins = _check_bins(bins)
    fn = HISTOGRAM_DIVERGENCES[divergence]
    values, nbins = [], []
    for j in range(x.shape[1]):
        cx, cy, edges = shared_histograms(x[:, j], y[:, j], bins)
        values.append(fn(cx, cy))
        nbins.append(len(edges) - 1)
    return {"value": float(np.mean(values)), "per_feature": values, "bins": nbins}


def _as_2d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    return as_features(arr, name, min_samples=1, max_abs=None)
