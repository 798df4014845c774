"""``ganeval stats import FILE -o OUT.npz``: reference statistics of the field -> a ganeval .npz.

FILE may be a ganeval / pytorch-fid / clean-fid / EDM ``.npz``, an ADM reference batch (its
``mu_s``/``sigma_s`` sFID moments are kept), an EDM2 ``dataset-refs`` pickle (read by the
restricted unpickler; ``--extractor dinov2`` takes its FD_DINOv2 moments), or ``ref:NAME``.
The output records the origin and the sha256 of the file read in its metadata; pytorch-fid,
clean-fid and ADM's evaluator read it (``mu``, ``sigma``, and ``mu_s``, ``sigma_s``).

Two command objects share one function: :data:`IMPORT_COMMAND` is named ``import`` (a
subcommand of a ``stats`` group); ``stats-import`` in :data:`COMMANDS` works at the top level.
"""

from __future__ import annotations

import json

import click

from ganeval.sources.reference_stats import import_statistics

from ._common import atomic_output_path

__all__ = ["COMMANDS", "IMPORT_COMMAND"]


def _import(file: str, output: str, extractor: str | None, as_json: bool) -> None:
    """Convert reference statistics FILE (or ref:NAME) to a ganeval .npz.

    FILE: a ganeval / pytorch-fid / clean-fid / EDM .npz (mu, sigma), an ADM reference batch
    (mu, sigma, mu_s, sigma_s), an EDM2 dataset-refs .pkl (FID and FD_DINOv2 moments, read
    without running code from the file), or ref:NAME[@SHA256] (a shipped or published
    reference; published ones are downloaded once with their sha256 checked). The output
    records FILE and its sha256.

    \b
    Examples:
      ganeval stats import VIRTUAL_imagenet256_labeled.npz -o adm256.npz
      ganeval stats import img512.pkl --extractor dinov2 -o edm2_512_dinov2.npz
    """
    out = atomic_output_path(output)
    got = import_statistics(file, extractor=extractor)
    got.stats.save(out, spatial=got.spatial)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "output": str(out),
                    "n": got.stats.n,
                    "dim": got.stats.dim,
                    "spatial_dim": None if got.spatial is None else got.spatial.dim,
                    "extractor": got.stats.metadata.get("extractor"),
                    **{f"origin_{k}": v for k, v in got.origin.items()},
                }
            )
        )
        return
    spatial = f", spatial dim={got.spatial.dim}" if got.spatial is not None else ""
    click.echo(
        f"wrote {out}: n={got.stats.n}, dim={got.stats.dim}{spatial} "
        f"(from {got.origin['source']}, sha256 {got.origin['sha256']})"
    )


def _make(name: str) -> click.Command:
    @click.command(name, help=_import.__doc__)
    @click.argument("file")
    @click.option(
        "-o", "--output", required=True, help="Where to write the .npz (mu, sigma[, mu_s, sigma_s], n, metadata)."
    )
    @click.option(
        "--extractor",
        default=None,
        help="Which moments to take from a file holding several (EDM2 dataset-refs: inception = FID, "
        "dinov2 = FD_DINOv2); default the file's FID moments.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a human line.")
    def command(file: str, output: str, extractor: str | None, as_json: bool) -> None:
        _import(file, output, extractor, as_json)

    return command


#: ``import``, a subcommand of the ``stats`` group
IMPORT_COMMAND = _make("import")


class _StatsGroup(click.Group):
    """``ganeval stats SOURCE -o OUT`` (compute: the default) and ``ganeval stats import FILE -o OUT``."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] in self.commands:
            return super().resolve_command(ctx, args)
        return "compute", self.commands["compute"], args


def _stats_group() -> click.Group:
    from .feature_metrics import stats as compute

    group = _StatsGroup(
        "stats",
        short_help="Write or import mean/covariance statistics (.npz).",
        help="Write the mean and covariance of SOURCE's features (ganeval stats SOURCE -o OUT.npz), "
        "or convert published statistics (ganeval stats import FILE -o OUT.npz).",
        no_args_is_help=True,
    )
    group.add_command(compute, "compute")
    group.add_command(IMPORT_COMMAND)
    return group


COMMANDS = [_stats_group()]
