"""Every metric ganeval computes, one module per family, and a registry of the two-sample ones.

The registry drives shared tests (identity, symmetry, row-order invariance, seed
determinism) and tells callers how to read a metric (``higher_is_better``).

==================  ======================================  =====================
name                function                                module
==================  ======================================  =====================
fid                 :func:`fid_from_features`               :mod:`.fid`
kid                 :func:`kernel_inception_distance`       :mod:`.kid`
mmd                 :func:`maximum_mean_discrepancy`        :mod:`.mmd`
cmmd                :func:`cmmd_from_features`              :mod:`.cmmd`
prdc                :func:`prdc`                            :mod:`.prdc`
is                  :func:`inception_score` (one sample)    :mod:`.inception_score`
ecdf                :func:`ecdf_distance`                   :mod:`.ecdf`
c2st                :func:`classifier_two_sample_test`      :mod:`.c2st`
wasserstein         :func:`wasserstein_distance`            :mod:`.wasserstein`
nested-f1           :func:`nested_model_f1` (labelled)      :mod:`.nested_f1`
modes               :func:`mode_metrics` (toy mixtures)     :mod:`.modes`
prd                 :func:`prd` (PRD curve, F_8, F_1/8)     :mod:`.prd`
vendi               :func:`vendi_score` (one sample)        :mod:`.vendi`
memorization        :func:`memorization` (train, fake)      :mod:`.memorization`
==================  ======================================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .c2st import classifier_two_sample_test
from .cmmd import cmmd_from_features
from .ecdf import ecdf_distance
from .fid import fid_from_features
from .inception_score import inception_score
from .kid import kernel_inception_distance
from .memorization import memorization as _memorization  # not `memorization`: the submodule
from .mmd import maximum_mean_discrepancy
from .modes import mode_metrics
from .nested_f1 import nested_model_f1
from .prd import prd as _prd  # not `prd`: that name is the submodule
from .prdc import prdc as _prdc  # not `prdc`: that name is the submodule
from .vendi import vendi_score
from .wasserstein import wasserstein_distance

__all__ = ["MetricSpec", "TWO_SAMPLE_METRICS", "OTHER_METRICS", "get_metric"]


@dataclass(frozen=True)
class MetricSpec:
    """How to call and read one two-sample metric ``function(real, fake, **options)``.

    Attributes
    ----------
    key : str
        The result value the shared checks look at (``"value"``, ``"precision"``, ...).
    higher_is_better : bool
        Direction of ``key``.
    symmetric : bool
        Swapping real and fake leaves ``key`` unchanged.
    identity : float or None
        ``key`` when both sides are the same sample (None: no fixed value).
    order_invariant : bool
        Shuffling the rows of either side leaves the result unchanged.
    seeded : bool
        Takes a ``seed`` and is deterministic for a given seed.
    test_options : dict
        Small options for the shared tests.
    """

    name: str
    function: Callable[..., Any]
    key: str
    higher_is_better: bool
    symmetric: bool
    identity: float | None
    order_invariant: bool
    seeded: bool = False
    test_options: dict[str, Any] = field(default_factory=dict)


TWO_SAMPLE_METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in [
        MetricSpec("fid", fid_from_features, "value", False, True, 0.0, True),
        MetricSpec("kid", kernel_inception_distance, "value", False, False, None, False, seeded=True,
                   test_options={"subsets": 10, "subset_size": 20}),
        MetricSpec("mmd", maximum_mean_discrepancy, "value", False, True, None, True, seeded=True),
        MetricSpec("cmmd", cmmd_from_features, "value", False, True, 0.0, True),
        MetricSpec("prdc", _prdc, "precision", True, False, 1.0, True, test_options={"k": 3}),
        MetricSpec("ecdf", ecdf_distance, "value", False, True, 0.0, True),
        MetricSpec("c2st", classifier_two_sample_test, "accuracy", False, False, None, False, seeded=True,
                   test_options={"folds": 3}),
        MetricSpec("wasserstein", wasserstein_distance, "value", False, True, 0.0, True),
        MetricSpec("sliced-wasserstein", lambda real, fake, **kw: wasserstein_distance(real, fake, sliced=True, **kw),
                   "value", False, True, 0.0, True, seeded=True, test_options={"projections": 50}),
        MetricSpec("prd", _prd, "f8", True, False, 1.0, False, seeded=True,
                   test_options={"clusters": 5, "runs": 2, "angles": 101}),
    ]
}

#: metrics with another call shape: one sample (is, vendi), labelled rows (nested-f1), mixtures
#: (modes), training set and generated set (memorization)
OTHER_METRICS: dict[str, Callable[..., Any]] = {
    "is": inception_score,
    "nested-f1": nested_model_f1,
    "modes": mode_metrics,
    "vendi": vendi_score,
    "memorization": _memorization,
}


def get_metric(name: str) -> Callable[..., Any]:
    """The function behind a metric name (``"fid"``, ``"ecdf"``, ``"is"``, ...)."""
    from ..errors import ParameterError

    if name in TWO_SAMPLE_METRICS:
        return TWO_SAMPLE_METRICS[name].function
    if name in OTHER_METRICS:
        return OTHER_METRICS[name]
    known = ", ".join(sorted([*TWO_SAMPLE_METRICS, *OTHER_METRICS]))
    raise ParameterError(f"unknown metric {name!r}; known: {known}")
