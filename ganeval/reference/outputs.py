"""The run folder: which files are ours, the lock a run holds, and how every file is written.

- :func:`atomic_write` is the one way the trainer (and ``ganeval sample``) writes a file: into
  a temporary file beside the target, flushed and fsynced, then ``os.replace``. A symlink is
  written through to its target; anything that is not a regular file or a new path (a
  folder, a FIFO, a device) is refused, so a killed run never leaves a half-written file and
  never replaces what it should not.
- :func:`check_out_dir` decides, before any work, whether a folder may receive a run: a new
  or empty folder, or a previous run (its ``checkpoint.pt`` needs ``resume`` or
  ``overwrite``). A previous run is recognised by its marker, ``.ganeval-run.json``, which
  only the trainer writes (first thing in a run); a file named like the trainer's
  (``samples.npy``, ``checkpoint.pt``, ...) in a folder without the marker is the user's and
  is never replaced, even with ``overwrite``. Any other non-empty folder is refused unless
  ``overwrite``; even then only the trainer's own files (:data:`OUR_FILES`) are replaced or
  removed.
- :func:`run_lock` holds ``.ganeval-train.lock`` (``fcntl.flock``) for a run's lifetime: a
  second run on the same folder refuses with one line. The kernel drops the lock when its
  process dies, even by ``kill -9``, so a stale lock file never blocks a new run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import ParameterError

__all__ = [
    "CHECKPOINT",
    "METRICS_LOG",
    "LOCK",
    "MARKER",
    "OUR_FILES",
    "atomic_write",
    "check_out_dir",
    "run_lock",
    "remove_our_outputs",
    "read_metrics_log",
    "write_marker",
]

CHECKPOINT = "checkpoint.pt"
METRICS_LOG = "metrics.jsonl"
LOCK = ".ganeval-train.lock"
#: written by the trainer (only) when a run starts: the folder is a run's, these files are ours
MARKER = ".ganeval-run.json"
MARKER_FORMAT = "ganeval-train-run"
#: every file a run writes (a folder holding only these, or a checkpoint, is a previous run)
OUR_FILES = (CHECKPOINT, METRICS_LOG, "samples.npy", "samples_pixels.npy", "samples.png", "sample_labels.npy", LOCK)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[Any]], Any], mode: str = "wb") -> Path:
    """Write ``path`` atomically through :func:`ganeval.atomic.atomic_write`.

    A symlink is followed (its target is replaced, the link kept); a path that exists and is
    not a regular file is refused with a :class:`~ganeval.errors.ParameterError`. Nothing is
    left behind if ``write`` raises. Returns the path written (the link's target).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write(os.path.join(d, "a.txt"), lambda fh: fh.write("hi"), mode="w")
    ...     open(p).read(), sorted(os.listdir(d))
    ('hi', ['a.txt'])
    """
    from ..atomic import atomic_write as _shared_atomic_write

    return _shared_atomic_write(path, write, mode)


def _is_ours(name: str) -> bool:
    """A name the trainer writes, or the temporary file of one (``.NAME.PID.tmp``)."""
    if name in OUR_FILES or name in (MARKER, LOCK):
        return True
    return name.endswith(".tmp") and any(name.startswith(f".{f}.") for f in (*OUR_FILES, MARKER))


def _has_marker(p: Path) -> bool:
    try:
        data = json.loads((p / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == MARKER_FORMAT


def write_marker(out: Path) -> None:
    """Mark ``out`` as a training run's folder (the trainer's files in it are its own)."""
    text = json.dumps({"format": MARKER_FORMAT, "files": sorted(f for f in OUR_FILES if f != LOCK)}) + "\n"
    atomic_write(out / MARKER, lambda fh: fh.write(text), mode="w")


def check_out_dir(out: str | os.PathLike, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Validate the output folder before any work; returns it as a :class:`~pathlib.Path`.

    Accepted: a new folder (created by :func:`~ganeval.reference.train`), an empty one, or a
    previous run's, recognised by its :data:`MARKER` (which only the trainer writes): with a
    ``checkpoint.pt`` it needs ``resume`` or ``overwrite``; other files beside it are left
    alone. A folder without the marker that holds a file named like one of the trainer's
    (a user's ``samples.npy``) is refused even with ``overwrite``: that file is not ours.
    Any other non-empty folder is refused unless ``overwrite`` (which writes the run's files
    beside the others).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     check_out_dir(f.name)
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: out ...: is a file, not a folder
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = open(os.path.join(d, "notes.txt"), "w").close()
    ...     check_out_dir(d)
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: out ...: is not empty and not a previous run (it holds notes.txt); ...
    """
    p = Path(out)
    shown = str(out) if str(out) else "'' (the current folder)"
    if p.exists() and not p.is_dir():
        raise ParameterError(f"out {shown}: is a file, not a folder")
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"out {shown}: {parent} is a file, not a folder")
            break
    if not p.is_dir():
        return p
    try:
        names = sorted(os.listdir(p))
    except OSError as exc:
        raise ParameterError(f"out {shown}: cannot be read ({exc.strerror})") from None
    ours = _has_marker(p)
    if not ours:  # no run of ours: a file named like the trainer's is the user's, never replaced
        clash = [n for n in names if _is_ours(n) and n != LOCK]
        if clash:
            listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            raise ParameterError(
                f"out {shown}: is not a previous run (no {MARKER} marker; it holds {listed}) and "
                f"the run would replace {', '.join(clash[:3])}: move them or choose another folder"
            )
    if ours and (p / CHECKPOINT).exists():
        if not (resume or overwrite):
            raise ParameterError(
                f"out {shown}: holds a checkpoint already; resume it (--resume) or replace it (--overwrite)"
            )
        return p  # a previous run, perhaps with the user's files beside it (never touched)
    foreign = [n for n in names if not _is_ours(n)]
    if foreign and not overwrite and not ours:
        listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ParameterError(
            f"out {shown}: is not empty and not a previous run (it holds {listed}); choose a new "
            f"folder, or pass --overwrite to write the run's files beside them"
        )
    return p


def remove_our_outputs(out: Path, keep: tuple[str, ...] = (LOCK,)) -> None:
    """Delete the files a previous run left (only :data:`OUR_FILES`, never anything else)."""
    for name in OUR_FILES:
        if name in keep:
            continue
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.ganeval-train.lock`` exclusively for the body, else refuse with one line.

    The lock is an advisory ``flock`` on the file (which holds the owner's pid for the
    message); the kernel releases it when the process ends however it ends, so a file left by
    a killed run is simply locked again. The file is removed when the body ends (after
    checking, as usual for flock files, that the path still names the inode that was locked).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with run_lock(Path(d)):
    ...         with run_lock(Path(d)):
    ...             pass
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: out ...: another training run (pid ...) is writing into it; wait for it or choose another folder
    """
    import fcntl

    path = out / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise ParameterError(f"out {out}: cannot create its lock file {LOCK} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ParameterError(f"out {out}: cannot lock {LOCK} ({exc.strerror})") from None
            raise ParameterError(
                f"out {out}: another training run (pid {owner}) is writing into it; wait for it "
                f"or choose another folder"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file as we opened it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)


def read_metrics_log(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` (unreadable lines skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            records.append(rec)
    return records


def write_metrics_log(path: Path, records: list[dict[str, Any]]) -> None:
    """Rewrite ``metrics.jsonl`` atomically with ``records`` (one JSON object a line)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    atomic_write(path, lambda fh: fh.write(text), mode="w")
