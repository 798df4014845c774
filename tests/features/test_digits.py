"""The embedded digits network: shipped files and manifest, accuracy, statistics, the
builtin:digits image source, preprocessing, bad weights."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

import ganeval.features.digits as digits_mod
from ganeval.api import evaluate, load_features
from ganeval.errors import WeightsError
from ganeval.features import extract_features
from ganeval.features.digits import DigitsExtractor, digits_images, reference_file
from ganeval.sources import open_source
from ganeval.sources.builtin import load_builtin
from ganeval.sources.reference_stats import open_reference_stats, reference_names
from ganeval.statistics import FeatureStats

FILES = ("digits_cnn.pt", "digits_train_stats.npz", "digits_test_stats.npz")


@pytest.fixture(scope="module")
def manifest():
    return json.loads(reference_file("manifest.json").read_text())


@pytest.fixture(scope="module")
def test_split():
    return extract_features("builtin:digits/test", cache=False, num_workers=0)


def test_manifest_hashes_and_provenance(manifest):
    for name in FILES:
        entry = manifest["files"][name]
        assert hashlib.sha256(reference_file(name).read_bytes()).hexdigest() == entry["sha256"]
        assert entry["command"].startswith("python -m ganeval.features.digits_train")
        assert entry["torch"]
    assert manifest["files"]["digits_cnn.pt"]["test_accuracy"] >= 0.97


def test_weights_are_a_plain_state_dict():
    sd = torch.load(reference_file("digits_cnn.pt"), weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in sd.values()) and "fc2.weight" in sd


def test_accuracy_matches_manifest(manifest, test_split):
    data, idx = load_builtin("digits", "test")
    acc = float((test_split.logits.argmax(1) == data.labels[idx]).mean())
    assert acc == pytest.approx(manifest["files"]["digits_cnn.pt"]["test_accuracy"], abs=1e-6)


def test_shipped_stats_equal_recomputed(test_split):
    ref = open_reference_stats("ref:digits-test").stats
    mine = FeatureStats.from_features(test_split.features)
    assert ref.n == 898 and ref.metadata["weights_sha256"] == test_split.info["weights_sha256"]
    np.testing.assert_allclose(ref.mean, mine.mean, atol=1e-6)
    np.testing.assert_allclose(ref.cov, mine.cov, atol=1e-6)


def test_reference_names_and_error():
    assert reference_names() == {"digits-test": "digits_test_stats.npz", "digits-train": "digits_train_stats.npz"}
    with pytest.raises(Exception, match="unknown reference statistics 'cifar'; known: digits-test, digits-train"):
        open_source("ref:cifar")


def test_metrics_on_digits(test_split):
    assert test_split.features.shape == (898, 64) and test_split.logits.shape == (898, 10)
    feats = test_split.features
    assert abs(np.sqrt((feats**2).mean()) - 1) < 0.2  # unit-RMS features (rescaled on train)
    r = evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "is"], cache=False, num_workers=0)
    assert 0 <= r["fid"].value < 0.1 and 8 < r["is"].value <= 10
    assert r["fid"].settings["extractor"] == "digits"
    same = evaluate("ref:digits-test", "builtin:digits/test", ["fid"], cache=False)
    assert same["fid"].value == pytest.approx(0, abs=1e-6)


def test_builtin_digits_is_images_and_pixels_stay_rows():
    src = open_source("builtin:digits/train")
    assert src.kind == "images" and src.preferred_extractor == "digits" and len(src) == 899
    assert src.fingerprint() is None  # cheaper to recompute than to cache
    pix = load_features("builtin:digits-pixels/train")
    assert pix.rows.shape == (899, 64) and pix.info["extractor"] == "identity"
    data, idx = load_builtin("digits", "train")
    assert np.array_equal(pix.rows, data.rows[idx]) and data.rows.max() == 1.0  # rows = pixels / 16
    imgs = digits_images("train")
    assert np.array_equal(imgs.reshape(-1, 64), np.rint(data.rows[idx] * 255).astype(np.uint8))


def test_prepare_luma_and_resize():
    ext = DigitsExtractor()
    g = torch.arange(64, dtype=torch.uint8).reshape(1, 1, 8, 8) * 4
    x = ext.prepare(g.expand(1, 3, 8, 8))
    torch.testing.assert_close(x, g.float() / 255)
    red = torch.zeros(1, 3, 16, 16, dtype=torch.uint8)
    red[:, 0] = 255
    torch.testing.assert_close(ext.prepare(red), torch.full((1, 1, 8, 8), 0.299))
    big = torch.zeros(1, 3, 16, 16, dtype=torch.uint8)
    big[..., :2, :2] = 255  # one 2x2 block -> one pixel of the 8x8
    out = ext.prepare(big)
    assert out[0, 0, 0, 0] == pytest.approx(1.0) and out.sum() == pytest.approx(1.0)
    assert ext.prepare(torch.full((1, 3, 1, 1), 255, dtype=torch.uint8)).shape == (1, 1, 8, 8)


def test_wrong_shape_weights(tmp_path):
    sd = torch.load(reference_file("digits_cnn.pt"), weights_only=True)
    sd["fc1.weight"] = torch.zeros(3, 3)
    torch.save(sd, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match=r"bad\.pt: wrong shape for 'fc1.weight': \(3, 3\)"):
        extract_features(np.zeros((2, 8, 8), np.uint8), extractor="digits", weights=tmp_path / "bad.pt", cache=False)
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(WeightsError, match=r"junk\.pt: cannot be read as a torch weights file"):
        extract_features(np.zeros((2, 8, 8), np.uint8), extractor="digits", weights=tmp_path / "junk.pt", cache=False)


def test_shipped_weights_with_wrong_hash(tmp_path, monkeypatch):
    for name in ("digits_cnn.pt", "manifest.json"):
        shutil.copy(reference_file(name), tmp_path / name)
    sd = torch.load(tmp_path / "digits_cnn.pt", weights_only=True)
    sd["fc2.bias"] += 1
    torch.save(sd, tmp_path / "digits_cnn.pt")
    monkeypatch.setattr(digits_mod, "reference_file", lambda name: tmp_path / name)
    with pytest.raises(WeightsError, match=r"digits_cnn\.pt: sha256 is [0-9a-f]{64}, expected"):
        extract_features(np.zeros((2, 8, 8), np.uint8), extractor="digits", cache=False)


@pytest.mark.slow  # trains the network again (about 30 s)
def test_training_reproduces_shipped_weights(tmp_path):
    from ganeval.features.digits_train import main

    assert main(["--out", str(tmp_path)]) == 0
    new = torch.load(tmp_path / "digits_cnn.pt", weights_only=True)
    old = torch.load(reference_file("digits_cnn.pt"), weights_only=True)
    for k in old:
        torch.testing.assert_close(new[k], old[k], rtol=1e-4, atol=1e-5)
