"""CLI: --ci on the feature metrics, --infinity, vendi, memorization (with --grid), prd; bad input."""

import json

import click
import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import main

from ganeval import fid_from_features, memorization, vendi_score


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _main_cmd(ctx):
    main(list(ctx.args))


def run(*args):
    return CliRunner().invoke(_main_cmd, [str(a) for a in args], catch_exceptions=False)


def ok_json(*args):
    r = run(*args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def assert_error(r, fragment):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and fragment in lines[0], r.stderr
    assert "Traceback" not in r.output


@pytest.fixture
def files(tmp_path, rng):
    real = rng.normal(size=(150, 4))
    fake = rng.normal(size=(120, 4)) + 0.3
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "fake.npy", fake)
    np.save(tmp_path / "wide.npy", rng.normal(size=(120, 5)))
    np.save(tmp_path / "one.npy", rng.normal(size=(1, 4)))
    np.save(tmp_path / "small.npy", rng.normal(size=(15, 4)))
    return tmp_path, real, fake


def test_fid_ci_json(files):
    d, real, fake = files
    out = ok_json("fid", d / "real.npy", d / "fake.npy", "--ci", "0.95", "--bootstrap", "50")
    assert out["value"] == pytest.approx(fid_from_features(real, fake).value, rel=1e-12)
    assert out["ci_low"] <= out["value"] <= out["ci_high"] and out["se"] > 0
    s = out["settings"]
    assert s["ci"] == 0.95 and s["bootstrap"] == 50 and s["seed"] == 0
    again = ok_json("fid", d / "real.npy", d / "fake.npy", "--ci", "0.95", "--bootstrap", "50")
    assert again == out  # seeded


@pytest.mark.parametrize(
    "cmd,extra", [("kid", ["--subsets", "3", "--subset-size", "50"]), ("mmd", []), ("prdc", ["--k", "3"])]
)
def test_ci_on_other_metrics(files, cmd, extra):
    d, _, _ = files
    out = ok_json(cmd, d / "real.npy", d / "fake.npy", "--ci", "0.9", "--bootstrap", "10", *extra)
    assert out["settings"]["ci"] == 0.9
    if cmd == "prdc":
        assert set(out["se"]) == {"precision", "recall", "density", "coverage"}
    else:
        assert out["ci_low"] <= out["value"] <= out["ci_high"]


def test_human_line_shows_per_number_intervals(files):
    d, _, _ = files
    r = run("prdc", d / "real.npy", d / "fake.npy", "--k", "3", "--ci", "0.9", "--bootstrap", "10")
    assert r.exit_code == 0 and "ci_low = (precision " in r.stdout and "se = (precision " in r.stdout


def test_is_and_eval_ci(files):
    d, _, _ = files
    out = ok_json("is", d / "fake.npy", "--ci", "0.9", "--bootstrap", "10", "--splits", "2")
    assert out["ci_low"] <= out["value"] <= out["ci_high"]
    ev = ok_json("eval", d / "real.npy", d / "fake.npy", "--metrics", "fid,mmd", "--ci", "0.95", "--bootstrap", "10")
    assert {"ci_low", "ci_high", "se"} <= set(ev["results"]["fid"]) and ev["results"]["mmd"]["settings"]["ci"] == 0.95


def test_infinity(files):
    d, real, fake = files
    out = ok_json("fid", d / "real.npy", d / "fake.npy", "--infinity")
    assert {"value", "se", "value_at_n", "sizes"} <= set(out)
    assert len(out["sizes"]) == 15 and out["sizes"][-1] == 120
    assert out["value_at_n"] == pytest.approx(fid_from_features(real, fake).value, rel=1e-9)
    is_out = ok_json("is", d / "fake.npy", "--infinity")
    assert len(is_out["sizes"]) == 15 and is_out["settings"]["splits"] == 1
    ci_out = ok_json("fid", d / "real.npy", d / "fake.npy", "--infinity", "--ci", "0.9", "--bootstrap", "10")
    assert ci_out["ci_low"] <= ci_out["value"] <= ci_out["ci_high"]


def test_vendi_memorization_prd(files):
    d, real, fake = files
    v = ok_json("vendi", d / "fake.npy")
    assert v["value"] == pytest.approx(vendi_score(fake).value)
    assert ok_json("vendi", d / "fake.npy", "--kernel", "rbf", "--q", "inf")["settings"]["q"] == "inf"
    m = ok_json("memorization", d / "real.npy", d / "fake.npy", "--top", "3")
    ref = memorization(real, fake, top=3)
    assert m["value"] == ref.value and m["n_flagged"] == ref.n_flagged and len(m["closest"]) == 3
    p = ok_json("prd", d / "real.npy", d / "fake.npy", "--clusters", "5", "--runs", "2", "--angles", "51")
    assert {"f8", "f1_8", "precision", "recall"} <= set(p) and len(p["precision"]) == 51
    assert "f8 =" in run("prd", d / "real.npy", d / "fake.npy", "--clusters", "5", "--runs", "1").stdout
    args = ("prd", d / "real.npy", d / "fake.npy", "--clusters", "5", "--runs", "1", "--angles", "51")
    c = ok_json(*args, "--ci", "0.9", "--bootstrap", "10")
    plain = ok_json(*args)
    assert c["f8"] == plain["f8"] and c["precision"] == plain["precision"]  # the estimate is unchanged
    for key in ("f8", "f1_8"):
        assert 0 <= c["ci_low"][key] <= c[key] <= c["ci_high"][key] <= 1 and c["se"][key] > 0
    assert c["settings"]["ci"] == 0.9 and c["settings"]["bootstrap"] == 10
    assert "bootstrap interval" in run(*args, "--ci", "0.9", "--bootstrap", "10").stdout


def test_memorization_grid_png(tmp_path, rng):
    train = rng.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8)
    fake = np.concatenate([train[:5], rng.integers(0, 256, size=(15, 8, 8, 3), dtype=np.uint8)])
    np.save(tmp_path / "train.npy", train.transpose(0, 3, 1, 2).copy())
    np.save(tmp_path / "fake.npy", fake.transpose(0, 3, 1, 2).copy())
    png = tmp_path / "grid.png"
    out = ok_json(
        "memorization",
        tmp_path / "train.npy",
        tmp_path / "fake.npy",
        "--grid",
        png,
        "--top",
        "4",
        "--extractor",
        "digits",
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out["n_flagged"] >= 5
    feats = tmp_path / "f.npy"
    np.save(feats, rng.normal(size=(20, 3)))
    assert_error(run("memorization", feats, feats, "--grid", tmp_path / "g2.png"), "not images")
    assert not (tmp_path / "g2.png").exists()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["fid", "{d}/real.npy", "{d}/fake.npy", "--ci", "1.5"], "--ci must be in (0, 1)"),
        (["fid", "{d}/real.npy", "{d}/fake.npy", "--ci", "0"], "--ci must be in (0, 1)"),
        (["fid", "{d}/real.npy", "{d}/fake.npy", "--infinity", "--eps", "0.1"], "--eps cannot be combined"),
        (["kid", "{d}/real.npy", "{d}/fake.npy", "--ci", "0.9", "--bootstrap", "5"], "--bootstrap must be >= 10"),
        (["fid", "{d}/small.npy", "{d}/fake.npy", "--infinity"], "needs at least 20 samples"),
        (["is", "{d}/small.npy", "--infinity"], "needs at least 20 samples"),
        (["vendi", "{d}/one.npy"], "at least 2 samples, got 1"),
        (["memorization", "{d}/real.npy", "{d}/wide.npy"], "feature dimensions differ"),
        (["prd", "{d}/small.npy", "{d}/fake.npy"], "at least clusters=20 samples"),
        (["mmd", "{d}/real.npy", "{d}/fake.npy", "--bandwidth", "1e-300"], "bandwidth=1e-300 is too small"),
        (["mmd", "{d}/real.npy", "{d}/fake.npy", "--kernel", "poly", "--gamma", "1e200"], "poly kernel overflows"),
        (["vendi", "{d}/fake.npy", "--q", "-1"], "--q must be a number > 0"),
    ],
)
def test_bad_input_one_error_line(files, args, fragment):
    d, _, _ = files
    assert_error(run(*[a.format(d=d) for a in args]), fragment)


def test_mmd_block_size_and_estimator(files):
    d, _, _ = files
    a = ok_json("mmd", d / "real.npy", d / "fake.npy", "--bandwidth", "2")
    b = ok_json("mmd", d / "real.npy", d / "fake.npy", "--bandwidth", "2", "--block-size", "7")
    assert b["value"] == pytest.approx(a["value"], rel=1e-12) and b["settings"]["block_size"] == 7
    c = ok_json("mmd", d / "real.npy", d / "fake.npy", "--bandwidth", "2", "--estimator", "biased")
    assert c["settings"]["estimator"] == "biased" and c["value"] > a["value"]


def test_cmmd_ci(tmp_path, rng):
    np.save(tmp_path / "a.npy", rng.normal(size=(120, 8)))
    np.save(tmp_path / "b.npy", rng.normal(size=(120, 8)))  # the same law: the interval reaches down to 0
    plain = ok_json("cmmd", tmp_path / "a.npy", tmp_path / "b.npy")
    c = ok_json("cmmd", tmp_path / "a.npy", tmp_path / "b.npy", "--ci", "0.95", "--bootstrap", "30", "--seed", "2")
    assert c["value"] == pytest.approx(plain["value"], rel=1e-12)
    assert 0.0 <= c["ci_low"] <= c["value"] <= c["ci_high"] and c["se"] > 0  # clipped at 0, never below
    assert c["settings"]["seed"] == 2 and c["settings"]["bootstrap"] == 30
    assert_error(run("cmmd", tmp_path / "a.npy", tmp_path / "b.npy", "--ci", "2"), "--ci")
