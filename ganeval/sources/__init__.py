"""Turn what the user names (a path, ``builtin:NAME/SPLIT``, ``ref:NAME``, an array) into a
:class:`~ganeval.sources.base.Source`.

========================  ==========================================================
input                     read by
========================  ==========================================================
``builtin:NAME[/SPLIT]``  :mod:`ganeval.sources.builtin` (embedded data sets)
``ref:NAME``              :mod:`ganeval.sources.reference_stats` (shipped statistics)
folder, ``.zip``          :mod:`ganeval.sources.images`
``.npy``, ``.npz``        :mod:`ganeval.sources.arrays` (also ADM batches)
``.pkl``, ``.pickle``     :mod:`ganeval.sources.pickles` (EDM2 / EDM statistics, restricted)
``.csv``                  :mod:`ganeval.sources.tabular`
numpy array / tensor      :func:`ganeval.sources.arrays.array_source`
DataFrame-like            :func:`ganeval.sources.tabular.frame_source`
========================  ==========================================================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .base import ArraySource, Source, StatsSource

__all__ = ["open_source", "Source", "ArraySource", "StatsSource"]


def open_source(spec: Any, *, name: str | None = None, **options: Any) -> Source:
    """Open ``spec`` as a source.

    Parameters
    ----------
    spec : str, path, Source, numpy array or torch tensor
        What to read. Strings are paths unless they start with ``builtin:`` or ``ref:``.
    name : str, optional
        Name used in messages for in-memory inputs.
    **options
        Reader options passed on (e.g. ``columns=`` for CSV, ``skip_invalid=`` for images).
        ``value_range=`` and ``layout=`` say how in-memory images, ``.npy``/``.npz`` image
        arrays and callables' batches are read (:mod:`ganeval.images`; default (-1, 1) and
        ``"auto"``); files of images ignore them.
    """
    image_options: dict[str, Any] = {k: options.pop(k) for k in ("value_range", "layout") if k in options}
    if isinstance(spec, Source):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return _open_named(os.fspath(spec), options, image_options)
    return _open_object(spec, name, options, image_options)


def _open_object(spec: Any, name: str | None, options: dict[str, Any], image_options: dict[str, Any]) -> Source:
    """An in-memory input: an array or tensor, a DataFrame-like table, or a callable that
    makes batches of images."""
    if hasattr(spec, "detach") and hasattr(spec, "cpu"):
        spec = spec.detach().cpu().numpy()
    if isinstance(spec, np.ndarray):
        from .arrays import array_source

        return array_source(name or "array", spec, **image_options)
    if hasattr(spec, "columns") and hasattr(spec, "to_numpy"):  # a DataFrame-like table
        from .tabular import frame_source

        return frame_source(spec, name=name, **options)
    if callable(spec):
        from .images import GeneratorImageSource

        label = name or str(getattr(spec, "__name__", "generator"))
        return GeneratorImageSource(label, spec, **options, **image_options)
    raise InputError(f"{name or 'input'}: cannot read an input of type {type(spec).__name__}")


def _open_named(text: str, options: dict[str, Any], image_options: dict[str, Any]) -> Source:
    """``builtin:NAME``, ``ref:NAME``, or a path: a folder or a file read by its suffix."""
    if text.startswith("builtin:"):
        from .builtin import open_builtin

        return open_builtin(text)
    if text.startswith("ref:"):
        from .reference_stats import open_reference_stats

        return open_reference_stats(text)
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        from .images import FolderImageSource

        return FolderImageSource(path, **options)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if suffix == ".npy":
        from .arrays import open_npy

        return open_npy(path, **image_options)
    if suffix == ".npz":
        from .arrays import open_npz

        return open_npz(path, **image_options)
    if suffix in (".pkl", ".pickle"):
        from .pickles import stats_from_pickle

        return stats_from_pickle(path)
    if suffix == ".csv":
        from .tabular import open_csv

        return open_csv(path, **options)
    if suffix == ".zip":
        from .images import ZipImageSource

        return ZipImageSource(path, **options)
    raise InputError(
        f"{path}: unsupported file type {suffix or '(no extension)'!r}; expected a folder, .zip, .npy, .npz, .pkl or .csv"
    )
