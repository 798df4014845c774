"""Commands generated from the metric registry: one ``ganeval NAME`` per registered metric.

A metric's declaration (:class:`ganeval.Metric`) is all a command needs: its inputs become
the positional arguments (``REAL FAKE``, ``FAKE``, ``TRAIN FAKE``, ``REAL_TRAIN FAKE_TRAIN
[REAL_TEST]``), its options become ``--options`` (type, default, bounds and help from the
declaration; values checked by the metric itself), and every command gets ``--json``,
``--ci``/``--bootstrap`` when the metric has an interval, ``--seed``, the image-extraction
options and the table options. The command calls :func:`ganeval.evaluate`, the same path
as Python and ``ganeval eval``.

Metrics with a hand-written command of their own (the built-ins, which keep flags such as
``fid --infinity``) are not generated again; plug-ins and new metrics get theirs here.
``ganeval metrics`` lists every registered metric.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ganeval.errors import ParameterError

from ._common import emit, extraction_kwargs, extraction_options, json_option, mismatch_option

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
            decorators.append(click.option(flag, pname, type=str, default=None, help=help_text))
    return decorators


def metric_command(metric: Any) -> click.Command:
    """A click command computing ``metric`` (a registered :class:`ganeval.Metric`)."""
    inputs = metric.inputs()

    def callback(**kw: Any) -> None:
        _run(metric, kw)

    params: list = []
    for i, name in enumerate(inputs):
        optional = metric.takes == "labelled" and i == 2
        params.append(click.Argument([name], required=not optional))
    summary = metric.one_line().rstrip()
    cmd = click.Command(
        metric.name,
        callback=callback,
        params=params,
        help=_help(metric),
        short_help=summary if summary.endswith((".", "?")) else summary + ".",
    )
    decorators = _option_decorators(metric)
    decorators.append(
        click.option(
            "--seed",
            type=click.IntRange(min=0, max=2**32 - 1),
            default=0,
            show_default=True,
            help="Seed of every random draw (the metric's and the resampling's).",
        )
    )
    if metric.resampling is not None:
        decorators += [
            click.option(
                "--ci",
                type=float,
                default=None,
                help="Add a bootstrap interval at this level, e.g. 0.95 (JSON gains ci_low, ci_high, se).",
            ),
            click.option(
                "--bootstrap",
                type=int,
                default=200,
                show_default=True,
                help="Bootstrap replicates for --ci (at least 10).",
            ),
        ]
    if metric.takes == "labelled":
        decorators.append(click.option("--target", required=True, help="The class column."))
    elif metric.takes != "generator":
        decorators.append(extraction_options)
        if len(inputs) >= 2:
            decorators.append(mismatch_option)
    if metric.takes != "generator":
        decorators += [
            click.option("--columns", default=None, help="Comma-separated table columns to use (default: all)."),
            click.option(
                "--categorical",
                default=None,
                help="Comma-separated text columns to one-hot encode (categories fitted on the first input).",
            ),
        ]
    decorators.append(json_option)
    if metric.takes == "labelled":
        decorators.append(
            click.option("--skip-invalid", is_flag=True, help="Drop rows with a missing value instead of stopping.")
        )
    for deco in reversed(decorators):
        cmd = _apply(deco, cmd)
    return cmd


def _apply(decorator: Any, cmd: click.Command) -> click.Command:
    """Apply a click option decorator to an existing Command object."""
    holder = lambda: None
    decorator(holder)
    cmd.params.extend(reversed(getattr(holder, "__click_params__", [])))
    return cmd


def _help(metric: Any) -> str:
    outs = ", ".join(f"{o.key} ({o.better or 'see docs'})" for o in metric.all_outputs())
    lines = [metric.one_line(), "", f"Inputs: {' '.join(metric.inputs()).upper()} ({metric.takes}). Returns: {outs}."]
    if metric.resampling is None:
        lines.append(f"No --ci: {metric.no_interval}.")
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


def _run(metric: Any, kw: dict[str, Any]) -> None:
    from ganeval.api import evaluate

    from .extra_metrics import check_interval_args

    as_json = kw.pop("as_json")
    ci, bootstrap, seed = kw.pop("ci", None), kw.pop("bootstrap", 200), kw.pop("seed")
    check_interval_args(ci, bootstrap)
    options = parse_metric_options(metric, kw)
    if metric.seeded:
        options["seed"] = seed
    inputs = [kw.pop(name) for name in metric.inputs()]
    if metric.takes == "generator":
        results = evaluate(None, inputs[0], [metric.name], options={metric.name: options})
        emit(results[metric.name], as_json)
        return
    table = {"columns": kw.pop("columns"), "categorical": kw.pop("categorical")}
    if metric.takes == "train-test-fake":
        train, test, fake = inputs
        ex = extraction_kwargs(kw, as_json)
        skip = bool(ex.pop("source_options"))
        results = evaluate(
            train, fake, [metric.name], options={metric.name: options}, real_test=test, skip_invalid=skip, **table, **ex
        )
    elif metric.takes == "labelled":
        real, fake, real_test = inputs
        results = evaluate(
            real,
            fake,
            [metric.name],
            options={metric.name: options},
            target=kw.pop("target"),
            real_test=real_test,
            skip_invalid=kw.pop("skip_invalid"),
            **table,
        )
    else:
        real, fake = (None, inputs[0]) if len(inputs) == 1 else inputs
        ex = extraction_kwargs(kw, as_json)
        skip = bool(ex.pop("source_options"))
        results = evaluate(
            real,
            fake,
            [metric.name],
            options={metric.name: options},
            ci=ci,
            bootstrap=bootstrap,
            seed=seed,
            skip_invalid=skip,
            **table,
            **ex,
        )
    emit(results[metric.name], as_json)


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
    """A command for every registered metric without a hand-written one (plug-ins too)."""
    from ganeval.metrics.registry import metrics

    from .main import COMMAND_HOME

    return [metric_command(m) for name, m in metrics().items() if name not in COMMAND_HOME]


COMMANDS = [list_metrics, *_generated()]
