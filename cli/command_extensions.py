"""What a generated metric command adds to its metric's declaration: the one place for it.

Every ``ganeval METRIC`` command is generated from the metric's declaration
(:mod:`ganeval_cli.metric_commands`): positional inputs from ``takes``, ``--options`` from
``options``, ``--ci`` from ``resampling``. A few commands have flags that are about the
command line rather than the metric (``fid --infinity``, ``memorization --grid``), read
their inputs another way (the tabular metrics read REAL and FAKE together as tables), or
print their human line another way (``prd``). Each such addition is an :class:`Extension`
in :data:`EXTENSIONS`, keyed by the metric's name; the generated command is still the
command, and a metric without an entry (every plug-in) gets exactly its declaration.

An extension's hooks see the run as an :class:`Invocation` and are called in this order:

1. ``prepare(inv)``: before any input is read: check the extension's own flags, turn them
   into metric options (``inv.options``), check output paths;
2. ``compute(inv)``: a result computed another way (``--infinity``), or ``None`` for the
   usual :func:`ganeval.evaluate`;
3. ``finish(inv, result)``: after the result, e.g. write a file (``--grid``);
4. ``human(inv, result)``: the human line (default: ``result.summary()``); ``--json``
   always prints ``result.to_json()``.

A metric option belongs on the metric (an :class:`~ganeval.metrics.base.Option`), where
``evaluate``, report specs and ``eval -O`` see it too; an extension is only for what the
command line alone does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from ganeval.errors import InputError, ParameterError
from ganeval.results import MetricResult

from ._common import atomic_output_path, bootstrap_bar

__all__ = ["Extension", "Invocation", "EXTENSIONS", "extension_of"]


@dataclass
class Invocation:
    """One run of a generated command, as the extension hooks see it.

    ``inputs``: the positional arguments by their names (``real``, ``fake``...);
    ``options``: the metric options given on the command line, checked (hooks may add);
    ``extra``: the values of the extension's own options; ``extract``: how image inputs
    become features (:func:`ganeval.load_features` keywords, ``progress`` included);
    ``source_options``: passed to the source reader; ``table``: ``columns`` and
    ``categorical``; ``allow_mismatch``: the command's ``--allow-mismatch``.
    """

    metric: Any
    inputs: dict[str, Any]
    options: dict[str, Any]
    extra: dict[str, Any]
    ci: float | None
    bootstrap: int
    seed: int
    as_json: bool
    extract: dict[str, Any] = field(default_factory=dict)
    source_options: dict[str, Any] = field(default_factory=dict)
    table: dict[str, Any] = field(default_factory=dict)
    allow_mismatch: bool = False


@dataclass(frozen=True)
class Extension:
    """Additions to one metric's generated command (see the module notes).

    Parameters
    ----------
    options : tuple of click option decorators
        Flags of the command that are not metric options; their values reach the hooks as
        ``inv.extra``.
    help : str
        A paragraph added to the command's ``--help``.
    tables : bool
        REAL and FAKE are read together as tables (:func:`ganeval.compare`: same columns
        matched by name, ``--categorical`` fitted on REAL, ``--skip-invalid`` drops rows with
        a missing value); the command has no image-extraction options.
    image_extractor : str, optional
        The extractor image inputs go through when ``--extractor`` is ``auto`` (feature
        inputs are used as they are).
    prepare, compute, finish, human : callables, optional
        The hooks, in the order the module notes give.
    """

    options: tuple[Callable[[Any], Any], ...] = ()
    help: str = ""
    tables: bool = False
    image_extractor: str | None = None
    prepare: Callable[[Invocation], None] | None = None
    compute: Callable[[Invocation], MetricResult | None] | None = None
    finish: Callable[[Invocation, MetricResult], None] | None = None
    human: Callable[[Invocation, MetricResult], str] | None = None


# -- fid / is --infinity ---------------------------------------------------------------------


def _infinity_option(f: Callable) -> Callable:
    from ganeval.uncertainty import min_infinity_samples

    return click.option(
        "--infinity",
        is_flag=True,
        help=f"Report the value extrapolated to 1/N = 0 from 15 nested subset sizes n/10..n "
        f"(FID∞ / IS∞; needs at least {min_infinity_samples()} samples). JSON: value, se, "
        f"value_at_n, sizes.",
    )(f)


def _check_infinity(inv: Invocation) -> None:
    if not inv.extra["infinity"]:
        return
    if inv.options.get("eps"):
        raise ParameterError("--eps cannot be combined with --infinity (FID∞ uses the plain covariances)")
    if inv.table.get("columns") is not None or inv.table.get("categorical") is not None:
        raise ParameterError("--infinity reads each input as it is: --columns and --categorical do not apply")


def _infinity(inv: Invocation) -> MetricResult | None:
    """FID∞ / IS∞ (Chong & Forsyth 2020, arXiv:1911.07023) of the inputs, with ``--infinity``."""
    if not inv.extra["infinity"]:
        return None
    from ganeval.api import load_features
    from ganeval.uncertainty import fid_infinity, is_infinity

    name = inv.metric.name
    fake = load_features(inv.inputs["fake"], source_options=inv.source_options, **inv.extract)
    bar = bootstrap_bar(inv.bootstrap, not inv.extract.get("progress")) if inv.ci is not None else None
    tick = None if bar is None else bar.update
    try:
        if name == "is":
            return is_infinity(
                fake.need_logits(),
                seed=inv.seed,
                input=inv.options.get("input", "logits"),
                ci=inv.ci,
                bootstrap=inv.bootstrap,
                progress=tick,
            )
        real = load_features(inv.inputs["real"], source_options=inv.source_options, **inv.extract)
        label = f"{name} --infinity"
        return fid_infinity(
            real.need_rows(label),
            fake.need_rows(label),
            seed=inv.seed,
            ci=inv.ci,
            bootstrap=inv.bootstrap,
            progress=tick,
        )
    finally:
        if bar is not None:
            bar.close()


# -- memorization --grid ---------------------------------------------------------------------


def _grid_option(f: Callable) -> Callable:
    return click.option(
        "--grid",
        "grid",
        default=None,
        help="Write a PNG of the closest copies (generated sample above its nearest training sample); "
        "image inputs only.",
    )(f)


def _check_grid(inv: Invocation) -> None:
    if inv.extra["grid"]:  # refused before any work: a folder, a FIFO, a missing folder
        inv.extra["grid"] = atomic_output_path(inv.extra["grid"], "--grid")


def _write_grid(inv: Invocation, result: MetricResult) -> None:
    if not inv.extra["grid"]:
        return
    from ganeval.atomic import atomic_write
    from ganeval.report.figures import copies_grid_png

    train = _ImagesOf(inv.inputs["train"], inv.source_options)
    fake = _ImagesOf(inv.inputs["fake"], inv.source_options)
    png = copies_grid_png(train, fake, result.values["closest"])
    atomic_write(inv.extra["grid"], lambda fh: fh.write(png), what="--grid")


class _ImagesOf:
    """Images of an input by index, as RGB (H, W, 3) uint8 (for the ``--grid`` picture)."""

    def __init__(self, spec: str, source_options: dict[str, Any]):
        from ganeval.sources import open_source

        self.source: Any = open_source(spec, **source_options)
        if self.source.kind != "images":
            raise InputError(f"--grid: {spec} holds {self.source.kind}, not images; the grid needs image inputs")

    def __getitem__(self, index: int) -> Any:
        import numpy as np

        if hasattr(self.source, "images"):
            return np.transpose(self.source.images[index], (1, 2, 0))
        if hasattr(self.source, "read"):
            return self.source.read(index)
        raise InputError(f"--grid: cannot read single images of {self.source.name}")


# -- wasserstein --allow-nonconverged --------------------------------------------------------


def _allow_nonconverged_option(f: Callable) -> Callable:
    return click.option(
        "--allow-nonconverged",
        is_flag=True,
        help="Report a value flagged converged=false instead of an error when the solver stops early "
        "(the same as --on-nonconvergence flag).",
    )(f)


def _allow_nonconverged(inv: Invocation) -> None:
    if inv.extra["allow_nonconverged"]:
        inv.options["on_nonconvergence"] = "flag"


# -- prd: the human line ---------------------------------------------------------------------


def _prd_line(inv: Invocation, result: MetricResult) -> str:
    """``prd: f8 = .., f1_8 = ..`` with the interval of each after it under ``--ci``."""
    values = result.values
    line = f"prd: f8 = {values['f8']:.6g}"
    if inv.ci is not None:
        lo, hi = values["ci_low"], values["ci_high"]
        line += f" [{lo['f8']:.6g}, {hi['f8']:.6g}]"
    line += f", f1_8 = {values['f1_8']:.6g}"
    if inv.ci is not None:
        line += f" [{lo['f1_8']:.6g}, {hi['f1_8']:.6g}] ({inv.ci:g} bootstrap interval)"
    return line + f"  (n_real={result.n_real}, n_fake={result.n_fake}; --json for the curve)"


# -- the table -------------------------------------------------------------------------------

_TABLES = Extension(tables=True)

#: the additions of each built-in command, by metric name
EXTENSIONS: dict[str, Extension] = {
    "fid": Extension(
        options=(_infinity_option,),
        help="REAL and FAKE may be feature rows, images, or mu/sigma statistics files (ganeval, "
        "pytorch-fid and clean-fid .npz all work).",
        prepare=_check_infinity,
        compute=_infinity,
    ),
    "is": Extension(
        options=(_infinity_option,),
        help="A 2-D array input (.npy, or .npz with 'logits') is read as class logits; images go "
        "through the extractor's classifier (1008 Inception logits without the fc bias, or 10 "
        "digits logits).",
        prepare=_check_infinity,
        compute=_infinity,
    ),
    "cmmd": Extension(
        image_extractor="clip",
        help="Image inputs go through --extractor clip (ViT-L/14@336, centre crop + bicubic resize) "
        "unless another extractor is named; feature rows (.npy/.npz) are used as they are.",
    ),
    "memorization": Extension(options=(_grid_option,), prepare=_check_grid, finish=_write_grid),
    "prd": Extension(human=_prd_line),
    "ecdf": _TABLES,
    "c2st": _TABLES,
    "divergence": _TABLES,
    "wasserstein": Extension(tables=True, options=(_allow_nonconverged_option,), prepare=_allow_nonconverged),
}

_NONE = Extension()


def extension_of(name: str) -> Extension:
    """The additions to metric ``name``'s command (none for a metric without an entry)."""
    return EXTENSIONS.get(name, _NONE)
