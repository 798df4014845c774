"""Run a report spec: read every input once, compute every metric, aggregate over seeds.

:func:`run_spec` returns the report as a plain dictionary (what ``report.json`` holds) plus
the pictures the writers draw (sample images, 2-D points, training curves). It writes
nothing itself except the training runs a spec asks for (into ``runs_dir``).

The inputs are read into :class:`~ganeval.report.samples.Sample` objects by
:mod:`ganeval.report.samples`. The metrics go through the library's two entries:
:func:`ganeval.evaluate` (FID, KID, IS, PRDC, MMD on feature rows) and
:func:`ganeval.compare` (ECDF, C2ST, Wasserstein, divergence, nested F1), plus
:func:`ganeval.metrics.modes.mode_metrics` on the 2-D mixtures.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from .files import unique_slugs
from .provenance import environment
from .samples import Sample, feature_options, read_candidate, read_real
from .spec import CandidateSpec, ReportSpec

__all__ = ["run_spec", "Sample", "metric_columns", "Column", "plan_size", "summarize"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    """One leaderboard column: ``metric``'s value ``key``, how to read it."""

    metric: str
    key: str
    label: str
    better: str  # "higher" | "lower" | "0.5"
    interval: str | None = None  # the value that is the metric's own spread (KID std, IS std)

    @property
    def id(self) -> str:
        return f"{self.metric}.{self.key}"


#: columns of the report-only mode metrics (the others come from the metric declarations)
_MODES_COLUMNS = (
    Column("modes", "modes_covered", "Modes", "higher"),
    Column("modes", "high_quality", "High quality", "higher"),
    Column("modes", "kl_uniform", "KL(modes)", "lower"),
)


def metric_columns() -> tuple[Column, ...]:
    """Every leaderboard column: each registered metric's labelled outputs (its main output
    when none is labelled, named after the metric), then the mode metrics."""
    from ..metrics.registry import metrics

    cols = []
    for name, m in metrics().items():
        outs = [o for o in m.all_outputs() if o.label] or [m.main_output()]
        for o in outs:
            better = o.better or "higher"
            cols.append(Column(name, o.key, o.label or name, better, o.spread))
    return (*cols, *_MODES_COLUMNS)


def plan_size(spec: ReportSpec) -> int:
    """Number of progress steps :func:`run_spec` takes (inputs, training runs, metrics)."""
    n = 1
    for c in spec.candidates:
        per = 1 + (1 if c.kind == "train" else 0) + len(spec.metrics)
        n += per * len(c.seeds)
    return n


# -- metrics ---------------------------------------------------------------------------------


def _mixture_of(real_input: str) -> Any:
    """The reference mixture behind ``builtin:ring8`` / ``builtin:grid25`` (else None)."""
    if not real_input.startswith("builtin:"):
        return None
    name = real_input.split(":", 1)[1].partition("/")[0]
    from ..reference.datasets import TRAINABLE, mixture

    if TRAINABLE.get(name) != "mixture":
        return None
    return mixture(name)


def applicable(metric: str, real: Sample, cand: Sample, spec: ReportSpec) -> str | None:
    """Why ``metric`` does not apply to this pair (None: it applies)."""
    rf, cf = real.features, cand.features
    if metric == "modes":
        if _mixture_of(spec.real["input"]) is None:
            return "mode metrics need a reference mixture as the real input (builtin:ring8 or builtin:grid25)"
        if cf.rows is None or cf.rows.shape[1] != 2:
            return f"{cand.name} holds no 2-D points"
        return None
    from ..metrics.registry import get

    takes = get(metric).takes
    if takes == "moments":
        for s in (rf, cf):
            if s.rows is None and s.stats is None:
                return f"{s.name} holds no feature rows or statistics"
        return None
    if takes == "logits":
        if cf.logits is None and not (cf.rows is not None and cf.info.get("extractor") in (None, "identity")):
            return f"{cand.name} has no class logits (extractor {cf.info.get('extractor')!r})"
        return None
    if takes == "generator":
        if cand.generator is None:
            return f"{metric} samples a generator itself; {cand.name} is not a generator candidate"
        return None
    if takes == "train-test-fake" and not spec.real.get("test"):
        return f'{metric} needs [real] test = "..." (held-out real data the generator never saw)'
    if takes == "labelled":
        if not spec.real.get("target"):
            return f'{metric} needs [real] target = "COLUMN" (the class column)'
        if cand.table_input is None or cf.info.get("extractor") not in (None, "identity"):
            return f"{cand.name} is not a table input with the target column"
        return None
    for s in (cf,) if takes == "one-sample" else (rf, cf):
        if s.rows is None:
            what = "statistics (mu/sigma)" if s.stats is not None else "logits"
            return f"{s.name} holds only {what}; {metric} needs feature rows"
    return None


def _options(metric: Any, spec: ReportSpec) -> dict[str, Any]:
    opts = dict(spec.metrics.get(metric.name, {}))
    if metric.seeded and "seed" not in opts:
        opts["seed"] = spec.seed
    return opts


def compute_metric(metric: str, real: Sample, cand: Sample, spec: ReportSpec) -> dict[str, Any]:
    """One metric between the real sample and a candidate, as a plain dictionary."""
    import ganeval

    if metric == "modes":
        r = _modes(real, cand, spec)
    else:
        from ..metrics.registry import get

        m = get(metric)
        opts = _options(m, spec)
        level, bootstrap = spec.intervals.get(metric, (None, 200))
        interval: dict[str, Any] = {"ci": level, "bootstrap": bootstrap, "seed": spec.seed}
        if m.takes == "generator":
            r = ganeval.evaluate(None, cand.generator, [metric], options={metric: opts})[metric]
        elif m.takes == "train-test-fake":
            r = ganeval.evaluate(
                real.features,
                cand.features,
                [metric],
                options={metric: opts},
                real_test=spec.resolve(spec.real["test"]),
                extractor=spec.extractor,
                **feature_options(spec),
            )[metric]
        elif m.takes == "labelled":
            test = spec.real.get("test")
            r = ganeval.evaluate(
                real.table_input,
                cand.table_input,
                [metric],
                options={metric: opts},
                target=spec.real["target"],
                real_test=spec.resolve(test) if test else None,
            )[metric]
        elif m.uses_columns:  # per-feature numbers: the rows read as tables, columns named
            rows_r, rows_c = real.features.rows, cand.features.rows
            if rows_r.shape[1] != rows_c.shape[1]:
                raise DataError(
                    f"feature dimensions differ: {real.name} has {rows_r.shape[1]}, {cand.name} has {rows_c.shape[1]}"
                )
            r = ganeval.evaluate(
                rows_r,
                rows_c,
                [metric],
                options={metric: opts},
                read_as="table",
                names=(real.name, cand.name),
                **interval,
            )[metric]
        else:
            r = ganeval.evaluate(
                real.features, cand.features, [metric], options={metric: opts}, protocol=spec.protocol, **interval
            )[metric]
    out = r.to_dict()
    out.pop("version", None)
    out.pop("per_feature", None)  # per-feature lists stay out of the report (they can be long)
    return out


def _modes(real: Sample, cand: Sample, spec: ReportSpec) -> Any:
    from ..metrics.modes import mode_metrics

    mix = _mixture_of(spec.real["input"])
    rows = cand.features.rows
    kw = {"min_count": max(1, round(20 * rows.shape[0] / 2500)), **spec.metrics.get("modes", {})}
    return mode_metrics(rows, mix.centers, mix.std, **kw)


def run_spec(
    spec: ReportSpec, *, runs_dir: Path, on_step: Callable[[str], None] | None = None, spec_text: str | None = None
) -> dict[str, Any]:
    """Run ``spec``; return the report dictionary, with ``_samples`` (the :class:`Sample`
    objects, for the figures) attached.

    ``on_step(description)`` is called after each step of :func:`plan_size`.
    """
    import torch

    from ..reference.datasets import TRAINABLE  # noqa: F401 - fail early if the reference package is broken

    steps = _Steps(on_step)
    skipped: list[dict[str, str]] = []
    t_start = time.perf_counter()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(spec.threads)
    try:
        real = steps.timed(f"read {spec.real['input']}", lambda: read_real(spec))
        cands_out = []
        samples: dict[str, list[Sample]] = {}
        slugs = unique_slugs([c.name for c in spec.candidates])
        for c in spec.candidates:
            runs = []
            samples[c.name] = []
            for seed in c.seeds:
                sample = read_candidate(c, spec, seed, runs_dir, slugs[c.name], steps.timed)
                samples[c.name].append(sample)
                results = _run_metrics(real, sample, c, seed, spec, steps, skipped)
                runs.append(_run_record(sample, seed, results))
            cands_out.append(
                {"name": c.name, "kind": c.kind, "seeds": list(c.seeds), "runs": runs, "summary": summarize(runs)}
            )
    finally:
        torch.set_num_threads(old_threads)
    report = _report(spec, spec_text, real, cands_out, skipped, steps.timings, t_start)
    report["_samples"] = {"real": real, "candidates": samples}
    return report


class _Steps:
    """The run's steps (:func:`plan_size`): each one timed into ``timings`` and told to ``on_step``."""

    def __init__(self, on_step: Callable[[str], None] | None) -> None:
        self.on_step = on_step or (lambda desc: None)
        self.timings: list[dict[str, Any]] = []

    def timed(self, desc: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.timings.append({"step": desc, "wall_s": round(time.perf_counter() - t0, 3)})
        self.on_step(desc)
        return out


def _run_metrics(
    real: Sample,
    sample: Sample,
    c: CandidateSpec,
    seed: int,
    spec: ReportSpec,
    steps: _Steps,
    skipped: list[dict[str, str]],
) -> dict[str, Any]:
    """Every metric of the spec between the real sample and one run of candidate ``c``; a
    metric that does not apply is an error or, with ``on_inapplicable = "skip"``, skipped
    (recorded in ``skipped`` and warned about once per candidate)."""
    results: dict[str, Any] = {}
    for m in spec.metrics:
        reason = applicable(m, real, sample, spec)
        if reason is not None:
            if spec.on_inapplicable == "error":
                raise InputError(
                    f"metric {m} does not apply to candidate {c.name!r}: {reason} "
                    '(set on_inapplicable = "skip" to skip it)'
                )
            if seed == c.seeds[0]:
                skipped.append({"candidate": c.name, "metric": m, "reason": reason})
                warnings.warn(f"{m} skipped for {c.name!r}: {reason}", stacklevel=3)
            steps.on_step(f"{m} {c.name} (skipped)")
            continue
        results[m] = steps.timed(f"{m} {c.name} seed {seed}", lambda: compute_metric(m, real, sample, spec))
    return results


def _run_record(sample: Sample, seed: int, results: dict[str, Any]) -> dict[str, Any]:
    """One run of a candidate as the report holds it: seed, size, fingerprint, results and
    the training run (its folder relative to the report's ``runs/``)."""
    run = {"seed": seed, "n": sample.features.n, "fingerprint": sample.fingerprint, "results": results}
    if sample.train is not None:
        run["train"] = {k: v for k, v in sample.train.items() if k != "dir"}
        run["train"]["dir"] = str(Path("runs") / Path(sample.train["dir"]).name)
    return run


def _report(
    spec: ReportSpec,
    spec_text: str | None,
    real: Sample,
    cands_out: list[dict[str, Any]],
    skipped: list[dict[str, str]],
    timings: list[dict[str, Any]],
    t_start: float,
) -> dict[str, Any]:
    """The report dictionary (what ``report.json`` holds): the spec, the real input, the
    candidates' runs and summaries, the leaderboard columns and the provenance."""
    from ..version import __version__
    from .files import FORMAT, FORMAT_VERSION

    columns = [c for c in metric_columns() if any(c.id in cand["summary"] for cand in cands_out)]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganeval_version": __version__,
        "title": spec.title,
        "spec": spec.raw,
        "spec_text": spec_text,
        "spec_dir": str(spec.base),
        "real": {
            "name": real.name,
            "input": spec.real["input"],
            "n": real.features.n,
            "fingerprint": real.fingerprint,
            "features": _feature_info(real),
        },
        "candidates": cands_out,
        "columns": [
            {
                "id": c.id,
                "metric": c.metric,
                "key": c.key,
                "label": c.label,
                "better": c.better,
                "best": best_of(c, cands_out),
            }
            for c in columns
        ],
        "skipped": skipped,
        "provenance": {
            **environment(spec.threads, spec.device),
            "seed": spec.seed,
            "steps": timings,
            "total_wall_s": round(time.perf_counter() - t_start, 3),
            "extractor": _feature_info(real),
            "tolerance": TOLERANCE,
        },
    }


#: what --verify accepts: exact on the same machine and thread count; across machines
TOLERANCE: dict[str, dict[str, Any]] = {
    "same_machine": {"rtol": 0.0, "atol": 0.0},
    "other_machine": {
        "rtol": 1e-6,
        "atol": 1e-9,
        "note": "metrics of fixed inputs; training runs and generators may differ "
        "more across CPUs and torch versions (see docs/report.md)",
    },
}


def _feature_info(s: Sample) -> dict[str, Any]:
    info = s.features.info
    return {k: info.get(k) for k in ("extractor", "preprocessing", "weights_sha256") if info.get(k) is not None}


def _numbers(results: dict[str, Any]) -> dict[str, float]:
    out = {}
    for m, r in results.items():
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("n_real", "n_fake"):
                out[f"{m}.{k}"] = float(v)
    return out


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean and std over seeds of every number, and the metric's own interval when one seed.

    Examples
    --------
    >>> s = summarize([{"results": {"fid": {"value": 1.0}}}, {"results": {"fid": {"value": 3.0}}}])
    >>> s["fid.value"]["mean"], s["fid.value"]["std"], s["fid.value"]["n"]
    (2.0, 1.4142135623730951, 2)
    """
    values: dict[str, list[float]] = {}
    for run in runs:
        for k, v in _numbers(run["results"]).items():
            values.setdefault(k, []).append(v)
    out: dict[str, dict[str, Any]] = {}
    for k, vs in values.items():
        arr = np.asarray(vs, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            out[k] = {"mean": None, "std": None, "n": len(vs), "values": [_finite(v) for v in vs]}
            continue
        out[k] = {
            "mean": float(arr.mean()),
            "std": float(arr.std(ddof=1)) if len(vs) > 1 else None,
            "n": len(vs),
            "values": vs,
        }
    for c in metric_columns():
        if c.interval and c.id in out and f"{c.metric}.{c.interval}" in out:
            out[c.id]["interval_std"] = out[f"{c.metric}.{c.interval}"]["mean"]
    return out


def _finite(v: float) -> Any:
    return v if math.isfinite(v) else ("inf" if v > 0 else ("-inf" if v < 0 else "nan"))


def best_of(col: Column, cands: list[dict[str, Any]]) -> list[str]:
    """Names of the candidates best in ``col`` (ties share)."""
    scored = []
    for c in cands:
        s = c["summary"].get(col.id)
        if s is None or s.get("mean") is None:
            continue
        m = s["mean"]
        if col.better in ("higher", "lower"):
            score = -m if col.better == "higher" else m
        else:  # a target value, e.g. "0.5" for a two-sample classifier's accuracy
            score = abs(m - float(col.better))
        scored.append((score, c["name"]))
    if not scored:
        return []
    top = min(sc for sc, _ in scored)
    return [n for sc, n in scored if sc == top]
