"""examples/: the specs a newcomer runs as they are, shipped inside the package too."""

from pathlib import Path

import pytest

from ganeval.report.spec import load_spec
from ganeval.report.suites import EXAMPLES, example_spec

from .conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"


def test_digits_example_parses():
    spec = load_spec(EXAMPLES_DIR / "digits.toml")
    kinds = [c.kind for c in spec.candidates]
    assert kinds.count("input") >= 2 and "train" in kinds
    assert any(c.disturb for c in spec.candidates)


@pytest.mark.parametrize("name", EXAMPLES)
def test_packaged_examples_are_the_repository_ones(name):
    assert example_spec(name).read_bytes() == (EXAMPLES_DIR / f"{name}.toml").read_bytes()


def test_unknown_suite_is_a_usage_error(tmp_path):
    r = run_cli("report", "--suite", "nope", "--out", tmp_path / "r")
    assert r.exit_code == 2 and "nope" in r.output


@pytest.mark.slow
def test_digits_example_report_and_verify(tmp_path):
    r = run_cli("report", "--suite", "digits", "--out", tmp_path / "r", "-q")
    assert r.exit_code == 0, r.output
    for name in ("report.json", "report.html", "report.md", "report.tex"):
        assert (tmp_path / "r" / name).is_file()
    figs = tmp_path / "r" / "figures"
    assert len(list(figs.glob("*.png"))) >= 8
    stems = [{p.stem for p in figs.glob(f"*.{ext}")} for ext in ("png", "pdf", "svg")]
    assert stems[0] == stems[1] == stems[2]
    # docs/report.md shows this run's leaderboard (docs/make_report_png.py): the rows of the fixed
    # inputs must match (the GAN row depends on the CPU's kernels)
    md = (tmp_path / "r" / "report.md").read_text()
    docs = (ROOT / "docs" / "report.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| test")]
    assert len(rows) == 3 and all(row in docs for row in rows), rows
    v = run_cli("report", "--verify", tmp_path / "r", "-q")
    assert v.exit_code == 0, v.output
