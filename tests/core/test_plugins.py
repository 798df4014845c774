"""A third-party metric package, pip-installed into a temporary environment, reaches every
front-end with no change to ganeval: its generated command, ``eval --metrics``,
``ganeval.evaluate``, ``--ci`` and a report spec (the shape of the acceptance check)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

PLUGIN = '''\
import numpy as np
from ganeval import Metric
from ganeval.features.extractors import ImageExtractor


class ColourMeans(ImageExtractor):
    """Each image's mean red, green and blue (a complete extractor, 3-D features)."""

    name = "colour-means"

    def __init__(self, weights=None, preprocessing=None):
        self.preprocessing = preprocessing or "none"

    def prepare(self, images):           # uint8 (n, 3, H, W) -> the network's input
        return images.float() / 255.0

    def build(self, device):
        import torch  # when the extractor runs: the metric commands need no torch

        return torch.nn.Identity().to(device)

    def split_outputs(self, out):
        return out.mean(dim=(2, 3)), None   # features (n, 3), no class logits

class MeanGap(Metric):
    name = "mean-gap"
    higher_is_better = False

    def compute(self, real, fake):      # two samples of feature rows, float64 (n, d)
        return {"value": float(np.abs(real.mean(0) - fake.mean(0)).mean())}
'''

PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "mygap"
version = "0.1"

[project.entry-points."ganeval.metrics"]
mean-gap = "mygap:MeanGap"

[project.entry-points."ganeval.extractors"]
colour-means = "mygap:ColourMeans"

[tool.setuptools]
py-modules = ["mygap"]
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """``mygap`` installed with pip into a fresh target folder; the environment to run in."""
    root = tmp_path_factory.mktemp("plugin")
    pkg, site = root / "mygap", root / "site"
    pkg.mkdir()
    (pkg / "mygap.py").write_text(PLUGIN)
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(pkg)]
    # offline when this environment can build it (setuptools with bdist_wheel); else pip
    # fetches the build backend from the package index
    done = subprocess.run([*cmd[:4], "--no-build-isolation", *cmd[4:]], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    assert any(p.name.startswith("mygap") and p.name.endswith(".dist-info") for p in site.iterdir())
    g = np.random.default_rng(0)
    a, b = g.normal(size=(80, 5)), g.normal(size=(70, 5)) + 0.25
    np.save(root / "a.npy", a)
    np.save(root / "b.npy", b)
    np.save(root / "ia.npy", g.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8))
    np.save(root / "ib.npy", (g.integers(0, 200, size=(30, 8, 8, 3)) + 40).astype(np.uint8))
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    expected = float(np.abs(a.mean(0) - b.mean(0)).mean())
    return root, environ, expected


def _run(env, *args):
    root, environ, _ = env
    r = subprocess.run([sys.executable, *args], cwd=root, env=environ, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_generated_command(env):
    out = json.loads(_run(env, "-m", "ganeval", "mean-gap", "a.npy", "b.npy", "--json"))
    assert out["metric"] == "mean-gap" and out["value"] == pytest.approx(env[2], rel=1e-12)
    assert (out["n_real"], out["n_fake"]) == (80, 70)
    helptext = _run(env, "-m", "ganeval", "mean-gap", "--help")
    assert "REAL FAKE" in helptext and "--ci" in helptext
    listing = _run(env, "-m", "ganeval", "metrics")
    assert "mean-gap" in listing


def test_eval_metrics_and_interval(env):
    out = json.loads(_run(env, "-m", "ganeval", "eval", "a.npy", "b.npy", "--metrics", "fid,mean-gap", "--json"))
    assert set(out["results"]) == {"fid", "mean-gap"}
    assert out["results"]["mean-gap"]["value"] == pytest.approx(env[2], rel=1e-12)
    ci = json.loads(_run(env, "-m", "ganeval", "mean-gap", "a.npy", "b.npy", "--ci", "0.95", "--json"))
    assert ci["ci_low"] <= ci["value"] <= ci["ci_high"] and ci["se"] > 0
    assert ci["settings"]["resampling"] == "with replacement"
    again = json.loads(_run(env, "-m", "ganeval", "mean-gap", "a.npy", "b.npy", "--ci", "0.95", "--json"))
    assert again["ci_low"] == ci["ci_low"]  # seeded


def test_python_api(env):
    code = textwrap.dedent("""
        import numpy as np, ganeval
        r = ganeval.evaluate(np.load("a.npy"), np.load("b.npy"), ["mean-gap"])
        print(r["mean-gap"].value)
    """)
    assert float(_run(env, "-c", code)) == pytest.approx(env[2], rel=1e-12)


def test_report_spec(env):
    root = env[0]
    (root / "spec.toml").write_text(
        textwrap.dedent("""
        title = "plug-in"
        [real]
        input = "a.npy"
        [metrics]
        mean-gap = {ci = 0.9, bootstrap = 20}
        fid = {}
        [[candidates]]
        name = "b"
        input = "b.npy"
    """)
    )
    _run(env, "-m", "ganeval", "report", "spec.toml", "--out", "rep")
    report = json.loads((Path(root) / "rep" / "report.json").read_text())
    run = report["candidates"][0]["runs"][0]["results"]["mean-gap"]
    assert run["value"] == pytest.approx(env[2], rel=1e-12) and run["ci_low"] <= run["value"] <= run["ci_high"]
    assert any(c["id"] == "mean-gap.value" and c["better"] == "lower" for c in report["columns"])


def test_extractor_plugin(env):
    root = env[0]
    out = json.loads(
        _run(env, "-m", "ganeval", "fid", "ia.npy", "ib.npy", "--extractor", "colour-means", "--no-cache", "--json")
    )
    from ganeval.metrics.fid import fid_from_features

    means = [np.load(root / f).astype(np.float64).mean(axis=(1, 2)) / 255.0 for f in ("ia.npy", "ib.npy")]
    assert out["value"] == pytest.approx(fid_from_features(*means).value, rel=1e-5)
    assert out["settings"]["extractor"] == "colour-means"


def test_a_broken_plugin_is_a_warning_not_a_crash(tmp_path):
    from ganeval.metrics import registry

    class Broken:  # not a Metric
        pass

    with pytest.raises(TypeError, match="not a ganeval.Metric"):
        registry.register_metric(Broken)
    with pytest.raises(Exception, match="reserved"):
        from ganeval import Metric

        class Train(Metric):
            name = "train"

            def compute(self, real, fake):
                return {"value": 0.0}

        registry.register_metric(Train)
