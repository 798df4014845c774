"""Fast image decoding that gives PIL's pixels, and JPEG bytes for decoding on the GPU.

:func:`ganeval.sources.images.decode_image` (PIL) defines what an image file decodes to.
For the two formats that make up nearly every FID folder this module has a faster route
with the same result:

- 8-bit PNG (grey, RGB, palette, grey+alpha, RGBA) through libpng, and
- 8-bit baseline, extended or progressive JPEG with one or three components and no Adobe
  colour-transform marker through libjpeg-turbo,

both by ``torchvision.io`` (the same libraries PIL uses, called without PIL's per-file
Python work: 1.1x PIL's speed on 256x256 files and 1.5x-3x on 32x32-64x64 ones, measured
in docs/performance.md). :func:`decode_fast` reads the file's header first and returns
``None`` for anything else (16-bit PNG, CMYK or 12-bit JPEG, another format, a header it
cannot read, an image over PIL's decompression-bomb limit) or when the fast decoder
fails; the caller then decodes with PIL, which gives the same pixels or the one-line error.
PNG is lossless and both JPEG paths run libjpeg's default integer IDCT and fancy
upsampling, so the arrays are equal; tests/sources/test_decoding.py checks it on a corpus
of mixed files. Without torchvision's image decoders (it deprecated them in 0.29), every
file goes to PIL.

:func:`gpu_jpeg_bytes` says whether a file is a JPEG that nvjpeg can decode
(:func:`decode_jpegs_on_device`); nvjpeg's IDCT is not libjpeg's, so its pixels can differ
by a few grey levels: decoding on the GPU is opt-in (``gpu_decode=True``,
``--gpu-decode``).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ImageHeader",
    "read_header",
    "fast_format",
    "decode_fast",
    "gpu_jpeg_bytes",
    "decode_jpegs_on_device",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: SOF markers of the JPEG processes libjpeg-turbo and PIL decode alike (Huffman coded:
#: baseline, extended sequential, progressive)
_JPEG_SOF_HUFFMAN = (0xC0, 0xC1, 0xC2)
#: every SOF marker (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames)
_JPEG_SOF = tuple(m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC))


@dataclass(frozen=True)
class ImageHeader:
    """What the first bytes of a PNG or JPEG file say.

    ``fmt`` is ``"png"`` or ``"jpeg"``; ``depth`` the bits per sample; ``kind`` the PNG colour
    type or the JPEG frame marker (0xC0 baseline, 0xC2 progressive, ...); ``components``
    the JPEG component count (PNG: 0); ``adobe`` whether an Adobe APP14 marker (which
    changes the colour transform) comes before the frame.
    """

    fmt: str
    width: int
    height: int
    depth: int
    kind: int
    components: int = 0
    adobe: bool = False


def _png_header(data: bytes) -> ImageHeader | None:
    # the IHDR chunk comes first: length 13, "IHDR", width, height, depth, colour type, ...
    if len(data) < 33 or data[12:16] != b"IHDR" or int.from_bytes(data[8:12], "big") != 13:
        return None
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return ImageHeader("png", w, h, data[24], data[25])


def _jpeg_header(data: bytes) -> ImageHeader | None:
    i, n, adobe = 2, len(data), False
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if marker == 0xEE and data[i + 4 : i + 9] == b"Adobe":
            adobe = True
        if marker in _JPEG_SOF:
            if i + 10 > n:
                return None
            h = int.from_bytes(data[i + 5 : i + 7], "big")
            w = int.from_bytes(data[i + 7 : i + 9], "big")
            return ImageHeader("jpeg", w, h, data[i + 4], marker, data[i + 9], adobe)
        if marker in (0xDA, 0xD9):  # a scan or the end before any frame
            return None
        i += 2 + length
    return None


def read_header(data: bytes) -> ImageHeader | None:
    """The header of a PNG or JPEG file's bytes, or ``None`` (another format, or unreadable).

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (5, 3)).save(buf, "JPEG")
    >>> h = read_header(buf.getvalue()); (h.fmt, h.width, h.height, h.components)
    ('jpeg', 5, 3, 3)
    >>> read_header(b"GIF89a...") is None
    True
    """
    if data[:8] == _PNG_SIGNATURE:
        return _png_header(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_header(data)
    return None


def _under_bomb_limit(header: ImageHeader) -> bool:
    """PIL's decompression-bomb check would not fire (PIL itself warns or refuses otherwise)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    return header.width >= 1 and header.height >= 1 and (limit is None or header.width * header.height <= limit)


def fast_format(data: bytes) -> str | None:
    """``"png"`` or ``"jpeg"`` when the fast decoder gives PIL's pixels for this file, else ``None``.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> def png(mode):
    ...     buf = io.BytesIO(); Image.new(mode, (2, 2)).save(buf, "PNG"); return buf.getvalue()
    >>> fast_format(png("RGBA")), fast_format(png("I;16"))
    ('png', None)
    """
    header = read_header(data)
    if header is None or not _under_bomb_limit(header):
        return None
    if header.fmt == "png":
        return "png" if header.depth == 8 and header.kind in (0, 2, 3, 4, 6) else None
    ok = header.kind in _JPEG_SOF_HUFFMAN and header.depth == 8 and header.components in (1, 3) and not header.adobe
    return "jpeg" if ok else None


@functools.lru_cache(maxsize=1)
def _decoders() -> tuple[Any, Any, Any] | None:
    """torchvision's ``decode_png``, ``decode_jpeg`` and RGB read mode, or None without them."""
    try:
        from torchvision.io import ImageReadMode, decode_jpeg, decode_png

        return decode_png, decode_jpeg, ImageReadMode.RGB
    except Exception:  # no torchvision, no image extension, or the decoders removed
        return None


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a torchvision decoder without its deprecation notice (torchvision 0.29 warns on
    every call; the decoders still work and a missing one falls back to PIL)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args, **kwargs)


def decode_fast(data: bytes) -> np.ndarray | None:
    """RGB uint8 (H, W, 3), equal to PIL's decoding, or ``None`` when this file should go to PIL.

    ``None`` means: not a PNG or JPEG this route covers (:func:`fast_format`), torchvision's
    decoders are missing, or they failed (a corrupt or truncated file: PIL then gives the
    error). Never raises for bad data.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("L", (3, 2), 7).save(buf, "PNG")
    >>> decode_fast(buf.getvalue())[0, 0].tolist()
    [7, 7, 7]
    """
    fmt = fast_format(data)
    decoders = _decoders() if fmt is not None else None
    if decoders is None:
        return None
    import torch

    decode_png, decode_jpeg, rgb = decoders
    try:
        raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        chw = _quiet(decode_png if fmt == "png" else decode_jpeg, raw, mode=rgb)
    except Exception:  # corrupt data: libpng / libjpeg refused it, PIL decides
        return None
    if chw.dtype != torch.uint8 or chw.ndim != 3 or chw.shape[0] != 3:
        return None
    return np.ascontiguousarray(chw.permute(1, 2, 0).numpy())


def gpu_jpeg_bytes(data: bytes) -> bool:
    """Whether ``data`` is a JPEG that nvjpeg decodes (8-bit Huffman-coded, one or three
    components, under PIL's decompression-bomb limit): what ``gpu_decode`` sends to the GPU.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (4, 4)).save(buf, "JPEG")
    >>> gpu_jpeg_bytes(buf.getvalue()), gpu_jpeg_bytes(b"not an image")
    (True, False)
    """
    return fast_format(data) == "jpeg"


def decode_jpegs_on_device(blobs: list[Any], device: Any) -> list[Any]:
    """Decode JPEG files (1-D uint8 CPU tensors of their bytes) on a CUDA ``device`` with
    nvjpeg, in one batched call: a list of RGB uint8 (3, H, W) tensors on the device.

    nvjpeg's IDCT and upsampling are not libjpeg's: pixels may differ from PIL's by a few
    grey levels (the GPU test prints the largest difference). Raises whatever torchvision
    raises for a file nvjpeg refuses; the caller decodes that batch on the CPU instead.
    """
    decoders = _decoders()
    if decoders is None:
        raise RuntimeError("torchvision's image decoders are not available")
    _, decode_jpeg, rgb = decoders
    out = _quiet(decode_jpeg, list(blobs), mode=rgb, device=device)
    return list(out)
