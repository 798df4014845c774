"""``ganeval extractors``: the feature extractors and where to get each one's weights."""

from __future__ import annotations

import json

import click

from ganeval.features.catalog import extractor_catalog

from ._common import json_option

__all__ = ["COMMANDS", "extractors"]

_FOUND = {
    "inception": "--weights PATH, ${env}, the torch hub cache; else downloaded from the URL, sha256 checked",
    "digits": "shipped with ganeval (works offline)",
    "dinov2": "--weights PATH, ${env}, the Hugging Face or torch hub cache; never downloaded",
    "clip": "--weights PATH, ${env}, the Hugging Face or torch hub cache, ~/.cache/clip; never downloaded",
}


@click.command(short_help="List the feature extractors and where to get their weights.")
@json_option
def extractors(as_json: bool) -> None:
    """List the feature extractors (--extractor NAME) with their outputs, preprocessing modes
    and weights: where ganeval looks for them, the URL they were published at and their
    sha256 (dinov2's publisher states none: the sha256 of the file read is recorded in every
    result instead)."""
    catalog = extractor_catalog()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": e.name,
                        "output": e.output,
                        "preprocessing": list(e.preprocessing),
                        "env_var": e.env_var or None,
                        "needs": e.needs or None,
                        "default_arch": e.default_arch or None,
                        "weights": [
                            {"arch": w.arch or None, "url": w.url, "sha256": w.sha256 or None, "also": list(w.also)}
                            for w in e.weights
                        ],
                    }
                    for e in catalog
                ]
            )
        )
        return
    for i, e in enumerate(catalog):
        archs = [w.arch for w in e.weights if w.arch]
        title = e.name + (f"[:{'|'.join(archs)}]  (default {e.default_arch})" if archs else "")
        lines = [
            title,
            f"  output:        {e.output}",
            f"  preprocessing: {', '.join(e.preprocessing)}"
            + (" (first = default)" if len(e.preprocessing) > 1 else ""),
        ]
        if e.needs:
            lines.append(f"  needs:         {e.needs}")
        lines.append(f"  weights from:  {_FOUND.get(e.name, '--weights PATH').replace('${env}', '$' + e.env_var)}")
        for w in e.weights:
            pad = f"  {w.arch + ':':<14} " if w.arch else "  "
            lines.append(f"{pad}{w.url}" if w.arch else f"  url:           {w.url}")
            sha = w.sha256 or "not published (the sha256 of the file read is recorded in results)"
            lines.append(f"  {'':<14} sha256 {sha}" if w.arch else f"  sha256:        {sha}")
        click.echo(("\n" if i else "") + "\n".join(lines))


COMMANDS = [extractors]
