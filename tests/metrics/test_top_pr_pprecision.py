"""TopP&R (Kim et al. 2023) against the ``top-pr`` package, and P-precision / P-recall (Park and
Kim 2023) against a slow transcription of the reference code and by hand."""

import numpy as np
import pytest

from ganeval.errors import DataError, ParameterError
from ganeval.metrics.pprecision import p_precision_recall
from ganeval.metrics.registry import get
from ganeval.metrics.top_pr import balloon_bandwidth, random_projection, top_pr


def _reference_top_pr(monkeypatch, real, fake, seed, bootstraps=10):
    ref = pytest.importorskip("top_pr.top_pr")
    # the reference draws its bootstraps from the global RNG: hand it the draws ours makes
    g = np.random.default_rng(seed)
    draws = iter(
        [g.integers(0, len(real), size=len(real)) for _ in range(bootstraps)]
        + [g.integers(0, len(fake), size=len(fake)) for _ in range(bootstraps)]
    )
    monkeypatch.setattr(ref.np.random, "choice", lambda *a, **k: next(draws))
    monkeypatch.setattr(ref, "tqdm", lambda x, **k: x)
    return ref.compute_top_pr(real_features=real, fake_features=fake)


@pytest.mark.parametrize("d, shift", [(4, 0.0), (5, 0.7), (40, 0.3)])
def test_matches_the_top_pr_package(monkeypatch, d, shift):
    g = np.random.default_rng(d)
    n = 220 if d > 32 else 160
    real = g.normal(size=(n, d)).astype(np.float32).astype(np.float64)
    fake = (g.normal(size=(n - 20, d)) * 1.2 + shift).astype(np.float32).astype(np.float64)
    ref = _reference_top_pr(monkeypatch, real, fake, seed=3)
    ours = top_pr(real, fake, seed=3)
    assert ours.precision == pytest.approx(ref["fidelity"], abs=1.5 / len(fake))
    assert ours.recall == pytest.approx(ref["diversity"], abs=1.5 / len(real))
    assert ours.top_f1 == pytest.approx(ref["Top_F1"], abs=0.01)


def test_projection_is_the_reference_linear_layer():
    torch = pytest.importorskip("torch")
    torch.manual_seed(99)
    layer = torch.nn.Linear(50, 32, bias=False)
    torch.manual_seed(99)
    torch.nn.init.xavier_normal_(layer.weight)
    assert np.array_equal(random_projection(50, 32), layer.weight.detach().numpy().T.astype(np.float64))


def test_bandwidth_by_hand():
    x = np.array([[0.0], [1.0], [3.0], [6.0], [10.0], [15.0], [21.0], [28.0]])
    # d = 1: k = 5, rows 0..2; 5th smallest distance to the later rows: 15, 20, 25 -> the 1st
    assert balloon_bandwidth(x) == 15.0


def _slow_pp(real, fake, a, k):
    def radius(s):
        d = np.linalg.norm(s[:, None] - s[None], axis=-1)
        return a * np.sort(d, axis=1)[:, k].mean()

    d = np.linalg.norm(real[:, None] - fake[None], axis=-1)  # (n_real, n_fake)
    psr_x = np.where(d >= radius(real), 0.0, 1 - d / radius(real))
    psr_y = np.where(d.T >= radius(fake), 0.0, 1 - d.T / radius(fake))
    return np.mean(1 - np.prod(1 - psr_x, axis=0)), np.mean(1 - np.prod(1 - psr_y, axis=0))


def test_p_precision_recall_matches_the_reference_formula(rng):
    real, fake = rng.normal(size=(70, 3)), rng.normal(size=(50, 3)) * 1.4 + 0.3
    pp, pr = _slow_pp(real, fake, 1.2, 4)
    r = p_precision_recall(real, fake)
    assert r.p_precision == pytest.approx(pp, rel=1e-12) and r.p_recall == pytest.approx(pr, rel=1e-12)
    r2 = p_precision_recall(real, fake, a=0.7, k=2)
    assert (r2.p_precision, r2.p_recall) == pytest.approx(_slow_pp(real, fake, 0.7, 2), rel=1e-12)


def test_p_precision_hand_case_and_copies():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # 1-NN distances all 1: R = a
    r = p_precision_recall(real, np.array([[0.5], [10.0], [11.0]]), a=1.0, k=1)
    assert r.p_precision == pytest.approx((1 - 0.25) / 3)
    assert p_precision_recall(real, real.copy(), k=1).p_precision == 1.0  # a row on a centre: probability 1


def test_registered_and_errors(rng):
    real, fake = rng.normal(size=(60, 3)), rng.normal(size=(50, 3))
    assert dict(get("top-pr")(real, fake, seed=2).values) == dict(top_pr(real, fake, seed=2).values)
    assert get("p-precision-recall")(real, fake).p_recall == p_precision_recall(real, fake).p_recall
    with pytest.raises(DataError, match="the bandwidth rule needs more than"):
        top_pr(real[:10], fake)
    with pytest.raises(ParameterError, match="alpha"):
        top_pr(real, fake, alpha=1.0)
    with pytest.raises(ParameterError, match="k=50 must be smaller than the fake set's size"):
        p_precision_recall(real, fake, k=50)
