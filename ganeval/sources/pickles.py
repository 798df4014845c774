"""Pickled reference statistics (EDM / EDM2), read without running any code from the file.

A pickle is a small program: ``pickle.load`` imports and calls whatever the file names, so a
crafted file runs ``os.system`` as soon as it is loaded. :func:`load_pickle_safely` uses an
unpickler whose ``find_class`` admits only what a pickled dict of numpy arrays needs:

=======================================================  ======================================
name in the file                                          why
=======================================================  ======================================
``numpy.core.multiarray._reconstruct`` (and ``numpy.      ``ndarray.__reduce__`` (protocol <= 4)
_core.multiarray._reconstruct``), ``numpy.ndarray``
``numpy.core.numeric._frombuffer`` (``numpy._core...``)   ``ndarray.__reduce_ex__`` (protocol 5)
``numpy.dtype``                                           the array's dtype
``numpy.core.multiarray.scalar`` (``numpy._core...``)     numpy scalars (``np.float64(...)``)
``builtins.complex``, ``builtins.set``,                   plain containers and numbers
``builtins.frozenset``, ``collections.OrderedDict``
``_codecs.encode`` (``latin1`` only)                      bytes in protocol 2 (numpy 1.x files)
=======================================================  ======================================

Dicts, lists, tuples, strings, ints and floats need no import at all. Anything else (``os``,
``subprocess``, ``builtins.eval``, ``torch``, ``dnnlib.EasyDict``...) is refused with one line
naming the file and the refused name, and nothing from the file runs. Object arrays are refused
after loading (they could only hold what the same rules admitted, but no statistics file has
them).

The two layouts read (NVlabs/edm2 ``calculate_metrics.py``: ``save_stats`` / ``load_stats``):

- EDM2 ``dataset-refs/*.pkl``: ``{"num_images": int, "fid": {"mu", "sigma"},
  "fd_dinov2": {"mu", "sigma"}}`` (either metric may be absent);
- a plain ``{"mu", "sigma"}`` dict (EDM's ``fid-refs`` hold the same two arrays, as ``.npz``).
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .base import StatsSource

__all__ = ["load_pickle_safely", "stats_from_pickle", "ALLOWED_GLOBALS"]


def _numpy_global(module: str, name: str) -> Any:
    """The numpy object ``module.name``, read under numpy 2's ``numpy._core`` whether the file
    says ``numpy.core`` (written by numpy 1.x) or ``numpy._core`` (numpy 2.x)."""
    try:
        from numpy import _core as core  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy import core  # type: ignore[no-redef]
    sub = getattr(core, module.rsplit(".", 1)[1])
    return getattr(sub, name)


_NUMPY_ALIASES = {
    ("multiarray", "_reconstruct"),
    ("multiarray", "scalar"),
    ("numeric", "_frombuffer"),
}

#: (module, name) pairs the restricted unpickler admits; see the module docstring
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {(f"numpy.{core}.{sub}", name) for core in ("core", "_core") for sub, name in _NUMPY_ALIASES}
    | {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("builtins", "complex"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("collections", "OrderedDict"),
        ("_codecs", "encode"),
    }
)


def _latin1_encode(text: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol 2 uses it for bytes (``encode(str, "latin1")``); any
    other codec is refused (a codec is a function of the file's choosing)."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with codec {encoding!r} refused")
    return text.encode("latin-1", errors="strict")


class _RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only :data:`ALLOWED_GLOBALS`."""

    def __init__(self, fh: Any, source: str):
        super().__init__(fh)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise InputError(
                f"{self._source}: refused to unpickle {module}.{name}: the file would run code or "
                f"build objects that are not plain arrays, dicts, lists or numbers; ganeval reads "
                f"only numpy arrays from pickles"
            )
        if module.startswith("numpy.") and module != "numpy":
            return _numpy_global(module, name)
        if module == "numpy":
            return getattr(np, name)
        if module == "_codecs":
            return _latin1_encode
        if module == "collections":
            import collections

            return getattr(collections, name)
        import builtins

        return getattr(builtins, name)

    def persistent_load(self, pid: Any) -> Any:
        raise InputError(f"{self._source}: refused a persistent reference in the pickle (not a plain data file)")


def load_pickle_safely(path: str | os.PathLike, *, max_bytes: int = 4 << 30) -> Any:
    """Unpickle ``path`` admitting only numpy arrays, dicts, lists and scalars.

    Parameters
    ----------
    path : str or path-like
        The ``.pkl`` file.
    max_bytes : int, default=4 GiB
        Larger files are refused before reading (reference statistics are at most a few
        hundred MB).

    Returns
    -------
    object
        The unpickled dicts / lists / arrays / numbers.

    Raises
    ------
    InputError
        The file is missing, too large, not a pickle, truncated, names anything outside
        :data:`ALLOWED_GLOBALS` (one line naming the file and the refused name), or holds an
        object array.

    Examples
    --------
    >>> import tempfile, pickle
    >>> p = Path(tempfile.mkdtemp()) / "ok.pkl"
    >>> _ = p.write_bytes(pickle.dumps({"mu": np.zeros(2), "n": 3}))
    >>> sorted(load_pickle_safely(p))
    ['mu', 'n']
    >>> _ = p.write_bytes(pickle.dumps(print))
    >>> load_pickle_safely(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: ...ok.pkl: refused to unpickle builtins.print: ...
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise InputError(f"{p}: pickle of {size} bytes is larger than the {max_bytes}-byte limit for statistics")
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if not data.startswith(b"\x80") and data[:1] not in (b"(", b"}", b"]"):
        raise InputError(f"{p}: not a pickle file")
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), str(p)).load()
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"{p}: pickle nests too deeply") from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        MemoryError,
        OverflowError,
    ) as exc:
        raise InputError(f"{p}: not a readable pickle ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    _refuse_object_arrays(obj, p)
    return obj


def _refuse_object_arrays(obj: Any, path: Path, depth: int = 0) -> None:
    if depth > 20:
        raise InputError(f"{path}: pickle nests too deeply")
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise InputError(f"{path}: holds an object array; ganeval reads only numeric arrays from pickles")
    elif isinstance(obj, dict):
        for v in obj.values():
            _refuse_object_arrays(v, path, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            _refuse_object_arrays(v, path, depth + 1)


def stats_from_pickle(path: str | os.PathLike) -> StatsSource:
    """Open a reference-statistics pickle (EDM2 ``dataset-refs``, or a ``{"mu", "sigma"}``
    dict) as a :class:`~ganeval.sources.base.StatsSource`, through :func:`load_pickle_safely`.

    EDM2 layout (NVlabs/edm2 ``calculate_metrics.py``, Karras et al. 2024,
    arXiv:2312.02696): ``{"num_images": n, "fid": {"mu", "sigma"}, "fd_dinov2": {"mu",
    "sigma"}}``. The ``fid`` moments (FID Inception pool3, TF resize: ``extractor=
    "inception"``, ``preprocessing="tf"``) become the default statistics and the
    ``fd_dinov2`` moments (DINOv2 ViT-L/14: ``extractor="dinov2:vitl14"``) an alternative that
    ``extractor="dinov2"`` selects. A plain dict may also hold ``mu_s``/``sigma_s`` (sFID).
    """
    from ..statistics import FeatureStats
    from .base import StatsSource

    p = Path(path)
    obj = load_pickle_safely(p)
    if not isinstance(obj, dict):
        raise InputError(f"{p}: expected a dict of statistics in the pickle, got {type(obj).__name__}")

    def moments(d: Any, where: str, meta: dict[str, Any], n: int) -> FeatureStats:
        if not isinstance(d, dict) or not {"mu", "sigma"} <= set(d):
            raise InputError(f"{p}: {where} must be a dict with 'mu' and 'sigma'")
        return FeatureStats.from_moments(d["mu"], d["sigma"], n=n, metadata=meta, name=f"{p}[{where}]")

    raw_n = obj.get("num_images", obj.get("n", 0))
    n = int(raw_n) if isinstance(raw_n, (int, np.integer)) and not isinstance(raw_n, bool) and raw_n >= 0 else 0
    if "fid" in obj or "fd_dinov2" in obj:
        found = []
        if "fid" in obj:
            found.append(
                moments(
                    obj["fid"],
                    "fid",
                    {"extractor": "inception", "preprocessing": "tf", "format": "edm2-dataset-refs"},
                    n,
                )
            )
        if "fd_dinov2" in obj:
            found.append(
                moments(obj["fd_dinov2"], "fd_dinov2", {"extractor": "dinov2:vitl14", "format": "edm2-dataset-refs"}, n)
            )
        return StatsSource(str(p), found[0], alternatives=tuple(found[1:]))
    if {"mu", "sigma"} <= set(obj):
        stats = moments(obj, "mu, sigma", {"format": "pickle"}, n)
        spatial = None
        if {"mu_s", "sigma_s"} <= set(obj):
            spatial = moments(
                {"mu": obj["mu_s"], "sigma": obj["sigma_s"]},
                "mu_s, sigma_s",
                {"format": "pickle", "output": "spatial"},
                n,
            )
        return StatsSource(str(p), stats, spatial=spatial)
    raise InputError(
        f"{p}: pickle holds keys {sorted(map(str, obj))}; expected 'mu' and 'sigma', or EDM2's "
        f"'fid' / 'fd_dinov2' moments"
    )
