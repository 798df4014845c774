"""LPIPS-VGG, the learned perceptual distance of Zhang et al. 2018 (arXiv:1801.03924), v0.1.

.. math::

    d(x_0, x_1) = \\sum_{l=1}^{5} \\frac{1}{H_l W_l} \\sum_{h, w}
                  \\big\\lVert w_l \\odot (\\hat y^l_{0, hw} - \\hat y^l_{1, hw}) \\big\\rVert_2^2

where ``y^l`` is VGG16's ``relu1_2, relu2_2, relu3_3, relu4_3, relu5_3`` output of the
input scaled by ``(x - shift) / scale`` (shift ``(-0.030, -0.088, -0.188)``, scale ``(0.458,
0.448, 0.450)``), ``hat y`` is it divided by its channel norm (plus 1e-10), and ``w_l`` are
the learned non-negative channel weights (a 1x1 convolution without bias). Inputs are images
in [-1, 1], as the ``lpips`` package's ``LPIPS(net="vgg")`` takes them.

Weights, found on disk, never downloaded (:func:`resolve_lpips_weights`):

- the VGG16 backbone: torchvision's ImageNet file ``vgg16-397923af.pth`` (``--weights``
  / ``GANEVAL_LPIPS_VGG_WEIGHTS``, else the torch hub cache, where torchvision and the
  ``lpips`` package put it); the first 8 hex digits of its sha256 must be ``397923af``;
- the linear weights: ``weights/v0.1/vgg.pth`` of the installed ``lpips`` package (or
  ``GANEVAL_LPIPS_LINEAR_WEIGHTS``); sha256 :data:`LPIPS_VGG_LINEAR_SHA256` when taken from
  the package.

The sha256 of both files is recorded (:attr:`LPIPSVGG.weights_sha256`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import DataError, WeightsError

__all__ = ["LPIPSVGG", "resolve_lpips_weights", "VGG16_FILENAME", "LPIPS_VGG_LINEAR_SHA256"]

VGG16_FILENAME = "vgg16-397923af.pth"
#: sha256 of ``lpips/weights/v0.1/vgg.pth`` as the lpips package 0.1.4 ships it
LPIPS_VGG_LINEAR_SHA256 = "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"
BACKBONE_ENV_VAR = "GANEVAL_LPIPS_VGG_WEIGHTS"
LINEAR_ENV_VAR = "GANEVAL_LPIPS_LINEAR_WEIGHTS"

# torchvision's vgg16 ``features`` layout: convolutions (out channels) and "M" max pools
_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
_TAPS = (3, 8, 15, 22, 29)  # indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
_CHANNELS = (64, 128, 256, 512, 512)
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def _features() -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for v in _CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(v), 3, padding=1), nn.ReLU()]
            c_in = int(v)
    return nn.Sequential(*layers)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_lpips_weights(backbone: str | Path | None = None, linear: str | Path | None = None) -> tuple[Path, Path]:
    """The two LPIPS-VGG weights files (backbone, linear), found in the documented order.

    Raises
    ------
    WeightsError
        A file is not found (the message lists where it looked), or a file's hash is wrong.
    """
    from .weights import resolve_model_weights

    bb = resolve_model_weights(
        backbone, what="LPIPS VGG16 backbone", env_var=BACKBONE_ENV_VAR, hub_files=[VGG16_FILENAME]
    )
    if backbone is None and os.environ.get(BACKBONE_ENV_VAR) is None and not _sha256(bb).startswith("397923af"):
        raise WeightsError(f"{bb}: sha256 does not start with 397923af, so it is not torchvision's {VGG16_FILENAME}")
    package_file = None
    spec = importlib.util.find_spec("lpips")
    if spec is not None and spec.origin:
        package_file = Path(spec.origin).parent / "weights" / "v0.1" / "vgg.pth"
    lin = resolve_model_weights(
        linear,
        what="LPIPS linear (v0.1, vgg)",
        env_var=LINEAR_ENV_VAR,
        other_files=[package_file] if package_file is not None else [],
    )
    if linear is None and os.environ.get(LINEAR_ENV_VAR) is None and _sha256(lin) != LPIPS_VGG_LINEAR_SHA256:
        raise WeightsError(
            f"{lin}: sha256 {_sha256(lin)} is not the lpips package's v0.1 vgg.pth ({LPIPS_VGG_LINEAR_SHA256})"
        )
    return bb, lin


class LPIPSVGG(nn.Module):
    """LPIPS v0.1 with the VGG16 backbone: ``net(x0, x1)`` -> (N,) distances (see the module notes).

    Parameters
    ----------
    backbone, linear : str or Path, optional
        The two weights files (default: resolved by :func:`resolve_lpips_weights`).
    state_dict : mapping, optional
        All weights in memory instead (keys ``features.N.weight/bias`` and ``linN.weight``).

    Examples
    --------
    >>> net = LPIPSVGG.random(seed=0)
    >>> x = torch.zeros(2, 3, 32, 32)
    >>> net(x, x).tolist()
    [0.0, 0.0]
    """

    shift: torch.Tensor  # buffers registered in __init__
    scale: torch.Tensor

    def __init__(
        self,
        backbone: str | Path | None = None,
        linear: str | Path | None = None,
        *,
        state_dict: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.features = _features()
        for i, c in enumerate(_CHANNELS):
            self.register_parameter(f"lin{i}", nn.Parameter(torch.zeros(1, c, 1, 1)))
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.weights_sha256: dict[str, str] | None = None
        if state_dict is None:
            from .weights import load_weights_file

            bb, lin = resolve_lpips_weights(backbone, linear)
            sd = {k: v for k, v in load_weights_file(bb).items() if k.startswith("features.")}
            for k, v in load_weights_file(lin).items():  # the lpips package's names: linN.model.1.weight
                sd[k.replace(".model.1.weight", "")] = v
            self._load(sd, f"{bb} + {lin}")
            self.weights_sha256 = {"backbone": _sha256(bb), "linear": _sha256(lin)}
        else:
            self._load(state_dict, "state_dict")
        self.eval().requires_grad_(False)

    @classmethod
    def random(cls, seed: int = 0) -> LPIPSVGG:
        """Seeded random weights (tests; linear weights non-negative, as trained ones are)."""
        g = torch.Generator().manual_seed(seed)
        shell = cls.__new__(cls)
        nn.Module.__init__(shell)
        shell.features = _features()
        sd = {}
        for k, v in shell.features.state_dict().items():
            fan_in = v[0].numel() if v.ndim == 4 else 1
            sd["features." + k] = (
                torch.randn(v.shape, generator=g) * (2.0 / fan_in) ** 0.5
                if v.ndim == 4
                else torch.randn(v.shape, generator=g) * 0.01
            )
        for i, c in enumerate(_CHANNELS):
            sd[f"lin{i}"] = torch.rand((1, c, 1, 1), generator=g) * 0.1
        return cls(state_dict=sd)

    def _load(self, sd: Mapping[str, Any], source: str) -> None:
        expected = self.state_dict()
        missing = sorted(set(expected) - set(sd))
        extra = sorted(set(sd) - set(expected))
        if missing or extra:
            raise WeightsError(
                f"{source}: LPIPS-VGG weights {'lack ' + ', '.join(missing[:4]) if missing else ''}"
                f"{'; ' if missing and extra else ''}{'have unknown ' + ', '.join(extra[:4]) if extra else ''}"
            )
        for k, v in sd.items():
            if not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(expected[k].shape):
                raise WeightsError(
                    f"{source}: wrong shape for {k!r}: {tuple(getattr(v, 'shape', ()))}, "
                    f"expected {tuple(expected[k].shape)}"
                )
        self.load_state_dict({k: v.detach().to(torch.float32) for k, v in sd.items()}, strict=True)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """LPIPS distance between two batches of images in [-1, 1], shape (N, 3, H, W) each."""
        if x0.shape != x1.shape or x0.ndim != 4 or x0.shape[1] != 3:
            raise DataError(
                f"LPIPS takes two image batches of one shape (N, 3, H, W); got {tuple(x0.shape)} and {tuple(x1.shape)}"
            )
        n = x0.shape[0]
        h = (torch.cat([x0, x1]).to(self.shift.dtype) - self.shift) / self.scale
        total = torch.zeros(n, dtype=h.dtype, device=h.device)
        taps = iter(enumerate(_TAPS))
        i, tap = next(taps)
        for idx, layer in enumerate(self.features):
            h = layer(h)
            if idx == tap:
                f = h / (h.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
                diff = (f[:n] - f[n:]).pow(2)
                total = total + (diff * getattr(self, f"lin{i}")).sum(1).mean((1, 2))
                nxt = next(taps, None)
                if nxt is None:
                    break
                i, tap = nxt
        return total
