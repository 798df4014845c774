"""Commands on raw feature vectors (tabular data): ecdf, c2st, nested-f1, wasserstein, divergence.

Inputs are read with :func:`ganeval.sources.tabular.load_table_pair` (``.csv``, ``.npy``,
``.npz``, ``builtin:wine/train`` ...): REAL and FAKE must hold the same columns, and
``--categorical`` columns are one-hot encoded with categories fitted on REAL.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from ganeval.divergences import HISTOGRAM_DIVERGENCES, divergence_from_samples
from ganeval.errors import ParameterError
from ganeval.metrics.c2st import CLASSIFIERS, classifier_two_sample_test
from ganeval.metrics.ecdf import ecdf_distance
from ganeval.metrics.nested_f1 import MODELS, nested_model_f1
from ganeval.metrics.wasserstein import wasserstein_distance
from ganeval.results import MetricResult
from ganeval.sources.tabular import TablePair, load_labelled_tables, load_table_pair

from ._common import emit, json_option, seed_option


def table_options(f: Callable) -> Callable:
    """--columns, --categorical and --skip-invalid."""
    opts = [
        click.option("--columns", default=None, help="Comma-separated columns to use (default: all)."),
        click.option("--categorical", default=None,
                     help="Comma-separated text columns to one-hot encode (categories fitted on REAL)."),
        click.option("--skip-invalid", is_flag=True, help="Drop rows with a missing value instead of stopping."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _pair(real: str, fake: str, kw: dict[str, Any]) -> TablePair:
    return load_table_pair(real, fake, columns=kw.pop("columns"), categorical=kw.pop("categorical"),
                           skip_invalid=kw.pop("skip_invalid"))


def _with_inputs(r: MetricResult, real: str, fake: str, pair: TablePair | None = None, **extra: Any) -> MetricResult:
    settings = dict(r.settings)
    settings.update(real=real, fake=fake, **extra)
    if pair is not None and pair.skipped:
        settings["skipped_rows"] = pair.skipped
    return MetricResult(r.metric, r.values, settings, n_real=r.n_real, n_fake=r.n_fake)


def _parse_p(value: str) -> float:
    text = value.strip().lower()
    if text in ("inf", "infinity"):
        return float("inf")
    try:
        p = float(text)
    except ValueError:
        raise ParameterError(f"--p must be a positive number or 'inf', got {value!r}") from None
    if not p > 0:
        raise ParameterError(f"--p must be > 0, got {value!r}")
    return p


@click.command()
@click.argument("real")
@click.argument("fake")
@click.option("--p", "p", default="1", show_default=True, help="Exponent p > 0, or inf (Kolmogorov-Smirnov).")
@click.option("--multivariate", is_flag=True, help="Compare the joint ECDFs on the pooled points.")
@table_options
@json_option
def ecdf(real, fake, p, multivariate, as_json, **kw):
    """L^p distance between the empirical CDFs of REAL and FAKE (lower is better).

    Per feature (integral |F_real - F_fake|^p dt)^(1/p), exact; value = mean over features.
    p=1 is the 1-D Wasserstein distance, p=inf the Kolmogorov-Smirnov statistic.
    """
    p = _parse_p(p)
    pair = _pair(real, fake, kw)
    r = ecdf_distance(pair.real, pair.fake, p=p, multivariate=multivariate, columns=pair.columns)
    emit(_with_inputs(r, real, fake, pair), as_json)


@click.command()
@click.argument("real")
@click.argument("fake")
@click.option("--classifier", type=click.Choice(CLASSIFIERS), default="logreg", show_default=True)
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--permutations", type=click.IntRange(min=0), default=0, show_default=True,
              help="0: binomial p-value; N: permutation p-value from N label shuffles.")
@seed_option
@table_options
@json_option
def c2st(real, fake, classifier, folds, permutations, seed, as_json, **kw):
    """Classifier two-sample test: can a classifier tell REAL from FAKE?

    Reports out-of-fold accuracy (1/2 = indistinguishable), ROC AUC, the one-sided p-value of
    accuracy > 1/2, and classifier-based divergence estimates (kl: plug-in estimate,
    js_lower_bound: a lower bound on JS).
    """
    pair = _pair(real, fake, kw)
    r = classifier_two_sample_test(pair.real, pair.fake, classifier=classifier, folds=folds, seed=seed,
                                   permutations=permutations, columns=pair.columns)
    emit(_with_inputs(r, real, fake, pair), as_json)


@click.command(name="nested-f1")
@click.argument("real_train")
@click.argument("fake_train")
@click.argument("real_test", required=False)
@click.option("--target", required=True, help="The class column (present in every input).")
@click.option("--model", type=click.Choice(MODELS), default="rf", show_default=True)
@click.option("--test-fraction", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=0.3,
              show_default=True, help="Without REAL_TEST: stratified part of REAL_TRAIN held out for testing.")
@seed_option
@table_options
@json_option
def nested_f1(real_train, fake_train, real_test, target, model, test_fraction, seed, as_json, **kw):
    """F1 on real test rows of a model trained on FAKE_TRAIN, against the same model trained on REAL_TRAIN.

    value = F1 (trained on fake), f1_real = F1 (trained on real), ratio = value / f1_real.
    Macro F1 for more than two classes. Without REAL_TEST, a stratified --test-fraction of
    REAL_TRAIN is held out (seeded).
    """
    specs = [real_train, fake_train] + ([real_test] if real_test else [])
    tables, names = load_labelled_tables(specs, target, columns=kw.pop("columns"),
                                         categorical=kw.pop("categorical"), skip_invalid=kw.pop("skip_invalid"))
    test = tables[2] if real_test else None
    r = nested_model_f1(tables[0].rows, tables[0].labels, tables[1].rows, tables[1].labels,
                        None if test is None else test.rows, None if test is None else test.labels,
                        model=model, seed=seed, test_fraction=test_fraction, columns=names)
    extra = {"target": target}
    if real_test:
        extra["real_test"] = real_test
    emit(_with_inputs(r, real_train, fake_train, **extra), as_json)


@click.command()
@click.argument("real")
@click.argument("fake")
@click.option("--p", "p", type=click.FloatRange(min=1), default=1.0, show_default=True, help="Order p >= 1 (1 or 2).")
@click.option("--sliced", is_flag=True, help="Sliced Wasserstein over random directions instead of exact OT.")
@click.option("--projections", type=click.IntRange(min=1), default=500, show_default=True,
              help="Directions for --sliced.")
@click.option("--per-feature", is_flag=True, help="Also report the exact 1-D distance of each feature.")
@click.option("--max-iter", type=click.IntRange(min=1), default=10_000_000, show_default=True,
              help="Iteration limit of the exact solver (POT numItermax).")
@click.option("--allow-nonconverged", is_flag=True,
              help="Report a value flagged converged=false instead of an error when the solver stops early.")
@seed_option
@table_options
@json_option
def wasserstein(real, fake, p, sliced, projections, per_feature, max_iter, allow_nonconverged, seed, as_json, **kw):
    """Wasserstein distance W_p between REAL and FAKE (Euclidean ground cost; lower is better).

    Exact optimal transport (POT ot.emd2) by default; --sliced for large inputs.
    """
    pair = _pair(real, fake, kw)
    r = wasserstein_distance(pair.real, pair.fake, p=p, sliced=sliced, projections=projections, seed=seed,
                             per_feature=per_feature, max_iter=max_iter,
                             on_nonconvergence="flag" if allow_nonconverged else "error", columns=pair.columns)
    emit(_with_inputs(r, real, fake, pair), as_json)


def _bins(value: str):
    try:
        return int(value)
    except ValueError:
        return value


@click.command()
@click.argument("real")
@click.argument("fake")
@click.option("--divergence", type=click.Choice(sorted(HISTOGRAM_DIVERGENCES)), default="js", show_default=True)
@click.option("--bins", default="auto", show_default=True,
              help="Bins per feature over the pooled range: a count, or a numpy rule (auto, fd, sturges).")
@table_options
@json_option
def divergence(real, fake, divergence, bins, as_json, **kw):
    """A histogram divergence between REAL and FAKE, feature by feature (shared bins).

    value = mean over features; KL-type values are inf where a bin is empty on one side.
    """
    pair = _pair(real, fake, kw)
    out = divergence_from_samples(pair.real, pair.fake, divergence, bins=_bins(bins))
    r = MetricResult("divergence", {"value": out["value"], "per_feature": out["per_feature"]},
                     {"divergence": divergence, "bins": _bins(bins), "bins_per_feature": out["bins"],
                      "columns": pair.columns},
                     n_real=pair.real.shape[0], n_fake=pair.fake.shape[0])
    emit(_with_inputs(r, real, fake, pair), as_json)


COMMANDS = [ecdf, c2st, nested_f1, wasserstein, divergence]
