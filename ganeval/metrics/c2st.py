"""Classifier two-sample test (C2ST; Lopez-Paz & Oquab 2017, arXiv:1610.06545).

Real rows get label 1 and fake rows label 0. The larger set is subsampled (seeded) to the
size of the smaller one, so the two classes are balanced and chance accuracy is 1/2. A
classifier is cross-validated with ``folds`` stratified folds (shuffled with the seed); the
features are standardised with a scaler fitted inside each training fold only (after each
column is divided by its largest ``|value|``, which changes no classifier's result but keeps
huge finite values from overflowing). Every row
gets an out-of-fold probability ``D(x)`` of being real, from which:

- ``accuracy``: fraction of rows with ``(D(x) > 1/2) == label``;
- ``auc``: ROC AUC of ``D`` (1/2 = indistinguishable, 1 = perfectly separable);
- ``p_value``: one-sided p-value of ``accuracy > 1/2``. Default: the binomial tail
  ``P(Binom(N, 1/2) >= correct)`` (under H0 the held-out accuracy is about
  ``N(1/2, 1/(4N))``, Lopez-Paz & Oquab). With ``permutations > 0``: ``(1 + #{permuted
  accuracy >= observed}) / (1 + permutations)``, re-running the whole cross-validation
  with shuffled labels;
- ``kl`` and ``js_lower_bound``: divergence estimates from the same probabilities
  (:mod:`ganeval.metrics.classifier_divergence`; the JS value is a lower bound, the KL value
  a plug-in estimate, neither is exact).

Classifiers (scikit-learn, every random part seeded): ``logreg`` (L2 logistic regression),
``mlp`` (one hidden layer of 64 ReLU units, Adam, early stopping), ``knn`` (15 nearest
neighbours, uniform weights), ``rf`` (100 trees, seeded).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import MAX_SEED, as_features, check_choice, check_int, check_same_dim, column_scale, resolve_seed
from ..errors import DataError, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output
from .classifier_divergence import js_lower_bound, kl_from_probabilities, log_loss

__all__ = ["classifier_two_sample_test", "make_classifier", "out_of_fold_probabilities", "CLASSIFIERS", "C2ST"]

CLASSIFIERS = ("logreg", "mlp", "knn", "rf")

#: most label shuffles accepted (each re-runs the whole cross-validation; 10,000 already
#: resolves p-values down to 1e-4)
MAX_PERMUTATIONS = 100_000


def make_classifier(name: str, seed: int):
    """A scikit-learn pipeline ``StandardScaler -> classifier`` (seeded where random)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_choice(name, "classifier", CLASSIFIERS)
    if name == "logreg":
        clf = LogisticRegression(max_iter=1000)
    elif name == "mlp":
        clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, early_stopping=True, random_state=seed)
    elif name == "knn":
        clf = KNeighborsClassifier(n_neighbors=15)
    else:
        clf = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    return make_pipeline(StandardScaler(), clf)


def out_of_fold_probabilities(x: np.ndarray, labels: np.ndarray, classifier: str, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold probability of label 1 for every row (stratified, shuffled k-fold)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold

    prob = np.empty(x.shape[0])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, labels):
        model = make_classifier(classifier, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x[train], labels[train])
        prob[test] = model.predict_proba(x[test])[:, list(model.classes_).index(1)]
    return prob


def _accuracy(prob: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((prob > 0.5) == (labels == 1)))


def _balanced(x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Both sets subsampled (seeded, order kept) to ``n`` rows each, stacked, with labels
    1 (real) and 0 (fake)."""
    if x.shape[0] > n:
        x = x[np.sort(rng.choice(x.shape[0], n, replace=False))]
    if y.shape[0] > n:
        y = y[np.sort(rng.choice(y.shape[0], n, replace=False))]
    data = np.concatenate([x, y])
    labels = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)])
    return data, labels


def _binomial_p_value(acc: float, n: int) -> float:
    """``P(Binom(2n, 1/2) >= correct)``: the one-sided p-value of the accuracy under H0."""
    from scipy.stats import binom  # scipy.stats takes ~1 s to import: only when used

    correct = int(round(acc * 2 * n))
    return float(binom.sf(correct - 1, 2 * n, 0.5))


def _permutation_p_value(
    acc: float,
    data: np.ndarray,
    labels: np.ndarray,
    classifier: str,
    folds: int,
    seed: int,
    permutations: int,
    rng: np.random.Generator,
) -> float:
    """``(1 + #{permuted accuracy >= acc}) / (1 + permutations)``, each permutation a whole
    cross-validation on shuffled labels."""
    count = 0
    for _ in range(permutations):
        shuffled = rng.permutation(labels)
        perm_prob = out_of_fold_probabilities(data, shuffled, classifier, folds, seed)
        count += _accuracy(perm_prob, shuffled) >= acc
    return (1 + count) / (1 + permutations)


def classifier_two_sample_test(
    real: Any,
    fake: Any,
    *,
    classifier: str = "logreg",
    folds: int = 5,
    seed: int = 0,
    permutations: int = 0,
    columns: list[str] | None = None,
) -> MetricResult:
    """Classifier two-sample test between ``real`` and ``fake`` rows.

    Parameters
    ----------
    real : array-like of shape (n_real, d)
    fake : array-like of shape (n_fake, d)
    classifier : {"logreg", "mlp", "knn", "rf"}, default="logreg"
    folds : int, default=5
        Stratified cross-validation folds (>= 2; at most the size of the smaller set).
    seed : int, default=0
        Seeds the balancing subsample, the fold split, the classifier and the permutations.
    permutations : int, default=0
        0: binomial p-value; N > 0: permutation p-value from N label shuffles.
    columns : list of str, optional
        Feature names, recorded in the settings.

    Returns
    -------
    MetricResult
        ``accuracy``, ``auc``, ``p_value``, ``log_loss`` (nats), ``kl`` (plug-in estimate of
        KL(real||fake)) and ``js_lower_bound`` (nats); ``value`` is the accuracy.

    References
    ----------
    Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", arXiv:1610.06545.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> r = classifier_two_sample_test(x, x + 3.0)
    >>> r.accuracy > 0.95, r.p_value < 1e-6
    (True, True)
    """
    from sklearn.metrics import roc_auc_score

    check_choice(classifier, "classifier", CLASSIFIERS)
    seed = check_int(seed, "seed", minimum=0, maximum=MAX_SEED)
    folds = check_int(folds, "folds", minimum=2)
    permutations = check_int(permutations, "permutations (--permutations)", minimum=0, maximum=MAX_PERMUTATIONS)
    x = as_features(real, "real", max_abs=None)
    y = as_features(fake, "fake", max_abs=None)
    check_same_dim(x, y, "real", "fake")
    # every classifier here is invariant to a positive scale per column (standardised, or
    # trees): dividing by the largest |value| keeps huge but finite values from overflowing
    scale = column_scale(x, y)
    x, y = x / scale, y / scale
    n_real, n_fake = x.shape[0], y.shape[0]
    n = min(n_real, n_fake)
    if folds > n:
        raise ParameterError(f"folds={folds} is more than the smaller set's {n} rows; use fewer folds")
    rng = resolve_seed(seed)
    data, labels = _balanced(x, y, n, rng)
    if np.ptp(data, axis=0).max() == 0:
        raise DataError("real and fake: every feature is constant; nothing to classify")
    prob = out_of_fold_probabilities(data, labels, classifier, folds, seed)
    acc = _accuracy(prob, labels)
    auc = float(roc_auc_score(labels, prob))
    if permutations:
        p_value = _permutation_p_value(acc, data, labels, classifier, folds, seed, permutations, rng)
        test = "permutation"
    else:
        p_value = _binomial_p_value(acc, n)
        test = "binomial"
    values = {
        "value": acc,
        "accuracy": acc,
        "auc": auc,
        "p_value": float(p_value),
        "log_loss": log_loss(prob, labels),
        "kl": kl_from_probabilities(prob, labels),
        "js_lower_bound": js_lower_bound(prob, labels),
    }
    settings: dict[str, Any] = {
        "classifier": classifier,
        "folds": folds,
        "seed": seed,
        "permutations": permutations,
        "test": test,
        "n_per_class": n,
    }
    if columns is not None:
        settings["columns"] = list(columns)
    return MetricResult("c2st", values, settings, n_real=n_real, n_fake=n_fake)


class C2ST(Metric):
    """Classifier two-sample test: cross-validated accuracy and AUC of telling REAL from FAKE (best: 0.5)."""

    name = "c2st"
    outputs = (
        Output("accuracy", None, (0.0, 1.0), "C2ST acc.", target=0.5),
        Output("auc", None, (0.0, 1.0), "C2ST AUC", target=0.5),
        Output("p_value", None, (0.0, 1.0)),
    )
    seeded = True
    resampling = "half"
    uses_columns = True
    options = (
        Option("classifier", "str", "logreg", "Classifier.", choices=("logreg", "mlp", "knn", "rf")),
        Option("folds", "int", 5, "Cross-validation folds.", minimum=2),
        Option("permutations", "int", 0, "Permutation test rounds for the p-value (0: binomial test).", minimum=0),
    )
    test_options = {"folds": 3}
    order_invariant = False

    def compute(self, real: np.ndarray, fake: np.ndarray, **options: Any) -> MetricResult:
        return classifier_two_sample_test(real, fake, **options)
