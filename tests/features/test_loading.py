"""The loading routes give today's network input bit for bit: decode-in-workers +
resize-on-device (run here on the CPU), JPEG bytes decoded in a batch, read-ahead of
``.npy`` batches; and on a CUDA device (``--rungpu``) the TF1 resize and the whole route
equal the CPU's, with nvjpeg's difference from PIL printed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import InputError, ParameterError
from ganeval.features import loading
from ganeval.features.engine import run_extraction
from ganeval.features.extractors import InceptionExtractor
from ganeval.features.loading import default_workers, device_file_batches, read_ahead, resizes_on_device
from ganeval.sources import open_source
from ganeval.sources.images import ArrayImageSource, FolderImageSource, decode_image

CPU = torch.device("cpu")


def tf_extractor() -> InceptionExtractor:
    return InceptionExtractor(state_dict={}, preprocessing="tf")  # prepare needs no weights


class Means:
    """A tiny extractor on the TF1-resized input: per-channel means and a 4x4 pooled view."""

    name = "means"
    preprocessing = "tf"
    device_prepare_exact = True

    def prepare(self, x):
        return tf_extractor().prepare(x)

    def build(self, device):
        return lambda x: {"f": torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1), "l": x.mean(dim=(2, 3))}

    def split_outputs(self, out):
        return out["f"], out["l"]


@pytest.fixture
def mixed(tmp_path):
    """PNG and JPEG files of three sizes, a grey and an RGBA one, in sorted name order."""
    rng = np.random.default_rng(3)
    for i, (h, w) in enumerate([(12, 9), (12, 9), (5, 17), (12, 9), (30, 30), (5, 17), (12, 9)]):
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        if i == 2:
            img = img.convert("L")
        if i == 4:
            img = img.convert("RGBA")
        img.save(tmp_path / f"{i:02d}.{'jpg' if i % 2 else 'png'}", quality=90)
    return tmp_path


def reference_inputs(src, ext, indices):
    """Today's route: each file decoded by PIL and resized alone, on the CPU."""
    out = []
    for i in indices:
        arr = decode_image(src.path / src.files[i], src.item_name(i))
        out.append(ext.prepare(torch.from_numpy(arr).permute(2, 0, 1)[None])[0])
    return torch.stack(out)


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("jpeg_bytes", [False, True])
def test_decode_only_route_gives_the_same_input(mixed, workers, jpeg_bytes):
    src, ext = FolderImageSource(mixed), tf_extractor()
    ranges = [[0, 1, 2], [3, 4, 5], [6]]
    got = list(device_file_batches(src, ext, ranges, workers, CPU, gpu_decode=jpeg_bytes))
    assert [len(errors) for _, errors in got] == [0, 0, 0]
    for (x, _), idx in zip(got, ranges):
        assert torch.equal(x, reference_inputs(src, ext, idx))


def test_decode_only_route_skips_bad_files_in_order(mixed):
    (mixed / "01.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    (mixed / "04.png").write_bytes(b"")
    src, ext = FolderImageSource(mixed, skip_invalid=True), tf_extractor()
    got = list(device_file_batches(src, ext, [[0, 1, 2], [3, 4, 5], [6]], 0, CPU, gpu_decode=True))
    assert [len(e) for _, e in got] == [1, 1, 0]
    assert "01.jpg" in got[0][1][0] and "04.png: file is empty" in got[1][1][0]
    assert torch.equal(got[0][0], reference_inputs(src, ext, [0, 2]))
    assert torch.equal(got[1][0], reference_inputs(src, ext, [3, 5]))


def test_all_bad_batch_gives_none(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    got = list(device_file_batches(FolderImageSource(tmp_path, skip_invalid=True), tf_extractor(), [[0]], 0, CPU))
    assert got[0][0] is None and len(got[0][1]) == 1


@pytest.mark.parametrize("gpu_decode", [False, True])
def test_engine_on_the_device_route_equals_the_worker_route(mixed, monkeypatch, gpu_decode):
    before = run_extraction(FolderImageSource(mixed), Means(), batch_size=3, num_workers=0, device="cpu")
    monkeypatch.setattr(loading, "resizes_on_device", lambda ext, dev, gpu_decode=False: True)
    after = run_extraction(
        FolderImageSource(mixed), Means(), batch_size=3, num_workers=2, device="cpu", gpu_decode=gpu_decode
    )
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def test_npy_read_ahead_equals_in_memory(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (11, 10, 12, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", arr)
    src = open_source(str(tmp_path / "x.npy"))
    assert getattr(src, "read_ahead", False)
    ref = run_extraction(ArrayImageSource("a", arr), Means(), batch_size=4, device="cpu")
    got = run_extraction(src, Means(), batch_size=4, device="cpu")
    assert np.array_equal(ref[0], got[0])
    monkeypatch.setattr(loading, "resizes_on_device", lambda ext, dev, gpu_decode=False: True)
    on_dev = run_extraction(open_source(str(tmp_path / "x.npy")), Means(), batch_size=4, device="cpu")
    assert np.array_equal(ref[0], on_dev[0])


def test_read_ahead_keeps_order_raises_in_order_and_stops():
    def items():
        yield 1
        yield 2
        raise InputError("x.npy: bad batch")

    it = read_ahead(items())
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(InputError, match="bad batch"):
        next(it)

    made = []

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    it = read_ahead(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()  # the thread stops after at most depth + 1 more items
    assert len(made) <= 7 and not any(t.name == "ganeval-read-ahead" for t in threading.enumerate())


def test_route_choice_and_default_workers():
    cuda = torch.device("cuda")
    assert resizes_on_device(tf_extractor(), cuda) and not resizes_on_device(tf_extractor(), CPU)
    pfid = InceptionExtractor(state_dict={}, preprocessing="pytorch-fid")
    assert not resizes_on_device(pfid, cuda) and resizes_on_device(pfid, cuda, gpu_decode=True)
    assert 1 <= default_workers("cpu") <= 4 and 1 <= default_workers("cuda") <= 12


# -- on a CUDA device (pass --rungpu) ------------------------------------------------------


def _jpegs(tmp_path, n=24):
    rng = np.random.default_rng(5)
    for i in range(n):
        h, w = (64, 64) if i % 3 else (48, 80)
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx * 4 % 256, yy * 5 % 256, (xx * yy) % 256], axis=2)
        img = np.clip(base + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(tmp_path / f"{i:03d}.jpg", quality=90, subsampling=2 if i % 2 else 0)
    return tmp_path


@pytest.mark.gpu
def test_gpu_tf_resize_equals_cpu_bit_for_bit():
    ext = tf_extractor()
    g = torch.Generator().manual_seed(0)
    for h, w in [(32, 32), (64, 48), (256, 256), (299, 299), (512, 383), (7, 1000)]:
        x = torch.randint(0, 256, (3, 3, h, w), generator=g, dtype=torch.uint8)
        assert torch.equal(ext.prepare(x.cuda()).cpu(), ext.prepare(x)), (h, w)


@pytest.mark.gpu
def test_gpu_route_equals_cpu_inputs_bit_for_bit(mixed):
    src, ext = FolderImageSource(mixed), tf_extractor()
    ranges = [[0, 1, 2, 3], [4, 5, 6]]
    for (x, _), idx in zip(device_file_batches(src, ext, ranges, 2, torch.device("cuda")), ranges):
        assert x.is_cuda and torch.equal(x.cpu(), reference_inputs(src, ext, idx))


@pytest.mark.gpu
def test_gpu_nvjpeg_against_pil(tmp_path, capsys):
    """nvjpeg's pixels against PIL's (the reason ``gpu_decode`` is opt-in): printed, and
    within a few grey levels."""
    from ganeval.sources.decoding import decode_jpegs_on_device

    folder = _jpegs(tmp_path)
    files = sorted(folder.iterdir())
    blobs = [torch.frombuffer(bytearray(p.read_bytes()), dtype=torch.uint8) for p in files]
    gpu = decode_jpegs_on_device(blobs, torch.device("cuda"))
    diffs = []
    for p, img in zip(files, gpu):
        ref = decode_image(p, p.name).astype(np.int16)
        diffs.append(np.abs(img.permute(1, 2, 0).cpu().numpy().astype(np.int16) - ref))
    worst = max(int(d.max()) for d in diffs)
    share = float(np.mean([np.mean(d > 0) for d in diffs]))
    with capsys.disabled():
        print(f"\nnvjpeg vs PIL: largest difference {worst} grey levels, {share:.2%} of values differ")
    assert worst <= 16


@pytest.mark.gpu
def test_gpu_decode_option_runs_end_to_end(tmp_path):
    folder = _jpegs(tmp_path)
    exact = run_extraction(FolderImageSource(folder), Means(), batch_size=8, device="cuda")
    fast = run_extraction(FolderImageSource(folder), Means(), batch_size=8, device="cuda", gpu_decode=True)
    assert exact[0].shape == fast[0].shape and np.abs(exact[0] - fast[0]).max() < 0.1


def test_gpu_decode_flag_is_accepted_and_not_recorded_on_cpu(mixed, tmp_path):
    """``--gpu-decode`` reaches the extraction; on the CPU it changes nothing and the result
    does not claim it (it is recorded only when nvjpeg decoded the files)."""
    import json

    from click.testing import CliRunner
    from ganeval_cli.main import cli

    from ganeval.features import extract_features

    args = ["fid", str(mixed), str(mixed), "--extractor", "digits", "--device", "cpu", "--no-cache", "--json"]
    plain = CliRunner().invoke(cli, args)
    flagged = CliRunner().invoke(cli, [*args, "--gpu-decode"])
    assert plain.exit_code == 0 and flagged.exit_code == 0, flagged.output
    a, b = json.loads(plain.output), json.loads(flagged.output)
    assert a["value"] == b["value"] and "gpu_decode" not in b["settings"]
    out = extract_features(str(mixed), extractor="digits", device="cpu", cache=False, gpu_decode=True)
    assert "gpu_decode" not in out.info
    with pytest.raises(ParameterError, match="gpu_decode"):
        extract_features(str(mixed), extractor="digits", device="cpu", cache=False, gpu_decode="yes")
