"""The report's files: report.json, report.html (self-contained), report.md, report.tex, figures/.

Everything is written through :func:`ganeval.report.files.write_file` into the report's
temporary folder. Numbers come as text from :mod:`ganeval.report.cells` (one decimal count
per column, never e-notation, each number with its spread), so the three tables agree.

- ``report.md``: one Markdown table;
- ``report.tex``: a ``booktabs`` fragment that fits the text width of a 10 pt ``article``
  (345 pt): the columns are split into several tables, metric families kept together,
  stacked in one box, so the whole fragment also goes into ``\\resizebox``;
- ``report.html``: one page, the settings in words, figures across the page's width,
  provenance folded in ``<details>``;
- ``figures/NAME.png`` (200 dpi), ``.pdf`` and ``.svg``.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cells import Cell, interval_levels, leaderboard_cells
from .files import REPORT_JSON, write_file, write_json

__all__ = [
    "write_report",
    "format_cell",
    "leaderboard_rows",
    "render_markdown",
    "render_latex",
    "render_html",
    "latex_parts",
    "FigureFile",
    "TEXT_WIDTH_PT",
    "figure_names",
]

_BETTER = {"higher": "higher is better", "lower": "lower is better", "0.5": "0.5 is best"}
_ARROW = {"higher": "↑", "lower": "↓", "0.5": "→0.5"}
#: \textwidth of a 10 pt LaTeX article (the narrowest common one-column page); report.tex fits it
TEXT_WIDTH_PT = 345.0


def format_cell(s: dict[str, Any] | None, decimals: int | None = None) -> str:
    """One summary entry as text, alone (a table decides ``decimals`` per column).

    ``mean ± std`` over seeds; one seed with the metric's own spread: ``value (± s)``.

    Examples
    --------
    >>> format_cell({"mean": 1.5, "std": 0.25, "n": 3})
    '1.50 ± 0.25'
    >>> format_cell({"mean": 0.01, "std": None, "n": 1, "interval_std": 0.002})
    '0.0100 (± 0.0020)'
    """
    cand = {"name": "", "runs": [{}], "summary": {"x.value": s or {}}}
    col = {"id": "x.value", "metric": "x", "key": "value"}
    if decimals is None:
        return leaderboard_cells({"candidates": [cand], "columns": [col]})[0][1][0].text()
    from .cells import cell_numbers, cell_of

    return cell_of(*cell_numbers(cand, col), decimals).text()


def leaderboard_rows(report: dict[str, Any]) -> list[tuple[str, list[tuple[str, bool]]]]:
    """``[(candidate, [(cell text, is best), ...]), ...]`` in the order of ``columns``."""
    return [(name, [(c.text(), c.best) for c in cells]) for name, cells in leaderboard_cells(report)]


def _notation(report: dict[str, Any], cells: Sequence[Cell]) -> list[str]:
    """Sentences that explain the spreads present in ``cells``."""
    kinds = {c.kind for c in cells}
    out = []
    if "seeds" in kinds:
        out.append("a ± b: mean ± std over seeds")
    if "ci" in kinds:
        levels = interval_levels(report)
        lv = ", ".join(f"{100 * lvl:g} %" + (f" ({b} resamples)" if b else "") for lvl, b in levels) or "the spec's"
        out.append(f"a [lo, hi]: one seed, bootstrap interval at {lv}")
    if "own" in kinds:
        out.append("a (± b): one seed, the metric's own std (KID over subsets, IS over splits)")
    return out


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureFile:
    """One figure: its file stem under ``figures/``, caption, section, panel count, rendered files."""

    stem: str
    caption: str
    section: str  # "metrics" | "samples" | "curves"
    panels: int
    files: dict[str, bytes]  # {"png": ..., "pdf": ..., "svg": ...}


def _figures(report: dict[str, Any]) -> list[FigureFile]:
    """Every figure of the report, rendered as PNG, PDF and SVG: one per metric family, then
    the samples of the real input and of each candidate, then the training curves."""
    samples = report.get("_samples", {})
    return _metric_figures(report) + _sample_figures(samples) + _curve_figures(samples)


def _metric_figures(report: dict[str, Any]) -> list[FigureFile]:
    """One bar figure per metric family (its columns side by side)."""
    from .figures import figure_files, metric_family_figure
    from .files import file_slug

    out: list[FigureFile] = []
    families = list(dict.fromkeys(c["metric"] for c in report["columns"]))
    bars = (
        "error bars: std over seeds (several seeds), else the bootstrap interval, else the metric's own std (KID, IS)"
    )
    for fam in families:
        cols = [c for c in report["columns"] if c["metric"] == fam]
        fig = metric_family_figure(fam, report["columns"], report["candidates"])
        out.append(
            FigureFile(
                f"metric_{file_slug(fam)}",
                f"{', '.join(c['label'] for c in cols)}: mean over seeds; {bars}; green = best",
                "metrics",
                len(cols),
                figure_files(fig),
            )
        )
    return out


def _sample_figures(samples: dict[str, Any]) -> list[FigureFile]:
    """The real images, then each candidate's first-seed images (or its 2-D points over
    the real points)."""
    from .figures import figure_files, image_grid_figure, scatter_figure
    from .files import unique_slugs

    out: list[FigureFile] = []
    slugs = unique_slugs(["real", *samples.get("candidates", {})])
    real = samples.get("real")
    if real is not None and real.images is not None:
        out.append(
            FigureFile(
                "samples_real",
                f"real: {real.name}",
                "samples",
                1,
                figure_files(image_grid_figure(real.images, f"real: {real.name}")),
            )
        )
    for name, ss in samples.get("candidates", {}).items():
        if not ss:
            continue
        first = ss[0]
        if first.images is not None:
            out.append(
                FigureFile(
                    f"samples_{slugs[name]}",
                    f"samples of {name} (seed {first.seed})",
                    "samples",
                    1,
                    figure_files(image_grid_figure(first.images, f"{name} (seed {first.seed})")),
                )
            )
        elif first.points is not None:
            ref = real.points if real is not None else None
            out.append(
                FigureFile(
                    f"scatter_{slugs[name]}",
                    f"samples of {name} (seed {first.seed}) over the real points",
                    "samples",
                    1,
                    figure_files(scatter_figure(first.points, ref, f"{name} (seed {first.seed})")),
                )
            )
    return out


def _curve_figures(samples: dict[str, Any]) -> list[FigureFile]:
    """One figure of training curves per trained candidate (one line per seed)."""
    from .figures import curves_figure, figure_files
    from .files import unique_slugs

    out: list[FigureFile] = []
    slugs = unique_slugs(["real", *samples.get("candidates", {})])
    for name, ss in samples.get("candidates", {}).items():
        curves = {s.seed: s.train["curves"] for s in ss if s.train is not None and s.train.get("curves")}
        if curves:
            fig = curves_figure(curves, f"Training curves of {name} (against the data set's test split)")
            if fig is not None:
                out.append(
                    FigureFile(
                        f"curves_{slugs[name]}",
                        f"training curves of {name}, one line per seed (metrics.jsonl)",
                        "curves",
                        len(fig.axes),
                        figure_files(fig),
                    )
                )
    return out


def figure_names(report: dict[str, Any]) -> list[str]:
    """The ``figures/...`` files :func:`write_report` writes for ``report`` (what report.json lists)."""
    return [f"figures/{f.stem}.png" for f in _figures(report)]


def write_report(report: dict[str, Any], folder: Path) -> list[str]:
    """Write report.json, report.html, report.md, report.tex and figures/NAME.{png,pdf,svg}
    into ``folder``; return the file names written (the four reports first, then the PNGs,
    then the PDFs and SVGs)."""
    figs = _figures(report)
    clean = {k: v for k, v in report.items() if not k.startswith("_")}
    clean["figures"] = [f"figures/{f.stem}.png" for f in figs]
    written: dict[str, list[str]] = {"png": [], "pdf": [], "svg": []}
    for f in figs:
        for fmt, data in f.files.items():
            write_file(folder / "figures" / f"{f.stem}.{fmt}", data)
            written[fmt].append(f"figures/{f.stem}.{fmt}")
    write_json(folder / REPORT_JSON, clean)
    write_file(folder / "report.md", render_markdown(clean))
    write_file(folder / "report.tex", render_latex(clean))
    write_file(folder / "report.html", render_html(clean, figs))
    return [REPORT_JSON, "report.html", "report.md", "report.tex", *written["png"], *written["pdf"], *written["svg"]]


# -- markdown --------------------------------------------------------------------------------


def _md_cell(c: Cell) -> str:
    text = f"**{c.value}** {c.spread_text()}".rstrip() if c.best else c.text()
    return text.replace("[", "\\[").replace("]", "\\]").replace("<", "\\<")


def _direction_line(report: dict[str, Any]) -> str:
    return "; ".join(f"{c['label']}: {_BETTER[c['better']]}" for c in report["columns"])


def _md(text: Any) -> str:
    r"""``text`` as literal Markdown inline text: one line, table pipes, emphasis, code,
    links and HTML escaped.

    Examples
    --------
    >>> print(_md("a|b\n<i>*c*</i>"))
    a\|b &lt;i&gt;\*c\*&lt;/i&gt;
    """
    out = []
    for ch in " ".join(str(text).splitlines()):
        if ch in "\\`*_[]|~":
            out.append("\\" + ch)
        elif ch == ">":
            out.append("&gt;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == "&":
            out.append("&amp;")
        else:
            out.append(ch)
    return "".join(out)


def render_markdown(report: dict[str, Any]) -> str:
    """The leaderboard as a Markdown table (best per column in bold).

    Examples
    --------
    >>> rep = {"title": "t", "real": {"input": "r.npy", "n": 10}, "ganeval_version": "0", "skipped": [],
    ...        "columns": [{"id": "fid.value", "metric": "fid", "key": "value", "label": "FID",
    ...                     "better": "lower", "best": ["a"]}],
    ...        "candidates": [{"name": "a", "runs": [{}], "summary": {"fid.value": {"mean": 0.0302}}},
    ...                       {"name": "b", "runs": [{}], "summary": {"fid.value": {"mean": 10.54}}}]}
    >>> print(render_markdown(rep).splitlines()[7])
    | b | 10.54 |
    """
    cols = report["columns"]
    rows = leaderboard_cells(report)
    lines = [
        f"# {_md(report['title'])}",
        "",
        f"Real data: `{str(report['real']['input']).replace('`', '')}` (n = {report['real']['n']}); "
        + (f"protocol `{_protocol_name(report)}`; " if _protocol_name(report) else "")
        + f"ganeval {report['ganeval_version']}.",
        "",
        "| candidate | " + " | ".join(f"{_md(c['label'])} {_ARROW[c['better']]}" for c in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for name, cells in rows:
        lines.append(f"| {_md(name)} | " + " | ".join(_md_cell(c) for c in cells) + " |")
    notes = _notation(report, [c for _, cells in rows for c in cells])
    lines += [
        "",
        f"Directions: {_direction_line(report)}. Bold: best per column" + "".join(f"; {n}" for n in notes) + ".",
        "",
    ]
    if report.get("skipped"):
        lines.append(
            "Skipped: "
            + "; ".join(f"{_md(s['metric'])} for {_md(s['candidate'])} ({_md(s['reason'])})" for s in report["skipped"])
            + "."
        )
        lines.append("")
    return "\n".join(lines)


# -- latex -----------------------------------------------------------------------------------


def _tex(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (text mode, one line)."""
    text = " ".join(str(text).splitlines())  # a newline would end a comment or a table row
    repl = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        "<": r"\textless{}",
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        "±": r"$\pm$",
        "–": "--",
        "↑": r"$\uparrow$",
        "↓": r"$\downarrow$",
        "→": r"$\to$",
    }
    return "".join(repl.get(ch, ch) for ch in text)


def _tex_num(text: str) -> str:
    """A formatted number in LaTeX: math minus, ``<`` in math, ``--`` for a missing number."""
    if text == "–":
        return "--"
    if text.startswith("<"):
        return "$<$" + text[1:]
    if text.startswith("-"):
        return "$-$" + text[1:]
    return _tex(text)


def _tex_spread(c: Cell) -> str:
    if c.kind == "seeds":
        return r"$\pm$" + _tex_num(c.spread or "")
    if c.kind == "own":
        return r"($\pm$" + _tex_num(c.spread or "") + ")"
    if c.kind == "ci":
        return f"[{_tex_num(c.low or '')}, {_tex_num(c.high or '')}]"
    return ""


def _tex_label(label: str) -> str:
    """A column label in LaTeX: ``MMD^2`` -> ``MMD$^{2}$``.

    Examples
    --------
    >>> _tex_label("MMD^2"), _tex_label("ECDF L^p"), _tex_label("KL(modes)")
    ('MMD$^{2}$', 'ECDF $L^{p}$', 'KL(modes)')
    """
    import re

    out = []
    for word in label.split(" "):
        m = re.fullmatch(r"([A-Za-z]+)\^([A-Za-z0-9]+)", word)
        if m and len(m.group(1)) == 1:
            out.append(f"${m.group(1)}^{{{m.group(2)}}}$")
        elif m:
            out.append(f"{_tex(m.group(1))}$^{{{m.group(2)}}}$")
        else:
            out.append(_tex(word))
    return " ".join(out)


def _tex_cell(c: Cell) -> str:
    value = _tex_num(c.value)
    if c.best:
        value = r"\textbf{" + value + "}"
    spread = _tex_spread(c)
    if not spread:
        return value
    cell = r"\begin{tabular}[t]{@{}r@{}}" + value + r"\\[-1pt]{\scriptsize " + spread + r"}\end{tabular}"
    return cell.replace("$$<", "{<}")  # $\pm$$<$0.001 -> $\pm{<}$0.001


_TEX_ARROW = {"higher": r"$\uparrow$", "lower": r"$\downarrow$", "0.5": r"$\to$0.5"}


def _text_width(text: str, size: float = 1.0) -> float:
    """Rough width in pt of ``text`` in 10 pt Computer Modern (digits 5 pt)."""
    w = 0.0
    for ch in text:
        w += (
            7.2
            if ch.isupper()
            else 5.0
            if ch.isdigit()
            else 7.8
            if ch in "-±<"
            else 3.3
            if ch == " "
            else 2.8
            if ch in ".,:;()[]"
            else 4.7
        )
    return w * size


def _col_width(label: str, better: str, cells: Sequence[Cell]) -> float:
    head = _text_width(label) + (10 if better != "0.5" else 20)
    body = max(
        [_text_width(c.value) * (1.1 if c.best else 1.0) for c in cells]
        + [_text_width(c.spread_text(), 0.8) for c in cells]
        + [0.0]
    )  # \scriptsize: cmr7 digits are 4 pt
    return max(head, body) + 12.0  # \tabcolsep on both sides


def latex_parts(report: dict[str, Any], width_pt: float = TEXT_WIDTH_PT) -> list[list[int]]:
    """Column indices of each table of ``report.tex``: metric families kept together, each
    table (with the candidate column) estimated to fit ``width_pt``.

    Examples
    --------
    >>> cols = [{"id": f"m{i}.value", "metric": f"m{i // 2}", "key": "value", "label": f"Metric {i}",
    ...          "better": "lower", "best": []} for i in range(8)]
    >>> rep = {"columns": cols, "candidates": [{"name": "a", "runs": [{}], "summary": {}}]}
    >>> latex_parts(rep, width_pt=320)
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    cols = report["columns"]
    rows = leaderboard_cells(report)
    name_w = max([_text_width(n) for n, _ in rows] + [_text_width("candidate")]) + 12.0
    widths = [_col_width(col["label"], col["better"], [cells[j] for _, cells in rows]) for j, col in enumerate(cols)]
    budget = max(0.95 * width_pt - name_w, 1.0)  # 5 % margin: the widths are estimates
    families: dict[str, list[int]] = {}
    for j, col in enumerate(cols):
        families.setdefault(col["metric"], []).append(j)
    parts: list[list[int]] = []
    cur: list[int] = []
    cur_w = 0.0
    for idx in families.values():
        fam_w = sum(widths[j] for j in idx)
        if cur and cur_w + fam_w > budget:
            parts.append(cur)
            cur, cur_w = [], 0.0
        for j in idx:  # a family wider than a table on its own is split too
            if cur and cur_w + widths[j] > budget:
                parts.append(cur)
                cur, cur_w = [], 0.0
            cur.append(j)
            cur_w += widths[j]
    if cur:
        parts.append(cur)
    return parts


def render_latex(report: dict[str, Any], width_pt: float = TEXT_WIDTH_PT) -> str:
    """The leaderboard as a ``booktabs`` fragment for a ``table`` float (best per column bold).

    The columns are split into tables that each fit ``width_pt`` (see :func:`latex_parts`);
    the tables are stacked in one ``tabular``, so the fragment is a single box: it goes as it
    is into ``\\begin{table}...\\end{table}``, or into ``\\resizebox{\\linewidth}{!}{...}``.
    Negative numbers use a math minus; a spread sits under its number in small type.
    """
    cols = report["columns"]
    rows = leaderboard_cells(report)
    notes = _notation(report, [c for _, cells in rows for c in cells])
    lines = [
        "% ganeval report: " + _tex(report["title"]),
        r"% needs \usepackage{booktabs} (and graphicx for \resizebox)",
        r"% use: \begin{table}\centering \input{report.tex} \caption{...}\end{table}",
        r"% or:  \resizebox{\linewidth}{!}{\input{report.tex}}",
        "% caption notes: "
        + _tex("; ".join(["bold: best per column", *notes, _direction_line(report), *_protocol_note(report)])),
    ]
    parts = latex_parts(report, width_pt)
    tables = []
    for idx in parts:
        t = [
            r"\begin{tabular}{l" + "r" * len(idx) + "}",
            r"\toprule",
            "candidate & "
            + " & ".join(f"{_tex_label(cols[j]['label'])} {_TEX_ARROW[cols[j]['better']]}" for j in idx)
            + r" \\",
            r"\midrule",
        ]
        for name, cells in rows:
            t.append(_tex(name) + " & " + " & ".join(_tex_cell(cells[j]) for j in idx) + r" \\")
        t += [r"\bottomrule", r"\end{tabular}"]
        tables.append(t)
    if len(tables) == 1:
        lines += tables[0]
    else:
        lines.append(r"\begin{tabular}{@{}c@{}}")
        for i, t in enumerate(tables):
            lines += t
            if i < len(tables) - 1:
                lines.append(r"\\\noalign{\medskip}")
        lines.append(r"\end{tabular}")
    lines.append("")
    return "\n".join(lines)


# -- html ------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1280px;padding:0 1.5em;color:#222}
.settings{line-height:1.5}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
td.best .v{font-weight:bold}
td.best{background:#d9f2d9}
td .v{white-space:nowrap}
td .sp{display:block;font-size:11px;color:#555;white-space:nowrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:1em;align-items:start}
.grid.small{grid-template-columns:repeat(auto-fill,minmax(220px,1fr))}
.span2{grid-column:span 2}
.wide{grid-column:1/-1}
figure{margin:0}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#555}
pre{background:#f6f6f6;padding:0.8em;font-size:12px;overflow-x:auto}
details{margin:1em 0}
summary{cursor:pointer;font-size:1.3em;font-weight:bold}
.dir{font-size:12px;color:#555;font-weight:normal}
table.kv td{text-align:left}
"""


def _protocol_name(report: dict[str, Any]) -> str | None:
    """The protocol preset the report's spec names (None: none)."""
    spec = report.get("spec")
    name = spec.get("protocol") if isinstance(spec, dict) else None
    return str(name).replace("`", "") if name is not None else None


def _protocol_note(report: dict[str, Any]) -> list[str]:
    name = _protocol_name(report)
    return [f"protocol {name} (ganeval --protocol {name})"] if name else []


def _settings_text(report: dict[str, Any]) -> str:
    """The run's settings in words (real data, protocol, features, metrics and their
    options, seed)."""
    from .spec import protocol_metrics

    e = html.escape
    real = report["real"]
    feats = real.get("features") or {}
    prov = report.get("provenance", {})
    parts = [f"Real data <code>{e(str(real['input']))}</code>, {real['n']} samples."]
    protocol = protocol_metrics(report.get("spec") or {})
    if protocol is not None:
        preset, _ = protocol
        parts.append(
            f"Protocol <b>{e(preset.name)}</b>: {e(preset.source)}; it fixes the extractor, preprocessing, "
            "metrics and their options."
        )
    elif _protocol_name(report):
        parts.append(f"Protocol <b>{e(str(_protocol_name(report)))}</b> (not a protocol this ganeval knows).")
    if feats.get("extractor"):
        f = f"Features: the <b>{e(str(feats['extractor']))}</b> extractor"
        if feats.get("preprocessing"):
            f += f", preprocessing <code>{e(str(feats['preprocessing']))}</code>"
        if feats.get("weights_sha256"):
            sha = str(feats["weights_sha256"])
            f += f", weights sha256 <code title='{e(sha)}'>{e(sha[:12])}…</code>"
        parts.append(f + ".")
    metrics = protocol[1] if protocol is not None else (report.get("spec") or {}).get("metrics") or {}
    if metrics:
        items = []
        for m, opts in metrics.items():
            o = ", ".join(f"{k} = {v}" for k, v in (opts or {}).items()) if isinstance(opts, dict) else ""
            items.append(e(_METRIC_NAMES.get(m, m)) + (f" ({e(o)})" if o else ""))
        parts.append("Metrics: " + "; ".join(items) + ".")
    run = []
    if prov.get("seed") is not None:
        run.append(f"seed {e(str(prov['seed']))}")
    if prov.get("threads") is not None:
        run.append(f"{prov['threads']} torch thread{'s' if prov['threads'] != 1 else ''}")
    if prov.get("device"):
        run.append(f"device {e(str(prov['device']))}")
    if prov.get("total_wall_s") is not None:
        run.append(f"{prov['total_wall_s']:.0f} s wall")
    levels = interval_levels(report)
    if levels:
        run.append("bootstrap intervals at " + ", ".join(f"{100 * lv:g} %" for lv, _ in levels))
    run.append(f"ganeval {e(str(report['ganeval_version']))}")
    parts.append(", ".join(run).capitalize() + ".")
    return "<p class='settings'>" + "<br>".join(parts) + "</p>"


def _kv_table(pairs: Sequence[tuple[str, Any]]) -> str:
    e = html.escape
    return (
        "<table class='kv'><tbody>"
        + "".join(f"<tr><td>{e(str(k))}</td><td><code>{e(str(v))}</code></td></tr>" for k, v in pairs)
        + "</tbody></table>"
    )


def _provenance_html(report: dict[str, Any]) -> str:
    e = html.escape
    prov = dict(report.get("provenance", {}))
    steps = prov.pop("steps", [])
    versions = prov.pop("versions", {})
    env = prov.pop("env", {}) or {}
    machine = [
        (k, prov[k])
        for k in (
            "platform",
            "machine",
            "processor",
            "cpu_count",
            "device",
            "threads",
            "python_executable",
            "seed",
            "total_wall_s",
        )
        if prov.get(k) is not None
    ]
    machine += [(k, v) for k, v in env.items() if v is not None]
    inputs = [("real", "", report["real"]["fingerprint"])] + [
        (c["name"], r["seed"], r["fingerprint"]) for c in report["candidates"] for r in c["runs"]
    ]
    input_rows = "".join(
        f"<tr><td>{e(str(n))}</td><td>{e(str(s))}</td><td><code>{e(str(fp.get('input', '')))}</code></td>"
        f"<td><code>{e(str(fp.get('sha256') or fp.get('samples_sha256') or '–'))}</code></td></tr>"
        for n, s, fp in inputs
    )
    step_rows = "".join(f"<tr><td>{e(str(s['step']))}</td><td>{s['wall_s']:.3f}</td></tr>" for s in steps)
    other = {k: v for k, v in prov.items() if k not in dict(machine)}
    spec = report.get("spec_text") or json.dumps(report.get("spec"), indent=1)
    return f"""<details id="provenance"><summary>Provenance: versions, machine, inputs, wall time, spec</summary>
<h3>Versions</h3>
{_kv_table(sorted(versions.items()))}
<h3>Machine and run</h3>
{_kv_table(machine)}
<h3>Inputs (sha256)</h3>
<div class="scroll"><table><thead><tr><th>candidate</th><th>seed</th><th>input</th><th>sha256</th></tr></thead>
<tbody>{input_rows}</tbody></table></div>
<h3>Wall time per step (s)</h3>
<table><tbody>{step_rows}</tbody></table>
<h3>Other settings</h3>
<pre>{e(json.dumps(other, indent=1))}</pre>
<h3>Spec</h3>
<pre>{e(spec)}</pre>
</details>"""


def _figure_html(f: FigureFile) -> str:
    e = html.escape
    data = base64.b64encode(f.files["png"]).decode("ascii")
    cls = " class='wide'" if f.panels >= 3 else (" class='span2'" if f.panels == 2 else "")
    links = " ".join(f"<a href='figures/{e(f.stem)}.{fmt}'>{fmt.upper()}</a>" for fmt in f.files)
    return (
        f"<figure{cls}><img alt='{e(f.stem)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{e(f.caption)} ({links})</figcaption></figure>"
    )


def _html_label(label: str) -> str:
    """A column label in HTML: ``MMD^2`` -> ``MMD<sup>2</sup>`` (the rest escaped)."""
    import re

    return re.sub(r"\^([A-Za-z0-9]+)", r"<sup>\1</sup>", html.escape(label))


_METRIC_NAMES = {
    "fid": "FID",
    "sfid": "sFID",
    "kid": "KID",
    "is": "IS",
    "prdc": "PRDC",
    "mmd": "MMD",
    "ecdf": "ECDF",
    "c2st": "C2ST",
    "nested-f1": "nested F1",
    "modes": "mode metrics",
    "wasserstein": "Wasserstein",
    "divergence": "divergence",
}


def _html_cell(c: Cell) -> str:
    e = html.escape
    cls = " class='best'" if c.best else ""
    sp = c.spread_text()
    spread = f"<span class='sp'>{e(sp)}</span>" if sp else ""
    return f"<td{cls}><span class='v'>{e(c.value)}</span>{spread}</td>"


def render_html(report: dict[str, Any], figs: Sequence[FigureFile]) -> str:
    """One self-contained HTML page: settings in words, leaderboard, figures inline (base64)
    across the page's width, provenance folded in ``<details>``."""
    e = html.escape
    cols = report["columns"]
    rows = leaderboard_cells(report)
    head = "".join(
        f"<th>{_html_label(c['label'])} {_ARROW[c['better']]}<div class='dir'>{e(_BETTER[c['better']])}</div></th>"
        for c in cols
    )
    body_rows = "".join(f"<tr><td>{e(name)}</td>{''.join(_html_cell(c) for c in cells)}</tr>" for name, cells in rows)
    notes = _notation(report, [c for _, cells in rows for c in cells])
    sections = []
    for key, title, grid in (
        ("metrics", "Metrics", "grid"),
        ("samples", "Samples", "grid small"),
        ("curves", "Training curves", "grid"),
    ):
        fs = [f for f in figs if f.section == key]
        if fs:
            sections.append(f"<h2>{title}</h2>\n<div class='{grid}'>{''.join(_figure_html(f) for f in fs)}</div>")
    skipped = ""
    if report.get("skipped"):
        skipped = (
            "<h2>Skipped</h2><ul>"
            + "".join(f"<li>{e(s['metric'])} for {e(s['candidate'])}: {e(s['reason'])}</li>" for s in report["skipped"])
            + "</ul>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(report["title"])}</title><style>{_CSS}</style></head>
<body>
<h1>{e(report["title"])}</h1>
{_settings_text(report)}
<h2>Leaderboard</h2>
<div class="scroll"><table id="leaderboard"><thead><tr><th>candidate</th>{head}</tr></thead>
<tbody>{body_rows}</tbody></table></div>
<p class="dir">Green: best per column. {e("; ".join(notes))}{"." if notes else ""}
Figures as PNG (200 dpi), PDF and SVG in <code>figures/</code>.</p>
{skipped}
{"".join(sections)}
{_provenance_html(report)}
</body></html>
"""
