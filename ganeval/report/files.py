"""Every file of a report is written here: one atomic-write helper and the output folder.

A report is built in a temporary folder beside ``DIR`` (``.DIR.partial-PID``) and renamed to
``DIR`` at the end, so an interrupted run (Ctrl-C, an error) leaves ``DIR`` as it was: no
half-written report. Each file goes through :func:`ganeval.atomic.atomic_write`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError

__all__ = ["write_file", "write_json", "ReportFolder", "REPORT_JSON", "FORMAT", "FORMAT_VERSION", "is_report_dir"]

REPORT_JSON = "report.json"
FORMAT = "ganeval-report"
FORMAT_VERSION = 1


def write_file(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + ``os.replace``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_file(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "hi")
    >>> p.read_text()
    'hi'
    """
    from ..atomic import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    atomic_write(path, lambda fh: fh.write(raw), what="report file")
    return path


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """:func:`write_file` of ``obj`` as indented JSON (NaN/inf are refused)."""
    return write_file(path, json.dumps(obj, indent=1, allow_nan=False) + "\n")


def is_report_dir(path: Path) -> bool:
    """True when ``path`` holds a report.json written by ganeval."""
    try:
        return json.loads((path / REPORT_JSON).read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


class ReportFolder:
    """The output folder of one report, built in a temporary folder and renamed at the end.

    ``DIR`` may be missing, empty, or a previous report (replaced); anything else is
    refused unless ``overwrite`` (then it is replaced as a whole, after the new report is
    complete).
    """

    def __init__(self, out: str | os.PathLike, *, overwrite: bool = False):
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise ParameterError(f"--out {self.out}: is a file, not a folder")
        if self.out.is_dir() and any(self.out.iterdir()) and not is_report_dir(self.out) and not overwrite:
            raise ParameterError(f"--out {self.out}: folder exists and is not a previous ganeval report; "
                                 "choose another folder or pass --overwrite to replace it")
        parent = self.out.resolve().parent
        if not parent.is_dir():
            raise ParameterError(f"--out {self.out}: parent folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise InputError(f"--out {self.out}: parent folder {parent} is not writable")
        self.tmp = parent / f".{self.out.name}.partial-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()

    def path(self, *parts: str) -> Path:
        """A path inside the (temporary) report folder."""
        return self.tmp.joinpath(*parts)

    def commit(self) -> Path:
        """Move the finished report into place (the old ``DIR`` is removed only afterwards)."""
        old = None
        if self.out.exists():
            old = self.out.resolve().parent / f".{self.out.name}.old-{os.getpid()}"
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        """Remove the temporary folder (after an error or Ctrl-C)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
