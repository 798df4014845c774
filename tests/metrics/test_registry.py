"""Shared checks driven by the metric registry: identity, symmetry, row order, seeds."""

import importlib
import pkgutil

import numpy as np
import pytest

import ganeval.metrics as metrics
from ganeval.metrics import OTHER_METRICS, TWO_SAMPLE_METRICS, get_metric
from ganeval.errors import ParameterError
from ganeval.results import MetricResult

SPECS = list(TWO_SAMPLE_METRICS.values())


@pytest.fixture(scope="module")
def samples():
    g = np.random.default_rng(2024)
    return g.normal(size=(60, 3)), g.normal(size=(50, 3)) * 1.3 + 0.4


def _value(spec, real, fake, **extra):
    r = spec.function(real, fake, **spec.test_options, **extra)
    assert isinstance(r, MetricResult)
    return r[spec.key]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_identity(spec, samples):
    if spec.identity is None:
        pytest.skip(f"{spec.name} has no fixed value on identical samples")
    x, _ = samples
    assert _value(spec, x, x.copy()) == pytest.approx(spec.identity, abs=1e-9)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.symmetric], ids=lambda s: s.name)
def test_symmetry(spec, samples):
    x, y = samples
    assert _value(spec, x, y) == pytest.approx(_value(spec, y, x), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.order_invariant], ids=lambda s: s.name)
def test_row_order_invariance(spec, samples):
    x, y = samples
    g = np.random.default_rng(5)
    assert _value(spec, x[g.permutation(len(x))], y[g.permutation(len(y))]) == pytest.approx(
        _value(spec, x, y), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.seeded], ids=lambda s: s.name)
def test_seed_determinism(spec, samples):
    x, y = samples
    np.random.seed(0)
    a = _value(spec, x, y, seed=3)
    np.random.seed(99)  # the global RNG must not matter
    assert _value(spec, x, y, seed=3) == a


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_separated_samples_look_worse_than_close_ones(spec, samples):
    x, y = samples
    g = np.random.default_rng(11)
    close = g.normal(size=x.shape)
    far = g.normal(size=x.shape) + 6.0
    v_close, v_far = _value(spec, x, close), _value(spec, x, far)
    assert (v_close > v_far) if spec.higher_is_better else (v_close < v_far)


def test_every_metric_module_is_registered():
    names = {m.name for m in pkgutil.iter_modules(metrics.__path__)}
    registered = {spec.function.__module__ for spec in SPECS} | {f.__module__ for f in OTHER_METRICS.values()}
    helpers = {"classifier_divergence", "mmd"}  # building blocks reached through registered metrics
    missing = {n for n in names if f"ganeval.metrics.{n}" not in registered} - helpers
    assert not missing, f"metric modules not in the registry: {sorted(missing)}"
    for n in names:
        importlib.import_module(f"ganeval.metrics.{n}")


def test_get_metric():
    assert get_metric("fid") is TWO_SAMPLE_METRICS["fid"].function
    with pytest.raises(ParameterError, match="unknown metric 'nope'"):
        get_metric("nope")
