"""Drawing rows from a generator: :func:`sample_rows`, :func:`generate` and :func:`digit_images`.

Every draw uses a fresh ``torch.Generator`` seeded with the caller's seed (latent codes, and
class labels for a conditional model), with the generator in eval mode (batch norm uses its
running statistics), so the same checkpoint and seed give the same rows. Rows come back in
the data's own units: tabular rows are mapped back from the standardized space the networks
see and their few-valued integer columns snapped to the observed values.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from .._validation import check_int
from ..errors import InputError, ParameterError

__all__ = ["sample_rows", "generate", "digit_images"]

#: rows drawn per forward pass (bounds the activations' memory for any ``n``)
_CHUNK = 65536


def sample_rows(
    generator: torch.nn.Module,
    n: int,
    latent_dim: int,
    seed: int,
    mu: torch.Tensor,
    sd: torch.Tensor,
    discrete: dict[int, torch.Tensor],
    class_labels: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` rows in data units from ``generator``, latent codes seeded with ``seed`` (G in eval mode).

    ``class_labels`` (for a conditional model) is the pool each row's label is drawn from.

    Examples
    --------
    >>> import torch
    >>> from ganeval.reference.models import MLPGenerator
    >>> g = MLPGenerator(4, 2, hidden=(8,))
    >>> rows, labels = sample_rows(g, 3, 4, 0, torch.zeros(2), torch.ones(2), {}, None)
    >>> rows.shape, labels is None
    ((3, 2), True)
    """
    rng = torch.Generator().manual_seed(seed)
    labels = None
    if class_labels is not None:
        labels = torch.as_tensor(class_labels)[torch.randint(len(class_labels), (n,), generator=rng)]
    z = torch.randn(n, latent_dim, generator=rng)
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            parts = [
                generator(z[i : i + _CHUNK], None if labels is None else labels[i : i + _CHUNK]).double()
                for i in range(0, n, _CHUNK)
            ]
    finally:
        generator.train(was_training)
    rows = torch.cat(parts) * sd.double() + mu.double()
    for j, values in discrete.items():
        rows[:, j] = values[(rows[:, j : j + 1] - values[None, :]).abs().argmin(1)]
    return rows.numpy(), (None if labels is None else labels.numpy())


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


def generate(
    checkpoint: str | os.PathLike | dict[str, Any],
    n: int,
    *,
    seed: int = 0,
    labels: Any = None,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Draw ``n`` rows from a trained generator, in the data's units.

    A checkpoint trained with ``ema`` draws from the averaged generator.

    Parameters
    ----------
    checkpoint : path or the dict :func:`~ganeval.reference.load_checkpoint` returned
    n : int
        Rows to draw (>= 1; refused when they would not fit in memory).
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
    >>> from ganeval.reference import TrainConfig, train
    >>> cfg = TrainConfig(data="wine", loss="hinge", steps=2, batch_size=8, hidden=(8,), eval_every=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = train(cfg, d)
    ...     a, _ = generate(d + "/checkpoint.pt", 5, seed=1)
    ...     b, _ = generate(d + "/checkpoint.pt", 5, seed=1)
    >>> a.shape, bool(np.array_equal(a, b))
    ((5, 14), True)
    """
    from pathlib import Path

    from .checkpoints import load_checkpoint, load_state
    from .config import TrainConfig, available_memory
    from .training import build, deterministic

    path = (
        Path(checkpoint)
        if not isinstance(checkpoint, dict)
        else Path(str(checkpoint.get("loaded_from", "<checkpoint>")))
    )
    state = load_checkpoint(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    dim = int(state.get("dim", 64))
    need = n * dim * 8 * 2  # float64 rows, and their copy in numpy
    if need > 0.8 * available_memory():
        raise ParameterError(
            f"n={n:,}: {n:,} rows of {dim} values need about {need / 2**30:.1f} GiB, this machine "
            f"has {available_memory() / 2**30:.1f} GiB available; draw fewer rows"
        )
    try:
        config = TrainConfig.from_dict(state["config"]).validated()
    except (TypeError, KeyError) as exc:
        raise InputError(f"checkpoint {path}: its config cannot be read ({exc})") from None
    run = build(config)
    load_state(run, {k: v for k, v in state.items() if k not in ("opt_g", "opt_d", "rng")}, path)
    class_labels = run.data.labels if config.conditional else None
    if labels is not None and config.conditional:
        lab = np.asarray(labels, dtype=np.int64).ravel()
        if lab.size == 0 or lab.min() < 0 or lab.max() >= run.data.n_classes:
            raise ParameterError(f"labels must be class indices in [0, {run.data.n_classes - 1}], got {labels!r}")
        class_labels = lab
    if config.latent_dim is None:
        raise ParameterError("the checkpoint's config has no latent_dim")
    with deterministic(threads):
        return sample_rows(run.sampler, n, config.latent_dim, seed, run.mu, run.sd, run.discrete, class_labels)
