"""Progress on stderr: a bar on a terminal, a periodic line anywhere else.

Every long loop of ganeval (feature extraction, bootstrap replicates, training, report
steps) reports through :func:`progress_bar`. On a terminal it draws a tqdm bar that is
erased when done. When the stream is not a terminal (a log file, a pipe, a batch job's
output) it writes no carriage returns: one plain line when another tenth of the work is
done or ``every_s`` seconds have passed since the last line (whichever comes first, at most
one line per ``min_gap_s``), and a last line when the work ends, e.g.::

    training: 1200/3000 steps (40%), 1 min 12 s, about 1 min 48 s left

Work shorter than ``min_gap_s`` writes nothing.

Examples
--------
>>> import io
>>> log, now = io.StringIO(), [0.0]
>>> with progress_bar(100, "extract", "img", stream=log, clock=lambda: now[0]) as bar:
...     for _ in range(4):
...         now[0] += 10.0
...         bar.update(25)
>>> print(log.getvalue(), end="")
extract: 25/100 img (25%), 10 s, about 30 s left
extract: 50/100 img (50%), 20 s, about 20 s left
extract: 75/100 img (75%), 30 s, about 10 s left
extract: 100/100 img (100%), 40 s
extract: done, 100 img in 40 s
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Progress", "progress_bar", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``7 s``, ``1 min 12 s``, ``2 h 5 min``.

    Examples
    --------
    >>> format_seconds(7.4), format_seconds(72), format_seconds(7500)
    ('7 s', '1 min 12 s', '2 h 5 min')
    """
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class Progress:
    """A running count of work done, shown as a bar (terminal) or as periodic lines.

    Use :func:`progress_bar` to make one. ``update(n)`` adds ``n`` units; ``total`` may be
    raised while running (a plan that grows); ``set_description(text)`` renames the work;
    ``close()`` (or leaving the ``with`` block) ends it.
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str,
        *,
        stream: TextIO,
        terminal: bool,
        every_s: float,
        min_gap_s: float,
        clock: Callable[[], float],
    ):
        self.desc = desc
        self.unit = unit
        self.n = 0
        self._total = total
        self._stream = stream
        self._clock = clock
        self._every_s = every_s
        self._min_gap_s = min_gap_s
        self._start = clock()
        self._last_line = self._start
        self._last_tenth = 0
        self._lines = 0
        self._closed = False
        self._bar: Any = None
        if terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=stream, leave=False, dynamic_ncols=True)

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total = value
        if self._bar is not None:
            self._bar.total = value
            self._bar.refresh()

    def set_description(self, desc: str) -> None:
        """Name the work being done now."""
        self.desc = desc
        if self._bar is not None:
            self._bar.set_description_str(desc)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = self._clock()
        tenth = math.floor(10 * self.n / self._total) if self._total else 0
        due = now - self._last_line >= self._every_s or tenth > self._last_tenth
        if due and now - self._last_line >= self._min_gap_s:
            self._write(self._line(now))
            self._last_line, self._last_tenth = now, tenth

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        if not self._total:
            return f"{self.desc}: {self.n} {self.unit}, {format_seconds(elapsed)}"
        text = (
            f"{self.desc}: {self.n}/{self._total} {self.unit} ({100 * self.n // self._total}%), "
            f"{format_seconds(elapsed)}"
        )
        if 0 < self.n < self._total:
            text += f", about {format_seconds(elapsed * (self._total - self.n) / self.n)} left"
        return text

    def _write(self, line: str) -> None:
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed or full log is not the work's failure
            pass
        self._lines += 1

    def close(self) -> None:
        """End the display: erase the bar, or write the last line (if any line was written)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self._lines:
            self._write(f"{self.desc}: done, {self.n} {self.unit} in {format_seconds(self._clock() - self._start)}")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(
    total: int | None,
    desc: str = "",
    unit: str = "it",
    *,
    stream: TextIO | None = None,
    every_s: float = 30.0,
    min_gap_s: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """A :class:`Progress` on ``stream`` (default ``sys.stderr``): a tqdm bar when the stream
    is a terminal, else plain lines (see the module docstring).

    Parameters
    ----------
    total : int or None
        Units of work, or None when unknown (lines then give the count only).
    desc : str
        What is being done, e.g. ``"training"``.
    unit : str, default="it"
        The unit counted, e.g. ``"img"``, ``"step"``.
    stream : text stream, optional
        Where to write (default ``sys.stderr``).
    every_s : float, default=30.0
        Longest time between two lines when not on a terminal.
    min_gap_s : float, default=2.0
        Shortest time between two lines (so fast work does not fill a log).
    clock : callable, default=time.monotonic
        Seconds, for tests.
    """
    stream = sys.stderr if stream is None else stream
    try:
        terminal = bool(stream.isatty())
    except (AttributeError, ValueError):
        terminal = False
    return Progress(
        total, desc, unit, stream=stream, terminal=terminal, every_s=every_s, min_gap_s=min_gap_s, clock=clock
    )
