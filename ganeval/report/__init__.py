"""Reproducible benchmark reports: a spec in, report.json/html/md/tex and figures out.

- :func:`build_report`: run a spec (:mod:`.spec`) and write the report folder;
- :func:`verify_report`: recompute a report from its recorded spec and inputs;
- :func:`run_sanity_suite` / :func:`reference_suite_spec`: the built-in suites.

See docs/report.md.
"""

from __future__ import annotations

from .build import build_from_spec, build_report
from .spec import ReportSpec, load_spec, parse_spec
from .verify import verify_report

__all__ = [
    "build_report",
    "build_from_spec",
    "verify_report",
    "load_spec",
    "parse_spec",
    "ReportSpec",
    "run_sanity_suite",
    "reference_suite_spec",
]


def run_sanity_suite(*args, **kwargs):
    """See :func:`ganeval.report.sanity.run_sanity_suite`."""
    from .sanity import run_sanity_suite as run

    return run(*args, **kwargs)


def reference_suite_spec(*args, **kwargs):
    """See :func:`ganeval.report.suites.reference_suite_spec`."""
    from .suites import reference_suite_spec as spec

    return spec(*args, **kwargs)
