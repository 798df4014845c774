"""The embedded digits network: a small CNN for 8x8 grayscale digits.

Input (N, 1, 8, 8) float in [0, 1]. Three 3x3 convolutions (32, 64, 128 channels, ReLU; 2x2
max pooling after the second and third) -> 512 values -> a 64-unit linear layer whose
*pre-activation* output is the feature vector (pre-ReLU, so no unit is stuck at zero and the
features are closer to Gaussian, which suits FID) -> ReLU -> a 10-way linear layer (the
logits, so an Inception Score on digits tops out at 10).

Built on the ``meta`` device and then materialised, so constructing it never draws from the
global RNG; :func:`init_digits_cnn` draws initial weights from a seeded generator.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DigitsCNN", "FEATURE_DIM", "NUM_CLASSES", "init_digits_cnn"]

FEATURE_DIM = 64
NUM_CLASSES = 10


class DigitsCNN(nn.Module):
    """Small CNN for 8x8 digits; ``forward`` returns ``{"features": (N, 64), "logits": (N, 10)}``.

    Examples
    --------
    >>> net = init_digits_cnn(seed=0)
    >>> out = net(torch.zeros(2, 1, 8, 8))
    >>> tuple(out["features"].shape), tuple(out["logits"].shape)
    ((2, 64), (2, 10))
    """

    def __init__(self) -> None:
        super().__init__()
        with torch.device("meta"):
            self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
            self.conv3 = nn.Conv2d(64, 128, 3, padding=1)
            self.fc1 = nn.Linear(128 * 2 * 2, FEATURE_DIM)
            self.fc2 = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.to_empty(device="cpu")
        with torch.no_grad():
            for p in self.parameters():
                p.zero_()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 8x8 -> 4x4
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)  # 4x4 -> 2x2
        features = self.fc1(torch.flatten(x, 1))
        logits = self.fc2(F.relu(features))
        return {"features": features, "logits": logits}


def init_digits_cnn(seed: int = 0) -> DigitsCNN:
    """A :class:`DigitsCNN` with He-normal weights and zero biases drawn from
    ``torch.Generator().manual_seed(seed)`` (He et al. 2015, arXiv:1502.01852).

    Examples
    --------
    >>> a, b = init_digits_cnn(3), init_digits_cnn(3)
    >>> bool(torch.equal(a.conv1.weight, b.conv1.weight))
    True
    """
    gen = torch.Generator().manual_seed(seed)
    net = DigitsCNN()
    with torch.no_grad():
        for module in (net.conv1, net.conv2, net.conv3, net.fc1, net.fc2):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
            if module.bias is not None:  # every layer here has one
                module.bias.zero_()
    return net
