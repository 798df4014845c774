"""The three ways of turning uint8 images into FID Inception inputs (float, 299x299, [-1, 1]).

===============  ===================================================  =============================
mode             resize to 299x299, then scale                        matches
===============  ===================================================  =============================
``tf`` (default) TF1 ``resize_bilinear`` (align_corners=False, the    the original FID code (TTUR),
                 legacy half-pixel-free sampling) emulated bit for    torch-fidelity
                 bit in float32 on 0..255 values; ``(x - 128) / 128``
``pytorch-fid``  ``F.interpolate`` bilinear, align_corners=False, on  pytorch-fid
                 ``x / 255``; ``2x - 1``
``clean``        PIL bicubic with antialiasing on each channel as a   clean-fid (``mode="clean"``)
                 float32 image, clipped to [0, 255]; ``(x - 128)/128``
===============  ===================================================  =============================

Heusel et al. 2017 (FID), arXiv:1706.08500; Parmar et al. 2022 (on aliased resizing and
clean-fid), arXiv:2104.11222. Every result records the mode used: FID values from different
modes are not comparable (the differences reach several FID points on small images).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import DataError, ParameterError

__all__ = [
    "PREPROCESSING",
    "preprocess",
    "resize_bilinear_tf1",
    "DEFAULT_MODE",
    "INPUT_SIZE",
    "preprocess_vit",
    "resize_pil_bicubic",
    "VIT_MODES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "CLIP_MEAN",
    "CLIP_STD",
]

INPUT_SIZE = 299
DEFAULT_MODE = "tf"


def _tf1_sampling(in_size: int, out_size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower source indices and float32 lerp weights of TF1's legacy bilinear resize.

    TF1 computes ``scale = in / (float) out`` and the source coordinate ``in_i = (float) i * scale``
    in float32 (no half-pixel offset), ``lower = floor(in_i)``, ``upper = min(lower + 1, in - 1)``,
    ``lerp = in_i - lower``.
    """
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)  # == float32(in)/float32(out), correctly rounded
    coord = torch.arange(out_size, dtype=torch.float32) * scale
    lower = coord.floor()
    lerp = coord - lower
    return lower.long().to(device), lerp.to(device)


def _next_minus_this(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``x[i + 1] - x[i]`` along ``dim``, and 0 at the last index (where TF clamps upper = lower)."""
    d = torch.zeros_like(x)
    n = x.shape[dim]
    torch.sub(x.narrow(dim, 1, n - 1), x.narrow(dim, 0, n - 1), out=d.narrow(dim, 0, n - 1))
    return d


def resize_bilinear_tf1(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """TensorFlow 1 ``tf.image.resize_bilinear(align_corners=False)`` in float32, bit for bit.

    For output pixel (i, j) with source coordinates ``y = i * H/size``, ``x = j * W/size``
    (float32, no half-pixel shift), lower neighbours ``y0, x0``, upper ``y1 = min(y0 + 1, H - 1)``,
    ``x1 = min(x0 + 1, W - 1)`` and weights ``dy = y - y0``, ``dx = x - x0``:

    .. math:: top = a_{y_0 x_0} + (a_{y_0 x_1} - a_{y_0 x_0})\\,dx,\\quad
              bottom = a_{y_1 x_0} + (a_{y_1 x_1} - a_{y_1 x_0})\\,dx,\\quad
              out = top + (bottom - top)\\,dy

    each operation rounded to float32 in exactly this order, as TF's kernel does. The
    differences ``a[k + 1] - a[k]`` are taken once per source pixel (then gathered), and the
    horizontal pass runs once per source row, so every output pixel sees the same float32
    operations on the same operands as the direct four-tap formula, at a fraction of the work.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W)
        Float32 images (0..255 values in FID use).
    size : int, default=299
        Output height and width.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[[0.0, 10.0], [20.0, 30.0]]]])
    >>> resize_bilinear_tf1(x, 4)[0, 0]
    tensor([[ 0.,  5., 10., 10.],
            [10., 15., 20., 20.],
            [20., 25., 30., 30.],
            [20., 25., 30., 30.]])
    """
    _, _, h, w = x.shape
    x0, dx = _tf1_sampling(w, size, x.device)
    y0, dy = _tf1_sampling(h, size, x.device)
    # horizontal pass with W leading the last dim, so the gathers take whole rows
    xt = x.transpose(2, 3).contiguous()  # (N, C, W, H)
    rows = xt.index_select(2, x0)
    rows.add_(_next_minus_this(xt, 2).index_select(2, x0).mul_(dx.unsqueeze(1)))  # (N, C, size, H)
    rows = rows.transpose(2, 3).contiguous()  # (N, C, H, size)
    out = rows.index_select(2, y0)
    out.add_(_next_minus_this(rows, 2).index_select(2, y0).mul_(dy.unsqueeze(1)))
    return out


def _tf(images: torch.Tensor) -> torch.Tensor:
    x = resize_bilinear_tf1(images.to(torch.float32), INPUT_SIZE)
    return x.sub_(128).mul_(1 / 128)  # == (x - 128) / 128 exactly (128 is a power of two)


def _pytorch_fid(images: torch.Tensor) -> torch.Tensor:
    x = images.to(torch.float32) / 255
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return 2 * x - 1


def _pil_bicubic_channel(channel: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    img = Image.fromarray(channel.astype(np.float32))  # mode "F": 32-bit float, no quantisation
    img = img.resize((size, size), resample=Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32).clip(0, 255)


def _clean(images: torch.Tensor) -> torch.Tensor:
    arr = images.detach().cpu().numpy()
    out = np.empty((arr.shape[0], arr.shape[1], INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            out[i, c] = _pil_bicubic_channel(arr[i, c])
    x = torch.from_numpy(out).to(images.device)
    return (x - 128) / 128


PREPROCESSING: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tf": _tf,
    "pytorch-fid": _pytorch_fid,
    "clean": _clean,
}
"""Mode name -> function mapping uint8 (N, 3, H, W) to float32 (N, 3, 299, 299) in [-1, 1]."""


def preprocess(images: torch.Tensor, mode: str = DEFAULT_MODE) -> torch.Tensor:
    """Resize uint8 images to 299x299 and map them to [-1, 1] the way ``mode`` prescribes.

    ``tf``: TF1 bilinear resize (bit-exact), then :math:`(x - 128) / 128`;
    ``pytorch-fid``: :math:`2\\,\\mathrm{bilinear}(x / 255) - 1`;
    ``clean``: PIL antialiased bicubic per float32 channel, clip to [0, 255], then
    :math:`(x - 128) / 128`. See the module docstring for references
    (Heusel et al. 2017, arXiv:1706.08500; Parmar et al. 2022, arXiv:2104.11222).

    Parameters
    ----------
    images : Tensor of shape (N, 3, H, W), dtype uint8
        RGB images, any size (H, W >= 1).
    mode : {"tf", "pytorch-fid", "clean"}, default="tf"

    Returns
    -------
    Tensor of shape (N, 3, 299, 299), float32, on the input's device.

    Raises
    ------
    ParameterError
        Unknown ``mode``.
    DataError
        ``images`` is not a uint8 tensor of shape (N, 3, H, W).

    Examples
    --------
    >>> import torch
    >>> x = torch.full((1, 3, 8, 8), 255, dtype=torch.uint8)
    >>> [round(float(preprocess(x, m).max()), 6) for m in ("tf", "pytorch-fid", "clean")]
    [0.992188, 1.0, 0.992188]
    """
    fn = PREPROCESSING.get(mode) if isinstance(mode, str) else None
    if fn is None:
        raise ParameterError(f"preprocessing must be one of {', '.join(map(repr, PREPROCESSING))}; got {mode!r}")
    if not isinstance(images, torch.Tensor):
        raise DataError(f"images must be a torch.Tensor of dtype uint8, got {type(images).__name__}")
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3 or min(images.shape[2:]) < 1:
        raise DataError(
            f"images must be a uint8 tensor of shape (N, 3, H, W), got {images.dtype} of shape {tuple(images.shape)}"
        )
    return fn(images)


# --- inputs of the ViT extractors (DINOv2, CLIP): resize to the network's size, then mean/std ---

#: ImageNet mean/std (DINOv2, as dgm-eval and torch-fidelity normalise)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: OpenAI CLIP mean/std
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

VIT_MODES = ("dgm-eval", "cmmd", "clean", "tf")
"""Resize modes of :func:`preprocess_vit` (each extractor accepts a subset)."""


def resize_pil_bicubic(images: torch.Tensor, size: int, *, center_crop: bool = False) -> torch.Tensor:
    """PIL bicubic resize of each uint8 RGB image to ``size`` x ``size``, output uint8.

    Each image becomes a PIL ``RGB`` image (8 bits per channel), optionally cropped to its
    centred square (``l = min(w, h)``, box ``((w - l) // 2, (h - l) // 2)`` + ``l``, as CMMD's
    reader does), and resized with ``Image.BICUBIC`` (PIL antialiases when it shrinks), which
    rounds back to uint8: torchvision's ``Resize(BICUBIC)`` on a PIL image (dgm-eval) and
    CMMD's ``_center_crop_and_resize`` do exactly this.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(2, 3, 10, 20, dtype=torch.uint8)
    >>> resize_pil_bicubic(x, 7, center_crop=True).shape
    torch.Size([2, 3, 7, 7])
    """
    arr = images.detach().cpu().permute(0, 2, 3, 1).contiguous().numpy()
    out = np.empty((arr.shape[0], size, size, 3), dtype=np.uint8)
    for i in range(arr.shape[0]):
        img = Image.fromarray(arr[i])  # (H, W, 3) uint8 -> an 8-bit RGB image
        if center_crop:
            w, h = img.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            img = img.crop((left, top, left + side, top + side))
        out[i] = np.asarray(img.resize((size, size), resample=Image.Resampling.BICUBIC), dtype=np.uint8)
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(images.device)


def _normalise(x: torch.Tensor, mean: tuple, std: tuple, scale: float = 1.0) -> torch.Tensor:
    """``(x - scale * mean) / (scale * std)`` per channel, in float32 (torchvision's ``normalize``)."""
    m = torch.as_tensor([scale * v for v in mean], dtype=torch.float32, device=x.device).view(-1, 1, 1)
    s = torch.as_tensor([scale * v for v in std], dtype=torch.float32, device=x.device).view(-1, 1, 1)
    return x.sub(m).div_(s)


def preprocess_vit(images: torch.Tensor, mode: str, size: int, mean: tuple, std: tuple) -> torch.Tensor:
    """uint8 images -> float32 (N, 3, size, size) ViT input, normalised with ``mean``/``std``.

    ============  ===========================================================  ===================
    mode          resize, then scale                                           matches
    ============  ===========================================================  ===================
    ``dgm-eval``  PIL bicubic on the uint8 RGB image (rounded to uint8),        dgm-eval (DINOv2)
                  ``x / 255``
    ``cmmd``      centre square crop, then as ``dgm-eval``                      CMMD (CLIP)
    ``clean``     PIL bicubic on each channel as float32 (no rounding),         dgm-eval
                  clipped to [0, 255], ``x / 255``                              ``--clean_resize``
    ``tf``        TF1 bilinear (:func:`resize_bilinear_tf1`) on 0..255 floats,  torch-fidelity
                  normalised with ``255 * mean``, ``255 * std``
    ============  ===========================================================  ===================

    Then ``(x - mean) / std`` per channel. Stein et al. 2023 (dgm-eval), arXiv:2306.04675;
    Jayasumana et al. 2024 (CMMD), arXiv:2401.09603.

    Parameters
    ----------
    images : Tensor of shape (N, 3, H, W), dtype uint8
    mode : {"dgm-eval", "cmmd", "clean", "tf"}
    size : int
        The network's input size (224 for DINOv2, 336 for CLIP ViT-L/14@336).
    mean, std : tuple of 3 floats
        Per-channel statistics on the [0, 1] scale.

    Examples
    --------
    >>> import torch
    >>> x = torch.full((1, 3, 5, 9), 255, dtype=torch.uint8)
    >>> y = preprocess_vit(x, "cmmd", 4, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    >>> y.shape, float(y.min()), float(y.max())
    (torch.Size([1, 3, 4, 4]), 1.0, 1.0)
    """
    if not isinstance(mode, str) or mode not in VIT_MODES:
        raise ParameterError(f"preprocessing must be one of {', '.join(map(repr, VIT_MODES))}; got {mode!r}")
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        got = (
            f"{images.dtype} of shape {tuple(images.shape)}"
            if isinstance(images, torch.Tensor)
            else type(images).__name__
        )
        raise DataError(f"images must be a uint8 tensor of shape (N, 3, H, W), got {got}")
    if mode == "tf":
        return _normalise(resize_bilinear_tf1(images.to(torch.float32), size), mean, std, scale=255.0)
    if mode == "clean":
        arr = images.detach().cpu().numpy()
        out = np.empty((arr.shape[0], 3, size, size), dtype=np.float32)
        for i in range(arr.shape[0]):
            for c in range(3):
                out[i, c] = _pil_bicubic_channel(arr[i, c], size)
        x = torch.from_numpy(out).to(images.device) / 255
    else:
        x = resize_pil_bicubic(images, size, center_crop=(mode == "cmmd")).to(torch.float32) / 255
    return _normalise(x, mean, std)
