"""Reference-trainer checkpoints as sample sources: rows, or gray square images, drawn a
chunk of 10,000 at a time from the checkpoint's generator (``ganeval train``'s ``.pt``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..sources.base import ArraySource, Source
from ..sources.generator import batch_seed
from ..sources.images import ImageSource
from .checkpoints import load_checkpoint
from .sampling import generate

__all__ = ["checkpoint_source", "CheckpointImageSource"]

_CHECKPOINT_CHUNK = 10_000


def _check_finite_weights(state: dict[str, Any], path: Path) -> None:
    """Every tensor of the checkpoint's generator weights is finite, else an InputError
    naming the checkpoint (a NaN generator makes constant images, whose FID looks fine)."""
    import torch

    for key in ("generator_ema", "generator"):
        weights = state.get(key)
        if not isinstance(weights, dict):
            continue
        for pname, t in weights.items():
            if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
                n_bad = int((~torch.isfinite(t)).sum())
                raise InputError(
                    f"checkpoint {path}: the generator weights hold {n_bad} non-finite value(s) "
                    f"(NaN or Inf) in {key}.{pname}; the run diverged: use an earlier checkpoint"
                )


def checkpoint_source(path: Path, *, num_samples: int, seed: int, batch_size: int, device: Any) -> Source:
    """``num_samples`` samples of the reference checkpoint at ``path`` (seeded as the trainer's
    ``sample`` command draws them); refused with one line when its weights are not finite."""
    state = load_checkpoint(path)  # InputError when it is not one of ours
    _check_finite_weights(state, path)

    def chunks() -> Iterator[np.ndarray]:
        for j, lo in enumerate(range(0, num_samples, _CHECKPOINT_CHUNK)):
            n = min(_CHECKPOINT_CHUNK, num_samples - lo)
            rows, _ = generate(state, n, seed=seed if j == 0 else batch_seed(seed, j) & 0x7FFFFFFF)
            if not np.isfinite(rows).all():
                raise InputError(
                    f"checkpoint {path}: the generator made {int((~np.isfinite(rows)).sum())} NaN or "
                    f"Inf value(s); its weights or data scaling are broken"
                )
            yield rows

    kind = state.get("kind")
    if kind == "image":
        dim = int(state.get("dim", 64))
        side = int(round(math.sqrt(dim)))
        if side * side != dim:
            raise InputError(f"checkpoint {path}: image generator with {dim} pixels is not square")
        return CheckpointImageSource(str(path), chunks, num_samples, side)
    columns = list(state.get("columns") or []) or None
    return ArraySource(str(path), np.concatenate(list(chunks())), columns=columns)


class CheckpointImageSource(ImageSource):
    """Gray square images (pixels in [0, 1] as ``round(255 v)``) from a reference image
    generator, made a chunk of 10,000 at a time; ``preferred_extractor`` is ``digits`` for
    8x8 images."""

    random_access = False
    length_known = True

    def __init__(self, name: str, chunks: Callable[[], Iterator[np.ndarray]], num_samples: int, side: int):
        self.name = name
        self._chunks = chunks
        self.num_samples = num_samples
        self.side = side
        self.preferred_extractor = "digits" if side == 8 else None
        self.images = _ShapeOnly(side)  # what extractor="auto" looks at

    def __len__(self) -> int:
        return self.num_samples

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for rows in self._chunks():
            for lo in range(0, rows.shape[0], batch_size):
                px = np.clip(np.round(rows[lo : lo + batch_size] * 255.0), 0, 255).astype(np.uint8)
                yield np.repeat(px.reshape(-1, 1, self.side, self.side), 3, axis=1)


class _ShapeOnly:
    def __init__(self, side: int) -> None:
        self.shape = (0, 3, side, side)
