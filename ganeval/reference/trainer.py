"""Seeded, resumable training of the reference GANs on the embedded data sets.

:func:`train` fits a generator to ``builtin:DATA/train`` with one of the losses of
:mod:`ganeval.reference.losses` and writes, in ``out``:

- ``checkpoint.pt``: models, optimisers, the random generator's state and the config,
  written atomically (temporary file + ``os.replace``) every ``checkpoint_every`` steps, on
  interruption and at the end, so a killed run always leaves a readable checkpoint;
- ``metrics.jsonl``: one JSON object per evaluation (``step``, ``elapsed_s`` and the metrics:
  mode metrics on the mixtures, FID/KID on digits, ECDF/C2ST or FID/MMD on tabular sets),
  computed with ganeval's public metric functions against ``builtin:DATA/test``;
- ``samples.npy``: ``n_samples`` generated rows in the data's own units (the columns of
  ``builtin:DATA``); for digits uint8 images (N, 8, 8, 1) as ``builtin:digits`` serves them,
  and ``samples_pixels.npy`` with the rows of 64 pixels in [0, 1] (``builtin:digits-pixels``);
  plus ``samples.png`` (a scatter plot for 2-D data, an image grid for digits) and
  ``sample_labels.npy`` for class-conditional models.

A *step* is one generator update, preceded by ``n_critic`` discriminator updates. Every
random draw (batch indices, latent codes, noise, penalty mixing weights) comes from one
``torch.Generator`` seeded with ``seed`` whose state is checkpointed: the same seed gives the
same samples, and a resumed run the same samples as an uninterrupted one. Evaluations draw
from their own generators, so they never change the training trajectory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .._validation import check_choice, check_int, check_positive
from ..errors import InputError, ParameterError
from .datasets import TRAINABLE, TrainingSet, mixture, training_set
from .losses import LOSSES, discriminator_loss, generator_loss, gradient_penalty, loss_spec
from .models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from .smirnov import SmirnovLayer

__all__ = ["TrainConfig", "TrainResult", "train", "load_checkpoint", "generate", "evaluate_samples", "digit_images",
           "check_out_dir", "deterministic", "CHECKPOINT", "FORMAT"]

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
FORMAT = "ganeval-reference-checkpoint"
FORMAT_VERSION = 1
#: config fields that define the model and its training; a checkpoint must match them to resume
_MODEL_FIELDS = ("data", "loss", "latent_dim", "hidden", "width", "smirnov", "conditional", "batch_size",
                 "lr", "n_critic", "gp_lambda", "label_smoothing", "instance_noise", "seed")
# WGAN-GP on the 2-D mixtures: lambda 0.1 as in the WGAN-GP authors' toy script (gan_toy.py,
# "smaller lambda seems to help for toy tasks"), and lr 3e-4 (ours: with 1e-4 the ring's modes
# are still blurred after 3,000 steps; 3e-4 covers all 8 by about 1,000)
_TOY_GP_LAMBDA = 0.1
_TOY_GP_LR = 3e-4
_DISCRETE_MAX = 20  # integer columns with at most this many values are snapped to them


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (``None`` = the default for the data / loss).

    Attributes
    ----------
    data : str
        ``ring8``, ``grid25``, ``digits``, ``wine`` or ``breast_cancer``.
    loss : str
        One of :data:`ganeval.reference.losses.LOSSES`.
    steps : int
        Generator updates (>= 1).
    batch_size : int
        Rows per batch (drawn with replacement from the training split).
    seed : int
        Seed of every random draw.
    latent_dim : int, optional
        Size of ``z`` (default 8 for 2-D data, 32 otherwise).
    hidden : tuple of int
        Hidden widths of the MLPs.
    width : int
        Base channel count of the DCGAN pair (digits).
    lr, n_critic : optional
        Override the loss's paper defaults (see :func:`~ganeval.reference.losses.loss_spec`).
        Exception: WGAN-GP on the 2-D mixtures defaults to lr 3e-4.
    gp_lambda : float, optional
        WGAN-GP penalty weight (default 10, the paper's; 0.1 on the 2-D mixtures, as the
        WGAN-GP authors' own toy experiments).
    label_smoothing : float
        One-sided: real target ``1 - label_smoothing``.
    instance_noise : float
        Standard deviation of the Gaussian noise added to both D inputs (0 = off).
    smirnov : bool
        End the generator in a Smirnov layer fitted to the training split.
    conditional : bool
        Condition G and D on the class label (digits, wine, breast_cancer, and the mixtures'
        mode index).
    eval_every : int, optional
        Steps between evaluations (default ``steps // 10``; 0 = only at the end).
    checkpoint_every : int
        Steps between checkpoints.
    n_samples : int, optional
        Rows in ``samples.npy`` and in each evaluation (default 2,500 for mixtures, the
        test split's size otherwise).
    """

    data: str = "ring8"
    loss: str = "wgan-gp"
    steps: int = 3000
    batch_size: int = 256
    seed: int = 0
    latent_dim: int | None = None
    hidden: tuple[int, ...] = (128, 128, 128)
    width: int = 32
    lr: float | None = None
    n_critic: int | None = None
    gp_lambda: float | None = None
    label_smoothing: float = 0.0
    instance_noise: float = 0.0
    smirnov: bool = False
    conditional: bool = False
    eval_every: int | None = None
    checkpoint_every: int = 500
    n_samples: int | None = None

    def validated(self) -> "TrainConfig":
        """A copy with defaults filled in; raises :class:`ParameterError` on bad values."""
        check_choice(self.data, "data", tuple(TRAINABLE))
        check_choice(self.loss, "loss", LOSSES)
        spec = loss_spec(self.loss)
        steps = check_int(self.steps, "steps", minimum=1)
        batch = check_int(self.batch_size, "batch_size", minimum=2)
        seed = check_int(self.seed, "seed", minimum=0)
        latent = self.latent_dim
        if latent is None:
            latent = 8 if TRAINABLE[self.data] == "mixture" else 32
        latent = check_int(latent, "latent_dim", minimum=1)
        hidden = tuple(check_int(h, "hidden", minimum=1) for h in self.hidden)
        if not hidden:
            raise ParameterError("hidden must list at least one width, got ()")
        width = check_int(self.width, "width", minimum=1)
        toy = TRAINABLE[self.data] == "mixture" and self.loss == "wgan-gp"
        default_lr = _TOY_GP_LR if toy else spec.lr
        lr = check_positive(default_lr if self.lr is None else self.lr, "lr")
        n_critic = check_int(spec.n_critic if self.n_critic is None else self.n_critic, "n_critic", minimum=1)
        gp_lambda = None
        if spec.gp_lambda is not None:
            default_gp = _TOY_GP_LAMBDA if toy else spec.gp_lambda
            gp_lambda = check_positive(default_gp if self.gp_lambda is None else self.gp_lambda, "gp_lambda")
        elif self.gp_lambda is not None:
            raise ParameterError(f"gp_lambda applies to loss 'wgan-gp' only; loss is {self.loss!r}")
        ls = float(self.label_smoothing)
        if not 0.0 <= ls < 1.0:
            raise ParameterError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if ls and not spec.has_targets:
            raise ParameterError(f"label_smoothing applies to minimax, non-saturating and least-squares; "
                                 f"loss is {self.loss!r}")
        noise = float(self.instance_noise)
        if not (noise >= 0.0 and np.isfinite(noise)):
            raise ParameterError(f"instance_noise must be a finite number >= 0, got {self.instance_noise!r}")
        eval_every = max(steps // 10, 1) if self.eval_every is None else check_int(self.eval_every, "eval_every", minimum=0)
        ckpt = check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        n_samples = None if self.n_samples is None else check_int(self.n_samples, "n_samples", minimum=2)
        return dataclasses.replace(
            self, steps=steps, batch_size=batch, seed=seed, latent_dim=latent, hidden=hidden, width=width, lr=lr,
            n_critic=n_critic, gp_lambda=gp_lambda, label_smoothing=ls, instance_noise=noise, smirnov=bool(self.smirnov),
            conditional=bool(self.conditional), eval_every=eval_every, checkpoint_every=ckpt, n_samples=n_samples)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if "hidden" in d:
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


@dataclass(frozen=True)
class TrainResult:
    """Where a run wrote its files and its last evaluation."""

    out: Path
    steps: int
    final_metrics: dict[str, Any]
    elapsed_s: float

    @property
    def samples_path(self) -> Path:
        return self.out / "samples.npy"


# -- determinism ----------------------------------------------------------------------------

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


# -- the pieces of a run --------------------------------------------------------------------

@dataclass
class _Run:
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
    step: int = 0

    @property
    def n_classes(self) -> int:
        return self.data.n_classes if self.config.conditional else 0


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


def _models(config: TrainConfig, data: TrainingSet, n_classes: int,
            smirnov: SmirnovLayer | None) -> tuple[torch.nn.Module, torch.nn.Module]:
    if data.kind == "image":
        return (DCGANGenerator(config.latent_dim, width=config.width, n_classes=n_classes, smirnov=smirnov),
                DCGANCritic(width=config.width, n_classes=n_classes))
    return (MLPGenerator(config.latent_dim, data.dim, config.hidden, n_classes=n_classes, smirnov=smirnov),
            MLPCritic(data.dim, config.hidden, n_classes=n_classes))


def _build(config: TrainConfig) -> _Run:
    data = training_set(config.data, "train")
    mu, sd = _scaling(data)
    n_classes = data.n_classes if config.conditional else 0
    smirnov = SmirnovLayer((data.rows - mu.numpy().astype(np.float64)) / sd.numpy().astype(np.float64)) \
        if config.smirnov else None
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
    if spec.optimizer == "rmsprop":
        opt_g = torch.optim.RMSprop(g.parameters(), lr=config.lr)
        opt_d = torch.optim.RMSprop(d.parameters(), lr=config.lr)
    else:
        opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=spec.betas)
        opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=spec.betas)
    rng = torch.Generator().manual_seed(config.seed + 1)
    return _Run(config, data, mu, sd, _discrete_columns(data), g, d, opt_g, opt_d, rng)


def _train_step(run: _Run, x: torch.Tensor, y: torch.Tensor | None) -> tuple[float, float]:
    cfg, rng, g, d = run.config, run.rng, run.generator, run.critic
    spec = loss_spec(cfg.loss)
    n, b = x.shape[0], cfg.batch_size

    def noisy(t: torch.Tensor) -> torch.Tensor:
        if cfg.instance_noise == 0.0:
            return t
        return t + cfg.instance_noise * torch.randn(t.shape, generator=rng)

    d_value = 0.0
    for _ in range(cfg.n_critic):
        idx = torch.randint(n, (b,), generator=rng)
        real = x[idx]
        labels = y[idx] if y is not None else None
        z = torch.randn(b, cfg.latent_dim, generator=rng)
        with torch.no_grad():
            fake = g(z, labels)
        real_in, fake_in = noisy(real), noisy(fake)
        loss = discriminator_loss(cfg.loss, d(real_in, labels), d(fake_in, labels),
                                  label_smoothing=cfg.label_smoothing)
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
    z = torch.randn(b, cfg.latent_dim, generator=rng)
    g_loss = generator_loss(cfg.loss, d(noisy(g(z, labels)), labels))
    run.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    run.opt_g.step()
    return d_value, float(g_loss.detach())


# -- sampling ---------------------------------------------------------------------------------

def _sample_rows(generator: torch.nn.Module, n: int, latent_dim: int, seed: int, mu: torch.Tensor, sd: torch.Tensor,
                 discrete: dict[int, torch.Tensor], class_labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` rows in data units from a fresh generator seeded with ``seed`` (G in eval mode)."""
    rng = torch.Generator().manual_seed(seed)
    labels = None
    if class_labels is not None:
        labels = torch.as_tensor(class_labels)[torch.randint(len(class_labels), (n,), generator=rng)]
    z = torch.randn(n, latent_dim, generator=rng)
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            out = generator(z, labels).double()
    finally:
        generator.train(was_training)
    rows = out * sd.double() + mu.double()
    for j, values in discrete.items():
        rows[:, j] = values[(rows[:, j:j + 1] - values[None, :]).abs().argmin(1)]
    return rows.numpy(), (None if labels is None else labels.numpy())


def _default_n_samples(run_data: TrainingSet, test_size: int) -> int:
    return 2500 if run_data.kind == "mixture" else test_size


# -- evaluation -------------------------------------------------------------------------------

def evaluate_samples(data: str, samples: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """The metrics :func:`train` logs, for ``samples`` of data set ``data`` (vs its test split).

    Mixtures: :func:`~ganeval.metrics.modes.mode_metrics`. Digits: FID and KID on the 64
    pixel features and on the embedded digits network's features. Tabular: ECDF L1 (mean over
    features), C2ST (logistic regression) and FID, all on rows standardized by the test
    split's mean and std.

    Examples
    --------
    >>> from ganeval.reference.datasets import training_set
    >>> m = evaluate_samples("ring8", training_set("ring8", "test").rows)
    >>> m["modes_covered"], m["high_quality"] > 0.98
    (8, True)
    """
    import ganeval

    kind = TRAINABLE[data]
    if kind == "mixture":
        from ..metrics.modes import mode_metrics

        mix = mixture(data)
        r = mode_metrics(samples, mix.centers, mix.std, min_count=max(1, round(20 * samples.shape[0] / 2500)))
        return {k: r.values[k] for k in ("modes_covered", "high_quality", "kl_uniform")}
    test = training_set(data, "test").rows
    if kind == "image":
        res = ganeval.evaluate(test, samples, ["fid", "kid"], options={"kid": {"subsets": 20, "seed": seed}})
        out = {"fid_pixels": res["fid"].value, "kid_pixels": res["kid"].value}
        out.update(_digits_network_metrics(test, samples, seed))
        return out
    mu, sd = test.mean(0), test.std(0)
    sd[sd == 0] = 1.0
    zt, zs = (test - mu) / sd, (samples - mu) / sd
    from ..metrics.c2st import classifier_two_sample_test
    from ..metrics.ecdf import ecdf_distance

    c2st = classifier_two_sample_test(zt, zs, classifier="logreg", seed=seed)
    return {"ecdf_l1_std": ecdf_distance(zt, zs, p=1).value,
            "c2st_accuracy": c2st.values["accuracy"], "c2st_auc": c2st.values["auc"],
            "fid_std": ganeval.fid_from_features(zt, zs).value}


def digit_images(rows: np.ndarray) -> np.ndarray:
    """Rows of 64 pixels in [0, 1] as uint8 images of shape (N, 8, 8, 1): ``round(255 v)``.

    ``builtin:digits`` serves scikit-learn's digits the same way (``round(v16 * 255 / 16)``).

    Examples
    --------
    >>> import numpy as np
    >>> digit_images(np.full((2, 64), 0.5)).shape, int(digit_images(np.full((1, 64), 0.5)).max())
    ((2, 8, 8, 1), 128)
    """
    return np.clip(np.round(np.asarray(rows) * 255.0), 0, 255).astype(np.uint8).reshape(-1, 8, 8, 1)


_DIGITS_TEST_FEATURES: dict[str, Any] = {}


def _digits_network_metrics(test: np.ndarray, samples: np.ndarray, seed: int) -> dict[str, Any]:
    """FID / KID on the embedded digits network's features (the test split's are computed once)."""
    import ganeval

    opts = dict(extractor="digits", cache=False, progress=False, device="cpu", batch_size=500)
    key = str(test.shape)
    if key not in _DIGITS_TEST_FEATURES:
        _DIGITS_TEST_FEATURES[key] = ganeval.load_features(digit_images(test), **opts)
    res = ganeval.evaluate(_DIGITS_TEST_FEATURES[key], digit_images(samples), ["fid", "kid"],
                           options={"kid": {"subsets": 20, "seed": seed}}, **opts)
    return {"fid_digits": res["fid"].value, "kid_digits": res["kid"].value}


# -- checkpoints ------------------------------------------------------------------------------

def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _save(run: _Run, out: Path) -> None:
    from .. import __version__

    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganeval_version": __version__,
        "config": run.config.to_dict(),
        "step": run.step,
        "kind": run.data.kind,
        "dim": run.data.dim,
        "columns": list(run.data.columns or ()),
        "class_labels": torch.as_tensor(run.data.labels) if run.data.labels is not None else None,
        "scale_mu": run.mu,
        "scale_sd": run.sd,
        "discrete": {str(j): v for j, v in run.discrete.items()},
        "generator": run.generator.state_dict(),
        "critic": run.critic.state_dict(),
        "opt_g": run.opt_g.state_dict(),
        "opt_d": run.opt_d.state_dict(),
        "rng": run.rng.get_state(),
    }
    _atomic_torch_save(state, out / CHECKPOINT)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`train` (``torch.load(..., weights_only=True)``).

    Raises :class:`~ganeval.errors.InputError` when the file is missing, corrupt or not a
    ganeval reference checkpoint.

    Examples
    --------
    >>> load_checkpoint("no/such/checkpoint.pt")
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: checkpoint no/such/checkpoint.pt: no such file
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"checkpoint {p}: no such file")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"checkpoint {p}: not a readable checkpoint ({msg[:200]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"checkpoint {p}: not a ganeval reference checkpoint (no '{FORMAT}' format tag)")
    if state.get("format_version") != FORMAT_VERSION:
        raise InputError(f"checkpoint {p}: format version {state.get('format_version')!r}, expected {FORMAT_VERSION}")
    return state


def _restore(path: Path, config: TrainConfig) -> _Run:
    state = load_checkpoint(path)
    saved = TrainConfig.from_dict(state["config"])
    for name in _MODEL_FIELDS:
        if getattr(saved, name) != getattr(config, name):
            raise ParameterError(f"checkpoint {path}: was trained with {name}={getattr(saved, name)!r}, "
                                 f"this run asks for {name}={getattr(config, name)!r}")
    run = _build(config)
    _load_state(run, state, path)
    return run


def _load_state(run: _Run, state: dict[str, Any], path: Path) -> None:
    try:
        run.generator.load_state_dict(state["generator"])
        run.critic.load_state_dict(state["critic"])
        if "opt_g" in state:
            run.opt_g.load_state_dict(state["opt_g"])
            run.opt_d.load_state_dict(state["opt_d"])
            run.rng.set_state(state["rng"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"checkpoint {path}: its weights do not fit the model it names ({first[:200]})") from None
    run.step = int(state["step"])


def generate(checkpoint: str | os.PathLike | dict[str, Any], n: int, *, seed: int = 0,
             labels: Any = None, threads: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Draw ``n`` rows from a trained generator, in the data's units.

    Parameters
    ----------
    checkpoint : path or the dict :func:`load_checkpoint` returned
    n : int
        Rows to draw (>= 1).
    seed : int, default=0
        Seed of the latent codes (and of the class labels of a conditional model).
    labels : array-like of int, optional
        Class labels for a conditional model (default: drawn from the training labels).
    threads : int, optional
        Intra-op threads while sampling (restored afterwards).

    Returns
    -------
    rows : ndarray of shape (n, d), float64
        Same columns as ``builtin:DATA`` (digits: 64 pixels in [0, 1], row-major 8x8).
    labels : ndarray of shape (n,) or None
        The class of each row for a conditional model.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> cfg = TrainConfig(data="wine", loss="hinge", steps=2, batch_size=8, hidden=(8,), eval_every=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = train(cfg, d)
    ...     a, _ = generate(d + "/checkpoint.pt", 5, seed=1)
    ...     b, _ = generate(d + "/checkpoint.pt", 5, seed=1)
    >>> a.shape, bool(np.array_equal(a, b))
    ((5, 14), True)
    """
    path = Path(checkpoint) if not isinstance(checkpoint, dict) else Path("<checkpoint>")
    state = load_checkpoint(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    try:
        config = TrainConfig.from_dict(state["config"]).validated()
    except (TypeError, KeyError) as exc:
        raise InputError(f"checkpoint {path}: its config cannot be read ({exc})") from None
    run = _build(config)
    _load_state(run, {k: v for k, v in state.items() if k not in ("opt_g", "opt_d", "rng")}, path)
    class_labels = run.data.labels if config.conditional else None
    if labels is not None and config.conditional:
        lab = np.asarray(labels, dtype=np.int64).ravel()
        if lab.size == 0 or lab.min() < 0 or lab.max() >= run.data.n_classes:
            raise ParameterError(f"labels must be class indices in [0, {run.data.n_classes - 1}], got {labels!r}")
        class_labels = lab
    with deterministic(threads):
        return _sample_rows(run.generator, n, config.latent_dim, seed, run.mu, run.sd, run.discrete, class_labels)


# -- outputs ----------------------------------------------------------------------------------

def _atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode) as fh:
            write(fh)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_outputs(run: _Run, out: Path, n_samples: int) -> dict[str, Any]:
    from .plots import save_digit_grid, save_scatter

    class_labels = run.data.labels if run.config.conditional else None
    rows, labels = _sample_rows(run.generator, n_samples, run.config.latent_dim, run.config.seed + 2,
                                run.mu, run.sd, run.discrete, class_labels)
    if run.data.kind == "image":
        _atomic_write(out / "samples.npy", lambda fh: np.save(fh, digit_images(rows)))
        _atomic_write(out / "samples_pixels.npy", lambda fh: np.save(fh, rows))
    else:
        _atomic_write(out / "samples.npy", lambda fh: np.save(fh, rows))
    if labels is not None:
        _atomic_write(out / "sample_labels.npy", lambda fh: np.save(fh, labels))
    if run.data.kind == "image":
        save_digit_grid(rows[:100], out / "samples.png")
    elif run.data.dim == 2:
        save_scatter(rows, out / "samples.png", reference=training_set(run.config.data, "test").rows)
    return {"rows": rows}


def _trim_metrics_log(path: Path, step: int, keep_equal: bool = True) -> None:
    """Drop log lines past ``step`` (written after the checkpoint a run resumes from)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step if keep_equal else json.loads(line).get("step", 0) < step:
                kept.append(line)
        except json.JSONDecodeError:
            continue
    _atomic_write(path, lambda fh: fh.write("".join(k + "\n" for k in kept)), mode="w")


def check_out_dir(out: str | os.PathLike, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Validate the output folder before any work: not a file (nor under one); no checkpoint
    unless resuming or overwriting. Missing folders are created by :func:`train`.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     check_out_dir(f.name)
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: out ...: is a file, not a folder
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"out {p}: is a file, not a folder")
    if (p / CHECKPOINT).exists() and not (resume or overwrite):
        raise ParameterError(f"out {p}: holds a checkpoint already; resume it (--resume) or replace it (--overwrite)")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"out {p}: {parent} is a file, not a folder")
            break
    return p


def train(config: TrainConfig, out: str | os.PathLike, *, resume: bool = False, overwrite: bool = False,
          progress: Callable[[int, int], None] | None = None, threads: int | None = None) -> TrainResult:
    """Train a reference GAN and write checkpoint, metrics log and samples into ``out``.

    Parameters
    ----------
    config : TrainConfig
    out : path
        Output folder (created; must not be a file).
    resume : bool, default=False
        Continue from ``out/checkpoint.pt`` when it exists (its model fields must match
        ``config``; ``steps`` may grow). Without a checkpoint the run starts afresh.
    overwrite : bool, default=False
        Start afresh even if ``out`` holds a checkpoint.
    progress : callable, optional
        Called as ``progress(step, steps)`` after every step.
    threads : int, optional
        Intra-op threads while training (restored afterwards; default: leave as is). The
        nets are small: one thread is often fastest, and much faster on a busy machine.
        Results are reproducible for a given thread count.

    Returns
    -------
    TrainResult

    Notes
    -----
    Losses: Goodfellow et al. 2014 (arXiv:1406.2661), Arjovsky et al. 2017
    (arXiv:1701.07875), Gulrajani et al. 2017 (arXiv:1704.00028), Lim & Ye 2017
    (arXiv:1705.02894), Mao et al. 2017 (arXiv:1611.04076).

    Examples
    --------
    >>> import tempfile
    >>> cfg = TrainConfig(data="ring8", loss="hinge", steps=3, batch_size=16, hidden=(8,), n_samples=50)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     r = train(cfg, d)
    ...     sorted(p.name for p in r.out.iterdir())
    ['checkpoint.pt', 'metrics.jsonl', 'samples.npy', 'samples.png']
    """
    config = config.validated()
    out = check_out_dir(out, resume=resume, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / CHECKPOINT
    metrics_log = out / "metrics.jsonl"
    if resume and ckpt.exists():
        run = _restore(ckpt, config)
        run.config = config  # steps, eval and checkpoint intervals may change
        _trim_metrics_log(metrics_log, run.step, keep_equal=run.step < config.steps)
        log.info("resuming %s from step %d", ckpt, run.step)
    else:
        run = _build(config)
        if metrics_log.exists():
            metrics_log.unlink()
    test_size = training_set(config.data, "test").rows.shape[0]
    n_samples = config.n_samples or _default_n_samples(run.data, test_size)
    x = ((torch.as_tensor(run.data.rows, dtype=torch.float32) - run.mu) / run.sd)
    y = torch.as_tensor(run.data.labels) if config.conditional else None
    class_labels = run.data.labels if config.conditional else None
    start = time.perf_counter()
    last: dict[str, Any] = {}

    def evaluate_now() -> dict[str, Any]:
        rows, _ = _sample_rows(run.generator, n_samples, config.latent_dim, config.seed + 2, run.mu, run.sd,
                               run.discrete, class_labels)
        record = {"step": run.step, "elapsed_s": round(time.perf_counter() - start, 3)}
        record.update(evaluate_samples(config.data, rows, seed=config.seed))
        with open(metrics_log, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        return record

    with deterministic(threads):
        try:
            while run.step < config.steps:
                _train_step(run, x, y)
                run.step += 1
                if progress is not None:
                    progress(run.step, config.steps)
                if config.eval_every and run.step % config.eval_every == 0 and run.step < config.steps:
                    last = evaluate_now()
                if run.step % config.checkpoint_every == 0:
                    _save(run, out)
        except KeyboardInterrupt:
            _save(run, out)
            raise
        _save(run, out)
        last = evaluate_now()
        _write_outputs(run, out, n_samples)
    return TrainResult(out, run.step, last, time.perf_counter() - start)
