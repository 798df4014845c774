"""FeatureStats: streaming moments, merging, files read by pytorch-fid and clean-fid."""

import json
import os

import numpy as np
import pytest

from ganeval import DataError, FeatureStats, InputError, ParameterError


def test_matches_numpy_for_any_batching(rng):
    x = rng.normal(size=(101, 5)) * 3 + 7
    for sizes in ([101], [1] * 101, [3, 50, 48], [100, 1]):
        s = FeatureStats()
        start = 0
        for size in sizes:
            s.update(x[start : start + size])
            start += size
        assert s.n == 101
        np.testing.assert_allclose(s.mean, x.mean(0), rtol=1e-12)
        np.testing.assert_allclose(s.cov, np.cov(x, rowvar=False), rtol=1e-10)


def test_order_does_not_matter(rng):
    x = rng.normal(size=(60, 4))
    a, b = FeatureStats(), FeatureStats()
    a.update(x[:20])
    a.update(x[20:])
    b.update(x[40:])
    b.update(x[:40])
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12)


def test_merge_equals_single_pass(rng):
    x = rng.normal(size=(90, 3))
    parts = [FeatureStats.from_features(x[i : i + 30]) for i in range(0, 90, 30)]
    merged = FeatureStats()
    for p in parts:
        merged.merge(p)
    whole = FeatureStats.from_features(x)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.cov, whole.cov, rtol=1e-10)
    np.testing.assert_allclose(merged.sum_outer, x.T @ x, rtol=1e-10)
    np.testing.assert_allclose(merged.sum, x.sum(0), rtol=1e-12)


def test_large_offset_keeps_precision(rng):
    # raw sum-of-squares loses every digit here; centred sums do not
    x = rng.normal(size=(1000, 2)) + 1e8
    s = FeatureStats()
    for i in range(0, 1000, 7):
        s.update(x[i : i + 7])
    np.testing.assert_allclose(s.cov, np.cov(x, rowvar=False), rtol=1e-6)


def test_save_load_roundtrip_and_pytorch_fid_reads_it(tmp_path, rng):
    from pytorch_fid.fid_score import compute_statistics_of_path

    x = rng.normal(size=(40, 6))
    s = FeatureStats.from_features(x, metadata={"extractor": "identity"})
    path = tmp_path / "stats.npz"
    s.save(path)
    back = FeatureStats.load(path)
    np.testing.assert_allclose(back.mean, s.mean)
    np.testing.assert_allclose(back.cov, s.cov)
    assert back.n == 40 and back.metadata == {"extractor": "identity"}
    mu, sigma = compute_statistics_of_path(str(path), model=None, batch_size=1, dims=6, device="cpu")
    np.testing.assert_allclose(mu, s.mean)
    np.testing.assert_allclose(sigma, s.cov)
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left behind


def test_reads_pytorch_fid_and_clean_fid_files(tmp_path, rng):
    mu, sigma = rng.normal(size=3), np.eye(3) * 2
    # pytorch-fid's `--save-stats` and clean-fid both write np.savez(path, mu=mu, sigma=sigma)
    np.savez(tmp_path / "pf.npz", mu=mu, sigma=sigma)
    s = FeatureStats.load(tmp_path / "pf.npz")
    np.testing.assert_allclose(s.mean, mu)
    np.testing.assert_allclose(s.cov, sigma)
    with pytest.raises(DataError, match="cannot be updated"):
        s.update(np.zeros((2, 3)))


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        FeatureStats.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="junk.npz"):
        FeatureStats.load(junk)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(InputError, match="needs arrays 'mu' and 'sigma'"):
        FeatureStats.load(tmp_path / "other.npz")
    np.savez(tmp_path / "pickled.npz", mu=np.array([{"a": 1}], dtype=object), sigma=np.eye(1))
    with pytest.raises(InputError, match="pickled.npz"):
        FeatureStats.load(tmp_path / "pickled.npz")


def test_bad_batches():
    s = FeatureStats()
    s.update(np.zeros((2, 3)))
    with pytest.raises(DataError, match="3"):
        s.update(np.zeros((2, 4)))
    with pytest.raises(DataError, match="non-finite"):
        s.update(np.array([[np.nan, 0, 0]]))
    with pytest.raises(DataError, match="empty"):
        FeatureStats(3).mean
    one = FeatureStats.from_features(np.zeros((1, 2)))
    with pytest.raises(DataError, match="at least 2 samples"):
        one.cov


def test_metadata_is_json_not_pickle(tmp_path):
    s = FeatureStats.from_features(np.eye(3), metadata={"k": [1, 2]})
    s.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        assert json.loads(str(f["metadata"])) == {"k": [1, 2]}


# -- moments are validated when loaded (no silent wrong FID) ------------------------------


@pytest.mark.parametrize(
    "sigma, needle",
    [
        (np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]]), "negative eigenvalue"),
        (np.array([[1.0, 0.9, 0], [0.0, 1.0, 0], [0, 0, 1.0]]), "not symmetric"),
        (np.diag([1.0, -0.5, 1.0]), "negative"),
        (np.eye(4), "shape"),
        (np.array([[1.0, np.nan, 0], [np.nan, 1.0, 0], [0, 0, 1.0]]), "non-finite"),
    ],
)
def test_bad_moments_in_a_file_name_the_file(tmp_path, sigma, needle):
    path = tmp_path / "bad_stats.npz"
    np.savez(path, mu=np.zeros(3), sigma=sigma)
    with pytest.raises(DataError, match=needle) as info:
        FeatureStats.load(path)
    assert str(path) in str(info.value)


def test_negative_count_refused(tmp_path):
    np.savez(tmp_path / "s.npz", mu=np.zeros(2), sigma=np.eye(2), n=np.int64(-3))
    with pytest.raises(DataError, match="whole number"):
        FeatureStats.load(tmp_path / "s.npz")


def test_roundoff_is_not_an_error(rng):
    # fewer samples than dimensions: a singular covariance with eigenvalues ~ -1e-15, and
    # the same stored in float32 (each entry rounded on its own)
    x = rng.normal(size=(10, 40)) * 100.0
    cov = np.cov(x, rowvar=False)
    FeatureStats.from_moments(x.mean(0), cov)
    FeatureStats.from_moments(x.mean(0).astype(np.float32), cov.astype(np.float32))


def test_save_writes_through_symlink_and_refuses_fifo(tmp_path):
    s = FeatureStats.from_features(np.eye(3))
    target = tmp_path / "t.npz"
    target.write_bytes(b"")
    os.symlink(target, tmp_path / "l.npz")
    s.save(tmp_path / "l.npz")
    assert (tmp_path / "l.npz").is_symlink() and FeatureStats.load(target).n == 3
    os.mkfifo(tmp_path / "f.npz")
    with pytest.raises(ParameterError, match="FIFO"):
        s.save(tmp_path / "f.npz")
