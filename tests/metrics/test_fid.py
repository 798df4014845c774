"""FID: closed forms, scipy's sqrtm, pytorch-fid as oracle, singular covariances."""

import numpy as np
import pytest
import scipy.linalg

from ganeval import DataError, ParameterError, fid_from_features, frechet_distance
from ganeval.metrics.fid import trace_sqrt_product


def _random_cov(rng, d, scale=1.0):
    a = rng.normal(size=(d, 2 * d))
    return scale * a @ a.T / (2 * d) + 0.1 * np.eye(d)


def _sqrtm_reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def test_equal_covariances_give_squared_mean_difference(rng):
    d = 6
    s = _random_cov(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-10)


def test_diagonal_gaussians_closed_form():
    # W2^2 between N(m1, diag(a)) and N(m2, diag(b)) = |m1-m2|^2 + sum (sqrt a - sqrt b)^2
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_known_rotated_gaussians():
    # same spectrum, rotated: S2 = R S1 R^T; 2-D closed form through the 2x2 sqrt formula
    s1 = np.diag([4.0, 1.0])
    th = 0.7
    r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    s2 = r @ s1 @ r.T
    # for 2x2 PSD M: tr sqrt(M) = sqrt(tr M + 2 sqrt(det M))
    a = scipy.linalg.sqrtm(s1).real
    m = a @ s2 @ a
    tr_sqrt = np.sqrt(np.trace(m) + 2 * np.sqrt(np.linalg.det(m)))
    expected = 2 * np.trace(s1) - 2 * tr_sqrt
    assert frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("d", [3, 32, 128])
def test_agrees_with_scipy_sqrtm(rng, d):
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d, 2.0)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(_sqrtm_reference(mu1, s1, mu2, s2), rel=1e-9)


def test_agrees_with_pytorch_fid(rng):
    from pytorch_fid.fid_score import calculate_frechet_distance

    d = 64
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d, 3.0)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ref = calculate_frechet_distance(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-9)


def test_singular_covariances_fewer_samples_than_dimensions(rng):
    # n < d: both covariances singular. Independent closed form: with S1 = A A^T and
    # S2 = B B^T (A = X1c^T / sqrt(n1-1)), tr((S1^1/2 S2 S1^1/2)^1/2) = nuclear norm of A^T B.
    d, n1, n2 = 40, 15, 12
    x1, x2 = rng.normal(size=(n1, d)), rng.normal(size=(n2, d)) * 2 + 0.5
    a = (x1 - x1.mean(0)).T / np.sqrt(n1 - 1)
    b = (x2 - x2.mean(0)).T / np.sqrt(n2 - 1)
    s1, s2 = a @ a.T, b @ b.T
    nuclear = np.linalg.svd(a.T @ b, compute_uv=False).sum()
    assert trace_sqrt_product(s1, s2) == pytest.approx(nuclear, rel=1e-8)
    res = fid_from_features(x1, x2)
    diff = x1.mean(0) - x2.mean(0)
    expected = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * nuclear
    assert isinstance(res.value, float)
    assert res.value == pytest.approx(expected, rel=1e-8)


def test_identity_and_symmetry(rng):
    x, y = rng.normal(size=(50, 8)), rng.normal(size=(60, 8)) + 0.3
    assert fid_from_features(x, x).value == pytest.approx(0.0, abs=1e-9)
    assert fid_from_features(x, y).value == pytest.approx(fid_from_features(y, x).value, rel=1e-9)


def test_shift_of_features():
    x = np.random.default_rng(0).normal(size=(500, 3))
    assert fid_from_features(x, x + 1.0).value == pytest.approx(3.0, rel=1e-9)


def test_result_records_sizes_and_settings(rng):
    r = fid_from_features(rng.normal(size=(10, 2)), rng.normal(size=(12, 2)))
    d = r.to_dict()
    assert (d["metric"], d["n_real"], d["n_fake"]) == ("fid", 10, 12)
    assert "version" in d and d["settings"]["eps"] == 0.0


def test_bad_inputs(rng):
    with pytest.raises(DataError, match="NaN"):
        frechet_distance([np.nan, 0], np.eye(2), [0, 0], np.eye(2))
    with pytest.raises(DataError, match="dimensions differ"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(DataError, match="shape"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ParameterError, match="eps"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), eps=-1)
    with pytest.raises(DataError, match="at least 2 samples"):
        fid_from_features(rng.normal(size=(1, 3)), rng.normal(size=(5, 3)))
    with pytest.raises(DataError, match="feature dimensions differ"):
        fid_from_features(rng.normal(size=(4, 3)), rng.normal(size=(5, 2)))


def test_non_covariance_sigma_is_refused_not_zero():
    # a "sigma" with eigenvalues 3 and -1 used to give FID 0.0 with exit 0
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(DataError, match="negative eigenvalue"):
        frechet_distance(np.zeros(2), bad, np.zeros(2), np.eye(2))
    with pytest.raises(DataError, match="real.npz.*not symmetric"):
        frechet_distance(
            np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2), names=("real.npz", "fake.npz")
        )


def test_absurd_eps_refused_and_overflow_never_returned(rng):
    x = rng.normal(size=(50, 3))
    with pytest.raises(ParameterError, match="eps"):
        frechet_distance(x.mean(0), np.cov(x, rowvar=False), x.mean(0), np.eye(3), eps=1e308)
    with pytest.raises(DataError, match="overflows"):
        frechet_distance(np.full(3, 1e200), np.eye(3), -np.full(3, 1e200), np.eye(3))


def test_covariance_error_names_the_input():
    from ganeval.metrics.fid import fid_from_stats
    from ganeval.statistics import FeatureStats

    one = FeatureStats.from_features(np.zeros((1, 2)))
    two = FeatureStats.from_features(np.eye(2))
    with pytest.raises(DataError, match="gen.npy: FID needs a covariance"):
        fid_from_stats(two, one, names=("real.npy", "gen.npy"))
