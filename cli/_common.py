"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import json
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ganeval.atomic import check_output_path
from ganeval.errors import ParameterError
from ganeval.results import MetricResult

__all__ = [
    "DEVICE",
    "DeviceType",
    "cli_device_message",
    "json_option",
    "mismatch_option",
    "seed_option",
    "extraction_options",
    "extraction_kwargs",
    "interval_options",
    "check_interval_args",
    "bootstrap_bar",
    "emit",
    "emit_many",
    "atomic_output_path",
    "sigterm_as_interrupt",
]

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a human line.")
seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of every random draw; same inputs and seed give the same numbers.",
)
mismatch_option = click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Compare inputs whose features were made by different extractors, preprocessing or weights "
    "(refused by default; both sides are recorded in the result).",
)


class DeviceType(click.ParamType):
    """``--device``: auto, cpu, cuda, cuda:N or mps. A name that is none of these is a usage
    error; a device this machine lacks is a :class:`~ganeval.errors.DeviceError` raised before
    any work, its library wording (``device='cuda:1'``) put in the CLI's (``--device cuda:1``)."""

    name = "auto|cpu|cuda[:N]|mps"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ganeval.devices import DEVICE_CHOICES, is_device_name, resolve_device
        from ganeval.errors import DeviceError

        text = str(value).strip().lower()
        if not is_device_name(text):
            self.fail(f"must be {DEVICE_CHOICES}; got {value!r}", param, ctx)
        if text in ("auto", "cpu"):  # always there; checking would import torch for nothing
            return text
        try:
            resolve_device(text)
        except DeviceError as exc:
            raise DeviceError(cli_device_message(str(exc))) from None
        return text


def cli_device_message(message: str) -> str:
    """A library device message in the CLI's words: ``device='x'`` -> ``--device x``.

    >>> cli_device_message("device='cuda': CUDA is not available; use device='cpu' or device='auto'")
    '--device cuda: CUDA is not available; use --device cpu or --device auto'
    """
    return re.sub(r"device='([^']*)'", r"--device \1", message)


DEVICE = DeviceType()


def extraction_options(f: Callable) -> Callable:
    """Options that control how image inputs become features (ignored for feature inputs)."""
    opts = [
        click.option(
            "--extractor",
            default="auto",
            show_default=True,
            help="Feature extractor for image inputs: auto, inception, digits, dinov2[:ARCH], "
            "clip[:ARCH]; see `ganeval extractors` for each one's weights. "
            "Feature inputs (.npy/.npz/.csv rows) are used as they are.",
        ),
        click.option(
            "--weights",
            type=click.Path(dir_okay=False),
            default=None,
            help="Weights file of the extractor (inception: else $GANEVAL_INCEPTION_WEIGHTS, then the "
            "torch hub cache; digits: the shipped one).",
        ),
        click.option(
            "--preprocessing",
            type=click.Choice(["tf", "pytorch-fid", "clean", "dgm-eval", "cmmd"]),
            default=None,
            help="How images are resized for the extractor (default: the extractor's own). inception: "
            "tf (default), pytorch-fid, clean; dinov2: dgm-eval (default), clean, tf; "
            "clip: cmmd (default), tf.",
        ),
        click.option(
            "--batch-size", type=click.IntRange(min=1), default=50, show_default=True, help="Images per forward pass."
        ),
        click.option(
            "--device",
            type=DEVICE,
            default="auto",
            show_default=True,
            help="Where the extractor runs: auto (CUDA when present), cpu, cuda, cuda:N or mps.",
        ),
        click.option(
            "--tf32",
            is_flag=True,
            help="On CUDA, let the extractor network use TF32 for convolutions and matrix products: "
            "about 2.7x faster Inception on an H100, but the FID is off by ~6e-4 (relative) from "
            'the float32 number a CPU gives; recorded in the result ("tf32": true) and cached '
            "apart. Default: full float32 on the GPU too. No effect on CPU.",
        ),
        click.option(
            "--num-workers",
            type=click.IntRange(min=0),
            default=None,
            help="Image decoding worker processes (default: min(4, CPU count); on CUDA min(12, CPU count - 2)).",
        ),
        click.option(
            "--gpu-decode",
            is_flag=True,
            help="On CUDA, decode the JPEG files of a folder or zip on the GPU (nvjpeg): faster, but its "
            "pixels are not PIL's, so the FID moves slightly (docs/performance.md); recorded in the "
            'result ("gpu_decode": true) and cached apart. No effect on CPU.',
        ),
        click.option(
            "--no-cache",
            is_flag=True,
            help="Do not read or write the feature cache ($GANEVAL_CACHE_DIR, default ~/.cache/ganeval).",
        ),
        click.option(
            "--skip-invalid", is_flag=True, help="Skip unreadable images (counted in the result) instead of stopping."
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            help="No progress display (a bar on a terminal, a line every 30 s or 10% in a log).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


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


def check_interval_args(ci: float | None, bootstrap: int) -> None:
    """Refuse a bad ``--ci`` / ``--bootstrap`` before any input is read."""
    if ci is not None:
        from ganeval.uncertainty import check_ci

        try:
            check_ci(ci, bootstrap)
        except ParameterError as exc:
            raise ParameterError(
                str(exc).replace("ci (--ci)", "--ci").replace("bootstrap (--bootstrap)", "--bootstrap")
            ) from None


def bootstrap_bar(total: int, quiet: bool) -> Any:
    """A progress display of ``total`` bootstrap replicates on stderr, or ``None`` when ``quiet``."""
    if quiet:
        return None
    from ganeval.progress import progress_bar

    return progress_bar(total, "bootstrap", "replicate")


def extraction_kwargs(kw: dict[str, Any], as_json: bool = False) -> dict[str, Any]:
    """Pop the extraction options out of a command's keyword arguments for the API."""
    quiet = kw.pop("quiet") or as_json
    extra = {"allow_mismatch": kw.pop("allow_mismatch")} if "allow_mismatch" in kw else {}
    return {
        **extra,
        "extractor": kw.pop("extractor"),
        "weights": kw.pop("weights"),
        "preprocessing": kw.pop("preprocessing"),
        "batch_size": kw.pop("batch_size"),
        "device": kw.pop("device"),
        "tf32": kw.pop("tf32"),
        "gpu_decode": kw.pop("gpu_decode"),
        "num_workers": kw.pop("num_workers"),
        "cache": not kw.pop("no_cache"),
        "progress": not quiet,  # a bar on a terminal, periodic lines in a log (ganeval.progress)
        "source_options": {"skip_invalid": True} if kw.pop("skip_invalid") else {},
    }


def emit(result: MetricResult, as_json: bool) -> None:
    """Print a result: one human line, or one JSON object."""
    click.echo(result.to_json() if as_json else result.summary())


def emit_many(results: dict[str, MetricResult], as_json: bool, **header: Any) -> None:
    """Print several results: one line each, or one JSON object holding them all."""
    if as_json:
        from ganeval import __version__

        payload = {**header, "results": {k: r.to_dict() for k, r in results.items()}, "version": __version__}
        click.echo(json.dumps(payload))
    else:
        for r in results.values():
            click.echo(r.summary())


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C for the body (``KeyboardInterrupt``): a run stopped by
    ``kill`` or a scheduler cleans up as after Ctrl-C (checkpoint kept, lock and temporary
    files removed). Outside the main thread nothing changes."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def atomic_output_path(path: str, what: str = "--output") -> Path:
    """Validate an output path before any work is done and return the file that will be
    written (symlinks resolved; folders, FIFOs and devices refused; see :mod:`ganeval.atomic`)."""
    return check_output_path(path, what)
