"""ganeval.progress: a bar on a terminal, plain periodic lines (no carriage returns) elsewhere."""

import io

import numpy as np

from ganeval.progress import format_seconds, progress_bar


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_log_lines_every_tenth_and_every_interval():
    log, clock = io.StringIO(), Clock()
    with progress_bar(1000, "training", "step", stream=log, clock=clock) as bar:
        for _ in range(1000):
            clock.t += 0.1  # 100 s in all: a tenth every 10 s
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "training: 100/1000 step (10%), 10 s, about 1 min 30 s left"
    assert len(lines) == 11 and lines[-1] == "training: done, 1000 step in 1 min 40 s"
    # slow work with few units: a line every 30 s even without a new tenth
    log, clock = io.StringIO(), Clock()
    bar = progress_bar(1000, "extract", "img", stream=log, clock=clock)
    for _ in range(10):
        clock.t += 10.0
        bar.update(1)
    bar.close()
    assert log.getvalue().splitlines()[:3] == [
        "extract: 3/1000 img (0%), 30 s, about 2 h 46 min left",
        "extract: 6/1000 img (0%), 1 min 0 s, about 2 h 45 min left",
        "extract: 9/1000 img (0%), 1 min 30 s, about 2 h 45 min left",
    ]


def test_fast_work_writes_nothing_and_unknown_total_counts():
    log, clock = io.StringIO(), Clock()
    with progress_bar(100, "fast", stream=log, clock=clock) as bar:
        for _ in range(100):
            clock.t += 0.01  # 1 s: under min_gap_s
            bar.update(1)
    assert log.getvalue() == ""
    log, clock = io.StringIO(), Clock()
    with progress_bar(None, "stream", "img", stream=log, clock=clock) as bar:
        for _ in range(4):
            clock.t += 31.0
            bar.update(50)
    assert log.getvalue().splitlines()[0] == "stream: 50 img, 31 s"


def test_total_can_grow_and_description_changes():
    log, clock = io.StringIO(), Clock()
    bar = progress_bar(10, "report", "step", stream=log, clock=clock)
    bar.total = bar.total + 10
    bar.set_description("verify")
    clock.t = 5.0
    bar.update(2)
    bar.close()
    bar.close()  # twice is harmless
    assert log.getvalue().splitlines() == [
        "verify: 2/20 step (10%), 5 s, about 45 s left",
        "verify: done, 2 step in 5 s",
    ]


def test_terminal_gets_a_tqdm_bar_that_is_erased():
    tty = TTY()
    with progress_bar(5, "bar", "img", stream=tty) as bar:
        for _ in range(5):
            bar.update(1)
    text = tty.getvalue()
    assert text.startswith("\rbar:") and "0/5" in text and text.endswith("\r")  # drawn, then erased


def test_extraction_progress_into_a_log_has_no_carriage_returns(capsys, monkeypatch):
    import ganeval.progress as progress_mod
    from ganeval.features import extract_features

    arr = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    extract_features(arr, extractor="digits", cache=False, progress=True, num_workers=0)
    assert "\r" not in capsys.readouterr().err
    # a long extraction (here: lines allowed at any gap) writes periodic lines, not a bar
    monkeypatch.setitem(progress_mod.progress_bar.__kwdefaults__, "min_gap_s", 0.0)
    extract_features(arr, extractor="digits", cache=False, progress=True, num_workers=0, batch_size=4)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) >= 5 and all(" img" in x for x in lines), err
    assert lines[0].split(": ", 1)[1].startswith("4/20 img (20%)") and ": done, 20 img in " in lines[-1]


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.4, 60, 3599, 3600, -1)] == [
        "0 s",
        "59 s",
        "1 min 0 s",
        "59 min 59 s",
        "1 h 0 min",
        "0 s",
    ]


def test_train_into_a_log_writes_lines_not_bars(tmp_path, monkeypatch):
    """``ganeval train ... 2> log``: stderr is not a terminal, so progress is plain lines."""
    import re

    from click.testing import CliRunner
    from ganeval_cli.main import cli

    import ganeval.progress as progress_mod

    # a line at every tenth (by default lines are at least 2 s apart, longer than this run)
    monkeypatch.setitem(progress_mod.progress_bar.__kwdefaults__, "min_gap_s", 0.0)
    args = ["train", "--data", "ring8", "--loss", "hinge", "--steps", "30", "--out", str(tmp_path / "r")]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("training: ")]
    assert len(lines) >= 3 and lines[-1].startswith("training: done, 30 step in ")
    assert all(re.fullmatch(r"training: \d+/30 step \(\d+%\), \d+ s(, about \d+ s left)?", x) for x in lines[:-1])
