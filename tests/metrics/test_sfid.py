"""sFID through :func:`ganeval.evaluate`: the Fréchet distance of the Inception's spatial
features, from images (same pass as pool3) and from an ADM reference batch's stored moments.

The Inception runs with seeded random weights saved to a file and found through
``GANEVAL_INCEPTION_WEIGHTS`` (the real loading code); its spatial output is checked against
pytorch-fid's network in tests/features/test_spatial.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganeval
from ganeval.errors import DataError
from ganeval.features import extract_features
from ganeval.features.inception import SPATIAL_DIM, FIDInceptionV3
from ganeval.metrics.fid import frechet_distance
from ganeval.metrics.registry import get


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("w") / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(FIDInceptionV3.random(seed=5).state_dict(), path)
    return str(path)


@pytest.fixture
def env(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_INCEPTION_WEIGHTS", weights)
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _images(seed: int, n: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, size=(n, 4, 4, 3)).astype(np.uint8)
    return np.repeat(np.repeat(low, 4, axis=1), 4, axis=2)  # (n, 16, 16, 3)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), np.cov(x, rowvar=False)


def test_declaration():
    m = get("sfid")
    assert m.features == "spatial" and m.takes == "moments" and get("fid").features == ""


def test_sfid_of_rows_is_frechet_distance():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(60, 4)) * 1.5 + 0.3
    assert get("sfid")(a, b).value == pytest.approx(frechet_distance(*_moments(a), *_moments(b)), rel=1e-12)


@pytest.mark.slow
def test_sfid_through_evaluate_equals_frechet_distance_of_spatial_features(env):
    real, fake = _images(0), _images(1)
    r = ganeval.evaluate(real, fake, ["fid", "sfid"], extractor="inception", device="cpu", num_workers=0)
    opts = {"extractor": "inception", "device": "cpu", "num_workers": 0, "outputs": ("spatial",)}
    er, ef = extract_features(real, **opts), extract_features(fake, **opts)
    assert er.extras["spatial"].shape == (5, SPATIAL_DIM)
    want_s = frechet_distance(*_moments(er.extras["spatial"]), *_moments(ef.extras["spatial"]))
    want = frechet_distance(*_moments(er.features), *_moments(ef.features))
    assert want_s > 1e-3 and abs(r["sfid"].value - want_s) <= 1e-9 * want_s
    assert abs(r["fid"].value - want) <= 1e-9 * want and abs(want - want_s) > 1e-3 * want
    assert r["sfid"].settings["extractor"] == "inception" and r["sfid"].settings["output"] == "spatial"


@pytest.mark.slow
def test_adm_reference_batch_as_real_gives_fid_and_sfid_from_stored_moments(env):
    rng = np.random.default_rng(2)

    def psd(d):
        a = rng.normal(size=(d, d // 4))
        return a @ a.T / d + 0.01 * np.eye(d)

    mu, sigma = rng.normal(size=2048) * 0.1, psd(2048)
    mu_s, sigma_s = rng.normal(size=SPATIAL_DIM) * 0.1, psd(SPATIAL_DIM)
    ref = env / "VIRTUAL_ref.npz"
    np.savez(ref, mu=mu, sigma=sigma, mu_s=mu_s, sigma_s=sigma_s)
    fake = _images(3)
    r = ganeval.evaluate(str(ref), fake, ["fid", "sfid"], extractor="inception", device="cpu", num_workers=0)
    ef = extract_features(fake, extractor="inception", device="cpu", num_workers=0, outputs=("spatial",))
    want = frechet_distance(mu, sigma, *_moments(ef.features))
    want_s = frechet_distance(mu_s, sigma_s, *_moments(ef.extras["spatial"]))
    assert abs(r["fid"].value - want) <= 1e-9 * want
    assert abs(r["sfid"].value - want_s) <= 1e-9 * want_s


def test_statistics_without_spatial_moments_is_a_data_error(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        np.savez(tmp_path / f"{name}.npz", mu=rng.normal(size=3), sigma=np.eye(3))
    with pytest.raises(DataError, match="has no 'spatial' features"):
        ganeval.evaluate(str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), ["sfid"])


def test_stats_files_with_spatial_moments(tmp_path):
    """Two statistics files holding mu_s/sigma_s (``ganeval stats --spatial``): no network."""
    rng = np.random.default_rng(4)
    ms = []
    for name in ("a", "b"):
        x, s = rng.normal(size=(30, 3)), rng.normal(size=(30, 5)) + (name == "b")
        np.savez(
            tmp_path / f"{name}.npz",
            mu=x.mean(0),
            sigma=np.cov(x, rowvar=False),
            mu_s=s.mean(0),
            sigma_s=np.cov(s, rowvar=False),
        )
        ms.append(_moments(s))
    r = ganeval.evaluate(str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), ["sfid"])
    assert r["sfid"].value == pytest.approx(frechet_distance(*ms[0], *ms[1]), rel=1e-12)


def test_feature_rows_given_as_they_are_are_read_as_spatial_rows():
    """A plain 2-D array (no extractor ran) is taken as the spatial features themselves, as
    the Inception Score takes a 2-D array as logits; with --ci the rows are resampled."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 0.5
    r = ganeval.evaluate(a, b, ["sfid"])["sfid"]
    assert r.value == pytest.approx(frechet_distance(*_moments(a), *_moments(b)), rel=1e-12)
    ri = ganeval.evaluate(a, b, ["sfid"], ci=0.9, bootstrap=10)["sfid"]
    assert ri.ci_low <= ri.value <= ri.ci_high
