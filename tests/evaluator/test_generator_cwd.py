"""`--generator pkg.module:fn` finds modules in the current folder, as `python -m` does,
without leaving that folder on sys.path; Evaluator("fid") takes one metric name."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ganeval
from ganeval.sources.generator import open_generator

GEN = textwrap.dedent("""
    import torch

    def make():
        def sample(n, generator):
            return torch.randint(0, 256, (n, 8, 8, 1), generator=generator, dtype=torch.uint8)
        return sample
""")


@pytest.fixture
def here(tmp_path, monkeypatch):
    pkg = tmp_path / "here_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "gens.py").write_text(GEN)
    monkeypatch.chdir(tmp_path)
    # as the installed `ganeval` script: the current folder is not on sys.path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd(), str(tmp_path))])
    yield tmp_path
    for m in ("here_pkg", "here_pkg.gens"):
        sys.modules.pop(m, None)


def test_module_in_current_folder(here):
    before = list(sys.path)
    src = open_generator("here_pkg.gens:make", num_samples=5, batch_size=2)
    assert src.kind == "images" and len(src) == 5
    assert sys.path == before  # the folder was only searched during the import


@pytest.mark.slow
def test_console_script_from_the_current_folder(here):
    script = Path(sys.executable).with_name("ganeval")
    if not script.exists():
        pytest.skip("no installed ganeval script next to this python")
    r = subprocess.run(
        [
            str(script),
            "eval",
            "builtin:digits/test",
            "--generator",
            "here_pkg.gens:make",
            "--num-samples",
            "40",
            "--metrics",
            "fid",
            "--extractor",
            "digits",
            "--json",
            "--no-cache",
        ],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["results"]["fid"]["n_fake"] == 40


def test_evaluator_takes_one_metric_name():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 4)), rng.normal(size=(50, 4)) + 0.5
    ev = ganeval.Evaluator("fid", extractor=None)
    assert ev.metrics == ("fid",)
    ev.update(x, real=True)
    ev.update(y)
    assert ev.compute()["fid"].value == pytest.approx(ganeval.fid_from_features(x, y).value, rel=1e-10)
    with pytest.raises(ganeval.ParameterError, match="metric"):
        ganeval.Evaluator("fidd", extractor=None)


def test_evaluate_and_compare_take_one_metric_name():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    assert list(ganeval.evaluate(x, y, "fid")) == ["fid"]
    assert list(ganeval.compare(x, y, "ecdf")) == ["ecdf"]
