"""Checkpoints: what ``checkpoint.pt`` holds, how it is written, read and resumed.

A checkpoint is a dict saved with ``torch.save`` (through
:func:`~ganeval.reference.outputs.atomic_write`) and read back with
``torch.load(..., weights_only=True)``: the format tag and version, the ganeval version, the
config, the step, the data's shape and scaling, the generator and critic weights (and the
averaged generator's with ``ema``), both optimisers' states and the training random
generator's state, everything :func:`restore` needs to continue a run exactly where it stopped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..errors import InputError, ParameterError
from .config import MODEL_FIELDS, TrainConfig
from .outputs import CHECKPOINT, atomic_write

__all__ = ["CHECKPOINT", "FORMAT", "FORMAT_VERSION", "save", "load_checkpoint", "restore", "load_state"]

FORMAT = "ganeval-reference-checkpoint"
FORMAT_VERSION = 1


def save(run: Any, out: Path) -> None:
    """Write ``run`` (a :class:`~ganeval.reference.training.Run`) to ``out/checkpoint.pt``."""
    from ..version import __version__

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
    if run.ema is not None:
        state["generator_ema"] = run.ema.state_dict()
    atomic_write(out / CHECKPOINT, lambda fh: torch.save(state, fh))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`~ganeval.reference.train` (``weights_only=True``).

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
    state["loaded_from"] = str(p)  # so that messages about the state name the file
    return state


def restore(path: Path, config: TrainConfig) -> Any:
    """The run saved in ``path``, ready to continue with ``config`` (its model fields must match)."""
    from .training import build

    state = load_checkpoint(path)
    try:
        saved = TrainConfig.from_dict(state["config"])
    except (TypeError, KeyError) as exc:
        raise InputError(f"checkpoint {path}: its config cannot be read ({exc})") from None
    for name in MODEL_FIELDS:
        if getattr(saved, name) != getattr(config, name):
            raise ParameterError(
                f"checkpoint {path}: was trained with {name}={getattr(saved, name)!r}, "
                f"this run asks for {name}={getattr(config, name)!r}"
            )
    run = build(config)
    load_state(run, state, path)
    return run


def load_state(run: Any, state: dict[str, Any], path: Path) -> None:
    """Load weights (and optimiser / RNG state when present) from ``state`` into ``run``."""
    try:
        run.generator.load_state_dict(state["generator"])
        run.critic.load_state_dict(state["critic"])
        if run.ema is not None:
            run.ema.load_state_dict(state.get("generator_ema", state["generator"]))
        if "opt_g" in state:
            run.opt_g.load_state_dict(state["opt_g"])
            run.opt_d.load_state_dict(state["opt_d"])
            run.rng.set_state(state["rng"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"checkpoint {path}: its weights do not fit the model it names ({first[:200]})") from None
    run.step = int(state["step"])
