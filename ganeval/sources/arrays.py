"""``.npy`` and ``.npz`` inputs, read without unpickling.

- ``.npy``: a 2-D array is feature rows; a 4-D uint8 array is images (N, H, W, C) or
  (N, C, H, W).
- ``.npz``: ``mu`` + ``sigma`` are statistics (ganeval, pytorch-fid, clean-fid and EDM
  ``fid-refs`` files; ADM reference batches, whose ``mu_s`` + ``sigma_s`` spatial moments are
  kept as well, for sFID); else ``arr_0`` is an ADM sample batch (uint8 NHWC images, read a
  batch at a time by :class:`ganeval.sources.adm.AdmBatchImageSource`; the ``arr_1`` labels
  are ignored); else the first of ``features``, ``logits``, ``images`` found;
  else a single array.

ADM's files are those of ``guided-diffusion``'s ``evaluations/evaluator.py`` (Dhariwal &
Nichol 2021, arXiv:2105.05233): a sample batch holds ``arr_0`` (N, H, W, 3) uint8 and maybe
``arr_1`` labels; a reference batch adds the precomputed ``mu``, ``sigma`` (pool3) and
``mu_s``, ``sigma_s`` (spatial) moments of the whole data set. Their features are the TF
FID Inception's with the TF bilinear resize inside the graph: ``extractor="inception"``,
``preprocessing="tf"`` here, recorded in the statistics' metadata.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..statistics import load_stats_file
from .base import ArraySource, Source, StatsSource

__all__ = ["open_npy", "open_npz", "array_source", "open_adm_images"]


def array_source(name: str, arr: np.ndarray, kind: str | None = None) -> Source:
    """Wrap an in-memory array: 2-D -> features (or ``kind``), 4-D -> images."""
    if arr.ndim == 2:
        if arr.dtype.kind not in "biuf":
            raise InputError(f"{name}: array of dtype {arr.dtype} is not numeric")
        return ArraySource(name, arr, kind=kind or "features")
    if arr.ndim in (3, 4):
        from .images import ArrayImageSource  # images live with the image sources

        return ArrayImageSource(name, arr)
    raise InputError(
        f"{name}: expected a 2-D feature array (n, d) or a 4-D image array, got shape {arr.shape}"
    )


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _head(path: Path, n: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _describe(head: bytes) -> str:
    """What a file that is not the format its name says seems to be (for messages)."""
    if head.startswith(_ZIP_MAGIC):
        return "a zip archive (an .npz?)"
    if head.startswith(_NPY_MAGIC):
        return "a .npy array"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of another format"
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "a text file (a .csv?)" if "," in text else "a text file"
    return "binary data of another format"


def open_npy(path: Path) -> Source:
    head = _head(path, 64)
    if not head.startswith(_NPY_MAGIC):
        raise InputError(f"{path}: not a .npy file (no NumPy header; it looks like {_describe(head)})")
    _check_npy_size(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{path}: holds Python objects (a pickled array); ganeval never unpickles: "
                             f"save a numeric array") from None
        raise InputError(f"{path}: not a readable .npy file ({' '.join(str(exc).split())})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"{path}: not a .npy array")
    return array_source(str(path), arr)


def _check_npy_size(path: Path) -> None:
    """Compare the shape the header declares with the bytes present, before allocating: a
    truncated file, or a tiny file whose header claims terabytes, is refused up front."""
    from numpy.lib import format as npy_format

    try:
        with open(path, "rb") as fh:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
            else:  # a newer format: leave it to np.load
                return
            offset = fh.tell()
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            return  # np.load words this case
        raise InputError(f"{path}: not a readable .npy file (bad header: {' '.join(str(exc).split())})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if dtype.hasobject:
        return  # refused by np.load(allow_pickle=False) with its own message
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    present = path.stat().st_size - offset
    if declared > present:
        raise InputError(f"{path}: truncated or corrupt .npy: the header declares shape {tuple(shape)} of "
                         f"{dtype} ({declared} bytes) but the file holds {present} bytes of data")


def _stats_npz(path: Path, keys: list[str]) -> StatsSource:
    """Statistics from an .npz; ADM reference batches (``mu_s``/``sigma_s``) keep both moments."""
    stats = load_stats_file(path)
    spatial = None
    if {"mu_s", "sigma_s"} <= set(keys):
        spatial = load_stats_file(path, suffix="_s")
        if "metadata" not in keys:  # an ADM reference batch: its features are the TF FID Inception's
            for st in (stats, spatial):
                st.metadata.setdefault("extractor", "inception")
                st.metadata.setdefault("preprocessing", "tf")
                st.metadata.setdefault("format", "adm-reference-batch")
        spatial.metadata["output"] = "spatial"
    return StatsSource(str(path), stats, spatial=spatial)


def open_adm_images(path: str | Path) -> Source:
    """The images (``arr_0``) of an ADM batch, also of a reference batch (whose ``open_npz``
    reading is its statistics): ADM's precision and recall compare the sample batch's
    features with those of the reference batch's 10,000 images.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "ref.npz"
    >>> np.savez(p, arr_0=np.zeros((2, 4, 4, 3), np.uint8), mu=np.zeros(1), sigma=np.ones((1, 1)))
    >>> open_npz(p).kind, open_adm_images(p).kind, len(open_adm_images(p))
    ('stats', 'images', 2)
    """
    from .adm import AdmBatchImageSource

    p = Path(path)
    head = _head(p, 64)
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(f"{p}: not a .npz file (an ADM batch is a zip archive; it looks like {_describe(head)})")
    return AdmBatchImageSource(p)


def open_npz(path: Path) -> Source:
    head = _head(path, 64)
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: not a .npz file (an .npz is a zip archive; it looks like {_describe(head)})")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            if {"mu", "sigma"} <= set(keys):
                return _stats_npz(path, keys)
            if "arr_0" in keys:
                from .adm import AdmBatchImageSource  # streamed: arr_0 is never loaded whole

                return AdmBatchImageSource(path)
            for key, kind in (("features", "features"), ("logits", "logits"), ("images", None)):
                if key in keys:
                    return array_source(f"{path}[{key}]", data[key], kind)
            if len(keys) == 1:
                return array_source(f"{path}[{keys[0]}]", data[keys[0]])
    except InputError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{path}: holds Python objects (pickled arrays); ganeval never unpickles: "
                             f"save numeric arrays") from None
        raise InputError(f"{path}: not a readable .npz file ({' '.join(str(exc).split())})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    raise InputError(
        f"{path}: .npz has arrays {keys}; expected 'mu' and 'sigma', 'arr_0' (an ADM batch), or one of "
        f"'features', 'logits', 'images'"
    )
