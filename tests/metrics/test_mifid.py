"""MiFID against torchmetrics' MemorizationInformedFrechetInceptionDistance, and by hand."""

import numpy as np
import pytest

from ganeval.errors import ParameterError
from ganeval.metrics.fid import fid_from_features
from ganeval.metrics.mifid import mifid, min_cosine_distance
from ganeval.metrics.registry import get


def _torchmetrics_mifid(train, fake, eps=0.1):
    torch = pytest.importorskip("torch")
    mod = pytest.importorskip("torchmetrics.image.mifid")

    class Rows(torch.nn.Module):  # the "extractor": the rows themselves
        def forward(self, x):
            return x

    m = mod.MemorizationInformedFrechetInceptionDistance(feature=Rows(), cosine_distance_eps=eps)
    m.update(torch.from_numpy(train), real=True)
    m.update(torch.from_numpy(fake), real=False)
    return float(m.compute())


@pytest.mark.parametrize("case", ["fresh", "copies", "near-copies"])
def test_matches_torchmetrics(rng, case):
    train = rng.normal(size=(150, 6)) + 0.3
    fake = {
        "fresh": rng.normal(size=(120, 6)) * 1.2,
        "copies": train[:120] * 1.5,
        "near-copies": train[:120] + 0.05 * rng.normal(size=(120, 6)),
    }[case]
    r = mifid(train, fake)
    assert r.value == pytest.approx(_torchmetrics_mifid(train, fake), rel=1e-7)
    assert r.penalized == (case != "fresh")
    if case == "fresh":
        assert r.value == pytest.approx(fid_from_features(train, fake).value, rel=1e-12)


def test_eps_and_the_two_averaging_sides(rng):
    train = rng.normal(size=(80, 3))
    fake = np.concatenate([train[:40] + 0.02, rng.normal(size=(40, 3)) * 3.0])
    for eps in (0.05, 0.5, 1.0):
        assert mifid(train, fake, cosine_distance_eps=eps).value == pytest.approx(
            _torchmetrics_mifid(train, fake, eps), rel=1e-7
        )
    # Kaggle's scorer averages over the generated rows: d = mean_fake min_train (1 - |cos|)
    by_hand = np.mean([min(1 - abs(f @ t) / np.linalg.norm(f) / np.linalg.norm(t) for t in train) for f in fake])
    r = mifid(train, fake, average_over="fake", cosine_distance_eps=1.0)
    assert r.distance == pytest.approx(by_hand, rel=1e-12)
    assert r.value == pytest.approx(r.fid / (by_hand + 1e-14), rel=1e-12)


def test_cosine_distance_by_hand():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])  # the last row sums to 0: left out
    b = np.array([[1.0, 1.0], [-3.0, 0.0]])
    # row (1, 0): |cos| with (1,1) = 1/sqrt2, with (-3,0) = 1 -> 0; row (0, 2): 1 - 1/sqrt2
    assert min_cosine_distance(a, b) == pytest.approx((0 + 1 - 1 / np.sqrt(2)) / 2, rel=1e-12)


def test_registered_and_bad_options(rng):
    train, fake = rng.normal(size=(30, 3)), rng.normal(size=(25, 3))
    m = get("mifid")
    assert m.takes == "train-fake" and m(train, fake).value == pytest.approx(mifid(train, fake).value)
    with pytest.raises(ParameterError, match="cosine_distance_eps"):
        mifid(train, fake, cosine_distance_eps=0)
    with pytest.raises(ParameterError, match="average_over"):
        mifid(train, fake, average_over="real")
