"""GAN losses of the theory, written on the discriminator's raw outputs (logits / critic values).

With ``r = D(x)`` on real rows, ``f = D(G(z))`` on generated rows and ``sigma`` the logistic
function (``-log sigma(t) = softplus(-t)``, ``-log(1 - sigma(t)) = softplus(t)``):

==================  =======================================================  =================================
loss                discriminator / critic minimises                          generator minimises
==================  =======================================================  =================================
``minimax``         ``-y log sigma(r) - (1-y) log(1-sigma(r)) + softplus(f)``  ``E log(1 - sigma(f)) = -E softplus(f)``
``non-saturating``  same as minimax                                          ``-E log sigma(f) = E softplus(-f)``
``wgan``            ``E f - E r``, weights clipped to [-c, c]                ``-E f``
``wgan-gp``         ``E f - E r + lambda E (||grad D(x_hat)|| - 1)^2``        ``-E f``
``hinge``           ``E relu(1 - r) + E relu(1 + f)``                        ``-E f``
``least-squares``   ``1/2 E (r - y)^2 + 1/2 E f^2``                          ``1/2 E (f - 1)^2``
==================  =======================================================  =================================

``y`` is the real target: 1, or 0.9 with one-sided label smoothing (Salimans et al. 2016,
arXiv:1606.03498); it applies to the losses with targets (minimax, non-saturating,
least-squares). Instance noise (Arjovsky & Bottou 2017, arXiv:1701.04862; Sønderby et al.
2016, arXiv:1610.04490) adds N(0, s^2) to both D inputs; the trainer does that.

References: Goodfellow et al. 2014 (arXiv:1406.2661) for minimax and non-saturating;
Arjovsky et al. 2017 (arXiv:1701.07875) for WGAN (RMSProp, lr 5e-5, c = 0.01, n_critic = 5);
Gulrajani et al. 2017 (arXiv:1704.00028) for WGAN-GP (lambda = 10, Adam lr 1e-4,
betas (0.5, 0.9), n_critic = 5); Lim & Ye 2017 (arXiv:1705.02894) for hinge; Mao et al. 2017
(arXiv:1611.04076) for least squares (a = 0, b = c = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .._validation import check_choice
from ..errors import ParameterError

__all__ = ["LOSSES", "LossSpec", "loss_spec", "discriminator_loss", "generator_loss", "gradient_penalty"]

LOSSES = ("minimax", "non-saturating", "wgan", "wgan-gp", "hinge", "least-squares")


@dataclass(frozen=True)
class LossSpec:
    """A loss and the optimiser settings its paper trains it with.

    ``optimizer`` is ``"adam"`` (with ``betas``) or ``"rmsprop"``; ``n_critic`` discriminator
    updates per generator update; ``clip`` the weight-clipping bound (WGAN) and
    ``gp_lambda`` the gradient-penalty weight (WGAN-GP), else ``None``. ``has_targets``:
    label smoothing applies.
    """

    name: str
    optimizer: str
    lr: float
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1
    clip: float | None = None
    gp_lambda: float | None = None
    has_targets: bool = True


_SPECS = {
    "minimax": LossSpec("minimax", "adam", 2e-4),
    "non-saturating": LossSpec("non-saturating", "adam", 2e-4),
    "wgan": LossSpec("wgan", "rmsprop", 5e-5, n_critic=5, clip=0.01, has_targets=False),
    "wgan-gp": LossSpec("wgan-gp", "adam", 1e-4, betas=(0.5, 0.9), n_critic=5, gp_lambda=10.0, has_targets=False),
    "hinge": LossSpec("hinge", "adam", 2e-4, has_targets=False),
    "least-squares": LossSpec("least-squares", "adam", 2e-4),
}


def loss_spec(name: str) -> LossSpec:
    """The default :class:`LossSpec` of loss ``name``.

    Examples
    --------
    >>> s = loss_spec("wgan")
    >>> s.optimizer, s.lr, s.clip, s.n_critic
    ('rmsprop', 5e-05, 0.01, 5)
    """
    check_choice(name, "loss", LOSSES)
    return _SPECS[name]


def _real_target(real_out: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    return torch.full_like(real_out, 1.0 - label_smoothing)


def discriminator_loss(
    name: str, real_out: torch.Tensor, fake_out: torch.Tensor, *, label_smoothing: float = 0.0
) -> torch.Tensor:
    """The discriminator's (critic's) loss to minimise, without any gradient penalty.

    Parameters
    ----------
    name : str
        One of :data:`LOSSES`.
    real_out, fake_out : tensor of shape (n, 1) or (n,)
        Raw discriminator outputs on real and generated rows.
    label_smoothing : float, default=0
        Real target ``1 - label_smoothing`` (one-sided; 0.1 gives the usual 0.9).

    Examples
    --------
    >>> import torch
    >>> r, f = torch.tensor([2.0]), torch.tensor([-2.0])
    >>> round(float(discriminator_loss("hinge", r, f)), 6)
    0.0
    >>> round(float(discriminator_loss("wgan", r, f)), 6)
    -4.0
    """
    check_choice(name, "loss", LOSSES)
    if label_smoothing and not _SPECS[name].has_targets:
        raise ParameterError(f"label_smoothing applies to minimax, non-saturating and least-squares; loss is {name!r}")
    if name in ("minimax", "non-saturating"):
        real = F.binary_cross_entropy_with_logits(real_out, _real_target(real_out, label_smoothing))
        return real + F.softplus(fake_out).mean()
    if name in ("wgan", "wgan-gp"):
        return fake_out.mean() - real_out.mean()
    if name == "hinge":
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()
    target = _real_target(real_out, label_smoothing)
    return 0.5 * ((real_out - target) ** 2).mean() + 0.5 * (fake_out**2).mean()


def generator_loss(name: str, fake_out: torch.Tensor) -> torch.Tensor:
    """The generator's loss to minimise, from the discriminator's outputs on generated rows.

    Examples
    --------
    >>> import torch, math
    >>> f = torch.tensor([0.0])
    >>> math.isclose(float(generator_loss("minimax", f)), -math.log(2), rel_tol=1e-6)
    True
    >>> math.isclose(float(generator_loss("non-saturating", f)), math.log(2), rel_tol=1e-6)
    True
    """
    check_choice(name, "loss", LOSSES)
    if name == "minimax":
        return -F.softplus(fake_out).mean()
    if name == "non-saturating":
        return F.softplus(-fake_out).mean()
    if name == "least-squares":
        return 0.5 * ((fake_out - 1.0) ** 2).mean()
    return -fake_out.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """WGAN-GP penalty ``E (||grad_x D(x_hat)||_2 - 1)^2`` (without lambda).

    ``x_hat = eps x + (1 - eps) G(z)``, with ``eps ~ U[0, 1]`` per row drawn from
    ``generator`` (Gulrajani et al. 2017, arXiv:1704.00028).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> critic = lambda x: 3.0 * x.sum(1, keepdim=True)        # gradient norm 3 * sqrt(2)
    >>> pen = gradient_penalty(critic, torch.zeros(4, 2), torch.ones(4, 2), g)
    >>> round(float(pen), 4) == round((3 * 2 ** 0.5 - 1) ** 2, 4)
    True
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, dtype=real.dtype)
    x_hat = (eps * real + (1.0 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()
