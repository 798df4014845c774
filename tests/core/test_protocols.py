"""Protocol presets (ganeval.protocols): the table, the checks of user choices against it,
and the ADM protocol end to end (evaluate and `ganeval eval --protocol adm --json`) on an ADM
reference batch and sample batch, with the Inception under seeded random weights.

ADM's precision/recall is checked against a transcription, written here, of the rule in
guided-diffusion's evaluations/evaluator.py (ManifoldEstimator: radius = squared distance to
the k-th nearest other point, k = 3; a point is in the manifold when its squared distance to
some reference point is <= that point's radius), and against the prdc package with k = 3.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
from ganeval.errors import ParameterError
from ganeval.features import extract_features
from ganeval.features.inception import FIDInceptionV3
from ganeval.metrics.fid import frechet_distance
from ganeval.protocols import PROTOCOLS, Chunks, get_protocol, plan


def test_every_protocol_names_registered_metrics_and_a_source():
    from ganeval.metrics.registry import names

    assert set(PROTOCOLS) == {"adm", "edm2", "clean-fid", "stylegan", "torch-fidelity", "pytorch-fid"}
    for p in PROTOCOLS.values():
        assert p.source and p.passes
        for _, metric, fixed in p.all_metrics():
            assert metric in names()
            from ganeval.metrics.registry import get

            get(metric).check_options({k: v for k, v in fixed.items() if not isinstance(v, Chunks)})


def test_table_contents():
    adm = plan("adm")[0]
    assert adm.metrics == ("is", "fid", "sfid", "prdc") and adm.options["prdc"]["k"] == 3
    assert (adm.extractor, adm.preprocessing) == ("inception", "tf")
    assert [(p.preprocessing, p.metrics) for p in plan("pytorch-fid")] == [("pytorch-fid", ("fid",))]
    assert [(p.preprocessing, p.metrics) for p in plan("clean-fid")] == [("clean", ("fid",))]
    tf = plan("torch-fidelity")[0]
    assert tf.metrics == ("is", "fid", "kid") and tf.options["kid"]["subsets"] == 100
    assert tf.options["kid"]["subset_size"] == 1000
    edm2 = plan("edm2")
    assert [(p.extractor, p.preprocessing, p.keys) for p in edm2] == [
        ("inception", "tf", {"fid": "fid"}),
        ("dinov2", "dgm-eval", {"fid": "fd_dinov2"}),
    ]
    assert get_protocol("stylegan").num_fake == 50_000 and Chunks(5000).resolve(50_000) == 10
    assert Chunks(5000).resolve(8) == 1 and Chunks(5000).resolve(10_001) == 3


def test_subsets_and_aliases():
    assert [p.keys for p in plan("edm2", ["fd_dinov2"])] == [{"fid": "fd_dinov2"}]
    assert plan("adm", ["precision", "recall"])[0].metrics == ("prdc",)
    assert plan("adm", options={"prdc": {"k": 3}})[0].options["prdc"] == {"k": 3}
    assert plan("torch-fidelity", options={"kid": {"seed": 7}})[0].options["kid"]["seed"] == 7


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"metrics": ["kid"]}, r"metric 'kid' contradicts protocol 'adm', whose metrics are is, fid, sfid, prdc"),
        ({"options": {"prdc": {"k": 5}}}, r"option prdc.k=5 contradicts protocol 'adm', which fixes prdc.k=3"),
        ({"options": {"is": {"splits": 10}}}, r"option is.splits=10 contradicts protocol 'adm'"),
        ({"extractor": "dinov2"}, r"extractor 'dinov2' contradicts protocol 'adm', which fixes extractor 'inception'"),
        ({"preprocessing": "clean"}, r"preprocessing 'clean' contradicts protocol 'adm', which fixes .*'tf'"),
        ({"options": {"kid": {"subsets": 3}}}, r"options for 'kid' contradict protocol 'adm'"),
    ],
)
def test_contradictions_name_both(kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        plan("adm", **kwargs)


def test_evaluate_checks_before_reading_anything(tmp_path):
    missing = str(tmp_path / "nope.npz")
    with pytest.raises(ParameterError, match="contradicts protocol 'pytorch-fid'"):
        ganeval.evaluate(missing, missing, protocol="pytorch-fid", preprocessing="tf")
    with pytest.raises(ParameterError, match="unknown protocol 'admm' \\(did you mean 'adm'\\?\\)"):
        ganeval.evaluate(missing, missing, protocol="admm")


def test_splits_per_sample_count_from_features_already_read():
    """ADM's IS splits (one per 5,000 samples) are resolved from Features given as they are
    (the report engine passes its inputs read), not by reading them again."""
    from ganeval.api import Features
    from ganeval.metrics.inception_score import inception_score

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(30, 10))
    f = Features("fake", rows=rng.normal(size=(30, 4)), logits=logits, info={"extractor": "inception"})
    with pytest.warns(UserWarning, match="defined for 50000 generated samples; 30 were given"):
        r = ganeval.evaluate(f, f, ["is"], protocol="adm")["is"]
    ref = inception_score(logits, splits=1)
    assert r.settings["splits"] == 1 and r.settings["protocol"] == "adm" and r.value == ref.value


def test_cli_contradiction_is_one_line_exit_2():
    from ganeval_cli.main import cli

    r = CliRunner().invoke(cli, ["eval", "a.npz", "b.npz", "--protocol", "adm", "--k", "5"])
    assert r.exit_code == 2 and "option prdc.k=5 contradicts protocol 'adm'" in r.output


# -- ADM end to end ----------------------------------------------------------------------------


def _images(rng, n):
    low = rng.integers(0, 256, size=(n, 4, 4, 3)).astype(np.uint8)
    return np.repeat(np.repeat(low, 4, axis=1), 4, axis=2)


@pytest.fixture(scope="module")
def adm_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("adm")
    weights = d / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(FIDInceptionV3.random(seed=5).state_dict(), weights)
    rng = np.random.default_rng(0)

    def psd(n):
        a = rng.normal(size=(n, n // 4))
        return a @ a.T / n + 0.01 * np.eye(n)

    ref = {
        "arr_0": _images(rng, 12),
        "mu": rng.normal(size=2048) * 0.1,
        "sigma": psd(2048),
        "mu_s": rng.normal(size=2023) * 0.1,
        "sigma_s": psd(2023),
    }
    np.savez(d / "ref.npz", **ref)
    np.savez(d / "samples.npz", arr_0=_images(rng, 10))
    return d, ref


@pytest.fixture
def adm_env(adm_files, monkeypatch):
    d, ref = adm_files
    monkeypatch.setenv("GANEVAL_INCEPTION_WEIGHTS", str(d / "pt_inception-2015-12-05-6726825d.pth"))
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(d / "cache"))
    return d, ref


def _adm_precision_recall(ref: np.ndarray, sample: np.ndarray, k: int = 3) -> tuple[float, float]:
    """guided-diffusion's ManifoldEstimator rule, float64, no batching."""

    def sq(a, b):
        return np.maximum((a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :], 0.0)

    radii_r = np.partition(sq(ref, ref), k, axis=1)[:, k]
    radii_s = np.partition(sq(sample, sample), k, axis=1)[:, k]
    d = sq(ref, sample)
    precision = (d <= radii_r[:, None]).any(0).mean()
    recall = (d <= radii_s[None, :]).any(1).mean()
    return float(precision), float(recall)


@pytest.mark.slow
def test_adm_protocol_through_evaluate(adm_env):
    d, ref = adm_env
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = ganeval.evaluate(str(d / "ref.npz"), str(d / "samples.npz"), protocol="adm", device="cpu", num_workers=0)
    assert any("defined for 50000 generated samples; 10 were given" in str(w.message) for w in caught)
    assert list(r) == ["is", "fid", "sfid", "prdc"]
    assert all(x.settings["protocol"] == "adm" for x in r.values())
    opts = {"extractor": "inception", "preprocessing": "tf", "device": "cpu", "num_workers": 0, "outputs": ("spatial",)}
    s = extract_features(d / "samples.npz", **opts)
    rr = extract_features(ref["arr_0"], **opts)

    def mom(x):
        return x.mean(0), np.cov(x, rowvar=False)

    fid = frechet_distance(ref["mu"], ref["sigma"], *mom(s.features))
    sfid = frechet_distance(ref["mu_s"], ref["sigma_s"], *mom(s.extras["spatial"]))
    assert abs(r["fid"].value - fid) <= 1e-9 * fid and abs(r["sfid"].value - sfid) <= 1e-9 * sfid
    assert r["is"].settings["splits"] == 1  # ADM: chunks of 5,000
    p, rc = _adm_precision_recall(rr.features.astype(np.float64), s.features.astype(np.float64))
    assert (r["prdc"].precision, r["prdc"].recall) == (p, rc)
    prdc = pytest.importorskip("prdc")
    want = prdc.compute_prdc(rr.features, s.features, nearest_k=3)
    assert r["prdc"].precision == pytest.approx(want["precision"], abs=1e-12)
    assert r["prdc"].recall == pytest.approx(want["recall"], abs=1e-12)


@pytest.mark.slow
def test_cli_eval_protocol_adm_json(adm_env):
    from ganeval_cli.main import cli

    d, _ = adm_env
    r = CliRunner().invoke(
        cli,
        [
            "eval",
            str(d / "ref.npz"),
            str(d / "samples.npz"),
            "--protocol",
            "adm",
            "--json",
            "--device",
            "cpu",
            "--num-workers",
            "0",
        ],
    )
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("{"))
    res = json.loads(line)["results"]
    assert set(res) == {"is", "fid", "sfid", "prdc"}
    assert {"precision", "recall"} <= set(res["prdc"]) and res["sfid"]["value"] > 0
    assert all(v["settings"]["protocol"] == "adm" for v in res.values())


def test_edm2_two_passes_from_dataset_refs_pickles(tmp_path):
    """Two EDM2 dataset-refs pickles: the inception pass reads their fid moments, the dinov2
    pass their fd_dinov2 moments (no network runs); results are keyed fid and fd_dinov2."""
    import pickle

    rng = np.random.default_rng(7)
    moments = {}
    for name, shift in (("ref", 0.0), ("gen", 0.4)):
        pool, dino = rng.normal(size=(40, 5)) + shift, rng.normal(size=(40, 4)) * (1 + shift)
        mom = {k: {"mu": x.mean(0), "sigma": np.cov(x, rowvar=False)} for k, x in (("fid", pool), ("fd_dinov2", dino))}
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps({"num_images": 40, **mom}))
        moments[name] = mom
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ganeval.evaluate(str(tmp_path / "ref.pkl"), str(tmp_path / "gen.pkl"), protocol="edm2")
    assert list(r) == ["fid", "fd_dinov2"]
    for key in ("fid", "fd_dinov2"):
        a, b = moments["ref"][key], moments["gen"][key]
        want = frechet_distance(a["mu"], a["sigma"], b["mu"], b["sigma"])
        assert r[key].value == pytest.approx(want, rel=1e-12) and r[key].settings["protocol"] == "edm2"
    assert r["fd_dinov2"].metric == "fd_dinov2" and r["fd_dinov2"].value != pytest.approx(r["fid"].value)


def test_statistics_made_by_another_protocol_are_not_labelled_with_this_one(tmp_path):
    """Two pytorch-fid statistics files under protocol clean-fid: refused, naming both
    preprocessings (their FID is not a clean-fid number); allowed with allow_mismatch."""
    from ganeval.errors import InputError
    from ganeval.statistics import FeatureStats

    rng = np.random.default_rng(0)
    meta = {"extractor": "inception", "preprocessing": "pytorch-fid"}
    for name in ("a", "b"):
        FeatureStats.from_features(rng.normal(size=(40, 5)), metadata=meta).save(tmp_path / f"{name}.npz")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    with pytest.raises(InputError, match="'clean'.*'pytorch-fid'"):
        ganeval.evaluate(a, b, ["fid"], protocol="clean-fid")
    same = ganeval.evaluate(a, b, ["fid"], protocol="pytorch-fid")["fid"]
    assert same.settings["protocol"] == "pytorch-fid"
    forced = ganeval.evaluate(a, b, ["fid"], protocol="clean-fid", allow_mismatch=True)["fid"]
    assert forced.value == same.value
