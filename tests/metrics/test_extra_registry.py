"""The registry reaches vendi, memorization and prd; the invariances of the shared checks for
the metrics with another call shape (one sample; training set and generated set)."""

import numpy as np
import pytest

from ganeval.metrics import get_metric
from ganeval.uncertainty import bootstrap_interval


@pytest.fixture(scope="module")
def data():
    g = np.random.default_rng(7)
    return g.normal(size=(80, 4)), g.normal(size=(60, 4)) * 1.2


def test_registered():
    assert get_metric("prd").main_output().key == "f8" and get_metric("prd").takes == "two-sample"
    assert get_metric("vendi").takes == "one-sample"
    assert get_metric("memorization").takes == "train-fake" and get_metric("memorization").resampling == "half"


@pytest.mark.parametrize("name", ["vendi", "memorization"])
def test_row_order_and_global_rng(name, data):
    f = get_metric(name)
    x, y = data
    g = np.random.default_rng(1)
    args = (x,) if name == "vendi" else (x, y)
    shuffled = tuple(a[g.permutation(len(a))] for a in args)
    np.random.seed(0)
    a = f(*args).value
    np.random.seed(123)
    assert f(*shuffled).value == pytest.approx(a, rel=1e-10)


@pytest.mark.parametrize("name", ["vendi", "memorization", "prd"])
def test_every_new_metric_takes_an_interval(name, data):
    x, y = data
    opts = {"prd": {"clusters": 4, "runs": 1, "angles": 21}}.get(name, {})
    r = bootstrap_interval(name, x, None if name == "vendi" else y, bootstrap=10, **opts)
    keys = ["f8", "f1_8"] if name == "prd" else ["value"]
    for k in keys:
        lo = r.ci_low[k] if isinstance(r.ci_low, dict) else r.ci_low
        hi = r.ci_high[k] if isinstance(r.ci_high, dict) else r.ci_high
        assert lo <= r[k] <= hi
