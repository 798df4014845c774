"""``ganeval eval`` (several metrics from one extraction per input) and ``ganeval stats``.

The one-metric commands (``ganeval fid``, ``ganeval kid``...) are generated from the metric
registry in :mod:`ganeval_cli.metric_commands`.
"""

from __future__ import annotations

import click

from ganeval.api import evaluate, load_features
from ganeval.errors import DataError, ParameterError
from ganeval.metrics.registry import get as get_metric
from ganeval.protocols import names as protocol_names

from ._common import (
    atomic_output_path,
    check_interval_args,
    emit_many,
    extraction_kwargs,
    extraction_options,
    interval_options,
    json_option,
    mismatch_option,
    seed_option,
)

PROTOCOL_NAMES = protocol_names()


def _value_range(text: str) -> tuple[float, float]:
    from ganeval.images import check_value_range

    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ParameterError(f"--value-range must be two numbers LOW,HIGH (e.g. -1,1), got {text!r}") from None
    if not lo < hi:
        raise ParameterError(f"--value-range must have LOW < HIGH, got {text!r}")
    return check_value_range((lo, hi), "--value-range")


@click.command(name="eval", short_help="Several metrics from one extraction per input.")
@click.argument("real")
@click.argument("fake", required=False)
@click.option(
    "--metrics",
    default="fid,kid,prdc",
    show_default=True,
    help="Comma-separated metric names: any registered metric the inputs can feed "
    "(see `ganeval metrics`), e.g. fid,kid,is,prdc,mmd,cmmd,prd,vendi,ecdf,c2st. "
    "With --protocol: default the protocol's metrics; given, a subset of them.",
)
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOL_NAMES),
    default=None,
    help="A published evaluation protocol (docs/protocols.md): fixes the extractor, preprocessing, "
    "metrics and their options; an option that contradicts it is an error. Every result "
    "records it.",
)
@click.option("--kid-subsets", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--kid-subset-size", type=click.IntRange(min=2), default=None, help="default: min(1000, n_real, n_fake)")
@click.option("--k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="prdc neighbour count.")
@click.option("--splits", type=click.IntRange(min=1), default=10, show_default=True, help="is splits.")
@click.option(
    "--generator",
    "generator",
    default=None,
    help="Draw FAKE from a generator instead: pkg.module:factory (returns a torch.nn.Module with "
    "latent_dim, or a callable fn(batch_size, generator)) or a reference checkpoint .pt "
    "(ganeval train). Needs --num-samples; latents are seeded with --seed.",
)
@click.option(
    "--num-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Samples to draw from --generator (required with it).",
)
@click.option(
    "--value-range",
    default="-1,1",
    show_default=True,
    help="LOW,HIGH: the range of float images (.npy/.npz image arrays and the generator's output; "
    "uint8 images are 0..255).",
)
@click.option(
    "--layout",
    type=click.Choice(["auto", "NCHW", "NHWC"]),
    default="auto",
    show_default=True,
    help="How 4-D image arrays are read; auto refuses shapes where both axes could be channels.",
)
@click.option(
    "-O",
    "--option",
    "metric_options",
    multiple=True,
    metavar="METRIC.OPTION=VALUE",
    help="Any option of any metric, e.g. -O mmd.kernel=poly -O vendi.q=2 (repeatable; see "
    "`ganeval METRIC --help` for each metric's options).",
)
@click.option("--target", default=None, help="Class column of nested-f1 (REAL and FAKE are then training tables).")
@click.option(
    "--real-test",
    default=None,
    help="Held-out real data: the test set of nested-f1, and of the metrics that compare a training "
    "set (REAL), a held-out set and FAKE (data-copying, fld).",
)
@seed_option
@mismatch_option
@interval_options
@extraction_options
@json_option
@click.pass_context
def eval_cmd(
    ctx,
    real,
    fake,
    metrics,
    protocol,
    kid_subsets,
    kid_subset_size,
    k,
    splits,
    generator,
    num_samples,
    value_range,
    layout,
    metric_options,
    target,
    real_test,
    seed,
    ci,
    bootstrap,
    as_json,
    **kw,
):
    """Several metrics at once, reading (and extracting) each input only once.

    FAKE is a path/builtin input, or omitted with --generator. Under torchrun
    (torchrun --nproc_per_node N -m ganeval eval ...) each process extracts its share of
    the images, the features are gathered, and rank 0 alone prints the result (equal to
    one process's).

    With --json, one object: {"metric": "eval", "results": {name: result, ...}, ...}.
    """
    from ganeval.distributed import init_from_env, local_device, rank_and_world

    if generator is not None and fake is not None:
        raise ParameterError("give FAKE or --generator, not both")
    if generator is None and fake is None:
        raise ParameterError("missing FAKE (or --generator SPEC --num-samples N)")
    if generator is None and num_samples is not None:
        raise ParameterError("--num-samples applies to --generator only")
    if generator is not None and num_samples is None:
        raise ParameterError("--num-samples is required with --generator")
    given = {
        p
        for p in ("metrics", "kid_subsets", "kid_subset_size", "k", "splits")
        if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT
    }
    asked = None  # under a protocol without --metrics: all of its metrics
    if protocol is not None and "metrics" not in given:
        from ganeval.protocols import get_protocol

        names = list(dict.fromkeys(m for _, m, _ in get_protocol(protocol).all_metrics()))
    else:
        names = asked = [m.strip() for m in metrics.split(",") if m.strip()]
    flags = {
        "kid": {"subsets": ("kid_subsets", kid_subsets), "subset_size": ("kid_subset_size", kid_subset_size)},
        "prdc": {"k": ("k", k)},
        "is": {"splits": ("splits", splits)},
    }
    opts: dict = {}
    for m, values in flags.items():  # under a protocol, only the flags given (the defaults are its own)
        chosen = {o: v for o, (flag, v) in values.items() if protocol is None or flag in given}
        if m in names and chosen:
            opts[m] = chosen
    for m in names:
        if m in _registered_names() and get_metric(m).seeded:
            opts.setdefault(m, {})["seed"] = seed
    for m, values in _dotted_options(metric_options, names).items():
        opts.setdefault(m, {}).update(values)
    check_interval_args(ci, bootstrap)
    ex = extraction_kwargs(kw, as_json)
    started = init_from_env(ex["device"])
    try:
        ex["device"] = local_device(ex["device"])
        gen_kw = {"value_range": _value_range(value_range), "layout": layout}
        if generator is not None:
            gen_kw.update(num_samples=num_samples, generator_seed=seed)
        if protocol is not None:
            gen_kw["protocol"] = protocol
            if ex.get("extractor") == "auto":
                ex.pop("extractor")
        results = evaluate(
            real,
            fake if generator is None else generator,
            names if protocol is None else asked,
            options=opts,
            ci=ci,
            bootstrap=bootstrap,
            seed=seed,
            target=target,
            real_test=real_test,
            **gen_kw,
            **ex,
        )
        if rank_and_world()[0] == 0:
            emit_many(results, as_json, metric="eval", real=real, fake=fake if generator is None else generator)
    finally:
        if started:
            import torch.distributed as dist

            dist.destroy_process_group()


def _registered_names() -> list[str]:
    from ganeval.metrics.registry import names

    return names()


def _dotted_options(items: tuple[str, ...], names: list[str]) -> dict[str, dict]:
    """``("kid.subsets=50", ...)`` -> ``{"kid": {"subsets": 50}}``, each value checked by its metric."""
    out: dict[str, dict] = {}
    for item in items:
        key, eq, value = item.partition("=")
        metric, dot, option = key.strip().partition(".")
        if not eq or not dot or not option:
            raise ParameterError(f"--option must look like METRIC.OPTION=VALUE (e.g. kid.subsets=50), got {item!r}")
        if metric not in names:
            raise ParameterError(f"--option {item!r}: metric {metric!r} is not in --metrics")
        m = get_metric(metric)
        known = {o.name: o for o in m.all_options()}
        if option.replace("-", "_") not in known:
            m.check_options({option: value})  # raises: unknown option, naming the known ones
        o = known[option.replace("-", "_")]
        out.setdefault(metric, {}).update(
            m.check_options({o.name: value}, text=True, fill=False, where=f"--option {metric}")
        )
    return out


@click.command(short_help="Write the mean and covariance of SOURCE's features (.npz).")
@click.argument("source")
@click.option("-o", "--output", required=True, help="Where to write the .npz (mu, sigma, n, metadata).")
@click.option(
    "--spatial",
    is_flag=True,
    help="Also write the moments of the Inception's spatial features (mu_s, sigma_s: sFID, as ADM's "
    "reference batches hold them); image inputs need --extractor inception (or auto), "
    "statistics inputs need mu_s/sigma_s.",
)
@extraction_options
def stats(source, output, spatial, **kw):
    """Write the mean and covariance of SOURCE's features to an .npz.

    pytorch-fid and clean-fid read the file (arrays mu and sigma); ganeval reads theirs. With
    --spatial, ADM's evaluator reads it as a reference batch's statistics too.
    """
    out = atomic_output_path(output)
    ex = extraction_kwargs(kw)
    source_options = ex.pop("source_options")
    if spatial:
        ex["outputs"] = ("spatial",)
    features = load_features(source, source_options=source_options, **ex)
    st = features.need_stats()
    st.metadata.update({k: v for k, v in features.info.items() if isinstance(v, (str, int, float, bool))})
    st.metadata["source"] = str(source)
    if spatial and "spatial" not in features.extras and "spatial" not in features.extra_stats:
        # feature rows given as they are hold one set of features: writing them as both the
        # pool and the spatial moments would make a reference batch that is not one
        raise DataError(
            f"{source}: has no 'spatial' features (--spatial needs images through the Inception, or "
            f"a statistics file with mu_s/sigma_s)"
        )
    sp = features.need_extra_stats("spatial") if spatial else None
    st.save(out, spatial=sp)
    click.echo(f"wrote {out}: n={st.n}, dim={st.dim}" + (f", spatial dim={sp.dim}" if sp is not None else ""))


COMMANDS = [eval_cmd]  # `stats` is in the stats group (stats_import)
