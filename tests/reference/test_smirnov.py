"""Smirnov layer and post-hoc transform: target marginals, gradients, interpolation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ganeval.errors import DataError
from ganeval.reference.smirnov import SmirnovLayer, empirical_quantile, smirnov_transform


def test_layer_maps_normal_onto_target_marginals(rng):
    real = np.column_stack([rng.exponential(2.0, 3000), rng.uniform(-1, 5, 3000), rng.integers(0, 3, 3000)])
    layer = SmirnovLayer(real)
    z = torch.randn(20000, 3, generator=torch.Generator().manual_seed(1))
    out = layer(z).numpy()
    for j in range(2):
        assert stats.ks_2samp(out[:, j], real[:, j], method="asymp").statistic < 0.02
    # a discrete column keeps its values (up to the few points between two classes)
    assert np.isin(out[:, 2], [0, 1, 2]).mean() > 0.99
    assert abs(np.mean(out[:, 2] == 1) - np.mean(real[:, 2] == 1)) < 0.02


def test_layer_passes_gradients():
    real = np.linspace(0.0, 10.0, 101)[:, None] ** 2  # increasing quantile function
    layer = SmirnovLayer(real)
    y = torch.tensor([[-1.0], [0.0], [0.7]], requires_grad=True)
    layer(y).sum().backward()
    assert torch.all(y.grad > 0)
    # chain rule: d/dy Q(Phi(y)) = Q'(Phi(y)) phi(y); check against a finite difference
    eps = 1e-3
    fd = (layer(torch.tensor([[0.7 + eps]])) - layer(torch.tensor([[0.7 - eps]]))) / (2 * eps)
    assert float(y.grad[2]) == pytest.approx(float(fd), rel=1e-2)


def test_empirical_quantile_matches_numpy_interp(rng):
    x = np.sort(rng.normal(size=(50, 2)), axis=0)
    u = rng.uniform(size=(400, 2))
    got = empirical_quantile(torch.as_tensor(x), torch.as_tensor(u)).numpy()
    p = (np.arange(50) + 0.5) / 50
    for j in range(2):
        np.testing.assert_allclose(got[:, j], np.interp(u[:, j], p, x[:, j]), atol=1e-12)


def test_post_hoc_transform_fixes_marginals_and_keeps_order(rng):
    real = rng.gamma(2.0, size=(2000, 2))
    fake = rng.normal(5.0, 3.0, size=(2000, 2))
    out = smirnov_transform(fake, real)
    for j in range(2):
        assert stats.ks_2samp(out[:, j], real[:, j], method="asymp").statistic < 0.01
        assert stats.spearmanr(out[:, j], fake[:, j]).statistic > 0.999  # monotone per feature
    normal = smirnov_transform(rng.normal(size=(5000, 2)), real, cdf="normal")
    assert stats.ks_2samp(normal[:, 0], real[:, 0], method="asymp").statistic < 0.03


def test_bad_inputs():
    with pytest.raises(DataError):
        SmirnovLayer(np.zeros((1, 2)))
    with pytest.raises(DataError, match="dimensions"):
        smirnov_transform(np.zeros((5, 3)), np.zeros((5, 2)))
