"""``ganeval report --verify DIR``: recompute a report from its recorded spec and inputs.

``--verify`` proves the report or fails:

1. report.json is checked against its schema (:mod:`ganeval.report.schema`); a malformed
   one, or one naming a path outside the report folder, is an :class:`InputError`;
2. code a report names (a generator candidate ``"pkg.mod:factory"``) is not imported unless
   the caller allows it (``allow_code=True``, ``--allow-code``); the error says what would run;
3. every recorded input fingerprint is checked; an input that changed is reported as such
   and nothing that depends on it is recomputed;
4. the spec runs again (training runs into a temporary folder) and the *whole* recomputed
   report is compared with the recorded one, key by key: every number (results, sizes ``n``,
   summaries, best markers, skipped metrics, training curves, fingerprints), exactly when the
   machine, library versions and thread count are the ones recorded, else within
   :data:`ganeval.report.engine.TOLERANCE` ``other_machine`` (relative 1e-6). A missing or
   extra candidate, seed, metric or key is a difference. Only what cannot reproduce is
   left out: wall times, the machine's provenance, paths of the spec's folder;
5. the written tables (report.md, report.tex, the leaderboard of report.html) must be the
   ones report.json gives;
6. comparing nothing is a failure.

The suites verify the same way: the sanity suite's table, sizes, correlations and verdicts;
the reference suite's index lists only its own data sets, each of which is the suite's own
report (its spec is the suite's) and verifies in turn.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError
from .engine import TOLERANCE, run_spec
from .files import FORMAT, FORMAT_VERSION, REPORT_JSON
from .provenance import environment, file_sha256, input_fingerprint, machine_key
from .schema import check_report
from .spec import parse_spec

__all__ = ["verify_report", "VerifyResult", "read_report"]


@dataclass
class VerifyResult:
    """``ok`` when every number reproduced; ``lines``: one per difference or changed input."""

    ok: bool
    lines: list[str] = field(default_factory=list)
    compared: int = 0
    exact: bool = True
    rtol: float = 0.0
    atol: float = 0.0


def _version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in str(v).split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def read_report(folder: str | os.PathLike) -> dict[str, Any]:
    """The report.json of ``folder``; :class:`InputError` when missing, unreadable or newer."""
    from ..version import __version__

    path = Path(folder) / REPORT_JSON
    if not Path(folder).is_dir():
        raise InputError(f"{folder}: no such folder")
    if not path.is_file():
        raise InputError(f"{folder}: has no {REPORT_JSON}; not a ganeval report folder")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise InputError(
            f"{path}: not a ganeval report (format {report.get('format') if isinstance(report, dict) else None!r})"
        )
    fv = report.get("format_version", 0)
    if isinstance(fv, bool) or not isinstance(fv, int):
        raise InputError(f"malformed report: {path}: format_version must be an integer, got {fv!r}")
    if fv > FORMAT_VERSION or _version_tuple(report.get("ganeval_version", "0")) > _version_tuple(__version__):
        raise InputError(
            f"{path}: written by a newer ganeval ({report.get('ganeval_version')}, report format "
            f"{report.get('format_version')}); this is ganeval {__version__} (format {FORMAT_VERSION}); "
            "upgrade ganeval to verify it"
        )
    return check_report(report, str(path))


def _current_fingerprint(fp: dict[str, Any], spec: Any) -> str | None:
    """sha256 of the input as it is now (None: cannot be computed without running it)."""
    kind = fp.get("kind")
    name = fp.get("input", "")
    if kind in ("file", "folder") and os.path.lexists(name) and not (Path(name).is_file() or Path(name).is_dir()):
        return "not a regular file"  # a FIFO or device is never opened
    if kind == "file":
        return file_sha256(name) if Path(name).is_file() else "missing"
    if kind == "folder":
        from .provenance import folder_sha256

        return folder_sha256(name) if Path(name).is_dir() else "missing"
    if kind == "data" and "disturb" not in fp:
        from ..sources import open_source

        return input_fingerprint(name, open_source(name)).get("sha256")
    return None  # disturbed data, training runs, generators: compared after recomputing


def _tolerance(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"--{name} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ParameterError(f"--{name} must be a finite number >= 0, got {value!r}")
    return v


def code_in_report(report: dict[str, Any]) -> list[str]:
    """What verifying ``report`` would import and call (generator factories), one line each."""
    from ..sources.generator import is_generator_spec
    from .spec import parse_spec

    try:
        spec = parse_spec(report.get("spec_text") or "", name="report.json spec")
    except InputError:
        return []
    out = []
    for c in spec.candidates:
        if (
            c.kind == "generator"
            and isinstance(c.value, str)
            and (is_generator_spec(c.value) or not c.value.endswith(".pt"))
        ):
            module, _, attr = c.value.partition(":")
            out.append(f"candidate {c.name!r} imports module {module!r} and calls {attr or '?'}()")
    return out


def verify_report(
    folder: str | os.PathLike,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    progress: Callable[[int], Callable[[str], None]] | None = None,
    allow_code: bool = False,
) -> VerifyResult:
    """Recompute the report in ``folder``; return what differs (see the module docstring).

    Parameters
    ----------
    folder : a report folder (holds report.json)
    rtol, atol : float, optional
        Override the tolerance (default: exact on the recorded machine and thread count,
        else ``TOLERANCE["other_machine"]``); finite and >= 0.
    progress : callable, optional
        ``progress(total_steps)`` returns ``on_step(description)``.
    allow_code : bool, default=False
        Import and call the generator factories the report names. Without it a report that
        names one is refused (:class:`InputError` saying what would run).

    Returns
    -------
    VerifyResult
        ``ok`` only when every recorded value was recomputed and agreed, and at least one was.
    """
    rtol = _tolerance(rtol, "rtol")
    atol = _tolerance(atol, "atol")
    report = read_report(folder)
    if report.get("suite") == "reference":
        return _verify_reference_suite(Path(folder), report, rtol, atol, progress, allow_code)
    if report.get("suite") == "sanity":
        return _verify_sanity(Path(folder), report, rtol, atol, progress)
    return _verify_spec_report(Path(folder), report, rtol, atol, progress, allow_code)


def _verify_spec_report(
    folder: Path, report: dict[str, Any], rtol: float | None, atol: float | None, progress: Any, allow_code: bool
) -> VerifyResult:
    text = report["spec_text"]
    spec, report = _spec_of_report(folder, report, text, allow_code)
    recorded_env = report.get("provenance", {})
    same = machine_key(environment(spec.threads, spec.device)) == machine_key(recorded_env)
    tol = TOLERANCE["same_machine" if same else "other_machine"]
    rt = tol["rtol"] if rtol is None else rtol
    at = tol["atol"] if atol is None else atol
    result = VerifyResult(ok=True, exact=(rt == 0 and at == 0), rtol=rt, atol=at)
    lines = result.lines

    # 1. inputs whose fingerprint changed are reported, and not recomputed
    real_fp = report["real"]["fingerprint"]
    now = _current_fingerprint(real_fp, spec)
    if now is not None and now != real_fp.get("sha256"):
        lines.append(
            f"real input {real_fp.get('input')}: fingerprint changed (recorded sha256 "
            f"{str(real_fp.get('sha256'))[:16]}..., now {now[:16]}...); nothing recomputed"
        )
        result.ok = False
        return result
    keep = _unchanged_candidates(spec, report, lines)

    # 2. recompute the rest and compare the whole report, key by key
    if keep:
        _recompute_and_compare(folder, report, spec, keep, text, progress, result)
    if result.compared == 0:
        lines.append("nothing was compared: the report records no number that its spec recomputes")
    result.ok = not lines
    return result


def _spec_of_report(folder: Path, report: dict[str, Any], text: str, allow_code: bool) -> tuple[Any, dict[str, Any]]:
    """The spec the report was made from (its paths resolved where the spec's folder is now,
    the report relocated to match), refused when it names code and ``allow_code`` is off."""
    code = code_in_report(report)
    if code and not allow_code:
        raise InputError(
            f"{folder}: verifying this report runs code it names: {'; '.join(code)}; pass "
            "--allow-code to run it (only for reports you trust)"
        )
    base, moved = _spec_base(report, folder)
    if moved:
        report = _relocated(report, str(report.get("spec_dir")), base)
    spec = parse_spec(text, base=base, name=f"{folder}/{REPORT_JSON} spec")
    if "title" not in spec.raw:  # the default title is the spec file's name, which the text does not hold
        spec.title = report["title"]
    return spec, report


def _unchanged_candidates(spec: Any, report: dict[str, Any], lines: list[str]) -> list[Any]:
    """The spec's candidates whose recorded inputs are unchanged; each changed one is
    reported in ``lines`` and left out."""
    recorded = {c["name"]: c for c in report["candidates"]}
    keep = []
    for c_spec in spec.candidates:
        c_rec = recorded.get(c_spec.name)
        changed = False
        for run in (c_rec or {}).get("runs", []):
            fp = run.get("fingerprint", {})
            cur = _current_fingerprint(fp, spec)
            if cur is not None and cur != fp.get("sha256"):
                lines.append(
                    f"candidate {c_spec.name!r}: input {fp.get('input')} fingerprint changed (recorded "
                    f"sha256 {str(fp.get('sha256'))[:16]}..., now {str(cur)[:16]}...); not recomputed"
                )
                changed = True
                break
        if not changed:
            keep.append(c_spec)
    return keep


def _recompute_and_compare(
    folder: Path,
    report: dict[str, Any],
    spec: Any,
    keep: list[Any],
    text: str,
    progress: Any,
    result: VerifyResult,
) -> None:
    """Run the spec on the ``keep`` candidates and compare the new report with the recorded
    one, key by key (the keys derived over all candidates only when none was left out; the
    written files only when nothing differed)."""
    from .engine import plan_size

    sub = copy.copy(spec)
    sub.candidates = keep
    on_step = progress(plan_size(sub)) if progress is not None else None
    with tempfile.TemporaryDirectory(prefix="ganeval-verify-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the skipped metrics were reported when the report was made
        new = run_spec(sub, runs_dir=Path(tmp) / "runs", on_step=on_step, spec_text=text)
    from .writers import figure_names

    figures = figure_names(new)
    new = {k: v for k, v in new.items() if not k.startswith("_")}
    new["figures"] = figures
    complete = len(keep) == len(spec.candidates)
    if not complete:  # derived over all candidates: cannot be compared without them
        kept = {c.name for c in keep}
        report = dict(report, candidates=[c for c in report["candidates"] if c["name"] in kept])
        for key in ("columns", "figures", "skipped"):
            report.pop(key, None)
            new.pop(key, None)
    _compare_report(report, new, result.rtol, result.atol, result)
    if complete and not result.lines:
        _compare_written(folder, report, result)


#: keys that cannot reproduce (wall times, the machine, where the spec's folder is)
_UNCOMPARED = {
    "provenance",
    "spec_dir",
    "spec_dir_from_report",
    "ganeval_version",
    "source_fingerprint",
    "elapsed_s",
    "train_s",
    "wall_s",
    "total_wall_s",
}


def _compare_report(rec: dict[str, Any], new: dict[str, Any], rtol: float, atol: float, result: VerifyResult) -> None:
    """Every key of the recorded report against the recomputed one (candidates by name,
    runs by seed, columns by id)."""
    top_rec = {k: v for k, v in rec.items() if k not in ("candidates", "columns")}
    top_new = {k: v for k, v in new.items() if k not in ("candidates", "columns")}
    _diff(top_rec, top_new, "report", rtol, atol, result)
    _keyed(rec.get("candidates", []), new.get("candidates", []), "name", "candidate", rtol, atol, result)
    if "columns" in rec or "columns" in new:
        _keyed(rec.get("columns", []), new.get("columns", []), "id", "column", rtol, atol, result)


def _keyed(rec: list[Any], new: list[Any], key: str, what: str, rtol: float, atol: float, result: VerifyResult) -> None:
    rec_by = {r.get(key): r for r in rec}
    new_by = {n.get(key): n for n in new}
    if len(rec_by) != len(rec):
        result.lines.append(f"{what}s repeat in the report: {[r.get(key) for r in rec]}")
    for k in rec_by:
        if k not in new_by:
            result.lines.append(f"{what} {k!r}: in the report, but its spec gives no such {what}")
    for k in new_by:
        if k not in rec_by:
            result.lines.append(f"{what} {k!r}: missing from the report")
    if [r.get(key) for r in rec if r.get(key) in new_by] != [n.get(key) for n in new if n.get(key) in rec_by]:
        result.lines.append(f"{what}s are not in the order the spec gives")
    for k, r in rec_by.items():
        if k in new_by:
            n = new_by[k]
            if what == "candidate":
                runs_r, runs_n = r.get("runs", []), n.get("runs", [])
                _diff(
                    {a: b for a, b in r.items() if a != "runs"},
                    {a: b for a, b in n.items() if a != "runs"},
                    f"candidate {k!r}:",
                    rtol,
                    atol,
                    result,
                )
                _keyed_runs(runs_r, runs_n, f"candidate {k!r}", rtol, atol, result)
            else:
                _diff(r, n, f"{what} {k!r}:", rtol, atol, result)


def _keyed_runs(rec: list[Any], new: list[Any], where: str, rtol: float, atol: float, result: VerifyResult) -> None:
    rec_by = {r.get("seed"): r for r in rec}
    new_by = {n.get("seed"): n for n in new}
    for s in rec_by:
        if s not in new_by:
            result.lines.append(f"{where} seed {s}: in the report, but its spec gives no such seed")
    for s in new_by:
        if s not in rec_by:
            result.lines.append(f"{where} seed {s}: missing from the report")
    for s, r in rec_by.items():
        if s in new_by:
            n = new_by[s]
            fp_old, fp_new = r.get("fingerprint", {}), n.get("fingerprint", {})
            for key in ("sha256", "samples_sha256"):
                if isinstance(fp_old, dict) and fp_old.get(key) is not None and fp_old.get(key) != fp_new.get(key):
                    what = "generated samples" if key == "samples_sha256" or fp_old.get("kind") == "train" else "input"
                    result.lines.append(
                        f"{where} seed {s}: {what} differ from the recorded ones (sha256 "
                        f"{str(fp_old.get(key))[:16]}... recorded, {str(fp_new.get(key))[:16]}... now)"
                    )
            _diff(r, n, f"{where} seed {s}:", rtol, atol, result)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _diff(rec: Any, new: Any, where: str, rtol: float, atol: float, result: VerifyResult) -> None:
    """Append a line per difference between ``rec`` and ``new`` (recursively)."""
    if isinstance(rec, dict) and isinstance(new, dict):
        where = where.rstrip(":") + ":" if where.endswith(":") else where
        for k in rec:
            if k in _UNCOMPARED:
                continue
            if k not in new:
                result.lines.append(f"{where}: {k} is in the report but not recomputed (recorded {_short(rec[k])})")
            else:
                if where.endswith(":"):
                    sub = where if k == "results" else f"{where} {k}"
                else:
                    sub = f"{where}.{k}"
                _diff(rec[k], new[k], sub, rtol, atol, result)
        for k in new:
            if k not in rec and k not in _UNCOMPARED:
                result.lines.append(f"{where}: {k} is missing from the report (recomputed {_short(new[k])})")
        return
    if isinstance(rec, list) and isinstance(new, list):
        if len(rec) != len(new):
            result.lines.append(
                f"{where}: recorded {len(rec)} entries {_short(rec)}, recomputed {len(new)} {_short(new)}"
            )
            return
        for i, (a, b) in enumerate(zip(rec, new)):
            _diff(a, b, f"{where}[{i}]", rtol, atol, result)
        return
    if _is_num(rec) and _is_num(new):
        result.compared += 1
        if not _close(rec, new, rtol, atol):
            result.lines.append(f"{where} recorded {rec!r}, recomputed {new!r}")
        return
    if _is_num(rec) or _is_num(new):
        result.compared += 1
    if type(rec) is not type(new) or rec != new:
        result.lines.append(f"{where} recorded {_short(rec)}, recomputed {_short(new)}")


def _short(v: Any) -> str:
    text = json.dumps(v, default=str) if not isinstance(v, str) else repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


_LEADERBOARD = re.compile(r'<table id="leaderboard">.*?</table>', re.DOTALL)


def _check_file(folder: Path, name: str, expected: str | None, result: VerifyResult, html: bool = False) -> None:
    """``folder/name`` must hold ``expected`` (for html: the same leaderboard table)."""
    got = _read_text(folder / name)
    if got is None:
        result.lines.append(f"{name}: missing or unreadable")
        return
    if expected is None:
        result.lines.append(f"{name}: its table cannot be rendered from report.json")
        return
    if html:
        got_m, exp_m = _LEADERBOARD.search(got), _LEADERBOARD.search(expected)
        got, expected = (got_m.group(0) if got_m else ""), (exp_m.group(0) if exp_m else None)
    if got != expected:
        result.lines.append(
            f"{name}: its table is not the one report.json gives (edited, or written by another ganeval)"
        )


def _render(fn: Callable[[], str]) -> str | None:
    try:
        return fn()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


def _compare_written(folder: Path, report: dict[str, Any], result: VerifyResult) -> None:
    from .writers import render_html, render_latex, render_markdown

    clean = dict(report.items())
    _check_file(folder, "report.md", _render(lambda: render_markdown(clean)), result)
    _check_file(folder, "report.tex", _render(lambda: render_latex(clean)), result)
    _check_file(folder, "report.html", _render(lambda: render_html(clean, [])), result, html=True)
    for fig in report.get("figures", []):
        if not (folder / fig).is_file():
            result.lines.append(f"{fig}: named in report.json but missing")


def _spec_base(report: dict[str, Any], folder: Path) -> tuple[str, bool]:
    """The folder the spec's relative paths start from: the one recorded relative to the
    report folder when it exists (the same folder while nothing moved; the new place of a
    report moved or copied together with its inputs, e.g. in a repository cloned elsewhere),
    else the recorded absolute one. ``(base, moved)``."""
    recorded = str(report.get("spec_dir", "."))
    relative = report.get("spec_dir_from_report")
    if relative:
        candidate = (folder / relative).resolve()
        if candidate.is_dir():
            return str(candidate), candidate != Path(recorded).resolve()
    return recorded, False


def _relocated(report: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``report`` with every recorded input path under ``old`` moved to ``new``."""

    def move(value: Any) -> Any:
        if isinstance(value, str) and (value == old or value.startswith(old.rstrip(os.sep) + os.sep)):
            return new + value[len(old.rstrip(os.sep)) :]
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    out = dict(report)
    out["real"] = move(report.get("real", {}))
    out["candidates"] = move(report.get("candidates", []))
    return out


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= atol + rtol * abs(b) if (rtol or atol) else a == b


def _verify_reference_suite(
    folder: Path, report: dict[str, Any], rtol: float | None, atol: float | None, progress: Any, allow_code: bool
) -> VerifyResult:
    from .suites import SUITE_DATA, reference_suite_specs, suite_index, suite_markdown

    names = report["reports"]
    _check_suite_index(folder, report, names, SUITE_DATA)
    out = VerifyResult(ok=True)
    subs = {}
    root = folder.resolve()
    for d in names:
        sub = folder / d
        if sub.is_symlink() or root not in sub.resolve().parents:
            raise InputError(f"{folder}/{REPORT_JSON}: report {d!r} is not a folder inside the suite")
        try:
            sub_report = read_report(sub)
        except InputError as exc:
            out.lines.append(f"{d}: {exc}")
            continue
        subs[d] = sub_report
        steps = report["steps"][d]

        def suite_text(d: str = d, steps: Any = steps) -> str:
            return reference_suite_specs(steps=steps, seeds=report["seeds"], data=[d])[d]

        want = _render(suite_text)
        if sub_report.get("suite") is not None or sub_report.get("spec_text") != want:
            out.lines.append(
                f"{d}: not the reference suite's report (its spec is not the suite's for {d}, "
                f"{steps} steps, seeds {report['seeds']})"
            )
            continue
        r = verify_report(sub, rtol=rtol, atol=atol, progress=progress, allow_code=allow_code)
        out.lines += [f"{d}: {line}" for line in r.lines]
        out.compared += r.compared
        out.exact, out.rtol, out.atol = r.exact, r.rtol, r.atol
    expected = suite_index(names, report["steps"], report["seeds"], report.get("wall_s"))
    index = {k: v for k, v in expected.items() if k != "ganeval_version"}
    _diff({k: v for k, v in report.items() if k != "ganeval_version"}, index, "index", 0.0, 0.0, out)
    if len(subs) == len(names) and not out.lines:
        _check_file(folder, "report.md", _render(lambda: suite_markdown(subs)), out)
    if out.compared == 0:
        out.lines.append("nothing was compared: the suite lists no report that holds a number")
    out.ok = not out.lines
    return out


def _check_suite_index(folder: Path, report: dict[str, Any], names: Any, suite_data: Any) -> None:
    """A reference suite's index lists distinct data sets of the suite, with steps for each."""
    bad = [d for d in names if d not in suite_data]
    if bad or len(set(names)) != len(names):
        raise InputError(
            f"malformed report: {folder}/{REPORT_JSON}: reports must be distinct data sets of the "
            f"reference suite ({', '.join(suite_data)}), got {names!r}"
        )
    if sorted(report["steps"]) != sorted(names):
        raise InputError(
            f"malformed report: {folder}/{REPORT_JSON}: steps must name exactly the reports {names!r}, "
            f"got {sorted(report['steps'])!r}"
        )


def _verify_sanity(
    folder: Path, report: dict[str, Any], rtol: float | None, atol: float | None, progress: Any
) -> VerifyResult:
    from .disturb import DISTURBANCE_NAMES
    from .sanity import (
        compute_sanity,
        sanity_html_table,
        sanity_latex,
        sanity_markdown,
        sanity_report,
    )

    dists = tuple(report["disturbances"])
    bad = [d for d in dists if d not in DISTURBANCE_NAMES]
    if bad or len(set(dists)) != len(dists):
        raise InputError(
            f"malformed report: {folder}/{REPORT_JSON}: disturbances must be distinct names among "
            f"{', '.join(DISTURBANCE_NAMES)}, got {list(dists)!r}"
        )
    same = machine_key(environment(1, "cpu")) == machine_key(report.get("provenance", {}))
    tol = TOLERANCE["same_machine" if same else "other_machine"]
    rt = tol["rtol"] if rtol is None else rtol
    at = tol["atol"] if atol is None else atol
    on_step = progress(1 + 5 * len(dists)) if progress is not None else None
    new = sanity_report(compute_sanity(seed=report["seed"], disturbances=dists, on_step=on_step), dists)
    out = VerifyResult(ok=True, exact=(rt == 0 and at == 0), rtol=rt, atol=at)
    _diff(report, new, "sanity", rt, at, out)
    if not out.lines:
        _check_file(
            folder, "report.md", _render(lambda: "# ganeval metric sanity suite\n\n" + sanity_markdown(report)), out
        )
        _check_file(folder, "report.tex", _render(lambda: sanity_latex(report)), out)
        _check_file(folder, "report.html", _render(lambda: sanity_html_table(report)), out, html=True)
        for fig in report["figures"]:
            if not (folder / fig).is_file():
                out.lines.append(f"{fig}: named in report.json but missing")
    if out.compared == 0:
        out.lines.append("nothing was compared: the report records no number")
    out.ok = not out.lines
    return out
