"""`ganeval extractors` lists every extractor with where to get its weights (URL, sha256);
`ganeval --help` summaries are whole sentences; --extractor help is short."""

import json

from click.testing import CliRunner
from ganeval_cli.extractors_cmd import extractors
from ganeval_cli.main import cli

from ganeval.features import extractor_names
from ganeval.features.weights import FID_WEIGHTS_SHA256, FID_WEIGHTS_URL


def test_lists_every_extractor_with_weights():
    r = CliRunner().invoke(extractors, [])
    assert r.exit_code == 0, r.output
    for name in extractor_names():
        assert any(line.startswith(name) for line in r.output.splitlines()), name
    assert FID_WEIGHTS_URL in r.output and FID_WEIGHTS_SHA256 in r.output
    assert "ViT-L-14-336px.pt" in r.output and "dinov2_vitl14_pretrain.pth" in r.output
    data = json.loads(CliRunner().invoke(extractors, ["--json"]).output)
    assert sorted(e["name"] for e in data) == extractor_names()
    inception = next(e for e in data if e["name"] == "inception")
    assert inception["weights"][0] == {
        "arch": None,
        "url": FID_WEIGHTS_URL,
        "sha256": FID_WEIGHTS_SHA256,
        "also": ["torch hub cache: pt_inception-2015-12-05-6726825d.pth"],
    }
    clip = next(e for e in data if e["name"] == "clip")
    assert all(w["sha256"] in w["url"] for w in clip["weights"])  # OpenAI's URL names the file's sha256


def test_help_summaries_are_whole_and_extractor_help_short():
    out = CliRunner().invoke(cli, ["--help"]).output
    commands = out.split("Commands:")[1]
    assert "..." not in commands
    for name, cmd in cli.commands.items():
        assert cmd.short_help and cmd.short_help.endswith((".", "?")), name
    fid_help = CliRunner().invoke(cli, ["fid", "--help"]).output
    assert "ganeval extractors" in fid_help and "GANEVAL_DINOV2_WEIGHTS" not in fid_help
