"""The reference benchmark suite (a tiny version: 2 steps, one seed, ring8)."""

import json

import pytest

from ganeval.errors import ParameterError
from ganeval.report.spec import parse_spec
from ganeval.report.suites import DEFAULT_STEPS, reference_suite_specs

from .conftest import run_cli


def test_suite_specs_cover_every_loss():
    from ganeval.reference.losses import LOSSES

    texts = reference_suite_specs(seeds=[0, 1, 2])
    assert set(texts) == {"ring8", "grid25", "digits"}
    for d, text in texts.items():
        spec = parse_spec(text)
        losses = [c.value["loss"] for c in spec.candidates]
        assert set(LOSSES) <= set(losses) and any(c.value.get("smirnov") for c in spec.candidates)
        assert all(c.seeds == [0, 1, 2] and c.value["steps"] == DEFAULT_STEPS[d] for c in spec.candidates)
    assert "modes" in parse_spec(texts["ring8"]).metrics and "is" in parse_spec(texts["digits"]).metrics
    # a linear C2ST is blind to the mixtures' modes: k-NN there
    assert parse_spec(texts["grid25"]).metrics["c2st"].get("classifier") == "knn"
    with pytest.raises(ParameterError, match="must be among"):
        reference_suite_specs(data=["mnist"])


@pytest.mark.slow
def test_quick_reference_suite_runs_and_verifies(tmp_path):
    r = run_cli(
        "report",
        "--suite",
        "reference",
        "--steps",
        "2",
        "--seeds",
        "0",
        "--data",
        "ring8",
        "--out",
        tmp_path / "ref",
        "-q",
    )
    assert r.exit_code == 0, r.output
    index = json.loads((tmp_path / "ref" / "report.json").read_text())
    assert index["suite"] == "reference" and index["reports"] == ["ring8"]
    sub = json.loads((tmp_path / "ref" / "ring8" / "report.json").read_text())
    assert len(sub["candidates"]) == 7 and "modes.modes_covered" in sub["candidates"][0]["summary"]
    assert (tmp_path / "ref" / "ring8" / "figures" / "curves_wgan-gp.png").is_file()
    v = run_cli("report", "--verify", tmp_path / "ref", "-q")
    assert v.exit_code == 0, v.output
