"""The run folder: folders that are not runs are refused, one run at a time, atomic writes only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import cli

from ganeval.errors import ParameterError
from ganeval.reference import TrainConfig, load_checkpoint, train
from ganeval.reference.outputs import LOCK, MARKER, atomic_write, check_out_dir, run_lock, write_marker

FAST = ["--batch-size", "16", "--hidden", "8", "--eval-every", "0", "--samples", "100", "--threads", "1", "-q"]
TINY = dict(batch_size=16, hidden=(8,), eval_every=0, n_samples=100)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_error_line(result) -> str:
    err = getattr(result, "stderr", None) or result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert result.exit_code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _snapshot(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_out_empty_string_in_a_users_folder_is_refused_and_nothing_changes(tmp_path, monkeypatch):
    np.save(tmp_path / "samples.npy", np.arange(5))
    (tmp_path / "metrics.jsonl").write_text("my own notes\n")
    (tmp_path / "thesis.tex").write_text("\\section{}")
    before = _snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    line = _one_error_line(invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", 2, "--out", "", *FAST))
    assert "the current folder" in line and "not a previous run" in line and "thesis.tex" in line
    assert _snapshot(tmp_path) == before


def test_overwrite_replaces_only_the_runs_own_files(tmp_path):
    out = tmp_path / "mixed"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ParameterError, match="not empty and not a previous run"):
        train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), out)
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), out, overwrite=True, threads=1)
    assert (out / "notes.txt").read_text() == "keep me"
    assert {"checkpoint.pt", "samples.npy", "metrics.jsonl", "samples.png"} <= {p.name for p in out.iterdir()}


def test_previous_run_needs_resume_or_overwrite_and_overwrite_drops_stale_outputs(tmp_path):
    out = tmp_path / "r"
    train(TrainConfig(data="ring8", loss="hinge", steps=2, conditional=True, **TINY), out, threads=1)
    assert (out / "sample_labels.npy").exists()
    with pytest.raises(ParameterError, match="holds a checkpoint"):
        check_out_dir(out)
    # the user's own files beside a run do not stop a resume, and are never touched
    (out / "more.npy").write_bytes(b"mine")
    train(TrainConfig(data="ring8", loss="hinge", steps=3, conditional=True, **TINY), out, resume=True, threads=1)
    # a fresh unconditional run in its place must not leave the old run's labels beside its samples
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), out, overwrite=True, threads=1)
    assert not (out / "sample_labels.npy").exists()
    assert (out / "more.npy").read_bytes() == b"mine"
    # a folder holding only a run's leftovers (killed before its first checkpoint) is a previous run
    leftovers = tmp_path / "killed"
    leftovers.mkdir()
    write_marker(leftovers)
    (leftovers / "metrics.jsonl").write_text("")
    (leftovers / f".checkpoint.pt.{os.getpid()}.tmp").write_bytes(b"")
    assert check_out_dir(leftovers) == leftovers


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    with run_lock(out):
        line = _one_error_line(invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", 2, "--out", out, *FAST))
        assert f"pid {os.getpid()}" in line and "another training run" in line
        assert sorted(p.name for p in out.iterdir()) == [LOCK]
    assert list(out.iterdir()) == []  # the lock file goes with the run


def test_two_concurrent_processes_and_a_stale_lock_after_kill_9(tmp_path):
    out = tmp_path / "r"
    code = (
        "import sys; from ganeval.reference import TrainConfig, load_checkpoint, train; "
        "train(TrainConfig(data='ring8', loss='hinge', steps=10**6, batch_size=16, hidden=(8,), eval_every=0, "
        "checkpoint_every=5), sys.argv[1], threads=1)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read().decode()
        # the second run is this process (the CLI in-process): the first holds the lock
        second = invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", 2, "--out", out, "--resume", *FAST)
        line = _one_error_line(second)
        assert "another training run" in line and f"pid {proc.pid}" in line, second.output
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert (out / LOCK).exists()  # left behind by kill -9 ...
    step = load_checkpoint(out / "checkpoint.pt")["step"]
    # ... and does not block the next run: the kernel released the flock with the process
    cfg = TrainConfig(
        data="ring8",
        loss="hinge",
        steps=step + 1,
        batch_size=16,
        hidden=(8,),
        eval_every=0,
        checkpoint_every=5,
        n_samples=50,
    )
    result = train(cfg, out, resume=True, threads=1)
    assert result.steps == step + 1 and not (out / LOCK).exists()


def test_atomic_write_follows_symlinks_and_refuses_special_files(tmp_path):
    target = tmp_path / "real.npy"
    target.write_bytes(b"old")
    link = tmp_path / "link.npy"
    link.symlink_to(target)
    atomic_write(link, lambda fh: fh.write(b"new"))
    assert link.is_symlink() and target.read_bytes() == b"new"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ParameterError, match="not a regular file"):
        atomic_write(fifo, lambda fh: fh.write(b"x"))
    with pytest.raises(ParameterError, match="is a directory"):
        atomic_write(tmp_path, lambda fh: fh.write(b"x"))
    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "half.npy", lambda fh: (fh.write(b"part"), (_ for _ in ()).throw(RuntimeError())))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.npy", "real.npy"]


def test_sample_writes_through_a_symlink_and_refuses_a_fifo(tmp_path):
    run = tmp_path / "r"
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), run, threads=1)
    target = tmp_path / "target.npy"
    target.write_bytes(b"")
    (tmp_path / "link.npy").symlink_to(target)
    assert invoke("sample", run / "checkpoint.pt", "-n", 7, "-o", tmp_path / "link.npy").exit_code == 0
    assert (tmp_path / "link.npy").is_symlink() and np.load(target).shape == (7, 2)
    os.mkfifo(tmp_path / "fifo")
    line = _one_error_line(invoke("sample", run / "checkpoint.pt", "-n", 7, "-o", tmp_path / "fifo"))
    assert "not a regular file" in line


@pytest.mark.parametrize(
    "args,expect",
    [
        (["--batch-size", 10**12], "GiB"),
        (["--samples", 10**8], "GiB"),
        (["--width", 10**5], "width=100,000"),
        (["--steps", 10**15], "steps must be <="),
        (["--batch-size", 1], "batch_size must be >= 2"),
        (["--ema", 1.5], "ema must be in [0, 1)"),
    ],
)
def test_absurd_sizes_are_refused_with_the_estimate(tmp_path, args, expect):
    # the last of a repeated option wins, so args override FAST's
    line = _one_error_line(
        invoke("train", "--data", "digits", "--loss", "hinge", "--steps", 2, "--out", tmp_path / "r", *FAST, *args)
    )
    assert expect in line
    assert not (tmp_path / "r").exists()


def test_sample_refuses_an_absurd_n(tmp_path):
    run = tmp_path / "r"
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), run, threads=1)
    line = _one_error_line(invoke("sample", run / "checkpoint.pt", "-n", 10**13, "-o", tmp_path / "s.npy"))
    assert "GiB" in line and "n=10,000,000,000,000" in line
    assert not (tmp_path / "s.npy").exists()


def test_a_full_disk_is_one_line_and_exit_1(tmp_path, monkeypatch):
    import errno

    import ganeval.reference.checkpoints as checkpoints

    def full(path, write, mode="wb"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(checkpoints, "atomic_write", full)
    result = invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", 2, "--out", tmp_path / "r", *FAST)
    err = getattr(result, "stderr", None) or result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "No space left on device" in lines[0], err
    assert lines[0].startswith("error: out ")


def test_a_users_samples_without_our_marker_are_never_replaced(tmp_path):
    """samples.npy, checkpoint.pt or metrics.jsonl in a folder no run of ours wrote (no
    marker) are the user's: refused, even with --overwrite, and left byte for byte."""
    for name in ("samples.npy", "checkpoint.pt", "metrics.jsonl"):
        out = tmp_path / name.replace(".", "_")
        out.mkdir()
        (out / name).write_bytes(b"the user's own " + name.encode())
        before = _snapshot(out)
        for extra in ([], ["--overwrite"], ["--resume"]):
            line = _one_error_line(
                invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", 2, "--out", out, *FAST, *extra)
            )
            assert "not a previous run" in line and MARKER in line and name in line, line
            assert _snapshot(out) == before and sorted(p.name for p in out.iterdir()) == [name]
    # a run of ours has the marker, and is recognised by it
    run = tmp_path / "run"
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), run, threads=1)
    assert (run / MARKER).is_file()
    train(TrainConfig(data="ring8", loss="hinge", steps=2, **TINY), run, overwrite=True, threads=1)


@pytest.mark.slow
def test_sigterm_is_ctrl_c_checkpoint_kept_no_stale_lock(tmp_path):
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganeval",
            "train",
            "--data",
            "ring8",
            "--loss",
            "hinge",
            "--steps",
            str(10**6),
            "--checkpoint-every",
            "300",
            "--out",
            str(out),
            *FAST,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        first = load_checkpoint(out / "checkpoint.pt")["step"]
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == ["error: interrupted"], err
    step = load_checkpoint(out / "checkpoint.pt")["step"]
    assert step >= first  # the run ended through Ctrl-C's path (exit 130), which saves its checkpoint
    assert not (out / LOCK).exists()
