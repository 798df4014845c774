"""The ViT extractors are an optional extra: without timm, asking for them says what to install,
and everything else works (runs with or without timm installed: its absence is simulated)."""

from __future__ import annotations

import sys

import pytest

from ganeval.errors import ParameterError
from ganeval.features import extract_features, get_extractor
from ganeval.features.vit import CLIPExtractor, DINOv2Extractor


def test_without_the_extra_the_error_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)  # `import timm` now raises ImportError
    with pytest.raises(
        ParameterError,
        match=r"'dinov2:vitl14' needs the optional package timm: "
        r'pip install "ganeval\[extractors\]"',
    ):
        get_extractor("dinov2")
    with pytest.raises(ParameterError, match="timm"):
        get_extractor("clip:vit-b-32")
    with pytest.raises(ParameterError, match=r"ganeval\[extractors\]"):  # building the network says it too
        DINOv2Extractor("vits14", state_dict={}).network()
    # names, preprocessing and everything else still work
    assert CLIPExtractor(state_dict={}).name == "clip:vit-l-14-336"
    assert get_extractor("inception").name == "inception"
    out = extract_features("builtin:digits/test", cache=False, num_workers=0)
    assert out.features.shape == (898, 64)


def test_cli_without_the_extra(monkeypatch, capsys):
    from ganeval_cli.main import main

    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(SystemExit) as ex:
        main(["fid", "builtin:digits/train", "builtin:digits/test", "--extractor", "dinov2", "--no-cache"])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "ganeval[extractors]"' in err[0]
    with pytest.raises(SystemExit) as ex:
        main(["fid", "builtin:digits/train", "builtin:digits/test", "--no-cache"])
    assert ex.value.code == 0
