"""`stats import` (cli/stats_import.py) and `stats --spatial`: files of the field -> ganeval .npz."""

from __future__ import annotations

import hashlib
import json
import os
import pickle

import click
import numpy as np
import pytest
from click.testing import CliRunner
from ganeval_cli.feature_metrics import stats as stats_command
from ganeval_cli.main import GanevalGroup
from ganeval_cli.stats_import import COMMANDS, IMPORT_COMMAND


@click.group(cls=GanevalGroup)
def _cli():
    """The same error boundary as `ganeval`, with a `stats` group holding `import`."""


@_cli.group("stats")
def _stats_group():
    pass


_stats_group.add_command(IMPORT_COMMAND)
for _c in COMMANDS:
    _cli.add_command(_c)
_cli.add_command(stats_command, "stats-compute")


def run(*args):
    return CliRunner().invoke(_cli, list(args), catch_exceptions=False)


@pytest.fixture
def edm2(tmp_path):
    rng = np.random.default_rng(0)
    x, d = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    p = tmp_path / "img64.pkl"
    p.write_bytes(
        pickle.dumps(
            {
                "num_images": 30,
                "fid": {"mu": x.mean(0), "sigma": np.cov(x, rowvar=False)},
                "fd_dinov2": {"mu": d.mean(0), "sigma": np.cov(d, rowvar=False)},
            }
        )
    )
    return p, x, d


def test_import_edm2_records_origin_and_sha256(edm2, tmp_path):
    p, x, d = edm2
    out = tmp_path / "fid.npz"
    r = run("stats", "import", str(p), "-o", str(out))
    assert r.exit_code == 0, r.output
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    assert f"sha256 {sha}" in r.output
    with np.load(out) as data:
        np.testing.assert_allclose(data["mu"], x.mean(0))
        meta = json.loads(str(data["metadata"]))
        assert int(data["n"]) == 30 and "mu_s" not in data.files
    assert meta["origin_sha256"] == sha and meta["origin_source"] == str(p)
    assert meta["extractor"] == "inception" and meta["format"] == "edm2-dataset-refs"
    # the FD_DINOv2 moments, as JSON, through the top-level command
    out2 = tmp_path / "dino.npz"
    r = run("stats", "import", str(p), "--extractor", "dinov2", "-o", str(out2), "--json")
    payload = json.loads(r.output)
    assert payload["dim"] == 3 and payload["extractor"] == "dinov2:vitl14" and payload["origin_sha256"] == sha
    # pytorch-fid reads the output
    from pytorch_fid.fid_score import calculate_frechet_distance

    with np.load(out2) as a:
        assert calculate_frechet_distance(a["mu"], a["sigma"], d.mean(0), np.cov(d, rowvar=False)) == pytest.approx(
            0.0, abs=1e-6
        )


def test_import_adm_reference_batch_keeps_spatial(tmp_path):
    rng = np.random.default_rng(1)
    x, s = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    p = tmp_path / "VIRTUAL_x.npz"
    np.savez(
        p,
        arr_0=np.zeros((2, 8, 8, 3), np.uint8),
        mu=x.mean(0),
        sigma=np.cov(x, rowvar=False),
        mu_s=s.mean(0),
        sigma_s=np.cov(s, rowvar=False),
    )
    out = tmp_path / "adm.npz"
    r = run("stats", "import", str(p), "-o", str(out))
    assert r.exit_code == 0 and "spatial dim=3" in r.output
    with np.load(out) as data:
        np.testing.assert_allclose(data["sigma_s"], np.cov(s, rowvar=False))
    # `stats --spatial` on statistics carries mu_s/sigma_s too
    out2 = tmp_path / "again.npz"
    r = run("stats-compute", str(out), "--spatial", "-o", str(out2))
    assert r.exit_code == 0, r.output
    with np.load(out2) as data:
        np.testing.assert_allclose(data["mu_s"], s.mean(0))


def test_import_refuses_images_and_malicious_pickles_with_exit_2(tmp_path):
    np.savez(tmp_path / "samples.npz", arr_0=np.zeros((3, 8, 8, 3), np.uint8), arr_1=np.arange(3))
    out = tmp_path / "o.npz"
    r = run("stats", "import", str(tmp_path / "samples.npz"), "-o", str(out))
    assert r.exit_code == 2 and "holds images, not statistics" in r.output and not out.exists()

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"fid": Evil()}))
    r = run("stats", "import", str(tmp_path / "evil.pkl"), "-o", str(out))
    assert r.exit_code == 2 and "refused to unpickle" in r.output
    assert not (tmp_path / "pwned").exists() and not out.exists()


def test_stats_spatial_on_feature_rows_is_refused(tmp_path):
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).normal(size=(10, 3)))
    r = run("stats-compute", str(tmp_path / "rows.npy"), "--spatial", "-o", str(tmp_path / "o.npz"))
    assert r.exit_code == 2 and "has no 'spatial' features" in r.output
