"""Losses against their closed forms; the WGAN-GP penalty against a linear critic."""

from __future__ import annotations

import math

import pytest
import torch

from ganeval.errors import ParameterError
from ganeval.reference.losses import LOSSES, discriminator_loss, generator_loss, gradient_penalty, loss_spec


def _sig(t):
    return 1.0 / (1.0 + math.exp(-t))


@pytest.mark.parametrize("r,f", [(0.3, -0.7), (2.0, 1.5), (-1.0, 0.2)])
def test_closed_forms(r, f):
    rt, ft = torch.tensor([r], dtype=torch.float64), torch.tensor([f], dtype=torch.float64)
    bce = -math.log(_sig(r)) - math.log(1 - _sig(f))
    assert float(discriminator_loss("minimax", rt, ft)) == pytest.approx(bce)
    assert float(discriminator_loss("non-saturating", rt, ft)) == pytest.approx(bce)
    assert float(generator_loss("minimax", ft)) == pytest.approx(math.log(1 - _sig(f)))
    assert float(generator_loss("non-saturating", ft)) == pytest.approx(-math.log(_sig(f)))
    assert float(discriminator_loss("wgan", rt, ft)) == pytest.approx(f - r)
    assert float(generator_loss("wgan-gp", ft)) == pytest.approx(-f)
    assert float(discriminator_loss("hinge", rt, ft)) == pytest.approx(max(0, 1 - r) + max(0, 1 + f))
    assert float(discriminator_loss("least-squares", rt, ft)) == pytest.approx(0.5 * (r - 1) ** 2 + 0.5 * f**2)
    assert float(generator_loss("least-squares", ft)) == pytest.approx(0.5 * (f - 1) ** 2)
    smooth = -(0.9 * math.log(_sig(r)) + 0.1 * math.log(1 - _sig(r))) - math.log(1 - _sig(f))
    assert float(discriminator_loss("minimax", rt, ft, label_smoothing=0.1)) == pytest.approx(smooth)
    assert float(discriminator_loss("least-squares", rt, ft, label_smoothing=0.1)) == pytest.approx(
        0.5 * (r - 0.9) ** 2 + 0.5 * f**2
    )


def test_paper_defaults():
    wgan, gp = loss_spec("wgan"), loss_spec("wgan-gp")
    assert (wgan.optimizer, wgan.lr, wgan.clip, wgan.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    assert (gp.gp_lambda, gp.n_critic, gp.betas) == (10.0, 5, (0.5, 0.9))
    assert set(LOSSES) == {"minimax", "non-saturating", "wgan", "wgan-gp", "hinge", "least-squares"}


def test_gradient_penalty_linear_critic_and_gradients():
    w = torch.tensor([[3.0], [4.0]], requires_grad=True)  # ||grad|| = 5 everywhere

    def critic(x):
        return x @ w

    pen = gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2), torch.Generator().manual_seed(0))
    assert float(pen.detach()) == pytest.approx(16.0)
    pen.backward()  # create_graph: the penalty trains the critic
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
    unit = gradient_penalty(
        lambda x: x @ torch.tensor([[0.6], [0.8]]),
        torch.zeros(4, 2),
        torch.ones(4, 2),
        torch.Generator().manual_seed(0),
    )
    assert float(unit) == pytest.approx(0.0, abs=1e-12)


def test_bad_names_and_options():
    with pytest.raises(ParameterError, match="loss"):
        loss_spec("vanilla")
    with pytest.raises(ParameterError, match="loss"):
        generator_loss("nope", torch.zeros(1))
    with pytest.raises(ParameterError, match="label_smoothing"):
        discriminator_loss("wgan", torch.zeros(1), torch.zeros(1), label_smoothing=0.1)
