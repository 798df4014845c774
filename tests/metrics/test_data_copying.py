"""The data-copying test C_T (Meehan et al. 2020): Z_U against scipy's Mann-Whitney U, the
weighted average against a slow transcription, and the three regimes (copying, fresh, underfit)."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from ganeval.errors import DataError
from ganeval.metrics.data_copying import ct_statistic, data_copying, mann_whitney_z
from ganeval.metrics.registry import get


def test_z_matches_scipy_u_with_ties(rng):
    a = rng.integers(0, 6, size=37).astype(float)
    b = rng.integers(0, 6, size=23).astype(float)
    u = mannwhitneyu(a, b, alternative="less").statistic  # U of the first sample
    m, n = a.size, b.size
    assert mann_whitney_z(a, b) == pytest.approx((u - m * n / 2 + 0.5) / np.sqrt(m * n * (m + n + 1) / 12), rel=1e-12)
    assert mann_whitney_z([1.0, 2.0], [3.0, 4.0]) == pytest.approx((0 - 2 + 0.5) / np.sqrt(20 / 12))


def _slow_ct(train, test, fake, tc, pc, qc, k, thr):
    zs, shares, keep = [], [], []
    for c in range(k):
        t, p, q = train[tc == c], test[pc == c], fake[qc == c]
        lq = np.array([np.linalg.norm(t - x, axis=1).min() for x in q])
        lp = np.array([np.linalg.norm(t - x, axis=1).min() for x in p])
        if len(q):
            u = sum((a > b) + 0.5 * (a == b) for a in lq for b in lp)
            zs.append((u - len(q) * len(p) / 2 + 0.5) / np.sqrt(len(q) * len(p) * (len(q) + len(p) + 1) / 12))
        else:
            zs.append(0.0)
        shares.append(len(p) / len(test))
        keep.append(len(q) > thr)
    zs, shares, keep = map(np.array, (zs, shares, keep))
    return (shares[keep] * zs[keep]).sum() / shares[keep].sum()


def test_statistic_matches_a_slow_transcription(rng):
    train, test, fake = rng.normal(size=(90, 3)), rng.normal(size=(60, 3)), rng.normal(size=(70, 3)) * 0.8
    tc, pc, qc = (np.argmax(x[:, :2], axis=1) + 2 * (x[:, 2] > 0) for x in (train, test, fake))  # 4 cells
    out = ct_statistic(train, test, fake, tc, pc, qc, n_cells=4, fake_threshold=10)
    assert out["value"] == pytest.approx(_slow_ct(train, test, fake, tc, pc, qc, 4, 10), rel=1e-12)
    assert sum(out["fake_count"]) == 70 and out["included"] == [c > 10 for c in out["fake_count"]]


def test_kmeans_cells_and_pca(rng):
    from sklearn.cluster import KMeans

    train, test, fake = rng.normal(size=(200, 5)), rng.normal(size=(150, 5)), rng.normal(size=(150, 5))
    km = KMeans(n_clusters=3, n_init=10, random_state=7).fit(train)
    ref = ct_statistic(train, test, fake, km.predict(train), km.predict(test), km.predict(fake), n_cells=3)
    assert data_copying(train, test, fake, seed=7).value == pytest.approx(ref["value"], rel=1e-12)
    # projecting 5 -> 5 principal components is a rotation: distances and cells keep their values
    wide = data_copying(train, test, fake, seed=7, pca_dims=4).value
    assert np.isfinite(wide)


def test_copying_fresh_and_underfitting_regimes():
    g = np.random.default_rng(3)
    train, test = g.normal(size=(300, 4)), g.normal(size=(300, 4))
    copies = train[:250] + 0.01 * g.normal(size=(250, 4))
    fresh = [data_copying(train, test, g.normal(size=(250, 4)), seed=s, cells=2).value for s in range(2)]
    blurred = g.normal(size=(250, 4)) * 1.6  # too spread: farther from the training rows
    assert data_copying(train, test, copies).value < -10
    assert all(abs(v) < 3.5 for v in fresh)
    assert data_copying(train, test, blurred).value > 3


def test_registered_and_errors(rng):
    train, test, fake = rng.normal(size=(100, 2)), rng.normal(size=(80, 2)), rng.normal(size=(90, 2))
    m = get("data-copying")
    assert m.takes == "train-test-fake" and m.inputs() == ("train", "test", "fake")
    assert m(train, test, fake, seed=1).value == data_copying(train, test, fake, seed=1).value
    with pytest.raises(DataError, match="no cell holds more than 100 generated samples"):
        data_copying(train, test, fake, fake_threshold=100)
    with pytest.raises(DataError, match="feature dimensions differ: train has 2, test has 3"):
        m(train, rng.normal(size=(10, 3)), fake)
    with pytest.raises(DataError, match="each cell needs both"):
        data_copying(train, test[:2], fake, cells=8)
