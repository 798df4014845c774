"""Nested-model F1 (train on synthetic, test on real)."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.nested_f1 import nested_model_f1


def _data(rng, n=300, classes=2):
    x = rng.normal(size=(n, 3))
    y = np.digitize(x[:, 0] + 0.3 * x[:, 1], np.linspace(-1, 1, classes + 1)[1:-1])
    return x, y


def test_same_data_ratio_one_and_reference(rng):
    x, y = _data(rng)
    xt, yt = _data(rng, 200)
    r = nested_model_f1(x, y, x, y, xt, yt, seed=3)
    assert r.ratio == 1.0 and r.value == r.f1_real
    ref = RandomForestClassifier(n_estimators=100, random_state=3, n_jobs=1).fit(x, y).predict(xt)
    assert r.f1_real == pytest.approx(f1_score(yt, ref))
    assert r.settings["average"].startswith("binary")


def test_useless_fake_scores_lower(rng):
    x, y = _data(rng, classes=3)
    xt, yt = _data(rng, 200, classes=3)
    y_bad = rng.permutation(y)  # labels carry no information
    r = nested_model_f1(x, y, x, y_bad, xt, yt, model="logreg")
    assert r.settings["average"] == "macro"
    assert r.f1_real > 0.8 and r.value < 0.6 and r.ratio < 0.75


def test_holdout_without_test_set_is_stratified_and_seeded(rng):
    x, y = _data(rng)
    a = nested_model_f1(x, y, x + 0.1, y, model="logreg", seed=1)
    b = nested_model_f1(x, y, x + 0.1, y, model="logreg", seed=1)
    assert a.to_dict() == b.to_dict()
    assert a.settings["n_test"] == 90 and "stratified" in a.settings["test"]


def test_string_labels_and_mlp(rng):
    x, y = _data(rng)
    labels = np.where(y == 1, "attack", "normal")
    r = nested_model_f1(x, labels, x, labels, model="mlp")
    assert r.settings["classes"] == ["attack", "normal"] and r.ratio == 1.0


def test_bad_input(rng):
    x, y = _data(rng, 50)
    with pytest.raises(DataError, match="fake_train: the target has one class"):
        nested_model_f1(x, y, x, np.zeros(50))
    with pytest.raises(DataError, match="real_train: the target has one class"):
        nested_model_f1(x, np.zeros(50), x, y, x, y)
    with pytest.raises(DataError, match="expected 50 labels"):
        nested_model_f1(x, y[:10], x, y)
    with pytest.raises(DataError, match="feature dimensions differ"):
        nested_model_f1(x, y, x[:, :2], y)
    with pytest.raises(ParameterError, match="model must be one of"):
        nested_model_f1(x, y, x, y, model="svm")
    with pytest.raises(ParameterError, match="test_fraction"):
        nested_model_f1(x, y, x, y, test_fraction=1.5)
