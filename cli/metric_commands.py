"""Commands generated from the metric registry: one ``ganeval NAME`` per registered metric.

A metric's declaration (:class:`ganeval.Metric`) is all a command needs: its inputs become
the positional arguments (``REAL FAKE``, ``FAKE``, ``TRAIN FAKE``, ``TRAIN TEST FAKE``,
``REAL_TRAIN FAKE_TRAIN [REAL_TEST]``), its options become ``--options`` (type, default,
bounds and help from the declaration; values checked by the metric itself), and every
command gets ``--json``, ``--ci``/``--bootstrap`` when the metric has an interval,
``--seed``, the image-extraction options and the table options. The command calls
:func:`ganeval.evaluate`, the same path as Python and ``ganeval eval``.

Built-ins and plug-ins alike: every metric command is generated here. The few flags of
built-in commands that are not metric options (``fid --infinity``, ``memorization --grid``,
the tabular metrics reading REAL and FAKE as tables, ``prd``'s human line) are declared in
one place, :mod:`ganeval_cli.command_extensions`. ``ganeval metrics`` lists every
registered metric.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ganeval.api import evaluate, features_of
from ganeval.errors import ParameterError
from ganeval.results import MetricResult

from ._common import (
    check_interval_args,
    emit,
    extraction_kwargs,
    extraction_options,
    interval_options,
    json_option,
    mismatch_option,
    seed_option,
)
from .command_extensions import Extension, Invocation, extension_of

__all__ = ["metric_command", "parse_metric_options", "COMMANDS"]

_RESERVED_PARAMS = {
    "as_json",
    "ci",
    "bootstrap",
    "seed",
    "columns",
    "categorical",
    "target",
    "allow_mismatch",
    "extractor",
    "weights",
    "preprocessing",
    "batch_size",
    "device",
    "tf32",
    "gpu_decode",
    "num_workers",
    "no_cache",
    "skip_invalid",
    "quiet",
}


def _param_name(metric: Any, opt: Any) -> str:
    """The click parameter name of a metric option (prefixed if it collides)."""
    name = opt.name
    return f"opt_{name}" if name in _RESERVED_PARAMS and name != "seed" else name


def _flag(metric: Any, opt: Any) -> str:
    """The command-line flag of a metric option (``--metric-name`` when it collides)."""
    return opt.cli_flag if _param_name(metric, opt) == opt.name else f"--{metric.name}-{opt.name.replace('_', '-')}"


def _option_decorators(metric: Any) -> list:
    decorators = []
    for opt in metric.all_options():
        if opt.name == "seed":
            continue  # the shared --seed
        pname, flag = _param_name(metric, opt), _flag(metric, opt)
        default_text = (
            "chosen by the metric"
            if opt.default is None
            else str(opt.default).lower()
            if isinstance(opt.default, bool)
            else str(opt.default)
        )
        help_text = f"{opt.help} [{opt.describe()}; default: {default_text}]".strip()
        if opt.type == "bool":
            off = "--no-" + flag[2:]
            decorators.append(click.option(f"{flag}/{off}", pname, default=None, help=help_text))
        elif opt.choices is not None and opt.type == "str" and not opt.words:
            decorators.append(
                click.option(
                    flag, pname, type=click.Choice([str(c) for c in opt.choices]), default=None, help=help_text
                )
            )
        else:
            metavar = "|".join([{"int": "INTEGER", "float": "NUMBER"}.get(opt.type, "TEXT"), *opt.words])
            decorators.append(click.option(flag, pname, type=str, default=None, metavar=metavar, help=help_text))
    return decorators


def metric_command(metric: Any) -> click.Command:
    """A click command computing ``metric`` (a registered :class:`ganeval.Metric`), with the
    additions of its :class:`~ganeval_cli.command_extensions.Extension`, if any."""
    ext = extension_of(metric.name)
    inputs = metric.inputs()
    extra_names: list[str] = []

    def callback(**kw: Any) -> None:
        _run(metric, ext, extra_names, kw)

    params: list = []
    for i, name in enumerate(inputs):
        optional = metric.takes == "labelled" and i == 2
        params.append(click.Argument([name], required=not optional))
    summary = metric.one_line().rstrip()
    cmd = click.Command(
        metric.name,
        callback=callback,
        params=params,
        help=_help(metric, ext),
        short_help=summary if summary.endswith((".", "?")) else summary + ".",
    )
    decorators = _option_decorators(metric)
    extra_params = _params_of(ext.options)
    extra_names.extend(p.name for p in extra_params if p.name)
    taken = {p.name for p in _params_of(decorators)}
    if taken & set(extra_names):
        raise TypeError(f"{metric.name}: extension options repeat metric options: {sorted(taken & set(extra_names))}")
    decorators += list(ext.options)
    decorators.append(seed_option)
    if metric.resampling is not None:
        decorators.append(interval_options)
    tables = ext.tables or metric.takes == "labelled"
    if metric.takes == "labelled":
        decorators.append(click.option("--target", required=True, help="The class column (present in every input)."))
    elif metric.takes != "generator" and not tables:
        decorators.append(extraction_options)
        if len(inputs) >= 2:
            decorators.append(mismatch_option)
    if metric.takes != "generator":
        first = "REAL" if tables else "the first input"
        decorators += [
            click.option("--columns", default=None, help="Comma-separated table columns to use (default: all)."),
            click.option(
                "--categorical",
                default=None,
                help=f"Comma-separated text columns to one-hot encode (categories fitted on {first}).",
            ),
        ]
    if tables:
        decorators.append(
            click.option("--skip-invalid", is_flag=True, help="Drop rows with a missing value instead of stopping.")
        )
    decorators.append(json_option)
    for deco in decorators:  # --help lists them in this order
        cmd = _apply(deco, cmd)
    return cmd


def _params_of(decorators: Any) -> list[click.Parameter]:
    """The click parameters a list of option decorators declares."""
    holder = lambda: None
    for deco in decorators:
        deco(holder)
    return list(getattr(holder, "__click_params__", []))


def _apply(decorator: Any, cmd: click.Command) -> click.Command:
    """Apply a click option decorator to an existing Command object."""
    cmd.params.extend(reversed(_params_of([decorator])))
    return cmd


def _help(metric: Any, ext: Extension) -> str:
    outs = ", ".join(f"{o.key} ({o.better or 'see docs'})" for o in metric.all_outputs())
    lines = [metric.one_line(), "", f"Inputs: {' '.join(metric.inputs()).upper()} ({metric.takes}). Returns: {outs}."]
    if metric.resampling is None:
        lines.append(f"No --ci: {metric.no_interval}.")
    if ext.help:
        lines += ["", ext.help]
    return "\n".join(lines)


def parse_metric_options(metric: Any, kw: dict[str, Any]) -> dict[str, Any]:
    """The metric's options given on the command line, popped from ``kw`` and checked."""
    given = {}
    for opt in metric.all_options():
        if opt.name == "seed":
            continue
        value = kw.pop(_param_name(metric, opt), None)
        if value is not None:
            given[opt.name] = value
    try:
        return metric.check_options(given, text=True, fill=False)
    except ParameterError as exc:  # name the flag the user typed
        text = str(exc)
        for opt in metric.all_options():
            text = text.replace(f"option {opt.name} ", f"{_flag(metric, opt)} ")
        raise ParameterError(text) from None


def _run(metric: Any, ext: Extension, extra_names: list[str], kw: dict[str, Any]) -> None:
    as_json = kw.pop("as_json")
    ci, bootstrap, seed = kw.pop("ci", None), kw.pop("bootstrap", 200), kw.pop("seed")
    check_interval_args(ci, bootstrap)
    options = parse_metric_options(metric, kw)
    if metric.seeded:
        options["seed"] = seed
    inv = Invocation(
        metric,
        inputs={name: kw.pop(name) for name in metric.inputs()},
        options=options,
        extra={name: kw.pop(name) for name in extra_names},
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        as_json=as_json,
    )
    if metric.takes != "generator":
        inv.table = {"columns": kw.pop("columns"), "categorical": kw.pop("categorical")}
    if ext.tables or metric.takes == "labelled":
        inv.source_options = {"skip_invalid": True} if kw.pop("skip_invalid") else {}
        inv.extract = {"progress": not as_json}  # the bootstrap progress display
    elif metric.takes != "generator":
        inv.extract = extraction_kwargs(kw, as_json)
        inv.source_options = inv.extract.pop("source_options")
        inv.allow_mismatch = inv.extract.pop("allow_mismatch", False)
    target = kw.pop("target", None)
    if ext.prepare is not None:
        ext.prepare(inv)
    result = ext.compute(inv) if ext.compute is not None else None
    if result is None:
        result = _evaluate(inv, ext, target)
    if ext.finish is not None:
        ext.finish(inv, result)
    if as_json or ext.human is None:
        emit(result, as_json)
    else:
        click.echo(ext.human(inv, result))


def _evaluate(inv: Invocation, ext: Extension, target: str | None) -> MetricResult:
    """The metric on the command's inputs, through :func:`ganeval.evaluate`."""
    metric = inv.metric
    values = list(inv.inputs.values())
    kwargs: dict[str, Any] = {"options": {metric.name: inv.options}}
    if metric.takes == "generator":
        return evaluate(None, values[0], [metric.name], **kwargs)[metric.name]
    kwargs.update(inv.table, skip_invalid=bool(inv.source_options.get("skip_invalid")))
    if metric.takes == "labelled":
        real, fake, real_test = values
        kwargs.update(target=target, real_test=real_test)
    elif metric.takes == "train-test-fake":
        real, real_test, fake = values
        kwargs.update(real_test=real_test, allow_mismatch=inv.allow_mismatch, **inv.extract)
    else:
        real, fake = (None, values[0]) if len(values) == 1 else values
        kwargs.update(ci=inv.ci, bootstrap=inv.bootstrap, seed=inv.seed, **inv.extract)
        if ext.tables:
            kwargs["read_as"] = "table"
        else:
            kwargs["allow_mismatch"] = inv.allow_mismatch
            if ext.image_extractor is not None and inv.extract["extractor"] == "auto":
                real, fake = (_features(x, ext.image_extractor, inv) for x in (real, fake))
    return evaluate(real, fake, [metric.name], **kwargs)[metric.name]


def _features(spec: Any, image_extractor: str, inv: Invocation) -> Any:
    """The features of one input: images through ``image_extractor``, rows as they are."""
    if spec is None:
        return None
    from ganeval.sources import open_source

    source = open_source(spec, **inv.source_options)
    extract = {k: v for k, v in inv.extract.items() if k != "extractor"}
    return features_of(source, extractor=image_extractor if source.kind == "images" else "auto", **extract)


@click.command(name="metrics", short_help="List every registered metric (built-ins and plug-ins).")
@json_option
def list_metrics(as_json: bool) -> None:
    """List every registered metric (built-ins and plug-ins): inputs, outputs, interval, options."""
    from ganeval.metrics.registry import metrics

    rows: list[dict[str, Any]] = []
    for name, m in metrics().items():
        rows.append(
            {
                "name": name,
                "takes": m.takes,
                "summary": m.one_line(),
                "outputs": {o.key: o.better for o in m.all_outputs()},
                "interval": m.resampling or f"none ({m.no_interval})",
                "seeded": m.seeded,
                "streaming": m.streaming,
                "options": [o.name for o in m.all_options()],
                "module": type(m).__module__,
            }
        )
    if as_json:
        click.echo(json.dumps({"metrics": rows}))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['takes']:<11} {r['summary']}")


def _generated() -> list[click.Command]:
    """A command for every registered metric, built-ins and plug-ins alike."""
    from ganeval.metrics.registry import metrics

    return [metric_command(m) for m in metrics().values()]


COMMANDS = [list_metrics, *_generated()]
