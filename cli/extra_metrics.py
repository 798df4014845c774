"""Commands beyond the peers: vendi, memorization, prd; the --ci / --infinity options.

``interval_options`` adds ``--ci`` and ``--bootstrap`` to a feature-metric command;
``infinity_option`` adds ``--infinity`` (fid, is). :func:`run_infinity` is what those
commands call with ``--infinity``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ganeval.api import load_features
from ganeval.errors import InputError, ParameterError
from ganeval.metrics.memorization import memorization as memorization_metric
from ganeval.metrics.prd import prd as prd_metric
from ganeval.metrics.vendi import vendi_score
from ganeval.uncertainty import bootstrap_interval, check_ci, fid_infinity, is_infinity, min_infinity_samples

from ._common import atomic_output_path, emit, extraction_kwargs, extraction_options, json_option, seed_option

__all__ = ["interval_options", "infinity_option", "run_infinity", "COMMANDS"]


def interval_options(f: Callable) -> Callable:
    """``--ci LEVEL`` and ``--bootstrap N`` (a seeded bootstrap interval on the result)."""
    f = click.option(
        "--bootstrap", type=int, default=200, show_default=True, help="Bootstrap replicates for --ci (at least 10)."
    )(f)
    f = click.option(
        "--ci",
        type=float,
        default=None,
        help="Add a bootstrap interval at this level, e.g. 0.95: JSON gains ci_low, ci_high, se "
        "(resampling seeded by --seed; see docs/uncertainty.md).",
    )(f)
    return f


def infinity_option(f: Callable) -> Callable:
    """``--infinity``: extrapolate to infinitely many samples (Chong & Forsyth 2020)."""
    return click.option(
        "--infinity",
        is_flag=True,
        help=f"Report the value extrapolated to 1/N = 0 from 15 nested subset sizes n/10..n "
        f"(FID∞ / IS∞; needs at least {min_infinity_samples()} samples). JSON: value, se, "
        f"value_at_n, sizes.",
    )(f)


def check_interval_args(ci: float | None, bootstrap: int) -> None:
    """Refuse a bad ``--ci`` / ``--bootstrap`` before any input is read."""
    if ci is not None:
        try:
            check_ci(ci, bootstrap)
        except ParameterError as exc:
            raise ParameterError(
                str(exc).replace("ci (--ci)", "--ci").replace("bootstrap (--bootstrap)", "--bootstrap")
            ) from None


def _progress(total: int, quiet: bool, desc: str):
    if quiet:
        return None
    from ganeval.progress import progress_bar

    return progress_bar(total, desc, "replicate")


def run_infinity(
    metric: str,
    real: Any,
    fake: Any,
    as_json: bool,
    kw: dict,
    *,
    seed: int = 0,
    ci: float | None = None,
    bootstrap: int = 200,
) -> None:
    """``fid --infinity`` / ``is --infinity``: read the inputs, extrapolate, print."""
    check_interval_args(ci, bootstrap)
    ex = extraction_kwargs(kw, as_json)
    progress = ex["progress"]
    source_options = ex.pop("source_options")
    fake_f = load_features(fake, source_options=source_options, **ex)
    bar = _progress(bootstrap, not progress, "bootstrap") if ci is not None else None
    tick = None if bar is None else bar.update
    try:
        if metric == "is":
            result = is_infinity(fake_f.need_logits(), seed=seed, ci=ci, bootstrap=bootstrap, progress=tick)
        else:
            real_f = load_features(real, source_options=source_options, **ex)
            result = fid_infinity(
                real_f.need_rows("fid --infinity"),
                fake_f.need_rows("fid --infinity"),
                seed=seed,
                ci=ci,
                bootstrap=bootstrap,
                progress=tick,
            )
    finally:
        if bar is not None:
            bar.close()
    emit(result, as_json)


def _with_interval(result, ci, bootstrap, seed, quiet, function, *arrays, **options):
    """``result``, or with ``--ci`` the bootstrap interval of ``function`` on ``arrays``
    (a progress bar on stderr unless ``quiet``)."""
    if ci is None:
        return result
    bar = _progress(bootstrap, quiet, "bootstrap")
    try:
        return bootstrap_interval(
            function,
            *arrays,
            ci=ci,
            bootstrap=bootstrap,
            seed=seed,
            progress=None if bar is None else bar.update,
            **options,
        )
    finally:
        if bar is not None:
            bar.close()


def _emit_interval(result, as_json, ci, bootstrap, seed, quiet, function, *arrays, **options):
    emit(_with_interval(result, ci, bootstrap, seed, quiet, function, *arrays, **options), as_json)


@click.command(short_help="Vendi score: the effective number of distinct samples.")
@click.argument("fake")
@click.option(
    "--q",
    "q",
    default="1",
    show_default=True,
    help="Order of the score: a number > 0 or 'inf' (1 = Shannon entropy, as in the paper).",
)
@click.option(
    "--kernel",
    type=click.Choice(["linear", "rbf", "poly"]),
    default="linear",
    show_default=True,
    help="Kernel of the MMD module; linear = cosine similarity of the features (d x d dual when d < n).",
)
@click.option("--bandwidth", default="median", show_default=True, help="rbf length scale, or 'median'.")
@click.option("--degree", type=click.IntRange(min=1), default=3, show_default=True, help="poly kernel degree.")
@click.option("--gamma", type=float, default=None, help="poly kernel scale (default 1/d).")
@click.option("--coef0", type=float, default=1.0, show_default=True, help="poly kernel offset.")
@seed_option
@interval_options
@extraction_options
@json_option
def vendi(fake, q, kernel, bandwidth, degree, gamma, coef0, seed, ci, bootstrap, as_json, **kw):
    """Vendi score of FAKE: the effective number of distinct samples (diversity, higher = more diverse).

    exp of the entropy of the eigenvalues of K/n with k(x, x) = 1 (Friedman & Dieng 2023).
    """
    check_interval_args(ci, bootstrap)
    ex = extraction_kwargs(kw, as_json)
    quiet = not ex["progress"]
    source_options = ex.pop("source_options")
    rows = load_features(fake, source_options=source_options, **ex).need_rows("vendi")
    opts: dict[str, Any] = {"q": q, "kernel": kernel, "seed": seed}
    if kernel == "rbf":
        opts["bandwidth"] = bandwidth if bandwidth == "median" else _number(bandwidth, "--bandwidth")
    elif kernel == "poly":
        opts.update(degree=degree, gamma=gamma, coef0=coef0)
    result = vendi_score(rows, **opts)
    opts.pop("seed")
    _emit_interval(result, as_json, ci, bootstrap, seed, quiet, "vendi", rows, None, **opts)


def _number(value: str, option: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ParameterError(f"{option} must be a positive number or 'median', got {value!r}") from None


class _ImagesOf:
    """Images of an input by index, as RGB (H, W, 3) uint8 (for the --grid picture)."""

    def __init__(self, spec: str, source_options: dict):
        from ganeval.sources import open_source

        self.source = open_source(spec, **source_options)
        if self.source.kind != "images":
            raise InputError(f"--grid: {spec} holds {self.source.kind}, not images; the grid needs image inputs")

    def __getitem__(self, index: int):
        import numpy as np

        if hasattr(self.source, "images"):
            return np.transpose(self.source.images[index], (1, 2, 0))
        if hasattr(self.source, "read"):
            return self.source.read(index)
        raise InputError(f"--grid: cannot read single images of {self.source.name}")


@click.command(short_help="Share of FAKE samples that are not copies of TRAIN.")
@click.argument("train")
@click.argument("fake")
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the closest generated samples to list.",
)
@click.option(
    "--grid",
    "grid",
    default=None,
    help="Write a PNG of the closest copies (generated sample above its nearest training sample); image inputs only.",
)
@interval_options
@seed_option
@extraction_options
@json_option
def memorization(train, fake, top, grid, ci, bootstrap, seed, as_json, **kw):
    """Share of FAKE samples that are authentic, not copies of TRAIN samples (higher = fewer copies).

    A generated sample is flagged when it is closer to its nearest training sample than that
    training sample is to its own nearest neighbour (Alaa et al. 2022, dgm-eval's AuthPct).
    JSON: value (share authentic), n_flagged, closest (the closest generated samples).
    """
    check_interval_args(ci, bootstrap)
    grid_path = atomic_output_path(grid, "--grid") if grid else None
    ex = extraction_kwargs(kw, as_json)
    quiet = not ex["progress"]
    source_options = ex.pop("source_options")
    train_f = load_features(train, source_options=source_options, **ex)
    fake_f = load_features(fake, source_options=source_options, **ex)
    t, f = train_f.need_rows("memorization"), fake_f.need_rows("memorization")
    result = memorization_metric(t, f, top=top)
    if grid_path is not None:
        from ganeval.atomic import atomic_write
        from ganeval.report.figures import copies_grid_png

        png = copies_grid_png(_ImagesOf(train, source_options), _ImagesOf(fake, source_options), result.closest)
        atomic_write(grid_path, lambda fh: fh.write(png), what="--grid")
    _emit_interval(result, as_json, ci, bootstrap, seed, quiet, "memorization", t, f, top=top)


@click.command(short_help="Precision-recall curve (Sajjadi et al.): F_8 and F_1/8.")
@click.argument("real")
@click.argument("fake")
@click.option(
    "--clusters",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="k-means cells on the union of the features.",
)
@click.option("--angles", type=click.IntRange(min=3), default=1001, show_default=True, help="Points on the curve.")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Clusterings averaged (seeded from --seed).",
)
@seed_option
@interval_options
@extraction_options
@json_option
def prd(real, fake, clusters, angles, runs, seed, ci, bootstrap, as_json, **kw):
    """Precision-recall curve of FAKE against REAL (Sajjadi et al. 2018): F_8 (recall-like), F_1/8 (precision-like).

    JSON: f8, f1_8, and the averaged curve as precision and recall arrays. With --ci, f8 and
    f1_8 get bootstrap intervals (each replicate reruns the --runs clusterings: slow).
    """
    check_interval_args(ci, bootstrap)
    ex = extraction_kwargs(kw, as_json)
    quiet = not ex["progress"]
    source_options = ex.pop("source_options")
    x = load_features(real, source_options=source_options, **ex).need_rows("prd")
    y = load_features(fake, source_options=source_options, **ex).need_rows("prd")
    opts = {"clusters": clusters, "angles": angles, "runs": runs}
    result = _with_interval(
        prd_metric(x, y, seed=seed, **opts), ci, bootstrap, seed, quiet, prd_metric, x, y, keys=("f8", "f1_8"), **opts
    )
    if as_json:
        emit(result, True)
    else:
        ends = ""
        if ci is not None:
            lo, hi = result.values["ci_low"], result.values["ci_high"]
            ends = f" [{lo['f8']:.6g}, {hi['f8']:.6g}]"
        line = f"prd: f8 = {result.f8:.6g}{ends}, f1_8 = {result.f1_8:.6g}"
        if ci is not None:
            line += f" [{lo['f1_8']:.6g}, {hi['f1_8']:.6g}] ({ci:g} bootstrap interval)"
        click.echo(line + f"  (n_real={result.n_real}, n_fake={result.n_fake}; --json for the curve)")


COMMANDS = [vendi, memorization, prd]
