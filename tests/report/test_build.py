"""Building a report: every number is the library's, the files are all there, nothing half-written."""

import json

import numpy as np
import pytest

import ganeval
from ganeval.errors import InputError
from ganeval.report import build_report
from ganeval.report import engine as engine_mod

from .conftest import SPEC, run_cli


def test_report_numbers_are_the_librarys(small):
    d, real, fake = small
    rep = build_report(d / "spec.toml", d / "out")
    out = d / "out"
    for name in ("report.json", "report.html", "report.md", "report.tex"):
        assert (out / name).is_file()
    figs = sorted(p.name for p in (out / "figures").iterdir())
    assert "metric_fid.png" in figs and "scatter_shifted.png" in figs
    data = json.loads((out / "report.json").read_text())
    shifted = data["candidates"][1]["runs"][0]["results"]
    assert shifted["fid"]["value"] == ganeval.fid_from_features(real, fake).value
    lib = ganeval.compare(real, fake, ["ecdf", "c2st"], options={"c2st": {"folds": 3, "seed": 0}})
    assert shifted["ecdf"]["value"] == lib["ecdf"].value
    assert shifted["c2st"]["accuracy"] == lib["c2st"].accuracy
    kid = ganeval.kernel_inception_distance(real, fake, subsets=5, subset_size=40, seed=0)
    assert shifted["kid"]["value"] == kid.value and shifted["kid"]["std"] == kid.std
    # the input identical to the real one is best on FID; directions are stated
    cols = {c["id"]: c for c in data["columns"]}
    assert cols["fid.value"]["best"] == ["same"] and cols["fid.value"]["better"] == "lower"
    assert cols["prdc.precision"]["better"] == "higher"
    # provenance: versions, thread count, input fingerprints (sha256 of the file)
    prov = data["provenance"]
    assert {"ganeval", "python", "torch", "numpy", "scipy", "scikit-learn", "POT"} <= set(prov["versions"])
    assert prov["threads"] == 1 and prov["steps"] and prov["total_wall_s"] > 0
    from ganeval.report.provenance import file_sha256

    assert data["real"]["fingerprint"]["sha256"] == file_sha256(d / "real.npy")
    md = (out / "report.md").read_text()
    assert "| same |" in md and "lower is better" in md and "**" in md
    tex = (out / "report.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\textbf{" in tex
    html = (out / "report.html").read_text()
    pngs = [f for f in figs if f.endswith(".png")]
    assert sorted(figs) == sorted(f"{p[:-4]}.{x}" for p in pngs for x in ("pdf", "png", "svg"))
    assert html.count("data:image/png;base64,") == len(pngs) and "class='best'" in html
    assert rep["files"][:4] == ["report.json", "report.html", "report.md", "report.tex"]
    assert not [p for p in d.iterdir() if p.name.startswith(".out.")]


def test_cli_report_and_verify(small):
    d, _, _ = small
    r = run_cli("report", d / "spec.toml", "--out", d / "out", "-q")
    assert r.exit_code == 0, r.output
    assert "| shifted |" in r.output
    v = run_cli("report", "--verify", d / "out", "-q")
    assert v.exit_code == 0, v.output
    assert "reproduced" in v.output and "0 difference(s)" in v.output
    j = run_cli("report", "--verify", d / "out", "--json")
    assert json.loads(j.output.strip().splitlines()[-1])["ok"] is True


def test_verify_follows_a_report_moved_with_its_inputs(small_few, tmp_path_factory):
    """A report folder copied elsewhere together with its spec's inputs (a clone of a
    repository, an archive unpacked on another machine) still verifies: the spec's folder is
    also recorded relative to the report."""
    import shutil

    d, _, _ = small_few
    build_report(d / "spec.toml", d / "out")
    assert json.loads((d / "out" / "report.json").read_text())["spec_dir_from_report"] == ".."
    moved = tmp_path_factory.mktemp("elsewhere") / "project"
    shutil.copytree(d, moved)
    shutil.rmtree(d / "out")
    (d / "real.npy").unlink()  # the old place no longer has the inputs
    v = run_cli("report", "--verify", moved / "out", "-q")
    assert v.exit_code == 0, v.output
    assert "0 difference(s)" in v.output
    # a changed input at the new place is still caught
    np.save(moved / "fake.npy", np.load(moved / "fake.npy") + 1e-9)
    v = run_cli("report", "--verify", moved / "out", "-q")
    assert v.exit_code == 1 and "fingerprint changed" in v.output and str(moved) in v.output


def test_verify_names_an_edited_number(small_few):
    d, _, _ = small_few
    build_report(d / "spec.toml", d / "out")
    path = d / "out" / "report.json"
    data = json.loads(path.read_text())
    data["candidates"][1]["runs"][0]["results"]["prdc"]["recall"] += 0.125
    path.write_text(json.dumps(data))
    v = run_cli("report", "--verify", d / "out", "-q")
    assert v.exit_code == 1
    assert "candidate 'shifted' seed 0: prdc.recall recorded" in v.output
    assert v.output.count("recorded") == 1


def test_verify_reports_a_changed_input(small_few, rng):
    d, real, fake = small_few
    build_report(d / "spec.toml", d / "out")
    np.save(d / "fake.npy", fake + 1e-9)
    v = run_cli("report", "--verify", d / "out", "-q")
    assert v.exit_code == 1
    assert "candidate 'shifted': input" in v.output and "fingerprint changed" in v.output
    np.save(d / "real.npy", real + 1e-9)
    v = run_cli("report", "--verify", d / "out", "-q")
    assert v.exit_code == 1 and "real input" in v.output and "nothing recomputed" in v.output


def test_multi_seed_training_and_checkpoint(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text("""
[real]
input = "builtin:ring8/test"
[metrics]
fid = {}
modes = {}
ecdf = {}
[[candidates]]
name = "hinge"
train = {data = "ring8", loss = "hinge", steps = 4, batch_size = 16, hidden = [8], n_samples = 200, seeds = [0, 1]}
""")
    rep = build_report(spec, tmp_path / "out")
    cand = rep["candidates"][0]
    assert [r["seed"] for r in cand["runs"]] == [0, 1]
    s = cand["summary"]["fid.value"]
    vals = [r["results"]["fid"]["value"] for r in cand["runs"]]
    assert s["mean"] == pytest.approx(np.mean(vals)) and s["std"] == pytest.approx(np.std(vals, ddof=1))
    assert "modes.modes_covered" in cand["summary"]
    assert cand["runs"][0]["train"]["curves"], "training curves from metrics.jsonl"
    assert (tmp_path / "out" / "figures" / "curves_hinge.png").is_file()
    assert "±" in (tmp_path / "out" / "report.md").read_text()
    # the run's checkpoint as a candidate: generated with each seed
    ckpt = tmp_path / "out" / "runs" / "hinge-seed0" / "checkpoint.pt"
    spec2 = tmp_path / "s2.toml"
    spec2.write_text(f"""
[real]
input = "builtin:ring8/test"
[metrics]
fid = {{}}
[[candidates]]
name = "ckpt"
checkpoint = "{ckpt}"
num_samples = 300
seeds = [3, 4]
""")
    rep2 = build_report(spec2, tmp_path / "out2")
    runs = rep2["candidates"][0]["runs"]
    assert [r["n"] for r in runs] == [300, 300] and runs[0]["fingerprint"]["samples_sha256"]
    assert run_cli("report", "--verify", tmp_path / "out2", "-q").exit_code == 0


def test_generator_candidate(tmp_path):
    mod = tmp_path / "gen_mod_for_report.py"
    # the factory contract of ganeval.sources.generator: a callable fn(batch_size, generator)
    mod.write_text(
        "import torch\n\ndef make():\n"
        "    return lambda batch_size, generator: torch.rand(batch_size, 3, 8, 8, generator=generator) * 2 - 1\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        spec = tmp_path / "s.toml"
        spec.write_text(
            '[real]\ninput = "builtin:digits/test"\n[metrics]\nfid = {}\n'
            '[[candidates]]\ngenerator = "gen_mod_for_report:make"\nnum_samples = 64\n'
        )
        rep = build_report(spec, tmp_path / "out")
        assert rep["candidates"][0]["runs"][0]["n"] == 64
    finally:
        sys.path.remove(str(tmp_path))


# -- bad input: one line, exit 2, nothing half-written ---------------------------------------


def _no_leftovers(d):
    return not [p.name for p in d.iterdir() if p.name.startswith(".") and "partial" in p.name]


def test_bad_inputs_exit_2(small):
    d, _, _ = small
    r = run_cli("report", d / "missing.toml", "--out", d / "o")
    assert r.exit_code == 2 and "missing.toml: no such file" in r.output
    (d / "bad.toml").write_text("this is = = not toml")
    r = run_cli("report", d / "bad.toml", "--out", d / "o")
    assert r.exit_code == 2 and "not valid TOML" in r.output
    (d / "keys.toml").write_text(SPEC.format(extra="", extra_metrics="").replace("seed = 0", "seeed = 0"))
    r = run_cli("report", d / "keys.toml", "--out", d / "o")
    assert r.exit_code == 2 and "'seeed' (did you mean 'seed'?)" in r.output
    (d / "cand.toml").write_text(
        SPEC.format(extra='[[candidates]]\nname = "gone"\ninput = "gone.npy"', extra_metrics="")
    )
    r = run_cli("report", d / "cand.toml", "--out", d / "o")
    assert r.exit_code == 2 and "gone.npy: no such file" in r.output
    assert not (d / "o").exists() and _no_leftovers(d)
    assert len([ln for ln in r.output.splitlines() if ln.startswith("error:")]) == 1


def test_inapplicable_metric_skip_or_stop(small):
    d, _, fake = small
    from ganeval import FeatureStats

    FeatureStats.from_features(fake).save(d / "fake_stats.npz")
    extra = '[[candidates]]\nname = "moments"\ninput = "fake_stats.npz"'
    (d / "skip.toml").write_text(SPEC.format(extra=extra, extra_metrics=""))
    r = run_cli("report", d / "skip.toml", "--out", d / "o1", "-q")
    assert r.exit_code == 0
    assert "warning: kid skipped for 'moments'" in r.output and "holds only statistics" in r.output
    data = json.loads((d / "o1" / "report.json").read_text())
    assert {s["metric"] for s in data["skipped"]} == {"kid", "prdc", "mmd", "ecdf", "c2st", "wasserstein", "divergence"}
    assert "fid" in data["candidates"][2]["runs"][0]["results"]
    (d / "stop.toml").write_text('on_inapplicable = "error"\n' + SPEC.format(extra=extra, extra_metrics=""))
    r = run_cli("report", d / "stop.toml", "--out", d / "o2", "-q")
    assert r.exit_code == 2
    assert "metric kid does not apply to candidate 'moments'" in r.output and "holds only statistics" in r.output
    assert not (d / "o2").exists() and _no_leftovers(d)


def test_out_folder_rules(small_few):
    d, _, _ = small_few
    (d / "busy").mkdir()
    (d / "busy" / "thesis.tex").write_text("precious")
    r = run_cli("report", d / "spec.toml", "--out", d / "busy", "-q")
    assert r.exit_code == 2 and "no ganeval report wrote (thesis.tex)" in r.output and "--overwrite" in r.output
    assert (d / "busy" / "thesis.tex").read_text() == "precious"
    # a previous report is replaced; --overwrite writes beside the user's files, never over them
    assert run_cli("report", d / "spec.toml", "--out", d / "rep", "-q").exit_code == 0
    assert run_cli("report", d / "spec.toml", "--out", d / "rep", "-q").exit_code == 0
    assert run_cli("report", d / "spec.toml", "--out", d / "busy", "-q", "--overwrite").exit_code == 0
    assert (d / "busy" / "thesis.tex").read_text() == "precious" and (d / "busy" / "report.json").is_file()
    (d / "afile").write_text("x")
    r = run_cli("report", d / "spec.toml", "--out", d / "afile", "-q")
    assert r.exit_code == 2 and "is a file" in r.output


def test_verify_bad_folders(small_few):
    d, _, _ = small_few
    r = run_cli("report", "--verify", d)
    assert r.exit_code == 2 and "has no report.json" in r.output
    build_report(d / "spec.toml", d / "out")
    data = json.loads((d / "out" / "report.json").read_text())
    data["ganeval_version"] = "99.0.0"
    (d / "out" / "report.json").write_text(json.dumps(data))
    r = run_cli("report", "--verify", d / "out")
    assert r.exit_code == 2 and "written by a newer ganeval (99.0.0" in r.output


def test_usage_errors(small):
    d, _, _ = small
    assert run_cli("report", d / "spec.toml").exit_code == 2
    r = run_cli("report", d / "spec.toml", "--suite", "sanity", "--out", d / "x")
    assert r.exit_code == 2 and "exactly one of SPEC" in r.output
    r = run_cli("report", d / "spec.toml", "--out", d / "x", "--steps", "3")
    assert r.exit_code == 2 and "--suite reference only" in r.output


def test_interrupt_leaves_no_half_written_report(small_few, monkeypatch):
    d, _, _ = small_few
    build_report(d / "spec.toml", d / "out")
    before = (d / "out" / "report.json").read_bytes()
    calls = []

    def boom(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_compute(*a, **k)

    real_compute = engine_mod.compute_metric
    monkeypatch.setattr(engine_mod, "compute_metric", boom)
    with pytest.raises(KeyboardInterrupt):
        build_report(d / "spec.toml", d / "out")
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        build_report(d / "spec.toml", d / "new")
    assert (d / "out" / "report.json").read_bytes() == before
    assert not (d / "new").exists() and _no_leftovers(d)


def test_disturbed_candidate_needs_digits(small):
    d, _, _ = small
    (d / "dist.toml").write_text(
        SPEC.format(
            extra='[[candidates]]\nname = "n"\ninput = "fake.npy"\ndisturb = {kind = "swirl", level = 2}',
            extra_metrics="",
        )
    )
    with pytest.raises(InputError, match="disturb applies to builtin:digits"):
        build_report(d / "dist.toml", d / "o")
