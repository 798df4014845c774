"""Mode metrics: closed forms on perfect, collapsed and off-mode samples."""

from __future__ import annotations

import numpy as np
import pytest

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.modes import mode_metrics
from ganeval.reference.datasets import mixture, training_set


def test_true_samples_cover_every_mode():
    for name in ("ring8", "grid25"):
        m = mixture(name)
        r = mode_metrics(training_set(name, "test").rows, m.centers, m.std)
        assert r.modes_covered == m.n_modes == r.n_modes
        # ||x - c|| / std is chi with 2 degrees of freedom: P(<= 3) = 1 - exp(-9/2)
        assert r.high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.005)
        assert r.kl_uniform == pytest.approx(0.0, abs=1e-9)  # equal counts per mode


def test_collapse_and_partial_coverage(rng):
    m = mixture("ring8")
    one = m.centers[3] + m.std * rng.normal(size=(500, 2))
    r = mode_metrics(one, m.centers, m.std)
    assert (r.modes_covered, r.counts[3]) == (1, r.counts[3]) and sum(r.counts) == r.counts[3]
    assert r.kl_uniform == pytest.approx(np.log(8))
    # 3 modes, shares 1/2, 1/4, 1/4: KL vs uniform over 8 = sum p log(8 p)
    pts = np.concatenate(
        [np.repeat(m.centers[[0]], 40, 0), np.repeat(m.centers[[1]], 20, 0), np.repeat(m.centers[[2]], 20, 0)]
    )
    r = mode_metrics(pts, m.centers, m.std)
    assert r.modes_covered == 3
    assert r.kl_uniform == pytest.approx(0.5 * np.log(4) + 2 * 0.25 * np.log(2))
    assert mode_metrics(pts, m.centers, m.std, min_count=21).modes_covered == 1


def test_off_mode_points_are_low_quality():
    m = mixture("ring8")
    r = mode_metrics(np.zeros((100, 2)), m.centers, m.std)  # the ring's centre: far from every mode
    assert (r.high_quality, r.modes_covered) == (0.0, 0)


def test_bad_inputs():
    m = mixture("ring8")
    with pytest.raises(ParameterError, match="std"):
        mode_metrics(np.zeros((5, 2)), m.centers, 0.0)
    with pytest.raises(DataError, match="dimensions"):
        mode_metrics(np.zeros((5, 3)), m.centers, 0.1)
    with pytest.raises(ParameterError, match="min_count"):
        mode_metrics(np.zeros((5, 2)), m.centers, 0.1, min_count=0)


def test_min_count_scales_with_the_sample_size_and_says_so():
    m = mixture("ring8")
    small = training_set("ring8", "test").rows[::50]  # 100 real points, about 12 per mode
    r = mode_metrics(small, m.centers, m.std)
    assert (r.modes_covered, r.settings["min_count"]) == (8, 1)
    assert r.settings["min_count_rule"] == "scaled: 20 per 2,500 samples at n=100"
    assert mode_metrics(small, m.centers, m.std, min_count=20).modes_covered == 0
    assert mode_metrics(small, m.centers, m.std, min_count=20).settings["min_count_rule"] == "given"
    big = training_set("ring8", "test").rows  # 5,000 points: 40 per mode needed
    assert mode_metrics(big, m.centers, m.std).settings["min_count"] == 40


def test_modes_command_prints_the_count_it_used(tmp_path):
    from click.testing import CliRunner
    from ganeval_cli.main import cli

    path = tmp_path / "few.npy"
    np.save(path, training_set("ring8", "test").rows[::50])
    result = CliRunner().invoke(cli, ["modes", str(path), "--data", "ring8"])
    assert result.exit_code == 0, result.output
    assert "modes_covered = 8" in result.output
    assert ">= 1 high-quality points (scaled: 20 per 2,500 samples at n=100" in result.output
    result = CliRunner().invoke(cli, ["modes", str(path), "--data", "ring8", "--min-count", "0"])
    assert result.exit_code == 2 and "Traceback" not in result.output
