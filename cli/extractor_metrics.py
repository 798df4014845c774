"""Metrics defined on a modern feature space: cmmd (CLIP embeddings).

FD_DINOv2 needs no command of its own: it is ``ganeval fid REAL FAKE --extractor dinov2``.
"""

from __future__ import annotations

import click

from ganeval.api import evaluate, features_of
from ganeval.sources import open_source

from ._common import emit, extraction_kwargs, extraction_options, json_option, seed_option
from .extra_metrics import check_interval_args, interval_options


@click.command(short_help="CMMD: MMD between CLIP embeddings of REAL and FAKE.")
@click.argument("real")
@click.argument("fake")
@seed_option
@interval_options
@extraction_options
@json_option
def cmmd(real, fake, seed, ci, bootstrap, as_json, **kw):
    """CMMD between REAL and FAKE (Jayasumana et al. 2024; lower is better).

    1000 x MMD^2 (biased estimator, keeping the diagonal terms, as the CMMD code) with the
    Gaussian kernel exp(-||x - y||^2 / (2 * 10^2)) on L2-normalised CLIP embeddings. Image
    inputs go through --extractor clip (ViT-L/14@336, centre crop + bicubic resize) unless
    another extractor is named; feature rows (.npy/.npz) are used as they are.
    """
    check_interval_args(ci, bootstrap)
    ex = extraction_kwargs(kw, as_json)
    source_options = ex.pop("source_options")
    extractor = ex.pop("extractor")
    inputs = []
    for spec in (real, fake):
        src = open_source(spec, **source_options)
        name = extractor
        if name == "auto" and getattr(src, "kind", None) == "images":
            name = "clip"
        inputs.append(features_of(src, extractor=name, **ex))
    results = evaluate(inputs[0], inputs[1], ["cmmd"], ci=ci, bootstrap=bootstrap, seed=seed)
    emit(results["cmmd"], as_json)


COMMANDS = [cmmd]
