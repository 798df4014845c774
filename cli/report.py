"""``ganeval report``: reproducible benchmark reports, their verification, and the built-in suites."""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Callable
from pathlib import Path

import click

from ganeval import __version__
from ganeval.errors import ParameterError
from ganeval.report.schema import MAX_SEED
from ganeval.report.suites import DEFAULT_STEPS

from ._common import json_option


def _progress(quiet: bool):
    """``progress(total)`` -> ``on_step(desc)`` showing one progress display on stderr (a bar
    on a terminal, periodic lines in a log; None when quiet)."""
    if quiet:
        return None
    from ganeval.progress import Progress, progress_bar

    bars: list[Progress] = []  # the one progress bar, made on the first start()

    def start(total: int) -> Callable[[str], None]:
        if not bars:
            bars.append(progress_bar(total, "report", "step"))
        else:  # a later part of the plan (verifying a suite's reports one by one)
            bars[0].total = (bars[0].total or 0) + total
        bar = bars[0]

        def step(desc: str) -> None:
            bar.set_description(desc[:48])
            bar.update(1)

        return step

    start.bars = bars  # type: ignore[attr-defined]
    return start


def _close(progress) -> None:
    for bar in getattr(progress, "bars", []):
        bar.close()


@click.command(short_help="Write a benchmark report (json, html, md, tex) or verify one.")
@click.argument("spec", required=False, type=click.Path(dir_okay=True))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=True),
    default=None,
    help="Report folder to write (created; a previous report's files there are replaced; a folder "
    "holding other files is refused unless --overwrite). Never the spec's folder or an input, "
    "never a folder inside an input.",
)
@click.option(
    "--verify",
    "verify_dir",
    type=click.Path(),
    default=None,
    help="Recompute the report in this folder from its recorded spec and inputs; print one line per "
    "number that differs; exit 0 when all reproduce, 1 otherwise.",
)
@click.option(
    "--suite",
    type=click.Choice(["sanity", "reference", "digits"]),
    default=None,
    help="Run a built-in suite instead of a SPEC: sanity (metrics vs disturbance level on digits), "
    "reference (every reference loss on ring8, grid25, digits) or digits (the example spec "
    "examples/digits.toml, shipped with ganeval).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="--suite reference: generator steps of every run (default: "
    + ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items())
    + "); small values give a quick suite.",
)
@click.option("--seeds", default=None, help="--suite reference: comma-separated training seeds (default 0,1,2).")
@click.option(
    "--data", default=None, help="--suite reference: comma-separated data sets (default ring8,grid25,digits)."
)
@click.option(
    "--rtol",
    type=click.FloatRange(min=0),
    default=None,
    help="--verify: relative tolerance (default: exact on the recorded machine and thread count, 1e-6 elsewhere).",
)
@click.option("--atol", type=click.FloatRange(min=0), default=None, help="--verify: absolute tolerance.")
@click.option(
    "--allow-code",
    is_flag=True,
    help="--verify: import and call the generator factories the report names (a report naming one is "
    "refused without it; only for reports you trust).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Write into --out even when it holds files that are not a previous report's: the report is "
    "written beside them and none of them is ever replaced or removed.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@json_option
def report(spec, out, verify_dir, suite, steps, seeds, data, rtol, atol, allow_code, overwrite, quiet, as_json):
    """Evaluate candidates against real data and write a reproducible report.

    \b
    ganeval report SPEC.toml --out DIR      run a spec (see docs/report.md)
    ganeval report --verify DIR             recompute DIR's numbers; exit 1 if any differs
    ganeval report --suite sanity --out DIR
    ganeval report --suite reference --out DIR [--steps N --seeds 0,1 --data ring8]
    ganeval report --suite digits --out DIR   the example report (about a minute)

    DIR receives report.json (numbers, settings, provenance), report.html (one self-contained
    page), report.md, report.tex and figures/ (PNG, PDF, SVG). Nothing half-written is left in DIR when
    the run stops (Ctrl-C, an error).
    """
    modes = [m for m in (spec is not None, verify_dir is not None, suite is not None) if m]
    if len(modes) != 1:
        raise ParameterError("give exactly one of SPEC, --verify DIR or --suite NAME")
    if verify_dir is None and out is None:
        raise ParameterError("--out DIR is required (where the report is written)")
    if verify_dir is not None and out is not None:
        raise ParameterError("--verify DIR takes no --out")
    if (steps is not None or seeds is not None or data is not None) and suite != "reference":
        raise ParameterError("--steps, --seeds and --data apply to --suite reference only")
    if (rtol is not None or atol is not None or allow_code) and verify_dir is None:
        raise ParameterError("--rtol, --atol and --allow-code apply to --verify only")
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if value is not None and not math.isfinite(value):
            raise ParameterError(f"{name} must be a finite number >= 0, got {value}")
    progress = _progress(quiet or as_json)
    old_term = _term_as_interrupt()
    try:
        if verify_dir is not None:
            from ganeval.report import verify_report

            res = verify_report(verify_dir, rtol=rtol, atol=atol, progress=progress, allow_code=allow_code)
            _close(progress)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "metric": "verify",
                            "ok": res.ok,
                            "compared": res.compared,
                            "differences": res.lines,
                            "rtol": res.rtol,
                            "atol": res.atol,
                            "version": __version__,
                        }
                    )
                )
            else:
                for line in res.lines:
                    click.echo(line)
                tol = "exact" if res.exact else f"rtol {res.rtol:g}, atol {res.atol:g}"
                click.echo(
                    f"{'reproduced' if res.ok else 'NOT reproduced'}: {res.compared} numbers compared "
                    f"({tol}), {len(res.lines)} difference(s)"
                )
            return 0 if res.ok else 1
        if suite == "sanity":
            from ganeval.report import run_sanity_suite
            from ganeval.report.sanity import sanity_markdown

            res = run_sanity_suite(out, overwrite=overwrite, progress=progress)
            _close(progress)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "metric": "sanity",
                            "out": res["out"],
                            "results": res["results"],
                            "wall_s": res["wall_s"],
                            "version": __version__,
                        }
                    )
                )
            else:
                click.echo(sanity_markdown(res))
                click.echo(f"wrote {res['out']}/report.html ({res['wall_s']:.0f} s)")
            return 0
        if suite == "reference":
            from ganeval.report.suites import SUITE_DATA, run_reference_suite

            seed_list = _ints(seeds, "--seeds") if seeds else [0, 1, 2]
            data_list = [d.strip() for d in data.split(",") if d.strip()] if data else list(SUITE_DATA)
            res = run_reference_suite(
                out, steps=steps, seeds=seed_list, data=data_list, overwrite=overwrite, progress=progress
            )
            _close(progress)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "metric": "reference-suite",
                            **{k: v for k, v in res.items() if k != "subreports"},
                            "version": __version__,
                        }
                    )
                )
            else:
                click.echo(Path(res["out"], "report.md").read_text(encoding="utf-8"))
                click.echo(f"wrote {res['out']}/report.html")
            return 0
        from ganeval.report import build_report
        from ganeval.report.writers import render_markdown

        if suite is not None:  # a packaged example spec
            from ganeval.report.suites import example_spec

            spec = example_spec(suite)

        res = build_report(spec, out, overwrite=overwrite, progress=progress)
        _close(progress)
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "metric": "report",
                        "out": res["out"],
                        "files": res["files"],
                        "candidates": res["candidates"],
                        "columns": res["columns"],
                        "version": res["ganeval_version"],
                    }
                )
            )
        else:
            click.echo(render_markdown(res))
            n_figs = sum(f.endswith(".png") for f in res["files"])
            click.echo(f"wrote {res['out']}: {', '.join(res['files'][:4])} and {n_figs} figure(s) as PNG, PDF, SVG")
        return 0
    finally:
        _close(progress)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _term_as_interrupt():
    """Treat SIGTERM like Ctrl-C while a report is written, so the temporary folder is removed."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _ints(text: str, option: str) -> list[int]:
    try:
        vals = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ParameterError(f"{option} must be comma-separated integers, got {text!r}") from None
    if not vals or min(vals) < 0 or max(vals) > MAX_SEED:
        raise ParameterError(f"{option} must be comma-separated integers in 0..{MAX_SEED}, got {text!r}")
    return vals


COMMANDS = [report]
