"""The reference benchmark: every reference loss on ring8, grid25 and digits, several seeds.

:func:`reference_suite_specs` writes one report spec per data set (TOML text, the same
format a user writes); :func:`run_reference_suite` runs each through the report engine into
``DIR/<data>/`` and writes an index (report.json, report.html, report.md) at ``DIR``.
Each sub-report verifies on its own (``ganeval report --verify DIR/ring8``), and
``--verify DIR`` verifies them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, ParameterError

__all__ = [
    "reference_suite_specs",
    "run_reference_suite",
    "suite_markdown",
    "suite_index",
    "SUITE_DATA",
    "DEFAULT_STEPS",
    "EXAMPLES",
    "example_spec",
]

SUITE_DATA = ("ring8", "grid25", "digits")
#: generator updates per run in the full suite (digits with batch 64: see docs/report.md)
DEFAULT_STEPS = {"ring8": 2000, "grid25": 2000, "digits": 3000}
_BATCH = {"digits": 64}
#: the 2-D mixtures' C2ST uses k-NN: a linear classifier cannot tell a ring of 8 modes from a
#: smeared circle (accuracy 0.50 where k-NN gives 0.95; docs/reference-benchmark.md)
_METRICS = {
    "mixture": 'fid = {}\nkid = {subsets = 50}\nprdc = {k = 5}\nmodes = {}\necdf = {}\nc2st = {classifier = "knn"}\n',
    "image": "fid = {}\nkid = {subsets = 50}\nprdc = {k = 5}\nis = {}\necdf = {}\nc2st = {}\n",
}


#: report specs shipped inside the package (ganeval/report/examples/NAME.toml; a copy of each is
#: in the repository's examples/), run by ``ganeval report --suite NAME``
EXAMPLES = ("digits",)


def example_spec(name: str) -> Path:
    """Path of the packaged example report spec ``name`` (one of :data:`EXAMPLES`).

    Examples
    --------
    >>> example_spec("digits").name
    'digits.toml'
    """
    if name not in EXAMPLES:
        raise ParameterError(f"example must be one of {', '.join(EXAMPLES)}; got {name!r}")
    path = Path(__file__).resolve().parent / "examples" / f"{name}.toml"
    if not path.is_file():
        raise InputError(f"example spec {path} is missing from this installation of ganeval")
    return path


def reference_suite_specs(
    *, steps: int | None = None, seeds: Sequence[int] = (0, 1, 2), data: Sequence[str] = SUITE_DATA, threads: int = 1
) -> dict[str, str]:
    """``{data: spec TOML text}``: every loss of :data:`ganeval.reference.losses.LOSSES`, plus
    a Smirnov-layer generator (non-saturating loss), trained with each seed.

    ``steps`` overrides :data:`DEFAULT_STEPS` (a quick suite for tests).

    Examples
    --------
    >>> from ganeval.report.spec import parse_spec
    >>> text = reference_suite_specs(steps=10, seeds=[0], data=["ring8"])["ring8"]
    >>> [c.name for c in parse_spec(text).candidates][:3]
    ['minimax', 'non-saturating', 'wgan']
    """
    from ..errors import ParameterError
    from ..reference.datasets import TRAINABLE
    from ..reference.losses import LOSSES

    out = {}
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ParameterError("seeds: give at least one seed")
    for d in data:
        if d not in SUITE_DATA:
            raise ParameterError(f"reference suite data must be among {', '.join(SUITE_DATA)}; got {d!r}")
        n = DEFAULT_STEPS[d] if steps is None else int(steps)
        if n < 1:
            raise ParameterError(f"steps must be >= 1, got {steps!r}")
        batch = f", batch_size = {_BATCH[d]}" if d in _BATCH else ""
        lines = [
            f'title = "reference GANs on {d} ({n} steps, seeds {seeds})"',
            "seed = 0",
            f"threads = {threads}",
            'extractor = "auto"',
            'on_inapplicable = "skip"',
            "",
            "[real]",
            f'input = "builtin:{d}/test"',
            "",
            "[metrics]",
            _METRICS[TRAINABLE[d]],
        ]
        variants = [(loss, loss, "") for loss in LOSSES] + [
            ("smirnov (non-saturating)", "non-saturating", ", smirnov = true")
        ]
        for name, loss, extra in variants:
            lines += [
                "[[candidates]]",
                f'name = "{name}"',
                f'train = {{data = "{d}", loss = "{loss}", steps = {n}{batch}{extra}, seeds = {seeds}}}',
                "",
            ]
        out[d] = "\n".join(lines)
    return out


def suite_markdown(subs: dict[str, dict[str, Any]]) -> str:
    """The suite's index report.md: each data set's leaderboard and a link to its report."""
    from .writers import render_markdown

    md = ["# ganeval reference benchmark", ""]
    for d, sub in subs.items():
        md += [
            f"## {d}",
            "",
            render_markdown(sub).split("\n", 2)[2],
            f"Full report: [{d}/report.html]({d}/report.html)",
            "",
        ]
    return "\n".join(md)


def suite_index(reports: list[str], steps: dict[str, int], seeds: list[int], wall_s: Any) -> dict[str, Any]:
    """The index (``report.json``) of a reference suite: its reports (data sets), training
    steps per report, seeds and wall times; what ``--verify`` expects of a suite's index."""
    from ..version import __version__
    from .files import FORMAT, FORMAT_VERSION

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganeval_version": __version__,
        "suite": "reference",
        "title": "ganeval reference benchmark",
        "spec_text": None,
        "reports": reports,
        "steps": steps,
        "seeds": seeds,
        "wall_s": wall_s,
    }


def _suite_html(index: dict[str, Any]) -> str:
    """The suite's ``report.html``: a link to each report with its wall time, and the index."""
    import html
    import json

    links = "".join(
        f"<li><a href='{d}/report.html'>{html.escape(d)}</a> ({index['wall_s'][d]:.0f} s)</li>"
        for d in index["reports"]
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>ganeval reference benchmark"
        f"</title></head><body><h1>ganeval reference benchmark</h1><ul>{links}</ul>"
        f"<pre>{html.escape(json.dumps(index, indent=1))}</pre></body></html>\n"
    )


def run_reference_suite(
    out: Any,
    *,
    steps: int | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    data: Sequence[str] = SUITE_DATA,
    overwrite: bool = False,
    threads: int = 1,
    progress: Callable[[int], Callable[[str], None]] | None = None,
) -> dict[str, Any]:
    """Run the reference suite into ``out`` (one report per data set, plus an index)."""
    from .build import build_from_spec
    from .engine import plan_size
    from .files import REPORT_JSON, ReportFolder, write_file, write_json
    from .spec import parse_spec

    texts = reference_suite_specs(steps=steps, seeds=seeds, data=data, threads=threads)
    specs = {d: parse_spec(t, name=f"reference suite {d}") for d, t in texts.items()}
    total = sum(plan_size(s) + 1 for s in specs.values())
    on_step = progress(total) if progress is not None else None
    folder = ReportFolder(out, overwrite=overwrite)
    try:
        subs: dict[str, dict[str, Any]] = {}
        for d, spec in specs.items():
            sub = build_from_spec(
                spec,
                folder.path(d),
                spec_text=texts[d],
                protect_base=False,
                progress=(lambda _n: on_step) if on_step is not None else None,
            )
            subs[d] = sub
        write_file(folder.path("report.md"), suite_markdown(subs))
        index = suite_index(
            list(subs),
            {d: (DEFAULT_STEPS[d] if steps is None else steps) for d in subs},
            list(seeds),
            {d: s["provenance"]["total_wall_s"] for d, s in subs.items()},
        )
        write_json(folder.path(REPORT_JSON), index)
        write_file(folder.path("report.html"), _suite_html(index))
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    index["out"] = str(folder.out)
    index["subreports"] = subs
    return index
