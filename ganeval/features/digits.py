"""The embedded digits extractor and the built-in digits images (``builtin:digits``).

``--extractor digits`` runs :class:`~ganeval.features.digits_net.DigitsCNN`, trained by
``python -m ganeval.features.digits_train`` on the *train* split of scikit-learn's digits and
shipped as ``reference_stats/digits_cnn.pt`` (a state dict, read with
``torch.load(weights_only=True)``). It gives 64-D features and 10 class logits and needs no
download, so FID/KID/IS/PRDC work offline.

Input of the network (:meth:`DigitsExtractor.prepare`): RGB uint8 -> luma
``0.299 R + 0.587 G + 0.114 B`` (ITU-R 601, PIL's ``L``) scaled to [0, 1] -> resized to 8x8
by area averaging (:func:`torch.nn.functional.adaptive_avg_pool2d`; an image that is not
square is squeezed, one smaller than 8x8 is repeated up). 8x8 images are used as they are.

``builtin:digits[/train|/test]`` is served as *images*: each 8x8 digit (values 0..16) becomes
a gray uint8 image ``round(v * 255 / 16)`` copied to RGB, and ``--extractor auto`` picks this
network for it. The 64 raw pixel values (scaled to [0, 1]) stay available as the feature rows
``builtin:digits-pixels[/train|/test]``.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import WeightsError
from ..sources.builtin import load_builtin, register_builtin
from .extractors import ImageExtractor

__all__ = ["DigitsExtractor", "digits_images", "reference_file", "DIGITS_WEIGHTS_FILE", "PREPROCESSING"]

DIGITS_WEIGHTS_FILE = "digits_cnn.pt"
#: the recorded preprocessing of the digits extractor
PREPROCESSING = "luma-area-8x8"


def reference_file(name: str) -> Path:
    """Path of a file shipped in ``reference_stats/`` (the ``ganeval.reference_stats`` package).

    Examples
    --------
    >>> reference_file("digits_cnn.pt").name
    'digits_cnn.pt'
    """
    return Path(str(importlib.resources.files("ganeval.reference_stats").joinpath(name)))


def _manifest_sha256(weights: Path) -> str | None:
    """The sha256 that ``manifest.json`` (next to ``weights``) records for it, if any."""
    import json

    manifest = weights.with_name("manifest.json")
    try:
        return json.loads(manifest.read_text())["files"][weights.name]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def digits_images(split: str | None = None) -> np.ndarray:
    """scikit-learn's digits of ``split`` as uint8 images (n, 8, 8): ``round(v * 255 / 16)``.

    The split is the project's fixed one (:func:`ganeval.sources.builtin.load_builtin`).

    Examples
    --------
    >>> x = digits_images("test")
    >>> x.dtype, x.shape[1:], int(x.max())
    (dtype('uint8'), (8, 8), 255)
    """
    data, idx = load_builtin("digits", split)
    pixels16 = data.rows[idx] * 16.0  # rows are v / 16
    return np.rint(pixels16 * (255.0 / 16.0)).clip(0, 255).astype(np.uint8).reshape(-1, 8, 8)


class DigitsExtractor(ImageExtractor):
    """The embedded digits CNN as an extractor (64-D features, 10 logits).

    Parameters
    ----------
    weights : str or Path, optional
        A digits state dict (default: the shipped ``digits_cnn.pt``).

    Examples
    --------
    >>> import torch
    >>> ext = DigitsExtractor()
    >>> x = ext.prepare(torch.full((2, 3, 16, 16), 255, dtype=torch.uint8))
    >>> tuple(x.shape), float(x.max())
    ((2, 1, 8, 8), 1.0)
    """

    name = "digits"
    preprocessing = PREPROCESSING
    cpu_threads = 1  # an 8x8 network: more CPU threads only add overhead

    def __init__(self, weights: str | Path | None = None):
        self.shipped = weights is None
        self.path = Path(weights) if weights is not None else reference_file(DIGITS_WEIGHTS_FILE)

    def weights_sha256(self) -> str:
        """sha256 of the weights file; the shipped file must match ``manifest.json``."""
        from .weights import file_sha256

        if not self.path.is_file():
            raise WeightsError(f"{self.path}: digits weights file does not exist")
        digest = file_sha256(self.path)
        if self.shipped:
            expected = _manifest_sha256(self.path)
            if expected is not None and digest != expected:
                raise WeightsError(
                    f"{self.path}: sha256 is {digest}, expected {expected} (manifest.json); "
                    "reinstall ganeval or rerun python -m ganeval.features.digits_train"
                )
        return digest

    def prepare(self, images: Any) -> Any:
        import torch
        import torch.nn.functional as F

        x = images.float()
        luma = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1) / 255.0
        if luma.shape[-2:] != (8, 8):
            luma = F.adaptive_avg_pool2d(luma, (8, 8))
        return luma.clamp_(0.0, 1.0).to(torch.float32)

    def build(self, device: Any) -> Any:
        import torch

        from .digits_net import DigitsCNN
        from .weights import load_weights_file

        state = load_weights_file(self.path)
        net = DigitsCNN()
        expected = net.state_dict()
        if set(state) != set(expected):
            raise WeightsError(f"{self.path}: not digits CNN weights (keys {sorted(state)[:3]}...)")
        for k, v in state.items():
            if not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(expected[k].shape):
                shape = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
                raise WeightsError(f"{self.path}: wrong shape for {k!r}: {shape}, expected {tuple(expected[k].shape)}")
        net.load_state_dict(state)
        net.requires_grad_(False)
        return net.to(device).to(memory_format=torch.channels_last).eval()

    def split_outputs(self, out: Any) -> tuple[Any, Any]:
        return out["features"], out["logits"]


def _open_digits_images(name: str, split: str | None):
    from ..sources.images import ArrayImageSource

    spec = f"builtin:{name}" + (f"/{split}" if split else "")
    return ArrayImageSource(
        spec,
        digits_images(split),
        preferred_extractor="digits",
        cacheable=False,
        metadata={"builtin": name, "split": split},
    )


def _register() -> None:
    from ..sources import builtin

    builtin.ensure_registered()  # so the defaults never overwrite what is registered here
    register_builtin(
        "digits",
        builtin._digits,
        "scikit-learn digits as 8x8 gray images (1,797, 10 classes); features by the embedded "
        "digits CNN (--extractor auto/digits)",
        opener=_open_digits_images,
    )


_register()
