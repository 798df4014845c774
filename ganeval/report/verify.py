"""``ganeval report --verify DIR``: recompute a report from its recorded spec and inputs.

First every recorded input fingerprint is checked; an input that changed is reported as
such and nothing that depends on it is recomputed. Then the spec runs again (training runs
into a temporary folder) and every number is compared with the recorded one: exactly when
the machine, library versions and thread count are the ones recorded, else within
:data:`ganeval.report.engine.TOLERANCE` ``other_machine`` (relative 1e-6).
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError
from .engine import TOLERANCE, run_spec
from .files import FORMAT, FORMAT_VERSION, REPORT_JSON
from .provenance import environment, file_sha256, input_fingerprint, machine_key
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
    from .. import __version__

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
        raise InputError(f"{path}: not a ganeval report (format {report.get('format') if isinstance(report, dict) else None!r})")
    if int(report.get("format_version", 0)) > FORMAT_VERSION or \
            _version_tuple(report.get("ganeval_version", "0")) > _version_tuple(__version__):
        raise InputError(f"{path}: written by a newer ganeval ({report.get('ganeval_version')}, report format "
                         f"{report.get('format_version')}); this is ganeval {__version__} (format {FORMAT_VERSION}); "
                         "upgrade ganeval to verify it")
    return report


def _current_fingerprint(fp: dict[str, Any], spec: Any) -> str | None:
    """sha256 of the input as it is now (None: cannot be computed without running it)."""
    kind = fp.get("kind")
    name = fp.get("input", "")
    if kind == "file":
        return file_sha256(name) if Path(name).is_file() else "missing"
    if kind == "folder":
        from .provenance import folder_sha256

        return folder_sha256(name) if Path(name).is_dir() else "missing"
    if kind == "data" and "disturb" not in fp:
        from ..sources import open_source

        return input_fingerprint(name, open_source(name)).get("sha256")
    return None  # disturbed data, training runs, generators: compared after recomputing


def verify_report(folder: str | os.PathLike, *, rtol: float | None = None, atol: float | None = None,
                  progress: Callable[[int], Callable[[str], None]] | None = None) -> VerifyResult:
    """Recompute the report in ``folder``; return what differs.

    Parameters
    ----------
    folder : a report folder (holds report.json)
    rtol, atol : float, optional
        Override the tolerance (default: exact on the recorded machine and thread count,
        else ``TOLERANCE["other_machine"]``).
    progress : callable, optional
        ``progress(total_steps)`` returns ``on_step(description)``.
    """
    from .engine import plan_size

    report = read_report(folder)
    if report.get("suite") == "reference":
        return _verify_reference_suite(Path(folder), report, rtol, atol, progress)
    if report.get("suite") == "sanity":
        return _verify_sanity(report, rtol, atol, progress)
    text = report.get("spec_text")
    if not text:
        raise InputError(f"{folder}: report.json records no spec text; it cannot be recomputed")
    base, moved = _spec_base(report, Path(folder))
    if moved:
        report = _relocated(report, str(report.get("spec_dir")), base)
    spec = parse_spec(text, base=base, name=f"{folder}/{REPORT_JSON} spec")
    recorded_env = report.get("provenance", {})
    same = machine_key(environment(spec.threads, spec.device)) == machine_key(recorded_env)
    tol = TOLERANCE["same_machine" if same else "other_machine"]
    rt = tol["rtol"] if rtol is None else float(rtol)
    at = tol["atol"] if atol is None else float(atol)
    result = VerifyResult(ok=True, exact=(rt == 0 and at == 0), rtol=rt, atol=at)
    lines = result.lines

    # 1. inputs whose fingerprint changed are reported, and not recomputed
    real_fp = report["real"]["fingerprint"]
    now = _current_fingerprint(real_fp, spec)
    if now is not None and now != real_fp.get("sha256"):
        lines.append(f"real input {real_fp.get('input')}: fingerprint changed (recorded sha256 "
                     f"{str(real_fp.get('sha256'))[:16]}..., now {now[:16]}...); nothing recomputed")
        result.ok = False
        return result
    keep = []
    for c_rec, c_spec in zip(report["candidates"], spec.candidates):
        changed = False
        for run in c_rec["runs"]:
            fp = run.get("fingerprint", {})
            cur = _current_fingerprint(fp, spec)
            if cur is not None and cur != fp.get("sha256"):
                lines.append(f"candidate {c_rec['name']!r}: input {fp.get('input')} fingerprint changed (recorded "
                             f"sha256 {str(fp.get('sha256'))[:16]}..., now {cur[:16]}...); not recomputed")
                changed = True
                break
        if not changed:
            keep.append(c_spec)

    # 2. recompute the rest and compare every number
    if keep:
        sub = copy.copy(spec)
        sub.candidates = keep
        on_step = progress(plan_size(sub)) if progress is not None else None
        with tempfile.TemporaryDirectory(prefix="ganeval-verify-") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the skipped metrics were reported when the report was made
            new = run_spec(sub, runs_dir=Path(tmp) / "runs", on_step=on_step, spec_text=text)
        new_by_name = {c["name"]: c for c in new["candidates"]}
        for c_rec in report["candidates"]:
            c_new = new_by_name.get(c_rec["name"])
            if c_new is None:
                continue
            _compare_candidate(c_rec, c_new, rt, at, result)
    result.ok = not lines
    return result


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
            return new + value[len(old.rstrip(os.sep)):]
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


def _compare_candidate(rec: dict[str, Any], new: dict[str, Any], rtol: float, atol: float,
                       result: VerifyResult) -> None:
    name = rec["name"]
    new_runs = {r["seed"]: r for r in new["runs"]}
    for run in rec["runs"]:
        other = new_runs.get(run["seed"])
        where = f"candidate {name!r} seed {run['seed']}"
        if other is None:
            result.lines.append(f"{where}: not recomputed (seed missing)")
            continue
        fp_old, fp_new = run.get("fingerprint", {}), other.get("fingerprint", {})
        for key in ("sha256", "samples_sha256"):
            if fp_old.get(key) is not None and fp_old.get(key) != fp_new.get(key):
                what = "generated samples" if key == "samples_sha256" or fp_old.get("kind") == "train" else "input"
                result.lines.append(f"{where}: {what} differ from the recorded ones (sha256 "
                                    f"{str(fp_old.get(key))[:16]}... recorded, {str(fp_new.get(key))[:16]}... now)")
        for metric, values in run["results"].items():
            new_vals = other["results"].get(metric)
            if new_vals is None:
                result.lines.append(f"{where}: {metric} was not recomputed")
                continue
            for key, v in values.items():
                if isinstance(v, (dict, list)) or isinstance(v, bool) or key in ("metric",):
                    continue
                if not isinstance(v, (int, float, str)) or (isinstance(v, str) and key != "value"):
                    continue
                result.compared += 1
                if not _close(v, new_vals.get(key), rtol, atol):
                    result.lines.append(f"{where}: {metric}.{key} recorded {v!r}, recomputed {new_vals.get(key)!r}")
    for col_id, s in rec.get("summary", {}).items():
        s_new = new["summary"].get(col_id, {})
        for key in ("mean", "std"):
            if key in s:
                result.compared += 1
                if not _close(s.get(key), s_new.get(key), rtol, atol):
                    result.lines.append(f"candidate {name!r}: summary {col_id} {key} recorded {s.get(key)!r}, "
                                        f"recomputed {s_new.get(key)!r}")


def _verify_reference_suite(folder: Path, report: dict[str, Any], rtol: float | None, atol: float | None,
                            progress: Any) -> VerifyResult:
    out = VerifyResult(ok=True)
    for sub in report.get("reports", []):
        r = verify_report(folder / sub, rtol=rtol, atol=atol, progress=progress)
        out.lines += [f"{sub}: {line}" for line in r.lines]
        out.compared += r.compared
        out.exact, out.rtol, out.atol = r.exact, r.rtol, r.atol
    out.ok = not out.lines
    return out


def _verify_sanity(report: dict[str, Any], rtol: float | None, atol: float | None, progress: Any) -> VerifyResult:
    from .sanity import compute_sanity

    same = machine_key(environment(1, "cpu")) == machine_key(report.get("provenance", {}))
    tol = TOLERANCE["same_machine" if same else "other_machine"]
    rt = tol["rtol"] if rtol is None else float(rtol)
    at = tol["atol"] if atol is None else float(atol)
    dists = tuple(report.get("disturbances", []))
    on_step = progress(1 + 5 * len(dists)) if progress is not None else None
    new = compute_sanity(seed=int(report.get("seed", 0)), disturbances=dists, on_step=on_step)
    out = VerifyResult(ok=True, exact=(rt == 0 and at == 0), rtol=rt, atol=at)
    for d, metrics in report.get("table", {}).items():
        for m, vals in metrics.items():
            for level, v in enumerate(vals):
                out.compared += 1
                w = new["table"].get(d, {}).get(m, [])
                nv = w[level] if level < len(w) else None
                if not _close(v, nv, rt, at):
                    out.lines.append(f"sanity {d} level {level}: {m} recorded {v!r}, recomputed {nv!r}")
    out.ok = not out.lines
    return out
