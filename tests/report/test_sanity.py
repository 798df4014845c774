"""Disturbances and the metric sanity suite."""

import numpy as np
import pytest

from ganeval.errors import ParameterError
from ganeval.features.digits import digits_images
from ganeval.report.disturb import LEVELS, disturb_digits
from ganeval.report.sanity import EXPECTED, compute_sanity, sanity_markdown
from ganeval.sources.builtin import load_builtin


@pytest.fixture(scope="module")
def digits():
    data, idx = load_builtin("digits", "test")
    return digits_images("test"), data.labels[idx], digits_images("train")


@pytest.mark.parametrize("kind", list(LEVELS))
def test_each_disturbance_grows_with_level_and_is_seeded(kind, digits):
    x, y, train = digits
    diffs = []
    for level in range(6):
        out, info = disturb_digits(x, y, kind, level, seed=1, train_images=train)
        again, _ = disturb_digits(x, y, kind, level, seed=1, train_images=train)
        assert out.dtype == np.uint8 and out.shape[1:] == (8, 8) and np.array_equal(out, again)
        assert info["parameter"] == LEVELS[kind][level]
        if kind == "mode_dropping":
            diffs.append(-out.shape[0])
        else:
            assert out.shape == x.shape
            diffs.append(float(np.abs(out.astype(int) - x).mean()))
    assert diffs[0] == (-x.shape[0] if kind == "mode_dropping" else 0.0)
    assert diffs[5] > diffs[1] >= diffs[0]


def test_mode_dropping_removes_whole_classes(digits):
    x, y, _ = digits
    out, _ = disturb_digits(x, y, "mode_dropping", 2)  # 3 classes
    assert out.shape[0] == int(np.isin(y, [3, 4, 5, 6, 7, 8, 9]).sum())


def test_bad_disturbance_parameters(digits):
    x, y, _ = digits
    with pytest.raises(ParameterError, match="disturbance must be one of"):
        disturb_digits(x, y, "jpeg", 1)
    with pytest.raises(ParameterError, match="level must be an integer 0..5"):
        disturb_digits(x, y, "swirl", 6)
    with pytest.raises(ParameterError, match="needs train_images"):
        disturb_digits(x, y, "memorisation", 1)


def test_sanity_suite_on_noise_and_mode_dropping():
    out = compute_sanity(disturbances=("gaussian_noise", "mode_dropping"))
    verdicts = {(r["disturbance"], r["metric"]): r["verdict"] for r in out["results"]}
    for m in ("FID", "KID", "precision", "recall", "coverage", "C2ST"):
        assert verdicts[("gaussian_noise", m)] == "pass", m
    for m in ("FID", "KID", "recall", "coverage", "C2ST"):
        assert verdicts[("mode_dropping", m)] == "pass", m
    assert verdicts[("mode_dropping", "precision")] == "-"  # no expectation stated
    assert out["table"]["gaussian_noise"]["FID"][0] == out["table"]["mode_dropping"]["FID"][0]
    md = sanity_markdown(out)
    assert "| gaussian_noise |" in md and "expectations pass" in md


def test_expectations_cover_every_disturbance():
    assert set(EXPECTED) == set(LEVELS)
    for d, exp in EXPECTED.items():
        assert set(exp.values()) <= {"up", "down"}
        assert {"FID", "KID", "C2ST"} <= set(exp), d


@pytest.mark.slow
def test_full_sanity_suite_cli(tmp_path):
    from .conftest import run_cli

    r = run_cli("report", "--suite", "sanity", "--out", tmp_path / "s", "-q")
    assert r.exit_code == 0 and "| swirl |" in r.output
    assert (tmp_path / "s" / "figures" / "sanity_grid.png").is_file()
    assert run_cli("report", "--verify", tmp_path / "s", "-q").exit_code == 0
