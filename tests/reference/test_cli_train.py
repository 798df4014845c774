"""`ganeval train / sample / datasets / modes`: outputs flow into the metric commands; bad input -> exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from ganeval_cli.main import cli

FAST = ["--batch-size", "16", "--hidden", "8", "--eval-every", "0", "--samples", "300", "--threads", "1", "-q"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _error_line(result) -> str:
    err = getattr(result, "stderr", None) or result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    result = invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", "5", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_outputs_and_json(ring_run, tmp_path):
    assert {p.name for p in ring_run.iterdir()} == {
        ".ganeval-run.json",
        "checkpoint.pt",
        "metrics.jsonl",
        "samples.npy",
        "samples.png",
    }
    result = invoke(
        "train", "--data", "ring8", "--loss", "minimax", "--steps", "2", "--out", tmp_path / "j", "--json", *FAST
    )
    payload = json.loads(result.output)
    assert payload["steps"] == 2 and "modes_covered" in payload["metrics"]


def test_samples_flow_into_metric_commands(ring_run, tmp_path):
    samples = ring_run / "samples.npy"
    for args in (
        ["fid", "builtin:ring8/test", samples],
        ["kid", "builtin:ring8/test", samples, "--subsets", "5"],
        ["prdc", "builtin:ring8/test", samples],
        ["mmd", "builtin:ring8/test", samples],
        ["modes", samples, "--data", "ring8"],
    ):
        result = invoke(*args, "--json")
        assert result.exit_code == 0, (args, result.output)
        assert json.loads(result.stdout)["n_fake"] == 300
    out = tmp_path / "s.npy"
    result = invoke("sample", ring_run / "checkpoint.pt", "-n", 50, "-o", out, "--seed", 3)
    assert result.exit_code == 0, result.output
    a = np.load(out)
    assert a.shape == (50, 2)
    invoke("sample", ring_run / "checkpoint.pt", "-n", 50, "-o", tmp_path / "t.npy", "--seed", 3)
    np.testing.assert_array_equal(a, np.load(tmp_path / "t.npy"))


def test_digits_and_tabular_samples_flow_into_metric_commands(tmp_path):
    result = invoke(
        "train", "--data", "digits", "--loss", "hinge", "--steps", "2", "--width", "4", "--out", tmp_path / "d", *FAST
    )
    assert result.exit_code == 0, result.output
    imgs, rows = tmp_path / "imgs.npy", tmp_path / "rows.npy"
    assert invoke("sample", tmp_path / "d" / "checkpoint.pt", "-n", 60, "-o", imgs).exit_code == 0
    assert invoke("sample", tmp_path / "d" / "checkpoint.pt", "-n", 60, "-o", rows, "--format", "rows").exit_code == 0
    assert np.load(imgs).dtype == np.uint8 and np.load(rows).shape == (60, 64)
    for args in (
        ["fid", "builtin:digits/test", imgs, "--device", "cpu", "--no-cache"],
        ["fid", "builtin:digits-pixels/test", rows],
    ):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["value"] > 0
    result = invoke(
        "train", "--data", "wine", "--loss", "wgan", "--steps", "2", "--smirnov", "--out", tmp_path / "w", *FAST
    )
    assert result.exit_code == 0, result.output
    for args in (
        ["ecdf", "builtin:wine/test", tmp_path / "w" / "samples.npy"],
        ["c2st", "builtin:wine/test", tmp_path / "w" / "samples.npy", "--folds", "3"],
    ):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output


def test_datasets_lists_builtin_sets():
    result = invoke("datasets")
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.output.splitlines()}
    assert {"ring8", "grid25", "digits", "wine", "breast_cancer"} <= names
    assert "ring8" in json.loads(invoke("datasets", "--json").output)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--data", "ring9"], "data must be one of"),
        (["--data", "ring8", "--loss", "vanilla"], "loss must be one of"),
        (["--data", "ring8", "--steps", "0"], "steps must be >= 1, got 0"),
        (["--data", "ring8", "--steps", "-5"], "steps must be >= 1, got -5"),
        (["--data", "ring8", "--loss", "wgan", "--label-smoothing", "0.1"], "label_smoothing"),
        (["--data", "ring8", "--hidden", "a,b"], "--hidden"),
        (["--data", "ring8", "--loss", "hinge", "--gp-lambda", "1"], "gp_lambda applies to loss 'wgan-gp' only"),
        (["--data", "ring8", "--batch-size", "1"], "batch_size must be >= 2"),
    ],
)
def test_bad_train_options(args, needle, tmp_path):
    result = invoke("train", *args, "--out", tmp_path / "x", "-q")
    assert result.exit_code == 2
    assert needle in _error_line(result)
    assert not (tmp_path / "x").exists()


def test_out_that_is_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    result = invoke("train", "--data", "ring8", "--out", f, "-q")
    assert result.exit_code == 2 and "is a file" in _error_line(result)


def test_out_with_a_checkpoint_needs_resume_or_overwrite(ring_run):
    result = invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", "5", "--out", ring_run, *FAST)
    assert result.exit_code == 2 and "holds a checkpoint" in _error_line(result)


def test_checkpoint_from_another_model(ring_run, tmp_path):
    result = invoke(
        "train", "--data", "ring8", "--loss", "wgan-gp", "--steps", "8", "--out", ring_run, "--resume", *FAST
    )
    assert result.exit_code == 2
    assert "was trained with loss='hinge'" in _error_line(result)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(3)}, foreign)
    result = invoke("sample", foreign, "-n", 5, "-o", tmp_path / "o.npy")
    assert result.exit_code == 2 and "not a ganeval reference checkpoint" in _error_line(result)
    # our format, but weights of another shape
    state = torch.load(ring_run / "checkpoint.pt", weights_only=True)
    state["config"]["hidden"] = [9]
    torch.save(state, tmp_path / "mismatch.pt")
    result = invoke("sample", tmp_path / "mismatch.pt", "-n", 5, "-o", tmp_path / "o.npy")
    assert result.exit_code == 2 and "do not fit" in _error_line(result)
    assert not (tmp_path / "o.npy").exists()


def test_corrupt_checkpoint(ring_run, tmp_path):
    data = (ring_run / "checkpoint.pt").read_bytes()
    bad = tmp_path / "run"
    bad.mkdir()
    (bad / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    (bad / ".ganeval-run.json").write_bytes((ring_run / ".ganeval-run.json").read_bytes())  # a run of ours
    result = invoke("sample", bad / "checkpoint.pt", "-n", 5, "-o", tmp_path / "o.npy")
    assert result.exit_code == 2 and "not a readable checkpoint" in _error_line(result)
    result = invoke("train", "--data", "ring8", "--loss", "hinge", "--steps", "8", "--out", bad, "--resume", *FAST)
    assert result.exit_code == 2 and "not a readable checkpoint" in _error_line(result)
    result = invoke("sample", tmp_path / "missing.pt", "-n", 5, "-o", tmp_path / "o.npy")
    assert result.exit_code == 2 and "no such file" in _error_line(result)


def test_out_parents_are_created_and_file_parents_refused(tmp_path):
    result = invoke(
        "train", "--data", "ring8", "--loss", "hinge", "--steps", "1", "--out", tmp_path / "a" / "b" / "r", *FAST
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "b" / "r" / "samples.npy").exists()
    (tmp_path / "f").write_text("x")
    result = invoke("train", "--data", "ring8", "--steps", "1", "--out", tmp_path / "f" / "r", *FAST)
    assert result.exit_code == 2 and "is a file" in _error_line(result)
