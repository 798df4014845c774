"""Shared checks driven by the metric registry: identity, symmetry, row order, seeds."""

import importlib
import pkgutil

import numpy as np
import pytest

import ganeval.metrics as metrics
from ganeval.errors import ParameterError
from ganeval.metrics import Metric, get_metric
from ganeval.metrics.registry import BUILTIN, names
from ganeval.results import MetricResult

TWO_SAMPLE = [get_metric(n) for n in names(("two-sample", "moments"))]


def _value(metric, real, fake, **extra):
    r = metric(real, fake, **{**metric.test_options, **extra})
    assert isinstance(r, MetricResult)
    return r[metric.main_output().key]


@pytest.fixture(scope="module")
def samples():
    g = np.random.default_rng(2024)
    return g.normal(size=(60, 3)), g.normal(size=(50, 3)) * 1.3 + 0.4


@pytest.mark.parametrize("metric", TWO_SAMPLE, ids=lambda m: m.name)
def test_identity(metric, samples):
    if metric.identity is None:
        pytest.skip(f"{metric.name} has no fixed value on identical samples")
    x, _ = samples
    assert _value(metric, x, x.copy()) == pytest.approx(metric.identity, abs=1e-9)


@pytest.mark.parametrize("metric", [m for m in TWO_SAMPLE if m.symmetric], ids=lambda m: m.name)
def test_symmetry(metric, samples):
    x, y = samples
    assert _value(metric, x, y) == pytest.approx(_value(metric, y, x), rel=1e-9, abs=1e-12)


def test_sliced_wasserstein_is_symmetric_and_zero_on_identity(samples):
    x, y = samples
    w = get_metric("wasserstein")
    assert _value(w, x, x.copy(), sliced=True, projections=50) == pytest.approx(0, abs=1e-12)
    assert _value(w, x, y, sliced=True, projections=50) == pytest.approx(
        _value(w, y, x, sliced=True, projections=50), rel=1e-9
    )


@pytest.mark.parametrize("metric", [m for m in TWO_SAMPLE if m.order_invariant], ids=lambda m: m.name)
def test_row_order_invariance(metric, samples):
    x, y = samples
    g = np.random.default_rng(5)
    assert _value(metric, x[g.permutation(len(x))], y[g.permutation(len(y))]) == pytest.approx(
        _value(metric, x, y), rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("metric", [m for m in TWO_SAMPLE if m.seeded], ids=lambda m: m.name)
def test_seed_determinism(metric, samples):
    x, y = samples
    np.random.seed(0)
    a = _value(metric, x, y, seed=3)
    np.random.seed(99)  # the global RNG must not matter
    assert _value(metric, x, y, seed=3) == a


@pytest.mark.parametrize("metric", TWO_SAMPLE, ids=lambda m: m.name)
def test_separated_samples_look_worse_than_close_ones(metric, samples):
    if metric.main_output().higher_is_better is None and metric.main_output().target is None:
        pytest.skip(f"{metric.name}: neither higher nor lower is better")
    x, y = samples
    g = np.random.default_rng(11)
    close = g.normal(size=x.shape)
    far = g.normal(size=x.shape) + 6.0
    v_close, v_far = _value(metric, x, close), _value(metric, x, far)
    out = metric.main_output()
    if out.higher_is_better is None:  # a target value (C2ST accuracy: 0.5)
        assert abs(v_close - out.target) < abs(v_far - out.target)
    else:
        assert (v_close > v_far) if out.higher_is_better else (v_close < v_far)


def test_every_metric_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(metrics.__path__)}
    registered = {cls.__module__ for cls in BUILTIN}
    helpers = {"base", "registry", "classifier_divergence", "modes"}  # the abstraction; building blocks
    missing = {n for n in modules if f"ganeval.metrics.{n}" not in registered} - helpers
    assert not missing, f"metric modules not in the registry: {sorted(missing)}"
    for n in modules:
        importlib.import_module(f"ganeval.metrics.{n}")


def test_every_builtin_declares_itself():
    for cls in BUILTIN:
        cls.check_declaration()
        m = get_metric(cls.name)
        assert isinstance(m, Metric) and type(m) is cls
        assert m.one_line() and not m.one_line().startswith("Base class")
        if m.resampling is None:
            assert m.no_interval, f"{m.name}: say why it has no interval"
        defaults = m.check_options({})
        assert set(defaults) == {o.name for o in m.all_options()}


def test_get_metric():
    assert type(get_metric("fid")).__name__ == "FID"
    with pytest.raises(ParameterError, match="unknown metric 'nope'"):
        get_metric("nope")
    with pytest.raises(ParameterError, match="did you mean 'kid'"):
        get_metric("kdi")


def test_options_are_checked_with_names():
    kid = get_metric("kid")
    with pytest.raises(ParameterError, match="unknown option 'subset'.*did you mean 'subsets'"):
        kid.check_options({"subset": 3})
    with pytest.raises(ParameterError, match="kid: option subsets must be an integer >= 1, got 0"):
        kid.check_options({"subsets": 0})
    with pytest.raises(ParameterError, match="option subsets must be an integer"):
        kid.check_options({"subsets": 2.5})
    with pytest.raises(ParameterError, match="true or false"):
        get_metric("ecdf").check_options({"multivariate": "false"})
    assert get_metric("ecdf").check_options({"multivariate": "false"}, text=True)["multivariate"] is False
    assert get_metric("mmd").check_options({"bandwidth": "median"})["bandwidth"] == "median"
    assert get_metric("mmd").check_options({"bandwidth": "2"}, text=True)["bandwidth"] == 2.0
    with pytest.raises(ParameterError, match="bandwidth must be a number > 0 or 'median'"):
        get_metric("mmd").check_options({"bandwidth": -1})
    with pytest.raises(ParameterError, match="must be one of 'rbf', 'poly', 'linear'"):
        get_metric("mmd").check_options({"kernel": "gauss"})
    with pytest.raises(ParameterError, match="seed must be an integer >= 0 and <= 4294967295, got -1"):
        get_metric("kid").check_options({"seed": -1})
    with pytest.raises(ParameterError, match="got nan"):
        get_metric("fid").check_options({"eps": float("nan")})
