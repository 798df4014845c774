"""Fixtures of the report tests: small feature files and a spec over them."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner


def run_cli(*args):
    """Run ``ganeval`` through main() (exit codes and one-line errors as users see them)."""
    import click
    from ganeval_cli.main import main

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def _cmd(ctx):
        main(list(ctx.args))

    return CliRunner().invoke(_cmd, [str(a) for a in args], catch_exceptions=False)


SPEC = """
title = "small"
seed = 0
[real]
input = "real.npy"
[metrics]
fid = {{}}
kid = {{subsets = 5, subset_size = 40}}
prdc = {{k = 3}}
mmd = {{}}
ecdf = {{}}
c2st = {{folds = 3}}
wasserstein = {{}}
divergence = {{bins = 8}}
{extra_metrics}
[[candidates]]
name = "same"
input = "real.npy"
[[candidates]]
name = "shifted"
input = "fake.npy"
{extra}
"""


#: SPEC with two of its metrics, for the tests of the report's files and of --verify's
#: mechanics (most of a report's time is its figures: one per metric family, three formats)
FEW_SPEC = """
title = "small"
seed = 0
[real]
input = "real.npy"
[metrics]
fid = {}
prdc = {k = 3}
[[candidates]]
name = "same"
input = "real.npy"
[[candidates]]
name = "shifted"
input = "fake.npy"
"""


def _small(folder, rng, spec):
    real = rng.normal(size=(80, 2))
    fake = rng.normal(size=(70, 2)) + 0.7
    np.save(folder / "real.npy", real)
    np.save(folder / "fake.npy", fake)
    (folder / "spec.toml").write_text(spec)
    return folder, real, fake


@pytest.fixture
def small(tmp_path, rng):
    """A folder with real.npy / fake.npy (2-D rows) and spec.toml comparing them."""
    return _small(tmp_path, rng, SPEC.format(extra="", extra_metrics=""))


@pytest.fixture
def small_few(tmp_path, rng):
    """:func:`small` with FEW_SPEC (FID and PRDC) as spec.toml."""
    return _small(tmp_path, rng, FEW_SPEC)
