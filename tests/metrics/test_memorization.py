"""Memorisation (authenticity): copies flagged, the share falls with copies, slow reference."""

import numpy as np
import pytest

from ganeval import DataError, memorization


def _slow_authentic(train, fake):
    out = []
    for g in fake:
        d = np.linalg.norm(train - g, axis=1)
        j = int(np.argmin(d))
        others = np.delete(np.linalg.norm(train - train[j], axis=1), j)
        out.append(d[j] > others.min())
    return np.array(out)


def test_matches_a_slow_reference(rng):
    train, fake = rng.normal(size=(80, 3)), rng.normal(size=(50, 3))
    r = memorization(train, fake, top=5)
    ref = _slow_authentic(train, fake)
    assert r.value == pytest.approx(ref.mean()) and r.n_flagged == int((~ref).sum())
    dists = [c["distance"] for c in r.closest]
    assert dists == sorted(dists) and len(dists) == 5
    c = r.closest[0]
    assert c["distance"] == pytest.approx(np.linalg.norm(fake[c["fake_index"]] - train[c["train_index"]]))


def test_exact_copies_are_always_flagged_and_the_share_falls(rng):
    train = rng.normal(size=(300, 4))
    fresh = rng.normal(size=(200, 4))
    shares = []
    for n_copies in (0, 50, 100, 200):
        fake = np.concatenate([train[:n_copies], fresh[: 200 - n_copies]])
        r = memorization(train, fake, top=300)
        flagged_idx = {c["fake_index"] for c in r.closest if c["flagged"]}
        assert set(range(n_copies)) <= flagged_idx  # every copy flagged
        shares.append(r.value)
    assert shares[0] > shares[1] > shares[2] > shares[3] == 0.0


def test_fresh_samples_share_is_about_one_half():
    # measured in docs/feature-metrics.md: fresh draws from the training law are not all authentic
    g = np.random.default_rng(0)
    vals = [memorization(g.normal(size=(2000, 8)), g.normal(size=(1000, 8))).value for _ in range(3)]
    assert 0.45 < np.mean(vals) < 0.7


def test_chunked_equals_whole(rng, monkeypatch):
    import ganeval.metrics.memorization as mem

    train, fake = rng.normal(size=(120, 3)), rng.normal(size=(90, 3))
    whole = memorization(train, fake).to_dict()
    monkeypatch.setattr(mem, "_BLOCK_BYTES", 8 * 120 * 7)  # 7 rows per block
    assert memorization(train, fake).to_dict() == whole


def test_bad_input(rng):
    with pytest.raises(DataError, match="feature dimensions differ: train has 3, fake has 4"):
        memorization(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))
    with pytest.raises(DataError, match="train: needs at least 2 samples"):
        memorization(rng.normal(size=(1, 3)), rng.normal(size=(10, 3)))


def test_huge_values_are_refused_in_one_line(rng):
    from ganeval import prd, vendi_score

    huge = rng.normal(size=(30, 3)) * 1e300
    with pytest.raises(DataError, match="train: .*overflow"):
        memorization(huge, rng.normal(size=(5, 3)))
    with pytest.raises(DataError, match="samples: .*overflow"):
        vendi_score(huge)
    with pytest.raises(DataError, match="fake: .*overflow"):
        prd(rng.normal(size=(30, 3)), huge, clusters=3)


def test_row_order_of_fake_does_not_change_the_share(rng):
    train, fake = rng.normal(size=(100, 3)), rng.normal(size=(60, 3))
    perm = rng.permutation(60)
    a, b = memorization(train, fake), memorization(train[rng.permutation(100)], fake[perm])
    assert a.value == b.value and a.n_flagged == b.n_flagged
