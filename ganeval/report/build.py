"""Build a report folder from a spec: run the engine, write the files, rename into place."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .engine import plan_size, run_spec
from .files import ReportFolder
from .spec import ReportSpec, load_spec
from .writers import write_report

__all__ = ["build_report", "build_from_spec", "protected_paths"]


def build_report(
    spec_path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: Callable[[int], Callable[[str], None]] | None = None,
) -> dict[str, Any]:
    """Run the spec file ``spec_path`` and write the report into ``out``.

    Parameters
    ----------
    spec_path : path of a TOML spec (see :mod:`ganeval.report.spec`)
    out : folder to write (missing, empty, or a previous report; else ``overwrite``)
    progress : callable, optional
        ``progress(total_steps)`` returns ``on_step(description)``, called after each step.

    Returns
    -------
    dict
        The report (what ``report.json`` holds) with ``out`` and ``files``.
    """
    spec = load_spec(spec_path)
    text = Path(spec_path).read_text(encoding="utf-8")
    return build_from_spec(spec, out, overwrite=overwrite, progress=progress, spec_text=text)


def build_from_spec(
    spec: ReportSpec,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: Callable[[int], Callable[[str], None]] | None = None,
    spec_text: str | None = None,
    protect_base: bool = True,
) -> dict[str, Any]:
    """:func:`build_report` for an already parsed spec (``protect_base=False``: the spec has
    no folder of its own, as the built-in suites' specs).

    ``out`` is checked before any work (:class:`~ganeval.report.files.ReportFolder`): it may
    not be or contain the spec's folder, nor be, contain or lie inside any input.
    """
    folder = ReportFolder(out, overwrite=overwrite, protected=protected_paths(spec, with_base=protect_base))
    try:
        on_step = progress(plan_size(spec) + 1) if progress is not None else None
        report = run_spec(spec, runs_dir=folder.path("runs"), on_step=on_step, spec_text=spec_text)
        try:  # so that --verify still finds the inputs when the report and its inputs move together
            report["spec_dir_from_report"] = os.path.relpath(Path(spec.base).resolve(), folder.target)
        except ValueError:  # another drive (Windows): only the absolute path is kept
            pass
        files = write_report(report, folder.tmp)
        if on_step is not None:
            on_step("write report")
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    report = {k: v for k, v in report.items() if not k.startswith("_")}
    report["out"] = str(folder.out)
    report["files"] = files
    return report


def protected_paths(spec: ReportSpec, *, with_base: bool = True) -> list[tuple[str, str]]:
    """``[(what, path)]``: the spec's folder and every input of ``spec`` that is a path on
    this machine (``builtin:``/``ref:`` data and generator modules are not)."""
    out: list[tuple[str, str]] = []
    if with_base:
        out.append((f"the spec's folder ({spec.base})", str(spec.base)))

    def add(what: str, value: object) -> None:
        if not isinstance(value, str) or value.startswith(("builtin:", "ref:")):
            return
        path = spec.resolve(value)
        if os.path.lexists(path):
            out.append((f"{what} {value!r}", path))

    add("the real input", spec.real.get("input"))
    add("the real test input", spec.real.get("test"))
    for c in spec.candidates:
        if c.kind in ("input", "checkpoint"):
            add(f"the input of candidate {c.name!r}:", c.value)
    return out
