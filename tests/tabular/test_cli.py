"""CLI: ecdf, c2st, nested-f1, wasserstein, divergence, mmd on CSV/NPY/builtin inputs; bad input -> exit 2."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import cli
from scipy import stats


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def ok_json(*args):
    r = run(*args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def assert_error(r, *fragments):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for frag in fragments:
        assert frag in lines[0], lines[0]
    assert "Traceback" not in r.output


def write_csv(path, names, rows):
    with open(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        for row in rows:
            fh.write(",".join(str(v) for v in row) + "\n")
    return path


@pytest.fixture
def tables(tmp_path, rng):
    real = rng.normal(size=(120, 3))
    fake = rng.normal(size=(100, 3)) + [0.8, 0, 0]
    names = ["a", "b", "c"]
    write_csv(tmp_path / "real.csv", names, real)
    write_csv(tmp_path / "fake.csv", names, fake)
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "fake.npy", fake)
    return tmp_path, real, fake


def test_ecdf_csv_and_npy_agree_with_scipy(tables):
    d, real, fake = tables
    out = ok_json("ecdf", d / "real.csv", d / "fake.csv")
    assert out["metric"] == "ecdf" and out["n_real"] == 120 and out["n_fake"] == 100
    ref = [stats.wasserstein_distance(real[:, j], fake[:, j]) for j in range(3)]
    assert out["per_feature"] == pytest.approx(ref, rel=1e-12)
    assert out["value"] == pytest.approx(np.mean(ref))
    assert out["settings"]["columns"] == ["a", "b", "c"] and out["version"]
    npy = ok_json("ecdf", d / "real.npy", d / "fake.npy", "--p", "inf")
    assert npy["per_feature"] == pytest.approx([stats.ks_2samp(real[:, j], fake[:, j]).statistic for j in range(3)])
    assert npy["settings"]["p"] == "inf"
    multi = ok_json("ecdf", d / "real.csv", d / "fake.npy", "--multivariate", "--p", "2", "--columns", "a,b")
    assert "per_feature" not in multi and 0 < multi["value"] < 1
    r = run("ecdf", d / "real.csv", d / "fake.csv")
    assert r.exit_code == 0 and r.stdout.startswith("ecdf: value = ")


def test_c2st_json(tables):
    d, _, _ = tables
    out = ok_json("c2st", d / "real.csv", d / "fake.csv", "--classifier", "logreg", "--folds", "4", "--seed", "2")
    for key in ("accuracy", "auc", "p_value", "kl", "js_lower_bound", "log_loss"):
        assert key in out
    assert out["accuracy"] > 0.6 and out["p_value"] < 0.01
    assert out["settings"]["folds"] == 4 and out["settings"]["seed"] == 2
    again = ok_json("c2st", d / "real.csv", d / "fake.csv", "--classifier", "logreg", "--folds", "4", "--seed", "2")
    assert again == out
    perm = ok_json("c2st", d / "real.npy", d / "fake.npy", "--classifier", "knn", "--permutations", "9")
    assert perm["settings"]["test"] == "permutation" and perm["p_value"] >= 0.1


def test_nested_f1_builtin_and_csv(tmp_path, rng):
    out = ok_json(
        "nested-f1",
        "builtin:wine/train",
        "builtin:wine/train",
        "builtin:wine/test",
        "--target",
        "target",
        "--model",
        "logreg",
    )
    assert out["metric"] == "nested-f1" and out["ratio"] == 1.0 and out["f1_real"] > 0.85
    assert set(out) >= {"value", "f1_real", "ratio", "n_real", "n_fake", "settings", "version"}
    x = rng.normal(size=(200, 2))
    lab = np.where(x[:, 0] > 0, "yes", "no")
    write_csv(tmp_path / "tr.csv", ["u", "v", "y"], [(a, b, c) for (a, b), c in zip(x, lab)])
    write_csv(tmp_path / "fk.csv", ["y", "u", "v"], [(c, a, b) for (a, b), c in zip(x, rng.permutation(lab))])
    out = ok_json("nested-f1", tmp_path / "tr.csv", tmp_path / "fk.csv", "--target", "y", "--model", "logreg")
    assert out["f1_real"] > 0.9 and out["value"] < 0.8 and "stratified" in out["settings"]["test"]


def test_wasserstein_json(tables):
    import ot

    d, real, fake = tables
    out = ok_json("wasserstein", d / "real.csv", d / "fake.csv", "--p", "2", "--per-feature")
    ref = ot.emd2(np.full(120, 1 / 120), np.full(100, 1 / 100), ot.dist(real, fake)) ** 0.5
    assert out["value"] == pytest.approx(ref, rel=1e-10) and out["converged"] is True
    assert len(out["per_feature"]) == 3
    sl = ok_json("wasserstein", d / "real.npy", d / "fake.npy", "--sliced", "--projections", "50", "--seed", "1")
    assert sl["settings"]["sliced"] is True and 0 < sl["value"] < out["value"]
    r = run("wasserstein", d / "real.npy", d / "fake.npy", "--max-iter", "3")
    assert_error(r, "did not reach the optimum")
    r = run("wasserstein", d / "real.npy", d / "fake.npy", "--max-iter", "3", "--allow-nonconverged", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["converged"] is False
    assert r.stderr.startswith("warning: exact optimal transport did not reach the optimum")


def test_divergence_json(tables):
    d, _, _ = tables
    out = ok_json("divergence", d / "real.csv", d / "fake.csv", "--divergence", "tv", "--bins", "10")
    assert 0 < out["value"] < 1 and len(out["per_feature"]) == 3


def slow_mmd2_rbf(x, y, bw):
    k = lambda a, b: math.exp(-float(((a - b) ** 2).sum()) / (2 * bw * bw))
    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(a, b) for a in x for b in y) / (m * n)
    return sxx + syy - 2 * sxy


def test_mmd_on_csv_agrees_with_slow_reference(tmp_path, rng):
    real, fake = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + 0.5
    write_csv(tmp_path / "r.csv", ["p", "q"], real)
    write_csv(tmp_path / "f.csv", ["p", "q"], fake)
    out = ok_json("mmd", tmp_path / "r.csv", tmp_path / "f.csv", "--bandwidth", "1.5")
    assert out["value"] == pytest.approx(slow_mmd2_rbf(real, fake, 1.5), rel=1e-10)
    poly = ok_json("mmd", tmp_path / "r.csv", tmp_path / "f.csv", "--kernel", "poly")
    kp = lambda a, b: (float(a @ b) / 2 + 1) ** 3
    m, n = len(real), len(fake)
    ref = (
        sum(kp(real[i], real[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        + sum(kp(fake[i], fake[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        - 2 * sum(kp(a, b) for a in real for b in fake) / (m * n)
    )
    assert poly["value"] == pytest.approx(ref, rel=1e-10)
    med = ok_json("mmd", tmp_path / "r.csv", tmp_path / "f.csv")
    assert med["settings"]["bandwidth_rule"] == "median" and med["value"] > 0


# -- bad input: one line, exit 2 ---------------------------------------------------------------


def test_bad_csv_inputs(tmp_path, tables):
    d, _, _ = tables
    missing = write_csv(tmp_path / "missing.csv", ["a", "b", "c"], [(1, 2, 3), (4, "", 6)])
    assert_error(run("ecdf", d / "real.csv", missing), "missing value at data row 2, column 'b'")
    text = write_csv(tmp_path / "text.csv", ["a", "b", "c"], [(1, "x", 3), (4, "y", 6)])
    assert_error(run("c2st", text, text), "column 'b' is not numeric")
    other = write_csv(tmp_path / "other.csv", ["a", "b", "z"], [(1, 2, 3), (4, 5, 6)])
    assert_error(run("wasserstein", d / "real.csv", other), "columns differ")
    (tmp_path / "empty.csv").write_text("")
    assert_error(run("ecdf", tmp_path / "empty.csv", d / "fake.csv"), "file is empty")
    (tmp_path / "empty.npy").write_bytes(b"")
    assert_error(run("ecdf", d / "real.npy", tmp_path / "empty.npy"), "file is empty")
    np.save(tmp_path / "four.npy", np.zeros((5, 4)))
    assert_error(run("ecdf", d / "real.npy", tmp_path / "four.npy"), "feature dimensions differ")
    assert_error(run("divergence", d / "real.npy", tmp_path / "four.npy"), "feature dimensions differ")
    assert_error(run("mmd", d / "real.csv", tmp_path / "missing.csv"), "missing value")


def test_categorical_on_the_command_line(tmp_path):
    write_csv(tmp_path / "r.csv", ["proto", "n"], [("tcp", 1), ("udp", 2), ("tcp", 3), ("udp", 4)])
    write_csv(tmp_path / "f.csv", ["n", "proto"], [(1, "udp"), (2, "udp"), (3, "tcp")])
    out = ok_json("ecdf", tmp_path / "r.csv", tmp_path / "f.csv", "--categorical", "proto")
    assert out["settings"]["columns"] == ["proto=tcp", "proto=udp", "n"]
    write_csv(tmp_path / "g.csv", ["n", "proto"], [(1, "gre"), (2, "udp")])
    r = run("ecdf", tmp_path / "r.csv", tmp_path / "g.csv", "--categorical", "proto")
    assert r.exit_code == 0 and "warning: " in r.stderr and "not seen in the real data" in r.stderr
    assert_error(run("ecdf", tmp_path / "r.csv", tmp_path / "f.csv"), "column 'proto' is not numeric")


def test_bad_target(tmp_path):
    one = write_csv(tmp_path / "one.csv", ["a", "y"], [(1, 0), (2, 0), (3, 0)])
    two = write_csv(tmp_path / "two.csv", ["a", "y"], [(1, 0), (2, 1), (3, 0), (4, 1)])
    assert_error(run("nested-f1", two, one, "--target", "y"), "one class")
    assert_error(run("nested-f1", two, two, "--target", "label"), "has no target column 'label'")
    r = run("nested-f1", two, two)
    assert r.exit_code == 2 and "--target" in r.output


@pytest.mark.parametrize("p", ["0", "-1", "abc"])
def test_bad_p(tables, p):
    d, _, _ = tables
    assert_error(run("ecdf", d / "real.npy", d / "fake.npy", "--p", p), "--p must be")


def test_bad_wasserstein_p(tables):
    d, _, _ = tables
    r = run("wasserstein", d / "real.npy", d / "fake.npy", "--p", "0")
    assert r.exit_code == 2


def test_npz_and_dataframe_inputs(tables, tmp_path):
    import pandas as pd

    from ganeval.metrics.ecdf import ecdf_distance
    from ganeval.sources.tabular import load_table_pair

    d, real, fake = tables
    np.savez(tmp_path / "fake.npz", features=fake)
    out = ok_json("ecdf", d / "real.csv", tmp_path / "fake.npz")
    assert out["value"] == pytest.approx(ecdf_distance(real, fake).value, rel=1e-12)
    pair = load_table_pair(pd.DataFrame(real, columns=["a", "b", "c"]), d / "fake.csv")
    np.testing.assert_allclose(pair.fake, fake, rtol=1e-12)


@pytest.mark.parametrize("command", ["ecdf", "c2st", "wasserstein", "divergence"])
def test_tabular_ci_gives_an_interval_around_the_plain_value(command, tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.normal(size=(150, 2)))
    np.save(tmp_path / "b.npy", rng.normal(size=(140, 2)) + 0.5)
    plain = ok_json(command, tmp_path / "a.npy", tmp_path / "b.npy")
    out = ok_json(command, tmp_path / "a.npy", tmp_path / "b.npy", "--ci", "0.9", "--bootstrap", "20", "--seed", "1")
    assert out["value"] == pytest.approx(plain["value"], rel=1e-12)  # the estimate itself is unchanged
    assert out["ci_low"] <= out["value"] <= out["ci_high"] and out["se"] > 0
    assert out["settings"]["ci"] == 0.9 and out["settings"]["bootstrap"] == 20 and out["settings"]["seed"] == 1
    expected = "half-sampling without replacement" if command == "c2st" else "with replacement"
    assert out["settings"]["resampling"] == expected
    again = ok_json(command, tmp_path / "a.npy", tmp_path / "b.npy", "--ci", "0.9", "--bootstrap", "20", "--seed", "1")
    assert again["ci_low"] == out["ci_low"] and again["ci_high"] == out["ci_high"]  # seeded


def test_tabular_ci_bad_values_are_one_error_line(tmp_path):
    np.save(tmp_path / "a.npy", np.random.default_rng(0).normal(size=(30, 2)))
    assert_error(run("ecdf", tmp_path / "a.npy", tmp_path / "a.npy", "--ci", "1.5"), "--ci")
    assert_error(
        run("divergence", tmp_path / "a.npy", tmp_path / "a.npy", "--ci", "0.9", "--bootstrap", "3"), "--bootstrap"
    )


def test_compare_ci_refuses_nested_f1():
    from ganeval.compare import compare
    from ganeval.errors import ParameterError

    with pytest.raises(ParameterError, match="nested-f1 has no bootstrap interval"):
        compare("builtin:wine/train", "builtin:wine/test", ["ecdf", "nested-f1"], target="target", ci=0.95)
