"""The Smirnov transform: map generated features onto the real marginals.

For ``Z`` with a continuous increasing CDF ``F_Z`` and any CDF ``F``, ``S(Z) = F^{-1}(F_Z(Z))``
has law ``F``. With ``Z ~ N(0, 1)`` and ``F`` the empirical CDF of a real feature,
``S = F_n^{-1} o Phi`` maps normal outputs onto that feature's marginal (González-Prieto,
Mozo, Gómez-Canaval & Talavera, "Improving the quality of generative models through Smirnov
transformation", arXiv:2110.15914). It fixes marginals only; the joint law is left to ``G``.

To train through it, the empirical quantile function is made piecewise linear: with the
real values sorted, ``x_(1) <= ... <= x_(n)``, the knots are ``(p_k, x_(k))`` with
``p_k = (k - 1/2) / n``; between knots the map interpolates linearly, below ``p_1`` it is
``x_(1)`` and above ``p_n`` it is ``x_(n)``. Its derivative is the local slope (zero on the
flat parts), so gradients flow to ``G`` wherever the quantile function increases.

:class:`SmirnovLayer` is the trainable output layer; :func:`smirnov_transform` is the
post-hoc version for samples of any generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from .._validation import as_features, check_choice, check_same_dim

__all__ = ["SmirnovLayer", "empirical_quantile", "smirnov_transform"]


def empirical_quantile(knots: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear empirical quantile function, column by column.

    Parameters
    ----------
    knots : tensor of shape (n, d)
        Real values sorted along axis 0 (column ``j`` = sorted feature ``j``), n >= 2.
    u : tensor of shape (m, d)
        Probabilities in [0, 1].

    Returns
    -------
    tensor of shape (m, d)
        ``x_(k) + t (x_(k+1) - x_(k))`` where ``u n - 1/2 = (k - 1) + t``, clamped to
        ``[x_(1), x_(n)]``; differentiable in ``u``.

    Examples
    --------
    >>> import torch
    >>> knots = torch.tensor([[0.0], [1.0], [3.0]])      # p = 1/6, 1/2, 5/6
    >>> empirical_quantile(knots, torch.tensor([[0.5], [2 / 3], [0.99]])).flatten().tolist()
    [1.0, 2.0, 3.0]
    """
    n = knots.shape[0]
    pos = (u * n - 0.5).clamp(0.0, n - 1.0)
    lo = pos.detach().floor().clamp(max=n - 2).long()
    t = pos - lo.to(pos.dtype)
    x_lo = torch.gather(knots, 0, lo)
    x_hi = torch.gather(knots, 0, lo + 1)
    return x_lo + t * (x_hi - x_lo)


class SmirnovLayer(torch.nn.Module):
    """Output layer ``y -> F_n^{-1}(Phi(y))`` per feature, with ``F_n`` the real data's ECDF.

    Parameters
    ----------
    real : array-like of shape (n, d)
        Real rows (n >= 2) whose marginals the outputs should follow. Their sorted columns
        are stored as the buffer ``knots`` (saved with the model's state dict).

    Examples
    --------
    >>> import numpy as np, torch
    >>> layer = SmirnovLayer(np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]]))
    >>> layer(torch.zeros(1, 2)).tolist()           # Phi(0) = 1/2: the median of each column
    [[1.0, 20.0]]
    """

    knots: torch.Tensor  # registered buffer: the sorted columns of ``real``

    def __init__(self, real: Any):
        super().__init__()
        arr = as_features(real, "real", min_samples=2)
        self.register_buffer("knots", torch.as_tensor(np.sort(arr, axis=0), dtype=torch.float32))

    @property
    def dim(self) -> int:
        return int(self.knots.shape[1])

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1.0 + torch.erf(y / math.sqrt(2.0)))
        return empirical_quantile(self.knots.to(y.dtype), u)


def smirnov_transform(samples: Any, real: Any, *, cdf: str = "empirical") -> np.ndarray:
    """Post-hoc Smirnov transform of generated rows onto the real marginals.

    ``S(z_j) = F_{n,j}^{-1}(u_j)`` per feature ``j``, with ``F_{n,j}^{-1}`` the
    piecewise-linear empirical quantile function of real column ``j`` (see
    :func:`empirical_quantile`) and ``u_j``:

    - ``cdf="empirical"``: the samples' own mid-ranks ``(rank - 1/2) / m`` (ties averaged),
      which works for any generator: every output marginal then matches the real one up to
      interpolation;
    - ``cdf="normal"``: ``Phi(z_j)``, exact when the samples are N(0, 1) per feature
      (González-Prieto et al., arXiv:2110.15914).

    Parameters
    ----------
    samples : array-like of shape (m, d)
    real : array-like of shape (n, d), n >= 2
    cdf : {"empirical", "normal"}, default="empirical"

    Returns
    -------
    ndarray of shape (m, d), float64

    Examples
    --------
    >>> import numpy as np
    >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> smirnov_transform(np.array([[-5.0], [7.0], [100.0], [8.0]]), real).ravel().tolist()
    [0.0, 1.0, 3.0, 2.0]
    """
    z = as_features(samples, "samples", min_samples=1)
    x = as_features(real, "real", min_samples=2)
    check_same_dim(x, z, "real", "samples")
    check_choice(cdf, "cdf", ("empirical", "normal"))
    if cdf == "empirical":
        u = (rankdata(z, axis=0) - 0.5) / z.shape[0]
    else:
        from scipy.special import ndtr

        u = ndtr(z)
    knots = torch.as_tensor(np.sort(x, axis=0), dtype=torch.float64)
    return empirical_quantile(knots, torch.as_tensor(u, dtype=torch.float64)).numpy()
