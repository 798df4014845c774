"""ganeval: measure how close generated samples are to real ones.

The flow is sources -> extractors -> statistics -> metrics -> results; every metric is one
:class:`Metric` in :mod:`ganeval.metrics.registry` (docs/extending.md).
"""

from .version import __version__  # noqa: E402

from .errors import DataError, GanevalError, InputError, ParameterError, WeightsError  # noqa: E402
from .results import MetricResult  # noqa: E402
from .statistics import FeatureStats  # noqa: E402
from .metrics.base import Metric, Option, Output  # noqa: E402
from .metrics.registry import register_metric  # noqa: E402
from .metrics.fid import fid_from_features, fid_from_stats, frechet_distance  # noqa: E402
from .metrics.inception_score import inception_score  # noqa: E402
from .metrics.kid import kernel_inception_distance  # noqa: E402
from .metrics.mmd import maximum_mean_discrepancy  # noqa: E402
from .metrics.prdc import prdc  # noqa: E402
from .metrics.ecdf import ecdf_distance  # noqa: E402
from .metrics.c2st import classifier_two_sample_test  # noqa: E402
from .metrics.nested_f1 import nested_model_f1  # noqa: E402
from .metrics.wasserstein import wasserstein_distance  # noqa: E402
from .metrics.modes import mode_metrics  # noqa: E402
from .metrics.vendi import vendi_score  # noqa: E402
from .metrics.memorization import memorization  # noqa: E402
from .metrics.prd import prd  # noqa: E402
from . import uncertainty  # noqa: E402
from . import divergences  # noqa: E402
from .api import Features, evaluate, load_features  # noqa: E402
from .compare import compare  # noqa: E402
from .streaming import StreamingFID, StreamingIS, StreamingKID, StreamingPRDC  # noqa: E402
from .evaluator import Evaluator  # noqa: E402

__all__ = [
    "__version__",
    "GanevalError", "InputError", "ParameterError", "DataError", "WeightsError",
    "MetricResult", "FeatureStats", "Metric", "Option", "Output", "register_metric",
    "frechet_distance", "fid_from_features", "fid_from_stats",
    "inception_score", "kernel_inception_distance", "maximum_mean_discrepancy", "prdc",
    "ecdf_distance", "classifier_two_sample_test", "nested_model_f1", "wasserstein_distance", "mode_metrics",
    "divergences",
    "Features", "evaluate", "load_features", "compare",
    "StreamingFID", "StreamingKID", "StreamingPRDC", "StreamingIS", "Evaluator",
    "vendi_score", "memorization", "prd", "uncertainty",
]
