"""Precision/recall/density/coverage: the prdc package as oracle, closed cases, chunking."""

import numpy as np
import pytest

import ganeval.metrics.prdc as prdc_module
from ganeval import DataError, ParameterError, prdc
from ganeval.metrics.prdc import knn_radii


@pytest.mark.parametrize("k", [1, 3, 5])
def test_agrees_with_prdc_package(rng, k):
    from prdc import compute_prdc

    real = rng.normal(size=(300, 10))
    fake = rng.normal(size=(250, 10)) * 1.3 + 0.2
    ref = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    ours = prdc(real, fake, k=k)
    for key in ("precision", "recall", "density", "coverage"):
        assert ours[key] == pytest.approx(ref[key], abs=1e-12), key


def test_block_size_does_not_change_results(rng, monkeypatch):
    real, fake = rng.normal(size=(120, 4)), rng.normal(size=(90, 4)) + 0.3
    whole = prdc(real, fake, k=4)
    monkeypatch.setattr(prdc_module, "_BLOCK_BYTES", 8 * 90 * 7)  # 7 rows per block
    monkeypatch.setattr(prdc_module, "_SQUARE_BLOCK", 13)
    assert prdc_module._block_rows(90) == 7
    blocked = prdc(real, fake, k=4)
    assert whole.values == blocked.values


@pytest.mark.parametrize("block", [1024, 7, 40])
def test_knn_radii_slow_reference(rng, monkeypatch, block):
    monkeypatch.setattr(prdc_module, "_SQUARE_BLOCK", block)
    x = rng.normal(size=(40, 3))
    x[5] = x[9]  # a duplicate point: its nearest other point is at distance 0
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(knn_radii(x, 3), np.sort(d, axis=1)[:, 2], rtol=1e-10)


def test_identical_sets_and_far_sets(rng):
    x = rng.normal(size=(100, 3))
    same = prdc(x, x.copy(), k=3)
    assert same.precision == 1.0 and same.recall == 1.0 and same.coverage == 1.0
    far = prdc(x, x + 1e3, k=3)
    assert far.values == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_mode_dropping_lowers_recall_and_coverage_not_precision():
    g = np.random.default_rng(3)
    centers = np.array([[0.0, 0.0], [10.0, 0.0]])
    real = np.concatenate([g.normal(size=(200, 2)) + c for c in centers])
    fake = g.normal(size=(400, 2)) + centers[0]  # only the first mode
    r = prdc(real, fake, k=5)
    assert r.precision > 0.9
    assert r.recall < 0.6 and r.coverage < 0.6


def test_bad_inputs(rng):
    x = rng.normal(size=(5, 2))
    with pytest.raises(ParameterError, match="k=5 must be smaller than the real set's size"):
        prdc(x, rng.normal(size=(10, 2)), k=5)
    with pytest.raises(ParameterError, match="k must be >= 1"):
        prdc(x, x, k=0)
    with pytest.raises(DataError, match="dimensions differ"):
        prdc(x, rng.normal(size=(5, 3)), k=2)
    with pytest.raises(DataError, match="at least 2 samples"):
        prdc(x[:1], x, k=1)


def test_torch_core_equals_numpy_entry_and_float32_rows(rng):
    import torch

    from ganeval.metrics.prdc import prdc_from_tensors

    real, fake = rng.normal(size=(150, 6)), rng.normal(size=(140, 6)) + 0.2
    a = prdc(real, fake, k=4)
    b = prdc_from_tensors(torch.from_numpy(real), torch.from_numpy(fake), k=4)
    c = prdc_from_tensors(torch.from_numpy(real).float(), torch.from_numpy(fake).float(), k=4)
    assert a.values == b.values
    for key, v in a.values.items():  # float32 rows widened to float64: distances differ by round-off
        assert c.values[key] == pytest.approx(v, abs=2 / 140), key


def test_absurd_sizes_are_refused_with_the_estimate(rng, monkeypatch):
    from ganeval.metrics.prdc import check_prdc_sizes, prdc_memory_bytes

    with pytest.raises(
        ParameterError,
        match=r"k=50000 with 1000000 real and 1000000 fake rows of 2048 features "
        r"needs about [\d.]+ GiB, more than the",
    ):
        check_prdc_sizes(1_000_000, 1_000_000, 2048, 50_000)
    monkeypatch.setattr(prdc_module, "_available_bytes", lambda device: 1000)
    x = rng.normal(size=(20, 3))
    with pytest.raises(ParameterError, match="use fewer samples or a smaller k"):
        prdc(x, x + 1, k=3)
    assert prdc_memory_bytes(20, 20, 3, 3) > 1000


def test_gpu_code_path_agrees_with_cpu_path(rng, monkeypatch):
    """backend='torch' runs the code a GPU runs; float64 on both: the same four numbers."""
    import torch

    from ganeval.metrics.prdc import prdc_core

    monkeypatch.setattr(prdc_module, "_SQUARE_BLOCK", 37)
    real, fake = rng.normal(size=(130, 5)), rng.normal(size=(110, 5)) * 1.2
    tr, tf = torch.from_numpy(real), torch.from_numpy(fake)
    assert prdc_core(tr, tf, 4, backend="torch") == prdc_core(tr, tf, 4) == prdc(real, fake, k=4).values


# -- the float32 path: float32 products, every decision exact ---------------------------------


def _near_tie_sets(rng, n=160, d=24, k=3):
    """Real rows and fake rows placed at each real row's k-NN radius, times (1 +- 3e-8): far
    inside the float32 error of the products, so every such pair needs the float64 re-check."""
    real = rng.normal(size=(n, d)) * 3.0 + 10.0  # off-centre, as Inception features
    r = knn_radii(real, k)
    u = rng.normal(size=(n, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    side = np.where(rng.random(n) < 0.5, 1 - 3e-8, 1 + 3e-8)
    fake = real + u * (r * side)[:, None]
    return real, np.concatenate([fake, rng.normal(size=(40, d)) * 3.0 + 10.0])


def _lattice_sets(rng, n=150, d=6, k=3):
    """Small-integer rows: every distance is exact in float64, with many exact ties and
    duplicates (within each set and across)."""
    real = rng.integers(0, 3, size=(n, d)).astype(np.float64)
    fake = np.concatenate([real[:40], rng.integers(0, 3, size=(n - 40, d))]).astype(np.float64)
    return real, fake


@pytest.mark.parametrize("make", [_near_tie_sets, _lattice_sets])
@pytest.mark.parametrize("k", [1, 3])
def test_float32_path_equals_float64_path_and_prdc_package_on_near_ties(rng, make, k, monkeypatch):
    from prdc import compute_prdc

    from ganeval.metrics.prdc import prdc_core

    real, fake = make(rng, k=k)
    fast = prdc(real, fake, k=k).values
    assert fast == prdc_core(real, fake, k, backend="float64")
    ref = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    assert fast == {key: float(v) for key, v in ref.items()}
    assert prdc(real.astype(np.float32), fake.astype(np.float32), k=k).values == prdc_core(
        real.astype(np.float32), fake.astype(np.float32), k, backend="float64"
    )
    monkeypatch.setattr(prdc_module, "_SQUARE_BLOCK", 17)  # many blocks, rows split across them
    monkeypatch.setattr(prdc_module, "_BLOCK_BYTES", 16 * 4 * 200 * 7)
    monkeypatch.setattr(prdc_module, "_RECHECK_ELEMENTS", 50)
    assert prdc(real, fake, k=k).values == fast


def test_float32_path_rechecks_near_ties_and_finds_exact_radii(rng):
    real, fake = _near_tie_sets(rng)
    x32 = prdc_module._centered32(real, real.mean(0))
    exact = prdc_module._exact_radii2(real, x32, 3)
    d = ((real[:, None] - real[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(exact, np.sort(d, axis=1)[:, 2], rtol=1e-15)  # float64, up to summation order
    lat, _ = _lattice_sets(rng)
    d = ((lat[:, None] - lat[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_array_equal(
        prdc_module._exact_radii2(lat, prdc_module._centered32(lat, lat.mean(0)), 3), np.sort(d, axis=1)[:, 2]
    )
    # the float32 distances alone decide some near-tie pairs wrongly: the re-check is needed
    real_r2 = prdc_module._exact_radii2(real, x32, 3)
    f32 = ((real.astype(np.float32)[:, None] - fake.astype(np.float32)[None]) ** 2).sum(-1)
    exact_d = ((real[:, None] - fake[None]) ** 2).sum(-1)
    assert ((f32 < real_r2[:, None]) != (exact_d < real_r2[:, None])).any()


@pytest.mark.parametrize("scale", [1e-30, 1e30, 1e140])
def test_rows_beyond_float32_take_the_float64_path(rng, scale):
    from ganeval.metrics.prdc import prdc_core

    real, fake = rng.normal(size=(60, 4)) * scale, (rng.normal(size=(50, 4)) + 0.3) * scale
    assert prdc(real, fake, k=3).values == prdc_core(real / scale, fake / scale, 3, backend="float64")
