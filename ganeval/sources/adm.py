"""ADM ``.npz`` sample batches read as a stream: ``arr_0`` is never loaded whole.

ADM's evaluator (``guided-diffusion`` ``evaluations/evaluator.py``; Dhariwal & Nichol 2021,
arXiv:2105.05233) stores samples as ``arr_0``: uint8 (N, H, W, 3), NHWC, and maybe ``arr_1``
labels (ignored here). 50,000 samples at 256x256 are 9.8 GB and at 512x512 39 GB, so, as
ADM's own reader does, the ``.npy`` member is read from the zip a batch at a time: its header
gives shape and dtype, then each batch is ``batch * H * W * 3`` bytes. Compressed members
(``np.savez_compressed``) stream the same way (the zip module inflates as it reads).

The cache fingerprint is the member's name, size and CRC-32 from the zip directory: a
checksum of the content, known without reading the images.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .images import ImageSource

__all__ = ["AdmBatchImageSource"]

_MEMBER = "arr_0.npy"


def _read_header(fh: Any, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    from numpy.lib import format as npy_format

    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fh)
        if version in ((2, 0), (3, 0)):
            return npy_format.read_array_header_2_0(fh)
    except ValueError as exc:
        raise InputError(f"{where}: bad .npy header ({' '.join(str(exc).split())})") from None
    raise InputError(f"{where}: unsupported .npy format version {version}")


class AdmBatchImageSource(ImageSource):
    """The ``arr_0`` images of an ADM ``.npz`` batch, read a batch at a time.

    Parameters
    ----------
    path : str or path-like
        The ``.npz``.
    name : str, optional
        Name in messages and results (default ``"PATH[arr_0]"``).

    Raises
    ------
    InputError
        No ``arr_0``; not uint8 (N, H, W, 3) C-ordered; a truncated member (when read).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "samples.npz"
    >>> np.savez(p, arr_0=np.arange(2 * 2 * 3 * 3, dtype=np.uint8).reshape(2, 2, 3, 3), arr_1=np.zeros(2))
    >>> src = AdmBatchImageSource(p)
    >>> len(src), next(src.iter_batches(5)).shape
    (2, (2, 3, 2, 3))
    """

    def __init__(self, path: str | os.PathLike, *, name: str | None = None, **_ignored: Any):
        self.path = Path(path)
        self.name = name or f"{self.path}[arr_0]"
        self.metadata = {"format": "adm-batch"}
        try:
            with zipfile.ZipFile(self.path) as zf:
                try:
                    info = zf.getinfo(_MEMBER)
                except KeyError:
                    raise InputError(
                        f"{self.path}: no 'arr_0' images (an ADM batch holds them; this file has "
                        f"{[n[:-4] for n in zf.namelist() if n.endswith('.npy')]})"
                    ) from None
                with zf.open(info) as fh:
                    shape, fortran, dtype = _read_header(fh, self.name)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{self.path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
        if dtype != np.uint8 or fortran or len(shape) != 4 or shape[-1] != 3 or 0 in shape:
            raise InputError(
                f"{self.path}: 'arr_0' of an ADM batch must be uint8 images of shape (N, H, W, 3) in C "
                f"order, got {dtype} of shape {tuple(shape)}{' (Fortran order)' if fortran else ''}"
            )
        self.shape = tuple(int(s) for s in shape)
        self._crc = (info.CRC, info.file_size)

    def __len__(self) -> int:
        return self.shape[0]

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """uint8 batches of shape (b, 3, H, W), in file order."""
        n, h, w, c = self.shape
        per_image = h * w * c
        with zipfile.ZipFile(self.path) as zf, zf.open(_MEMBER) as fh:
            _read_header(fh, self.name)
            for start in range(0, n, batch_size):
                b = min(batch_size, n - start)
                want = b * per_image
                try:
                    data = fh.read(want)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise InputError(f"{self.name}: cannot be read ({type(exc).__name__}: {exc})") from None
                if len(data) != want:
                    raise InputError(
                        f"{self.name}: truncated: images {start}..{start + b - 1} need {want} bytes, "
                        f"the file holds {len(data)}"
                    )
                batch = np.frombuffer(data, dtype=np.uint8).reshape(b, h, w, c)
                yield np.ascontiguousarray(batch.transpose(0, 3, 1, 2))

    def fingerprint(self) -> str:
        """sha256 over the member's name, shape, size and CRC-32 (from the zip directory)."""
        crc, size = self._crc
        return hashlib.sha256(f"adm-npz\0{_MEMBER}\0{self.shape}\0{size}\0{crc}".encode()).hexdigest()
