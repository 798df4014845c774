"""Image sources: folders, ``.zip`` files, in-memory arrays/tensors and generator callables.

Every image source has ``kind = "images"`` and gives RGB ``uint8`` images to an extractor
(:mod:`ganeval.features.engine`). Two families:

- *file* sources (:class:`FolderImageSource`, :class:`ZipImageSource`) list their files up
  front and decode one file at a time with :meth:`read` (the engine calls it from decoding
  worker processes); 8-bit PNG and ordinary JPEG files go through the faster
  :func:`~ganeval.sources.decoding.decode_fast`, which gives the same pixels as PIL.
  Mixed sizes are fine: each image is decoded and resized separately.
- *in-memory* sources (:class:`ArrayImageSource`, :class:`GeneratorImageSource`) yield
  batches of shape (n, 3, H, W) with :meth:`iter_batches`; :class:`ArrayFileImageSource`
  does too, for an image array in a ``.npy`` file or a stored ``.npz`` member that it
  memory-maps and converts a batch at a time (under ``torch.distributed`` each rank reads
  only its own batches).

How a decoded PIL image becomes RGB ``uint8`` (:func:`to_rgb_array`)
---------------------------------------------------------------------
==================  ==========================================================================
PIL mode            conversion
==================  ==========================================================================
RGB                 as is
L, 1                gray value copied to the three channels (``1``: 0 or 255)
P, PA               palette looked up (PIL ``convert("RGB")``); transparency dropped
RGBA, LA, La, RGBa  alpha *dropped* (colour channels kept as stored), as ``convert("RGB")``
                    in pytorch-fid and clean-fid, so features match theirs
CMYK, YCbCr, ...    PIL ``convert("RGB")``
I;16, I;16B, I      16-bit data: ``round(v / 257)`` so 65535 -> 255 (``I`` clipped to
                    [0, 65535] first); never clipped at 255
F                   floats read as [0, 1]: ``round(clip(v, 0, 1) * 255)``
==================  ==========================================================================

Only the first frame of a multi-frame file is read; EXIF orientation is not applied (as
pytorch-fid). PIL's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) stays on: a
larger image is an :class:`~ganeval.errors.InputError`.

Bad files
---------
A missing, zero-byte, truncated or undecodable file raises :class:`~ganeval.errors.InputError`
naming it. With ``skip_invalid=True`` it is skipped instead; the extractor reports how many
were skipped (``info["skipped"]``). Hidden files and folders (names starting with ``.``,
e.g. macOS ``._x.png``) are never read.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import InputError
from ..images import DEFAULT_VALUE_RANGE, check_value_range, images_to_uint8_array
from .base import Source
from .decoding import decode_fast, gpu_jpeg_bytes

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageSource",
    "FolderImageSource",
    "ZipImageSource",
    "ArrayImageSource",
    "ArrayFileImageSource",
    "GeneratorImageSource",
    "decode_image",
    "to_rgb_array",
]

log = logging.getLogger(__name__)

#: zip members up to this declared size are read into memory at once; larger ones are streamed
ZIP_READ_WHOLE_BYTES = 16 << 20

#: file name endings read as images (compared case-insensitively)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


# -- decoding ------------------------------------------------------------------------------


def to_rgb_array(img: Any) -> np.ndarray:
    """Convert a PIL image of any mode to an RGB ``uint8`` array of shape (H, W, 3).

    The rules are in the module docstring: alpha is dropped, 16-bit data is scaled by
    1/257 (rounded), float data is read as [0, 1].

    Examples
    --------
    >>> from PIL import Image
    >>> to_rgb_array(Image.new("I;16", (2, 1), 65535))[0, 0].tolist()
    [255, 255, 255]
    >>> to_rgb_array(Image.new("LA", (1, 1), (7, 0))).tolist()
    [[[7, 7, 7]]]
    """
    mode = img.mode
    if mode == "RGB":
        return np.array(img, dtype=np.uint8)
    if mode.startswith("I;16") or mode == "I":
        v = np.asarray(img).astype(np.int64)
        v = np.clip(v, 0, 65535)
        gray = ((v + 128) // 257).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        v = np.asarray(img, dtype=np.float64)
        v = np.nan_to_num(v, nan=0.0, posinf=1.0, neginf=0.0)
        gray = np.rint(np.clip(v, 0.0, 1.0) * 255.0).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("L", "1"):
        gray = np.array(img.convert("L"), dtype=np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("LA", "La"):
        gray = np.asarray(img, dtype=np.uint8)[:, :, 0]
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.array(img.convert("RGB"), dtype=np.uint8)


def decode_image(data: bytes | str | os.PathLike | io.IOBase | IO[bytes], name: str) -> np.ndarray:
    """Decode one image file (a path, its bytes or an open binary stream) to RGB ``uint8``
    (H, W, 3).

    Raises :class:`~ganeval.errors.InputError` naming ``name`` when the file is empty,
    truncated, not an image, too large (decompression bomb) or in an unsupported mode.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (3, 2), (1, 2, 3)).save(buf, "PNG")
    >>> decode_image(buf.getvalue(), "a.png").shape
    (2, 3, 3)
    >>> decode_image(b"", "empty.png")
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: empty.png: file is empty (0 bytes)
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(data, (bytes, bytearray)):
        if len(data) == 0:
            raise InputError(f"{name}: file is empty (0 bytes)")
        fh: Any = io.BytesIO(data)
    elif hasattr(data, "read"):  # an open binary stream (a zip member): PIL reads what it needs
        fh = data
    else:
        try:
            if os.path.getsize(data) == 0:
                raise InputError(f"{name}: file is empty (0 bytes)")
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
        fh = data
    try:
        with Image.open(fh) as img:
            img.load()
            if img.width < 1 or img.height < 1:
                raise InputError(f"{name}: image has no pixels ({img.width}x{img.height})")
            return to_rgb_array(img)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(f"{name}: image too large, refused as a possible decompression bomb ({exc})") from None
    except UnidentifiedImageError:
        raise InputError(f"{name}: not a readable image (unknown or corrupt format)") from None
    except (OSError, SyntaxError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # PIL reports truncated data as OSError("image file is truncated ...")
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{name}: corrupt or truncated image ({msg})") from None


# -- sources -------------------------------------------------------------------------------


class ImageSource(Source):
    """Base class of image sources (``kind = "images"``).

    Attributes
    ----------
    name : str
    skip_invalid : bool
        Skip unreadable files (counted) instead of raising.
    preferred_extractor : str or None
        What ``extractor="auto"`` picks for this source (``None``: the default, Inception).
    random_access : bool
        True for file sources (:meth:`read` by index), False for in-memory ones
        (:meth:`iter_batches`).
    """

    kind = "images"
    skip_invalid: bool = False
    preferred_extractor: str | None = None
    random_access: bool = False

    def fingerprint(self) -> str | None:
        """A string that changes whenever the images may have changed (``None``: do not
        cache this source)."""
        return None

    def read(self, index: int) -> np.ndarray:  # pragma: no cover - file sources define it
        raise NotImplementedError

    def item_name(self, index: int) -> str:  # pragma: no cover - file sources define it
        raise NotImplementedError

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:  # pragma: no cover
        raise NotImplementedError


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _is_hidden(part: str) -> bool:
    return part.startswith(".") or part == "__MACOSX"


class FolderImageSource(ImageSource):
    """Every image file under a folder, recursively (class sub-folders are fine).

    Files are read in sorted order of their relative paths, so the order (and any
    subsetting) is the same on every machine. Symlinked sub-folders are followed (counted in
    ``walk_info["linked_folders"]``); a folder reached twice (a link loop, two links to one
    folder) is read once. Extensions are matched case-insensitively:
    png, jpg, jpeg, bmp, webp, tif, tiff. Other files are ignored (logged).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "cats").mkdir(); Image.new("RGB", (4, 4)).save(d / "cats" / "a.PNG")
    >>> src = FolderImageSource(d)
    >>> len(src), src.item_name(0).endswith("a.PNG"), src.read(0).shape
    (1, True, (4, 4, 3))
    """

    random_access = True

    def __init__(self, path: str | os.PathLike, *, skip_invalid: bool = False, name: str | None = None):
        self.path = Path(path)
        self.name = name or str(path)
        self.skip_invalid = bool(skip_invalid)
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file or directory")
        if not self.path.is_dir():
            raise InputError(f"{self.path}: not a folder")
        files: list[str] = []
        others = 0
        linked = 0
        # symlinked sub-folders are followed; a folder already walked (by any path: a link
        # loop, or two links to one folder) is walked once, so there are no loops and no
        # duplicates
        root_st = os.stat(self.path)
        seen = {(root_st.st_dev, root_st.st_ino)}

        def on_error(exc: OSError) -> None:
            log.warning("%s: cannot list %s (%s)", self.path, exc.filename, exc.strerror)

        for root, dirs, names in os.walk(self.path, followlinks=True, onerror=on_error):
            keep = []
            for d in sorted(d for d in dirs if not _is_hidden(d)):
                full = os.path.join(root, d)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    log.info("%s: not walking %s again (already read through another path)", self.path, full)
                    continue
                seen.add(key)
                if os.path.islink(full):
                    linked += 1
                keep.append(d)
            dirs[:] = keep
            for n in names:
                if _is_hidden(n):
                    continue
                rel = os.path.relpath(os.path.join(root, n), self.path)
                if _is_image_name(n):
                    files.append(rel)
                else:
                    others += 1
        if not files:
            if others == 0:
                raise InputError(f"{self.path}: folder is empty (no files)")
            raise InputError(
                f"{self.path}: folder has no image files ({others} other file(s)); "
                f"expected extensions {', '.join(e[1:] for e in IMAGE_EXTENSIONS)}"
            )
        if others:
            log.info("%s: ignored %d file(s) that are not images", self.path, others)
        if linked:
            log.info("%s: followed %d symlinked folder(s)", self.path, linked)
        self.files = sorted(files, key=lambda r: r.replace(os.sep, "/"))
        #: how the folder was walked, recorded with the features (``linked_folders``)
        self.walk_info = {"linked_folders": linked} if linked else {}

    def __len__(self) -> int:
        return len(self.files)

    def item_name(self, index: int) -> str:
        return str(self.path / self.files[index])

    def read(self, index: int) -> np.ndarray:
        """Decode image ``index`` to RGB uint8 (H, W, 3); :class:`InputError` if unreadable.

        A file up to :data:`ZIP_READ_WHOLE_BYTES` is read whole and decoded by
        :func:`~ganeval.sources.decoding.decode_fast` when that gives PIL's pixels (8-bit PNG,
        ordinary JPEG), by :func:`decode_image` otherwise; a larger one goes to PIL from the
        path (its decompression-bomb check runs before the pixels are read).
        """
        path = self.path / self.files[index]
        data = self._small_file(path)
        if data is None:
            return decode_image(path, self.item_name(index))
        arr = decode_fast(data)
        return arr if arr is not None else decode_image(data, self.item_name(index))

    @staticmethod
    def _small_file(path: Path) -> bytes | None:
        """The file's bytes when it is small enough to read whole, else None (PIL reads it,
        and reports a missing, empty or unreadable file)."""
        try:
            if 0 < os.path.getsize(path) <= ZIP_READ_WHOLE_BYTES:
                return path.read_bytes()
        except OSError:
            pass
        return None

    def read_encoded(self, index: int) -> bytes | None:
        """The bytes of file ``index`` when it is a JPEG that nvjpeg decodes
        (:func:`~ganeval.sources.decoding.gpu_jpeg_bytes`), else None (decode it with :meth:`read`)."""
        if not self.files[index].lower().endswith((".jpg", ".jpeg")):
            return None  # not read twice: other files are decoded by read()
        data = self._small_file(self.path / self.files[index])
        return data if data is not None and gpu_jpeg_bytes(data) else None

    def fingerprint(self) -> str:
        """sha256 over the folder's absolute path and every file's relative path, size,
        modification time (ns), inode number and status-change time (ns).

        As git's index does, the inode and ctime catch a file rewritten in place with its
        size and mtime kept (``touch -r``, ``os.utime``): the ctime cannot be set back by a
        user. Symlinks are followed (the target file's values)."""
        h = hashlib.sha256(b"folder\0")
        h.update(f"{self.path.resolve()}\0skip_invalid={self.skip_invalid}\0".encode("utf-8", "surrogateescape"))
        for rel in self.files:
            try:
                st = os.stat(self.path / rel)
                h.update(
                    f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\0".encode(
                        "utf-8", "surrogateescape"
                    )
                )
            except OSError:
                h.update(f"{rel}\0missing\0".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


class ZipImageSource(ImageSource):
    """Every image member of a ``.zip`` file, in sorted order of member names.

    Members that are not images (by extension), folders and hidden members (``__MACOSX/``,
    ``._x.png``) are ignored; a zip with no image member is an :class:`InputError`. The zip
    is reopened in each decoding worker process.
    """

    random_access = True

    def __init__(self, path: str | os.PathLike, *, skip_invalid: bool = False, name: str | None = None):
        self.path = Path(path)
        self.name = name or str(path)
        self.skip_invalid = bool(skip_invalid)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such file")
        try:
            with zipfile.ZipFile(self.path) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputError(f"{self.path}: not a readable .zip file ({exc})") from None
        members = []
        others = 0
        for info in infos:
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            if any(_is_hidden(p) for p in parts):
                continue
            if _is_image_name(info.filename):
                members.append(info)
            else:
                others += 1
        if not members:
            raise InputError(
                f"{self.path}: zip has no image members ({others} other member(s)); "
                f"expected extensions {', '.join(e[1:] for e in IMAGE_EXTENSIONS)}"
            )
        if others:
            log.info("%s: ignored %d member(s) that are not images", self.path, others)
        members.sort(key=lambda i: i.filename)
        self.members = [(i.filename, i.file_size, i.CRC) for i in members]
        self._zip: zipfile.ZipFile | None = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return len(self.members)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_zip"], state["_pid"] = None, None
        return state

    def item_name(self, index: int) -> str:
        return f"{self.path}[{self.members[index][0]}]"

    def _handle(self) -> zipfile.ZipFile:
        if self._zip is None or self._pid != os.getpid():  # one handle per process
            self._zip = zipfile.ZipFile(self.path)
            self._pid = os.getpid()
        return self._zip

    def read(self, index: int) -> np.ndarray:
        """Decode member ``index`` to RGB uint8 (H, W, 3); :class:`InputError` if unreadable.

        A member is read whole only when its declared (uncompressed) size is at most
        :data:`ZIP_READ_WHOLE_BYTES`; a larger one is streamed, so PIL's decompression-bomb
        check on the image header runs before the pixels are decompressed. The zip reader
        never returns more than the declared size.
        """
        member, size, _ = self.members[index]
        name = self.item_name(index)
        if size == 0:
            raise InputError(f"{name}: file is empty (0 bytes)")
        try:
            if size <= ZIP_READ_WHOLE_BYTES:
                data = self._handle().read(member)
                arr = decode_fast(data)
                return arr if arr is not None else decode_image(data, name)
            with self._handle().open(member) as fh:
                return decode_image(fh, name)
        except InputError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise InputError(f"{name}: cannot be read from the zip ({exc})") from None

    def read_encoded(self, index: int) -> bytes | None:
        """The bytes of member ``index`` when it is a JPEG that nvjpeg decodes, else None."""
        member, size, _ = self.members[index]
        if not 0 < size <= ZIP_READ_WHOLE_BYTES or not member.lower().endswith((".jpg", ".jpeg")):
            return None
        try:
            data = self._handle().read(member)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
            return None  # read() reports it
        return data if gpu_jpeg_bytes(data) else None

    def fingerprint(self) -> str:
        """sha256 over every image member's name, size and CRC-32."""
        h = hashlib.sha256(b"zip\0")
        h.update(f"skip_invalid={self.skip_invalid}\0".encode())
        for name, size, crc in self.members:
            h.update(f"{name}\0{size}\0{crc}\0".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


def _as_uint8_images(arr: Any, name: str, value_range: Any = DEFAULT_VALUE_RANGE, layout: str = "auto") -> np.ndarray:
    """Array-like images -> uint8 (N, 3, H, W), by the rules of :mod:`ganeval.images`."""
    return images_to_uint8_array(arr, name, value_range, layout=layout)


class ArrayImageSource(ImageSource):
    """Images already in memory: a numpy array or torch tensor.

    Layout and values follow the one rule of :mod:`ganeval.images`: (N, H, W) gray, NCHW or
    NHWC (channel axis of size 1, 3 or 4; an ambiguous shape is settled by ``layout=``);
    ``uint8`` (0..255) or float in ``value_range`` (default (-1, 1)). One channel is copied
    to three; a fourth (alpha) is dropped. ``preferred_extractor`` is what ``extractor="auto"`` uses (None:
    Inception); ``cacheable=False`` keeps the features out of the feature cache.

    Examples
    --------
    >>> src = ArrayImageSource("a", np.zeros((5, 8, 8, 3), np.uint8))
    >>> len(src), next(src.iter_batches(2)).shape
    (5, (2, 3, 8, 8))
    """

    def __init__(
        self,
        name: str,
        array: Any,
        *,
        preferred_extractor: str | None = None,
        cacheable: bool = True,
        metadata: dict[str, Any] | None = None,
        value_range: Any = DEFAULT_VALUE_RANGE,
        layout: str = "auto",
        **_ignored: Any,
    ):
        self.name = name
        self.images = _as_uint8_images(array, name, value_range, layout)
        self.preferred_extractor = preferred_extractor
        self.cacheable = bool(cacheable)
        self.metadata = dict(metadata or {})
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for start in range(0, len(self), batch_size):
            yield self.images[start : start + batch_size]

    def fingerprint(self) -> str | None:
        """sha256 of the shape and bytes of the uint8 images (None when not ``cacheable``)."""
        if not self.cacheable:
            return None
        if self._fingerprint is None:
            h = hashlib.sha256(f"array\0{self.images.shape}\0".encode())
            h.update(self.images.data.cast("B"))
            self._fingerprint = h.hexdigest()
        return self._fingerprint


class _MappedImages:
    """``images`` of an :class:`ArrayFileImageSource`: ``shape`` (N, 3, H, W) and
    ``view[i]``, one uint8 (3, H, W) image converted on access."""

    def __init__(
        self,
        raw: np.ndarray,
        name: str,
        image_shape: tuple[int, ...],
        value_range: Any = DEFAULT_VALUE_RANGE,
        layout: str = "auto",
    ):
        self._raw = raw
        self._name = name
        self._read = (value_range, layout)
        self.shape = (int(raw.shape[0]), *image_shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        i = int(index)
        if not -self.shape[0] <= i < self.shape[0]:
            raise IndexError(f"{self._name}: image {index} out of range for {self.shape[0]} images")
        i %= self.shape[0]
        return _as_uint8_images(self._raw[i : i + 1], self._name, *self._read)[0]


class ArrayFileImageSource(ImageSource):
    """Images stored as one array in a file (a ``.npy`` file, or a ``.npz`` member stored
    without compression as ``np.savez`` writes it), memory-mapped, not loaded.

    ``raw`` is the memory-mapped array (any layout and dtype :class:`ArrayImageSource`
    accepts); a batch is read from the file and converted to uint8 (N, 3, H, W) only when
    :meth:`iter_batches` reaches it. The source is *shardable*: under ``torch.distributed``
    the engine asks each rank for its own batches only (``b % world == rank``), so a rank
    reads and converts ``1 / world`` of the file. The layout is checked on the first image
    when the source is opened; float pixels outside ``value_range`` are an
    :class:`~ganeval.errors.InputError` when their batch is read.

    The fingerprint (the feature-cache key) is made of the file's resolved path, the member,
    the array's shape and dtype, and the file's size, mtime, inode number and ctime, as for
    folders (:meth:`FolderImageSource.fingerprint`): no rank reads the whole file to hash it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> np.save(p, np.zeros((5, 8, 8, 3), np.uint8))
    >>> src = ArrayFileImageSource(str(p), np.load(p, mmap_mode="r"), p)
    >>> len(src), [b.shape[0] for b in src.iter_batches(2)], [b.shape[0] for b in src.iter_batches(2, only={1})]
    (5, [2, 2, 1], [2])
    """

    shardable = True
    #: the engine reads the next batches from the file in a thread while the network runs
    read_ahead = True

    def __init__(
        self,
        name: str,
        raw: np.ndarray,
        path: str | os.PathLike,
        member: str | None = None,
        *,
        preferred_extractor: str | None = None,
        value_range: Any = DEFAULT_VALUE_RANGE,
        layout: str = "auto",
        **_ignored: Any,
    ):
        self.name = name
        self.raw = raw
        self.path = Path(path)
        self.member = member
        self.preferred_extractor = preferred_extractor
        self.cacheable = True
        self.metadata: dict[str, Any] = {}
        self._read = (value_range, layout)
        first = _as_uint8_images(raw[:1], name, value_range, layout)  # the layout and dtype, from one image
        self.images = _MappedImages(raw, name, tuple(first.shape[1:]), value_range, layout)

    def __len__(self) -> int:
        return int(self.raw.shape[0])

    def iter_batches(self, batch_size: int, only: Any = None) -> Iterator[np.ndarray]:
        """uint8 (n, 3, H, W) batches in order; with ``only``, just the batches whose index
        is in it (the others are not read)."""
        for b, start in enumerate(range(0, len(self), batch_size)):
            if only is None or b in only:
                yield _as_uint8_images(self.raw[start : start + batch_size], self.name, *self._read)

    def read(self, index: int) -> np.ndarray:
        """Image ``index`` as RGB uint8 (H, W, 3)."""
        return np.ascontiguousarray(np.transpose(self.images[index], (1, 2, 0)))

    def item_name(self, index: int) -> str:
        return f"{self.name} image {index}"

    def fingerprint(self) -> str:
        """sha256 over the resolved path, member, shape, dtype, size, mtime, inode and ctime."""
        st = os.stat(self.path)
        h = hashlib.sha256(b"array-file\0")
        h.update(
            f"{self.path.resolve()}\0{self.member}\0{tuple(self.raw.shape)}\0{self.raw.dtype.str}\0"
            f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_ctime_ns}\0".encode("utf-8", "surrogateescape")
        )
        return h.hexdigest()


class GeneratorImageSource(ImageSource):
    """Images from a Python callable (e.g. a generator network), never cached.

    Two calling conventions:

    - ``count=None`` (default): ``fn()`` returns an iterable (e.g. a generator) of image
      batches; every batch is read until it ends.
    - ``count=N``: ``fn(batch_size)`` is called repeatedly, each call returning one batch of
      up to ``batch_size`` images, until ``N`` images are collected (a longer last batch is
      cut to ``N``).

    A batch is anything :class:`ArrayImageSource` accepts (uint8 0..255 or float in
    ``value_range``; NHWC, NCHW or NHW, see :mod:`ganeval.images`). Generation runs in the main process. ``len()`` is ``count``, or the
    number of images read so far when ``count`` is None.

    Examples
    --------
    >>> def gen():
    ...     for _ in range(3):
    ...         yield np.full((2, 3, 4, 4), 0.5, np.float32)
    >>> src = GeneratorImageSource("g", gen)
    >>> sum(b.shape[0] for b in src.iter_batches(10)), len(src)
    (6, 6)
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        count: int | None = None,
        value_range: Any = DEFAULT_VALUE_RANGE,
        layout: str = "auto",
        **_ignored: Any,
    ):
        if not callable(fn):
            raise InputError(f"{name}: expected a callable, got {type(fn).__name__}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise InputError(f"{name}: count must be a positive integer, got {count!r}")
        self.name = name
        self.fn = fn
        self.count = count
        self.value_range = check_value_range(value_range)
        self.layout = layout
        self.length_known = count is not None
        self._seen = 0

    def __len__(self) -> int:
        return self.count if self.count is not None else self._seen

    def _batches(self, batch_size: int) -> Iterable[Any]:
        if self.count is None:
            yield from self.fn()
            return
        remaining = self.count
        while remaining > 0:
            batch = self.fn(min(batch_size, remaining))
            yield batch
            n = len(batch)
            if n == 0:
                raise InputError(f"{self.name}: the callable returned an empty batch")
            remaining -= n

    def iter_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        self._seen = 0
        total = 0
        for i, batch in enumerate(self._batches(batch_size)):
            arr = _as_uint8_images(batch, f"{self.name} batch {i}", self.value_range, self.layout)
            if self.count is not None:
                arr = arr[: self.count - total]
            total += arr.shape[0]
            self._seen = total
            yield arr
        if total == 0:
            raise InputError(f"{self.name}: the callable produced no images")
