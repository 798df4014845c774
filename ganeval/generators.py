"""Generators as inputs, whatever they are: ``open_generator`` opens a reference-trainer
checkpoint (``.pt``, :mod:`ganeval.reference.checkpoint_source`) or anything
:func:`ganeval.sources.generator.open_generator` takes (a ``"pkg.module:factory"`` spec, a
``torch.nn.Module`` with ``latent_dim``, a callable ``fn(batch_size, generator)``).

It sits above the reference trainers and the sources, so that neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .devices import resolve_device
from .images import DEFAULT_VALUE_RANGE
from .sources.base import Source
from .sources.generator import is_generator_spec
from .sources.generator import open_generator as open_factory_generator

__all__ = ["open_generator"]


def open_generator(
    spec: Any,
    *,
    num_samples: int,
    seed: int = 0,
    batch_size: int = 50,
    value_range: Any = DEFAULT_VALUE_RANGE,
    device: Any = "cpu",
    layout: str = "auto",
) -> Source:
    """A source of ``num_samples`` samples from a generator or a reference checkpoint.

    Parameters are those of :func:`ganeval.sources.generator.open_generator`; a path to an
    existing file that is not a ``"pkg.module:factory"`` spec is read as a reference
    checkpoint (``ganeval train``).
    """
    if isinstance(spec, (str, os.PathLike)) and not is_generator_spec(os.fspath(spec)) and Path(spec).is_file():
        from ._validation import check_int
        from .reference.checkpoint_source import checkpoint_source

        if num_samples is None:
            from .errors import ParameterError

            raise ParameterError("num_samples is required with a generator (--num-samples N)")
        return checkpoint_source(
            Path(spec),
            num_samples=check_int(num_samples, "num_samples", minimum=1),
            seed=check_int(seed, "seed", minimum=0),
            batch_size=check_int(batch_size, "batch_size", minimum=1),
            device=resolve_device(device),
        )
    return open_factory_generator(
        spec,
        num_samples=num_samples,
        seed=seed,
        batch_size=batch_size,
        value_range=value_range,
        device=device,
        layout=layout,
    )
