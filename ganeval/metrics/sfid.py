"""sFID: the Fréchet distance of the FID Inception's spatial features (Nash et al. 2021).

.. math::

    \\mathrm{sFID} = \\lVert \\mu_1 - \\mu_2 \\rVert^2 + \\operatorname{tr}\\Sigma_1 + \\operatorname{tr}\\Sigma_2
                     - 2 \\operatorname{tr}\\big((\\Sigma_1^{1/2} \\Sigma_2 \\Sigma_1^{1/2})^{1/2}\\big)

with the moments of the 2023-D spatial features instead of pool3: the first 7 channels of
``mixed_6/conv`` (``Mixed_6d.branch1x1``), 17 x 17 positions, flattened in NHWC order
(:mod:`ganeval.features.inception`), as ADM's evaluator computes them (Dhariwal & Nichol
2021, arXiv:2105.05233; sFID: Nash et al. 2021, arXiv:2103.03841). Being sensitive to
spatial layout, it catches what pool3's global average misses.

The metric reads the extractor output ``"spatial"`` (:attr:`SFID.features`):
:func:`ganeval.evaluate` asks the Inception for it in the same pass as pool3, and reads the
moments ``mu_s``/``sigma_s`` of ADM reference batches and ``ganeval stats --spatial`` files.
Given plain arrays, it is the Fréchet distance of those rows.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(400, 3))
>>> round(SFID()(x, x + 2.0).value, 9)  # a shift by (2, 2, 2)
12.0
"""

from __future__ import annotations

import math

from ..results import MetricResult
from ..statistics import FeatureStats
from .base import Output
from .fid import FID

__all__ = ["SFID"]


class SFID(FID):
    """sFID: Fréchet distance of the Inception's spatial features (lower is better)."""

    name = "sfid"
    features = "spatial"
    outputs = (Output("value", False, (0.0, math.inf), "sFID"),)

    def compute(
        self, real: FeatureStats, fake: FeatureStats, *, eps: float = 0.0, names: tuple[str, str] = ("real", "fake")
    ) -> MetricResult:
        r = super().compute(real, fake, eps=eps, names=names)
        return MetricResult("sfid", r.values, {**r.settings, "output": "spatial"}, n_real=r.n_real, n_fake=r.n_fake)
