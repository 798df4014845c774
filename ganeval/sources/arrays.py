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

Image arrays (3-D or 4-D) in a ``.npy`` file or in a ``.npz`` member stored without
compression (``np.savez``, as ADM's sample batches) are memory-mapped, not loaded
(:class:`~ganeval.sources.images.ArrayFileImageSource`): a batch is read when it is used,
and under ``torch.distributed`` each rank reads only its own batches. A compressed member
(``np.savez_compressed``) cannot be read in pieces and is loaded whole, except an ADM
batch's ``arr_0``, which is then read a batch at a time.
"""

from __future__ import annotations

import logging
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..statistics import load_stats_file
from .base import ArraySource, Source, StatsSource

__all__ = ["open_npy", "open_npz", "array_source", "open_adm_images"]

log = logging.getLogger(__name__)


def array_source(name: str, arr: np.ndarray, kind: str | None = None, **image_options: Any) -> Source:
    """Wrap an in-memory array: 2-D -> features (or ``kind``), 3-D/4-D -> images
    (``image_options``: ``value_range=``, ``layout=``, as :mod:`ganeval.images` reads them)."""
    if arr.ndim == 2:
        if arr.dtype.kind not in "biuf":
            raise InputError(f"{name}: array of dtype {arr.dtype} is not numeric")
        return ArraySource(name, arr, kind=kind or "features")
    if arr.ndim in (3, 4):
        from .images import ArrayImageSource  # images live with the image sources

        return ArrayImageSource(name, arr, **image_options)
    raise InputError(f"{name}: expected a 2-D feature array (n, d) or a 4-D image array, got shape {arr.shape}")


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


def open_npy(path: Path, **image_options: Any) -> Source:
    head = _head(path, 64)
    if not head.startswith(_NPY_MAGIC):
        raise InputError(f"{path}: not a .npy file (no NumPy header; it looks like {_describe(head)})")
    header = _check_npy_size(path)
    try:
        if header is not None and _is_image_array(*header):
            from .images import ArrayFileImageSource

            return ArrayFileImageSource(
                str(path), np.load(path, mmap_mode="r", allow_pickle=False), path, **image_options
            )
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(
                f"{path}: holds Python objects (a pickled array); ganeval never unpickles: save a numeric array"
            ) from None
        raise InputError(f"{path}: not a readable .npy file ({' '.join(str(exc).split())})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"{path}: not a .npy array")
    return array_source(str(path), arr, **image_options)


def _is_image_array(shape: tuple, dtype: np.dtype) -> bool:
    """3-D or 4-D uint8 or float: an image array (to be memory-mapped)."""
    return len(shape) in (3, 4) and (dtype == np.uint8 or dtype.kind == "f") and not dtype.hasobject


def _check_npy_size(path: Path) -> tuple[tuple, np.dtype] | None:
    """Compare the shape the header declares with the bytes present, before allocating: a
    truncated file, or a tiny file whose header claims terabytes, is refused up front.
    Returns ``(shape, dtype)`` from the header (None when numpy has to say what is wrong)."""
    from numpy.lib import format as npy_format

    try:
        with open(path, "rb") as fh:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
            else:  # a newer format: leave it to np.load
                return None
            offset = fh.tell()
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            return None  # np.load words this case
        raise InputError(f"{path}: not a readable .npy file (bad header: {' '.join(str(exc).split())})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if dtype.hasobject:
        return None  # refused by np.load(allow_pickle=False) with its own message
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    present = path.stat().st_size - offset
    if declared > present:
        raise InputError(
            f"{path}: truncated or corrupt .npy: the header declares shape {tuple(shape)} of "
            f"{dtype} ({declared} bytes) but the file holds {present} bytes of data"
        )
    return tuple(shape), dtype


def _member_header(zf: zipfile.ZipFile, member: str) -> tuple[tuple, bool, np.dtype] | None:
    """``(shape, fortran_order, dtype)`` of an ``.npy`` member, read from its header only."""
    from numpy.lib import format as npy_format

    try:
        with zf.open(member) as fh:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
            else:
                return None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError):
        return None  # np.load says what is wrong
    return tuple(shape), bool(fortran), dtype


def _mapped_member(path: Path, zf: zipfile.ZipFile, member: str, header: tuple) -> np.ndarray | None:
    """A read-only memory map of a stored (uncompressed, unencrypted) ``.npy`` member, or None
    when it cannot be mapped (compressed: it is then loaded whole)."""
    from numpy.lib import format as npy_format

    info = zf.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    shape, fortran, dtype = header
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        fh.seek(start)
        try:
            version = npy_format.read_magic(fh)
            if version == (1, 0):
                npy_format.read_array_header_1_0(fh)
            else:
                npy_format.read_array_header_2_0(fh)
        except ValueError:
            return None
        offset = fh.tell()
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if offset - start + nbytes != info.file_size or offset + nbytes > path.stat().st_size or nbytes == 0:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


def _npz_images(path: Path, zf: zipfile.ZipFile, key: str, **image_options: Any) -> Source | None:
    """The image array ``key`` of an ``.npz`` as a memory-mapped source, or None when the
    member is not an image array or is compressed."""
    from .images import ArrayFileImageSource

    member = f"{key}.npy"
    if member not in zf.namelist():
        return None
    header = _member_header(zf, member)
    if header is None or not _is_image_array(header[0], header[2]):
        return None
    raw = _mapped_member(path, zf, member, header)
    if raw is None:
        log.info("%s[%s]: compressed member, read whole (np.savez stores members so they can be mapped)", path, key)
        return None
    return ArrayFileImageSource(f"{path}[{key}]", raw, path, key, **image_options)


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


def open_adm_images(path: str | os.PathLike) -> Source:
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


def _adm_batch(path: Path, zf: zipfile.ZipFile, keys: list[str]) -> Source | None:
    """An ADM sample batch: ``arr_0`` a 4-D array (``arr_1`` labels ignored), checked to be
    uint8 (N, H, W, 3); memory-mapped when stored, else read a batch at a time. None when
    ``arr_0`` is absent or not 4-D (a plain ``np.savez(f, rows)`` is read as before)."""
    if "arr_0" not in keys or not set(keys) <= {"arr_0", "arr_1"}:
        return None
    header = _member_header(zf, "arr_0.npy")
    if header is None or len(header[0]) != 4:
        return None
    from .adm import AdmBatchImageSource  # validates the header (uint8 NHWC, C order)

    streamed = AdmBatchImageSource(path)
    return _npz_images(path, zf, "arr_0") or streamed


def open_npz(path: Path, **image_options: Any) -> Source:
    head = _head(path, 64)
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: not a .npz file (an .npz is a zip archive; it looks like {_describe(head)})")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            if {"mu", "sigma"} <= set(keys):
                return _stats_npz(path, keys)
            adm = _adm_batch(path, data.zip, keys)
            if adm is not None:
                return adm
            for key, kind in (("features", "features"), ("logits", "logits"), ("images", None)):
                if key in keys:
                    mapped = _npz_images(path, data.zip, key, **image_options) if kind is None else None
                    return mapped or array_source(f"{path}[{key}]", data[key], kind, **image_options)
            if len(keys) == 1:
                return _npz_images(path, data.zip, keys[0], **image_options) or array_source(
                    f"{path}[{keys[0]}]", data[keys[0]], **image_options
                )
    except InputError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(
                f"{path}: holds Python objects (pickled arrays); ganeval never unpickles: save numeric arrays"
            ) from None
        raise InputError(f"{path}: not a readable .npz file ({' '.join(str(exc).split())})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    raise InputError(
        f"{path}: .npz has arrays {keys}; expected 'mu' and 'sigma', 'arr_0' (an ADM batch), or one of "
        f"'features', 'logits', 'images'"
    )
