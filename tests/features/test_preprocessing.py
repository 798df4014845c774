"""Each preprocessing mode equals its reference implementation, bit for bit.

* ``tf``: torch-fidelity's TF1 bilinear emulation (``method="slow"``, bit-exact on CPU) and
  its ``(x - 128) / 128``;
* ``pytorch-fid``: the input that pytorch-fid's ``InceptionV3.forward`` hands to its first
  block (``resize_input`` + ``normalize_input``) for images loaded the way its ``fid_score``
  loads them (``ToTensor``), captured with a forward pre-hook on a network stub;
* ``clean``: clean-fid's resizer ``make_resizer("PIL", False, "bicubic", (299, 299))`` followed
  by the ``(x - 128) / 128`` of its Inception wrapper.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganeval.errors import DataError, ParameterError
from ganeval.features.preprocessing import PREPROCESSING, preprocess, resize_bilinear_tf1

SIZES = [(1, 1), (8, 8), (32, 32), (64, 48), (37, 300), (299, 299), (320, 320)]


def random_images(h: int, w: int, n: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + 1000 * h + w)
    return torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)


@pytest.fixture(scope="module")
def pytorch_fid_input():
    """pytorch-fid's InceptionV3 with a stub network; returns f(images uint8) -> first block's input."""
    pfi = pytest.importorskip("pytorch_fid.inception")
    to_tensor = pytest.importorskip("torchvision.transforms.functional").to_tensor

    class Stub:  # the three stem convolutions pytorch-fid's block 0 takes from the network
        Conv2d_1a_3x3 = Conv2d_2a_3x3 = Conv2d_2b_3x3 = nn.Identity()

    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "fid_inception_v3", lambda: Stub())
    try:
        model = pfi.InceptionV3([0], resize_input=True, normalize_input=True).eval()
    finally:
        mp.undo()
    captured = []
    model.blocks[0].register_forward_pre_hook(lambda mod, args: captured.append(args[0].clone()))

    def first_block_input(images: torch.Tensor) -> torch.Tensor:
        # fid_score's ImagePathDataset: PIL/ndarray HWC uint8 -> ToTensor (x / 255 as float32)
        batch = torch.stack([to_tensor(im.permute(1, 2, 0).numpy()) for im in images])
        captured.clear()
        with torch.no_grad():
            model(batch)
        return captured[0]

    return first_block_input


@pytest.mark.parametrize("h, w", SIZES)
def test_tf_matches_torch_fidelity_tf1_resize(h, w):
    tf1 = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow").interpolate_bilinear_2d_like_tensorflow1x
    x = random_images(h, w)
    ref = tf1(x.to(torch.float32), size=(299, 299), align_corners=False, method="slow")
    ref = (ref - 128) / 128  # torch-fidelity's FeatureExtractorInceptionV3.forward
    out = preprocess(x, "tf")
    assert out.dtype == torch.float32 and out.shape == (2, 3, 299, 299)
    assert torch.equal(out, ref)


@pytest.mark.parametrize("h, w", SIZES)
def test_pytorch_fid_matches_pytorch_fid_forward(h, w, pytorch_fid_input):
    x = random_images(h, w, seed=1)
    assert torch.equal(preprocess(x, "pytorch-fid"), pytorch_fid_input(x))


@pytest.mark.parametrize("h, w", SIZES)
def test_clean_matches_clean_fid_resizer(h, w):
    resize = pytest.importorskip("cleanfid.resize")
    fn = resize.make_resizer("PIL", False, "bicubic", (299, 299))
    x = random_images(h, w, seed=2)
    ref = torch.stack([torch.from_numpy(fn(im.permute(1, 2, 0).numpy()).transpose(2, 0, 1).copy()) for im in x])
    ref = (ref - 128) / 128  # cleanfid.inception_torchscript.InceptionV3W.forward
    assert torch.equal(preprocess(x, "clean"), ref)


def test_modes_differ_and_stay_in_range():
    x = random_images(32, 32, n=1, seed=3)
    outs = {m: preprocess(x, m) for m in PREPROCESSING}
    for m, out in outs.items():
        assert -1.0 <= float(out.min()) and float(out.max()) <= 1.0, m
    assert not torch.equal(outs["tf"], outs["pytorch-fid"])
    assert not torch.equal(outs["tf"], outs["clean"])
    # the registry is exactly the documented set, tf first (the default)
    assert list(PREPROCESSING) == ["tf", "pytorch-fid", "clean"]
    assert torch.equal(preprocess(x), outs["tf"])


def test_tf_resize_closed_forms():
    # same size: identity; constant image: constant; 2 -> 4 upsampling as in TF1 (no half-pixel shift)
    x = torch.rand((1, 2, 5, 7), generator=torch.Generator().manual_seed(0)) * 255
    square = x[..., :5, :5]
    assert torch.equal(resize_bilinear_tf1(square, 5), square)
    assert torch.equal(resize_bilinear_tf1(torch.full((1, 1, 3, 9), 42.0), 299), torch.full((1, 1, 299, 299), 42.0))
    row = torch.tensor([[[[0.0, 8.0]]]])
    assert resize_bilinear_tf1(row, 4)[0, 0, 0].tolist() == [0.0, 4.0, 8.0, 8.0]
    # float64 numpy version of the TF1 formula on a non-integer ratio
    a = np.arange(6 * 4, dtype=np.float64).reshape(6, 4) ** 1.5
    ys = np.arange(5) * np.float32(6 / 5)
    xs = np.arange(5) * np.float32(4 / 5)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, 5), np.minimum(x0 + 1, 3)
    dy, dx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = a[y0][:, x0] + (a[y0][:, x1] - a[y0][:, x0]) * dx
    bot = a[y1][:, x0] + (a[y1][:, x1] - a[y1][:, x0]) * dx
    expected = top + (bot - top) * dy
    got = resize_bilinear_tf1(torch.tensor(a, dtype=torch.float32)[None, None], 5)[0, 0].double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_empty_batch_and_device_dtype():
    out = preprocess(torch.zeros((0, 3, 10, 10), dtype=torch.uint8), "tf")
    assert out.shape == (0, 3, 299, 299) and out.dtype == torch.float32


@pytest.mark.parametrize("mode", ["TF", "bilinear", None, 3])
def test_unknown_mode(mode):
    with pytest.raises(
        ParameterError, match=rf"preprocessing must be one of 'tf', 'pytorch-fid', 'clean'; got {mode!r}"
    ):
        preprocess(random_images(8, 8), mode)


@pytest.mark.parametrize(
    "images, pattern",
    [
        (torch.zeros((1, 3, 8, 8)), r"uint8 tensor of shape \(N, 3, H, W\), got torch.float32"),
        (torch.zeros((1, 1, 8, 8), dtype=torch.uint8), r"got torch.uint8 of shape \(1, 1, 8, 8\)"),
        (torch.zeros((3, 8, 8), dtype=torch.uint8), r"shape \(3, 8, 8\)"),
        (torch.zeros((1, 3, 0, 8), dtype=torch.uint8), r"shape \(1, 3, 0, 8\)"),
        (np.zeros((1, 3, 8, 8), dtype=np.uint8), "must be a torch.Tensor of dtype uint8, got ndarray"),
    ],
)
def test_bad_images(images, pattern):
    with pytest.raises(DataError, match=pattern):
        preprocess(images, "tf")
