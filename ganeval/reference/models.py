"""Small generator / discriminator pairs that train on a CPU in minutes.

- :class:`MLPGenerator` / :class:`MLPCritic`: fully connected, ReLU (G) and LeakyReLU(0.2)
  (D), for the 2-D mixtures and tabular rows; the generator may end in a
  :class:`~ganeval.reference.smirnov.SmirnovLayer`.
- :class:`DCGANGenerator` / :class:`DCGANCritic`: a DCGAN-style pair for 8x8 images
  (Radford et al. 2015, arXiv:1511.06434): transposed convolutions with batch norm and ReLU
  in G, strided convolutions with LeakyReLU(0.2) and no batch norm in D (so the WGAN-GP
  penalty stays per-sample). Pixels come out of a sigmoid, in [0, 1], as ``builtin:digits``.

Every model may be class-conditional (``n_classes > 0``): the generator reads a one-hot
label next to ``z``, the discriminator a one-hot label next to its input (as extra constant
channels for images), as in conditional GANs (Mirza & Osindero 2014, arXiv:1411.1784).
Discriminators return raw scores of shape (n, 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLPGenerator", "MLPCritic", "DCGANGenerator", "DCGANCritic", "one_hot"]


def one_hot(labels: torch.Tensor | None, n_classes: int) -> torch.Tensor | None:
    """Float one-hot rows of ``labels`` (``None`` for an unconditional model).

    Examples
    --------
    >>> import torch
    >>> one_hot(torch.tensor([1, 0]), 3).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    if n_classes == 0 or labels is None:
        return None
    return F.one_hot(labels.long(), n_classes).float()


def _with_label(x: torch.Tensor, labels: torch.Tensor | None, n_classes: int) -> torch.Tensor:
    oh = one_hot(labels, n_classes)
    return x if oh is None else torch.cat([x, oh.to(x.dtype)], dim=1)


class MLPGenerator(nn.Module):
    """``z (latent_dim) [+ one-hot label] -> hidden ReLU layers -> out_dim`` (+ Smirnov layer).

    Examples
    --------
    >>> import torch
    >>> g = MLPGenerator(4, 2, hidden=(8,))
    >>> g(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        latent_dim: int,
        out_dim: int,
        hidden: Sequence[int] = (128, 128, 128),
        *,
        n_classes: int = 0,
        smirnov: nn.Module | None = None,
    ):
        super().__init__()
        self.latent_dim, self.out_dim, self.n_classes = latent_dim, out_dim, n_classes
        layers: list[nn.Module] = []
        width = latent_dim + n_classes
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.smirnov = smirnov

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = self.net(_with_label(z, labels, self.n_classes))
        return out if self.smirnov is None else self.smirnov(out)


class MLPCritic(nn.Module):
    """``x (in_dim) [+ one-hot label] -> hidden LeakyReLU(0.2) layers -> 1`` raw score.

    Examples
    --------
    >>> import torch
    >>> MLPCritic(2, hidden=(8,))(torch.zeros(3, 2)).shape
    torch.Size([3, 1])
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (128, 128, 128), *, n_classes: int = 0):
        super().__init__()
        self.in_dim, self.n_classes = in_dim, n_classes
        layers: list[nn.Module] = []
        width = in_dim + n_classes
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_label(x, labels, self.n_classes))


class DCGANGenerator(nn.Module):
    """``z [+ label] -> Linear -> (4w, 2, 2) -> ConvT -> (2w, 4, 4) -> ConvT -> (1, 8, 8)``.

    Batch norm and ReLU after the linear layer and the first transposed convolution; a
    sigmoid at the end. Outputs are flat rows of 64 pixels in [0, 1] (row-major 8x8), or
    smirnov-transformed rows when a Smirnov layer is given.

    Examples
    --------
    >>> import torch
    >>> DCGANGenerator(16, width=8).eval()(torch.zeros(2, 16)).shape
    torch.Size([2, 64])
    """

    def __init__(self, latent_dim: int, *, width: int = 32, n_classes: int = 0, smirnov: nn.Module | None = None):
        super().__init__()
        self.latent_dim, self.n_classes, self.width = latent_dim, n_classes, width
        self.fc = nn.Sequential(
            nn.Linear(latent_dim + n_classes, 4 * width * 2 * 2, bias=False),
            nn.BatchNorm1d(4 * width * 2 * 2),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 1, 4, stride=2, padding=1),
        )
        self.smirnov = smirnov

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc(_with_label(z, labels, self.n_classes)).view(-1, 4 * self.width, 2, 2)
        logits = self.deconv(h).flatten(1)
        if self.smirnov is not None:
            return self.smirnov(logits)
        return torch.sigmoid(logits)


class DCGANCritic(nn.Module):
    """``(1 [+ classes], 8, 8) -> Conv s2 -> LeakyReLU -> Conv s2 -> LeakyReLU -> Linear -> 1``.

    Reads flat rows of 64 pixels (row-major 8x8).

    Examples
    --------
    >>> import torch
    >>> DCGANCritic(width=8)(torch.zeros(2, 64)).shape
    torch.Size([2, 1])
    """

    def __init__(self, *, width: int = 32, n_classes: int = 0):
        super().__init__()
        self.n_classes, self.width = n_classes, width
        self.conv = nn.Sequential(
            nn.Conv2d(1 + n_classes, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.fc = nn.Linear(2 * width * 2 * 2, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        img = x.view(-1, 1, 8, 8)
        oh = one_hot(labels, self.n_classes)
        if oh is not None:
            img = torch.cat([img, oh.to(img.dtype)[:, :, None, None].expand(-1, -1, 8, 8)], dim=1)
        return self.fc(self.conv(img).flatten(1))
