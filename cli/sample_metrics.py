"""Commands on raw feature vectors (tabular data): ecdf, c2st, nested-f1, wasserstein, divergence.

Each command calls :func:`ganeval.compare` (the library entry of the tabular metrics), which
reads REAL and FAKE together (``.csv``, ``.npy``, ``.npz``, ``builtin:wine/train`` ...): they
must hold the same columns, and ``--categorical`` columns are one-hot encoded with categories
fitted on REAL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ganeval.compare import compare
from ganeval.divergences import HISTOGRAM_DIVERGENCES
from ganeval.errors import ParameterError
from ganeval.metrics.c2st import CLASSIFIERS
from ganeval.metrics.nested_f1 import MODELS

from ._common import emit, json_option, seed_option
from .extra_metrics import _progress, check_interval_args, interval_options


def table_options(f: Callable) -> Callable:
    """--columns, --categorical and --skip-invalid."""
    opts = [
        click.option("--columns", default=None, help="Comma-separated columns to use (default: all)."),
        click.option(
            "--categorical",
            default=None,
            help="Comma-separated text columns to one-hot encode (categories fitted on REAL).",
        ),
        click.option("--skip-invalid", is_flag=True, help="Drop rows with a missing value instead of stopping."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _run(
    metric: str, real: str, fake: str, kw: dict[str, Any], as_json: bool, *, resample_seed: int = 0, **options: Any
) -> None:
    """Compute one metric through :func:`ganeval.compare` and print it (with ``--ci``: a
    bootstrap interval, resampling seeded by ``resample_seed``, the command's ``--seed``)."""
    ci, bootstrap = kw.pop("ci", None), kw.pop("bootstrap", 200)
    check_interval_args(ci, bootstrap)
    bar = _progress(bootstrap, as_json, "bootstrap") if ci is not None else None
    try:
        results = compare(
            real,
            fake,
            [metric],
            options={metric: options},
            columns=kw.pop("columns"),
            categorical=kw.pop("categorical"),
            skip_invalid=kw.pop("skip_invalid"),
            target=kw.pop("target", None),
            real_test=kw.pop("real_test", None),
            ci=ci,
            bootstrap=bootstrap,
            seed=resample_seed,
            progress=None if bar is None else bar.update,
        )
    finally:
        if bar is not None:
            bar.close()
    emit(results[metric], as_json)


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


@click.command(short_help="L^p distance between the empirical CDFs, per feature.")
@click.argument("real")
@click.argument("fake")
@click.option("--p", "p", default="1", show_default=True, help="Exponent p > 0, or inf (Kolmogorov-Smirnov).")
@click.option("--multivariate", is_flag=True, help="Compare the joint ECDFs on the pooled points.")
@seed_option
@interval_options
@table_options
@json_option
def ecdf(real, fake, p, multivariate, seed, as_json, **kw):
    """L^p distance between the empirical CDFs of REAL and FAKE (lower is better).

    Per feature (integral |F_real - F_fake|^p dt)^(1/p), exact; value = mean over features.
    p=1 is the 1-D Wasserstein distance, p=inf the Kolmogorov-Smirnov statistic.
    """
    _run("ecdf", real, fake, kw, as_json, resample_seed=seed, p=_parse_p(p), multivariate=multivariate)


@click.command(short_help="Classifier two-sample test: can a classifier tell them apart?")
@click.argument("real")
@click.argument("fake")
@click.option("--classifier", type=click.Choice(CLASSIFIERS), default="logreg", show_default=True)
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds.")
@click.option(
    "--permutations",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="0: binomial p-value; N: permutation p-value from N label shuffles.",
)
@seed_option
@interval_options
@table_options
@json_option
def c2st(real, fake, classifier, folds, permutations, seed, as_json, **kw):
    """Classifier two-sample test: can a classifier tell REAL from FAKE?

    Reports out-of-fold accuracy (1/2 = indistinguishable), ROC AUC, the one-sided p-value of
    accuracy > 1/2, and classifier-based divergence estimates (kl: plug-in estimate,
    js_lower_bound: a lower bound on JS).
    """
    _run(
        "c2st",
        real,
        fake,
        kw,
        as_json,
        resample_seed=seed,
        classifier=classifier,
        folds=folds,
        seed=seed,
        permutations=permutations,
    )


@click.command(name="nested-f1", short_help="Train on FAKE, test on REAL: F1 against training on REAL.")
@click.argument("real_train")
@click.argument("fake_train")
@click.argument("real_test", required=False)
@click.option("--target", required=True, help="The class column (present in every input).")
@click.option("--model", type=click.Choice(MODELS), default="rf", show_default=True)
@click.option(
    "--test-fraction",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.3,
    show_default=True,
    help="Without REAL_TEST: stratified part of REAL_TRAIN held out for testing.",
)
@seed_option
@table_options
@json_option
def nested_f1(real_train, fake_train, real_test, target, model, test_fraction, seed, as_json, **kw):
    """F1 on real test rows of a model trained on FAKE_TRAIN, against the same model trained on REAL_TRAIN.

    value = F1 (trained on fake), f1_real = F1 (trained on real), ratio = value / f1_real.
    Macro F1 for more than two classes. Without REAL_TEST, a stratified --test-fraction of
    REAL_TRAIN is held out (seeded).
    """
    kw.update(target=target, real_test=real_test or None)
    _run("nested-f1", real_train, fake_train, kw, as_json, model=model, seed=seed, test_fraction=test_fraction)


@click.command(short_help="Wasserstein distance W_p between REAL and FAKE.")
@click.argument("real")
@click.argument("fake")
@click.option("--p", "p", type=click.FloatRange(min=1), default=1.0, show_default=True, help="Order p >= 1 (1 or 2).")
@click.option("--sliced", is_flag=True, help="Sliced Wasserstein over random directions instead of exact OT.")
@click.option(
    "--projections", type=click.IntRange(min=1), default=500, show_default=True, help="Directions for --sliced."
)
@click.option("--per-feature", is_flag=True, help="Also report the exact 1-D distance of each feature.")
@click.option(
    "--max-iter",
    type=click.IntRange(min=1),
    default=10_000_000,
    show_default=True,
    help="Iteration limit of the exact solver (POT numItermax).",
)
@click.option(
    "--allow-nonconverged",
    is_flag=True,
    help="Report a value flagged converged=false instead of an error when the solver stops early.",
)
@seed_option
@interval_options
@table_options
@json_option
def wasserstein(real, fake, p, sliced, projections, per_feature, max_iter, allow_nonconverged, seed, as_json, **kw):
    """Wasserstein distance W_p between REAL and FAKE (Euclidean ground cost; lower is better).

    Exact optimal transport (POT ot.emd2) by default; --sliced for large inputs.
    """
    _run(
        "wasserstein",
        real,
        fake,
        kw,
        as_json,
        resample_seed=seed,
        p=p,
        sliced=sliced,
        projections=projections,
        seed=seed,
        per_feature=per_feature,
        max_iter=max_iter,
        on_nonconvergence="flag" if allow_nonconverged else "error",
    )


def _bins(value: str):
    try:
        return int(value)
    except ValueError:
        return value


@click.command(short_help="Histogram divergence per feature: TV, KL, JS, Hellinger, chi^2.")
@click.argument("real")
@click.argument("fake")
@click.option("--divergence", type=click.Choice(sorted(HISTOGRAM_DIVERGENCES)), default="js", show_default=True)
@click.option(
    "--bins",
    default="auto",
    show_default=True,
    help="Bins per feature over the pooled range: a count, or a numpy rule (auto, fd, sturges).",
)
@seed_option
@interval_options
@table_options
@json_option
def divergence(real, fake, divergence, bins, seed, as_json, **kw):
    """A histogram divergence between REAL and FAKE, feature by feature (shared bins).

    value = mean over features; KL-type values are inf where a bin is empty on one side.
    """
    _run("divergence", real, fake, kw, as_json, resample_seed=seed, divergence=divergence, bins=_bins(bins))


COMMANDS = [ecdf, c2st, nested_f1, wasserstein, divergence]
