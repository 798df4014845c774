"""The training loop: :func:`train` fits a generator to ``builtin:DATA/train``.

:func:`train` fits a generator with one of the losses of :mod:`ganeval.reference.losses`
and writes, in ``out`` (see :mod:`ganeval.reference.outputs` for which folders it accepts,
the lock it holds and how files are written):

- ``checkpoint.pt`` (:mod:`ganeval.reference.checkpoints`) every ``checkpoint_every``
  steps, on interruption and at the end, so a killed run always leaves a readable checkpoint;
- ``metrics.jsonl``: one JSON object per evaluation (``step``, ``elapsed_s`` and the metrics
  of :func:`~ganeval.reference.evaluation.evaluate_samples` against ``builtin:DATA/test``);
- ``samples.npy``: ``n_samples`` generated rows in the data's own units (the columns of
  ``builtin:DATA``); for digits uint8 images (N, 8, 8, 1) as ``builtin:digits`` serves them,
  and ``samples_pixels.npy`` with the rows of 64 pixels in [0, 1] (``builtin:digits-pixels``);
  plus ``samples.png`` (a scatter plot for 2-D data, an image grid for digits) and
  ``sample_labels.npy`` for class-conditional models.

A *step* is one generator update, preceded by ``n_critic`` discriminator updates (and, with
``ema``, an update of the averaged generator). Every random draw (batch indices, latent
codes, noise, penalty mixing weights) comes from one ``torch.Generator`` seeded with
``seed`` whose state is checkpointed: the same seed gives the same samples, and a resumed run
the same samples as an uninterrupted one. Evaluations draw from their own generators, so they
never change the training trajectory.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from .._validation import check_int
from ..errors import ParameterError
from .checkpoints import restore, save
from .config import TrainConfig, TrainResult, default_n_samples
from .datasets import TrainingSet, training_set
from .evaluation import evaluate_samples
from .losses import discriminator_loss, generator_loss, gradient_penalty, loss_spec
from .models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from .outputs import (
    CHECKPOINT,
    METRICS_LOG,
    atomic_write,
    check_out_dir,
    read_metrics_log,
    remove_our_outputs,
    run_lock,
    write_marker,
    write_metrics_log,
)
from .sampling import digit_images, sample_rows
from .smirnov import SmirnovLayer

__all__ = ["train", "deterministic", "Run", "build", "train_step", "auto_threads", "ONE_THREAD_MACS"]

log = logging.getLogger(__name__)

_DISCRETE_MAX = 20  # integer columns with at most this many values are snapped to them


@contextlib.contextmanager
def deterministic(threads: int | None = None) -> Iterator[None]:
    """Run the body with ``torch.use_deterministic_algorithms(True)`` (and ``threads`` intra-op
    threads when given); restore both settings afterwards.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with deterministic(threads=1):
    ...     torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    (1, True)
    >>> torch.get_num_threads() == before
    True
    """
    was = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    old_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads", minimum=1))
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn_only)
        if threads is not None:
            torch.set_num_threads(old_threads)


@dataclass
class Run:
    """The state of a run: config, data, models, optimisers, the training RNG and the step."""

    config: TrainConfig
    data: TrainingSet
    mu: torch.Tensor
    sd: torch.Tensor
    discrete: dict[int, torch.Tensor]
    generator: torch.nn.Module
    critic: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator
    ema: torch.nn.Module | None = None
    step: int = 0

    @property
    def n_classes(self) -> int:
        return self.data.n_classes if self.config.conditional else 0

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator samples are drawn from: the averaged one when ``ema`` is on."""
        return self.generator if self.ema is None else self.ema


_T = TypeVar("_T")


def _given(value: _T | None, name: str) -> _T:
    """A field of a validated :class:`TrainConfig` (``validated()`` fills every default)."""
    if value is None:
        raise ParameterError(f"{name} is unset: pass a config returned by TrainConfig.validated()")
    return value


def _scaling(data: TrainingSet) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean / std of tabular sets (the networks see standardized rows)."""
    if data.kind != "tabular":
        return torch.zeros(data.dim), torch.ones(data.dim)
    mu = data.rows.mean(0)
    sd = data.rows.std(0)
    sd[sd == 0] = 1.0
    return torch.as_tensor(mu, dtype=torch.float32), torch.as_tensor(sd, dtype=torch.float32)


def _discrete_columns(data: TrainingSet) -> dict[int, torch.Tensor]:
    """Tabular integer columns with few values (e.g. ``target``): generated values snap to them."""
    out: dict[int, torch.Tensor] = {}
    if data.kind != "tabular":
        return out
    for j in range(data.dim):
        values = np.unique(data.rows[:, j])
        if values.size <= _DISCRETE_MAX and np.all(values == np.round(values)):
            out[j] = torch.as_tensor(values, dtype=torch.float64)
    return out


def _models(
    config: TrainConfig, data: TrainingSet, n_classes: int, smirnov: SmirnovLayer | None
) -> tuple[torch.nn.Module, torch.nn.Module]:
    latent_dim = _given(config.latent_dim, "latent_dim")
    if data.kind == "image":
        return (
            DCGANGenerator(latent_dim, width=config.width, n_classes=n_classes, smirnov=smirnov),
            DCGANCritic(width=config.width, n_classes=n_classes),
        )
    return (
        MLPGenerator(latent_dim, data.dim, config.hidden, n_classes=n_classes, smirnov=smirnov),
        MLPCritic(data.dim, config.hidden, n_classes=n_classes),
    )


def build(config: TrainConfig) -> Run:
    """A fresh :class:`Run` for a validated ``config`` (weights from the run's own seed)."""
    data = training_set(config.data, "train")
    mu, sd = _scaling(data)
    n_classes = data.n_classes if config.conditional else 0
    smirnov = (
        SmirnovLayer((data.rows - mu.numpy().astype(np.float64)) / sd.numpy().astype(np.float64))
        if config.smirnov
        else None
    )
    with torch.random.fork_rng(devices=[]):  # module constructors draw from the global RNG: undo that
        g, d = _models(config, data, n_classes, smirnov)
    # parameters are initialised from the run's own generator, not the global RNG
    init = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        for module in list(g.modules()) + list(d.modules()):
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                bound = 1.0 / np.sqrt(module.weight[0].numel())  # torch's default bound, own generator
                module.weight.uniform_(-bound, bound, generator=init)
                if module.bias is not None:
                    module.bias.uniform_(-bound, bound, generator=init)
    spec = loss_spec(config.loss)
    lr, lr_d = _given(config.lr, "lr"), _given(config.lr_d, "lr_d")
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    if spec.optimizer == "rmsprop":
        opt_g = torch.optim.RMSprop(g.parameters(), lr=lr)
        opt_d = torch.optim.RMSprop(d.parameters(), lr=lr_d)
    else:
        opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=spec.betas)
        opt_d = torch.optim.Adam(d.parameters(), lr=lr_d, betas=spec.betas)
    ema = None
    if config.ema:
        ema = copy.deepcopy(g)
        ema.requires_grad_(False)
    rng = torch.Generator().manual_seed(config.seed + 1)
    return Run(config, data, mu, sd, _discrete_columns(data), g, d, opt_g, opt_d, rng, ema)


def _update_ema(run: Run) -> None:
    """``ema <- d * ema + (1 - d) * G`` for weights; buffers (batch norm statistics) copied.

    ``d = min(ema, (1 + t) / (10 + t))`` after the ``t``-th update (``t`` = 0, 1, ...): the
    warm-up of TensorFlow's ``ExponentialMovingAverage(num_updates=...)``, so the average
    forgets the random initial weights within the first few hundred steps instead of carrying
    ``ema ** t`` of them (5 % after 3,000 steps at 0.999).
    """
    if run.ema is None:
        return
    decay = min(_given(run.config.ema, "ema"), (1.0 + run.step) / (10.0 + run.step))
    with torch.no_grad():
        for pe, p in zip(run.ema.parameters(), run.generator.parameters()):
            pe.lerp_(p, 1.0 - decay)
        for be, b in zip(run.ema.buffers(), run.generator.buffers()):
            be.copy_(b)


def train_step(run: Run, x: torch.Tensor, y: torch.Tensor | None) -> tuple[float, float]:
    """One step: ``n_critic`` critic updates, one generator update (and the EMA's); the losses."""
    cfg, rng, g, d = run.config, run.rng, run.generator, run.critic
    spec = loss_spec(cfg.loss)
    n, b = x.shape[0], _given(cfg.batch_size, "batch_size")
    latent_dim = _given(cfg.latent_dim, "latent_dim")

    def noisy(t: torch.Tensor) -> torch.Tensor:
        if cfg.instance_noise == 0.0:
            return t
        return t + cfg.instance_noise * torch.randn(t.shape, generator=rng)

    d_value = 0.0
    for _ in range(_given(cfg.n_critic, "n_critic")):
        idx = torch.randint(n, (b,), generator=rng)
        real = x[idx]
        labels = y[idx] if y is not None else None
        z = torch.randn(b, latent_dim, generator=rng)
        with torch.no_grad():
            fake = g(z, labels)
        real_in, fake_in = noisy(real), noisy(fake)
        loss = discriminator_loss(cfg.loss, d(real_in, labels), d(fake_in, labels), label_smoothing=cfg.label_smoothing)
        if cfg.gp_lambda is not None:
            loss = loss + cfg.gp_lambda * gradient_penalty(lambda t: d(t, labels), real_in, fake_in, rng)
        run.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        run.opt_d.step()
        if spec.clip is not None:
            with torch.no_grad():
                for p in d.parameters():
                    p.clamp_(-spec.clip, spec.clip)
        d_value = float(loss.detach())
    labels = y[torch.randint(n, (b,), generator=rng)] if y is not None else None
    z = torch.randn(b, latent_dim, generator=rng)
    g_loss = generator_loss(cfg.loss, d(noisy(g(z, labels)), labels))
    run.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    run.opt_g.step()
    if run.ema is not None:
        _update_ema(run)
    return d_value, float(g_loss.detach())


def _write_outputs(run: Run, out: Path, n_samples: int) -> None:
    from .plots import save_digit_grid, save_scatter

    class_labels = run.data.labels if run.config.conditional else None
    rows, labels = sample_rows(
        run.sampler,
        n_samples,
        _given(run.config.latent_dim, "latent_dim"),
        run.config.seed + 2,
        run.mu,
        run.sd,
        run.discrete,
        class_labels,
    )
    if run.data.kind == "image":
        atomic_write(out / "samples.npy", lambda fh: np.save(fh, digit_images(rows)))
        atomic_write(out / "samples_pixels.npy", lambda fh: np.save(fh, rows))
    else:
        atomic_write(out / "samples.npy", lambda fh: np.save(fh, rows))
    if labels is not None:
        atomic_write(out / "sample_labels.npy", lambda fh: np.save(fh, labels))
    if run.data.kind == "image":
        save_digit_grid(rows[:100], out / "samples.png")
    elif run.data.dim == 2:
        save_scatter(rows, out / "samples.png", reference=training_set(run.config.data, "test").rows)


#: a model whose largest layer does fewer multiply-adds than this per batch trains on one thread:
#: its matrix products are too small to share out, and the threads' start and wait per layer
#: cost more than they save (a 3x128 MLP: 116.6 s with the default threads, 7.5 s with one, on
#: a busy 2-core machine; also faster on an idle one)
ONE_THREAD_MACS = 2**25

#: output positions counted for a convolution layer per weight (an upper bound for the 8x8 nets)
_CONV_POSITIONS = 64


def auto_threads(*models: torch.nn.Module, batch_size: int) -> int | None:
    """Intra-op threads for training ``models`` on batches of ``batch_size``: 1 for small nets
    (the largest layer's multiply-adds per batch below :data:`ONE_THREAD_MACS`), else None
    (torch's setting).

    Examples
    --------
    >>> auto_threads(torch.nn.Linear(128, 128), batch_size=256)
    1
    >>> auto_threads(torch.nn.Linear(4096, 4096), batch_size=256) is None
    True
    """
    largest = 0
    for model in models:
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                largest = max(largest, module.weight.numel() * batch_size)
            elif isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                largest = max(largest, module.weight.numel() * _CONV_POSITIONS * batch_size)
    return 1 if largest < ONE_THREAD_MACS else None


def train(
    config: TrainConfig,
    out: str | os.PathLike,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> TrainResult:
    """Train a reference GAN and write checkpoint, metrics log and samples into ``out``.

    Parameters
    ----------
    config : TrainConfig
    out : path
        Output folder: new, empty, or a previous run's (see
        :func:`~ganeval.reference.outputs.check_out_dir`). Locked for the run's lifetime: a
        second run on the same folder raises :class:`~ganeval.errors.ParameterError`.
    resume : bool, default=False
        Continue from ``out/checkpoint.pt`` when it exists (its model fields must match
        ``config``; ``steps`` may grow). Without a checkpoint the run starts afresh.
    overwrite : bool, default=False
        Start afresh even if ``out`` holds a checkpoint or other files; only the trainer's
        own files are replaced or removed.
    progress : callable, optional
        Called as ``progress(step, steps)`` after every step.
    threads : int, optional
        Intra-op threads while training (restored afterwards). Default: chosen by the
        model's size (:func:`auto_threads`): one thread for small nets, whose products are
        too small to share out (one thread is then fastest, and many times faster on a busy
        machine), else torch's setting. Results are reproducible for a given thread count.

    Returns
    -------
    TrainResult

    Notes
    -----
    Losses: Goodfellow et al. 2014 (arXiv:1406.2661), Arjovsky et al. 2017
    (arXiv:1701.07875), Gulrajani et al. 2017 (arXiv:1704.00028), Lim & Ye 2017
    (arXiv:1705.02894), Mao et al. 2017 (arXiv:1611.04076). Generator averaging: Yazıcı et
    al. 2019 (arXiv:1806.04498).

    Examples
    --------
    >>> import tempfile
    >>> cfg = TrainConfig(data="ring8", loss="hinge", steps=3, batch_size=16, hidden=(8,), n_samples=50)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     r = train(cfg, d)
    ...     sorted(p.name for p in r.out.iterdir())
    ['.ganeval-run.json', 'checkpoint.pt', 'metrics.jsonl', 'samples.npy', 'samples.png']
    """
    config = config.validated()
    out = check_out_dir(out, resume=resume, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out):
        # checked again under the lock: another run may have written here meanwhile
        check_out_dir(out, resume=resume, overwrite=overwrite)
        write_marker(out)
        return _train_locked(config, out, resume, progress, threads)


def _start_or_resume(config: TrainConfig, out: Path, resume: bool) -> tuple[Run, list[dict[str, Any]]]:
    """The run and its metrics log so far: restored from ``out``'s checkpoint (the log cut
    back to the checkpoint's step) when resuming from one, else a new run in a cleared ``out``."""
    ckpt = out / CHECKPOINT
    metrics_log = out / METRICS_LOG
    if resume and ckpt.exists():
        run = restore(ckpt, config)
        run.config = config  # steps, eval and checkpoint intervals may change
        keep_equal = run.step < config.steps
        records = [
            r
            for r in read_metrics_log(metrics_log)
            if (r.get("step", 0) <= run.step if keep_equal else r.get("step", 0) < run.step)
        ]
        write_metrics_log(metrics_log, records)
        log.info("resuming %s from step %d", ckpt, run.step)
    else:
        run = build(config)
        remove_our_outputs(out)
        records = []
    return run, records


def _train_locked(
    config: TrainConfig, out: Path, resume: bool, progress: Callable[[int, int], None] | None, threads: int | None
) -> TrainResult:
    metrics_log = out / METRICS_LOG
    run, records = _start_or_resume(config, out, resume)
    test_size = training_set(config.data, "test").rows.shape[0]
    n_samples = config.n_samples or default_n_samples(run.data.kind, test_size)
    x = (torch.as_tensor(run.data.rows, dtype=torch.float32) - run.mu) / run.sd
    y = torch.as_tensor(run.data.labels) if config.conditional else None
    class_labels = run.data.labels if config.conditional else None
    start = time.perf_counter()
    last: dict[str, Any] = {}

    def evaluate_now() -> dict[str, Any]:
        rows, _ = sample_rows(
            run.sampler,
            n_samples,
            _given(config.latent_dim, "latent_dim"),
            config.seed + 2,
            run.mu,
            run.sd,
            run.discrete,
            class_labels,
        )
        record = {"step": run.step, "elapsed_s": round(time.perf_counter() - start, 3)}
        record.update(evaluate_samples(config.data, rows, seed=config.seed))
        records.append(record)
        write_metrics_log(metrics_log, records)
        return record

    if threads is None:
        threads = auto_threads(run.generator, run.critic, batch_size=_given(config.batch_size, "batch_size"))
        log.info("training on %s intra-op threads", threads or torch.get_num_threads())
    with deterministic(threads):
        try:
            while run.step < config.steps:
                train_step(run, x, y)
                run.step += 1
                if progress is not None:
                    progress(run.step, config.steps)
                if config.eval_every and run.step % config.eval_every == 0 and run.step < config.steps:
                    last = evaluate_now()
                if run.step % config.checkpoint_every == 0:
                    save(run, out)
        except KeyboardInterrupt:
            save(run, out)
            raise
        save(run, out)
        last = evaluate_now()
        _write_outputs(run, out, n_samples)
    return TrainResult(out, run.step, last, time.perf_counter() - start)
