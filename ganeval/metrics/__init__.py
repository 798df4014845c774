"""Every metric ganeval computes: one module per metric, one :class:`~ganeval.Metric` class
in each, and one registry (:mod:`.registry`) that every front-end reads.

==================  ======================================  =====================
name                function                                module
==================  ======================================  =====================
fid                 :func:`fid_from_features`               :mod:`.fid`
kid                 :func:`kernel_inception_distance`       :mod:`.kid`
is                  :func:`inception_score` (one sample)    :mod:`.inception_score`
prdc                :func:`prdc`                            :mod:`.prdc`
mmd                 :func:`maximum_mean_discrepancy`        :mod:`.mmd`
cmmd                :func:`cmmd_from_features`              :mod:`.cmmd`
prd                 :func:`prd` (PRD curve, F_8, F_1/8)     :mod:`.prd`
vendi               :func:`vendi_score` (one sample)        :mod:`.vendi`
memorization        :func:`memorization` (train, fake)      :mod:`.memorization`
ecdf                :func:`ecdf_distance`                   :mod:`.ecdf`
c2st                :func:`classifier_two_sample_test`      :mod:`.c2st`
wasserstein         :func:`wasserstein_distance`            :mod:`.wasserstein`
divergence          histogram divergences                   :mod:`.divergence`
nested-f1           :func:`nested_model_f1` (labelled)      :mod:`.nested_f1`
==================  ======================================  =====================

``modes`` (:func:`mode_metrics`) is not a registered metric: it needs the known modes of a
reference mixture, and has its own command.
"""

from __future__ import annotations

from .base import Metric, Option, Output
from .registry import get, metrics, names, register_metric

__all__ = ["Metric", "Option", "Output", "get_metric", "get", "metrics", "names", "register_metric"]


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (``"fid"``, ``"ecdf"``, ``"is"``, ...): a callable
    :class:`Metric` object, ``get_metric("kid")(real, fake, subsets=10)``."""
    return get(name)
