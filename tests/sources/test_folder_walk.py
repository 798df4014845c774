"""Image folders: symlinked sub-folders followed (loops and duplicates read once) and counted;
the cache key notices in-place edits; zip members are streamed behind the bomb check."""

from __future__ import annotations

import os
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

import ganeval
from ganeval.errors import InputError
from ganeval.features import extract_features
from ganeval.sources import images as images_mod
from ganeval.sources.images import FolderImageSource, ZipImageSource


def _imgs(folder, n, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def test_symlinked_subfolders_are_followed_and_counted(tmp_path):
    _imgs(tmp_path / "store" / "cats", 3, 1)
    _imgs(tmp_path / "store" / "dogs", 4, 2)
    top = tmp_path / "data"
    _imgs(top, 5)
    os.symlink(tmp_path / "store" / "cats", top / "cats")
    os.symlink(tmp_path / "store" / "dogs", top / "dogs")
    src = FolderImageSource(top)
    assert len(src) == 12  # 5 + 3 + 4, not only the folder's own 5
    assert src.walk_info == {"linked_folders": 2}
    assert {f.split(os.sep)[0] for f in src.files if os.sep in f} == {"cats", "dogs"}


def test_link_loops_and_duplicate_links_read_once(tmp_path):
    top = tmp_path / "data"
    _imgs(top / "a", 2)
    os.symlink(top, top / "a" / "loop")  # a loop back to the top
    os.symlink(top / "a", top / "b")  # a second path to the same folder
    src = FolderImageSource(top)
    assert len(src) == 2


def test_linked_folders_recorded_in_the_result(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    _imgs(tmp_path / "store", 6)
    top = tmp_path / "data"
    _imgs(top, 4, 3)
    os.symlink(tmp_path / "store", top / "more")
    r = ganeval.evaluate(top, top, ["fid"], extractor="digits", num_workers=0)
    assert r["fid"].settings["real_linked_folders"] == 1 and r["fid"].n_real == 10


def test_cache_notices_in_place_edit_with_size_and_mtime_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):  # BMP: the file size depends only on the image size
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(folder / f"{i}.bmp")
    first = extract_features(folder, extractor="digits", num_workers=0)
    assert extract_features(folder, extractor="digits", num_workers=0).info["cached"]
    victim = folder / "1.bmp"
    st = os.stat(victim)
    new = tmp_path / "new.bmp"
    Image.new("RGB", (8, 8), (255, 255, 255)).save(new)
    assert new.stat().st_size == st.st_size
    time.sleep(0.05)  # past the file system's timestamp tick
    with open(victim, "r+b") as fh:  # rewritten in place: same inode, same size
        fh.write(new.read_bytes())
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back
    after_st = os.stat(victim)
    assert (after_st.st_ino, after_st.st_size, after_st.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    after = extract_features(folder, extractor="digits", num_workers=0)
    assert not after.info["cached"]
    assert not np.allclose(after.features, first.features)


def _png_bytes(w, h):
    import io

    buf = io.BytesIO()
    Image.new("L", (w, h)).save(buf, "PNG")
    return buf.getvalue()


def test_zip_member_streamed_so_bomb_check_comes_first(tmp_path, monkeypatch):
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.png", _png_bytes(3000, 3000))  # 9 Mpx of zeros: a small member
        zf.writestr("ok.png", _png_bytes(4, 4))
    monkeypatch.setattr(images_mod, "ZIP_READ_WHOLE_BYTES", 0)  # stream every member

    def no_whole_read(self, *a, **k):
        raise AssertionError("ZipFile.read must not be used for a streamed member")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_whole_read)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    src = ZipImageSource(z)
    names = [m[0] for m in src.members]
    with pytest.raises(InputError, match="decompression bomb"):
        src.read(names.index("big.png"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10**8)
    assert src.read(names.index("ok.png")).shape == (4, 4, 3)
    assert src.read(names.index("big.png")).shape == (3000, 3000, 3)


def test_zip_member_with_zero_declared_size(tmp_path):
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("empty.png", b"")
    with pytest.raises(InputError, match="empty"):
        ZipImageSource(z).read(0)


def test_npy_header_checked_before_allocating(tmp_path):
    from numpy.lib import format as npy_format

    from ganeval.sources import open_source

    p = tmp_path / "claim.npy"
    with open(p, "wb") as fh:
        npy_format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 3)})
        fh.write(b"\0" * 64)
    with pytest.raises(InputError, match=r"declares shape \(1000000000000, 3\).*64 bytes"):
        open_source(p)
    t = tmp_path / "t.npy"
    t.write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match="not a .npy file.*text file") as info:
        open_source(t)
    assert "pickled" not in str(info.value)
