"""CLI on feature inputs: fid, kid, is, prdc, mmd, eval, stats; JSON keys; bad input -> exit 2."""

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import cli, main

from ganeval import fid_from_features, kernel_inception_distance, prdc


def run(*args):
    """Run through main() so the one-line usage-error contract is exercised too."""
    runner = CliRunner()
    return runner.invoke(_main_cmd, list(args), catch_exceptions=False)


import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _main_cmd(ctx):
    main(list(ctx.args))


@pytest.fixture
def arrays(tmp_path, rng):
    real = rng.normal(size=(120, 6))
    fake = rng.normal(size=(100, 6)) + 0.5
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "fake.npy", fake)
    return tmp_path, real, fake


def test_fid_json_matches_library(arrays):
    d, real, fake = arrays
    r = run("fid", str(d / "real.npy"), str(d / "fake.npy"), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["metric"] == "fid" and out["n_real"] == 120 and out["n_fake"] == 100
    assert out["value"] == pytest.approx(fid_from_features(real, fake).value, rel=1e-12)
    assert out["version"] and out["settings"]["extractor"] == "identity"


def test_human_line(arrays):
    d, _, _ = arrays
    r = run("fid", str(d / "real.npy"), str(d / "fake.npy"))
    assert r.exit_code == 0
    assert r.stdout.startswith("fid: value = ") and "n_real=120" in r.stdout


def test_kid_prdc_mmd_is(arrays, tmp_path):
    d, real, fake = arrays
    kid = json.loads(
        run(
            "kid",
            str(d / "real.npy"),
            str(d / "fake.npy"),
            "--subsets",
            "5",
            "--subset-size",
            "50",
            "--seed",
            "3",
            "--json",
        ).stdout
    )
    ref = kernel_inception_distance(real, fake, subsets=5, subset_size=50, seed=3)
    assert kid["value"] == pytest.approx(ref.value) and kid["std"] == pytest.approx(ref.std)
    pr = json.loads(run("prdc", str(d / "real.npy"), str(d / "fake.npy"), "--k", "3", "--json").stdout)
    ref = prdc(real, fake, k=3)
    assert {k: pr[k] for k in ("precision", "recall", "density", "coverage")} == ref.values
    mmd = json.loads(run("mmd", str(d / "real.npy"), str(d / "fake.npy"), "--json").stdout)
    assert mmd["metric"] == "mmd" and mmd["settings"]["kernel"] == "rbf"
    np.savez(tmp_path / "logits.npz", logits=np.zeros((20, 4)))
    is_ = json.loads(run("is", str(tmp_path / "logits.npz"), "--splits", "2", "--json").stdout)
    assert is_["metric"] == "is" and is_["value"] == pytest.approx(1.0) and "std" in is_
    assert is_["n_fake"] == 20


def test_eval_one_object(arrays):
    d, _, _ = arrays
    r = run("eval", str(d / "real.npy"), str(d / "fake.npy"), "--metrics", "fid,kid,prdc", "--json")
    out = json.loads(r.stdout)
    assert set(out["results"]) == {"fid", "kid", "prdc"}
    assert out["results"]["kid"]["settings"]["subset_size"] == 100


def test_stats_then_fid_from_stats(arrays):
    d, real, fake = arrays
    assert run("stats", str(d / "real.npy"), "-o", str(d / "r.npz")).exit_code == 0
    assert run("stats", str(d / "fake.npy"), "-o", str(d / "f.npz")).exit_code == 0
    out = json.loads(run("fid", str(d / "r.npz"), str(d / "f.npz"), "--json").stdout)
    assert out["value"] == pytest.approx(fid_from_features(real, fake).value, rel=1e-10)
    with np.load(d / "r.npz") as f:
        assert f["mu"].shape == (6,) and f["sigma"].shape == (6, 6)


def test_builtin_tabular_set_runs_offline():
    r = run("fid", "builtin:wine/train", "builtin:wine/test", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_real"] + json.loads(r.stdout)["n_fake"] == 178


def _error(r):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    return lines[0]


def test_bad_inputs(arrays, tmp_path):
    d, real, _ = arrays
    real_p = str(d / "real.npy")
    assert "missing.npy: no such file" in _error(run("fid", real_p, str(tmp_path / "missing.npy")))
    (tmp_path / "junk.npy").write_bytes(b"this is not numpy")
    assert "junk.npy" in _error(run("fid", real_p, str(tmp_path / "junk.npy")))
    (tmp_path / "notes.txt").write_text("hello")
    assert "unsupported file type '.txt'" in _error(run("fid", real_p, str(tmp_path / "notes.txt")))
    (tmp_path / "empty.npy").write_bytes(b"")
    assert "empty.npy: file is empty" in _error(run("fid", real_p, str(tmp_path / "empty.npy")))
    nan = real.copy()
    nan[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    assert "nan.npy: contains 1 non-finite value(s)" in _error(run("fid", real_p, str(tmp_path / "nan.npy")))
    np.save(tmp_path / "inf.npy", np.full((5, 6), np.inf))
    assert "inf.npy" in _error(run("kid", real_p, str(tmp_path / "inf.npy")))
    np.save(tmp_path / "one.npy", real[:1])
    assert "at least 2 samples" in _error(run("fid", real_p, str(tmp_path / "one.npy")))
    np.save(tmp_path / "narrow.npy", real[:, :4])
    assert "feature dimensions differ" in _error(run("fid", real_p, str(tmp_path / "narrow.npy")))
    assert "subset_size=500 is larger" in _error(run("kid", real_p, real_p, "--subset-size", "500"))
    assert "k=200 must be smaller" in _error(run("prdc", real_p, real_p, "--k", "200"))
    assert "'--kernel'" in _error(run("mmd", real_p, real_p, "--kernel", "laplace"))
    assert "--splits" in _error(run("is", real_p, "--splits", "0"))
    assert "No such option" in _error(run("fid", real_p, real_p, "--bogus"))
    assert "unknown built-in" in _error(run("fid", "builtin:nope/train", real_p))
    assert "unknown metric 'nope'" in _error(run("eval", real_p, real_p, "--metrics", "fid,nope"))


def test_stats_writes_nothing_on_bad_input(tmp_path):
    np.save(tmp_path / "nan.npy", np.full((4, 2), np.nan))
    out = tmp_path / "out.npz"
    _error(run("stats", str(tmp_path / "nan.npy"), "-o", str(out)))
    assert list(tmp_path.iterdir()) == [tmp_path / "nan.npy"]
    _error(run("stats", str(tmp_path / "nan.npy"), "-o", str(tmp_path / "no" / "dir.npz")))


def test_debug_shows_traceback(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        CliRunner().invoke(
            cli, ["--debug", "fid", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")], catch_exceptions=False
        )


def test_python_dash_m_entry_point(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "ganeval", "fid", str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.strip().startswith("error: ") and r.stdout == ""
    r = subprocess.run([sys.executable, "-m", "ganeval", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "fid" in r.stdout


def test_csv_columns_are_matched_by_name(tmp_path, rng):
    data = rng.normal(size=(40, 2))
    (tmp_path / "ab.csv").write_text("a,b\n" + "\n".join(f"{x},{y}" for x, y in data))
    (tmp_path / "ba.csv").write_text("b,a\n" + "\n".join(f"{y},{x}" for x, y in data))
    (tmp_path / "ac.csv").write_text("a,c\n" + "\n".join(f"{x},{y}" for x, y in data))
    from ganeval import maximum_mean_discrepancy

    mmd = json.loads(run("mmd", str(tmp_path / "ab.csv"), str(tmp_path / "ba.csv"), "--json").stdout)
    assert mmd["value"] == pytest.approx(maximum_mean_discrepancy(data, data).value, rel=1e-6)
    fid_same = json.loads(run("fid", str(tmp_path / "ab.csv"), str(tmp_path / "ba.csv"), "--json").stdout)
    assert fid_same["value"] == pytest.approx(0.0, abs=1e-9)
    assert "columns differ" in _error(run("fid", str(tmp_path / "ab.csv"), str(tmp_path / "ac.csv")))
