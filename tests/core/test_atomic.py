"""ganeval.atomic: write through symlinks, refuse what is not a regular file, leave nothing behind."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

from ganeval.atomic import atomic_output, atomic_write, check_output_path
from ganeval.errors import ParameterError


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_new_file_written(tmp_path):
    out = atomic_write(tmp_path / "a.bin", lambda fh: fh.write(b"abc"))
    assert out == tmp_path / "a.bin" and out.read_bytes() == b"abc"
    assert not _leftovers(tmp_path)


def test_symlink_written_through_and_kept(tmp_path):
    target = tmp_path / "real" / "t.npz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    os.symlink(target, link)
    written = atomic_write(link, lambda fh: fh.write(b"new"))
    assert written == target
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert not _leftovers(target.parent) and not _leftovers(tmp_path)


def test_chain_of_symlinks_and_dangling_link(tmp_path):
    target = tmp_path / "t.txt"
    os.symlink(target, tmp_path / "l1")  # dangling: the file is created at its target
    os.symlink(tmp_path / "l1", tmp_path / "l2")
    atomic_write(tmp_path / "l2", lambda fh: fh.write("x"), mode="w")
    assert target.read_text() == "x" and (tmp_path / "l2").is_symlink() and (tmp_path / "l1").is_symlink()


def test_fifo_refused_untouched(tmp_path):
    fifo = tmp_path / "out.npz"
    os.mkfifo(fifo)
    with pytest.raises(ParameterError, match="FIFO"):
        atomic_write(fifo, lambda fh: fh.write(b"x"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not _leftovers(tmp_path)


def test_symlink_to_fifo_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "fifo", tmp_path / "link")
    with pytest.raises(ParameterError, match="FIFO"):
        check_output_path(tmp_path / "link")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode) and (tmp_path / "link").is_symlink()


def test_character_device_refused_untouched(tmp_path):
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here (needs root): {exc}")
    with pytest.raises(ParameterError, match="character device"):
        atomic_write(dev, lambda fh: fh.write(b"x"))
    st = os.lstat(dev)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


def test_system_dev_null_refused_without_writing():
    with pytest.raises(ParameterError, match="character device"):
        check_output_path("/dev/null", "-o")


@pytest.mark.parametrize(
    "path, needle", [("", "empty path"), ("{d}/nope/x.npz", "does not exist"), ("{d}", "directory")]
)
def test_bad_paths(tmp_path, path, needle):
    with pytest.raises(ParameterError, match=needle):
        check_output_path(path.format(d=tmp_path))


def test_permissions_of_existing_file_kept(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("old")
    os.chmod(p, 0o640)
    atomic_write(p, lambda fh: fh.write("new"), mode="w")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640 and p.read_text() == "new"


def test_new_file_gets_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "n.txt", lambda fh: fh.write("x"), mode="w")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "n.txt").st_mode) == 0o640


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_error_or_interrupt_leaves_target_and_no_temp(tmp_path, exc):
    p = tmp_path / "a.txt"
    p.write_text("old")

    def write(fh):
        fh.write("half")
        raise exc

    with pytest.raises(type(exc)):
        atomic_write(p, write, mode="w")
    assert p.read_text() == "old" and not _leftovers(tmp_path)


def test_disk_full_names_the_target(tmp_path, monkeypatch):
    p = tmp_path / "a.npz"
    p.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        with atomic_output(p) as fh:
            fh.write(b"new")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(p)
    assert p.read_bytes() == b"old" and not _leftovers(tmp_path)


def test_numpy_writer(tmp_path):
    atomic_write(tmp_path / "x.npy", lambda fh: np.save(fh, np.arange(4)))
    assert np.load(tmp_path / "x.npy").tolist() == [0, 1, 2, 3]


def test_weights_download_writes_through_symlink_and_refuses_fifo(tmp_path):
    import hashlib

    from ganeval.errors import WeightsError
    from ganeval.features.weights import download_weights

    data = b"weights"
    sha = hashlib.sha256(data).hexdigest()

    def fetch(url, path):
        open(path, "wb").write(data)

    target = tmp_path / "store" / "w.pth"
    target.parent.mkdir()
    os.symlink(target, tmp_path / "w.pth")
    assert download_weights(tmp_path / "w.pth", sha256=sha, fetch=fetch) == target
    assert target.read_bytes() == data and (tmp_path / "w.pth").is_symlink()
    os.mkfifo(tmp_path / "fifo.pth")
    with pytest.raises(WeightsError, match="FIFO"):
        download_weights(tmp_path / "fifo.pth", sha256=sha, fetch=fetch)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo.pth").st_mode)


def test_feature_cache_entry_never_replaces_a_fifo(tmp_path, monkeypatch):
    from ganeval.features import cache

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path))
    key = "a" * 64
    os.mkfifo(tmp_path / f"features-{key}.npz")
    assert cache.store_entry(key, np.zeros((2, 3)), None, 0, {}) is None  # logged, not raised
    assert stat.S_ISFIFO(os.lstat(tmp_path / f"features-{key}.npz").st_mode)
    assert not _leftovers(tmp_path)
