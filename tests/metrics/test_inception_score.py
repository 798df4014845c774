"""Inception Score: closed forms and torch-fidelity (consecutive splits) as oracle."""

import numpy as np
import pytest
import torch

from ganeval import DataError, ParameterError, inception_score


def test_uniform_predictions_score_one():
    assert inception_score(np.zeros((100, 7)), splits=5).value == pytest.approx(1.0)


def test_confident_balanced_predictions_score_number_of_classes():
    probs = np.eye(10)[np.arange(1000) % 10]
    r = inception_score(probs, splits=10, input="probs")
    assert r.value == pytest.approx(10.0)
    assert r.std == pytest.approx(0.0, abs=1e-12)


def test_collapsed_confident_predictions_score_one():
    probs = np.eye(10)[np.zeros(100, dtype=int)]
    assert inception_score(probs, splits=2, input="probs").value == pytest.approx(1.0)


def test_agrees_with_torch_fidelity(rng):
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = rng.normal(size=(503, 20)) * 3
    ref = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=False)
    r = inception_score(logits, splits=10)
    assert r.value == pytest.approx(ref["inception_score_mean"], rel=1e-10)
    assert r.std == pytest.approx(ref["inception_score_std"], rel=1e-8)


def test_probs_and_logits_agree(rng):
    logits = rng.normal(size=(60, 5))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    a = inception_score(logits, splits=3)
    b = inception_score(p, splits=3, input="probs")
    assert a.value == pytest.approx(b.value, rel=1e-10)


def test_consecutive_splits_are_order_sensitive():
    # two halves, each collapsed on a different class: every split scores 1 when consecutive
    probs = np.eye(2)[np.r_[np.zeros(50, int), np.ones(50, int)]]
    assert inception_score(probs, splits=2, input="probs").value == pytest.approx(1.0)
    assert inception_score(probs, splits=1, input="probs").value == pytest.approx(2.0)


def test_bad_inputs():
    with pytest.raises(ParameterError, match="splits=11 is larger"):
        inception_score(np.zeros((10, 3)), splits=11)
    with pytest.raises(DataError, match="sum to 1"):
        inception_score(np.ones((10, 3)), input="probs", splits=2)
    with pytest.raises(DataError, match="non-finite"):
        inception_score(np.full((10, 3), np.nan), splits=2)
    with pytest.raises(ParameterError, match="input must be one of"):
        inception_score(np.zeros((10, 3)), input="softmax")
