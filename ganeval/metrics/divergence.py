"""Histogram divergences between two samples, feature by feature, as a metric.

Each feature of REAL and FAKE is binned with the same edges (covering both samples) and a
divergence of :mod:`ganeval.divergences` is taken between the two histograms; ``value`` is
the mean over features. The divergences (TV, KL, JS, squared Hellinger, chi^2, ...) are
those of GAN theory (Goodfellow et al. 2014, arXiv:1406.2661; Nowozin et al. 2016,
arXiv:1606.00709), natural log.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..divergences import HISTOGRAM_DIVERGENCES, divergence_from_samples
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["Divergence", "BIN_RULES"]

#: numpy's bin-count rules (``numpy.histogram_bin_edges``)
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")


class Divergence(Metric):
    """A histogram divergence (TV, KL, JS, Hellinger, chi^2) between REAL and FAKE, per feature, averaged."""

    name = "divergence"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "Divergence"),)
    uses_columns = True
    options = (
        Option("divergence", "str", "js", "Which divergence.", choices=tuple(HISTOGRAM_DIVERGENCES)),
        Option("bins", "int", "auto", "Bins per feature, or a numpy rule.", minimum=1, words=BIN_RULES),
    )
    identity, symmetric = 0.0, False

    def compute(
        self,
        real: np.ndarray,
        fake: np.ndarray,
        *,
        divergence: str = "js",
        bins: Any = "auto",
        columns: list[str] | None = None,
    ) -> MetricResult:
        out = divergence_from_samples(real, fake, divergence, bins=bins)
        return MetricResult(
            "divergence",
            {"value": out["value"], "per_feature": out["per_feature"]},
            {"divergence": divergence, "bins": bins, "bins_per_feature": out["bins"], "columns": columns},
            n_real=int(real.shape[0]),
            n_fake=int(fake.shape[0]),
        )
