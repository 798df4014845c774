"""``protocol = "NAME"`` in report specs: it sets what ``evaluate(protocol=)`` sets, is checked
before any work, runs end to end, is recorded and verified, and is shown in the header.

The fast end-to-end runs use statistics files (moments of 6-D rows whose metadata says they
were made with the FID Inception and the protocol's preprocessing): every protocol fixes the
Inception, which refuses plain feature rows and the digits network, and a Fréchet distance of
2048-D Inception features takes tens of seconds on a CPU. The Inception itself (random
weights, tiny images, the ADM protocol with IS, sFID and PRDC) is the slow test at the end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import ganeval
from ganeval.errors import InputError
from ganeval.protocols import PROTOCOLS, Chunks, plan
from ganeval.report import build_report, verify_report
from ganeval.report.spec import parse_spec
from ganeval.statistics import FeatureStats

from .conftest import run_cli

REAL = '[real]\ninput = "a.npz"\n'
CANDS = '[[candidates]]\nname = "same"\ninput = "a.npz"\n[[candidates]]\nname = "shifted"\ninput = "b.npz"\n'


@pytest.mark.parametrize("name", [n for n in PROTOCOLS if len(plan(n)) == 1])
def test_protocol_sets_what_evaluate_sets(name):
    s = parse_spec(f'protocol = "{name}"\n' + REAL + CANDS)
    (ps,) = plan(name)
    assert (s.protocol, s.extractor, s.preprocessing) == (name, ps.extractor, ps.preprocessing)
    assert list(s.metrics) == list(ps.metrics)
    for m in ps.metrics:  # the fixed options, except those fixed per sample count (evaluate resolves them)
        assert s.metrics[m] == {k: v for k, v in ps.options[m].items() if not isinstance(v, Chunks)}
    assert s.feature_options["preprocessing"] == ps.preprocessing
    assert s.feature_options.get("outputs") == (("spatial",) if "sfid" in ps.metrics else None)


def test_protocol_with_a_subset_and_agreeing_keys():
    text = 'protocol = "adm"\nextractor = "inception"\npreprocessing = "tf"\nci = 0.9\n' + REAL
    s = parse_spec(text + "[metrics]\nfid = {eps = 0.0}\nprdc = {k = 3}\n" + CANDS)
    assert s.metrics == {"fid": {"eps": 0.0}, "prdc": {"k": 3}}
    assert s.intervals == {"fid": (0.9, 200), "prdc": (0.9, 200)} and "outputs" not in s.feature_options
    kid = parse_spec('protocol = "torch-fidelity"\n' + REAL + "[metrics]\nkid = {seed = 7}\n" + CANDS)
    assert kid.metrics["kid"] == {
        "seed": 7,
        "subsets": 100,
        "subset_size": 1000,
        "degree": 3,
        "gamma": None,
        "coef0": 1,
    }
    # EDM2 reads with two extractors; its Inception pass alone fits a report
    assert parse_spec('protocol = "edm2"\n' + REAL + "[metrics]\nfid = {}\n" + CANDS).extractor == "inception"


@pytest.mark.parametrize(
    "head, metrics, needle",
    [
        ('protocol = "admm"', "", "protocol: unknown protocol 'admm' (did you mean 'adm'?); known: adm, pytorch-fid, "),
        ("protocol = 3", "", "protocol: unknown protocol 3; known: adm, pytorch-fid, clean-fid, torch-fidelity,"),
        (
            'protocol = "adm"',
            "kid = {}",
            "metric 'kid' contradicts protocol 'adm', whose metrics are is, fid, sfid, prdc",
        ),
        ('protocol = "adm"', "modes = {}", "metric 'modes' contradicts protocol 'adm'"),
        ('protocol = "adm"', "prdc = {k = 5}", "option prdc.k=5 contradicts protocol 'adm', which fixes prdc.k=3"),
        (
            'protocol = "adm"',
            "is = {splits = 10}",
            "option is.splits=10 contradicts protocol 'adm', which fixes is.splits",
        ),
        ('protocol = "pytorch-fid"', "fid = {eps = 1e-6}", "option fid.eps=1e-06 contradicts protocol 'pytorch-fid'"),
        ('protocol = "adm"\nextractor = "digits"', "", "extractor 'digits' contradicts protocol 'adm', which fixes"),
        (
            'protocol = "clean-fid"\nextractor = "inception"\npreprocessing = "tf"',
            "",
            "preprocessing 'tf' contradicts protocol 'clean-fid', which fixes preprocessing 'clean'",
        ),
        ('protocol = "edm2"', "", "protocol 'edm2' reads its inputs with 2 extractors (fid on inception; fd_dinov2"),
        ('preprocessing = "clean"', "fid = {}", "preprocessing = 'clean' needs the extractor it applies to named"),
        ('extractor = "digits"\npreprocessing = "tf"', "fid = {}", "'tf' is not a mode of the digits extractor"),
    ],
)
def test_contradictions_are_one_line_naming_both(head, metrics, needle):
    text = head + "\n" + REAL + (f"[metrics]\n{metrics}\n" if metrics else "") + CANDS
    with pytest.raises(InputError) as err:
        parse_spec(text, name="s.toml")
    msg = str(err.value)
    assert msg.startswith("s.toml") and needle in msg and "\n" not in msg


def test_unknown_protocol_is_refused_before_any_work(tmp_path, monkeypatch):
    import ganeval.report.build as build_mod

    def no_work(*a, **k):
        raise AssertionError("the report ran")

    monkeypatch.setattr(build_mod, "run_spec", no_work)
    # inputs that do not exist: the protocol line comes first, nothing is read or written
    (tmp_path / "s.toml").write_text('protocol = "clean_fid"\n' + REAL + CANDS)
    r = run_cli("report", tmp_path / "s.toml", "--out", tmp_path / "out")
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines == [
        f"error: {tmp_path / 's.toml'}: protocol: unknown protocol 'clean_fid' (did you mean 'clean-fid'?); "
        "known: adm, pytorch-fid, clean-fid, torch-fidelity, stylegan, edm2"
    ]
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def _stats(path, rows, preprocessing):
    FeatureStats.from_features(rows, metadata={"extractor": "inception", "preprocessing": preprocessing}).save(path)


def _write_spec(d):
    (d / "spec.toml").write_text('title = "protocol"\nprotocol = "pytorch-fid"\n' + REAL + CANDS)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A report under protocol pytorch-fid, built once through the CLI: a.npz, b.npz are
    pytorch-fid statistics (6-D moments) of two shifted samples."""
    d = tmp_path_factory.mktemp("protocol")
    rng = np.random.default_rng(3)
    _stats(d / "a.npz", rng.normal(size=(60, 6)), "pytorch-fid")
    _stats(d / "b.npz", rng.normal(size=(50, 6)) + 0.4, "pytorch-fid")
    _write_spec(d)
    r = run_cli("report", d / "spec.toml", "--out", d / "out", "-q")
    assert r.exit_code == 0, r.output
    return d


def test_protocol_report_end_to_end_and_verified(built):
    d = built
    rep = json.loads((d / "out" / "report.json").read_text())
    lib = ganeval.evaluate(d / "a.npz", d / "b.npz", protocol="pytorch-fid")["fid"]
    got = rep["candidates"][1]["runs"][0]["results"]["fid"]
    assert got["value"] == lib.value and got["settings"]["protocol"] == "pytorch-fid"
    names = ("real", "fake")  # what the two inputs are called (paths as given) aside, the settings are evaluate's
    assert {k: v for k, v in got["settings"].items() if k not in names} == {
        k: v for k, v in lib.settings.items() if k not in names
    }
    assert rep["spec"]["protocol"] == "pytorch-fid" and 'protocol = "pytorch-fid"' in rep["spec_text"]
    # shown in the header of every file
    assert "protocol `pytorch-fid`" in (d / "out" / "report.md").read_text()
    html = (d / "out" / "report.html").read_text()
    assert "Protocol <b>pytorch-fid</b>: pytorch-fid fid_score.py" in html and "FID (eps = 0.0)" in html
    assert "protocol pytorch-fid" in (d / "out" / "report.tex").read_text()
    v = run_cli("report", "--verify", d / "out", "-q")
    assert v.exit_code == 0, v.output


def _tampered(d, name, edit):
    """A copy of the built report (beside it, so its inputs are found) with report.json edited."""
    import shutil

    out = d / name
    shutil.copytree(d / "out", out)
    rep = json.loads((out / "report.json").read_text())
    edit(rep)
    (out / "report.json").write_text(json.dumps(rep))
    return out


def test_a_tampered_protocol_is_a_difference(built):
    def both(rep):  # the spec text (which verify reruns) and its table, consistently
        rep["spec_text"] = rep["spec_text"].replace('"pytorch-fid"', '"clean-fid"')
        rep["spec"]["protocol"] = "clean-fid"

    # rerun under clean-fid, the pytorch-fid statistics are refused: they are not clean-fid numbers
    with pytest.raises(InputError, match="protocol 'clean-fid' resizes with 'clean'.*'pytorch-fid'"):
        verify_report(_tampered(built, "both", both))

    res = verify_report(_tampered(built, "table", lambda rep: rep["spec"].update(protocol="clean-fid")))
    assert not res.ok and any("spec.protocol recorded 'clean-fid', recomputed 'pytorch-fid'" in x for x in res.lines)

    res = verify_report(_tampered(built, "unknown", lambda rep: rep["spec"].update(protocol="pytorch_fid")))
    assert not res.ok and any("spec.protocol recorded 'pytorch_fid'" in x for x in res.lines)  # not a crash


def test_statistics_made_otherwise_are_not_compared(tmp_path, rng):
    _stats(tmp_path / "a.npz", rng.normal(size=(60, 6)), "pytorch-fid")
    _stats(tmp_path / "b.npz", rng.normal(size=(50, 6)), "clean")
    _write_spec(tmp_path)
    r = run_cli("report", tmp_path / "spec.toml", "--out", tmp_path / "out")
    assert r.exit_code == 2 and "preprocessing 'pytorch-fid' vs 'clean'" in r.output
    assert not (tmp_path / "out").exists()


# -- the Inception itself ---------------------------------------------------------------------


def _images(rng, n, shift=0):
    low = (rng.integers(0, 256 - shift, size=(n, 4, 4, 3)) + shift).astype(np.uint8)
    return np.repeat(np.repeat(low, 4, axis=1), 4, axis=2)


@pytest.mark.slow
def test_adm_protocol_report_with_the_inception(tmp_path, rng, monkeypatch):
    """ADM end to end through a report: IS (splits per sample count), FID, sFID (the spatial
    output, asked for by the spec) and PRDC with k = 3, equal to evaluate(protocol="adm")."""
    import torch

    from ganeval.features.inception import FIDInceptionV3

    weights = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(FIDInceptionV3.random(seed=5).state_dict(), weights)
    monkeypatch.setenv("GANEVAL_INCEPTION_WEIGHTS", str(weights))
    monkeypatch.setenv("GANEVAL_CACHE_DIR", str(tmp_path / "cache"))
    np.save(tmp_path / "real.npy", _images(rng, 10))
    np.save(tmp_path / "fake.npy", _images(rng, 8, 40))
    (tmp_path / "spec.toml").write_text(
        'protocol = "adm"\n[real]\ninput = "real.npy"\n[[candidates]]\nname = "brighter"\ninput = "fake.npy"\n'
    )
    with pytest.warns(UserWarning, match="protocol 'adm' is defined for 50000 generated samples; 8 were given"):
        rep = build_report(tmp_path / "spec.toml", tmp_path / "out")
    got = rep["candidates"][0]["runs"][0]["results"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the report runs (threads = 1): float32 sums in the same order
    try:
        with pytest.warns(UserWarning, match="defined for 50000"):
            lib = ganeval.evaluate(tmp_path / "real.npy", tmp_path / "fake.npy", protocol="adm")
    finally:
        torch.set_num_threads(threads)
    assert list(got) == ["is", "fid", "sfid", "prdc"]
    for m in got:
        r = lib[m].to_dict()
        assert got[m]["settings"]["protocol"] == "adm"
        for k, v in r.items():
            if isinstance(v, float):
                assert got[m][k] == pytest.approx(v, rel=1e-9, abs=1e-12), (m, k)
    assert got["is"]["settings"]["splits"] == 1 and got["prdc"]["settings"]["k"] == 3
    assert rep["real"]["features"]["preprocessing"] == "tf"
    assert verify_report(tmp_path / "out").ok
