"""Issue 17, classes 1 and 2: a report never destroys what is not its own, and ``--verify``
proves a report or fails.

- data loss: ``--out`` that is, contains or lies inside the spec's folder or an input; a
  copied report.json beside a user's files; ``--overwrite``; a symlinked ``--out``; ``--out .``;
  the check comes before any metric runs;
- a corpus of tampered report.json files (and written tables) that ``--verify`` must reject:
  exit 1 with the difference named, or exit 2 with one line when malformed;
- hostile specs: one line, exit 2, or a report whose files escape the names.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from ganeval.report import build_report, verify_report
from ganeval.report import engine as engine_mod
from ganeval.report.files import MANIFEST

from .conftest import run_cli

SPEC = """
seed = 0
[real]
input = "{real}"
[metrics]
fid = {{}}
prdc = {{k = 3}}
kid = {{subsets = 3, subset_size = 20}}
[[candidates]]
name = "same"
input = "{real}"
[[candidates]]
name = "shifted"
input = "{fake}"
"""


def _tree(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def _one_error(r) -> str:
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2, r.output
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


@pytest.fixture
def project(tmp_path, rng):
    """project/spec.toml reading project/data/{real,fake}.npy."""
    d = tmp_path / "project"
    (d / "data").mkdir(parents=True)
    np.save(d / "data" / "real.npy", rng.normal(size=(60, 2)))
    np.save(d / "data" / "fake.npy", rng.normal(size=(50, 2)) + 0.5)
    (d / "spec.toml").write_text(SPEC.format(real="data/real.npy", fake="data/fake.npy"))
    return d


# -- class 1: never destroy what is not ours --------------------------------------------------


def test_out_that_is_contains_or_lies_inside_the_spec_folder_or_an_input_is_refused_up_front(project, monkeypatch):
    called = []
    monkeypatch.setattr(engine_mod, "compute_metric", lambda *a, **k: called.append(1))
    before = _tree(project.parent)
    cases = {
        "the spec's folder": project,
        "a folder holding the spec's folder": project.parent,
        "the inputs' folder": project / "data",
        "an input file": project / "data" / "real.npy",
    }
    for label, out in cases.items():
        for extra in ([], ["--overwrite"]):
            line = _one_error(run_cli("report", project / "spec.toml", "--out", out, "-q", *extra))
            assert "--out" in line and ("is the" in line or "contains" in line or "is a file" in line), (label, line)
    # a folder inside an input folder: the next run would read the report's figures as images
    imgs = project / "imgs"
    imgs.mkdir()
    from PIL import Image

    for i in range(4):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(imgs / f"{i}.png")
    (project / "img.toml").write_text(
        '[real]\ninput = "imgs"\n[metrics]\nfid = {}\n[[candidates]]\ninput = "builtin:digits/test"\n'
    )
    before = _tree(project.parent)
    line = _one_error(run_cli("report", project / "img.toml", "--out", imgs / "report", "-q"))
    assert "lies inside the real input" in line
    assert _tree(project.parent) == before and not called


def test_dot_out_fails_up_front_in_the_spec_folder_and_works_in_an_empty_one(project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    before = _tree(project)
    line = _one_error(run_cli("report", "spec.toml", "--out", ".", "-q"))
    assert "is the spec's folder" in line
    assert _one_error(run_cli("report", "spec.toml", "--out", "", "-q")).startswith("error: --out: empty path")
    assert _tree(project) == before
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    r = run_cli("report", project / "spec.toml", "--out", ".", "-q")
    assert r.exit_code == 0, r.output
    assert (empty / "report.json").is_file() and (empty / MANIFEST).is_file()
    assert not [p for p in empty.iterdir() if "partial" in p.name]


def test_copied_report_json_beside_a_users_files_is_never_replaced(project, tmp_path):
    build_report(project / "spec.toml", tmp_path / "r1")
    thesis = tmp_path / "thesis"
    (thesis / "data").mkdir(parents=True)
    (thesis / "thesis.tex").write_text("\\chapter{precious}")
    (thesis / "data" / "x.csv").write_text("1,2\n")
    shutil.copy(tmp_path / "r1" / "report.json", thesis / "report.json")  # a copy, without our manifest
    before = _tree(thesis)
    line = _one_error(run_cli("report", project / "spec.toml", "--out", thesis, "-q"))
    assert "no ganeval report wrote" in line and "--overwrite" in line
    line = _one_error(run_cli("report", project / "spec.toml", "--out", thesis, "-q", "--overwrite"))
    assert "holds report.json, which no ganeval report wrote" in line
    assert _tree(thesis) == before
    # without the copied report.json, --overwrite writes beside the user's files
    (thesis / "report.json").unlink()
    assert run_cli("report", project / "spec.toml", "--out", thesis, "-q", "--overwrite").exit_code == 0
    assert (thesis / "thesis.tex").read_text() == "\\chapter{precious}" and (thesis / "data" / "x.csv").is_file()
    manifest = json.loads((thesis / MANIFEST).read_text())["files"]
    assert "report.json" in manifest and "thesis.tex" not in manifest and "data/x.csv" not in manifest
    # a rerun replaces only the report's own files
    assert run_cli("report", project / "spec.toml", "--out", thesis, "-q").exit_code == 0
    assert (thesis / "thesis.tex").read_text() == "\\chapter{precious}"


def test_rerun_replaces_only_the_reports_files_and_drops_its_stale_ones(project, tmp_path):
    out = tmp_path / "out"
    build_report(project / "spec.toml", out)
    (out / "notes.md").write_text("my notes")  # the user's, beside the report
    (out / "figures" / "mine.png").write_bytes(b"not ours")
    assert (out / "figures" / "metric_kid.png").is_file()
    (project / "spec.toml").write_text(
        SPEC.format(real="data/real.npy", fake="data/fake.npy").replace("kid = {subsets = 3, subset_size = 20}\n", "")
    )
    build_report(project / "spec.toml", out)
    assert not (out / "figures" / "metric_kid.png").exists()  # the previous report's, no longer written
    assert (out / "notes.md").read_text() == "my notes" and (out / "figures" / "mine.png").read_bytes() == b"not ours"
    assert run_cli("report", "--verify", out, "-q").exit_code == 0


def test_symlinked_out_is_written_through(project, tmp_path):
    target = tmp_path / "real_target"
    link = tmp_path / "link"
    os.symlink(target, link)  # dangling: the target is created
    for _ in range(2):  # new, then a previous report
        r = run_cli("report", project / "spec.toml", "--out", link, "-q")
        assert r.exit_code == 0, r.output
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert (target / "report.json").is_file()
    assert run_cli("report", "--verify", link, "-q").exit_code == 0


# -- class 2: --verify proves or fails ---------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("verify") / "project"
    (d / "data").mkdir(parents=True)
    np.save(d / "data" / "real.npy", rng.normal(size=(60, 2)))
    np.save(d / "data" / "fake.npy", rng.normal(size=(50, 2)) + 0.5)
    (d / "spec.toml").write_text(SPEC.format(real="data/real.npy", fake="data/fake.npy"))
    build_report(d / "spec.toml", d / "out")
    assert verify_report(d / "out").ok
    return d / "out"


def _tampered(built: Path, tmp_path: Path, edit) -> Path:
    out = built.parent / f"copy-{tmp_path.name}"  # beside the original: its inputs are found the same way
    shutil.copytree(built, out)
    data = json.loads((out / "report.json").read_text())
    new = edit(copy.deepcopy(data), out)
    if new is not None:
        (out / "report.json").write_text(new if isinstance(new, str) else json.dumps(new))
    return out


def _rename(r, _):
    r["candidates"][1]["name"] = "my GAN"  # forged: renamed, numbers kept
    return r


def _forge_numbers(r, _):
    assert r["candidates"][1]["runs"][0]["results"]["fid"]["value"] > 0.01
    r["candidates"][1]["runs"][0]["results"]["fid"]["value"] = 0.0
    r["candidates"][1]["summary"]["fid.value"]["mean"] = 0.0
    return r


def _file_edit(name, old, new):
    def edit(r, out):
        text = (out / name).read_text()
        assert old in text
        (out / name).write_text(text.replace(old, new, 1))
        return None

    return edit


#: tampering -> text the difference must contain (exit 1)
DIFFERENT = {
    "candidate renamed, numbers kept": (_rename, "'my GAN': in the report, but its spec gives no such candidate"),
    "candidates emptied": (lambda r, _: {**r, "candidates": []}, "candidate 'same': missing from the report"),
    "a candidate dropped": (lambda r, _: {**r, "candidates": r["candidates"][:1]}, "'shifted': missing"),
    "numbers forged consistently": (_forge_numbers, "fid.value recorded 0.0"),
    "a metric deleted": (
        lambda r, _: (r["candidates"][1]["runs"][0]["results"].pop("kid"), r)[1],
        "kid is missing from the report",
    ),
    "a key deleted": (
        lambda r, _: (r["candidates"][1]["runs"][0]["results"]["prdc"].pop("recall"), r)[1],
        "prdc: recall is missing from the report",
    ),
    "an extra key": (
        lambda r, _: (r["candidates"][1]["runs"][0]["results"]["fid"].update(bonus=1.0), r)[1],
        "bonus is in the report but not recomputed",
    ),
    "an extra metric": (
        lambda r, _: (r["candidates"][1]["runs"][0]["results"].update(mmd={"value": 0.1}), r)[1],
        "mmd is in the report but not recomputed",
    ),
    "an extra seed": (
        lambda r, _: (r["candidates"][1]["runs"].append({**r["candidates"][1]["runs"][0], "seed": 9}), r)[1],
        "seed 9: in the report, but its spec gives no such seed",
    ),
    "best marker moved": (
        lambda r, _: ([c for c in r["columns"] if c["id"] == "fid.value"][0].update(best=["shifted"]), r)[1],
        "column 'fid.value': best[0] recorded 'shifted'",
    ),
    "columns emptied": (lambda r, _: {**r, "columns": []}, "column 'fid.value': missing from the report"),
    "size n edited": (lambda r, _: (r["candidates"][1]["runs"][0].update(n=403), r)[1], "n recorded 403"),
    "real n edited": (lambda r, _: (r["real"].update(n=400), r)[1], "report.real.n recorded 400"),
    "summary std edited": (
        lambda r, _: (r["candidates"][1]["summary"]["prdc.recall"].update(n=5), r)[1],
        "summary.prdc.recall.n recorded 5",
    ),
    "skipped forged": (
        lambda r, _: {**r, "skipped": [{"candidate": "same", "metric": "is", "reason": "x"}]},
        "report.skipped",
    ),
    "spec table edited": (lambda r, _: (r["spec"].update(seed=3), r)[1], "report.spec.seed recorded 3"),
    "figure dropped from the list": (lambda r, _: {**r, "figures": r["figures"][1:]}, "report.figures"),
    "report.md table edited": (
        _file_edit("report.md", "| shifted |", "| shifted (best) |"),
        "report.md: its table is not the one report.json gives",
    ),
    "report.tex table edited": (
        _file_edit("report.tex", "shifted &", "winner &"),
        "report.tex: its table is not the one report.json gives",
    ),
    "report.html table edited": (
        _file_edit("report.html", "<td>shifted</td>", "<td>winner</td>"),
        "report.html: its table is not the one report.json gives",
    ),
    "report.md deleted": (lambda r, out: (out / "report.md").unlink(), "report.md: missing"),
}

#: tampering -> text of the one error line (exit 2: malformed, refused before anything runs)
MALFORMED = {
    "not JSON": (lambda r, _: "{not json", "cannot be read as JSON"),
    "not a table": (lambda r, _: "[1, 2]", "not a ganeval report"),
    "candidates not a list": (lambda r, _: {**r, "candidates": {"a": 1}}, "candidates: expected a list"),
    "a run without results": (
        lambda r, _: (r["candidates"][0]["runs"][0].pop("results"), r)[1],
        "has no key 'results'",
    ),
    "seed 1e20": (lambda r, _: (r["candidates"][0]["runs"][0].update(seed=10**20), r)[1], "expected a seed"),
    "n as text": (lambda r, _: (r["real"].update(n="400"), r)[1], "real.n: expected an integer"),
    "NaN mean": (
        lambda r, _: (r["candidates"][0]["summary"]["fid.value"].update(mean=float("nan")), r)[1],
        "expected a finite number",
    ),
    "figure path leaving the report": (
        lambda r, _: {**r, "figures": ["../../etc/passwd"]},
        "expected a path inside the report folder",
    ),
    "absolute figure path": (lambda r, _: {**r, "figures": ["/etc/passwd"]}, "a path inside the report folder"),
    "better is junk": (lambda r, _: (r["columns"][0].update(better="up"), r)[1], "expected one of"),
    "format_version as text": (lambda r, _: {**r, "format_version": "1"}, "format_version must be an integer"),
    "generator factory sys:exit": (
        lambda r, _: {
            **r,
            "spec_text": r["spec_text"].replace('input = "data/fake.npy"', 'generator = "sys:exit"\nnum_samples = 10'),
        },
        "imports module 'sys' and calls exit(); pass --allow-code",
    ),
}


@pytest.mark.parametrize("kind", sorted(DIFFERENT))
def test_verify_rejects_a_tampered_report(built, tmp_path, kind):
    edit, expected = DIFFERENT[kind]
    out = _tampered(built, tmp_path, edit)
    r = run_cli("report", "--verify", out, "-q")
    assert r.exit_code == 1, (kind, r.output)
    assert expected in r.output, (kind, r.output)
    assert "NOT reproduced" in r.output


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_verify_refuses_a_malformed_report_in_one_line(built, tmp_path, kind):
    edit, expected = MALFORMED[kind]
    out = _tampered(built, tmp_path, edit)
    line = _one_error(run_cli("report", "--verify", out, "-q"))
    assert expected in line, (kind, line)


def test_verify_runs_a_reports_code_only_when_allowed(built, tmp_path, monkeypatch):
    out = _tampered(built, tmp_path, MALFORMED["generator factory sys:exit"][0])
    line = _one_error(run_cli("report", "--verify", out, "-q", "--allow-code"))
    assert line.startswith("error: generator 'sys:exit'") and "sys.exit" in line


def test_verify_tolerance_must_be_finite(built):
    for value in ("nan", "inf"):
        line = _one_error(run_cli("report", "--verify", built, "--rtol", value))
        assert "--rtol" in line
    assert "--verify only" in _one_error(run_cli("report", "x.toml", "--out", "o", "--rtol", "0.1"))


def test_verify_reference_suite_index_lists_only_its_own_reports(built, tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    index = {
        "format": "ganeval-report",
        "format_version": 1,
        "ganeval_version": "0.1.0",
        "suite": "reference",
        "title": "ganeval reference benchmark",
        "spec_text": None,
        "reports": ["ring8"],
        "steps": {"ring8": 5},
        "seeds": [0],
        "wall_s": {"ring8": 1.0},
    }

    def verify_with(**change):
        (suite / "report.json").write_text(json.dumps({**index, **change}))
        return run_cli("report", "--verify", suite, "-q")

    assert "expected a non-empty list" in _one_error(verify_with(reports=[], steps={}))
    assert "a path inside the report folder" in _one_error(verify_with(reports=["../out"], steps={"../out": 5}))
    assert "distinct data sets of the reference suite" in _one_error(verify_with(reports=["mine"], steps={"mine": 5}))
    shutil.copytree(built, suite / "ring8")  # a user's report posing as the suite's
    r = verify_with()
    assert r.exit_code == 1 and "ring8: not the reference suite's report" in r.output


@pytest.mark.slow
def test_verify_rejects_a_tampered_sanity_suite(tmp_path):
    from ganeval.report import run_sanity_suite

    run_sanity_suite(tmp_path / "s", disturbances=("gaussian_noise",))
    assert verify_report(tmp_path / "s").ok
    edits = {
        "table emptied": (lambda r: {**r, "table": {}}, "table"),
        "a verdict flipped": (
            lambda r: (r["results"][0].update(verdict="pass" if r["results"][0]["verdict"] != "pass" else "fail"), r)[
                1
            ],
            "verdict",
        ),
        "sizes edited": (lambda r: (r["sizes"]["gaussian_noise"].__setitem__(0, 403), r)[1], "sizes"),
    }
    for kind, (edit, expected) in edits.items():
        out = tmp_path / kind.replace(" ", "_")
        shutil.copytree(tmp_path / "s", out)
        data = json.loads((out / "report.json").read_text())
        (out / "report.json").write_text(json.dumps(edit(data)))
        res = verify_report(out)
        assert not res.ok and any(expected in line for line in res.lines), (kind, res.lines)
    out = tmp_path / "no_disturbances"
    shutil.copytree(tmp_path / "s", out)
    data = json.loads((out / "report.json").read_text())
    (out / "report.json").write_text(json.dumps({**data, "disturbances": [], "table": {}, "results": []}))
    assert "expected a non-empty list" in _one_error(run_cli("report", "--verify", out, "-q"))


# -- hostile specs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,expected",
    [
        ("seed = -1", "seed: expected an integer >= 0"),
        ("seed = 100000000000000000000", "seed: expected an integer in 0..4294967295"),
        ('cache = "false"', "cache must be true or false"),
        ("title = 3", "title must be a string"),
    ],
)
def test_hostile_spec_top_level_values(project, tmp_path, line, expected):
    (project / "h.toml").write_text(line + "\n" + (project / "spec.toml").read_text().replace("seed = 0\n", ""))
    assert expected in _one_error(run_cli("report", project / "h.toml", "--out", tmp_path / "o", "-q"))
    assert not (tmp_path / "o").exists()


def test_hostile_spec_seeds_and_generators(project, tmp_path):
    base = (project / "spec.toml").read_text()
    (project / "h.toml").write_text(base + "seeds = [100000000000000000000]\n")
    assert "seeds: expected an integer in 0..4294967295" in _one_error(
        run_cli("report", project / "h.toml", "--out", tmp_path / "o", "-q")
    )
    (project / "g.toml").write_text(base.replace('input = "data/fake.npy"', 'generator = "sys:exit"\nnum_samples = 10'))
    line = _one_error(run_cli("report", project / "g.toml", "--out", tmp_path / "o", "-q"))
    assert line.startswith("error: generator 'sys:exit'") and not (tmp_path / "o").exists()
    assert "--seeds must be" in _one_error(
        run_cli("report", "--suite", "reference", "--out", tmp_path / "o", "--seeds", "100000000000000000000")
    )


def test_hostile_names_are_escaped_in_every_format(project, tmp_path):
    hostile = "a$\\\\^$b | <script>x</script> *c* & \\\\textbf{d} % e"
    spec = (project / "spec.toml").read_text().replace('name = "shifted"', f'name = "{hostile}"')
    spec = spec.replace("seed = 0", 'seed = 0\ntitle = "T|t\\n# injected\\n<b>"')
    (project / "n.toml").write_text(spec)
    r = run_cli("report", project / "n.toml", "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    name = json.loads((tmp_path / "o" / "report.json").read_text())["candidates"][1]["name"]
    md = (tmp_path / "o" / "report.md").read_text()
    row = [ln for ln in md.splitlines() if ln.startswith("| a")][0]
    assert row.count(" | ") == md.splitlines()[4].count(" | ")  # the name adds no column
    assert "<script>" not in md and "\n# injected" not in md and "&lt;script&gt;" in md
    tex = (tmp_path / "o" / "report.tex").read_text()
    assert "\\textbf{d}" not in tex.replace("\\textbackslash{}textbf", "") and "\\$" in tex
    assert tex.splitlines()[0].startswith("% ganeval report:") and not tex.splitlines()[1].startswith("# injected")
    html = (tmp_path / "o" / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert name == "a$\\^$b | <script>x</script> *c* & \\textbf{d} % e"
    assert run_cli("report", "--verify", tmp_path / "o", "-q").exit_code == 0
