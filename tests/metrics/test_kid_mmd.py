"""KID and MMD: slow reference, torch-fidelity as oracle, seeds, bad input."""

import numpy as np
import pytest
import torch

from ganeval import DataError, ParameterError, kernel_inception_distance, maximum_mean_discrepancy
from ganeval.metrics.mmd import make_kernel, median_bandwidth, mmd2_unbiased


def _slow_mmd2(x, y, k):
    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return sxx + syy - 2 * sxy


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_poly_mmd_matches_slow_reference(rng, degree):
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(9, 3)) + 0.5
    kern = make_kernel("poly", 3, degree=degree)
    ref = _slow_mmd2(x, y, lambda a, b: (a @ b / 3 + 1) ** degree)
    assert mmd2_unbiased(x, y, kern) == pytest.approx(ref, rel=1e-12)


def test_rbf_mmd_matches_slow_reference(rng):
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(11, 2)) * 2
    r = maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth=1.5)
    ref = _slow_mmd2(x, y, lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * 1.5**2)))
    assert r.value == pytest.approx(ref, rel=1e-12)
    assert r.settings["bandwidth"] == 1.5


def test_linear_kernel_closed_form(rng):
    # degree 1, gamma 1, coef0 0: unbiased MMD^2 = |mean x - mean y|^2 - (tr Sx / m + tr Sy / n)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(40, 4)) + 1
    r = maximum_mean_discrepancy(x, y, kernel="poly", degree=1, gamma=1.0, coef0=0.0)
    d = x.mean(0) - y.mean(0)
    expected = d @ d - np.trace(np.cov(x, rowvar=False)) / 30 - np.trace(np.cov(y, rowvar=False)) / 40
    assert r.value == pytest.approx(expected, rel=1e-10)


def test_kid_whole_set_equals_torch_fidelity(rng):
    from torch_fidelity.metric_kid import kid_features_to_metric

    x, y = rng.normal(size=(80, 16)), rng.normal(size=(80, 16)) * 1.2
    ours = kernel_inception_distance(x, y, subsets=3, subset_size=80, seed=0)
    ref = kid_features_to_metric(
        torch.from_numpy(x),
        torch.from_numpy(y),
        kid_subsets=3,
        kid_subset_size=80,
        kid_degree=3,
        kid_gamma=None,
        kid_coef0=1,
        verbose=False,
        rng_seed=0,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
    )
    # with the whole set in every subset, the draw order cannot change the number
    assert ours.value == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-10)
    assert ours.std == pytest.approx(0.0, abs=1e-12)


def test_kid_subsets_are_seeded_and_distribution_free_of_global_rng(rng):
    x, y = rng.normal(size=(200, 5)), rng.normal(size=(150, 5)) + 0.2
    a = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=7)
    np.random.seed(123)  # the global RNG must not matter
    b = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=7)
    c = kernel_inception_distance(x, y, subsets=20, subset_size=50, seed=8)
    assert (a.value, a.std) == (b.value, b.std)
    assert a.value != c.value
    assert a.settings["seed"] == 7 and a.settings["subset_size"] == 50


def test_kid_detects_shift_and_is_near_zero_for_same_law():
    g = np.random.default_rng(0)
    x, y = g.normal(size=(600, 8)), g.normal(size=(600, 8))
    same = kernel_inception_distance(x, y, subsets=30, subset_size=300)
    shifted = kernel_inception_distance(x, y + 1.0, subsets=30, subset_size=300)
    assert abs(same.value) < 3 * same.std + 1e-3
    assert shifted.value > 10 * max(abs(same.value), same.std)


def test_kid_default_subset_size_is_capped():
    g = np.random.default_rng(1)
    r = kernel_inception_distance(g.normal(size=(50, 3)), g.normal(size=(40, 3)), subsets=2)
    assert r.settings["subset_size"] == 40


def test_median_bandwidth(rng):
    x = np.array([[0.0], [1.0]])
    y = np.array([[3.0]])
    # pairwise distances 1, 3, 2 -> median 2
    assert median_bandwidth(x, y) == 2.0
    big = rng.normal(size=(1500, 2))
    assert median_bandwidth(big, big, seed=0) == median_bandwidth(big, big, seed=0)


def test_bad_inputs(rng):
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(10, 3))
    with pytest.raises(ParameterError, match="subset_size=11 is larger than the fake set"):
        kernel_inception_distance(x, y, subset_size=11)
    with pytest.raises(ParameterError, match="subsets must be >= 1"):
        kernel_inception_distance(x, y, subsets=0, subset_size=5)
    with pytest.raises(ParameterError, match="kernel must be one of"):
        maximum_mean_discrepancy(x, y, kernel="laplace")
    with pytest.raises(ParameterError, match="bandwidth"):
        maximum_mean_discrepancy(x, y, bandwidth="mean")
    with pytest.raises(ParameterError, match="bandwidth"):
        maximum_mean_discrepancy(x, y, bandwidth=-1.0)
    with pytest.raises(DataError, match="dimensions differ"):
        kernel_inception_distance(x, rng.normal(size=(10, 4)), subset_size=5)
    with pytest.raises(DataError, match="non-finite"):
        maximum_mean_discrepancy(np.full((3, 3), np.inf), y)
    with pytest.raises(ParameterError, match="median pairwise distance is 0"):
        maximum_mean_discrepancy(np.zeros((5, 2)), np.zeros((5, 2)))


def test_float32_features_agree_with_float64(rng):
    x, y = rng.normal(size=(300, 64)), rng.normal(size=(300, 64)) + 0.1
    r64 = kernel_inception_distance(x, y, subsets=5, subset_size=100)
    r32 = kernel_inception_distance(x.astype(np.float32), y.astype(np.float32), subsets=5, subset_size=100)
    assert r32.value == pytest.approx(r64.value, rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kid_whole_gram_path_equals_per_subset_path(rng, dtype, monkeypatch):
    import ganeval.metrics.kid as kid_module

    monkeypatch.setattr(kid_module, "_BLOCK", 64)  # several blocks (of 60 and 63 rows), diagonal ones by syrk
    x = np.abs(rng.normal(size=(300, 20))).astype(dtype)
    y = (np.abs(rng.normal(size=(250, 20))) * 1.1).astype(dtype)
    opts = kid_module.kid_options(20, 300, 250, subsets=15, subset_size=90)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    whole = kid_module.kid_core(tx, ty, method="gram", seed=4, **opts)
    per = kid_module.kid_core(tx, ty, method="subsets", seed=4, **opts)
    # float32: the products are float32 in both paths, in different blockings, and the whole-Gram
    # path also sums each subset's block share in float32 (a membership product): the error is
    # float32 round-off of the kernel terms (~4 here), so it is bounded in absolute terms
    if dtype == np.float64:
        np.testing.assert_allclose(whole, per, rtol=1e-12, atol=1e-9)
    else:
        np.testing.assert_allclose(whole, per, rtol=1e-5, atol=1e-6)
    # and the slow definition on the same subsets
    ix, iy = kid_module._draw_subsets(300, 250, 15, 90, 4)
    a, b = x[ix[3]].astype(np.float64), y[iy[3]].astype(np.float64)
    ref = _slow_mmd2(a[:90], b[:90], lambda p, q: (p @ q / 20 + 1) ** 3)
    assert whole[3] == pytest.approx(ref, rel=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 300, 2501, 10_000])
def test_kid_gram_blocks_cover_every_row_once_in_even_sizes(n):
    import ganeval.metrics.kid as kid_module

    spans = kid_module._blocks(n)
    assert spans[0][0] == 0 and spans[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    sizes = [hi - lo for lo, hi in spans]
    assert max(sizes) <= kid_module._BLOCK and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kid_kernel_in_place_equals_the_formula(rng, degree, dtype):
    """The in-place kernel works 64 rows at a time with repeated products: every row, every
    degree, both precisions, numpy and torch blocks."""
    import ganeval.metrics.kid as kid_module

    g = rng.normal(size=(150, 70)).astype(dtype)  # 150 rows: two full chunks and a short one
    want = (g.astype(np.float64) * 0.3 + 0.7) ** degree
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(kid_module._kernel_(g.copy(), 0.3, 0.7, degree), want, rtol=rtol, atol=rtol)
    t = kid_module._kernel_(torch.from_numpy(g.copy()), 0.3, 0.7, degree)
    np.testing.assert_allclose(t.numpy(), want, rtol=rtol, atol=rtol)


def test_kid_auto_path_choice_gives_the_same_number(rng):
    x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8)) + 0.1
    a = kernel_inception_distance(x, y, subsets=50, subset_size=100, seed=1)  # whole Gram is cheaper here
    import ganeval.metrics.kid as kid_module

    per = kid_module.kid_core(
        torch.from_numpy(x),
        torch.from_numpy(y),
        method="subsets",
        seed=1,
        **kid_module.kid_options(8, 400, 400, subsets=50, subset_size=100),
    )
    assert a.value == pytest.approx(per.mean(), rel=1e-12) and a.std == pytest.approx(per.std(), rel=1e-9)


def test_kid_overflowing_kernel_is_refused_before_computing(rng, recwarn):
    x = rng.normal(size=(50, 4))
    with pytest.raises(ParameterError, match=r"gamma=1e\+200, degree=3: kernel values .* would overflow float64"):
        kernel_inception_distance(x, x + 1, gamma=1e200, subset_size=20)
    with pytest.raises(ParameterError, match="degree=400"):
        kernel_inception_distance(x * 100, x, degree=400, subset_size=20)
    r = kernel_inception_distance(x, x + 1, gamma=1e30, subset_size=20, subsets=3)  # large but finite
    assert np.isfinite(r.value) and np.isfinite(r.std)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("scale", [1e6, 1e12, 1e19, 1e35])
def test_kid_float32_rows_beyond_float32_kernel_range_give_the_float64_number(rng, scale):
    """Kernel values of large float32 features overflow float32 products (inf, then NaN): such
    rows are computed in float64, with no warning and a finite std (not a squared overflow)."""
    import warnings

    x = np.abs(rng.normal(size=(300, 16)))
    a, b = (x * scale).astype(np.float32), (x * scale * 1.1).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r32 = kernel_inception_distance(a, b, subsets=3, subset_size=100)
    r64 = kernel_inception_distance(a.astype(np.float64), b.astype(np.float64), subsets=3, subset_size=100)
    assert np.isfinite(r32.value) and np.isfinite(r32.std) and r32.std > 0
    assert r32.value == pytest.approx(r64.value, rel=1e-12) and r32.std == pytest.approx(r64.std, rel=1e-9)


def test_kid_cli_overflow_is_one_error_line(tmp_path):
    from click.testing import CliRunner
    from ganeval_cli.main import main

    np.save(tmp_path / "a.npy", np.random.default_rng(0).normal(size=(30, 3)))
    import click

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def cmd(ctx):
        main(list(ctx.args))

    r = CliRunner().invoke(cmd, ["kid", str(tmp_path / "a.npy"), str(tmp_path / "a.npy"), "--gamma", "1e200"])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: gamma=1e+200") and "nan" not in r.output.lower()


@pytest.mark.parametrize("method", ["gram", "subsets"])
def test_kid_gpu_code_path_agrees_with_cpu_path(rng, method):
    """backend='torch' runs the code a GPU runs (torch ops, dense membership products)."""
    import ganeval.metrics.kid as kid_module

    x, y = rng.normal(size=(120, 10)), rng.normal(size=(100, 10)) + 0.2
    opts = kid_module.kid_options(10, 120, 100, subsets=8, subset_size=40)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    a = kid_module.kid_core(tx, ty, method=method, seed=2, **opts)
    b = kid_module.kid_core(tx, ty, method=method, seed=2, backend="torch", **opts)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
