"""Reference generators: embedded data sets, GAN losses, the Smirnov layer, models and a trainer.

The trainer's public names are importable from here (``from ganeval.reference import train,
TrainConfig``); they are loaded on first use, so opening a ``builtin:`` source (which imports
:mod:`ganeval.reference.datasets`) does not load torch models.

- :mod:`~ganeval.reference.datasets`: ``ring8`` and ``grid25`` mixtures (registered as
  ``builtin:`` sources) and :func:`~ganeval.reference.datasets.training_set`;
- :mod:`~ganeval.reference.losses`: minimax, non-saturating, wgan, wgan-gp, hinge,
  least-squares;
- :mod:`~ganeval.reference.smirnov`: :class:`~ganeval.reference.smirnov.SmirnovLayer` and
  :func:`~ganeval.reference.smirnov.smirnov_transform`;
- :mod:`~ganeval.reference.models`: MLP and DCGAN-style generator / critic pairs;
- the trainer, one module per job: :mod:`~ganeval.reference.config` (:class:`TrainConfig`,
  defaults and checks), :mod:`~ganeval.reference.training` (the loop, :func:`train`),
  :mod:`~ganeval.reference.checkpoints` (:func:`load_checkpoint`),
  :mod:`~ganeval.reference.sampling` (:func:`generate`), :mod:`~ganeval.reference.evaluation`
  (:func:`evaluate_samples`, the metrics a run logs) and :mod:`~ganeval.reference.outputs`
  (the run folder: accepted folders, the run lock, atomic writes);
- :mod:`~ganeval.reference.plots`: scatter and digit-grid PNGs with matplotlib.

See docs/training.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "config",
    "TrainResult": "config",
    "DIGITS_RECOMMENDED": "config",
    "estimate_memory": "config",
    "train": "training",
    "deterministic": "training",
    "load_checkpoint": "checkpoints",
    "FORMAT": "checkpoints",
    "generate": "sampling",
    "digit_images": "sampling",
    "evaluate_samples": "evaluation",
    "check_out_dir": "outputs",
    "atomic_write": "outputs",
    "CHECKPOINT": "outputs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ganeval.reference' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
