"""CMMD: the published formula, the biased MMD estimator behind it, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganeval import evaluate
from ganeval.errors import ParameterError
from ganeval.metrics import get_metric
from ganeval.metrics.cmmd import CMMD_SCALE, CMMD_SIGMA, cmmd_from_features
from ganeval.metrics.mmd import maximum_mean_discrepancy


def published_cmmd(x: np.ndarray, y: np.ndarray) -> float:
    """CMMD as google-research/cmmd/distance.py computes it: 1000 (mean K_xx + mean K_yy - 2 mean K_xy)."""
    gamma = 1 / (2 * 10**2)

    def k(a, b):
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-gamma * sq)

    return 1000 * (k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())


def _unit_rows(g, n, d, shift=0.0):
    x = g.normal(size=(n, d)) + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def fixtures():
    g = np.random.default_rng(7)
    return _unit_rows(g, 80, 16), _unit_rows(g, 60, 16, 0.3), g.normal(size=(30, 5)) * 4


def test_equals_the_published_formula(fixtures):
    x, y, z = fixtures
    for a, b in ((x, y), (y, x), (x, x[:40]), (z, z[::-1] + 1)):
        assert cmmd_from_features(a, b).value == pytest.approx(published_cmmd(a, b), rel=1e-10, abs=1e-12)


def test_known_value_on_two_points():
    # two copies of one point each, distance 1: k = exp(-1/200); V-statistic = 1 + 1 - 2k
    r = cmmd_from_features(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert r.value == pytest.approx(1000 * (2 - 2 * np.exp(-1 / 200)), rel=1e-12)


def test_settings_and_properties(fixtures):
    x, y, _ = fixtures
    r = cmmd_from_features(x, y)
    assert r.metric == "cmmd" and (r.n_real, r.n_fake) == (80, 60)
    assert r.settings == {"kernel": "rbf", "bandwidth": CMMD_SIGMA, "estimator": "biased", "scale": CMMD_SCALE}
    assert r.value > 0 and cmmd_from_features(x, x.copy()).value == pytest.approx(0, abs=1e-12)
    assert get_metric("cmmd").takes == "two-sample"


def test_is_mmd_with_fixed_settings(fixtures):
    x, y, _ = fixtures
    biased = maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth=10.0, estimator="biased")
    unbiased = maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth=10.0)
    assert cmmd_from_features(x, y).value == pytest.approx(1000 * biased.value, rel=1e-14)
    assert biased.settings["estimator"] == "biased" and unbiased.settings["estimator"] == "unbiased"
    # the estimators differ only by the diagonal terms k(x_i, x_i) = 1:
    # biased = ((m - 1) U_xx + 1) / m + ((n - 1) U_yy + 1) / n - 2 S_xy, with U the off-diagonal means
    m, n = len(x), len(y)

    def offdiag_mean(a):
        k = np.exp(-((a[:, None, :] - a[None, :, :]) ** 2).sum(-1) / 200)
        return (k.sum() - np.trace(k)) / (len(a) * (len(a) - 1))

    uxx, uyy = offdiag_mean(x), offdiag_mean(y)
    sxy = (uxx + uyy - unbiased.value) / 2
    assert biased.value == pytest.approx(((m - 1) * uxx + 1) / m + ((n - 1) * uyy + 1) / n - 2 * sxy, rel=1e-9)
    with pytest.raises(ParameterError, match="estimator"):
        maximum_mean_discrepancy(x, y, estimator="v")


def test_cli_on_feature_files(tmp_path, fixtures, capsys):
    from ganeval_cli.main import main

    x, y, _ = fixtures
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    with pytest.raises(SystemExit) as ex:
        main(["cmmd", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "--json"])
    assert ex.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metric"] == "cmmd" and out["value"] == pytest.approx(published_cmmd(x, y), rel=1e-10)
    assert out["settings"]["estimator"] == "biased" and out["n_real"] == 80
    r = evaluate(tmp_path / "x.npy", tmp_path / "y.npy", ["fid", "cmmd"])
    assert r["cmmd"].value == pytest.approx(out["value"], rel=1e-14)


def test_cli_dimension_mismatch_is_one_error_line(tmp_path, fixtures, capsys):
    from ganeval_cli.main import main

    x, _, z = fixtures
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "z.npy", z)
    with pytest.raises(SystemExit) as ex:
        main(["cmmd", str(tmp_path / "x.npy"), str(tmp_path / "z.npy")])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "dimension" in err[0]


@pytest.mark.slow  # 10 s on 2 cores; the CLIP extraction from a folder runs by default in tests/features/test_clip.py
def test_cli_on_images_uses_clip(tmp_path, monkeypatch, capsys):
    """`ganeval cmmd real/ fake/ --weights W` end to end (CLIP ViT-B/32 with random weights)."""
    pytest.importorskip("timm")
    import torch
    from ganeval_cli.main import main
    from PIL import Image

    from ganeval.features.vit import random_original_state_dict
    from ganeval.features.weights import file_sha256

    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    g = np.random.default_rng(0)
    for name in ("real", "fake"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.fromarray(g.integers(0, 256, size=(24, 30, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    weights = tmp_path / "clip.pt"
    torch.save(random_original_state_dict("clip", "vit-b-32", seed=1), weights)
    with pytest.raises(SystemExit) as ex:
        main(
            [
                "cmmd",
                str(tmp_path / "real"),
                str(tmp_path / "fake"),
                "--extractor",
                "clip:vit-b-32",
                "--weights",
                str(weights),
                "--num-workers",
                "0",
                "--json",
            ]
        )
    assert ex.value.code == 0
    out = json.loads(capsys.readouterr().out)
    s = out["settings"]
    assert s["extractor"] == "clip:vit-b-32" and s["preprocessing"] == "cmmd"
    assert s["weights_sha256"] == file_sha256(weights) and out["value"] >= 0
    # the default extractor of `cmmd` for images is clip (ViT-L/14@336): absent weights say so
    monkeypatch.delenv("GANEVAL_CLIP_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(SystemExit) as ex:
        main(["cmmd", str(tmp_path / "real"), str(tmp_path / "fake"), "--num-workers", "0"])
    assert ex.value.code == 2
    assert "CLIP (clip:vit-l-14-336) weights not found" in capsys.readouterr().err
