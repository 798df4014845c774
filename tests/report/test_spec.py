"""Report specs: what is accepted, and one clear error naming each problem."""

import pytest

from ganeval.errors import InputError
from ganeval.report.spec import load_spec, parse_spec

BASE = '[real]\ninput = "r.npy"\n[metrics]\nfid = {}\n'


def test_minimal_spec_defaults():
    s = parse_spec(BASE + '[[candidates]]\ninput = "f.npy"\n', base="/data")
    c = s.candidates[0]
    assert (c.name, c.kind, c.seeds) == ("f.npy", "input", [0])
    assert s.threads == 1 and s.on_inapplicable == "skip" and s.resolve("f.npy") == "/data/f.npy"
    assert s.resolve("builtin:digits/test") == "builtin:digits/test"


def test_train_candidate_seeds():
    s = parse_spec(BASE + '[[candidates]]\ntrain = {data = "ring8", loss = "hinge", steps = 5, seeds = [0, 2]}\n')
    assert s.candidates[0].kind == "train" and s.candidates[0].seeds == [0, 2]
    assert s.candidates[0].name == "ring8/hinge"


@pytest.mark.parametrize(
    "text, needle",
    [
        (
            '[real]\ninput = "r.npy"\n[metrics]\nfid = {}\n[[candidates]]\ninput = "f"\nnum_sample = 3\n',
            "unknown key 'num_sample' (did you mean 'num_samples'?)",
        ),
        ('[real]\ninput = "r"\n[metrics]\nfidd = {}\n[[candidates]]\ninput = "f"\n', "'fidd' (did you mean 'fid'?)"),
        ('titel = "x"\n' + BASE + '[[candidates]]\ninput = "f"\n', "'titel' (did you mean 'title'?)"),
        (
            BASE + '[[candidates]]\ntrain = {data = "ring8", loss = "hinge", stepz = 3}\n',
            "'stepz' (did you mean 'steps'?)",
        ),
        ("[real\n", "not valid TOML"),
        ("[metrics]\nfid = {}\n", "needs a [real] table"),
        ('[real]\ninput = "r"\n[[candidates]]\ninput = "f"\n', "needs a [metrics] table"),
        (BASE, "at least one [[candidates]]"),
        (BASE + '[[candidates]]\ninput = "f"\ncheckpoint = "c.pt"\n', "exactly one of input, checkpoint"),
        (BASE + '[[candidates]]\ncheckpoint = "c.pt"\n', "checkpoint needs num_samples"),
        (BASE + '[[candidates]]\ninput = "f"\n[[candidates]]\ninput = "f"\n', "candidate names repeat: f"),
        (BASE + '[[candidates]]\ninput = "f"\ndisturb = {kind = "noise"}\n', "kind must be one of"),
        (BASE + '[[candidates]]\ninput = "f"\nseeds = [1, 1]\n', "seeds repeat"),
        ('on_inapplicable = "warn"\n' + BASE + '[[candidates]]\ninput = "f"\n', "on_inapplicable must be"),
        ("version = 2\n" + BASE + '[[candidates]]\ninput = "f"\n', "spec version 2 is not supported"),
    ],
)
def test_bad_specs_name_the_problem(text, needle):
    with pytest.raises(InputError) as err:
        parse_spec(text, name="s.toml")
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_folder_spec(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="is a folder"):
        load_spec(tmp_path)
