"""ganeval.compare: the library entry of the tabular metrics equals the metric functions."""

import pytest

import ganeval
from ganeval.divergences import divergence_from_samples
from ganeval.errors import ParameterError
from ganeval.metrics.c2st import classifier_two_sample_test
from ganeval.metrics.ecdf import ecdf_distance
from ganeval.metrics.mmd import maximum_mean_discrepancy
from ganeval.metrics.nested_f1 import nested_model_f1
from ganeval.metrics.wasserstein import wasserstein_distance


def test_compare_equals_the_metric_functions(rng):
    a, b = rng.normal(size=(60, 3)), rng.normal(size=(50, 3)) + 0.4
    r = ganeval.compare(
        a,
        b,
        ["ecdf", "c2st", "wasserstein", "divergence", "mmd"],
        options={"c2st": {"folds": 3, "seed": 2}, "ecdf": {"p": 2}, "divergence": {"bins": 5}},
    )
    assert list(r) == ["ecdf", "c2st", "wasserstein", "divergence", "mmd"]
    assert r["ecdf"].value == ecdf_distance(a, b, p=2).value
    assert r["c2st"].accuracy == classifier_two_sample_test(a, b, folds=3, seed=2).accuracy
    assert r["wasserstein"].value == wasserstein_distance(a, b).value
    assert r["divergence"].value == divergence_from_samples(a, b, "js", bins=5)["value"]
    assert r["mmd"].value == maximum_mean_discrepancy(a, b).value
    assert r["ecdf"].settings["real"] == "real" and r["ecdf"].settings["columns"] == ["x0", "x1", "x2"]


def test_compare_reads_inputs_and_nested_f1():
    r = ganeval.compare(
        "builtin:wine/train",
        "builtin:wine/test",
        ["nested-f1"],
        target="target",
        options={"nested-f1": {"model": "logreg", "seed": 0}},
    )
    from ganeval.sources.tabular import load_labelled_tables

    (tr, te), _ = load_labelled_tables(["builtin:wine/train", "builtin:wine/test"], "target")
    direct = nested_model_f1(tr.rows, tr.labels, te.rows, te.labels, model="logreg", seed=0)
    assert r["nested-f1"].value == direct.value
    assert r["nested-f1"].settings["fake"] == "builtin:wine/test" and r["nested-f1"].settings["target"] == "target"


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"metrics": []}, "at least one metric"),
        ({"metrics": ["nope"]}, "unknown metric 'nope'"),
        ({"metrics": ["ecdf"], "options": {"c2st": {}}}, "options given for metrics not asked for"),
        ({"metrics": ["nested-f1"]}, "needs target="),
        (
            {"metrics": ["divergence"], "options": {"divergence": {"binz": 3}}},
            "unknown option 'binz' (did you mean 'bins'?)",
        ),
    ],
)
def test_compare_bad_parameters(kwargs, needle, rng):
    x = rng.normal(size=(20, 2))
    with pytest.raises(ParameterError) as err:
        ganeval.compare(x, x, **kwargs)
    assert needle in str(err.value)


def test_compare_reaches_every_registered_metric(rng):
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 1
    r = ganeval.compare(x, y, ["fid", "vendi", "ecdf"])
    assert r["fid"].value == pytest.approx(ganeval.fid_from_features(x, y).value, rel=1e-12)
    assert r["vendi"].value == ganeval.vendi_score(y).value
