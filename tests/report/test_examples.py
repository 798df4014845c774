"""examples/: the specs a newcomer runs as they are."""

from pathlib import Path

import pytest

from ganeval.report.spec import load_spec

from .conftest import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_digits_example_parses():
    spec = load_spec(EXAMPLES / "digits.toml")
    kinds = [c.kind for c in spec.candidates]
    assert kinds.count("input") >= 2 and "train" in kinds
    assert any(c.disturb for c in spec.candidates)


@pytest.mark.slow
def test_digits_example_report_and_verify(tmp_path):
    r = run_cli("report", EXAMPLES / "digits.toml", "--out", tmp_path / "r", "-q")
    assert r.exit_code == 0, r.output
    for name in ("report.json", "report.html", "report.md", "report.tex"):
        assert (tmp_path / "r" / name).is_file()
    assert len(list((tmp_path / "r" / "figures").glob("*.png"))) >= 8
    v = run_cli("report", "--verify", tmp_path / "r", "-q")
    assert v.exit_code == 0, v.output
