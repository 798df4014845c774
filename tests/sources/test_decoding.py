"""Fast decoding gives PIL's pixels, bit for bit, on a folder of mixed files; bad files give
the same one-line errors; the header reader and the GPU-JPEG test say the right thing."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from ganeval.errors import InputError
from ganeval.sources import decoding
from ganeval.sources.decoding import decode_fast, fast_format, gpu_jpeg_bytes, read_header
from ganeval.sources.images import FolderImageSource, ZipImageSource, decode_image


def _smooth_rgb(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth content plus noise: JPEG blocks with both flat and busy coefficients."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx + yy) * 7) % 256], axis=2)
    return np.clip(base + rng.integers(-30, 31, (h, w, 3)), 0, 255).astype(np.uint8)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def corpus() -> dict[str, bytes]:
    """name -> file bytes: every PNG colour type, 16-bit and 1-bit PNGs,
    JPEGs with each chroma subsampling, progressive, grey, CMYK, odd sizes, and formats the
    fast route does not cover (BMP, WebP, TIFF)."""
    rgb = Image.fromarray(_smooth_rgb(37, 53, 0))
    grey = rgb.convert("L")
    out = {
        "rgb.png": _encode(rgb, "PNG"),
        "optimized.png": _encode(rgb, "PNG", optimize=True),
        "grey.png": _encode(grey, "PNG"),
        "grey_alpha.png": _encode(Image.merge("LA", (grey, grey.point(lambda v: 255 - v))), "PNG"),
        "rgba.png": _encode(Image.merge("RGBA", (*rgb.split(), grey)), "PNG"),
        "palette.png": _encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=37), "PNG"),
        "palette_trns.png": _encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG", transparency=3),
        "grey_trns.png": _encode(grey, "PNG", transparency=40),
        "grey16.png": _encode(Image.fromarray((np.asarray(grey, np.uint16) * 257 + 3).astype(np.uint16)), "PNG"),
        "bilevel.png": _encode(grey.convert("1"), "PNG"),
        "tiny.png": _encode(Image.new("RGB", (1, 1), (9, 8, 7)), "PNG"),
        "rgb444.jpg": _encode(rgb, "JPEG", quality=95, subsampling=0),
        "rgb422.jpg": _encode(rgb, "JPEG", quality=90, subsampling=1),
        "rgb420.jpg": _encode(rgb, "JPEG", quality=75, subsampling=2),
        "progressive.jpg": _encode(rgb, "JPEG", quality=85, progressive=True),
        "optimized.jpg": _encode(rgb, "JPEG", quality=60, optimize=True),
        "grey.jpg": _encode(grey, "JPEG", quality=90),
        "cmyk.jpg": _encode(rgb.convert("CMYK"), "JPEG", quality=90),
        "odd.jpg": _encode(Image.fromarray(_smooth_rgb(17, 9, 1)), "JPEG", quality=80),
        "big.jpg": _encode(Image.fromarray(_smooth_rgb(96, 128, 2)), "JPEG", quality=92),
        "rgb.bmp": _encode(rgb, "BMP"),
        "rgb.webp": _encode(rgb, "WEBP", lossless=True),
        "rgb.tif": _encode(rgb, "TIFF"),
    }
    return out


@pytest.fixture(scope="module")
def files():
    return corpus()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, files):
    d = tmp_path_factory.mktemp("mixed")
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


def test_folder_reads_equal_pil_bit_for_bit(folder):
    src = FolderImageSource(folder)
    fast = 0
    for i, rel in enumerate(src.files):
        old = decode_image(folder / rel, rel)  # the PIL path, as before
        new = src.read(i)
        assert new.dtype == np.uint8 and new.shape == old.shape and new.flags.c_contiguous, rel
        assert np.array_equal(new, old), rel
        fast += fast_format((folder / rel).read_bytes()) is not None
    assert fast >= 14  # most of the corpus took the fast route


def test_zip_reads_equal_pil_bit_for_bit(tmp_path, files):
    z = tmp_path / "mixed.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    src = ZipImageSource(z)
    for i, (member, _, _) in enumerate(src.members):
        assert np.array_equal(src.read(i), decode_image(files[member], member)), member


def test_which_files_take_the_fast_route(files):
    fast = {name for name, data in files.items() if fast_format(data) is not None}
    assert {"grey16.png", "bilevel.png", "cmyk.jpg", "rgb.bmp", "rgb.webp", "rgb.tif"}.isdisjoint(fast)
    assert {"rgb.png", "grey_alpha.png", "rgba.png", "palette.png", "rgb420.jpg", "progressive.jpg", "grey.jpg"} <= fast


@pytest.mark.parametrize("name", ["rgb.png", "rgb420.jpg", "progressive.jpg", "grey.jpg"])
def test_decode_fast_equals_decode_image(files, name):
    fast = decode_fast(files[name])
    assert fast is not None
    assert np.array_equal(fast, decode_image(files[name], name))


@pytest.mark.parametrize("name", ["rgb.png", "rgb420.jpg", "progressive.jpg"])
@pytest.mark.parametrize("cut", [1, 13, 200])
def test_truncated_files_give_pils_answer(tmp_path, files, name, cut):
    """A cut file decodes (or fails) exactly as PIL does: the fast route never turns PIL's
    error into pixels, and its own failures fall back to PIL."""
    data = files[name][:-cut]
    (tmp_path / name).write_bytes(data)
    try:
        expected = decode_image(data, str(tmp_path / name))
    except InputError as exc:
        with pytest.raises(InputError) as got:
            FolderImageSource(tmp_path).read(0)
        assert str(got.value) == str(exc)
    else:
        assert np.array_equal(FolderImageSource(tmp_path).read(0), expected)


def test_garbage_and_empty_files_keep_their_errors(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (tmp_path / "b.jpg").write_bytes(b"")
    src = FolderImageSource(tmp_path)
    with pytest.raises(InputError, match="a.png: not a readable image"):
        src.read(0)
    with pytest.raises(InputError, match=r"b.jpg: file is empty \(0 bytes\)"):
        src.read(1)


def test_bomb_limit_goes_to_pil(files, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 37 x 53 is over it: PIL warns/refuses
    assert fast_format(files["rgb.png"]) is None and decode_fast(files["rgb.png"]) is None
    with pytest.raises(InputError, match="decompression bomb"):
        decode_image(files["rgb.png"], "rgb.png")


def test_without_torchvision_decoders_everything_goes_to_pil(files, monkeypatch, folder):
    monkeypatch.setattr(decoding, "_decoders", lambda: None)
    assert decode_fast(files["rgb.png"]) is None
    src = FolderImageSource(folder)
    assert all(np.array_equal(src.read(i), decode_image(folder / r, r)) for i, r in enumerate(src.files))


def test_headers(files):
    h = read_header(files["progressive.jpg"])
    assert (h.fmt, h.width, h.height, h.depth, h.kind, h.components, h.adobe) == ("jpeg", 53, 37, 8, 0xC2, 3, False)
    assert read_header(files["cmyk.jpg"]).adobe  # PIL writes an Adobe marker for CMYK
    h = read_header(files["grey16.png"])
    assert (h.fmt, h.width, h.height, h.depth, h.kind) == ("png", 53, 37, 16, 0)
    assert read_header(b"\xff\xd8\xff\xda\x00\x02") is None  # a scan before any frame
    assert read_header(b"\xff\xd8\x00") is None
    assert read_header(files["rgb.png"][:20]) is None


def test_gpu_jpeg_bytes_and_read_encoded(folder, files):
    assert gpu_jpeg_bytes(files["rgb420.jpg"]) and gpu_jpeg_bytes(files["grey.jpg"])
    assert not gpu_jpeg_bytes(files["cmyk.jpg"]) and not gpu_jpeg_bytes(files["rgb.png"])
    src = FolderImageSource(folder)
    encoded = {rel: src.read_encoded(i) for i, rel in enumerate(src.files)}
    assert encoded["rgb420.jpg"] == files["rgb420.jpg"]
    assert encoded["rgb.png"] is None and encoded["cmyk.jpg"] is None
