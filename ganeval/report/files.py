"""Every file of a report is written here: one atomic-write helper, the output folder and the
file-name slugs of the candidates.

A report never destroys what is not its own:

- ``DIR`` is checked before any work starts (:class:`ReportFolder`): it must not equal or
  contain the spec's folder, and must not equal, contain or lie inside any input (the report
  would delete an input, or read its own figures as data on the next run);
- every report folder holds a manifest, ``.ganeval-report-files.json``, listing the files
  the report wrote. Only those are ever replaced or removed; a file of the same name that
  the manifest does not list (a user's ``report.md``) is refused, never overwritten, and
  any other file in ``DIR`` is left as it is. A folder that holds files and no manifest is
  refused unless ``overwrite`` (then the report is written *beside* those files);
- a new ``DIR`` is built in a temporary folder beside it (``.DIR.partial-PID``) and renamed
  into place; an existing ``DIR`` (a previous report, a mount point, the working folder) is
  built in ``DIR/.ganeval-partial-PID`` and its files are moved in one by one, the manifest
  always listing every file of ours that is there. An interrupted run (Ctrl-C, an error)
  leaves ``DIR`` as it was;
- a symlinked ``DIR`` is written through: the link is kept, its target receives the report.

Each file goes through :func:`ganeval.atomic.atomic_write`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ParameterError

__all__ = [
    "write_file",
    "write_json",
    "ReportFolder",
    "REPORT_JSON",
    "FORMAT",
    "FORMAT_VERSION",
    "is_report_dir",
    "MANIFEST",
    "read_manifest",
    "report_files",
    "file_slug",
    "unique_slugs",
]

REPORT_JSON = "report.json"
FORMAT = "ganeval-report"
FORMAT_VERSION = 1
#: the list of files a report wrote (only these are ever replaced or removed)
MANIFEST = ".ganeval-report-files.json"
MANIFEST_FORMAT = "ganeval-report-files"
_PARTIAL = ".ganeval-partial-"
#: the files every report writes at its top level
_FIXED = (REPORT_JSON, "report.html", "report.md", "report.tex")


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


def _inside(rel: str) -> bool:
    """A relative POSIX path that stays inside its folder (no absolute path, no ``..``)."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and all(p not in ("", ".", "..") for p in parts)


def read_manifest(folder: str | os.PathLike) -> set[str] | None:
    """The files the report in ``folder`` wrote (relative POSIX paths), or None when
    ``folder`` holds no valid manifest (then nothing in it is a report's)."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), list):
        return None
    files = data["files"]
    if not all(isinstance(f, str) and _inside(f) for f in files):
        return None
    return set(files)


def is_report_dir(path: Path) -> bool:
    """True when ``path`` holds a report written by ganeval (its manifest lists report.json)."""
    files = read_manifest(path)
    return files is not None and REPORT_JSON in files


def report_files(folder: Path) -> list[str]:
    """Every regular file under ``folder`` (relative POSIX paths, sorted; symlinks not followed)."""
    out = []
    for dirpath, _dirnames, filenames in os.walk(folder):
        for n in filenames:
            p = Path(dirpath) / n
            if p.is_file() and not p.is_symlink():
                out.append(p.relative_to(folder).as_posix())
    return sorted(out)


def _write_manifest(folder: Path, files: set[str] | list[str]) -> None:
    write_json(folder / MANIFEST, {"format": MANIFEST_FORMAT, "files": sorted(set(files) - {MANIFEST})})


def _listing(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class ReportFolder:
    """The output folder of one report (see the module docstring for the rules).

    Parameters
    ----------
    out : the folder to write (``--out``)
    overwrite : write beside files that are not a previous report's (never replacing them)
    protected : ``[(what, path)]``: the spec's folder and the inputs. ``out`` may not equal
        or contain any of them, nor lie inside one that is a folder (the spec's folder
        excepted: a report inside the project that holds its spec is the usual layout).
    what : how the folder is named in messages (``--out``)
    """

    def __init__(
        self,
        out: str | os.PathLike,
        *,
        overwrite: bool = False,
        protected: Sequence[tuple[str, str | os.PathLike]] | None = None,
        what: str = "--out",
    ):
        text = os.fspath(out)
        if not str(text).strip():
            raise ParameterError(f"{what}: empty path; give the folder to write the report into")
        self.out = Path(text).expanduser()
        self.what = what
        self.target = Path(os.path.realpath(self.out))
        shown = str(self.out) if self.target == self.out.absolute() else f"{self.out} (-> {self.target})"
        self.shown = shown
        if self.target.exists() and not self.target.is_dir():
            raise ParameterError(f"{what} {shown}: is a file, not a folder")
        for kind, path in protected or []:
            self._check_apart(kind, Path(os.path.realpath(os.fspath(path))))
        self.existing = self.target.is_dir()
        self.old: set[str] = set()
        if self.existing:
            self._check_existing(overwrite)
            if not os.access(self.target, os.W_OK | os.X_OK):
                raise ParameterError(f"{what} {shown}: folder is not writable")
            self.tmp = self.target / f"{_PARTIAL}{os.getpid()}"
        else:
            parent = self.target.parent
            if not parent.is_dir():
                raise ParameterError(f"{what} {shown}: parent folder {parent} does not exist")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ParameterError(f"{what} {shown}: parent folder {parent} is not writable")
            self.tmp = parent / f".{self.target.name}.partial-{os.getpid()}"
        if self.tmp.exists():  # our own pid's leftover (a previous call in this process)
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()

    def _check_apart(self, kind: str, p: Path) -> None:
        t = self.target
        if t == p:
            raise ParameterError(f"{self.what} {self.shown}: is {kind}; write the report into a new folder")
        if t in p.parents:
            raise ParameterError(
                f"{self.what} {self.shown}: contains {kind} ({p}); write the report into a folder that holds no input"
            )
        if p in t.parents and p.is_dir() and not kind.startswith("the spec's folder"):
            raise ParameterError(
                f"{self.what} {self.shown}: lies inside {kind} ({p}); the report's own files "
                "would be read as input on the next run; write it elsewhere"
            )

    def _check_existing(self, overwrite: bool) -> None:
        try:
            names = sorted(n for n in os.listdir(self.target) if not n.startswith(_PARTIAL))
        except OSError as exc:
            raise ParameterError(f"{self.what} {self.shown}: cannot be read ({exc.strerror})") from None
        manifest = read_manifest(self.target)
        self.old = manifest or set()
        foreign_top = [n for n in names if n != MANIFEST and not any(f == n or f.startswith(n + "/") for f in self.old)]
        if manifest is None and foreign_top and not overwrite:
            raise ParameterError(
                f"{self.what} {self.shown}: folder holds files that no ganeval report wrote "
                f"({_listing(foreign_top)}); choose another folder, or pass --overwrite to write "
                "the report beside them (they are never replaced)"
            )
        clash = [n for n in _FIXED if n in foreign_top]
        clash += [
            n
            for n in ("figures", "runs")
            if (self.target / n).exists() and not (self.target / n).is_dir() and n in foreign_top
        ]
        if clash:
            raise ParameterError(
                f"{self.what} {self.shown}: holds {_listing(clash)}, which no ganeval report "
                "wrote; the report would replace it: move it or choose another folder"
            )

    def path(self, *parts: str) -> Path:
        """A path inside the (temporary) report folder."""
        return self.tmp.joinpath(*parts)

    def commit(self) -> Path:
        """Move the finished report into place; only files of the previous report are replaced."""
        new = report_files(self.tmp)
        if not self.existing:
            _write_manifest(self.tmp, new)
            os.replace(self.tmp, self.target)
            return self.out
        t = self.target
        for rel in new:  # nothing that is not ours is replaced: checked again now the names are known
            dest = t / rel
            for anc in list(reversed(Path(rel).parents))[1:]:
                a = t / anc
                if (a.exists() or a.is_symlink()) and (a.is_symlink() or not a.is_dir()):
                    raise ParameterError(
                        f"{self.what} {self.shown}: holds {anc.as_posix()}, which is not a folder "
                        "the report wrote; move it or choose another folder"
                    )
            if (dest.exists() or dest.is_symlink()) and (
                rel not in self.old or dest.is_symlink() or not dest.is_file()
            ):
                raise ParameterError(
                    f"{self.what} {self.shown}: holds {rel}, which no ganeval report wrote; "
                    "the report would replace it: move it or choose another folder"
                )
        _write_manifest(t, self.old | set(new))  # every file of ours is listed at every moment
        for rel in new:
            dest = t / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp / rel, dest)
        for rel in sorted(self.old - set(new)):  # the previous report's files this one does not write
            p = t / rel
            if p.is_file() and not p.is_symlink():
                p.unlink()
            for anc in Path(rel).parents:
                if anc == Path("."):
                    break
                try:
                    (t / anc).rmdir()  # only when empty
                except OSError:
                    break
        _write_manifest(t, new)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        """Remove the temporary folder (after an error or Ctrl-C)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def file_slug(text: str) -> str:
    """``text`` made safe as part of a file name (``candidate`` when nothing is left)."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "candidate"


def unique_slugs(names: list[str]) -> dict[str, str]:
    """File-name-safe, distinct slugs of the candidate names.

    Examples
    --------
    >>> unique_slugs(["a b", "a_b", "c"])
    {'a b': 'a_b', 'a_b': 'a_b-2', 'c': 'c'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        base = file_slug(n)
        s, k = base, 1
        while s.lower() in used:
            k += 1
            s = f"{base}-{k}"
        used.add(s.lower())
        out[n] = s
    return out
