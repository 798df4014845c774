"""The FID Inception v3 network: pool3 features (2048) and 1008 logits without the fc bias.

This is the Inception v3 graph of TensorFlow's ``inception-2015-12-05`` release, used by the
original FID code (Heusel et al. 2017, arXiv:1706.08500) and the original Inception Score
code (Salimans et al. 2016, arXiv:1606.03498), expressed with torchvision's Inception3
modules. The TF graph differs from torchvision's network in four places:

* 1008 output classes instead of 1000;
* the average-pooling branch of the A, C and first E blocks (``Mixed_5b..5d``,
  ``Mixed_6b..6e``, ``Mixed_7b``) averages only over the pixels inside the image
  (``count_include_pad=False``), as TensorFlow's ``avg_pool`` does with ``SAME`` padding;
* the pooling branch of the last E block (``Mixed_7c``) is a 3x3 *max* pool;
* no auxiliary classifier.

The parameter names are those of torchvision's Inception3, so the weights file
``pt_inception-2015-12-05-6726825d.pth`` published by pytorch-fid loads as is.

``forward`` expects images already resized to 299x299 and mapped to [-1, 1] (see
:mod:`ganeval.features.preprocessing`) and returns ``{"pool3": (N, 2048), "logits": (N, 1008),
"spatial": (N, 2023)}`` where ``logits = pool3 @ fc.weight.T``: the fc *bias is left out*, as in
the original Inception Score code, whose softmax was taken over the bias-free product.

Spatial features (sFID)
-----------------------
sFID (Nash et al. 2021, "Generating images with sparse representations", arXiv:2103.03841;
the ADM evaluator of Dhariwal & Nichol 2021, arXiv:2105.05233, ``guided-diffusion``
``evaluations/evaluator.py``) is the Fréchet distance of the TF graph's ``mixed_6/conv:0``
tensor cut to its first 7 channels (``spatial[..., :7]``), flattened per image in the TF
graph's NHWC order: 17 x 17 x 7 = 2023 values.

In the TF graph the mixed blocks are named ``mixed`` .. ``mixed_10``: ``mixed``, ``mixed_1``,
``mixed_2`` are the 35x35 A blocks (``Mixed_5b..5d``), ``mixed_3`` the reduction
(``Mixed_6a``), ``mixed_4`` .. ``mixed_7`` the 17x17 C blocks (``Mixed_6b..6e``), ``mixed_8``
the reduction (``Mixed_7a``), ``mixed_9``/``mixed_10`` the E blocks. Inside a block, ``conv``
is the first tower, the 1x1 convolution, and the tensor named ``conv:0`` is its output after
batch norm and ReLU (``conv/Conv2D`` and ``conv/batchnorm`` are the ops inside it). So
``mixed_6/conv:0`` is our ``Mixed_6d.branch1x1`` output (torchvision's ``BasicConv2d``:
conv, batch norm, ReLU), 192 channels at 17x17; the pytorch-fid weights hold the TF
``mixed_6/conv`` parameters under ``Mixed_6d.branch1x1.{conv,bn}`` (the same name mapping as
torch-fidelity's TF-graph converter). Our tensor is NCHW, so the first 7 channels are taken
and moved to NHWC before flattening: feature index ``(h * 17 + w) * 7 + c``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.inception import BasicConv2d, Inception3, InceptionA, InceptionC, InceptionE

from ..errors import DataError, WeightsError

__all__ = [
    "FIDInceptionV3",
    "NUM_CLASSES",
    "POOL3_DIM",
    "INPUT_SIZE",
    "BLOCK_DIMS",
    "SPATIAL_LAYER",
    "SPATIAL_CHANNELS",
    "SPATIAL_DIM",
    "spatial_features",
]

NUM_CLASSES = 1008  # the TF graph's softmax has 1008 outputs (1000 ImageNet classes + 8 unused)
POOL3_DIM = 2048  # width of the final average pool ("pool_3:0" in the TF graph)
INPUT_SIZE = 299  # the graph's input resolution
SPATIAL_LAYER = "Mixed_6d.branch1x1"  # the TF graph's "mixed_6/conv:0" (see the module docstring)
SPATIAL_CHANNELS = 7  # ADM's evaluator keeps spatial[..., :7]
SPATIAL_DIM = 17 * 17 * SPATIAL_CHANNELS  # 2023 values per image
#: pytorch-fid's feature depths (its ``--dims``, ``InceptionV3.BLOCK_INDEX_BY_DIM``): the
#: spatial mean of the output of the first max pool (64), the second max pool (192),
#: ``Mixed_6e`` (768, before the auxiliary classifier) and the final pool (2048, ``pool3``)
BLOCK_DIMS = (64, 192, 768, 2048)

# Top-level submodules, in forward order, named as in torchvision's Inception3 (and hence in
# the pytorch-fid weights file). The max pools between them have no parameters.
_STEM = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3")
_STEM2 = ("Conv2d_3b_1x1", "Conv2d_4a_3x3")
_MIXED = (
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
    "Mixed_7a",
    "Mixed_7b",
    "Mixed_7c",
)


def _spatial_mean(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C): the mean over the pixels (pytorch-fid's ``adaptive_avg_pool2d``)."""
    return torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)


def _avg_pool_valid_only(x: torch.Tensor) -> torch.Tensor:
    """3x3 stride-1 average pool that divides by the number of in-image pixels (TF ``SAME``)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool_same(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _TFInceptionA(InceptionA):
    """torchvision's InceptionA with the TF pooling branch (padding not counted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg_pool_valid_only(x))
        return torch.cat([b1, b5, b3, bp], 1)


def spatial_features(branch1x1: torch.Tensor) -> torch.Tensor:
    """ADM's sFID features from the ``Mixed_6d.branch1x1`` output (TF ``mixed_6/conv:0``).

    The first 7 channels, in NHWC order, flattened: ``out[n, (h * W + w) * 7 + c] =
    x[n, c, h, w]`` for ``c < 7``, as ADM's evaluator flattens ``spatial[..., :7]``
    (Dhariwal & Nichol 2021, arXiv:2105.05233; sFID: Nash et al. 2021, arXiv:2103.03841).

    Parameters
    ----------
    branch1x1 : Tensor of shape (N, C, H, W), C >= 7

    Returns
    -------
    Tensor of shape (N, H * W * 7)

    Examples
    --------
    >>> x = torch.arange(2 * 8 * 2 * 3.0).reshape(2, 8, 2, 3)
    >>> f = spatial_features(x)
    >>> f.shape, float(f[1, (1 * 3 + 2) * 7 + 4]) == float(x[1, 4, 1, 2])
    (torch.Size([2, 42]), True)
    """
    if branch1x1.ndim != 4 or branch1x1.shape[1] < SPATIAL_CHANNELS:
        raise DataError(
            f"spatial features need an (N, C>={SPATIAL_CHANNELS}, H, W) tensor, got {tuple(branch1x1.shape)}"
        )
    return branch1x1[:, :SPATIAL_CHANNELS].permute(0, 2, 3, 1).flatten(1)


class _TFInceptionC(InceptionC):
    """torchvision's InceptionC with the TF pooling branch (padding not counted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_branch1x1(x)[0]

    def forward_with_branch1x1(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The block's output and its 1x1 branch (kept for the spatial features)."""
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            b7d = layer(b7d)
        bp = self.branch_pool(_avg_pool_valid_only(x))
        return torch.cat([b1, b7, b7d, bp], 1), b1


class _TFInceptionE(InceptionE):
    """torchvision's InceptionE with a selectable pooling branch.

    ``pool="avg"``: average pool without counting padding (``Mixed_7b``);
    ``pool="max"``: max pool (``Mixed_7c``).
    """

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self._pool = _avg_pool_valid_only if pool == "avg" else _max_pool_same

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
        bp = self.branch_pool(self._pool(x))
        return torch.cat([b1, b3, b3d, bp], 1)


def _build_layers() -> Inception3:
    """torchvision's Inception3 (1008 classes, no aux head) with the TF blocks, on ``meta``.

    Built on the meta device so that no default initialisation runs (it would draw from the
    global RNG and take seconds); every tensor is filled afterwards from a state dict.
    """
    with torch.device("meta"):
        net = Inception3(num_classes=NUM_CLASSES, aux_logits=False, init_weights=False)
        net.Mixed_5b = _TFInceptionA(192, pool_features=32)
        net.Mixed_5c = _TFInceptionA(256, pool_features=64)
        net.Mixed_5d = _TFInceptionA(288, pool_features=64)
        net.Mixed_6b = _TFInceptionC(768, channels_7x7=128)
        net.Mixed_6c = _TFInceptionC(768, channels_7x7=160)
        net.Mixed_6d = _TFInceptionC(768, channels_7x7=160)
        net.Mixed_6e = _TFInceptionC(768, channels_7x7=192)
        net.Mixed_7b = _TFInceptionE(1280, pool="avg")
        net.Mixed_7c = _TFInceptionE(2048, pool="max")
    return net


def _random_state_dict(template: Mapping[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """Seeded random weights with sane activation scales (He-normal convs, BN near identity)."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, ref in template.items():
        shape = tuple(ref.shape)
        if name.endswith("num_batches_tracked"):
            out[name] = torch.zeros((), dtype=torch.long)
        elif name.endswith("conv.weight"):
            fan_in = math.prod(shape[1:])
            out[name] = torch.randn(shape, generator=gen) * math.sqrt(2.0 / fan_in)
        elif name.endswith(("bn.weight", "running_var")):
            out[name] = 0.5 + torch.rand(shape, generator=gen)
        elif name.endswith(("bn.bias", "running_mean")):
            out[name] = 0.1 * torch.randn(shape, generator=gen)
        elif name == "fc.weight":
            out[name] = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
        elif name == "fc.bias":
            out[name] = torch.randn(shape, generator=gen)
        else:  # pragma: no cover - the layout above covers every Inception3 tensor
            raise KeyError(name)
    return out


class FIDInceptionV3(nn.Module):
    """FID Inception v3 (TensorFlow ``inception-2015-12-05`` graph) returning pool3 and logits.

    .. math:: \\mathrm{pool3}(x) \\in \\mathbb{R}^{2048}, \\qquad
              \\mathrm{logits}(x) = W_{fc}\\, \\mathrm{pool3}(x) \\in \\mathbb{R}^{1008}

    (no fc bias, as the original Inception Score code; Salimans et al. 2016, arXiv:1606.03498).
    FID (Heusel et al. 2017, arXiv:1706.08500) uses ``pool3``.

    Parameters
    ----------
    weights : str or Path, optional
        A weights file with the pytorch-fid key layout (``pt_inception-2015-12-05-6726825d.pth``).
        When neither ``weights`` nor ``state_dict`` is given, the file is found by
        :func:`ganeval.features.weights.resolve_weights` (``GANEVAL_INCEPTION_WEIGHTS``, the
        torch hub cache, then a hash-checked download).
    state_dict : mapping of str to Tensor, optional
        Weights given in memory instead of a file.

    Raises
    ------
    WeightsError
        The file cannot be read, or its keys or shapes do not fit this network (the message
        names the file).

    Examples
    --------
    >>> import torch
    >>> net = FIDInceptionV3.random(seed=0)
    >>> out = net(torch.zeros(1, 3, 299, 299))
    >>> out["pool3"].shape, out["logits"].shape
    (torch.Size([1, 2048]), torch.Size([1, 1008]))
    """

    # layers adopted from torchvision's Inception3 by ``_adopt_layers`` (add_module), typed here
    Conv2d_1a_3x3: BasicConv2d
    Mixed_6d: _TFInceptionC
    fc: nn.Linear

    def __init__(self, weights: str | Path | None = None, *, state_dict: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        if weights is not None and state_dict is not None:
            raise WeightsError("give either a weights file or a state_dict, not both")
        self._adopt_layers()
        self.weights_path: Path | None = None
        if state_dict is None:
            from .weights import load_weights_file, resolve_weights

            path = Path(weights) if weights is not None else resolve_weights()
            self._load_checked(load_weights_file(path), str(path), fresh=True)
            self.weights_path = path
        else:
            self._load_checked(state_dict, "state_dict", fresh=False)
        self.eval()
        self.requires_grad_(False)

    @classmethod
    def random(cls, seed: int = 0) -> FIDInceptionV3:
        """The network with seeded random weights (for tests and benchmarks; no file needed).

        Parameters
        ----------
        seed : int, default=0
            Seed of the :class:`torch.Generator` that draws every weight; the global RNG is
            not used.

        Examples
        --------
        >>> FIDInceptionV3.random(seed=1).fc.weight.shape
        torch.Size([1008, 2048])
        """
        net = cls.__new__(cls)
        nn.Module.__init__(net)
        net._adopt_layers()
        net.weights_path = None
        net._load_checked(_random_state_dict(net.state_dict(), seed), f"random(seed={seed})", fresh=True)
        return net.eval().requires_grad_(False)

    def _adopt_layers(self) -> None:
        """Register the Inception3 submodules (still on ``meta``) under their torchvision names."""
        layers = _build_layers()
        for name in (*_STEM, *_STEM2, *_MIXED, "fc"):
            self.add_module(name, getattr(layers, name))

    def _load_checked(self, state_dict: Any, source: str, *, fresh: bool) -> None:
        """Take the tensors of ``state_dict`` after checking keys and shapes (errors name ``source``).

        The module's tensors are still on the meta device; they are replaced by float32 CPU
        tensors: the given ones when ``fresh`` (just loaded or drawn, owned by nobody else),
        copies otherwise.
        """
        if not isinstance(state_dict, Mapping):
            raise WeightsError(
                f"{source}: expected a state dict (a mapping of names to tensors), got {type(state_dict).__name__}"
            )
        from .weights import check_state_dict_keys

        expected = self.state_dict()
        optional = {k for k in expected if k.endswith("num_batches_tracked")}
        check_state_dict_keys(expected, state_dict, source, "FID Inception v3", optional=optional)
        for key, value in state_dict.items():
            if not isinstance(value, torch.Tensor):
                raise WeightsError(f"{source}: entry {key!r} is a {type(value).__name__}, not a tensor")
            if tuple(value.shape) != tuple(expected[key].shape):
                raise WeightsError(
                    f"{source}: wrong shape for {key!r}: {tuple(value.shape)}, expected {tuple(expected[key].shape)}"
                )
            if not value.is_floating_point() and not key.endswith("num_batches_tracked"):
                raise WeightsError(f"{source}: entry {key!r} has dtype {value.dtype}, expected a float tensor")
        tensors = {}
        for key, value in state_dict.items():
            if key.endswith("num_batches_tracked"):
                tensors[key] = value.detach().to("cpu", torch.long).clone()
            else:
                t = value.detach().to("cpu", torch.float32)
                tensors[key] = t.contiguous() if fresh else t.clone(memory_format=torch.contiguous_format)
        for key in optional - set(state_dict):
            tensors[key] = torch.zeros((), dtype=torch.long)
        self.load_state_dict(tensors, strict=True, assign=True)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Pool3 features and bias-free logits of images already preprocessed to [-1, 1].

        Parameters
        ----------
        x : Tensor of shape (N, 3, 299, 299)
            Float images in [-1, 1] (see :func:`ganeval.features.preprocessing.preprocess`).
            If the network's weights are in ``channels_last`` memory format the input is
            converted to it.

        Returns
        -------
        dict
            ``"pool3"``: (N, 2048); ``"logits"``: (N, 1008) = ``pool3 @ fc.weight.T``;
            ``"spatial"``: (N, 2023), ADM's sFID features (TF ``mixed_6/conv:0``, first 7
            channels, NHWC order; :func:`spatial_features`), from the same pass.
            ``"pool64"``, ``"pool192"``, ``"pool768"``: pytorch-fid's shallower features
            (:data:`BLOCK_DIMS`), the spatial means of earlier outputs.
        """
        if x.ndim != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise DataError(
                f"FID Inception input must be a float tensor of shape (N, 3, 299, 299), got "
                f"{x.dtype} of shape {tuple(x.shape)}"
            )
        if self.Conv2d_1a_3x3.conv.weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        blocks = {}
        for name in _STEM:
            x = getattr(self, name)(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        blocks["pool64"] = _spatial_mean(x)
        for name in _STEM2:
            x = getattr(self, name)(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        blocks["pool192"] = _spatial_mean(x)
        at_6d = _MIXED.index("Mixed_6d")
        for name in _MIXED[:at_6d]:
            x = getattr(self, name)(x)
        x, b1 = self.Mixed_6d.forward_with_branch1x1(x)
        spatial = spatial_features(b1)
        for name in _MIXED[at_6d + 1 :]:
            x = getattr(self, name)(x)
            if name == "Mixed_6e":
                blocks["pool768"] = _spatial_mean(x)
        pool3 = torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)
        logits = F.linear(pool3, self.fc.weight)
        return {"pool3": pool3, "logits": logits, "spatial": spatial, **blocks}
