"""Image sources: folders, zips, arrays, generators; every PIL mode; every bad file."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import InputError
from ganeval.sources import open_source
from ganeval.sources.images import (
    ArrayImageSource,
    FolderImageSource,
    GeneratorImageSource,
    ZipImageSource,
    decode_image,
    to_rgb_array,
)


def png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# -- mode conversions ----------------------------------------------------------------------


def test_rgb_kept():
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = to_rgb_array(Image.fromarray(a, "RGB"))
    assert out.dtype == np.uint8 and np.array_equal(out, a) and out.flags.writeable


@pytest.mark.parametrize("mode", ["L", "1"])
def test_gray_copied_to_three_channels(mode):
    g = np.array([[0, 255], [255, 0]], np.uint8)
    img = Image.fromarray(g, "L").convert(mode)
    out = to_rgb_array(img)
    assert out.shape == (2, 2, 3)
    assert np.array_equal(out[..., 0], g) and np.array_equal(out[..., 1], g) and np.array_equal(out[..., 2], g)


def test_alpha_is_dropped_not_composited():
    rgba = Image.new("RGBA", (2, 2), (200, 100, 50, 0))  # fully transparent
    assert to_rgb_array(rgba)[0, 0].tolist() == [200, 100, 50]
    la = Image.new("LA", (1, 1), (90, 10))
    assert to_rgb_array(la)[0, 0].tolist() == [90, 90, 90]
    # same as PIL's convert("RGB"), which pytorch-fid and clean-fid use
    assert np.array_equal(to_rgb_array(rgba), np.asarray(rgba.convert("RGB")))


def test_palette_looked_up():
    p = Image.new("P", (2, 1))
    p.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    p.putpixel((1, 0), 1)
    out = to_rgb_array(p)
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [10, 20, 30]
    p.info["transparency"] = 1
    assert to_rgb_array(p)[0, 1].tolist() == [10, 20, 30]


def test_cmyk_like_pil():
    c = Image.new("CMYK", (2, 2), (10, 20, 30, 40))
    assert np.array_equal(to_rgb_array(c), np.asarray(c.convert("RGB")))


@pytest.mark.parametrize("value,expected", [(0, 0), (257, 1), (32896, 128), (65535, 255), (1000, 4)])
def test_16bit_scaled_by_1_over_257_not_clipped(value, expected):
    img = Image.new("I;16", (1, 1), value)
    assert to_rgb_array(img)[0, 0].tolist() == [expected] * 3


def test_32bit_int_and_float_modes():
    i = Image.fromarray(np.array([[-5, 65535, 70000]], np.int32))
    assert i.mode == "I"
    assert to_rgb_array(i)[0, :, 0].tolist() == [0, 255, 255]
    f = Image.fromarray(np.array([[0.0, 0.5, 2.0]], np.float32))
    assert f.mode == "F"
    assert to_rgb_array(f)[0, :, 0].tolist() == [0, 128, 255]


def test_ycbcr_converted():
    y = Image.new("RGB", (1, 1), (255, 0, 0)).convert("YCbCr")
    r, g, b = to_rgb_array(y)[0, 0].tolist()
    assert r > 240 and g < 10 and b < 10


def test_16bit_png_file_decodes(tmp_path):
    a = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    Image.fromarray(a).save(tmp_path / "x.png")
    out = decode_image(tmp_path / "x.png", "x.png")
    assert out.shape == (3, 4, 3)
    assert np.array_equal(out[..., 0], ((a.astype(np.int64) + 128) // 257).astype(np.uint8))
    assert out.max() == round(55000 / 257)  # not clipped at 255 before scaling


def test_cmyk_jpeg_file_decodes(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg", "JPEG", quality=100)
    out = decode_image(tmp_path / "c.jpg", "c.jpg")
    assert out.shape == (8, 8, 3)
    assert out[..., 0].mean() > 200 and out[..., 1].mean() < 60  # red


def test_one_pixel_image(tmp_path):
    Image.new("RGB", (1, 1), (1, 2, 3)).save(tmp_path / "p.png")
    assert decode_image(tmp_path / "p.png", "p").tolist() == [[[1, 2, 3]]]


# -- bad files -----------------------------------------------------------------------------


def test_zero_byte_file(tmp_path):
    (tmp_path / "z.png").write_bytes(b"")
    with pytest.raises(InputError, match=r"z\.png: file is empty"):
        decode_image(tmp_path / "z.png", str(tmp_path / "z.png"))


def test_corrupt_file(tmp_path):
    (tmp_path / "c.png").write_bytes(b"this is not a png at all")
    with pytest.raises(InputError, match=r"c\.png: not a readable image") as e:
        decode_image(tmp_path / "c.png", str(tmp_path / "c.png"))
    assert "\n" not in str(e.value)


def test_truncated_file(tmp_path):
    data = png_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)))
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t\.png: corrupt or truncated image") as e:
        decode_image(tmp_path / "t.png", str(tmp_path / "t.png"))
    assert "\n" not in str(e.value)


def test_decompression_bomb_limit_stays_on(tmp_path, monkeypatch):
    Image.new("L", (40, 40)).save(tmp_path / "big.png")
    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1600 pixels > 2 * 100: a "bomb"
    with pytest.raises(InputError, match="decompression bomb"):
        decode_image(tmp_path / "big.png", "big.png")
    monkeypatch.undo()
    assert Image.MAX_IMAGE_PIXELS == before  # never changed by ganeval


# -- folders -------------------------------------------------------------------------------


def write_folder(root, n=3, size=(5, 4)):
    for i in range(n):
        Image.new("RGB", size, (i, i, i)).save(root / f"img{i}.png")


def test_folder_recursive_sorted_case_insensitive(tmp_path):
    (tmp_path / "b_class").mkdir()
    (tmp_path / "a_class").mkdir()
    (tmp_path / ".hidden").mkdir()
    Image.new("RGB", (3, 3)).save(tmp_path / "b_class" / "x.PNG")
    Image.new("RGB", (3, 3)).save(tmp_path / "a_class" / "y.JpEg", "JPEG")
    Image.new("RGB", (3, 3)).save(tmp_path / "a_class" / "z.webp", "WEBP")
    Image.new("RGB", (3, 3)).save(tmp_path / "a_class" / "w.tif", "TIFF")
    Image.new("RGB", (3, 3)).save(tmp_path / "c.bmp", "BMP")
    Image.new("RGB", (3, 3)).save(tmp_path / ".hidden" / "h.png")
    (tmp_path / "._c.png").write_bytes(b"mac resource fork")
    (tmp_path / "notes.txt").write_text("ignored")
    src = FolderImageSource(tmp_path)
    assert src.kind == "images" and len(src) == 5
    assert [f.replace(os.sep, "/") for f in src.files] == [
        "a_class/w.tif",
        "a_class/y.JpEg",
        "a_class/z.webp",
        "b_class/x.PNG",
        "c.bmp",
    ]
    assert all(src.read(i).shape == (3, 3, 3) for i in range(len(src)))


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        open_source(tmp_path / "nope")


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="folder is empty"):
        open_source(tmp_path)


def test_folder_without_images(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.csv.gz").write_bytes(b"x")
    with pytest.raises(InputError, match=r"folder has no image files \(2 other file\(s\)\)"):
        open_source(tmp_path)


def test_fingerprint_changes_with_mtime_size_and_names(tmp_path):
    write_folder(tmp_path)
    fp = FolderImageSource(tmp_path).fingerprint()
    assert fp == FolderImageSource(tmp_path).fingerprint()
    st = os.stat(tmp_path / "img0.png")
    os.utime(tmp_path / "img0.png", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    fp2 = FolderImageSource(tmp_path).fingerprint()
    assert fp2 != fp
    os.rename(tmp_path / "img2.png", tmp_path / "img3.png")
    assert FolderImageSource(tmp_path).fingerprint() != fp2
    assert FolderImageSource(tmp_path, skip_invalid=True).fingerprint() != FolderImageSource(tmp_path).fingerprint()


# -- zips ----------------------------------------------------------------------------------


def test_zip_images_and_non_image_members(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("b/2.png", png_bytes(Image.new("RGB", (2, 2), (9, 9, 9))))
        zf.writestr("a/1.JPG", png_bytes(Image.new("L", (3, 2), 5), "JPEG"))
        zf.writestr("readme.txt", "not an image")
        zf.writestr("__MACOSX/a/._1.JPG", b"junk")
    src = open_source(path)
    assert isinstance(src, ZipImageSource) and len(src) == 2
    assert src.read(0).shape == (2, 3, 3) and src.read(1)[0, 0].tolist() == [9, 9, 9]
    assert "x.zip[a/1.JPG]" in src.item_name(0)
    fp = src.fingerprint()
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("c.png", png_bytes(Image.new("RGB", (1, 1))))
    assert open_source(path).fingerprint() != fp


def test_zip_with_only_non_image_members(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", "x")
        zf.writestr("b.json", "{}")
    with pytest.raises(InputError, match=r"x\.zip: zip has no image members \(2 other member\(s\)\)"):
        open_source(path)


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a readable .zip"):
        open_source(tmp_path / "x.zip")


def test_corrupt_zip_member_names_it(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bad.png", b"nope")
    with pytest.raises(InputError, match=r"x\.zip\[bad\.png\]: not a readable image"):
        open_source(path).read(0)


# -- arrays, tensors, generators -----------------------------------------------------------


@pytest.mark.parametrize(
    "shape,layout",
    [
        ((4, 6, 5, 3), "nhwc"),
        ((4, 3, 6, 5), "nchw"),
        ((4, 6, 5), "nhw"),
        ((4, 6, 5, 1), "nhwc"),
        ((4, 4, 6, 5), "nchw4"),
    ],
)
def test_array_layouts(shape, layout):
    a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    src = ArrayImageSource("a", a)
    (batch,) = list(src.iter_batches(10))
    assert batch.shape == (4, 3, 6, 5) and batch.dtype == np.uint8
    if layout == "nhwc":
        expected = np.moveaxis(a, -1, 1)
        expected = np.repeat(expected, 3, axis=1) if shape[-1] == 1 else expected
    elif layout == "nhw":
        expected = np.repeat(a[:, None], 3, axis=1)
    elif layout == "nchw4":
        expected = a[:, :3]
    else:
        expected = a
    assert np.array_equal(batch, expected)


def test_tensor_and_float_arrays():
    t = torch.full((2, 3, 4, 4), 0.5)
    src = open_source(t)  # floats are read in the one default value_range, (-1, 1)
    assert src.kind == "images" and next(src.iter_batches(5))[0, 0, 0, 0] == 191
    assert next(open_source(t, value_range=(0, 1)).iter_batches(5))[0, 0, 0, 0] == 128
    with pytest.raises(InputError, match=r"float images must lie in value_range \[-1, 1\]"):
        ArrayImageSource("big", 3 * t)
    with pytest.raises(InputError, match="dtype int64"):
        ArrayImageSource("i", np.zeros((2, 4, 4, 3), np.int64))
    with pytest.raises(InputError, match="have 5 channels .NCHW. or 7 .NHWC.; expected 1, 3 or 4"):
        ArrayImageSource("c", np.zeros((2, 5, 6, 7), np.uint8))


def test_array_fingerprint_follows_content():
    a = np.zeros((2, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0, 0] = 1
    assert ArrayImageSource("a", a).fingerprint() == ArrayImageSource("x", a.copy()).fingerprint()
    assert ArrayImageSource("a", a).fingerprint() != ArrayImageSource("a", b).fingerprint()
    assert ArrayImageSource("a", a, cacheable=False).fingerprint() is None


def test_generator_iterable_and_counted():
    def batches():
        for i in range(3):
            yield np.full((2, 4, 4, 3), i, np.uint8)

    src = open_source(batches, name="gen")
    assert isinstance(src, GeneratorImageSource) and src.fingerprint() is None
    got = np.concatenate(list(src.iter_batches(99)))
    assert got.shape == (6, 3, 4, 4) and got[:, 0, 0, 0].tolist() == [0, 0, 1, 1, 2, 2] and len(src) == 6

    calls = []

    def sample(n):
        calls.append(n)
        return torch.rand(n, 3, 5, 5, generator=torch.Generator().manual_seed(len(calls)))

    src = GeneratorImageSource("g", sample, count=7)
    got = list(src.iter_batches(3))
    assert [b.shape[0] for b in got] == [3, 3, 1] and calls == [3, 3, 1] and len(src) == 7


def test_generator_errors():
    with pytest.raises(InputError, match="produced no images"):
        list(GeneratorImageSource("g", lambda: iter([])).iter_batches(4))
    with pytest.raises(InputError, match="count must be a positive integer"):
        GeneratorImageSource("g", lambda n: None, count=0)
