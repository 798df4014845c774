"""Commands for the reference generators: train, sample, datasets, modes."""

from __future__ import annotations

import json
import sys

import click
import numpy as np

from ganeval.errors import ParameterError

from ._common import atomic_output_path, json_option, seed_option, sigterm_as_interrupt


def _environment_failure(what: str, exc: OSError) -> None:
    """A write that the system refused (disk full, permissions): one line, exit status 1."""
    where = f" ({exc.filename})" if exc.filename else ""
    click.echo(f"error: {what}: {exc.strerror or exc}{where}", err=True)
    sys.exit(1)


def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ParameterError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise ParameterError(f"--hidden must list positive widths, got {text!r}")
    return widths


@click.command(short_help="Train a reference GAN on a built-in data set.")
@click.option("--data", required=True, help="Built-in data set: ring8, grid25, digits, wine, breast_cancer.")
@click.option(
    "--loss",
    default="wgan-gp",
    show_default=True,
    help="minimax, non-saturating, wgan, wgan-gp, hinge or least-squares.",
)
@click.option(
    "--steps", type=int, default=3000, show_default=True, help="Generator updates (each after n_critic critic updates)."
)
@click.option("--batch-size", type=int, default=None, help="Rows per batch (default 256; 64 on digits).")
@click.option(
    "--out",
    "out",
    required=True,
    help="Output folder (checkpoint.pt, metrics.jsonl, samples.npy, samples.png): new, empty, or a "
    "previous run's. Locked while the run lasts: a second run into it is refused.",
)
@seed_option
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt (same model settings; --steps may grow).")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Start afresh even if OUT holds a checkpoint or other files (only the run's own files are "
    "replaced; others are left as they are). Without it, a non-empty OUT that is not a previous "
    "run is refused.",
)
@click.option("--lr", type=float, default=None, help="Generator learning rate (default: the loss's paper value).")
@click.option(
    "--lr-d", type=float, default=None, help="Discriminator learning rate (default: --lr; on digits twice --lr)."
)
@click.option("--n-critic", type=int, default=None, help="Critic updates per generator update (default: the loss's).")
@click.option(
    "--gp-lambda", type=float, default=None, help="WGAN-GP penalty weight (default 10; 0.1 on the 2-D mixtures)."
)
@click.option("--latent-dim", type=int, default=None, help="Size of z (default 8 for 2-D data, 32 otherwise).")
@click.option("--hidden", default="128,128,128", show_default=True, help="Hidden widths of the MLPs.")
@click.option("--width", type=int, default=32, show_default=True, help="Base channels of the digits DCGAN pair.")
@click.option(
    "--label-smoothing",
    type=float,
    default=0.0,
    show_default=True,
    help="One-sided label smoothing: real target 1 - this (0.1 gives 0.9).",
)
@click.option(
    "--instance-noise",
    type=float,
    default=0.0,
    show_default=True,
    help="Std of Gaussian noise added to both discriminator inputs.",
)
@click.option(
    "--ema",
    type=float,
    default=None,
    help="Decay of a moving average of the generator's weights, which then draws the samples "
    "(0 = off; default 0.999 on digits, off elsewhere).",
)
@click.option("--smirnov", is_flag=True, help="End the generator in a Smirnov layer (real marginals).")
@click.option("--conditional", is_flag=True, help="Condition G and D on the class label.")
@click.option(
    "--eval-every", type=int, default=None, help="Steps between evaluations (default steps/10; 0 = end only)."
)
@click.option("--checkpoint-every", type=int, default=500, show_default=True, help="Steps between checkpoints.")
@click.option(
    "--samples",
    "n_samples",
    type=int,
    default=None,
    help="Rows in samples.npy (default 2,500 for mixtures, the test split's size otherwise).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1, max=1024),
    default=None,
    help="Torch intra-op threads while training (default: by the model's size: 1 for small nets, "
    "whose products are too small to share out, else torch's setting).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress display (a bar on a terminal, a line every 30 s or 10% in a log)."
)
@json_option
def train(
    data,
    loss,
    steps,
    batch_size,
    out,
    seed,
    resume,
    overwrite,
    lr,
    lr_d,
    n_critic,
    gp_lambda,
    latent_dim,
    hidden,
    width,
    label_smoothing,
    instance_noise,
    ema,
    smirnov,
    conditional,
    eval_every,
    checkpoint_every,
    n_samples,
    threads,
    quiet,
    as_json,
):
    """Train a reference GAN on a built-in data set, reproducibly on the CPU.

    Writes OUT/checkpoint.pt (atomically, every --checkpoint-every steps and on exit),
    OUT/metrics.jsonl (evaluations against builtin:DATA/test), OUT/samples.npy and a PNG.
    Sizes that would not fit in memory are refused up front with the estimate.

    \b
    Example:
      ganeval train --data ring8 --loss wgan-gp --steps 3000 --seed 0 --out runs/r
      ganeval train --data digits --loss non-saturating --steps 6000 --batch-size 64 --threads 1 --out runs/d
      ganeval modes runs/r/samples.npy --data ring8
      ganeval fid builtin:ring8/test runs/r/samples.npy
    """
    from ganeval.reference import TrainConfig, check_out_dir

    config = TrainConfig(
        data=data,
        loss=loss,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        latent_dim=latent_dim,
        hidden=_parse_hidden(hidden),
        width=width,
        lr=lr,
        lr_d=lr_d,
        n_critic=n_critic,
        gp_lambda=gp_lambda,
        label_smoothing=label_smoothing,
        instance_noise=instance_noise,
        ema=ema,
        smirnov=smirnov,
        conditional=conditional,
        eval_every=eval_every,
        checkpoint_every=checkpoint_every,
        n_samples=n_samples,
    ).validated()
    check_out_dir(out, resume=resume, overwrite=overwrite)
    try:
        with sigterm_as_interrupt():
            result = _run(config, out, resume, overwrite, threads, not (quiet or as_json))
    except OSError as exc:
        _environment_failure(f"out {out}", exc)
    payload = {
        "out": str(result.out),
        "steps": result.steps,
        "elapsed_s": round(result.elapsed_s, 3),
        "samples": str(result.samples_path),
        "metrics": result.final_metrics,
    }
    if as_json:
        click.echo(json.dumps(payload))
    else:
        metrics = ", ".join(
            f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}"
            for k, v in result.final_metrics.items()
            if k not in ("step", "elapsed_s")
        )
        click.echo(
            f"trained {config.loss} on {config.data} for {result.steps} steps in {result.elapsed_s:.1f} s: "
            f"{metrics}; samples in {result.samples_path}"
        )


def _run(config, out, resume, overwrite, threads, show):
    from ganeval.reference import train as run_training

    if not show:
        return run_training(config, out, resume=resume, overwrite=overwrite, threads=threads)
    from ganeval.progress import progress_bar

    with progress_bar(config.steps, "training", "step") as bar:
        state = {"done": 0}

        def progress(step: int, total: int) -> None:
            bar.update(step - state["done"])
            state["done"] = step

        return run_training(config, out, resume=resume, overwrite=overwrite, progress=progress, threads=threads)


@click.command(short_help="Draw N rows from a trained reference GAN checkpoint.")
@click.argument("checkpoint")
@click.option("-n", "n", type=int, default=1000, show_default=True, help="Rows to draw.")
@click.option("-o", "--output", required=True, help="Output .npy file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "rows", "images"]),
    default="auto",
    show_default=True,
    help="rows: 2-D float rows, the columns of builtin:DATA (digits: 64 pixels in [0, 1], as "
    "builtin:digits-pixels); images (digits only): uint8 (N, 8, 8, 1), as builtin:digits; "
    "auto: images for digits, rows otherwise.",
)
@click.option("--labels-output", default=None, help="Also write the class of each row (.npy) for conditional models.")
@click.option(
    "--threads",
    type=click.IntRange(min=1, max=1024),
    default=None,
    help="Torch intra-op threads (default: torch's setting).",
)
@seed_option
def sample(checkpoint, n, output, fmt, labels_output, threads, seed):
    """Draw N rows from a trained CHECKPOINT into OUTPUT.npy, readable by every metric command."""
    from ganeval.reference import atomic_write, digit_images, generate, load_checkpoint

    if n < 1:
        raise ParameterError(f"-n must be >= 1, got {n}")
    out = atomic_output_path(output)
    labels_out = atomic_output_path(labels_output, "--labels-output") if labels_output else None
    state = load_checkpoint(checkpoint)
    if fmt == "images" and state.get("kind") != "image":
        raise ParameterError(f"--format images: checkpoint {checkpoint} holds a {state.get('kind')} model, not images")
    if fmt == "auto":
        fmt = "images" if state.get("kind") == "image" else "rows"
    rows, labels = generate(state, n, seed=seed, threads=threads)
    arr = rows if fmt == "rows" else digit_images(rows)
    if labels_out is not None and labels is None:
        raise ParameterError(f"--labels-output: checkpoint {checkpoint} is not class-conditional")
    try:
        atomic_write(out, lambda fh: np.save(fh, arr))
        if labels_out is not None:
            atomic_write(labels_out, lambda fh: np.save(fh, labels))
    except OSError as exc:
        _environment_failure(f"output {out}", exc)
    click.echo(f"wrote {arr.shape[0]} samples of shape {arr.shape[1:]} to {out}")


@click.command(short_help="List the built-in data sets (builtin:NAME).")
@json_option
def datasets(as_json):
    """List the built-in data sets (use them as builtin:NAME, builtin:NAME/train, builtin:NAME/test)."""
    from ganeval.sources.builtin import builtin_names

    names = builtin_names()
    if as_json:
        click.echo(json.dumps(names))
        return
    width = max(len(k) for k in names)
    for name, text in names.items():
        click.echo(f"{name.ljust(width)}  {text}")


@click.command(short_help="Modes covered and high-quality share for a mixture data set.")
@click.argument("fake")
@click.option("--data", required=True, type=click.Choice(["ring8", "grid25"]), help="Which mixture FAKE imitates.")
@click.option(
    "--threshold", type=float, default=3.0, show_default=True, help="High quality: within this many std of a mode."
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=None,
    help="High-quality points a mode needs to count as covered (default: 20 per 2,500 samples, "
    "scaled to FAKE's size: max(1, round(20 n / 2500))).",
)
@json_option
def modes(fake, data, threshold, min_count, as_json):
    """Mode metrics of FAKE (2-D rows) for a built-in mixture: modes covered, high-quality share, KL vs uniform."""
    from ganeval.api import load_features
    from ganeval.metrics.modes import mode_metrics
    from ganeval.reference.datasets import mixture

    mix = mixture(data)
    feats = load_features(fake, extractor="identity")
    r = mode_metrics(feats.need_rows("modes"), mix.centers, mix.std, threshold=threshold, min_count=min_count)
    if as_json:
        click.echo(r.to_json())
        return
    click.echo(r.summary())
    click.echo(
        f"a mode is covered with >= {r.settings['min_count']} high-quality points "
        f"({r.settings['min_count_rule']}; --min-count sets it)"
    )


COMMANDS = [train, sample, datasets, modes]
