"""Every registered metric reaches every front-end that can take its inputs.

Adding a metric to the registry makes these tests run it through ``evaluate``, an interval,
the CLI (its own command and ``eval --metrics``) and a report spec: a metric that one of
them cannot use fails here.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.main import cli

import ganeval
from ganeval.metrics.registry import metrics
from ganeval.report.engine import metric_columns
from ganeval.report.spec import parse_spec, report_metrics

ALL = metrics()
ROWS = [n for n, m in ALL.items() if m.takes in ("two-sample", "moments", "logits", "one-sample", "train-fake")]
HELD_OUT = [n for n, m in ALL.items() if m.takes == "train-test-fake"]
GENERATOR = [n for n, m in ALL.items() if m.takes == "generator"]
LABELLED = [n for n, m in ALL.items() if m.takes == "labelled"]


def test_every_kind_of_input_is_handled_here():
    assert set(ROWS) | set(HELD_OUT) | set(GENERATOR) | set(LABELLED) == set(ALL)


#: small options so each metric runs in well under a second
FAST = {
    "kid": {"subsets": 5, "subset_size": 20},
    "prd": {"clusters": 4, "runs": 1, "angles": 21},
    "c2st": {"folds": 3},
    "wasserstein": {"sliced": True, "projections": 20},
}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    g = np.random.default_rng(3)
    a, b = g.normal(size=(40, 3)), g.normal(size=(36, 3)) + 0.5
    d = tmp_path_factory.mktemp("cov")
    np.save(d / "a.npy", a)
    np.save(d / "b.npy", b)
    return a, b, d


def _opts(name):
    return dict(ALL[name].test_options) | FAST.get(name, {})


@pytest.mark.parametrize("name", ROWS)
def test_evaluate_and_interval(name, rows):
    a, b, _ = rows
    m = ALL[name]
    r = ganeval.evaluate(a, b, [name], options={name: _opts(name)})[name]
    key = m.main_output().key
    assert np.isfinite(r[key])
    if m.resampling is not None:
        ri = ganeval.evaluate(a, b, [name], options={name: _opts(name)}, ci=0.9, bootstrap=10)[name]
        lo = ri.ci_low[key] if isinstance(ri.ci_low, dict) else ri.ci_low
        hi = ri.ci_high[key] if isinstance(ri.ci_high, dict) else ri.ci_high
        assert lo <= ri[key] <= hi


@pytest.mark.parametrize("name", HELD_OUT)
def test_evaluate_held_out(name, rows):
    a, b, _ = rows
    test = np.random.default_rng(9).normal(size=(30, 3))
    r = ganeval.evaluate(a, b, [name], real_test=test, options={name: _opts(name)})[name]
    assert np.isfinite(r[ALL[name].main_output().key])
    with pytest.raises(ganeval.ParameterError, match="needs real_test="):
        ganeval.evaluate(a, b, [name])


@pytest.mark.parametrize("name", GENERATOR)
def test_evaluate_reaches_generator_metrics(name, monkeypatch, tmp_path):
    class Tiny:
        latent_dim = 4

        def __call__(self, z):
            return z[:, :3, None, None].repeat(1, 1, 8, 8).tanh()

    monkeypatch.setenv("GANEVAL_LPIPS_VGG_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(ganeval.GanevalError, match="missing.pth"):  # reached: it asked for its weights
        ganeval.evaluate(None, Tiny(), [name], options={name: {"num_samples": 4, "batch_size": 2}})


@pytest.mark.parametrize("name", LABELLED)
def test_evaluate_labelled(name):
    r = ganeval.evaluate(
        "builtin:wine/train",
        "builtin:wine/test",
        [name],
        target="target",
        options={name: {"model": "logreg"}} if name == "nested-f1" else None,
    )[name]
    assert 0 <= r.value <= 1
    with pytest.raises(ganeval.ParameterError, match="no bootstrap interval"):
        ganeval.evaluate("builtin:wine/train", "builtin:wine/test", [name], target="target", ci=0.9)


@pytest.mark.parametrize("name", list(ALL))
def test_every_metric_has_a_command_and_a_report_column(name):
    assert name in cli.commands, f"no `ganeval {name}` command"
    assert name in report_metrics()
    assert any(c.metric == name for c in metric_columns())


def test_eval_command_takes_every_metric(rows):
    _, _, d = rows
    names = ",".join(ROWS + HELD_OUT)
    opts = [x for n, o in FAST.items() for k, v in o.items() for x in ("-O", f"{n}.{k}={v}")]
    r = CliRunner().invoke(
        cli,
        [
            "eval",
            str(d / "a.npy"),
            str(d / "b.npy"),
            "--metrics",
            names,
            *opts,
            "--real-test",
            str(d / "a.npy"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.stdout)["results"]) == set(ROWS + HELD_OUT)


def test_report_spec_validates_every_metric_and_interval():
    for name, m in ALL.items():
        spec = parse_spec(
            f'[real]\ninput = "builtin:ring8/train"\n[metrics]\n"{name}" = {{}}\n'
            '[[candidates]]\ninput = "builtin:ring8/test"\n'
        )
        assert name in spec.metrics
        with pytest.raises(ganeval.GanevalError, match="unknown option"):
            parse_spec(
                f'[real]\ninput = "x"\n[metrics]\n"{name}" = {{no_such_option = 1}}\n[[candidates]]\ninput = "y"\n'
            )
        text = f'[real]\ninput = "x"\n[metrics]\n"{name}" = {{ci = 0.9}}\n[[candidates]]\ninput = "y"\n'
        if m.resampling is None:
            with pytest.raises(ganeval.GanevalError, match="no interval"):
                parse_spec(text)
        else:
            assert parse_spec(text).intervals[name] == (0.9, 200)
