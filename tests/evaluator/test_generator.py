"""Generators as inputs: open_generator for modules, callables, factories and reference
checkpoints; seeding and sharding; evaluate(..., num_samples=); the eval CLI; bad input."""

import json
import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
from ganeval import InputError, ParameterError
from ganeval.generators import open_generator
from ganeval.sources.generator import GeneratedImageSource, batch_seed


class TinyG(torch.nn.Module):
    """z (latent_dim) -> 8x8 gray images in [-1, 1]."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 64)
        with torch.no_grad():
            self.lin.weight.copy_(torch.linspace(-1, 1, 256).reshape(64, 4))
            self.lin.bias.zero_()

    def forward(self, z):
        return torch.tanh(self.lin(z)).reshape(-1, 1, 8, 8)


def _all(src):
    return torch.cat([torch.as_tensor(b) for b in src.iter_batches(src.batch_size)])


def test_module_is_seeded_per_batch_and_shards_reproduce():
    g = TinyG()
    a = open_generator(g, num_samples=23, seed=5, batch_size=10)
    b = open_generator(g, num_samples=23, seed=5, batch_size=10)
    c = open_generator(g, num_samples=23, seed=6, batch_size=10)
    assert isinstance(a, GeneratedImageSource) and a.kind == "images" and len(a) == 23
    xa = _all(a)
    assert xa.shape == (23, 3, 8, 8) and xa.dtype == torch.uint8
    assert torch.equal(xa, _all(b)) and not torch.equal(xa, _all(c))
    # batch 1 made alone (as another rank would) equals batch 1 of the full stream
    only = list(a.iter_batches(10, only={1}))
    assert len(only) == 1 and torch.equal(only[0], xa[10:20])
    # batch b draws z from a generator seeded with batch_seed(seed, b)
    gen = torch.Generator().manual_seed(batch_seed(5, 2))
    z = torch.randn(3, 4, generator=gen)
    want = torch.round((torch.tanh(g.lin(z)).double() + 1) / 2 * 255).to(torch.uint8)
    assert torch.equal(xa[20:, 0], want.reshape(3, 8, 8))
    assert not g.training  # eval mode


def test_callable_rows_make_a_feature_source():
    def rows(batch_size, generator):
        return torch.randn(batch_size, 3, generator=generator, dtype=torch.float64)

    src = open_generator(rows, num_samples=25, seed=1, batch_size=10)
    assert src.kind == "features" and src.array.shape == (25, 3)
    r = ganeval.evaluate(
        np.random.default_rng(0).normal(size=(40, 3)), rows, ["fid"], num_samples=25, generator_seed=1, batch_size=10
    )
    assert r["fid"].n_fake == 25
    assert r["fid"].value == pytest.approx(
        ganeval.evaluate(np.random.default_rng(0).normal(size=(40, 3)), src.array, ["fid"])["fid"].value
    )


def test_evaluate_with_a_generator_equals_its_samples():
    g = TinyG()
    from ganeval.features.digits import digits_images

    real = digits_images("test")[:120]
    opts = dict(extractor="digits", cache=False, device="cpu", num_workers=0, batch_size=20)
    got = ganeval.evaluate(
        real,
        g,
        ["fid", "kid"],
        num_samples=60,
        generator_seed=2,
        options={"kid": {"subsets": 5, "subset_size": 50}},
        **opts,
    )
    images = _all(open_generator(g, num_samples=60, seed=2, batch_size=20)).numpy()
    want = ganeval.evaluate(real, images, ["fid", "kid"], options={"kid": {"subsets": 5, "subset_size": 50}}, **opts)
    assert got["fid"].value == want["fid"].value and got["kid"].values == want["kid"].values
    # the Evaluator takes the same batches
    ev = ganeval.Evaluator(("fid",), extractor="digits", device="cpu", real=real)
    for batch in open_generator(g, num_samples=60, seed=2, batch_size=20).iter_batches(20):
        ev.update(batch)
    assert ev.compute()["fid"].value == pytest.approx(want["fid"].value, rel=1e-9)


@pytest.fixture
def factory_module(tmp_path, monkeypatch):
    (tmp_path / "my_gens.py").write_text(
        textwrap.dedent("""
        import sys

        import torch

        class G(torch.nn.Module):
            latent_dim = 2
            def forward(self, z):
                return torch.sigmoid(z.sum(1, keepdim=True)).expand(-1, 64).reshape(-1, 1, 8, 8) * 2 - 1

        def make():
            return G()

        def wrong_shape():
            return lambda n, g: torch.zeros(n + 1, 3, 8, 8)

        def wrong_dtype():
            return lambda n, g: torch.zeros(n, 3, 8, 8, dtype=torch.int64)

        def out_of_range():
            return lambda n, g: torch.full((n, 3, 8, 8), 2.0)

        def no_latent():
            return torch.nn.Linear(2, 2)

        def broken():
            raise RuntimeError("boom")

        def exits():
            sys.exit(3)

        def raises_in_batch():
            def f(n, g):
                raise ValueError("bad batch")
            return f

        def exits_in_batch():
            return lambda n, g: sys.exit(4)

        def chatty():
            print("factory says hi")
            def f(n, g):
                print("batch says hi")
                return torch.rand(n, 2, generator=g)
            return f
    """)
    )
    (tmp_path / "bad_import.py").write_text("import does_not_exist_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for m in ("my_gens", "bad_import"):
        sys.modules.pop(m, None)


def test_factory_spec_and_bad_generators(factory_module):
    src = open_generator("my_gens:make", num_samples=7, batch_size=3)
    assert src.kind == "images" and _all(src).shape == (7, 3, 8, 8)
    cases = {
        "my_gens:wrong_shape": r"batch 0 has shape \(4, 3, 8, 8\); expected 3 samples",
        "my_gens:wrong_dtype": "dtype torch.int64",
        "my_gens:out_of_range": r"value_range \[-1, 1\]",
        "my_gens:no_latent": "needs an int attribute latent_dim",
        "my_gens:broken": "the factory failed .*boom",
        "my_gens:exits": r"the factory called sys.exit\(3\)",
        "my_gens:raises_in_batch": "batch 0 failed .ValueError: bad batch",
        "my_gens:exits_in_batch": r"batch 0 called sys.exit\(4\)",
        "my_gens:missing": "has no attribute 'missing'",
        "bad_import:make": "module 'bad_import' does not import .*does_not_exist_xyz",
        "no_such_pkg_xyz.mod:make": "module 'no_such_pkg_xyz.mod' does not import",
    }
    for spec, msg in cases.items():
        with pytest.raises(InputError, match=msg):
            open_generator(spec, num_samples=3, batch_size=3)
    with pytest.raises(ParameterError, match="num_samples is required"):
        open_generator("my_gens:make", num_samples=None)
    with pytest.raises(ParameterError, match="num_samples must be >= 1"):
        open_generator("my_gens:make", num_samples=0)
    with pytest.raises(ParameterError, match="num_samples is required when fake is a generator"):
        ganeval.evaluate(np.zeros((5, 2)), TinyG(), ["fid"])


def test_not_our_checkpoint(tmp_path):
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a ganeval reference checkpoint"):
        open_generator(tmp_path / "other.pt", num_samples=5)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        open_generator(tmp_path / "junk.pt", num_samples=5)
    with pytest.raises(InputError, match="no such file"):
        open_generator(tmp_path / "missing.pt", num_samples=5)


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory):
    from ganeval.reference import TrainConfig, train

    out = tmp_path_factory.mktemp("run")
    train(TrainConfig(data="digits", loss="hinge", steps=2, batch_size=8, width=8, eval_every=0), out)
    return out / "checkpoint.pt"


def test_reference_checkpoint_images_equal_generate(digits_checkpoint):
    try:
        from ganeval.reference import generate
    except ImportError:
        from ganeval.reference.trainer import generate

    src = open_generator(digits_checkpoint, num_samples=30, seed=4, batch_size=8)
    assert src.kind == "images" and src.preferred_extractor == "digits"
    got = np.concatenate(list(src.iter_batches(8)))
    rows, _ = generate(digits_checkpoint, 30, seed=4)
    want = np.clip(np.round(rows * 255), 0, 255).astype(np.uint8).reshape(-1, 1, 8, 8)
    assert got.shape == (30, 3, 8, 8) and np.array_equal(got[:, :1], want)


def _cli(*args):
    import click
    from ganeval_cli.main import main

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def cmd(ctx):
        main(list(ctx.args))

    return CliRunner().invoke(cmd, list(args), catch_exceptions=False)


def test_cli_eval_generator_checkpoint(digits_checkpoint):
    r = _cli(
        "eval",
        "builtin:digits/test",
        "--generator",
        str(digits_checkpoint),
        "--num-samples",
        "40",
        "--seed",
        "1",
        "--metrics",
        "fid,kid",
        "--kid-subset-size",
        "20",
        "--no-cache",
        "--json",
        "--device",
        "cpu",
        "--num-workers",
        "0",
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["fake"] == str(digits_checkpoint) and out["results"]["fid"]["n_fake"] == 40
    assert out["results"]["fid"]["settings"]["extractor"] == "digits"


def test_cli_generator_bad_input(factory_module, tmp_path):
    cases = [
        (["eval", "builtin:digits/test", "--generator", "bad_import:make", "--num-samples", "5"], "does not import"),
        (["eval", "builtin:digits/test", "--generator", "my_gens:make"], "--num-samples is required"),
        (["eval", "builtin:digits/test"], "missing FAKE"),
        (
            [
                "eval",
                "builtin:digits/test",
                "builtin:digits/train",
                "--generator",
                "my_gens:make",
                "--num-samples",
                "5",
            ],
            "not both",
        ),
        (
            [
                "eval",
                "builtin:digits/test",
                "--generator",
                "my_gens:make",
                "--num-samples",
                "5",
                "--value-range",
                "1,-1",
            ],
            "LOW < HIGH",
        ),
    ]
    torch.save({"x": 1}, tmp_path / "c.pt")
    cases.append(
        (
            ["eval", "builtin:digits/test", "--generator", str(tmp_path / "c.pt"), "--num-samples", "5"],
            "not a ganeval reference checkpoint",
        )
    )
    for args, msg in cases:
        r = _cli(*args, "--no-cache", "--num-workers", "0")
        assert r.exit_code == 2, (args, r.output)
        assert msg in r.output and r.output.strip().count("\n") == 0, r.output


def test_evaluator_update_from_a_generator_equals_evaluate():
    from ganeval.features.digits import digits_images

    real = digits_images("test")[:100]
    g = TinyG()
    ev = ganeval.Evaluator(
        ("fid", "kid"), extractor="digits", device="cpu", real=real, options={"kid": {"subsets": 4, "subset_size": 40}}
    )
    ev.update_from(g, 50, seed=3, batch_size=25)
    got = ev.compute()
    want = ganeval.evaluate(
        real,
        g,
        ["fid", "kid"],
        num_samples=50,
        generator_seed=3,
        extractor="digits",
        cache=False,
        device="cpu",
        num_workers=0,
        batch_size=25,
        options={"kid": {"subsets": 4, "subset_size": 40}},
    )
    assert got["fid"].value == pytest.approx(want["fid"].value, rel=1e-9)
    assert got["kid"].values == want["kid"].values
    rows = ganeval.Evaluator(("fid",), extractor=None, real=np.random.default_rng(0).normal(size=(30, 3)))
    rows.update_from(lambda n, gen: torch.randn(n, 3, generator=gen, dtype=torch.float64), 20, batch_size=8)
    assert rows.compute()["fid"].n_fake == 20


def test_cli_a_generator_that_raises_or_exits_is_the_users_error(factory_module):
    """Issue 17: `error: generator ...`, exit 2 (not an internal error, not a silent exit 0)."""
    for spec, msg in (
        ("my_gens:broken", "the factory failed"),
        ("my_gens:exits", "sys.exit(3)"),
        ("my_gens:raises_in_batch", "batch 0 failed"),
        ("my_gens:exits_in_batch", "sys.exit(4)"),
        ("sys:exit", "the factory called sys.exit"),
    ):
        r = _cli("eval", "builtin:ring8/test", "--generator", spec, "--num-samples", "5", "--json")
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: generator "), (spec, r.output)
        assert msg in lines[0] and not r.stdout.strip()


def test_cli_a_factorys_prints_stay_off_stdout_with_json(factory_module):
    r = _cli(
        "eval",
        "builtin:ring8/test",
        "--generator",
        "my_gens:chatty",
        "--num-samples",
        "20",
        "--json",
        "--metrics",
        "fid",
    )
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)  # stdout is one JSON object
    assert payload["results"]["fid"]["n_fake"] == 20
    assert "factory says hi" in r.stderr and "batch says hi" in r.stderr
