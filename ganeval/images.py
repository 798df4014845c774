"""Image arrays in memory -> uint8 (N, 3, H, W): the one value-range rule and the one layout
rule of every entry point (arrays and tensors given to :func:`ganeval.evaluate`, ``.npy``
files, the :class:`~ganeval.Evaluator`, generators, the command line).

A core module: it imports only numpy, torch and :mod:`ganeval.errors`, so sources,
features and the Evaluator all use it.

Values
------
``uint8`` images are read as 0..255. Float images are read in ``value_range`` (default
``(-1, 1)``, the output range of a tanh generator, :data:`DEFAULT_VALUE_RANGE`) and become
``round((x - low) / (high - low) * 255)`` (computed in float64, ties to even): what saving
the images as PNG and reading them back gives. Values outside the range, NaN and Inf are an
:class:`~ganeval.errors.InputError`. When a batch fills clearly less than the declared range
(its values span at most half of it, e.g. [0, 1] data under the default (-1, 1)), a
:class:`ValueRangeWarning` says so: such images are almost always in another convention,
and reading them in the wrong one changes every number silently. Other integer dtypes,
booleans and complex numbers are refused.

Layout
------
``(N, H, W)`` is gray. For ``(N, A, B, C)`` the channel axis is axis 1 (NCHW) or the last
axis (NHWC), whichever has size 1, 3 or 4. When both could be (e.g. (N, 3, 4, 4) or
(N, 4, 4, 3)), the one of size 3 is the channel axis; when that still does not decide
(both 3, or neither: (N, 3, 8, 3), (N, 1, 4, 4)), the batch is refused unless
``layout="NCHW"`` or ``layout="NHWC"`` says which. One channel is copied to three; a fourth
(alpha) is dropped.

Examples
--------
>>> import torch
>>> x = images_to_uint8(torch.tensor([[[[-1.0, 0.0], [0.5, 1.0]]]]), "img", (-1.0, 1.0), "cpu")
>>> x.shape, x[0, 0].tolist()
(torch.Size([1, 3, 2, 2]), [[0, 128], [191, 255]])
>>> channel_axis((5, 3, 4, 4)), channel_axis((5, 4, 4, 3)), channel_axis((5, 1, 1, 3))
(1, 3, 3)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .errors import InputError, ParameterError

__all__ = [
    "DEFAULT_VALUE_RANGE",
    "LAYOUTS",
    "ValueRangeWarning",
    "check_value_range",
    "check_layout",
    "channel_axis",
    "images_to_uint8",
    "images_to_uint8_array",
]

#: the value range of float images at every entry point unless ``value_range=`` says otherwise
DEFAULT_VALUE_RANGE = (-1.0, 1.0)

#: ``layout=`` values
LAYOUTS = ("auto", "NCHW", "NHWC")

#: a batch whose values span at most this share of ``value_range`` is warned about
FILL_WARNING_SHARE = 0.5
#: ... when it holds at least this many values (a constant 2x2 test image says nothing)
FILL_WARNING_MIN_VALUES = 256


class ValueRangeWarning(UserWarning):
    """Float images fill clearly less than the declared ``value_range``."""


def check_value_range(value_range: Any, name: str = "value_range") -> tuple[float, float]:
    """``(low, high)`` as floats: finite, ``low < high`` and a finite width.

    >>> check_value_range((0, 1))
    (0.0, 1.0)
    >>> check_value_range((-1e308, 1e308))
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: value_range must be finite with a finite positive width high - low, got (-1e+308, 1e+308)
    """
    if isinstance(value_range, (str, bytes)):
        raise ParameterError(f"{name} must be a pair (low, high), got {value_range!r}")
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a pair (low, high), got {value_range!r}") from None
    width = hi - lo
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(width) and width > 0):
        raise ParameterError(f"{name} must be finite with a finite positive width high - low, got ({lo:g}, {hi:g})")
    return lo, hi


def check_layout(layout: Any, name: str = "layout") -> str:
    """``"auto"``, ``"NCHW"`` or ``"NHWC"`` (case-insensitive)."""
    if isinstance(layout, str):
        for choice in LAYOUTS:
            if layout.strip().lower() == choice.lower():
                return choice
    raise ParameterError(f"{name} must be one of {', '.join(LAYOUTS)}, got {layout!r}")


def channel_axis(shape: tuple[int, ...], layout: str = "auto", name: str = "images") -> int:
    """The channel axis (1 or 3) of a 4-D image batch of ``shape`` (see the module notes)."""
    layout = check_layout(layout)
    if layout != "auto":
        axis = 1 if layout == "NCHW" else 3
        if shape[axis] not in (1, 3, 4):
            raise InputError(
                f"{name}: images of shape {tuple(shape)} read as {layout} have {shape[axis]} "
                f"channels; expected 1, 3 or 4"
            )
        return axis
    first, last = shape[1] in (1, 3, 4), shape[3] in (1, 3, 4)
    if first and last:
        if (shape[1] == 3) != (shape[3] == 3):
            return 1 if shape[1] == 3 else 3
        raise InputError(
            f"{name}: images of shape {tuple(shape)} could be NCHW ({shape[1]} channels) or NHWC "
            f"({shape[3]} channels); pass layout='NCHW' or layout='NHWC'"
        )
    if first:
        return 1
    if last:
        return 3
    raise InputError(
        f"{name}: images of shape {tuple(shape)} have {shape[1]} channels (NCHW) or "
        f"{shape[3]} (NHWC); expected 1, 3 or 4"
    )


def _warn_fill(mn: float, mx: float, lo: float, hi: float, count: int, name: str) -> None:
    if count < FILL_WARNING_MIN_VALUES or (mx - mn) > FILL_WARNING_SHARE * (hi - lo):
        return
    hint = ""
    if lo < 0 <= mn and mx <= 1:
        hint = "; images in [0, 1] need value_range=(0, 1)"
    elif lo >= 0 and mn >= -1 and mx <= 1 and hi > 1.5:
        hint = "; images in [-1, 1] need value_range=(-1, 1)"
    warnings.warn(
        f"{name}: float images span only [{mn:.4g}, {mx:.4g}], at most half of value_range [{lo:g}, {hi:g}]{hint}",
        ValueRangeWarning,
        stacklevel=3,
    )


def _as_nchw_tensor(images: Any, name: str, layout: str) -> tuple[Any, object]:
    """``images`` as a 4-D NCHW tensor (a view where possible; (N, H, W) gets one channel)
    and the input's torch or numpy dtype, for messages; refuses what holds no pixels."""
    import torch

    given: object
    if isinstance(images, torch.Tensor):
        t = images.detach()
        given = t.dtype
    else:
        try:
            arr = np.asarray(images)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: cannot be read as an image array ({exc})") from None
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise InputError(f"{name}: cannot be read as an image array (dtype {arr.dtype})")
        given = arr.dtype
        if arr.dtype.kind not in "biufc":
            raise InputError(f"{name}: images must be uint8 (0..255) or float in value_range, got dtype {given}")
        arr = np.ascontiguousarray(arr)
        with warnings.catch_warnings():
            # a read-only array (np.load's memory map, a shipped data set) is only read here:
            # every later step makes a new tensor, so torch's "not writable" warning does not apply
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            t = torch.from_numpy(arr)
    if t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4:
        raise InputError(
            f"{name}: expected images of shape (N, C, H, W), (N, H, W, C) or (N, H, W), got {tuple(t.shape)}"
        )
    if t.shape[0] == 0 or t.shape[1] == 0 or t.shape[2] == 0 or t.shape[3] == 0:
        raise InputError(f"{name}: images of shape {tuple(t.shape)} hold no pixels")
    if channel_axis(tuple(t.shape), layout, name) == 3:
        t = t.permute(0, 3, 1, 2)
    return t, given


def images_to_uint8(
    images: Any, name: str, value_range: Any = DEFAULT_VALUE_RANGE, device: Any = "cpu", *, layout: str = "auto"
):
    """Images (tensor or array; see the module notes for values and layout) as a new uint8
    tensor of shape (N, 3, H, W) on ``device``.

    Parameters
    ----------
    images : torch.Tensor or array-like
        uint8 0..255, or float in ``value_range``; (N, H, W), NCHW or NHWC.
    name : str
        What the images are called in errors.
    value_range : (low, high), default=(-1, 1)
    device : str or torch.device, default="cpu"
    layout : {"auto", "NCHW", "NHWC"}, default="auto"

    Returns
    -------
    torch.Tensor
        uint8, (N, 3, H, W), contiguous; never shares memory with ``images``.
    """
    import torch

    lo, hi = check_value_range(value_range)
    t, given = _as_nchw_tensor(images, name, layout)
    if t.is_complex() or t.dtype == torch.bool:
        raise InputError(f"{name}: images must be uint8 (0..255) or float in value_range, got dtype {given}")
    t = t.to(device)
    if t.dtype == torch.uint8:
        out = t.clone()
    elif t.is_floating_point():
        t64 = t.to(torch.float64)
        mn, mx = (float(v) for v in torch.aminmax(t64))
        if not (math.isfinite(mn) and math.isfinite(mx)):
            n_bad = int((~torch.isfinite(t64)).sum())
            raise InputError(
                f"{name}: float images hold {n_bad} non-finite value(s) (NaN or Inf); they must lie "
                f"in value_range [{lo:g}, {hi:g}]"
            )
        if mn < lo or mx > hi:
            raise InputError(
                f"{name}: float images must lie in value_range [{lo:g}, {hi:g}], got values in "
                f"[{mn:.4g}, {mx:.4g}]; pass value_range= (or uint8 images 0..255)"
            )
        _warn_fill(mn, mx, lo, hi, t64.numel(), name)
        out = torch.round((t64 - lo) / (hi - lo) * 255.0).clamp_(0, 255).to(torch.uint8)
    else:
        raise InputError(f"{name}: images must be uint8 (0..255) or float in value_range, got dtype {given}")
    c = out.shape[1]
    if c == 1:
        out = out.expand(-1, 3, -1, -1)
    elif c == 4:
        out = out[:, :3]
    return out.contiguous()


def images_to_uint8_array(
    images: Any, name: str, value_range: Any = DEFAULT_VALUE_RANGE, *, layout: str = "auto"
) -> np.ndarray:
    """:func:`images_to_uint8` as a numpy array on the CPU.

    >>> images_to_uint8_array(np.zeros((2, 4, 4, 3), np.uint8), "a").shape
    (2, 3, 4, 4)
    """
    return images_to_uint8(images, name, value_range, "cpu", layout=layout).numpy()
