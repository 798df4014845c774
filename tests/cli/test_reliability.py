"""One test per reliability class at the CLI: outputs never destroy what is not ours, write
errors and allocation failures are one error line, mismatched inputs are refused by default."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import main

from ganeval.statistics import FeatureStats


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _main_cmd(ctx):
    main(list(ctx.args))


def run(*args):
    return CliRunner().invoke(_main_cmd, [str(a) for a in args], catch_exceptions=False)


def one_error(r) -> str:
    lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    return lines[0]


@pytest.fixture
def rows(tmp_path, rng):
    np.save(tmp_path / "a.npy", rng.normal(size=(50, 3)))
    return tmp_path / "a.npy"


# -- 1. never destroy what is not ours ---------------------------------------------------


def test_stats_output_through_symlink(tmp_path, rows):
    target = tmp_path / "data" / "stats.npz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    os.symlink(target, link)
    r = run("stats", rows, "-o", link)
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert FeatureStats.load(target).n == 50


def test_stats_output_fifo_refused(tmp_path, rows):
    fifo = tmp_path / "out.npz"
    os.mkfifo(fifo)
    r = run("stats", rows, "-o", fifo)
    assert r.exit_code == 2 and "FIFO" in one_error(r)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "out.npz"]


def test_stats_output_device_refused(tmp_path, rows):
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node (needs root): {exc}")
    r = run("stats", rows, "-o", dev)
    assert r.exit_code == 2 and "character device" in one_error(r)
    st = os.lstat(dev)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


def test_stats_output_disk_full_is_exit_1_and_target_kept(tmp_path, rows, monkeypatch):
    out = tmp_path / "s.npz"
    out.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    r = run("stats", rows, "-o", out)
    assert r.exit_code == 1
    assert "No space left on device" in one_error(r) and str(out) in one_error(r)
    assert out.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# -- 3. no traceback: stdout write errors, allocation failures, bugs ----------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_stdout_full_is_one_error_line_exit_1(rows):
    with open("/dev/full", "w") as full:
        p = subprocess.run(
            [sys.executable, "-m", "ganeval", "ecdf", str(rows), str(rows), "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "No space left" in lines[0], p.stderr


def test_broken_pipe_is_one_error_line_exit_1(rows):
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganeval", "datasets"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    proc.stdout.close()  # the reader went away (as `| head -0`)
    err = proc.stderr.read()
    proc.wait(timeout=120)
    proc.stderr.close()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "broken pipe" in lines[0] and "Traceback" not in err, err


@pytest.mark.parametrize("cmd, has_batch_size", [("fid", True), ("ecdf", False)])
def test_out_of_memory_names_only_real_options(rows, monkeypatch, cmd, has_batch_size):
    def oom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr("ganeval_cli.metric_commands.evaluate", oom)
    r = run(cmd, rows, rows)
    line = one_error(r)
    assert r.exit_code == 2 and "out of memory" in line
    assert ("--batch-size" in line) == has_batch_size


def test_torch_allocation_failure_is_out_of_memory(rows, monkeypatch):
    def oom(*a, **k):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr("ganeval_cli.metric_commands.evaluate", oom)
    r = run("fid", rows, rows)
    assert r.exit_code == 2 and "out of memory" in one_error(r)


def test_unexpected_exception_is_one_line_and_debug_shows_it(rows, monkeypatch):
    def bug(*a, **k):
        raise TypeError("something\nspread over lines")

    monkeypatch.setattr("ganeval_cli.metric_commands.evaluate", bug)
    r = run("fid", rows, rows)
    line = one_error(r)
    assert r.exit_code == 1 and "internal error" in line and "--debug" in line
    with pytest.raises(TypeError):
        run("--debug", "fid", rows, rows)


def test_repeated_warnings_shown_once(rows, monkeypatch):
    import warnings

    from ganeval.results import MetricResult

    def noisy(*a, **k):
        for _ in range(300):
            warnings.warn("overflow encountered in multiply", RuntimeWarning)
        return {"fid": MetricResult("fid", {"value": 1.0})}

    monkeypatch.setattr("ganeval_cli.metric_commands.evaluate", noisy)
    r = run("fid", rows, rows)
    warn = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert warn == ["warning: overflow encountered in multiply (repeated 300 times)"]


# -- 2. statistics made differently are refused by default ---------------------------------


def _stats(tmp_path, name, dim, **meta):
    rng = np.random.default_rng(len(name) + dim)
    s = FeatureStats.from_features(rng.normal(size=(40, dim)), metadata=meta)
    s.save(tmp_path / name)
    return tmp_path / name


def test_mismatched_extractors_refused_then_allowed_with_both_recorded(tmp_path):
    a = _stats(tmp_path, "a.npz", 3, extractor="inception", preprocessing="tf", weights_sha256="aa")
    b = _stats(tmp_path, "b.npz", 3, extractor="inception", preprocessing="clean", weights_sha256="bb")
    r = run("fid", a, b)
    line = one_error(r)
    assert r.exit_code == 2 and str(a) in line and str(b) in line
    assert "'tf' vs 'clean'" in line and "'aa' vs 'bb'" in line and "--allow-mismatch" in line
    r = run("fid", a, b, "--allow-mismatch", "--json")
    assert r.exit_code == 0, r.output
    settings = json.loads(r.stdout)["settings"]
    assert settings["real_preprocessing"] == "tf" and settings["fake_preprocessing"] == "clean"
    assert settings["real_weights_sha256"] == "aa" and settings["fake_weights_sha256"] == "bb"


def test_same_settings_compare_without_flag(tmp_path):
    a = _stats(tmp_path, "a.npz", 3, extractor="digits", preprocessing="luma", weights_sha256="aa")
    b = _stats(tmp_path, "b.npz", 3, extractor="digits", preprocessing="luma", weights_sha256="aa")
    r = run("fid", a, b, "--json")
    assert r.exit_code == 0, r.output
    assert "real_extractor" not in json.loads(r.stdout)["settings"]


def test_dims_from_different_auto_extractors_suggest_extractor(tmp_path):
    a = _stats(tmp_path, "a.npz", 4, extractor="digits")
    b = _stats(tmp_path, "b.npz", 6, extractor="inception")
    line = one_error(run("fid", a, b))
    assert "digits features" in line and "inception features" in line and "--extractor" in line


def test_bad_sigma_in_stats_file_names_the_file(tmp_path, rows):
    bad = tmp_path / "bad.npz"
    np.savez(bad, mu=np.zeros(3), sigma=np.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]]))
    r = run("fid", bad, rows)
    line = one_error(r)
    assert r.exit_code == 2 and str(bad) in line and "negative eigenvalue" in line


# -- 5. clear messages ----------------------------------------------------------------------


def test_text_file_as_npy_is_not_called_pickled(tmp_path, rows):
    t = tmp_path / "t.npy"
    t.write_text("a,b\n1,2\n")
    line = one_error(run("fid", t, rows))
    assert "pickled" not in line and "text file" in line and str(t) in line


def test_text_column_quotes_the_bad_value_and_only_real_options(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n3,4\n5,oops\n7,8\n")
    line = one_error(run("mmd", csv, csv))
    assert "'oops'" in line and "data row 3" in line and "--categorical" not in line
    line = one_error(run("ecdf", csv, csv))
    assert "'oops'" in line and "--categorical b" in line


def test_no_numpy_reprs_in_messages(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,t\n1,0.5\n2,0.25\n3,1.5\n")
    line = one_error(run("nested-f1", csv, csv, "--target", "t"))
    assert "np." not in line and "continuous" in line
