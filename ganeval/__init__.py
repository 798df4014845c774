"""ganeval: measure how close generated samples are to real ones.

The flow is sources -> extractors -> statistics -> metrics -> results; every metric is one
:class:`Metric` in :mod:`ganeval.metrics.registry` (docs/extending.md).

Every public name below is importable from ``ganeval`` as before, but the modules behind
them load on first use (PEP 562 module ``__getattr__``): ``import ganeval`` costs a few
milliseconds, and a command such as ``ganeval fid a.npz b.npz`` loads neither torch nor
scikit-learn nor matplotlib.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from .version import __version__

#: public name -> the module (relative to this package) that defines it
_LAZY = {
    "GanevalError": ".errors",
    "InputError": ".errors",
    "ParameterError": ".errors",
    "DataError": ".errors",
    "WeightsError": ".errors",
    "MetricResult": ".results",
    "FeatureStats": ".statistics",
    "Metric": ".metrics.base",
    "Option": ".metrics.base",
    "Output": ".metrics.base",
    "register_metric": ".metrics.registry",
    "fid_from_features": ".metrics.fid",
    "fid_from_stats": ".metrics.fid",
    "frechet_distance": ".metrics.fid",
    "inception_score": ".metrics.inception_score",
    "kernel_inception_distance": ".metrics.kid",
    "maximum_mean_discrepancy": ".metrics.mmd",
    "prdc": ".metrics.prdc",
    "ecdf_distance": ".metrics.ecdf",
    "classifier_two_sample_test": ".metrics.c2st",
    "nested_model_f1": ".metrics.nested_f1",
    "wasserstein_distance": ".metrics.wasserstein",
    "mode_metrics": ".metrics.modes",
    "vendi_score": ".metrics.vendi",
    "memorization": ".metrics.memorization",
    "prd": ".metrics.prd",
    "Features": ".api",
    "evaluate": ".api",
    "load_features": ".api",
    "StreamingFID": ".streaming",
    "StreamingIS": ".streaming",
    "StreamingKID": ".streaming",
    "StreamingPRDC": ".streaming",
    "Evaluator": ".evaluator",
}
#: public sub-modules reached as attributes (``ganeval.uncertainty.bootstrap_interval``)
_SUBMODULES = ("uncertainty", "divergences")

# ``compare`` is also the name of a sub-module, whose first import would set ``ganeval.compare``
# to the module: the function is bound here, eagerly (it needs only numpy)
from .compare import compare  # noqa: E402

__all__ = [
    "__version__",
    "GanevalError",
    "InputError",
    "ParameterError",
    "DataError",
    "WeightsError",
    "MetricResult",
    "FeatureStats",
    "Metric",
    "Option",
    "Output",
    "register_metric",
    "frechet_distance",
    "fid_from_features",
    "fid_from_stats",
    "inception_score",
    "kernel_inception_distance",
    "maximum_mean_discrepancy",
    "prdc",
    "ecdf_distance",
    "classifier_two_sample_test",
    "nested_model_f1",
    "wasserstein_distance",
    "mode_metrics",
    "divergences",
    "Features",
    "evaluate",
    "load_features",
    "compare",
    "StreamingFID",
    "StreamingKID",
    "StreamingPRDC",
    "StreamingIS",
    "Evaluator",
    "vendi_score",
    "memorization",
    "prd",
    "uncertainty",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use and keep the name here (later look-ups are
    plain attribute reads)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES or (not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}")):
        value = importlib.import_module(f".{name}", __name__)  # ganeval.metrics, ganeval.features, ...
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from . import divergences, uncertainty
    from .api import Features, evaluate, load_features
    from .errors import DataError, GanevalError, InputError, ParameterError, WeightsError
    from .evaluator import Evaluator
    from .metrics.base import Metric, Option, Output
    from .metrics.c2st import classifier_two_sample_test
    from .metrics.ecdf import ecdf_distance
    from .metrics.fid import fid_from_features, fid_from_stats, frechet_distance
    from .metrics.inception_score import inception_score
    from .metrics.kid import kernel_inception_distance
    from .metrics.memorization import memorization
    from .metrics.mmd import maximum_mean_discrepancy
    from .metrics.modes import mode_metrics
    from .metrics.nested_f1 import nested_model_f1
    from .metrics.prd import prd
    from .metrics.prdc import prdc
    from .metrics.registry import register_metric
    from .metrics.vendi import vendi_score
    from .metrics.wasserstein import wasserstein_distance
    from .results import MetricResult
    from .statistics import FeatureStats
    from .streaming import StreamingFID, StreamingIS, StreamingKID, StreamingPRDC
