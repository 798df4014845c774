"""The names the report uses from :mod:`ganeval.reference` (its public API), in one place."""

from __future__ import annotations

try:  # the package re-exports its public names
    from ganeval.reference import (TrainConfig, digit_images, generate, load_checkpoint,  # type: ignore[attr-defined]
                                   train)
except ImportError:  # pragma: no cover - older layout: the names live in the trainer module
    from ganeval.reference.trainer import TrainConfig, digit_images, generate, load_checkpoint, train

try:
    from ganeval.reference import LOSSES, TRAINABLE, mixture  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    from ganeval.reference.datasets import TRAINABLE, mixture
    from ganeval.reference.losses import LOSSES

__all__ = ["TrainConfig", "train", "generate", "load_checkpoint", "digit_images", "TRAINABLE", "LOSSES", "mixture"]
