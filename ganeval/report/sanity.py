"""The metric sanity suite: do the metrics move the right way as the data gets worse?

On the embedded digits (features of the embedded digits network), each disturbance of
:mod:`ganeval.report.disturb` is applied to the *test* split at levels 0..5 and compared
with the *train* split. For every metric x disturbance the suite reports the Spearman
correlation between level and metric, the expected direction (:data:`EXPECTED`), and
pass (rho >= 0.8 in the expected direction) or fail. Level 0 (the untouched test split) is
computed once and shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DataError
from .disturb import DISTURBANCE_NAMES, disturb_digits

__all__ = [
    "run_sanity_suite",
    "compute_sanity",
    "sanity_report",
    "sanity_latex",
    "sanity_html_table",
    "EXPECTED",
    "SANITY_METRICS",
    "PASS_RHO",
]

#: the numbers tracked: (label, metric, value key)
SANITY_METRICS = (
    ("FID", "fid", "value"),
    ("KID", "kid", "value"),
    ("precision", "prdc", "precision"),
    ("recall", "prdc", "recall"),
    ("density", "prdc", "density"),
    ("coverage", "prdc", "coverage"),
    ("MMD", "mmd", "value"),
    ("ECDF", "ecdf", "value"),
    ("C2ST", "c2st", "accuracy"),
)
PASS_RHO = 0.8
_DIST = ("FID", "KID", "MMD", "ECDF", "C2ST")
_IMAGE = ("gaussian_noise", "gaussian_blur", "black_rectangles", "salt_and_pepper", "swirl")


def _expected() -> dict[str, dict[str, str]]:
    exp: dict[str, dict[str, str]] = {}
    for d in _IMAGE:
        exp[d] = {
            **dict.fromkeys(_DIST, "up"),
            "precision": "down",
            "recall": "down",
            "density": "down",
            "coverage": "down",
        }
    exp["mode_dropping"] = {**dict.fromkeys(_DIST, "up"), "recall": "down", "coverage": "down"}
    exp["mode_collapse"] = {**dict.fromkeys(_DIST, "up"), "recall": "down", "coverage": "down"}
    # copies of the training images: every two-sample metric *rewards* them (the known blind
    # spot; a memorisation metric is needed to flag them)
    exp["memorisation"] = {
        **dict.fromkeys(_DIST, "down"),
        "precision": "up",
        "recall": "up",
        "density": "up",
        "coverage": "up",
    }
    exp["mixing"] = {**dict.fromkeys(_DIST, "up"), "precision": "down", "density": "down"}
    return exp


#: expected direction of each metric under each disturbance ("up", "down"; absent: none stated)
EXPECTED: dict[str, dict[str, str]] = _expected()


def _metrics(real: Any, fake_images: np.ndarray, seed: int) -> dict[str, float]:
    import ganeval

    opts: dict[str, Any] = dict(
        extractor="digits", cache=False, progress=False, device="cpu", batch_size=500, num_workers=0
    )
    fake = ganeval.load_features(fake_images, **opts)
    res = ganeval.evaluate(
        real,
        fake,
        ["fid", "kid", "prdc", "mmd"],
        options={"kid": {"subsets": 50, "seed": seed}, "prdc": {"k": 5}, "mmd": {"seed": seed}},
    )
    tab = ganeval.compare(
        real.rows,
        fake.rows,
        ["ecdf", "c2st"],
        options={"c2st": {"seed": seed}},
        names=("builtin:digits/train", "disturbed test"),
    )
    res.update(tab)
    return {label: float(res[m].values[k]) for label, m, k in SANITY_METRICS} | {"n": int(fake.n)}


def compute_sanity(
    *, seed: int = 0, disturbances: tuple[str, ...] = DISTURBANCE_NAMES, on_step: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The suite's numbers: ``table[disturbance][metric]`` = values at levels 0..5, the
    Spearman correlations and verdicts.

    The expectations it checks live in :data:`EXPECTED`.

    Examples
    --------
    >>> EXPECTED["gaussian_noise"]["FID"], EXPECTED["mode_dropping"]["coverage"]
    ('up', 'down')
    >>> "precision" in EXPECTED["mode_dropping"]  # no direction stated
    False
    """
    import torch

    import ganeval

    from ..features.digits import digits_images
    from ..sources.builtin import load_builtin

    step = on_step or (lambda d: None)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    try:
        real = ganeval.load_features(
            "builtin:digits/train", extractor="digits", cache=False, progress=False, device="cpu", num_workers=0
        )
        data, idx = load_builtin("digits", "test")
        if data.labels is None:
            raise DataError("builtin:digits: the bundled set has no labels")
        test, labels, train = digits_images("test"), data.labels[idx], digits_images("train")
        base = _metrics(real, test, seed)
        step("level 0")
        table: dict[str, dict[str, list[float]]] = {}
        sizes: dict[str, list[int]] = {}
        for d in disturbances:
            table[d] = {label: [base[label]] for label, _, _ in SANITY_METRICS}
            sizes[d] = [int(base["n"])]
            for level in range(1, 6):
                imgs, _ = disturb_digits(test, labels, d, level, seed=seed, train_images=train)
                vals = _metrics(real, imgs, seed)
                for label, _, _ in SANITY_METRICS:
                    table[d][label].append(vals[label])
                sizes[d].append(int(vals["n"]))
                step(f"{d} level {level}")
    finally:
        torch.set_num_threads(old)
    results = [_verdict(d, label, table[d][label]) for d in disturbances for label, _, _ in SANITY_METRICS]
    return {
        "table": table,
        "sizes": sizes,
        "results": results,
        "levels": list(range(6)),
        "wall_s": round(time.perf_counter() - t0, 3),
        "seed": seed,
        "pass_rho": PASS_RHO,
    }


def _verdict(disturbance: str, label: str, series: list[float]) -> dict[str, Any]:
    """One metric under one disturbance: the Spearman correlation of its values with the
    level (None when constant) and the verdict against :data:`EXPECTED` (``-``: no
    direction stated)."""
    from scipy.stats import spearmanr

    rho = spearmanr(np.arange(6), series).statistic if np.ptp(series) > 0 else float("nan")
    rho = None if rho is None or not np.isfinite(rho) else float(rho)
    exp = EXPECTED.get(disturbance, {}).get(label)
    if exp is None:
        verdict = "-"
    elif rho is None:
        verdict = "fail"
    else:
        verdict = "pass" if (rho >= PASS_RHO if exp == "up" else rho <= -PASS_RHO) else "fail"
    return {
        "disturbance": disturbance,
        "metric": label,
        "expected": exp,
        "spearman": rho,
        "verdict": verdict,
        "values": series,
    }


def sanity_markdown(out: dict[str, Any]) -> str:
    """The results as one Markdown table: a row per disturbance, a column per metric,
    each cell ``expected: rho verdict``."""
    labels = [label for label, _, _ in SANITY_METRICS]
    by = {(r["disturbance"], r["metric"]): r for r in out["results"]}
    arrow = {"up": "↑", "down": "↓", None: "·"}
    lines = ["| disturbance | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for d in out["table"]:
        cells = []
        for label in labels:
            r = by[(d, label)]
            rho = "nan" if r["spearman"] is None else f"{r['spearman']:+.2f}"
            mark = {"pass": "✓", "fail": "**✗**", "-": ""}[r["verdict"]]
            cells.append(f"{arrow[r['expected']]} {rho} {mark}".strip())
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    n_pass = sum(r["verdict"] == "pass" for r in out["results"])
    n_exp = sum(r["verdict"] != "-" for r in out["results"])
    lines += [
        "",
        f"Cells: expected direction (↑ up, ↓ down, · none stated), Spearman rho of level 0..5 vs "
        f"metric, ✓ pass (|rho| >= {out['pass_rho']} in the expected direction) / ✗ fail. "
        f"{n_pass} of {n_exp} expectations pass.",
    ]
    return "\n".join(lines) + "\n"


def sanity_report(res: dict[str, Any], disturbances: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """What the suite's report.json holds for the numbers ``res`` of :func:`compute_sanity`."""
    from ..version import __version__
    from .files import FORMAT, FORMAT_VERSION
    from .provenance import environment

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ganeval_version": __version__,
        "suite": "sanity",
        "title": "ganeval metric sanity suite",
        "spec_text": None,
        "disturbances": list(disturbances),
        "expected": EXPECTED,
        **res,
        "provenance": environment(1, "cpu"),
        "figures": ["figures/sanity_grid.png"],
    }


def _cells(res: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    labels = [label for label, _, _ in SANITY_METRICS]
    by = {(r["disturbance"], r["metric"]): r for r in res["results"]}
    return [(d, [by[(d, label)] for label in labels]) for d in res["table"]]


def _rho(r: dict[str, Any]) -> str:
    return "nan" if r["spearman"] is None else f"{r['spearman']:+.2f}"


def sanity_latex(res: dict[str, Any]) -> str:
    """The suite's report.tex: a row per disturbance, Spearman rho per metric (failures bold)."""
    labels = [label for label, _, _ in SANITY_METRICS]
    tex = [
        "\\begin{tabular}{l" + "r" * len(labels) + "}",
        "\\hline",
        "disturbance & " + " & ".join(labels) + " \\\\",
        "\\hline",
    ]
    for d, rs in _cells(res):
        cells = ["\\textbf{" + _rho(r) + "}" if r["verdict"] == "fail" else _rho(r) for r in rs]
        tex.append(d.replace("_", "\\_") + " & " + " & ".join(cells) + " \\\\")
    tex += ["\\hline", "\\end{tabular}", ""]
    return "\n".join(tex)


def sanity_html_table(res: dict[str, Any]) -> str:
    """The suite's table in report.html (``<table id="leaderboard">``)."""
    import html

    labels = [label for label, _, _ in SANITY_METRICS]
    rows = []
    for d, rs in _cells(res):
        tds = []
        for r in rs:
            cls = {"pass": "best", "fail": "fail"}.get(r["verdict"], "")
            arrow = {"up": "↑", "down": "↓"}.get(r["expected"], "·")
            tds.append(f"<td class='{cls}'>{arrow} {_rho(r)}</td>")
        rows.append(f"<tr><td>{html.escape(d)}</td>{''.join(tds)}</tr>")
    head = "".join(f"<th>{html.escape(x)}</th>" for x in labels)
    return (
        f'<table id="leaderboard"><thead><tr><th>disturbance</th>{head}</tr></thead>\n'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def run_sanity_suite(
    out: Any,
    *,
    overwrite: bool = False,
    seed: int = 0,
    disturbances: tuple[str, ...] = DISTURBANCE_NAMES,
    progress: Callable[[int], Callable[[str], None]] | None = None,
) -> dict[str, Any]:
    """Run the suite and write report.json, report.html, report.md, report.tex and
    figures/sanity_grid.png into ``out`` (atomically, as a report)."""
    import base64
    import html
    import json

    from .figures import level_grid_png
    from .files import REPORT_JSON, ReportFolder, write_file, write_json

    for d in disturbances:
        if d not in DISTURBANCE_NAMES:
            from ..errors import ParameterError

            raise ParameterError(f"disturbance must be one of {', '.join(DISTURBANCE_NAMES)}; got {d!r}")
    folder = ReportFolder(out, overwrite=overwrite)
    try:
        on_step = progress(1 + 5 * len(disturbances)) if progress is not None else None
        res = compute_sanity(seed=seed, disturbances=disturbances, on_step=on_step)
        labels = [label for label, _, _ in SANITY_METRICS]
        verdicts = {(r["disturbance"], r["metric"]): r["verdict"] for r in res["results"]}
        png = level_grid_png(res["table"], labels, res["levels"], verdicts)
        write_file(folder.path("figures", "sanity_grid.png"), png)
        report = sanity_report(res, disturbances)
        write_json(folder.path(REPORT_JSON), report)
        write_file(folder.path("report.md"), "# ganeval metric sanity suite\n\n" + sanity_markdown(res))
        write_file(folder.path("report.tex"), sanity_latex(res))
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ganeval metric sanity suite</title><style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:3px 8px;text-align:right}} td:first-child{{text-align:left}}
td.best{{background:#d9f2d9}} td.fail{{background:#f7d4d4;font-weight:bold}}</style></head><body>
<h1>ganeval metric sanity suite</h1>
<p>Digits test split disturbed at levels 0..5 vs the train split, digits-network features. Cells: expected
direction (↑/↓, · none), Spearman rho of level vs metric; green pass, red fail (|rho| &ge; {PASS_RHO}).</p>
{sanity_html_table(res)}
<figure><img alt="sanity_grid.png" src="data:image/png;base64,{base64.b64encode(png).decode()}">
<figcaption>metric vs level, frame green = pass, red = fail</figcaption></figure>
<h2>Provenance</h2><pre>{html.escape(json.dumps(report["provenance"], indent=1))}</pre>
<p>Wall time: {res["wall_s"]} s.</p></body></html>
"""
        write_file(folder.path("report.html"), page)
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    report["out"] = str(folder.out)
    return report
