"""What defines a training run: :class:`TrainConfig`, its defaults and their checks.

:meth:`TrainConfig.validated` fills in the defaults that depend on the data and the loss
(the loss's paper settings, the measured exceptions below) and refuses bad values with a
:class:`~ganeval.errors.ParameterError`, including sizes whose memory would exceed what the
machine has (:func:`estimate_memory`).

Measured defaults (see docs/training.md for the runs behind them):

- WGAN-GP on the 2-D mixtures: lambda 0.1, as in the WGAN-GP authors' toy script
  (gan_toy.py, "smaller lambda seems to help for toy tasks"), and lr 3e-4 (with 1e-4 the
  ring's modes are still blurred after 3,000 steps; 3e-4 covers all 8 by about 1,000);
- digits: the generator's weights are averaged (``ema`` 0.999, Yazıcı et al. 2019,
  arXiv:1806.04498) and the critic learns at twice the generator's rate; see
  :data:`DIGITS_RECOMMENDED` for the full recommended configuration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import available_memory, check_choice, check_int, check_positive
from ..errors import ParameterError

#: largest learning rate accepted: Adam steps of that size already diverge at once, and the
#: optimisers hold it as float32 (1e308 does not convert)
_MAX_LR = 1e3


def _check_lr(value: Any, name: str) -> float:
    """A positive, finite learning rate no larger than :data:`_MAX_LR`."""
    v = check_positive(value, name)
    if v > _MAX_LR:
        raise ParameterError(f"{name} must be at most {_MAX_LR:g} (Adam diverges far below that), got {v:g}")
    return v


from .datasets import TRAINABLE
from .losses import LOSSES, loss_spec

__all__ = ["TrainConfig", "TrainResult", "estimate_memory", "DIGITS_RECOMMENDED", "MAX_STEPS"]

#: config fields that define the model and its training; a checkpoint must match them to resume
MODEL_FIELDS = (
    "data",
    "loss",
    "latent_dim",
    "hidden",
    "width",
    "smirnov",
    "conditional",
    "batch_size",
    "lr",
    "lr_d",
    "n_critic",
    "gp_lambda",
    "label_smoothing",
    "instance_noise",
    "ema",
    "seed",
)
_TOY_GP_LAMBDA = 0.1
_TOY_GP_LR = 3e-4
#: defaults on digits when the option is not given (measured, docs/training.md)
_DIGITS_EMA = 0.999
_DIGITS_LR_D_RATIO = 2.0
_DIGITS_BATCH = 64
#: the recommended digits run (docs/training.md, "Tuning the digits GAN")
DIGITS_RECOMMENDED = {"data": "digits", "loss": "non-saturating", "steps": 6000, "batch_size": 64}
#: more generator updates than this is a typo, not a run (a day per million steps here)
MAX_STEPS = 100_000_000
_MAX_SAMPLES = 100_000_000


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
    batch_size : int, optional
        Rows per batch, drawn with replacement from the training split (default 256; 64 on
        digits, where it trains to a lower FID in the same CPU time).
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
        ``lr`` is the generator's. Exception: WGAN-GP on the 2-D mixtures defaults to lr 3e-4.
    lr_d : float, optional
        The discriminator's learning rate (default ``lr``; on digits ``2 * lr``, a two
        time-scale update rule, Heusel et al. 2017, arXiv:1706.08500).
    gp_lambda : float, optional
        WGAN-GP penalty weight (default 10, the paper's; 0.1 on the 2-D mixtures, as the
        WGAN-GP authors' own toy experiments).
    label_smoothing : float
        One-sided: real target ``1 - label_smoothing``.
    instance_noise : float
        Standard deviation of the Gaussian noise added to both D inputs (0 = off).
    ema : float, optional
        Decay of an exponential moving average of the generator's weights, which then
        draws every sample and evaluation (Yazıcı et al. 2019, arXiv:1806.04498); 0 = off.
        Default 0.999 on digits, off elsewhere.
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

    Examples
    --------
    >>> c = TrainConfig(data="digits", loss="non-saturating").validated()
    >>> c.batch_size, c.lr, c.lr_d, c.ema
    (64, 0.0002, 0.0004, 0.999)
    >>> TrainConfig(data="ring8", loss="hinge").validated().ema
    0.0
    """

    data: str = "ring8"
    loss: str = "wgan-gp"
    steps: int = 3000
    batch_size: int | None = None
    seed: int = 0
    latent_dim: int | None = None
    hidden: tuple[int, ...] = (128, 128, 128)
    width: int = 32
    lr: float | None = None
    lr_d: float | None = None
    n_critic: int | None = None
    gp_lambda: float | None = None
    label_smoothing: float = 0.0
    instance_noise: float = 0.0
    ema: float | None = None
    smirnov: bool = False
    conditional: bool = False
    eval_every: int | None = None
    checkpoint_every: int = 500
    n_samples: int | None = None

    def validated(self) -> TrainConfig:
        """A copy with defaults filled in; raises :class:`ParameterError` on bad values."""
        check_choice(self.data, "data", tuple(TRAINABLE))
        check_choice(self.loss, "loss", LOSSES)
        spec = loss_spec(self.loss)
        kind = TRAINABLE[self.data]
        steps = check_int(self.steps, "steps", minimum=1)
        if steps > MAX_STEPS:
            raise ParameterError(f"steps must be <= {MAX_STEPS:,}, got {steps:,}")
        default_batch = _DIGITS_BATCH if kind == "image" else 256
        batch = check_int(default_batch if self.batch_size is None else self.batch_size, "batch_size", minimum=2)
        seed = check_int(self.seed, "seed", minimum=0)
        latent = self.latent_dim
        if latent is None:
            latent = 8 if kind == "mixture" else 32
        latent = check_int(latent, "latent_dim", minimum=1)
        hidden = tuple(check_int(h, "hidden", minimum=1) for h in self.hidden)
        if not hidden:
            raise ParameterError("hidden must list at least one width, got ()")
        width = check_int(self.width, "width", minimum=1)
        toy = kind == "mixture" and self.loss == "wgan-gp"
        default_lr = _TOY_GP_LR if toy else spec.lr
        lr = _check_lr(default_lr if self.lr is None else self.lr, "lr")
        default_lr_d = lr * _DIGITS_LR_D_RATIO if kind == "image" else lr
        lr_d = _check_lr(default_lr_d if self.lr_d is None else self.lr_d, "lr_d")
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
            raise ParameterError(
                f"label_smoothing applies to minimax, non-saturating and least-squares; loss is {self.loss!r}"
            )
        noise = float(self.instance_noise)
        if not (noise >= 0.0 and np.isfinite(noise)):
            raise ParameterError(f"instance_noise must be a finite number >= 0, got {self.instance_noise!r}")
        ema = (_DIGITS_EMA if kind == "image" else 0.0) if self.ema is None else float(self.ema)
        if not 0.0 <= ema < 1.0:
            raise ParameterError(f"ema must be in [0, 1) (0 = off), got {self.ema!r}")
        eval_every = (
            max(steps // 10, 1) if self.eval_every is None else check_int(self.eval_every, "eval_every", minimum=0)
        )
        ckpt = check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        n_samples = None if self.n_samples is None else check_int(self.n_samples, "n_samples", minimum=2)
        if n_samples is not None and n_samples > _MAX_SAMPLES:
            raise ParameterError(f"n_samples must be <= {_MAX_SAMPLES:,}, got {n_samples:,}")
        out = dataclasses.replace(
            self,
            steps=steps,
            batch_size=batch,
            seed=seed,
            latent_dim=latent,
            hidden=hidden,
            width=width,
            lr=lr,
            lr_d=lr_d,
            n_critic=n_critic,
            gp_lambda=gp_lambda,
            label_smoothing=ls,
            instance_noise=noise,
            ema=ema,
            smirnov=bool(self.smirnov),
            conditional=bool(self.conditional),
            eval_every=eval_every,
            checkpoint_every=ckpt,
            n_samples=n_samples,
        )
        _check_memory(out)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The config of a saved ``to_dict()``; checkpoints written before ``lr_d`` and
        ``ema`` existed trained with ``lr_d = lr`` and no averaging."""
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        if "hidden" in d:
            d["hidden"] = tuple(d["hidden"])
        if "lr" in d and "lr_d" not in d:
            d["lr_d"] = d["lr"]
        d.setdefault("ema", 0.0)
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


def default_n_samples(kind: str, test_size: int) -> int:
    """Rows per evaluation and in ``samples.npy``: 2,500 for mixtures, the test split's size else."""
    return 2500 if kind == "mixture" else test_size


def estimate_memory(config: TrainConfig, n_samples: int) -> int:
    """Rough peak bytes of a run: the larger of one training step and one batch of sampling.

    A training step keeps every layer's activations of ``batch_size`` rows for the backward
    pass (about 8 floats per activation counting gradients, the optimiser's copies and the
    WGAN-GP double backward); sampling runs the generator on chunks of at most 65,536 rows
    (3 floats per activation) and keeps three float64 copies of the ``n_samples`` rows
    (torch, numpy, the evaluation's). The weights count five times (weights, gradients, two
    Adam moments, the averaged copy).

    Examples
    --------
    >>> c = TrainConfig(data="ring8", batch_size=256).validated()
    >>> estimate_memory(c, 2500) < 50 * 2**20
    True
    """
    kind = TRAINABLE[config.data]
    latent = config.latent_dim or 32
    if kind == "image":
        w = config.width
        g_act = latent + 16 * w + 2 * 16 * w + 64 + 64  # fc, (2w,4,4), output, sigmoid
        d_act = 64 + w * 16 + 2 * w * 4 + 1  # input, (w,4,4), (2w,2,2), score
        dim = 64
    else:
        dim = 2 if kind == "mixture" else 40
        g_act = latent + 2 * sum(config.hidden) + 2 * dim
        d_act = dim + 2 * sum(config.hidden) + 1
    if kind == "image":
        w = config.width
        params = latent * 16 * w + 4 * w * 2 * w * 16 + 2 * w * 16 + 16 * w + w * 2 * w * 16 + 8 * w
    else:
        widths = [latent, *config.hidden, dim]
        params = 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    weights = params * 4 * 5  # weights, gradients, two Adam moments, the EMA copy
    if config.batch_size is None:
        raise ParameterError("estimate_memory needs a validated config (batch_size is unset)")
    step = config.batch_size * (g_act + 2 * d_act) * 4 * 8
    sampling = min(n_samples, 65536) * 3 * g_act * 4 + n_samples * dim * 8 * 3
    return int(weights + max(step, sampling))


def _check_memory(config: TrainConfig) -> None:
    n = config.n_samples or 2500  # the defaults are at most 2,500 (mixtures; test split sizes else)
    need = estimate_memory(config, n)
    have = available_memory()
    if need > 0.8 * have:
        sizes = f"batch_size={config.batch_size:,}"
        sizes += f", n_samples={config.n_samples:,}" if config.n_samples else ""
        sizes += f", width={config.width:,}" if TRAINABLE[config.data] == "image" else f", hidden={list(config.hidden)}"
        raise ParameterError(
            f"{sizes}: a run would need about {need / 2**30:.1f} GiB "
            f"of memory, this machine has {have / 2**30:.1f} GiB available; use smaller sizes"
        )
