"""The library entry for the metrics on raw rows (tabular data): :func:`compare`.

:func:`ganeval.evaluate` serves the feature metrics (FID, KID, IS, PRDC, MMD) of images or
feature rows; :func:`compare` is its sibling for the metrics that work on the rows as they
are: ECDF L^p, the classifier two-sample test, nested-model F1, Wasserstein, histogram
divergences and MMD. Both read each input once and return ``{metric: MetricResult}``; the
tabular commands of the CLI and the benchmark report call them::

    import ganeval
    r = ganeval.compare("builtin:wine/train", "builtin:wine/test", ["ecdf", "c2st"])
    r["c2st"].accuracy

REAL and FAKE are read together (:func:`ganeval.sources.tabular.load_table_pair`): same
columns, matched by name, ``categorical`` columns one-hot encoded with categories fitted on
REAL.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ._validation import check_choice
from .errors import ParameterError
from .results import MetricResult

__all__ = ["compare", "TABLE_METRICS"]

#: metrics :func:`compare` computes (``nested-f1`` needs ``target``)
TABLE_METRICS = ("ecdf", "c2st", "wasserstein", "divergence", "mmd", "nested-f1")


def compare(real: Any, fake: Any, metrics: Iterable[str] = ("ecdf",), *,
            options: Mapping[str, Mapping[str, Any]] | None = None,
            columns: str | Sequence[str] | None = None, categorical: str | Sequence[str] | None = None,
            skip_invalid: bool = False, target: str | None = None, real_test: Any = None,
            names: tuple[str, str] | None = None, ci: float | None = None, bootstrap: int = 200,
            seed: Any = 0, progress: Any = None) -> dict[str, MetricResult]:
    """Compute several tabular metrics between ``real`` and ``fake``, reading each input once.

    Parameters
    ----------
    real, fake : path (``.csv``, ``.npy``, ``.npz``), ``builtin:NAME/SPLIT``, array, DataFrame-like
        For ``nested-f1`` these are the real and the synthetic *training* rows.
    metrics : iterable of {"ecdf", "c2st", "wasserstein", "divergence", "mmd", "nested-f1"}
    options : mapping of metric name to keyword options, optional
        Passed to the metric function: ``ecdf`` (``p``, ``multivariate``), ``c2st``
        (``classifier``, ``folds``, ``seed``, ``permutations``), ``wasserstein`` (``p``,
        ``sliced``, ``projections``, ``seed``, ...), ``divergence`` (``divergence``,
        ``bins``), ``mmd`` (``kernel``, ``bandwidth``, ``seed``, ...), ``nested-f1``
        (``model``, ``seed``, ``test_fraction``).
    columns, categorical : str or list of str, optional
        Columns to use; text columns to one-hot encode (categories from ``real``).
    skip_invalid : bool, default=False
        Drop rows with a missing value instead of stopping.
    target : str, optional
        The class column (required by ``nested-f1``; excluded from its features).
    real_test : input, optional
        Held-out real rows for ``nested-f1`` (default: a stratified part of ``real``).
    names : (str, str), optional
        Names of ``real`` and ``fake`` recorded in the settings (default: the specs as given
        when they are strings, else ``"real"`` / ``"fake"``).
    ci : float, optional
        Add a seeded bootstrap interval at this level (e.g. 0.95) to every metric except
        ``nested-f1``: ``ci_low``, ``ci_high``, ``se`` (:func:`ganeval.uncertainty.bootstrap_interval`).
        Rows are resampled with replacement, except for ``c2st``, whose classifier would see
        a duplicated row on both sides of a fold: half-samples without replacement there.
    bootstrap : int, default=200
        Replicates of the interval (at least 10).
    seed : int, default=0
        Seed of the resampling (the metrics' own seeds are their options).
    progress : callable, optional
        Called with 1 after each bootstrap replicate.

    Returns
    -------
    dict of str to MetricResult
        In the order asked; each result's settings name the inputs (``real``, ``fake``)
        and any rows dropped (``skipped_rows``).

    Notes
    -----
    ECDF: (integral |F_real - F_fake|^p dt)^(1/p) per feature; C2ST: Lopez-Paz & Oquab,
    arXiv:1610.06545; nested F1: Gonzalez-Prieto et al., arXiv:2110.15914; MMD: Gretton et
    al. 2012 (JMLR 13); Wasserstein: exact optimal transport (POT).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 2.0
    >>> r = compare(a, b, ["ecdf", "c2st"])
    >>> round(r["ecdf"].value, 1), r["c2st"].accuracy > 0.8
    (2.0, True)
    """
    metrics = list(dict.fromkeys((metrics,) if isinstance(metrics, str) else metrics))
    if not metrics:
        raise ParameterError("metrics: give at least one metric")
    for m in metrics:
        check_choice(m, "metric", TABLE_METRICS)
    options = {k: dict(v) for k, v in (options or {}).items()}
    unknown = set(options) - set(metrics)
    if unknown:
        raise ParameterError(f"options given for metrics not asked for: {sorted(unknown)}")
    if "nested-f1" in metrics and not target:
        raise ParameterError("nested-f1 needs target= (the class column)")
    if ci is not None:
        from .uncertainty import check_ci

        check_ci(ci, bootstrap)
        if "nested-f1" in metrics:
            raise ParameterError("nested-f1 has no bootstrap interval (ci=): it is a train/test protocol, "
                                 "not a function of two samples")
    real_name, fake_name = names or (_name(real, "real"), _name(fake, "fake"))

    results: dict[str, MetricResult] = {}
    unlabelled = [m for m in metrics if m != "nested-f1"]
    if unlabelled:
        from .sources.tabular import load_table_pair

        pair = load_table_pair(real, fake, columns=columns, categorical=categorical, skip_invalid=skip_invalid)
        for m in unlabelled:
            opts = options.get(m, {})
            if ci is None:
                r = _one(m, pair.real, pair.fake, pair.columns, dict(opts))
            else:
                from .uncertainty import bootstrap_interval

                def metric(a, b, _m=m, _opts=opts):
                    return _one(_m, a, b, pair.columns, dict(_opts))

                metric.__name__ = m
                r = bootstrap_interval(metric, pair.real, pair.fake, ci=ci, bootstrap=bootstrap, seed=seed,
                                       resampling="half" if m == "c2st" else "replacement", progress=progress)
            results[m] = _with_inputs(r, real_name, fake_name, pair.skipped)
    if "nested-f1" in metrics:
        results["nested-f1"] = _nested_f1(real, fake, real_test, target, columns, categorical, skip_invalid,
                                          options.get("nested-f1", {}), real_name, fake_name)
    return {m: results[m] for m in metrics}


def _name(spec: Any, default: str) -> str:
    import os

    return os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else default


def _one(metric: str, x: Any, y: Any, columns: list[str], opts: dict[str, Any]) -> MetricResult:
    if metric == "ecdf":
        from .metrics.ecdf import ecdf_distance

        return ecdf_distance(x, y, columns=columns, **opts)
    if metric == "c2st":
        from .metrics.c2st import classifier_two_sample_test

        return classifier_two_sample_test(x, y, columns=columns, **opts)
    if metric == "wasserstein":
        from .metrics.wasserstein import wasserstein_distance

        return wasserstein_distance(x, y, columns=columns, **opts)
    if metric == "mmd":
        from .metrics.mmd import maximum_mean_discrepancy

        return maximum_mean_discrepancy(x, y, **opts)
    # divergence
    from .divergences import divergence_from_samples

    kind = opts.pop("divergence", "js")
    bins = opts.pop("bins", "auto")
    if opts:
        raise ParameterError(f"divergence: unknown options {sorted(opts)}; known: bins, divergence")
    out = divergence_from_samples(x, y, kind, bins=bins)
    return MetricResult("divergence", {"value": out["value"], "per_feature": out["per_feature"]},
                        {"divergence": kind, "bins": bins, "bins_per_feature": out["bins"], "columns": columns},
                        n_real=int(x.shape[0]), n_fake=int(y.shape[0]))


def _nested_f1(real: Any, fake: Any, real_test: Any, target: str, columns: Any, categorical: Any,
               skip_invalid: bool, opts: dict[str, Any], real_name: str, fake_name: str) -> MetricResult:
    from .metrics.nested_f1 import nested_model_f1
    from .sources.tabular import load_labelled_tables

    specs = [real, fake] + ([real_test] if real_test is not None else [])
    tables, feature_names = load_labelled_tables(specs, target, columns=columns, categorical=categorical,
                                                 skip_invalid=skip_invalid)
    test = tables[2] if real_test is not None else None
    r = nested_model_f1(tables[0].rows, tables[0].labels, tables[1].rows, tables[1].labels,
                        None if test is None else test.rows, None if test is None else test.labels,
                        columns=feature_names, **opts)
    extra: dict[str, Any] = {"target": target}
    if real_test is not None:
        extra["real_test"] = _name(real_test, "real_test")
    return _with_inputs(r, real_name, fake_name, {}, **extra)


def _with_inputs(r: MetricResult, real: str, fake: str, skipped: Mapping[str, int], **extra: Any) -> MetricResult:
    settings = dict(r.settings)
    settings.update(real=real, fake=fake, **extra)
    if skipped:
        settings["skipped_rows"] = dict(skipped)
    return MetricResult(r.metric, r.values, settings, n_real=r.n_real, n_fake=r.n_fake)
