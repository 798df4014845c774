"""The shape of a report.json, checked before ``--verify`` reads anything from it.

A report that does not have this shape (a missing key, a number where a list belongs, a
path that leaves the report folder) is malformed: :func:`check_report` raises
:class:`~ganeval.errors.InputError` naming the first place that is wrong. Keys a report may
carry beyond these are allowed here; ``--verify`` then finds them as keys the recomputed
report does not have.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InputError

__all__ = ["check_report", "safe_relative_path", "MAX_SEED"]

#: the largest seed a report or spec may name (seeds are drawn into 32-bit generators)
MAX_SEED = 2**32 - 1


class _Opt:
    def __init__(self, inner: Any):
        self.inner = inner


class _Map:
    def __init__(self, inner: Any):
        self.inner = inner


class _List:
    def __init__(self, inner: Any, nonempty: bool = False):
        self.inner = inner
        self.nonempty = nonempty


class _OneOf:
    def __init__(self, *values: Any):
        self.values = values


NUM = "number"
SEED = "seed"
ANY = "any"
PATH = "path"

_FP = {"input": str, "kind": str, "sha256?": _Opt(str)}
_RUN = {
    "seed": SEED,
    "n": int,
    "fingerprint": _FP,
    "results": _Map(_Map(ANY)),
    "train?": {"dir": PATH, "config": dict, "curves": _List(dict), "samples_sha256": str},
}
_SUMMARY = {"mean": _Opt(NUM), "std": _Opt(NUM), "n": int, "values": _List(ANY), "interval_std?": _Opt(NUM)}
_CANDIDATE = {
    "name": str,
    "kind": _OneOf("input", "checkpoint", "generator", "train"),
    "seeds": _List(SEED, True),
    "runs": _List(_RUN),
    "summary": _Map(_SUMMARY),
}
_COLUMN = {
    "id": str,
    "metric": str,
    "key": str,
    "label": str,
    "better": _OneOf("higher", "lower", "0.5"),
    "best": _List(str),
}
SPEC_REPORT = {
    "format": str,
    "format_version": int,
    "ganeval_version": str,
    "title": str,
    "spec": dict,
    "spec_text": str,
    "spec_dir": str,
    "spec_dir_from_report?": str,
    "real": {"name": str, "input": str, "n": int, "fingerprint": _FP, "features": dict},
    "candidates": _List(_CANDIDATE),
    "columns": _List(_COLUMN),
    "skipped": _List({"candidate": str, "metric": str, "reason": str}),
    "provenance": dict,
    "figures": _List(PATH),
}
SANITY_REPORT = {
    "format": str,
    "format_version": int,
    "ganeval_version": str,
    "suite": _OneOf("sanity"),
    "seed": SEED,
    "disturbances": _List(str, True),
    "expected": _Map(_Map(str)),
    "table": _Map(_Map(_List(NUM))),
    "sizes": _Map(_List(int)),
    "levels": _List(int),
    "pass_rho": NUM,
    "provenance": dict,
    "figures": _List(PATH),
    "results": _List(
        {
            "disturbance": str,
            "metric": str,
            "expected": _Opt(str),
            "spearman": _Opt(NUM),
            "verdict": str,
            "values": _List(NUM),
        }
    ),
}
SUITE_REPORT = {
    "format": str,
    "format_version": int,
    "ganeval_version": str,
    "suite": _OneOf("reference"),
    "reports": _List(PATH, True),
    "steps": _Map(int),
    "seeds": _List(SEED, True),
}


def safe_relative_path(value: Any) -> bool:
    """A relative POSIX path inside its folder: not absolute, no ``..``, no empty part.

    Examples
    --------
    >>> safe_relative_path("figures/a.png"), safe_relative_path("../x"), safe_relative_path("/etc/passwd")
    (True, False, False)
    """
    if not isinstance(value, str) or not value or value.startswith(("/", "~")) or "\\" in value or "\0" in value:
        return False
    return all(part not in ("", ".", "..") for part in value.split("/"))


def _fail(where: str, what: str, value: Any) -> None:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise InputError(f"malformed report: {where}: expected {what}, got {shown}")


def _check(value: Any, schema: Any, where: str) -> None:
    if schema is ANY:
        return
    if isinstance(schema, _Opt):
        if value is not None:
            _check(value, schema.inner, where)
        return
    if schema is NUM:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            _fail(where, "a finite number", value)
        return
    if schema is SEED:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
            _fail(where, f"a seed (an integer in 0..{MAX_SEED})", value)
        return
    if schema is PATH:
        if not safe_relative_path(value):
            _fail(where, "a path inside the report folder", value)
        return
    if isinstance(schema, _OneOf):
        if value not in schema.values:
            _fail(where, "one of " + ", ".join(map(repr, schema.values)), value)
        return
    if isinstance(schema, _List):
        if not isinstance(value, list):
            _fail(where, "a list", value)
        if schema.nonempty and not value:
            _fail(where, "a non-empty list", value)
        for i, v in enumerate(value):
            _check(v, schema.inner, f"{where}[{i}]")
        return
    if isinstance(schema, _Map):
        if not isinstance(value, dict):
            _fail(where, "a table", value)
        for k, v in value.items():
            _check(v, schema.inner, f"{where}.{k}")
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            _fail(where, "a table", value)
        for key, inner in schema.items():
            optional = key.endswith("?")
            name = key.rstrip("?")
            if name not in value:
                if optional:
                    continue
                raise InputError(f"malformed report: {where}: has no key {name!r}")
            _check(value[name], inner, f"{where}.{name}")
        return
    if schema is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(where, "an integer", value)
        return
    if not isinstance(value, schema):
        _fail(where, f"a {schema.__name__}", value)


def check_report(report: Any, where: str = "report.json") -> dict[str, Any]:
    """Check ``report`` (a parsed report.json) against the schema of its kind; return it.

    Examples
    --------
    >>> check_report({"format": "ganeval-report", "suite": "reference"}, "r.json")
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: malformed report: r.json: has no key 'format_version'
    """
    if not isinstance(report, dict):
        _fail(where, "a table", report)
    suite = report.get("suite")
    schema = (
        {"sanity": SANITY_REPORT, "reference": SUITE_REPORT}.get(suite, SPEC_REPORT)
        if suite is not None
        else SPEC_REPORT
    )
    if suite is not None and suite not in ("sanity", "reference"):
        _fail(f"{where}.suite", "'sanity' or 'reference'", suite)
    _check(report, schema, where)
    return report
