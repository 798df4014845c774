"""Nested-model F1: train on synthetic, test on real (TSTR).

The same model family is trained twice with the same seed, once on the real training rows
and once on the synthetic ones, and both are tested on held-out real rows:

- ``value``: F1 of the model trained on the synthetic rows;
- ``f1_real``: F1 of the model trained on the real rows (the baseline);
- ``ratio``: ``value / f1_real`` (1 = the synthetic data trains as well as the real data).

F1 is macro-averaged over the classes seen in the real data when there are more than two,
and binary otherwise, with the larger class label (in sorted order) as the positive class.
Without a real test set, a stratified ``test_fraction`` of the real training rows is held
out (seeded) and the rest is used for training.

González-Prieto et al. (arXiv:2110.15914) call this the F1 of a nested model; in the
image literature the same idea is the Classification Accuracy Score (Ravuri & Vinyals
2019, arXiv:1905.10887).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import MAX_SEED, as_features, check_choice, check_int, check_same_dim, column_scale, show
from ..errors import DataError, DegenerateWarning, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["nested_model_f1", "MODELS", "NestedF1"]

MODELS = ("rf", "logreg", "mlp")


def _make_model(name: str, seed: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "rf":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=500, random_state=seed))


def _labels(y: Any, name: str, n_rows: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.size == n_rows else arr
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise DataError(f"{name}: expected {n_rows} labels, got shape {np.asarray(y).shape}")
    if arr.dtype.kind in "biu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            bad = arr[~np.isfinite(arr)][0]
            raise DataError(f"{name}: labels contain {show(bad)} at row {int(np.argmax(~np.isfinite(arr)))}")
        if np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        return arr
    # text, or a mix of text and numbers: compare every label as text (1.0 and "1" alike)
    return np.array([_label_text(v) for v in arr], dtype=object).astype(str)


def _label_text(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_classes(labels: np.ndarray, name: str) -> None:
    """Refuse a continuous target: float labels that are not whole numbers."""
    if labels.dtype.kind == "f":
        frac = labels[labels != np.round(labels)]
        raise DataError(
            f"{name}: the target labels are continuous (e.g. {show(frac[0])}; {np.unique(labels).size} distinct "
            f"values); nested-f1 needs class labels: give a class column as the target"
        )


def _same_label_type(*labels: np.ndarray) -> list[np.ndarray]:
    """Numbers on one side and text on another are all compared as text."""
    if len({a.dtype.kind for a in labels}) > 1:
        return [np.array([_label_text(v) for v in a], dtype=object).astype(str) for a in labels]
    return list(labels)


def nested_model_f1(
    real_train: Any,
    real_train_labels: Any,
    fake_train: Any,
    fake_train_labels: Any,
    real_test: Any = None,
    real_test_labels: Any = None,
    *,
    model: str = "rf",
    seed: int = 0,
    test_fraction: float = 0.3,
    columns: list[str] | None = None,
) -> MetricResult:
    """F1 on real test rows of a model trained on synthetic rows, against one trained on real rows.

    Parameters
    ----------
    real_train, fake_train : array-like of shape (n, d)
        Training features.
    real_train_labels, fake_train_labels : array-like of shape (n,)
        Their class labels (any comparable values: numbers or strings).
    real_test, real_test_labels : optional
        Held-out real rows. Default: a stratified ``test_fraction`` of ``real_train``.
    model : {"rf", "logreg", "mlp"}, default="rf"
        Random forest (100 trees), standardised logistic regression, or a standardised MLP
        with one hidden layer of 64 units; every random part seeded with ``seed``.
    seed : int, default=0
    test_fraction : float, default=0.3
        Used only without ``real_test``.
    columns : list of str, optional
        Feature names, recorded in the settings.

    Returns
    -------
    MetricResult
        ``value`` (F1 trained on fake), ``f1_real`` and ``ratio`` (None when ``f1_real``
        is 0); higher is better.

    References
    ----------
    González-Prieto et al., arXiv:2110.15914; Ravuri & Vinyals, arXiv:1905.10887.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 2)); y = (x[:, 0] > 0).astype(int)
    >>> r = nested_model_f1(x, y, x, y, model="logreg")
    >>> r.ratio
    1.0
    """
    check_choice(model, "model", MODELS)
    seed = check_int(seed, "seed", minimum=0, maximum=MAX_SEED)
    xr, yr, xf, yf, xt, yt = _checked_tables(
        real_train, real_train_labels, fake_train, fake_train_labels, real_test, real_test_labels
    )
    # models are invariant to a positive scale per column (trees; standardised otherwise):
    # dividing by the largest |value| keeps huge finite values from overflowing (trees use float32)
    scale = column_scale(xr, xf, *([xt] if xt is not None else []))
    xr, xf = xr / scale, xf / scale
    held_out = "given"
    if xt is None or yt is None:
        xr, xt, yr, yt = _stratified_hold_out(xr, yr, test_fraction, seed)
        held_out = f"stratified {test_fraction:g} of real_train"
    else:
        xt = xt / scale
    for name, labels in (("real_train", yr), ("fake_train", yf)):
        if np.unique(labels).size < 2:
            raise DataError(f"{name}: the target has one class ({show(np.unique(labels)[0])}); a classifier needs >= 2")
    classes, kwargs, average = _f1_average(yr, yt)
    f1_real, f1_fake = (_f1_of_model(model, seed, x, y, xt, yt, kwargs) for x, y in ((xr, yr), (xf, yf)))
    ratio = f1_fake / f1_real if f1_real > 0 else None
    if ratio is None:
        warnings.warn(
            "nested_model_f1: the model trained on real data scores F1 = 0; ratio is undefined (None)",
            DegenerateWarning,
            stacklevel=2,
        )
    settings: dict[str, Any] = {
        "model": model,
        "seed": seed,
        "average": average,
        "test": held_out,
        "n_test": int(xt.shape[0]),
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
    }
    if columns is not None:
        settings["columns"] = list(columns)
    return MetricResult(
        "nested-f1",
        {"value": f1_fake, "f1_real": f1_real, "ratio": ratio},
        settings,
        n_real=int(xr.shape[0]),
        n_fake=int(xf.shape[0]),
    )


def _checked_tables(
    real_train: Any,
    real_train_labels: Any,
    fake_train: Any,
    fake_train_labels: Any,
    real_test: Any,
    real_test_labels: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The rows and class labels of each table, checked (same dimension, class labels, not
    a continuous target) and with labels of one type (text when any side is text)."""
    xr = as_features(real_train, "real_train", max_abs=None)
    yr = _labels(real_train_labels, "real_train labels", xr.shape[0])
    xf = as_features(fake_train, "fake_train", max_abs=None)
    yf = _labels(fake_train_labels, "fake_train labels", xf.shape[0])
    check_same_dim(xr, xf, "real_train", "fake_train")
    if real_test is None:
        _check_classes(yr, "real_train")
        _check_classes(yf, "fake_train")
        yr, yf = _same_label_type(yr, yf)
        return xr, yr, xf, yf, None, None
    xt = as_features(real_test, "real_test", min_samples=1, max_abs=None)
    yt = _labels(real_test_labels, "real_test labels", xt.shape[0])
    check_same_dim(xr, xt, "real_train", "real_test")
    _check_classes(yt, "real_test")
    _check_classes(yr, "real_train")
    _check_classes(yf, "fake_train")
    yr, yf, yt = _same_label_type(yr, yf, yt)
    return xr, yr, xf, yf, xt, yt


def _stratified_hold_out(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, x_test, y_train, y_test)``: a seeded, stratified ``test_fraction`` of the
    real training rows held out as the test set."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < float(test_fraction) < 1.0:
        raise ParameterError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise DataError(
            f"real_train: class {show(classes[np.argmin(counts)])} has {counts.min()} row; "
            f"a stratified hold-out needs >= 2 per class (or give REAL_TEST)"
        )
    try:
        return train_test_split(x, y, test_size=float(test_fraction), stratify=y, random_state=seed)
    except ValueError as exc:
        raise DataError(f"real_train: cannot hold out a stratified test part ({exc})") from None


def _f1_average(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, dict[str, Any], str]:
    """The classes of the real data, the ``f1_score`` keywords and how F1 is averaged:
    macro over more than two classes, else binary with the larger label as positive."""
    classes = np.unique(np.concatenate([y_train, y_test]))
    if classes.size > 2:
        return classes, {"average": "macro", "labels": classes}, "macro"
    return classes, {"average": "binary", "pos_label": classes[-1]}, f"binary (positive class {show(classes[-1])})"


def _f1_of_model(
    model: str, seed: int, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, kwargs: dict[str, Any]
) -> float:
    """F1 on the test rows of a fresh ``model`` (seeded) trained on ``x``, ``y``."""
    from sklearn.metrics import f1_score

    clf = _make_model(model, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn convergence notes on small sets
        clf.fit(x, y)
        pred = clf.predict(x_test)
        return float(f1_score(y_test, pred, zero_division=0, **kwargs))


class NestedF1(Metric):
    """Train on synthetic, test on real: F1 of a model trained on FAKE_TRAIN, tested on REAL_TEST."""

    name = "nested-f1"
    takes = "labelled"
    higher_is_better = True
    outputs = (
        Output("value", True, (0.0, 1.0), "Nested F1"),
        Output("f1_real", True, (0.0, 1.0)),
        Output("ratio", True, (0.0, math.inf)),
    )
    seeded = True
    resampling = None
    no_interval = "it is a train/test protocol, not a function of two samples"
    options = (
        Option("model", "str", "rf", "Model trained on each training set.", choices=("rf", "logreg", "mlp")),
        Option(
            "test_fraction",
            "float",
            0.3,
            "Share of REAL_TRAIN held out when REAL_TEST is not given.",
            minimum=0.0,
            maximum=1.0,
            exclusive_minimum=True,
        ),
    )

    def compute(self, *tables: Any, **options: Any) -> MetricResult:
        return nested_model_f1(*tables, **options)
