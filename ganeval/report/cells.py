"""The leaderboard's cells as text: one number format per column, and each number's spread.

Every writer (html, md, tex) and the bar-chart labels take their numbers from here, so a
number reads the same everywhere.

Policy
------
- **Decimals per column.** A column prints all its numbers with the same count of decimals,
  fixed point, never e-notation: three significant figures of the column's smallest
  non-zero magnitude, but no more than four of its largest, and always at least one of the
  smallest (at most six decimals). FID 0.0302 and 10.543 print as 0.03 and 10.54; MMD
  -0.000685 and 0.2541 as -0.0007 and 0.2541. A column of integers (mode counts) prints none.
- **Spread.** A cell shows the value and, when there is one, its spread at the column's
  decimals; a spread that rounds to zero but is not zero prints as ``<0.001`` (the last
  decimal), never as a false ``0.000``:

  ========================  ============================================================
  ``a ± b``                 mean ± std over the candidate's seeds (two or more seeds)
  ``a [lo, hi]``            one seed with a bootstrap interval (``ci = 0.95`` in the spec:
                            the metric's ``ci_low`` / ``ci_high``)
  ``a (± b)``               one seed, the metric's own spread (KID: std over subsets; IS:
                            std over splits)
  ``a``                     one seed, no spread
  ========================  ============================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Cell",
    "column_decimals",
    "format_number",
    "format_spread",
    "leaderboard_cells",
    "interval_levels",
    "cell_of",
    "cell_numbers",
]

#: significant figures of a column's smallest non-zero magnitude
SIGNIFICANT = 3
#: most decimals a column prints
MAX_DECIMALS = 6


@dataclass(frozen=True)
class Cell:
    """One leaderboard cell as text (ASCII ``-`` for negatives; the writers typeset it).

    ``kind`` says what ``spread`` / ``low`` / ``high`` are: ``"seeds"`` (``± std`` over
    seeds), ``"own"`` (``(± std)``, the metric's own spread), ``"ci"`` (``[low, high]``) or
    None (a bare value; ``value`` is ``"–"`` when the number is missing).
    """

    value: str
    kind: str | None = None
    spread: str | None = None
    low: str | None = None
    high: str | None = None
    best: bool = False

    def text(self) -> str:
        """The cell on one line, e.g. ``'0.0302 [0.0211, 0.0409]'``.

        Examples
        --------
        >>> Cell("1.50", "seeds", "0.25").text(), Cell("0.03", "ci", low="0.02", high="0.04").text()
        ('1.50 ± 0.25', '0.03 [0.02, 0.04]')
        """
        extra = self.spread_text()
        return f"{self.value} {extra}" if extra else self.value

    def spread_text(self) -> str:
        """The spread alone: ``'± 0.25'``, ``'(± 0.25)'``, ``'[0.02, 0.04]'`` or ``''``."""
        if self.kind == "seeds":
            return f"± {self.spread}"
        if self.kind == "own":
            return f"(± {self.spread})"
        if self.kind == "ci":
            return f"[{self.low}, {self.high}]"
        return ""


def column_decimals(
    values: Iterable[float | None],
    *,
    spreads: Iterable[float | None] = (),
    significant: int = SIGNIFICANT,
    max_decimals: int = MAX_DECIMALS,
) -> int:
    """Decimals for a column: ``significant`` figures of its smallest non-zero ``|value|``,
    at most ``significant + 1`` of its largest, at least one of its smallest.

    Integers with no non-zero spread get 0 decimals; at most ``max_decimals``.

    Examples
    --------
    >>> column_decimals([0.0302, 0.1182, 3.071, 10.543])
    2
    >>> column_decimals([0.9566, 0.4165]), column_decimals([8, 7]), column_decimals([8, 7], spreads=[0.5])
    (3, 0, 2)
    >>> column_decimals([-6.854e-04, 0.2541]), column_decimals([1e-5, 1.0]), column_decimals([12345.6])
    (4, 5, 0)
    """
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    sp = [float(s) for s in spreads if s is not None and math.isfinite(float(s))]
    if vals and all(v.is_integer() for v in vals) and not any(sp):
        return 0
    nonzero = [abs(v) for v in vals if v != 0]
    if not nonzero:
        return min(max_decimals, significant)
    lo, hi = math.floor(math.log10(min(nonzero))), math.floor(math.log10(max(nonzero)))
    d = max(min(significant - 1 - lo, significant - hi), -lo)
    return int(min(max_decimals, max(0, d)))


def format_number(v: float | None, decimals: int) -> str:
    """``v`` in fixed point with ``decimals`` decimals (``'–'`` for None; no ``-0.00``).

    Examples
    --------
    >>> format_number(-6.854e-04, 6), format_number(-1e-9, 3), format_number(None, 2), format_number(10.5, 0)
    ('-0.000685', '0.000', '–', '10')
    """
    if v is None or not math.isfinite(float(v)):
        return "–"
    text = f"{float(v):.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def format_spread(s: float, decimals: int) -> str:
    """A non-negative spread at ``decimals``; one that rounds to zero prints as ``<0.001``.

    Examples
    --------
    >>> format_spread(0.2202, 3), format_spread(2.1e-05, 4), format_spread(0.0, 2), format_spread(0.3, 0)
    ('0.220', '<0.0001', '0.00', '<1')
    """
    text = format_number(abs(s), decimals)
    if float(text) == 0 and s != 0:
        return "<" + ("1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1")
    return text


def _interval(cand: dict[str, Any], col: dict[str, Any]) -> tuple[float, float] | None:
    """The bootstrap interval of ``col`` for a one-seed candidate, if the report has one.

    Read from the column's summary (``ci_low`` / ``ci_high``) or from the run's result: a
    scalar ``ci_low`` belongs to ``value`` (and to a named number equal to it, e.g. C2ST
    accuracy), a dict ``ci_low`` (PRDC) is keyed by the named numbers.
    """
    s = cand.get("summary", {}).get(col["id"]) or {}
    if s.get("ci_low") is not None and s.get("ci_high") is not None:
        return float(s["ci_low"]), float(s["ci_high"])
    runs = cand.get("runs") or []
    if len(runs) != 1:
        return None
    r = runs[0].get("results", {}).get(col["metric"])
    if not r or "ci_low" not in r or "ci_high" not in r:
        return None
    lo, hi, key = r["ci_low"], r["ci_high"], col["key"]
    if isinstance(lo, dict) and isinstance(hi, dict):
        lo, hi = lo.get(key), hi.get(key)
    elif not (key == "value" or (key in r and r.get(key) == r.get("value"))):
        return None
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return None
    return float(lo), float(hi)


def interval_levels(report: dict[str, Any]) -> list[tuple[float, int | None]]:
    """The distinct ``(level, bootstrap resamples)`` of the intervals in the report's runs.

    Examples
    --------
    >>> run = {"results": {"fid": {"ci_low": 1.0, "ci_high": 2.0, "settings": {"ci": 0.95, "bootstrap": 200}}}}
    >>> interval_levels({"candidates": [{"runs": [run]}]})
    [(0.95, 200)]
    """
    out = []
    for c in report.get("candidates", []):
        for run in c.get("runs", []):
            for r in run.get("results", {}).values():
                st = r.get("settings", {}) if isinstance(r, dict) else {}
                if isinstance(r, dict) and "ci_low" in r and st.get("ci") is not None:
                    key = (float(st["ci"]), st.get("bootstrap"))
                    if key not in out:
                        out.append(key)
    return out


def cell_numbers(
    cand: dict[str, Any], col: dict[str, Any]
) -> tuple[float | None, str | None, float | None, tuple[float, float] | None]:
    """``(mean, spread kind, spread, interval)`` of candidate ``cand`` in column ``col``
    (kind: ``"seeds"``, ``"ci"``, ``"own"`` or None; see the module docstring)."""
    s = cand.get("summary", {}).get(col["id"]) or {}
    mean = s.get("mean")
    if mean is None:
        return None, None, None, None
    if s.get("std") is not None:
        return float(mean), "seeds", float(s["std"]), None
    ci = _interval(cand, col)
    if ci is not None:
        return float(mean), "ci", None, ci
    if s.get("interval_std") is not None:
        return float(mean), "own", float(s["interval_std"]), None
    return float(mean), None, None, None


def cell_of(
    mean: float | None,
    kind: str | None,
    spread: float | None,
    ci: tuple[float, float] | None,
    decimals: int,
    *,
    best: bool = False,
    missing: str = "–",
) -> Cell:
    """A :class:`Cell` from the numbers, at ``decimals``.

    Examples
    --------
    >>> cell_of(0.0302, "ci", None, (0.0211, 0.0409), 4).text()
    '0.0302 [0.0211, 0.0409]'
    >>> cell_of(-0.0038, "own", 2.098e-05, None, 5).text(), cell_of(10.543, "seeds", 0.2202, None, 3).text()
    ('-0.00380 (± 0.00002)', '10.543 ± 0.220')
    """
    if mean is None:
        return Cell(missing, best=best)
    value = format_number(mean, decimals)
    if kind in ("seeds", "own") and spread is not None:
        return Cell(value, kind, format_spread(spread, decimals), best=best)
    if kind == "ci" and ci is not None:
        return Cell(value, "ci", low=format_number(ci[0], decimals), high=format_number(ci[1], decimals), best=best)
    return Cell(value, best=best)


def leaderboard_cells(
    report: dict[str, Any], columns: Sequence[dict[str, Any]] | None = None
) -> list[tuple[str, list[Cell]]]:
    """``[(candidate label, [Cell per column]), ...]`` with one decimal count per column.

    The label is the candidate's name, plus ``" (k seeds)"`` when it has several.
    """
    cols = list(report["columns"] if columns is None else columns)
    nums = [[cell_numbers(c, col) for col in cols] for c in report["candidates"]]
    decimals = [
        column_decimals([row[j][0] for row in nums], spreads=[row[j][2] for row in nums]) for j in range(len(cols))
    ]
    out = []
    for cand, row in zip(report["candidates"], nums):
        cells = []
        for j, col in enumerate(cols):
            mean, kind, spread, ci = row[j]
            missing = "–"
            if mean is None:  # a number that is not finite (or absent)
                vals = (cand.get("summary", {}).get(col["id"]) or {}).get("values")
                missing = str(vals[0]) if vals else "–"
            cells.append(
                cell_of(mean, kind, spread, ci, decimals[j], best=cand["name"] in col.get("best", []), missing=missing)
            )
        seeds = f" ({len(cand['runs'])} seeds)" if len(cand.get("runs", [])) > 1 else ""
        out.append((cand["name"] + seeds, cells))
    return out
