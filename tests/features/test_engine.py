"""The extraction engine: order, workers, mixed sizes, bad files, devices, extractor choice,
and (Inception, random weights) features equal to pytorch-fid's on the same folder."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganeval.errors import DeviceError, InputError, ParameterError, WeightsError
from ganeval.features import extract_features, get_extractor
from ganeval.features.engine import resolve_device, run_extraction
from ganeval.sources import open_source
from ganeval.sources.images import ArrayImageSource, FolderImageSource, GeneratorImageSource


class Pixels:
    """A tiny extractor: each image area-resized to 2x2, its 12 values (0..1) are the features;
    logits are the per-channel means."""

    name = "pixels"
    preprocessing = None

    def prepare(self, x):
        return F.adaptive_avg_pool2d(x.float() / 255, (2, 2))

    def build(self, device):
        return lambda x: {"f": x.flatten(1), "l": x.mean(dim=(2, 3))}

    def split_outputs(self, out):
        return out["f"], out["l"]


def expected_pixels(img: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(img).permute(2, 0, 1)[None]
    return Pixels().prepare(t).flatten(1)[0].double().numpy()


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    imgs = {}
    for i, size in enumerate([(5, 7), (9, 9), (2, 3), (1, 1), (16, 4)]):  # mixed sizes, a 1x1 image
        a = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        Image.fromarray(a).save(tmp_path / f"{i:02d}.png")
        imgs[i] = a
    return tmp_path, imgs


@pytest.mark.parametrize("workers", [0, 2])
def test_folder_order_and_values(folder, workers):
    path, imgs = folder
    f, logits, skipped = run_extraction(FolderImageSource(path), Pixels(), batch_size=2, num_workers=workers)
    assert skipped == 0 and f.shape == (5, 12) and f.dtype == np.float64 and logits.shape == (5, 3)
    for i, a in imgs.items():
        np.testing.assert_allclose(f[i], expected_pixels(a), rtol=0, atol=1e-6)


@pytest.mark.parametrize("workers", [0, 2])
def test_corrupt_file_stops_with_its_name(folder, workers):
    path, _ = folder
    (path / "03.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match=r"03\.png: ") as e:
        run_extraction(FolderImageSource(path), Pixels(), batch_size=2, num_workers=workers)
    assert "\n" not in str(e.value)


def test_skip_invalid_counts(folder):
    path, imgs = folder
    (path / "01.png").write_bytes(b"")
    data = (path / "02.png").read_bytes()
    (path / "02.png").write_bytes(data[: len(data) // 2])
    f, _, skipped = run_extraction(FolderImageSource(path, skip_invalid=True), Pixels(), batch_size=2, num_workers=2)
    assert skipped == 2 and f.shape == (3, 12)
    np.testing.assert_allclose(f[1], expected_pixels(imgs[3]), atol=1e-6)


def test_all_invalid_is_an_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.jpg").write_bytes(b"junk")
    with pytest.raises(InputError, match=r"no readable images \(2 skipped as invalid\)"):
        run_extraction(FolderImageSource(tmp_path, skip_invalid=True), Pixels(), num_workers=0)


def test_batch_size_does_not_change_features(folder):
    path, _ = folder
    a, _, _ = run_extraction(FolderImageSource(path), Pixels(), batch_size=1, num_workers=0)
    b, _, _ = run_extraction(FolderImageSource(path), Pixels(), batch_size=50, num_workers=0)
    assert np.array_equal(a, b)


def test_in_memory_and_generator_sources():
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (7, 6, 6, 3), dtype=np.uint8)
    f, _, _ = run_extraction(ArrayImageSource("a", arr), Pixels(), batch_size=3)
    assert f.shape == (7, 12)
    g, _, _ = run_extraction(GeneratorImageSource("g", lambda: (arr[i : i + 2] for i in range(0, 7, 2))), Pixels())
    assert np.array_equal(f, g)


def test_devices():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ParameterError, match="device must be"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_gpu_is_a_device_error():
    with pytest.raises(DeviceError, match="device='cuda': CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(DeviceError):
        extract_features(np.zeros((2, 8, 8, 3), np.uint8), extractor="digits", device="cuda", cache=False)


def test_extractor_choice():
    digits = open_source("builtin:digits/test")
    assert digits.kind == "images" and digits.preferred_extractor == "digits"
    assert get_extractor("inception").name == "inception"
    with pytest.raises(
        ParameterError, match="extractor must be one of 'auto', 'clip', 'digits', 'dinov2', 'inception'; got 'vgg'"
    ):
        extract_features(np.zeros((2, 8, 8, 3), np.uint8), extractor="vgg", cache=False)
    with pytest.raises(ParameterError, match="preprocessing must be one of"):
        extract_features(np.zeros((2, 8, 8, 3), np.uint8), extractor="inception", preprocessing="bicubic", cache=False)
    with pytest.raises(ParameterError, match="batch_size must be >= 1"):
        extract_features(np.zeros((2, 8, 8, 3), np.uint8), extractor="digits", batch_size=0, cache=False)


def test_auto_on_8x8_arrays_is_digits():
    out = extract_features(np.zeros((3, 8, 8, 1), np.uint8), cache=False)
    assert out.info["extractor"] == "digits" and out.features.shape == (3, 64)


def test_auto_on_other_images_is_inception(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(WeightsError, match=r"missing\.pth: weights file given by GANEVAL_INCEPTION_WEIGHTS"):
        extract_features(np.zeros((2, 9, 9, 3), np.uint8), cache=False)


# -- Inception on random weights ------------------------------------------------------------


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    from ganeval.features.inception import FIDInceptionV3

    path = tmp_path_factory.mktemp("w") / "random_inception.pth"
    torch.save(FIDInceptionV3.random(seed=0).state_dict(), path)
    return path


@pytest.mark.slow  # about 15 s of Inception on 2 CPU cores
def test_inception_random_weights_equal_pytorch_fid(tmp_path, random_weights):
    """Our folder -> pool3 features (pytorch-fid preprocessing) equal pytorch-fid's
    get_activations on the same files with the same weights."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    pfi = pytest.importorskip("pytorch_fid.inception")
    rng = np.random.default_rng(3)
    files = []
    for i in range(2):
        p = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(p)
        files.append(str(p))
    ours = extract_features(
        tmp_path, extractor="inception", weights=random_weights, preprocessing="pytorch-fid", cache=False, num_workers=0
    )
    assert ours.features.shape == (2, 2048) and ours.logits.shape == (2, 1008)
    assert ours.info["weights_sha256"] and ours.info["preprocessing"] == "pytorch-fid"

    sd = torch.load(random_weights, weights_only=True)
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: sd)
    try:
        with torch.random.fork_rng():  # pytorch-fid's constructor draws default inits
            model = pfi.InceptionV3([3]).eval()
    finally:
        mp.undo()
    ref = fid_score.get_activations(files, model, batch_size=2, dims=2048, device="cpu", num_workers=0)
    np.testing.assert_allclose(ours.features, ref, rtol=1e-4, atol=1e-5)


def test_inception_wrong_shapes_weights(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(WeightsError, match=r"bad\.pth: not FID Inception v3 weights"):
        extract_features(np.zeros((2, 8, 8, 3), np.uint8), extractor="inception", weights=bad, cache=False)


def test_progress_bar_only_when_asked(capsys, monkeypatch):
    import io

    class TTY(io.StringIO):
        def isatty(self):
            return True

    arr = np.zeros((3, 4, 4, 3), np.uint8)
    run_extraction(ArrayImageSource("quiet", arr), Pixels(), progress=False)
    assert capsys.readouterr().err == ""
    run_extraction(ArrayImageSource("loud", arr), Pixels(), progress=True)
    assert capsys.readouterr().err == ""  # not a terminal, and too fast for a log line
    tty = TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    run_extraction(ArrayImageSource("loud", arr), Pixels(), progress=True)
    assert "loud" in tty.getvalue() and "/3" in tty.getvalue()
