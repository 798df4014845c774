"""`ganeval fid real/ fake/` and friends on image folders, end to end; every bad input ->
one `error:` line on stderr and exit status 2, nothing half-written in the cache."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from ganeval_cli.main import cli
from PIL import Image

from ganeval.features import extract_features
from ganeval.metrics.fid import fid_from_features


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(d))
    monkeypatch.delenv("GANEVAL_INCEPTION_WEIGHTS", raising=False)
    return d


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr if hasattr(result, "stderr") else result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def digit_folder(root, split, n, *, offset=0):
    """Write n digits of builtin:digits/<split> as 8x8 PNGs (lossless)."""
    from ganeval.features.digits import digits_images

    root.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(digits_images(split)[offset : offset + n]):
        Image.fromarray(img, "L").save(root / f"d{i:03d}.png")
    return root


@pytest.fixture
def folders(tmp_path):
    return digit_folder(tmp_path / "real", "train", 40), digit_folder(tmp_path / "fake" / "cls", "test", 30)


def test_fid_folders_digits_json(folders, isolated_cache):
    real, fake = folders
    r = run("fid", real, fake.parent, "--extractor", "digits", "--json", "--num-workers", "0")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["metric"] == "fid" and out["n_real"] == 40 and out["n_fake"] == 30
    assert out["settings"]["extractor"] == "digits" and out["settings"]["preprocessing"] == "luma-area-8x8"
    fr = extract_features(real, extractor="digits", cache=False).features
    ff = extract_features(fake.parent, extractor="digits", cache=False).features
    assert out["value"] == pytest.approx(fid_from_features(fr, ff).value, rel=1e-9)
    assert len(list(isolated_cache.iterdir())) == 2  # one cache entry per folder
    again = run("fid", real, fake.parent, "--extractor", "digits", "--json")
    assert json.loads(again.stdout)["value"] == out["value"]


def test_folder_equals_builtin_digits(tmp_path):
    """PNG folders of the embedded digits give the same features as builtin:digits."""
    real = digit_folder(tmp_path / "all_test", "test", 898)
    a = extract_features(real, extractor="digits", cache=False, num_workers=2).features
    b = extract_features("builtin:digits/test", cache=False).features
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_eval_all_metrics_one_pass(folders, monkeypatch):
    import ganeval.features.engine as engine

    calls = []
    real_run = engine.run_extraction
    monkeypatch.setattr(engine, "run_extraction", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    real, fake = folders
    r = run(
        "eval",
        real,
        fake.parent,
        "--extractor",
        "digits",
        "--metrics",
        "fid,kid,is,prdc",
        "--json",
        "--kid-subset-size",
        "10",
        "--no-cache",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out["results"]) == {"fid", "kid", "is", "prdc"} and len(calls) == 2
    assert 1 <= out["results"]["is"]["value"] <= 10


def test_is_and_stats_on_folder(folders, tmp_path):
    real, fake = folders
    r = run("is", fake.parent, "--extractor", "digits", "--splits", "2", "--json")
    assert r.exit_code == 0 and 1 <= json.loads(r.stdout)["value"] <= 10
    out = tmp_path / "s.npz"
    r = run("stats", real, "-o", out, "--extractor", "digits")
    assert r.exit_code == 0, r.output
    with np.load(out, allow_pickle=False) as d:
        assert d["mu"].shape == (64,) and d["sigma"].shape == (64, 64)
    r = run("fid", out, "ref:digits-train", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["value"] > 0


def test_builtin_digits_offline_default():
    r = run("fid", "builtin:digits/train", "builtin:digits/test", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["settings"]["extractor"] == "digits" and 0 <= out["value"] < 0.1


def test_skip_invalid_reported(folders):
    real, fake = folders
    (fake / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (fake / "empty.jpg").write_bytes(b"")
    r = run("fid", real, fake.parent, "--extractor", "digits", "--skip-invalid", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["settings"]["fake_skipped"] == 2 and out["n_fake"] == 30


def test_zip_input(folders, tmp_path):
    real, fake = folders
    z = tmp_path / "fake.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(fake.iterdir()):
            zf.write(p, f"imgs/{p.name}")
        zf.writestr("labels.csv", "a,b\n")
    a = json.loads(run("fid", real, z, "--extractor", "digits", "--json").stdout)
    b = json.loads(run("fid", real, fake, "--extractor", "digits", "--json").stdout)
    assert a["value"] == pytest.approx(b["value"], rel=1e-12)


# -- bad input: one line, exit 2, no cache written -------------------------------------------


def bad(tmp_path, kind):
    d = tmp_path / "bad"
    d.mkdir()
    if kind == "empty":
        return d, "folder is empty"
    if kind == "no-images":
        (d / "x.txt").write_text("hi")
        return d, "folder has no image files"
    Image.new("RGB", (8, 8)).save(d / "ok.png")
    if kind == "corrupt":
        (d / "c.png").write_bytes(b"definitely not an image")
        return d, r"c\.png: not a readable image"
    if kind == "truncated":
        buf = tmp_path / "t.png"
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf)
        data = buf.read_bytes()
        (d / "t.png").write_bytes(data[: len(data) // 2])
        return d, r"t\.png: corrupt or truncated image"
    if kind == "zero-byte":
        (d / "z.jpg").write_bytes(b"")
        return d, r"z\.jpg: file is empty"
    if kind == "zip-non-image":
        z = tmp_path / "x.zip"
        with zipfile.ZipFile(z, "w") as zf:
            zf.writestr("a.txt", "x")
        return z, "zip has no image members"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["empty", "no-images", "corrupt", "truncated", "zero-byte", "zip-non-image"])
def test_bad_inputs(tmp_path, folders, isolated_cache, kind):
    real, _ = folders
    path, message = bad(tmp_path, kind)
    line = error_line(run("fid", real, path, "--extractor", "digits", "--num-workers", "0"))
    import re

    assert re.search(message, line), line
    # the good input before it may be cached; nothing for the bad one, and no temp files
    assert all(p.name.startswith("features-") and p.suffix == ".npz" for p in isolated_cache.glob("*"))
    assert len(list(isolated_cache.glob("*"))) <= 1


def test_missing_folder(tmp_path, folders):
    real, _ = folders
    assert "no such file or directory" in error_line(run("fid", real, tmp_path / "nope", "--extractor", "digits"))


def test_odd_but_valid_images_work(tmp_path, folders):
    """1x1 image, 16-bit PNG, CMYK JPEG, palette and RGBA PNGs are read, not rejected."""
    real, _ = folders
    d = tmp_path / "odd"
    d.mkdir()
    Image.new("RGB", (1, 1), (200, 200, 200)).save(d / "one.png")
    Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).save(d / "sixteen.png")
    Image.new("CMYK", (8, 8), (0, 0, 0, 128)).save(d / "cmyk.jpg", "JPEG")
    Image.new("RGBA", (8, 8), (10, 200, 30, 0)).save(d / "rgba.png")
    Image.new("P", (8, 8)).save(d / "pal.png")
    r = run("fid", real, d, "--extractor", "digits", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_fake"] == 5


def test_cuda_without_gpu(folders):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    real, fake = folders
    line = error_line(run("fid", real, fake, "--extractor", "digits", "--device", "cuda"))
    assert "CUDA is not available" in line


def test_weights_errors(tmp_path, folders):
    real, fake = folders
    missing = error_line(run("fid", real, fake, "--weights", tmp_path / "none.pth"))
    assert "none.pth" in missing
    wrong = tmp_path / "wrong.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": torch.zeros(1)}, wrong)
    assert "not FID Inception v3 weights" in error_line(run("fid", real, fake, "--weights", wrong))
    bad_digits = tmp_path / "d.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, bad_digits)
    assert "not digits CNN weights" in error_line(
        run("fid", real, fake, "--extractor", "digits", "--weights", bad_digits)
    )


def test_hub_cache_weights_with_wrong_hash(folders, monkeypatch, tmp_path):
    import ganeval.features.weights as w

    hub = tmp_path / "hub" / w.FID_WEIGHTS_FILENAME
    hub.parent.mkdir()
    hub.write_bytes(b"not the real weights")
    monkeypatch.setattr(w, "hub_cache_path", lambda: hub)
    real, fake = folders
    line = error_line(run("fid", real, fake))
    assert "sha256 is" in line and w.FID_WEIGHTS_SHA256 in line


def test_no_inception_weights_says_where(folders, monkeypatch, tmp_path):
    import ganeval.features.weights as w

    monkeypatch.setattr(w, "hub_cache_path", lambda: tmp_path / "hub" / w.FID_WEIGHTS_FILENAME)
    monkeypatch.setattr(w, "_urllib_fetch", lambda url, dest: (_ for _ in ()).throw(OSError("offline")))
    real, fake = folders
    line = error_line(run("fid", real, fake))
    assert "--weights" in line and "--extractor digits" in line


@pytest.mark.slow  # about 30 s of Inception on 2 busy CPU cores
def test_inception_random_weights_end_to_end(tmp_path):
    """`ganeval fid` with --weights (seeded random FID Inception) on two tiny folders."""
    from ganeval.features.inception import FIDInceptionV3

    w = tmp_path / "random.pth"
    torch.save(FIDInceptionV3.random(seed=0).state_dict(), w)
    rng = np.random.default_rng(0)
    for side in ("r", "f"):
        (tmp_path / side).mkdir()
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (10 + i, 12, 3), dtype=np.uint8)).save(tmp_path / side / f"{i}.png")
    r = run(
        "eval",
        tmp_path / "r",
        tmp_path / "f",
        "--weights",
        w,
        "--metrics",
        "fid,is",
        "--splits",
        "1",
        "--json",
        "--num-workers",
        "0",
        "--batch-size",
        "4",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)["results"]
    assert out["fid"]["settings"]["extractor"] == "inception" and out["fid"]["settings"]["preprocessing"] == "tf"
    assert np.isfinite(out["fid"]["value"]) and out["fid"]["value"] > 0 and out["is"]["value"] >= 1
