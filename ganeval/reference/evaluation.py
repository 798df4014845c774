"""The metrics a training run logs: :func:`evaluate_samples` against the data's test split.

- mixtures (``ring8``, ``grid25``): :func:`~ganeval.metrics.modes.mode_metrics`, with
  ``min_count`` scaled to the sample size (:func:`~ganeval.metrics.modes.scaled_min_count`);
- digits: FID and KID on the 64 pixels and on the embedded digits network's features;
- tabular sets: ECDF L1 (mean over features), C2ST (logistic regression) and FID, on rows
  standardized with the test split's mean and std.

All go through ganeval's public metric functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .datasets import TRAINABLE, mixture, training_set
from .sampling import digit_images

__all__ = ["evaluate_samples", "digits_network_fid"]

_DIGITS_TEST_FEATURES: dict[str, Any] = {}
_OPTS: dict[str, Any] = dict(extractor="digits", cache=False, progress=False, device="cpu", batch_size=500)


def _digits_test_features(test: np.ndarray) -> Any:
    """The digits network's features of the test split (computed once per process)."""
    key = str(test.shape)
    if key not in _DIGITS_TEST_FEATURES:
        _DIGITS_TEST_FEATURES[key] = _digits_features(test)
    return _DIGITS_TEST_FEATURES[key]


def _digits_features(rows: np.ndarray) -> np.ndarray:
    """The digits network's features of rows of 64 pixels in [0, 1]."""
    from ..features import extract_features
    from ..sources.images import ArrayImageSource

    src = ArrayImageSource("digits rows", digit_images(rows), preferred_extractor="digits", cacheable=False)
    return extract_features(src, **_OPTS).features


def _digits_network_metrics(test: np.ndarray, samples: np.ndarray, seed: int) -> dict[str, Any]:
    from ..metrics.fid import fid_from_features
    from ..metrics.kid import kernel_inception_distance

    real, fake = _digits_test_features(test), _digits_features(samples)
    return {
        "fid_digits": fid_from_features(real, fake).value,
        "kid_digits": kernel_inception_distance(real, fake, subsets=20, seed=seed).value,
    }


def digits_network_fid(samples: np.ndarray) -> float:
    """FID on the digits network's features of ``samples`` (rows of 64 pixels in [0, 1])
    against ``builtin:digits/test``, as :func:`evaluate_samples` logs it (``fid_digits``).

    Examples
    --------
    >>> from ganeval.reference.datasets import training_set
    >>> round(digits_network_fid(training_set("digits", "train").rows), 2)
    0.03
    """
    from ..metrics.fid import fid_from_features

    test = training_set("digits", "test").rows
    return fid_from_features(_digits_test_features(test), _digits_features(samples)).value


def evaluate_samples(data: str, samples: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """The metrics :func:`~ganeval.reference.train` logs, for ``samples`` of data set ``data``
    (vs its test split).

    Mixtures: :func:`~ganeval.metrics.modes.mode_metrics` with ``min_count`` scaled to the
    sample size. Digits: FID and KID on the 64 pixel features and on the embedded digits
    network's features. Tabular: ECDF L1 (mean over features), C2ST (logistic regression)
    and FID, all on rows standardized by the test split's mean and std.

    Examples
    --------
    >>> from ganeval.reference.datasets import training_set
    >>> m = evaluate_samples("ring8", training_set("ring8", "test").rows)
    >>> m["modes_covered"], m["high_quality"] > 0.98
    (8, True)
    """
    kind = TRAINABLE[data]
    if kind == "mixture":
        from ..metrics.modes import mode_metrics, scaled_min_count

        mix = mixture(data)
        r = mode_metrics(samples, mix.centers, mix.std, min_count=scaled_min_count(samples.shape[0]))
        return {k: r.values[k] for k in ("modes_covered", "high_quality", "kl_uniform")}
    test = training_set(data, "test").rows
    if kind == "image":
        from ..metrics.fid import fid_from_features
        from ..metrics.kid import kernel_inception_distance

        out = {
            "fid_pixels": fid_from_features(test, samples).value,
            "kid_pixels": kernel_inception_distance(test, samples, subsets=20, seed=seed).value,
        }
        out.update(_digits_network_metrics(test, samples, seed))
        return out
    mu, sd = test.mean(0), test.std(0)
    sd[sd == 0] = 1.0
    zt, zs = (test - mu) / sd, (samples - mu) / sd
    from ..metrics.c2st import classifier_two_sample_test
    from ..metrics.ecdf import ecdf_distance
    from ..metrics.fid import fid_from_features

    c2st = classifier_two_sample_test(zt, zs, classifier="logreg", seed=seed)
    return {
        "ecdf_l1_std": ecdf_distance(zt, zs, p=1).value,
        "c2st_accuracy": c2st.values["accuracy"],
        "c2st_auc": c2st.values["auc"],
        "fid_std": fid_from_features(zt, zs).value,
    }
