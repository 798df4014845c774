"""Bootstrap intervals and FID∞ / IS∞: against closed forms, seeds, bad input, coverage (slow)."""

import math

import numpy as np
import pytest

import ganeval
from ganeval import DataError, ParameterError
from ganeval.metrics.fid import fid_from_features, frechet_distance
from ganeval.uncertainty import (
    bootstrap_interval,
    check_ci,
    fid_infinity,
    fid_influence,
    fid_interval,
    is_infinity,
    min_infinity_samples,
    with_ci,
)


@pytest.fixture(scope="module")
def xy():
    g = np.random.default_rng(0)
    return g.normal(size=(400, 4)), g.normal(size=(300, 4)) * 1.2 + 0.3


def test_interval_of_a_mean_matches_the_normal_theory(xy):
    # linear kernel, biased: MMD^2 = |mean x - mean y|^2; here a shift of 3 dominates, so the
    # statistic is almost linear and its se is ~ 2 |d| sqrt(var_x/m + var_y/n) along the shift
    g = np.random.default_rng(1)
    x, y = g.normal(size=(500, 1)), g.normal(size=(500, 1)) + 3.0
    r = bootstrap_interval("mmd", x, y, kernel="linear", estimator="biased", bootstrap=300, seed=0)
    theory = 2 * 3.0 * math.sqrt(1 / 500 + 1 / 500)
    assert r.se == pytest.approx(theory, rel=0.12)
    assert r.ci_low < r.value < r.ci_high
    assert r.ci_high - r.ci_low == pytest.approx(2 * 1.96 * theory, rel=0.15)


def test_results_carry_interval_and_settings(xy):
    r = bootstrap_interval("kid", *xy, bootstrap=20, seed=3, subsets=5, subset_size=50)
    d = r.to_dict()
    for key in ("value", "std", "ci_low", "ci_high", "se"):
        assert math.isfinite(d[key])
    assert d["settings"]["ci"] == 0.95 and d["settings"]["bootstrap"] == 20 and d["settings"]["seed"] == 3
    assert d["settings"]["resampling"] == "with replacement"


def test_prdc_gets_one_interval_per_named_number_with_half_sampling(xy):
    r = bootstrap_interval("prdc", *xy, bootstrap=20, k=3)
    assert set(r.ci_low) == {"precision", "recall", "density", "coverage"}
    for name in r.ci_low:
        assert r.ci_low[name] <= r[name] <= r.ci_high[name]
        assert r.se[name] > 0
    assert r.settings["resampling"] == "half-sampling without replacement"
    assert 0 <= r.ci_low["precision"] and r.ci_high["precision"] <= 1


def test_same_seed_same_interval_and_global_rng_unused(xy):
    x, y = xy[0][:100], xy[1][:100]
    np.random.seed(0)
    a = bootstrap_interval("mmd", x, y, bootstrap=15, seed=5)
    np.random.seed(1)
    b = bootstrap_interval("mmd", x, y, bootstrap=15, seed=5)
    c = bootstrap_interval("mmd", x, y, bootstrap=15, seed=6)
    assert a.to_dict() == b.to_dict()
    assert a.ci_low != c.ci_low


def test_one_sample_metrics(xy):
    logits = np.random.default_rng(2).normal(size=(300, 10)) * 2
    r = bootstrap_interval("is", logits, bootstrap=20, splits=2)
    assert r.ci_low <= r.value <= r.ci_high and r.ci_low >= 1
    v = bootstrap_interval("vendi", xy[0], bootstrap=20)
    assert 1 <= v.ci_low <= v.value <= v.ci_high


def test_fid_exact_replicates_equal_fid_of_the_resampled_rows(xy):
    # the weighted-moment replicates are FIDs of resampled rows: replay the same weights
    x, y = xy
    r = fid_interval(x, y, bootstrap=10, seed=4, method="exact")
    g = np.random.default_rng(4)
    w1 = g.multinomial(len(x), np.full(len(x), 1 / len(x)), size=10)
    w2 = g.multinomial(len(y), np.full(len(y), 1 / len(y)), size=10)
    reps = [fid_from_features(np.repeat(x, w1[i], axis=0), np.repeat(y, w2[i], axis=0)).value for i in range(10)]
    assert r.se == pytest.approx(np.std(reps, ddof=1), rel=1e-8)
    assert r.value == fid_from_features(x, y).value


def test_fid_influence_is_the_derivative(xy):
    x, y = xy[0][:100], xy[1][:100]
    if1, if2 = fid_influence(x, y)

    def fid_w(w1, w2):
        def mom(a, w):
            mu = w @ a
            c = a - mu
            return mu, (c * w[:, None]).T @ c

        return frechet_distance(*mom(x, w1), *mom(y, w2))

    u = np.full(100, 0.01)
    base, t = fid_w(u, u), 1e-6
    for i in (0, 17):
        e = u * (1 - t)
        e[i] += t
        # population (1/n) vs unbiased (1/(n-1)) moments: agree to O(1/n)
        assert (fid_w(e, u) - base) / t == pytest.approx(if1[i], rel=0.05, abs=0.02)
        assert (fid_w(u, e) - base) / t == pytest.approx(if2[i], rel=0.05, abs=0.02)
    assert abs(if1.mean()) < 1e-6 and abs(if2.mean()) < 1e-6  # influence values centre at 0


def test_fid_linear_and_exact_bootstrap_agree_at_moderate_size():
    g = np.random.default_rng(5)
    x, y = g.normal(size=(3000, 8)), g.normal(size=(3000, 8)) * 1.1 + 0.2
    lin = fid_interval(x, y, bootstrap=300, seed=0, method="linear")
    ex = fid_interval(x, y, bootstrap=300, seed=0, method="exact")
    assert lin.settings["method"] == "linear" and ex.settings["method"] == "exact"
    assert lin.se == pytest.approx(ex.se, rel=0.15)
    assert fid_interval(x, y, bootstrap=10).settings["method"] == "exact"  # small: auto -> exact


def test_with_ci_wrapper_and_evaluate():
    fid = with_ci(fid_from_features)
    g = np.random.default_rng(6)
    x, y = g.normal(size=(300, 3)), g.normal(size=(300, 3)) + 0.5
    assert fid(x, y).to_dict().keys() == fid_from_features(x, y).to_dict().keys()
    r = fid(x, y, ci=0.9, bootstrap=30, seed=1)
    assert r.settings["ci"] == 0.9 and r.ci_low <= r.value <= r.ci_high
    res = ganeval.evaluate(x, y, ["fid", "mmd", "prdc"], ci=0.95, bootstrap=12, seed=0)
    assert res["fid"].value == fid_from_features(x, y).value
    assert res["fid"].ci_low <= res["fid"].value <= res["fid"].ci_high
    assert res["mmd"].settings["bootstrap"] == 12 and isinstance(res["prdc"].se, dict)


@pytest.mark.parametrize(
    "ci,boot,match",
    [
        (0.0, 200, "ci .* must be in \\(0, 1\\)"),
        (1.0, 200, "must be in \\(0, 1\\)"),
        (1.5, 200, "must be in \\(0, 1\\)"),
        ("x", 200, "must be a number"),
        (0.95, 9, "bootstrap .* must be >= 10"),
    ],
)
def test_bad_interval_options(xy, ci, boot, match):
    with pytest.raises(ParameterError, match=match):
        check_ci(ci, boot)
    with pytest.raises(ParameterError, match=match):
        bootstrap_interval("mmd", *xy, ci=ci, bootstrap=boot)


def test_stats_only_inputs_cannot_be_bootstrapped(tmp_path, xy):
    ganeval.FeatureStats.from_features(xy[0]).save(tmp_path / "s.npz")
    with pytest.raises(DataError, match="needs feature rows"):
        ganeval.evaluate(tmp_path / "s.npz", xy[1], ["fid"], ci=0.95, bootstrap=10)


# -- FID∞ / IS∞ ---------------------------------------------------------------------------------


def test_extrapolation_recovers_an_exact_line():
    from ganeval.uncertainty import _extrapolate

    sizes = [100, 200, 400, 800]
    value, se = _extrapolate(sizes, [2.0 + 50.0 / n for n in sizes])
    assert value == pytest.approx(2.0, abs=1e-12) and se == pytest.approx(0.0, abs=1e-9)


def test_fid_infinity_keys_sizes_and_value_at_n(xy):
    x, y = xy
    r = fid_infinity(x, y, seed=0)
    assert len(r.sizes) == 15 and r.sizes[0] == 30 and r.sizes[-1] == 300
    assert r.value_at_n == pytest.approx(fid_from_features(x, y).value, rel=1e-12)
    assert r.se > 0 and r.settings["infinity"] is True
    assert fid_infinity(x, y, seed=0).value == r.value  # seeded
    assert r.sizes == sorted(set(r.sizes))


def test_fid_infinity_is_closer_to_the_population_value_than_plain_fid():
    # N(0, I) vs N(m, s^2 I) in d = 16: population FID = |m|^2 + d (1 - s)^2; plain FID at
    # n = 400 is biased upward by ~ d^2 / n terms, FID∞ removes most of it
    d, s = 16, 1.2
    m = np.full(d, 0.1)
    population = m @ m + d * (1 - s) ** 2
    err_plain, err_inf = [], []
    for rep in range(8):
        g = np.random.default_rng(100 + rep)
        x, y = g.normal(size=(400, d)), g.normal(size=(400, d)) * s + m
        r = fid_infinity(x, y, seed=rep)
        err_plain.append(abs(r.value_at_n - population))
        err_inf.append(abs(r.value - population))
    assert np.mean(err_inf) < 0.5 * np.mean(err_plain)


def test_is_infinity(xy):
    logits = np.random.default_rng(3).normal(size=(500, 10)) * 2
    r = is_infinity(logits)
    assert len(r.sizes) == 15 and r.settings["splits"] == 1
    from ganeval import inception_score

    assert r.value_at_n == pytest.approx(inception_score(logits, splits=1).value, rel=1e-12)
    rc = is_infinity(logits, ci=0.9, bootstrap=10)
    assert rc.ci_low <= rc.value <= rc.ci_high and rc.se_bootstrap > 0


def test_infinity_needs_enough_samples():
    need = min_infinity_samples()
    assert need == 20
    g = np.random.default_rng(0)
    with pytest.raises(DataError, match=f"--infinity needs at least {need} samples.*got 19"):
        fid_infinity(g.normal(size=(19, 2)), g.normal(size=(50, 2)))
    with pytest.raises(DataError, match=f"at least {need} samples"):
        is_infinity(g.normal(size=(10, 3)))
    fid_infinity(g.normal(size=(20, 2)), g.normal(size=(20, 2)))  # the minimum works


@pytest.mark.slow
def test_coverage_of_the_fid_infinity_interval():
    """Coverage of the 95% interval of FID∞ on Gaussians with known population FID (docs table)."""
    d, s, n, reps = 8, 1.3, 500, 100
    m = np.full(d, 0.2)
    population = m @ m + d * (1 - s) ** 2
    covered = 0
    for rep in range(reps):
        g = np.random.default_rng(1000 + rep)
        x, y = g.normal(size=(n, d)), g.normal(size=(n, d)) * s + m
        r = fid_infinity(x, y, seed=rep, ci=0.95, bootstrap=100)
        covered += r.ci_low <= population <= r.ci_high
    assert 0.85 <= covered / reps <= 1.0, covered


def test_influence_cholesky_and_pseudo_inverse_routes_agree():
    from unittest import mock

    import scipy.linalg

    g = np.random.default_rng(8)
    x, y = g.normal(size=(300, 6)), g.normal(size=(300, 6)) * 1.3
    a, b = fid_influence(x, y)
    with mock.patch.object(scipy.linalg, "cholesky", side_effect=np.linalg.LinAlgError):
        a2, b2 = fid_influence(x, y)
    np.testing.assert_allclose(a, a2, atol=1e-5)
    np.testing.assert_allclose(b, b2, atol=1e-5)
    small = fid_interval(x[:5], y[:5], bootstrap=10, method="linear")  # singular covariances: n < d
    assert np.isfinite(small.se)


def test_absurd_bootstrap_is_refused_up_front(xy):
    with pytest.raises(ParameterError, match="bootstrap=10000000 .* GiB of resampling weights"):
        fid_interval(*xy, bootstrap=10**7)
