"""Realism (Kynkäänniemi et al. 2019) and rarity (Han et al. 2022) scores per sample.

Checked against slow transcriptions of the two reference algorithms (kynkaat's
``ManifoldEstimator`` with ``clamp_to_percentile=50``, hichoe95's ``MANIFOLD.rarity``), and
hand-computed cases.
"""

import numpy as np
import pytest

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.rarity import rarity, rarity_scores
from ganeval.metrics.realism import realism, realism_scores
from ganeval.metrics.registry import get


def _sq(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def _reference_realism(real, fake, k=3, clamp=50, eps=1e-5):
    # the reference: squared distances, k-th neighbour counting the row itself at 0,
    # radii above the percentile set to 0, max of radius^2 / (distance^2 + eps)
    d_rr = _sq(real, real)
    radii = np.partition(d_rr, k, axis=1)[:, k]
    if clamp is not None:
        radii = np.where(radii > np.percentile(radii, clamp), 0.0, radii)
    return (radii[None, :] / (_sq(fake, real) + eps)).max(axis=1)


def _reference_rarity(real, fake, k=3):
    d_rr = np.sqrt(_sq(real, real))
    r = np.sort(d_rr, axis=1)[:, k]
    d = np.sqrt(_sq(real, fake))  # (n_real, n_fake)
    valid = (r[:, None] - d) > 0
    return np.array([r[valid[:, j]].min() if valid[:, j].any() else 0.0 for j in range(fake.shape[0])])


def test_realism_matches_the_reference_algorithm(rng):
    real, fake = rng.normal(size=(120, 5)), rng.normal(size=(40, 5)) * 1.5
    ref = _reference_realism(real, fake)
    assert realism_scores(real, fake, squared=True) == pytest.approx(ref, rel=1e-10)
    assert realism_scores(real, fake) == pytest.approx(np.sqrt(ref), rel=1e-10)
    ref_all = _reference_realism(real, fake, k=5, clamp=None)
    assert realism_scores(real, fake, k=5, prune_percentile=100, squared=True) == pytest.approx(ref_all, rel=1e-10)


def test_realism_hand_case_and_summaries():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # every 1-NN radius is 1
    s = realism_scores(real, np.array([[0.5], [10.0], [1.0]]), k=1, prune_percentile=100)
    assert s[0] == pytest.approx(1 / np.sqrt(0.25 + 1e-5)) and s[1] == pytest.approx(1 / np.sqrt(49 + 1e-5))
    assert s[2] == pytest.approx(1 / np.sqrt(1e-5))  # an exact copy: large and finite
    r = realism(real, np.array([[0.5], [10.0], [1.0]]), k=1, prune_percentile=100)
    assert r.per_sample == pytest.approx(s.tolist()) and r.value == pytest.approx(np.median(s))
    assert r.inside == pytest.approx(2 / 3) and r.mean == pytest.approx(s.mean())


def test_realism_pruning_drops_the_outlier_balls():
    # an outlier real point has a huge ball; with pruning it no longer makes far fakes "real"
    real = np.concatenate([np.linspace(0, 1, 11)[:, None], [[100.0]]])
    fake = np.array([[60.0]])
    assert realism_scores(real, fake, k=1, prune_percentile=100)[0] > 1.0
    assert realism_scores(real, fake, k=1)[0] < 0.01


def test_rarity_matches_the_reference_algorithm(rng):
    real = np.concatenate([rng.normal(size=(100, 4)), rng.normal(size=(10, 4)) * 0.3 + 4.0])
    fake = np.concatenate([rng.normal(size=(40, 4)) * 1.4, rng.normal(size=(5, 4)) + 20.0])
    s, inside = rarity_scores(real, fake)
    assert s == pytest.approx(_reference_rarity(real, fake), rel=1e-12)
    assert not inside[-5:].any() and (s[~inside] == 0).all() and (s[inside] > 0).all()
    r = rarity(real, fake)
    assert r.value == pytest.approx(s[inside].mean()) and r.median == pytest.approx(np.median(s[inside]))
    assert r.per_sample == pytest.approx(s.tolist())
    assert [s[i] for i in r.rarest] == sorted(s[inside], reverse=True)


def test_rarity_hand_case_and_no_sample_inside():
    real = np.array([[0.0], [1.0], [2.0], [10.0]])  # 1-NN radii 1, 1, 1, 8
    s, inside = rarity_scores(real, np.array([[0.2], [6.5], [30.0], [1.0]]), k=1)
    assert s.tolist() == [1.0, 8.0, 0.0, 1.0] and inside.tolist() == [True, True, False, True]
    with pytest.warns(UserWarning, match="no generated sample lies inside"):
        r = rarity(real, np.array([[50.0]]), k=1)
    assert r.value == 0.0 and r.inside == 0.0


def test_registered_and_bad_input(rng):
    real, fake = rng.normal(size=(30, 3)), rng.normal(size=(20, 3))
    assert get("realism")(real, fake).per_sample == pytest.approx(realism_scores(real, fake).tolist())
    assert get("rarity")(real, fake, k=2).value == pytest.approx(rarity(real, fake, k=2).value)
    with pytest.raises(ParameterError, match="k=30 must be smaller than the real set's size"):
        realism_scores(real, fake, k=30)
    with pytest.raises(ParameterError, match="prune_percentile"):
        realism_scores(real, fake, prune_percentile=0)
    with pytest.raises(DataError, match="feature dimensions differ"):
        rarity_scores(real, fake[:, :2])
