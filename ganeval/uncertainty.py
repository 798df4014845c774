"""Intervals on metric values (seeded bootstrap) and bias-free FID∞ / IS∞.

Bootstrap (Efron & Tibshirani 1993): the real and the fake rows are resampled with
replacement, independently, ``bootstrap`` times with a seeded generator; the metric is
recomputed on each replicate. ``se`` is the replicates' standard deviation (``ddof=1``); the
interval is their ``(1 - ci)/2`` and ``(1 + ci)/2`` quantiles after moving the replicates'
mean onto the estimate. The move matters: a resample holds copies of rows, and FID, KID and
MMD of such a sample are biased upward (a copied pair counts as a pair at distance 0), so
the raw percentile interval of FID can miss its own estimate.

- **FID** never re-reads rows per replicate: replicate ``b`` has multinomial weights
  ``w_b`` and its moments are weighted sums, ``mu_b = W X / n`` for all replicates in one
  GEMM and ``S_b = (Xc^T diag(w_b) Xc - n d_b d_b^T) / (n - 1)`` with ``Xc = X - mu``,
  ``d_b = mu_b - mu``. When ``B (2 n d^2 + 20 d^3)`` exceeds a budget (d = 2048, n = 10,000
  is far above it: the exact replicates would take hours on two cores), the
  *linear bootstrap* is used instead: each replicate is the first-order expansion
  ``FID + sum_i (w_i / n - 1 / n) IF(x_i)`` with the exact influence function of FID,
  ``IF_real(x) = 2 (mu_r - mu_f).(x - mu_r) + (x - mu_r)^T (I - T) (x - mu_r) - tr((I - T) S_r)``,
  ``T = S_r^{-1/2} (S_r^{1/2} S_f S_r^{1/2})^{1/2} S_r^{-1/2}`` (the Gaussian optimal
  transport map; ``I - T`` is the gradient of the Bures term), and the symmetric form with
  ``T^{-1}`` for the fake rows. ``settings["method"]`` says which was used.
- **Nearest-neighbour metrics** (prdc, memorization): a resample with replacement holds
  copies of rows, whose k-NN radius is then 0 and whose balls are degenerate. These are
  resampled by *half-sampling*: ``n // 2`` distinct rows without replacement per side
  (for a mean, half-sampling without replacement has exactly the variance of the full
  sample), centred on the full-sample estimate like every interval (k-NN metrics depend on
  the sample size, so the half-samples' centre is not the estimate's).

FID∞ and IS∞ (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where
to find them", arXiv:1911.07023): the metric at 15 sizes ``N`` from ``n / 10`` to ``n``
(nested subsets of one seeded permutation, both sides scaled alike), a least-squares line
``value(N) = a + b / N`` and its intercept ``a`` (the value at ``1 / N = 0``) with the
ordinary least-squares standard error of the intercept. IS∞ uses one split. The nested
subsets make the points correlated, so that ``se`` describes the fit, not the sampling
spread; ask for ``ci`` to get a bootstrap interval of FID∞ itself. In the bootstrap world the
population is the empirical law, whose FID∞ is the (biased) plain FID, so the replicates are
centred there: the interval is their percentile spread moved to centre on the estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._validation import as_features, check_int, resolve_seed
from .errors import DataError, ParameterError
from .metrics.fid import drop_roundoff, frechet_distance
from .results import MetricResult

__all__ = [
    "interval",
    "bootstrap_interval",
    "fid_interval",
    "fid_infinity",
    "is_infinity",
    "with_ci",
    "check_ci",
    "INFINITY_SIZES",
    "min_infinity_samples",
]
INFINITY_SIZES = 15
_EXACT_FID_FLOPS = 2e12  # above this the FID bootstrap is linearised
_MAX_WEIGHT_BYTES = 4 * 2**30  # resampling weights of all FID replicates


def check_ci(ci: Any, bootstrap: Any) -> tuple[float, int]:
    """Validate ``ci`` in (0, 1) and ``bootstrap`` >= 10; return them as float and int.

    Examples
    --------
    >>> check_ci(0.95, 200)
    (0.95, 200)
    """
    try:
        level = float(ci)
    except (TypeError, ValueError):
        raise ParameterError(f"ci (--ci) must be a number in (0, 1), got {ci!r}") from None
    if not (0.0 < level < 1.0):
        raise ParameterError(f"ci (--ci) must be in (0, 1), e.g. 0.95; got {ci!r}")
    b = check_int(bootstrap, "bootstrap (--bootstrap)", minimum=10)
    return level, b


def _summary(replicates: np.ndarray, level: float) -> tuple[float, float, float]:
    lo, hi = np.quantile(replicates, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi), float(np.std(replicates, ddof=1))


def _natural_range(metric: str, key: str) -> tuple[float, float]:
    """The declared natural range of a registered metric's number (interval ends are
    clipped to it: a centred interval can cross a bound)."""
    from .metrics.registry import metrics

    m = metrics().get(metric)
    for out in m.all_outputs() if m is not None else ():
        if out.key == key:
            return out.range
    return (-math.inf, math.inf)


def _attach(
    result: MetricResult,
    replicates: Mapping[str, np.ndarray],
    level: float,
    bootstrap: int,
    seed: Any,
    extra: Mapping[str, Any],
    *,
    centre_on_estimate: bool = True,
) -> MetricResult:
    """A copy of ``result`` with ``ci_low``, ``ci_high``, ``se`` (scalars for ``value``, else
    dicts keyed by the named numbers) and the interval's settings."""
    lows, highs, ses = {}, {}, {}
    for key, reps in replicates.items():
        reps = np.asarray(reps, dtype=np.float64)
        if not np.isfinite(reps).all():
            raise DataError(f"bootstrap replicates of {result.metric} {key} are not finite")
        if centre_on_estimate:
            reps = reps - reps.mean() + float(result[key])
        lows[key], highs[key], ses[key] = _summary(reps, level)
        lo_bound, hi_bound = _natural_range(result.metric, key)
        if result.metric == "mmd" and result.settings.get("estimator") == "biased":
            lo_bound = 0.0  # the V-statistic is a squared norm
        lows[key] = min(max(lows[key], lo_bound), hi_bound)
        highs[key] = min(max(highs[key], lo_bound), hi_bound)
    values = dict(result.values)
    if list(replicates) == ["value"]:
        values.update(ci_low=lows["value"], ci_high=highs["value"], se=ses["value"])
    else:
        values.update(ci_low=lows, ci_high=highs, se=ses)
    settings = dict(result.settings)
    settings.update(ci=level, bootstrap=bootstrap, seed=seed if isinstance(seed, int) else None, **extra)
    return MetricResult(result.metric, values, settings, n_real=result.n_real, n_fake=result.n_fake)


def _resolve_function(metric: Any) -> tuple[str, Callable[..., Any], Any]:
    """``(name, function, Metric or None)`` of a registered name, a Metric or a function."""
    from .metrics.base import Metric
    from .metrics.registry import get

    if isinstance(metric, Metric):
        return metric.name, metric, metric
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric, None
    m = get(str(metric))
    return m.name, m, m


def interval(
    metric: Any,
    *inputs: Any,
    ci: float = 0.95,
    bootstrap: int = 200,
    seed: Any = 0,
    options: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> MetricResult:
    """Any registered metric with a seeded bootstrap interval, resampled as it declares.

    The one implementation of ``--ci`` / ``ci=``: the metric's ``resampling`` says how
    (rows with replacement, or half-samples without replacement for nearest-neighbour
    metrics); a metric that declares none is refused with its reason. FID uses the
    weighted-moment replicates of :func:`fid_interval`.

    Parameters
    ----------
    metric : str or Metric
    *inputs : the metric's inputs as feature rows (``real, fake``; or one sample)
    options : mapping, optional
        The metric's options (checked against its declaration). Its ``seed``, when given,
        is the metric's own seed; otherwise seeded metrics take the resampling ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = interval("prdc", rng.normal(size=(120, 3)), rng.normal(size=(120, 3)) + 1, bootstrap=20,
    ...              options={"k": 3})
    >>> r.settings["resampling"], sorted(r.ci_low)
    ('half-sampling without replacement', ['coverage', 'density', 'precision', 'recall'])
    """
    _, _, m = _resolve_function(metric)
    if m is None:
        raise ParameterError(f"interval: {metric!r} is not a registered metric")
    if m.resampling is None:
        raise ParameterError(f"{m.name} has no bootstrap interval (ci=): {m.no_interval}")
    given = m.check_options(options or {}, fill=False)
    metric_seed = given.pop("seed", None)
    if not 1 <= len(inputs) <= 2:
        raise ParameterError(f"interval: {m.name} takes one or two inputs (real, fake), got {len(inputs)}")
    real, fake = inputs[0], (inputs[1] if len(inputs) == 2 else None)
    extra: dict[str, Any] = {"columns": list(columns)} if columns is not None and m.uses_columns else {}
    return bootstrap_interval(
        m,
        real,
        fake,
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        metric_seed=metric_seed,
        resampling=m.resampling,
        progress=progress,
        **extra,
        **given,
    )


def _interval_keys(result: MetricResult, keys: Sequence[str] | None) -> list[str]:
    if keys is not None:
        return list(keys)
    if "value" in result.values:
        return ["value"]
    return [k for k, v in result.values.items() if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)]


def bootstrap_interval(
    metric: Any,
    real: Any,
    fake: Any = None,
    *,
    ci: float = 0.95,
    bootstrap: int = 200,
    seed: Any = 0,
    keys: Sequence[str] | None = None,
    resampling: str = "auto",
    metric_seed: Any = None,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> MetricResult:
    """A metric with a seeded bootstrap interval and standard error.

    Parameters
    ----------
    metric : str or callable
        A registered metric name (``"fid"``, ``"kid"``, ``"mmd"``, ``"prdc"``, ``"is"``,
        ``"vendi"``, ...) or a function ``f(real, fake, **options)`` (``f(x, **options)``
        when ``fake`` is None) returning a :class:`~ganeval.results.MetricResult`.
    real, fake : array-like of shape (n, d)
        Feature rows. For one-sample metrics (``"is"``, ``"vendi"``) pass the rows as
        ``real`` and leave ``fake`` None.
    ci : float, default=0.95
        Interval level, in (0, 1).
    bootstrap : int, default=200
        Number of replicates (at least 10).
    seed : int, default=0
        Seed of the resampling; also passed to seeded metrics unless ``metric_seed`` is given.
    metric_seed : int, optional
        The metric's own ``seed`` option (e.g. KID's subset draws).
    keys : sequence of str, optional
        Which numbers get an interval (default: ``value``, else every scalar, as prdc's four).
    resampling : {"auto", "replacement", "half"}, default="auto"
        ``"half"``: half-sampling without replacement, the interval centred on the estimate
        (the default for nearest-neighbour metrics, see the module notes).
    **options
        Passed to the metric.

    Returns
    -------
    MetricResult
        The metric's result plus ``ci_low``, ``ci_high``, ``se`` and settings ``ci``,
        ``bootstrap``, ``seed``, ``resampling``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 1
    >>> r = bootstrap_interval("mmd", x, y, bootstrap=20, bandwidth=1.0)
    >>> bool(r.ci_low <= r.value <= r.ci_high), r.settings["bootstrap"]
    (True, 20)
    """
    level, b = check_ci(ci, bootstrap)
    name, function, declared = _resolve_function(metric)
    if declared is not None and declared.name == "fid" and fake is not None and resampling in ("auto", "replacement"):
        return fid_interval(real, fake, ci=level, bootstrap=b, seed=seed, progress=progress, **options)
    if resampling not in ("auto", "replacement", "half"):
        raise ParameterError(f"resampling must be 'auto', 'replacement' or 'half'; got {resampling!r}")
    if resampling == "auto":
        resampling = "half" if declared is not None and declared.resampling == "half" else "replacement"
    rng = resolve_seed(seed)
    x = as_features(real, "real" if fake is not None else "samples", min_samples=2)
    y = None if fake is None else as_features(fake, "fake", min_samples=2)
    seeded = declared.seeded if declared is not None else "seed" in _parameters(function)
    if seeded and (metric_seed is not None or isinstance(seed, int)):
        options = {**options, "seed": seed if metric_seed is None else metric_seed}

    def call(a, c):
        return function(a, **options) if c is None else function(a, c, **options)

    estimate = call(x, y)
    wanted = _interval_keys(estimate, keys)
    reps = {k: np.empty(b) for k in wanted}
    for i in range(b):
        ix = _draw(rng, x.shape[0], resampling)
        iy = None if y is None else _draw(rng, y.shape[0], resampling)
        r = call(x[ix], None if y is None else y[iy])
        for k in wanted:
            reps[k][i] = float(r[k])
        if progress is not None:
            progress(1)
    return _attach(
        estimate,
        reps,
        level,
        b,
        seed,
        {
            "resampling": "half-sampling without replacement" if resampling == "half" else "with replacement",
            "ci_method": "percentile, centred on the estimate",
        },
    )


def _parameters(function: Callable[..., Any]) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set()


def _draw(rng: np.random.Generator, n: int, resampling: str) -> np.ndarray:
    if resampling == "half":
        return np.sort(rng.choice(n, max(2, n // 2), replace=False))
    return rng.integers(0, n, n)


def with_ci(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a functional metric so that it takes ``ci=``, ``bootstrap=``, ``seed=``.

    Without ``ci`` the wrapped function is called as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from ganeval.metrics.fid import fid_from_features
    >>> fid = with_ci(fid_from_features)
    >>> rng = np.random.default_rng(0)
    >>> r = fid(rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + 1, ci=0.9, bootstrap=50)
    >>> bool(r.ci_low < r.value < r.ci_high)
    True
    """
    import functools

    @functools.wraps(function)
    def wrapped(*args: Any, ci: float | None = None, bootstrap: int = 200, seed: Any = 0, **options: Any):
        if ci is None:
            return function(*args, **options)
        name = {"fid_from_features": "fid"}.get(function.__name__, function)
        return bootstrap_interval(name, *args, ci=ci, bootstrap=bootstrap, seed=seed, **options)

    return wrapped


# -- FID: replicates from weighted moments ---------------------------------------------------


def _weighted_moments(x: np.ndarray, weights: np.ndarray, mean: np.ndarray, xc: np.ndarray):
    """Means (B, d) for all replicates in one GEMM, and a generator of their covariances."""
    n = x.shape[0]
    means = weights @ x / n

    def cov(b: int) -> np.ndarray:
        d = means[b] - mean
        m2 = (xc * weights[b][:, None]).T @ xc - n * np.outer(d, d)
        return m2 / (n - 1)

    return means, cov


def _eig_psd(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return drop_roundoff(w), v


def _power(w: np.ndarray, v: np.ndarray, p: float) -> np.ndarray:
    """``V diag(w^p) V^T`` over the positive eigenvalues (a pseudo-inverse for p < 0)."""
    r = np.zeros_like(w)
    pos = w > 0
    r[pos] = w[pos] ** p
    return (v * r) @ v.T


def fid_influence(x: np.ndarray, y: np.ndarray, moments: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Influence values of FID for every real row and every fake row (trusted input).

    ``FID(P_n + t (delta_x - P_n)) = FID + t IF(x) + O(t^2)``; see the module notes. With the
    Cholesky factor ``S1 = L L^T`` and the eigendecomposition ``L^T S2 L = U diag(w) U^T``,
    the transport map is ``T = B B^T`` with ``B = L^{-T} U w^{1/4}`` and its inverse
    ``T^{-1} = C C^T`` with ``C = L U w^{-1/4}``, so the quadratic forms are
    ``x^T (I - T) x = |x|^2 - |B^T x|^2``: one Cholesky, one symmetric eigendecomposition and
    no d x d inverse. ``moments`` = ``(mu1, S1, mu2, S2)`` if known.
    """
    import scipy.linalg

    if moments is None:
        moments = (x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)), y.mean(0), np.atleast_2d(np.cov(y, rowvar=False)))
    mu1, s1, mu2, s2 = moments
    try:
        lower = scipy.linalg.cholesky(s1, lower=True, check_finite=False)
    except np.linalg.LinAlgError:  # singular S1 (n <= d): pseudo-inverse square roots
        lower = None
    if lower is not None:
        m = lower.T @ s2 @ lower
        w, u = _eig_psd(m)
        quarter = np.zeros_like(w)
        quarter[w > 0] = w[w > 0] ** 0.25
        inv_quarter = np.zeros_like(w)
        inv_quarter[w > 0] = 1.0 / quarter[w > 0]
        b_fac = scipy.linalg.solve_triangular(lower.T, u * quarter, lower=False, check_finite=False)
        c_fac = lower @ (u * inv_quarter)
    else:
        w1, v1 = _eig_psd(s1)
        r1, r1i = _power(w1, v1, 0.5), _power(w1, v1, -0.5)
        wm, vm = _eig_psd(r1 @ s2 @ r1)
        b_fac = r1i @ (vm * np.where(wm > 0, wm, 0.0) ** 0.25)
        c_fac = r1 @ (vm * _inv_quarter(wm))
    diff = mu1 - mu2
    out = []
    for rows, mu, fac, sign in ((x, mu1, b_fac, 1.0), (y, mu2, c_fac, -1.0)):
        rc = rows - mu
        # the quadratic forms in float32: influence values need ~6 digits, not 15
        rc32 = rc.astype(np.float32)
        proj = rc32 @ fac.astype(np.float32)
        quad = np.einsum("ij,ij->i", rc32, rc32, dtype=np.float64) - np.einsum("ij,ij->i", proj, proj, dtype=np.float64)
        # minus the quadratic form's mean (= tr((I - T) S) with the 1/n covariance): the
        # empirical influence values, which sum to 0
        out.append(sign * 2.0 * (rc @ diff) + quad - quad.mean())
    return out[0], out[1]


def _inv_quarter(w: np.ndarray) -> np.ndarray:
    r = np.zeros_like(w)
    r[w > 0] = w[w > 0] ** -0.25
    return r


def _exact_fid_replicates(
    x: np.ndarray,
    y: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
    means: tuple[np.ndarray, np.ndarray],
    eps: float,
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    """The FID of each bootstrap replicate, from the moments of the rows weighted by
    ``w1[i]``, ``w2[i]`` (multinomial counts), centred on the full samples' ``means``."""
    mu1, mu2 = means
    m1, cov1 = _weighted_moments(x, w1, mu1, x - mu1)
    m2, cov2 = _weighted_moments(y, w2, mu2, y - mu2)
    reps = np.empty(w1.shape[0])
    for i in range(w1.shape[0]):
        reps[i] = frechet_distance(m1[i], cov1(i), m2[i], cov2(i), eps=eps)
        if progress is not None:
            progress(1)
    return reps


def fid_interval(
    real: Any,
    fake: Any,
    *,
    ci: float = 0.95,
    bootstrap: int = 200,
    seed: Any = 0,
    method: str = "auto",
    eps: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> MetricResult:
    """FID with a bootstrap interval from weighted moments (no rows re-read per replicate).

    Parameters
    ----------
    real, fake : array-like of shape (n, d)
    ci, bootstrap, seed : as :func:`bootstrap_interval`
    method : {"auto", "exact", "linear"}, default="auto"
        ``"exact"``: every replicate's FID from its weighted moments; ``"linear"``: the
        first-order (influence-function) replicates; ``"auto"``: exact unless
        ``bootstrap * (2 n d^2 + 20 d^3)`` exceeds 2e12 floating-point operations.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(500, 4)), rng.normal(size=(500, 4)) + 0.5
    >>> r = fid_interval(x, y, bootstrap=50)
    >>> r.settings["method"], bool(r.ci_low < r.value < r.ci_high)
    ('exact', True)
    """
    from ._validation import check_same_dim
    from .metrics.fid import fid_from_stats
    from .statistics import FeatureStats

    level, b = check_ci(ci, bootstrap)
    if method not in ("auto", "exact", "linear"):
        raise ParameterError(f"method must be 'auto', 'exact' or 'linear'; got {method!r}")
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    check_same_dim(x, y, "real", "fake")
    st1, st2 = FeatureStats.from_features(x), FeatureStats.from_features(y)
    estimate = fid_from_stats(st1, st2, eps=eps)
    n1, n2, d = x.shape[0], y.shape[0], x.shape[1]
    if method == "auto":
        flops = b * (2.0 * (n1 + n2) * d * d + 20.0 * d**3)
        method = "exact" if flops <= _EXACT_FID_FLOPS else "linear"
    need = 8.0 * b * (n1 + n2)
    if need > _MAX_WEIGHT_BYTES:
        raise ParameterError(
            f"bootstrap={b} with {n1} + {n2} rows needs {need / 2**30:.1f} GiB of resampling "
            f"weights (limit {_MAX_WEIGHT_BYTES / 2**30:.0f} GiB); pass a smaller --bootstrap"
        )
    rng = resolve_seed(seed)
    w1 = rng.multinomial(n1, np.full(n1, 1.0 / n1), size=b).astype(np.float64)
    w2 = rng.multinomial(n2, np.full(n2, 1.0 / n2), size=b).astype(np.float64)
    if method == "linear":
        eye = eps * np.eye(x.shape[1])
        if1, if2 = fid_influence(x, y, (st1.mean, st1.cov + eye, st2.mean, st2.cov + eye))
        reps = estimate.value + (w1 - 1.0) @ if1 / n1 + (w2 - 1.0) @ if2 / n2
        if progress is not None:
            progress(b)
    else:
        reps = _exact_fid_replicates(x, y, w1, w2, (st1.mean, st2.mean), eps, progress)
    return _attach(
        estimate,
        {"value": reps},
        level,
        b,
        seed,
        {
            "method": method,
            "resampling": "with replacement (multinomial weights)",
            "ci_method": "percentile, centred on the estimate",
        },
    )


# -- FID∞ and IS∞ ------------------------------------------------------------------------------


def min_infinity_samples(points: int = INFINITY_SIZES) -> int:
    """Fewest samples for ``points`` distinct sizes from n/10 to n, the smallest >= 2."""
    n = 20
    while len(_sizes(n, points)) < points or n // 10 < 2:
        n += 1
    return n


def _sizes(n: int, points: int) -> list[int]:
    return sorted(set(np.linspace(n // 10, n, points).astype(int).tolist()))


def _check_infinity_n(n: int, name: str, points: int) -> list[int]:
    need = min_infinity_samples(points)
    if n < need:
        raise DataError(f"{name}: --infinity needs at least {need} samples ({points} sizes from n/10 to n), got {n}")
    return _sizes(n, points)


def _extrapolate(sizes: Sequence[int], values: Sequence[float]) -> tuple[float, float]:
    """Intercept at 1/N = 0 of the least-squares line ``value = a + b / N`` and its OLS se."""
    inv = 1.0 / np.asarray(sizes, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    design = np.stack([np.ones_like(inv), inv], axis=1)
    coef, *_ = np.linalg.lstsq(design, v, rcond=None)
    resid = v - design @ coef
    k = len(v)
    s2 = float(resid @ resid) / (k - 2)
    sxx = float(((inv - inv.mean()) ** 2).sum())
    se = math.sqrt(s2 * (1.0 / k + inv.mean() ** 2 / sxx))
    return float(coef[0]), se


def fid_infinity(
    real: Any,
    fake: Any,
    *,
    points: int = INFINITY_SIZES,
    seed: Any = 0,
    ci: float | None = None,
    bootstrap: int = 200,
    progress: Callable[[int], None] | None = None,
) -> MetricResult:
    """FID∞: FID extrapolated to infinitely many samples (Chong & Forsyth 2020).

    .. math:: \\mathrm{FID}_N \\approx \\mathrm{FID}_\\infty + b / N

    FID is computed on ``points`` nested subsets (one seeded permutation per side; the
    ``j``-th subset holds the first ``N_j`` fake rows and the first ``N_j n_real / n_fake``
    real rows) with ``N_j`` from ``n_fake / 10`` to ``n_fake``; ``value`` is the intercept of
    the least-squares line in ``1 / N``.

    Parameters
    ----------
    real, fake : array-like of shape (n, d)
        Both need at least :func:`min_infinity_samples` rows (20 for 15 sizes).
    points : int, default=15
    seed : int, default=0
    ci : float, optional
        Also give a bootstrap interval of FID∞ (``bootstrap`` replicates, resampled with
        replacement): ``ci_low``, ``ci_high``, ``se_bootstrap``.

    Returns
    -------
    MetricResult
        ``value`` (FID∞), ``se`` (of the intercept), ``value_at_n`` (plain FID at the full
        sizes), ``sizes``, ``values`` (FID at each size).

    References
    ----------
    Chong & Forsyth, "Effectively Unbiased FID and Inception Score and where to find them",
    CVPR 2020, arXiv:1911.07023.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = fid_infinity(rng.normal(size=(400, 3)), rng.normal(size=(400, 3)) + 1)
    >>> len(r.sizes), r.sizes[0], r.sizes[-1]
    (15, 40, 400)
    """
    x = as_features(real, "real")
    y = as_features(fake, "fake")
    points = check_int(points, "points", minimum=3)
    _check_infinity_n(x.shape[0], "real", points)
    sizes = _check_infinity_n(y.shape[0], "fake", points)
    value, se, values, at_n = _fid_inf(x, y, sizes, resolve_seed(seed))
    result = MetricResult(
        "fid",
        {"value": value, "se": se, "value_at_n": at_n, "sizes": sizes, "values": values},
        {
            "infinity": True,
            "points": len(sizes),
            "seed": seed if isinstance(seed, int) else None,
            "fit": "least squares in 1/N, nested subsets",
        },
        n_real=x.shape[0],
        n_fake=y.shape[0],
    )
    if ci is None:
        return result
    return _infinity_interval(
        result,
        lambda g: _fid_inf(
            x[g.integers(0, x.shape[0], x.shape[0])], y[g.integers(0, y.shape[0], y.shape[0])], sizes, g
        )[0],
        ci,
        bootstrap,
        seed,
        progress,
    )


def _fid_inf(x, y, sizes, rng):
    from .metrics.fid import fid_from_features

    px, py = rng.permutation(x.shape[0]), rng.permutation(y.shape[0])
    ratio = x.shape[0] / y.shape[0]
    values = []
    for n in sizes:
        nr = max(2, int(round(n * ratio)))
        values.append(fid_from_features(x[px[:nr]], y[py[:n]]).value)
    value, se = _extrapolate(sizes, values)
    return value, se, values, values[-1]


def _infinity_interval(result, replicate, ci, bootstrap, seed, progress):
    level, b = check_ci(ci, bootstrap)
    rng = resolve_seed(seed)
    children = rng.spawn(b)
    reps = np.empty(b)
    for i, g in enumerate(children):
        reps[i] = replicate(g)
        if progress is not None:
            progress(1)
    # in the bootstrap world the "population" is the empirical law, whose FID∞ is the biased
    # plain value: keep the replicates' spread, centred on the estimate
    reps = reps - reps.mean() + float(result.value)
    lo, hi, se_b = _summary(reps, level)
    values = dict(result.values)
    values.update(ci_low=lo, ci_high=hi, se_bootstrap=se_b)
    settings = dict(result.settings)
    settings.update(
        ci=level, bootstrap=b, ci_method="percentile spread centred on the estimate", resampling="with replacement"
    )
    return MetricResult(result.metric, values, settings, n_real=result.n_real, n_fake=result.n_fake)


def is_infinity(
    logits: Any,
    *,
    points: int = INFINITY_SIZES,
    seed: Any = 0,
    input: str = "logits",
    ci: float | None = None,
    bootstrap: int = 200,
    progress: Callable[[int], None] | None = None,
) -> MetricResult:
    """IS∞: the Inception Score (one split) extrapolated to infinitely many samples.

    .. math:: \\mathrm{IS}_N \\approx \\mathrm{IS}_\\infty + b / N

    Same procedure as :func:`fid_infinity` on the rows of class logits.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.random.default_rng(0).normal(size=(500, 10)) * 3
    >>> r = is_infinity(logits)
    >>> bool(1.0 < r.value < 10.0), len(r.sizes)
    (True, 15)
    """
    from .metrics.inception_score import inception_score

    x = as_features(logits, input, min_samples=1)
    points = check_int(points, "points", minimum=3)
    sizes = _check_infinity_n(x.shape[0], input, points)

    def run(arr, g):
        perm = g.permutation(arr.shape[0])
        vals = [inception_score(arr[perm[:n]], splits=1, input=input).value for n in sizes]
        v, se = _extrapolate(sizes, vals)
        return v, se, vals

    value, se, values = run(x, resolve_seed(seed))
    result = MetricResult(
        "is",
        {"value": value, "se": se, "value_at_n": values[-1], "sizes": sizes, "values": values},
        {
            "infinity": True,
            "points": len(sizes),
            "splits": 1,
            "input": input,
            "seed": seed if isinstance(seed, int) else None,
            "fit": "least squares in 1/N, nested subsets",
        },
        n_real=None,
        n_fake=x.shape[0],
    )
    if ci is None:
        return result
    return _infinity_interval(
        result, lambda g: run(x[g.integers(0, x.shape[0], x.shape[0])], g)[0], ci, bootstrap, seed, progress
    )
