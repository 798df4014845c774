"""Safe output files: never destroy what is not ours, never leave a half-written file.

Every file ganeval writes for the user (statistics ``.npz``, sample arrays, reports, feature
cache entries, downloaded weights) goes through :func:`atomic_output` /
:func:`atomic_write`. The rules:

- the output path is checked *before* any work is done (:func:`check_output_path`): its
  folder must exist and be writable, and an existing path must be a regular file;
- a **symlink** is written *through*: its final target (all links resolved) is replaced and
  the link itself is kept;
- anything existing that is **not a regular file** (a folder, a FIFO, a socket, a character
  or block device such as ``/dev/null``) is refused with one line; it is never replaced;
- the bytes go to a temporary file in the target's folder (same file system), are flushed
  and ``fsync``-ed, and the temporary file is renamed over the target (:func:`os.replace`,
  atomic on POSIX): readers see the old file or the new one, never a mix;
- on any error, and on ``KeyboardInterrupt``, the temporary file is removed and the target
  is left as it was;
- an existing target keeps its permission bits; a new file gets ``0o666 & ~umask``, as
  :func:`open` would give it.

Examples
--------
>>> import tempfile, os, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = atomic_write(d / "a.txt", lambda fh: fh.write("hello"), mode="w")
>>> (d / "a.txt").read_text()
'hello'
>>> os.symlink(d / "a.txt", d / "link.txt")
>>> _ = atomic_write(d / "link.txt", lambda fh: fh.write("new"), mode="w")
>>> (d / "link.txt").is_symlink(), (d / "a.txt").read_text()
(True, 'new')
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import ParameterError

__all__ = ["check_output_path", "atomic_output", "atomic_write"]


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def check_output_path(path: str | os.PathLike, what: str = "output") -> Path:
    """Check that ``path`` may be written and return the file that will really be written.

    Symlinks are resolved to their final target (a dangling link gives the path it points
    to). Raises :class:`~ganeval.errors.ParameterError`, naming ``what`` and the path, when
    the path is empty, exists and is not a regular file (directory, FIFO, socket, device),
    or its folder does not exist or is not writable. Nothing is created or changed.

    Examples
    --------
    >>> check_output_path("/dev/null", "--output")
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: --output /dev/null: is a character device, not a regular file; refusing to replace it (give a file name)
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise ParameterError(f"{what}: empty path; give a file name")
    p = Path(text).expanduser()
    target = Path(os.path.realpath(p))
    shown = str(p) if target == p.absolute() else f"{p} (-> {target})"
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ParameterError(f"{what} {shown}: cannot be checked ({exc.strerror or exc})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ParameterError(
            f"{what} {shown}: is {_kind(st.st_mode)}, not a regular file; refusing to replace it (give a file name)"
        )
    parent = target.parent
    if not parent.is_dir():
        raise ParameterError(f"{what} {shown}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} {shown}: folder {parent} is not writable")
    if st is not None and not os.access(target, os.W_OK):
        raise ParameterError(f"{what} {shown}: file is read-only")
    return target


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, mode: str = "wb", *, what: str = "output", encoding: str | None = None
) -> Iterator[IO[Any]]:
    """Context manager giving a file object whose content replaces ``path`` atomically on exit.

    ``path`` is checked with :func:`check_output_path` first. The file object writes to a
    temporary file in the target's folder; on a clean exit it is flushed, ``fsync``-ed and
    renamed over the (symlink-resolved) target; on an exception (including
    ``KeyboardInterrupt``) it is deleted and the target is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> with atomic_output(p) as fh:
    ...     _ = fh.write(b"abc")
    >>> p.read_bytes()
    b'abc'
    """
    if "w" not in mode or "+" in mode:
        raise ValueError(f"atomic_output: mode must be a write mode ('w' or 'wb'), got {mode!r}")
    target = check_output_path(path, what)
    try:
        perms = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        perms = _new_file_mode()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp: str | None = tmp_name  # None once moved into place
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, perms)
        os.replace(tmp_name, target)
        tmp = None
        _fsync_dir(target.parent)
    except OSError as exc:
        if exc.filename is None or exc.filename == tmp:
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from None
        raise
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write(
    path: str | os.PathLike,
    write_fn: Callable[[IO[Any]], Any],
    mode: str = "wb",
    *,
    what: str = "output",
    encoding: str | None = None,
) -> Path:
    """Call ``write_fn(fh)`` on a temporary file and move it over ``path`` atomically.

    Returns the path that was written (symlinks resolved). See :func:`atomic_output`.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
    >>> _ = atomic_write(p, lambda fh: np.save(fh, np.arange(3)))
    >>> np.load(p).tolist()
    [0, 1, 2]
    """
    target = check_output_path(path, what)
    with atomic_output(target, mode, what=what, encoding=encoding) as fh:
        write_fn(fh)
    return target


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (best effort: some file systems refuse to open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
