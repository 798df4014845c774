"""The report's files: report.json, report.html (self-contained), report.md, report.tex, figures/.

Everything is written through :func:`ganeval.report.files.write_file` into the report's
temporary folder.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from .files import REPORT_JSON, write_file, write_json

__all__ = ["write_report", "format_cell", "leaderboard_rows", "figure_names"]

_BETTER = {"higher": "higher is better", "lower": "lower is better", "0.5": "0.5 is best"}
_ARROW = {"higher": "↑", "lower": "↓", "0.5": "→0.5"}


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    if float(v).is_integer() and abs(v) < 1e5:
        return str(int(v))
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}" if abs(v) >= 1 else f"{v:.4f}"
    return f"{v:.3e}"


def format_cell(s: dict[str, Any] | None) -> str:
    """``mean ± std`` over seeds; one seed with the metric's own spread: ``value (± s)``.

    Examples
    --------
    >>> format_cell({"mean": 1.5, "std": 0.25, "n": 3})
    '1.500 ± 0.2500'
    >>> format_cell({"mean": 0.01, "std": None, "n": 1, "interval_std": 0.002})
    '0.0100 (± 0.0020)'
    """
    if not s or s.get("mean") is None:
        if s and s.get("values"):
            return str(s["values"][0])
        return "–"
    m = s["mean"]
    mtxt = f"{m:.3f}" if (s.get("std") is not None and 1 <= abs(m) < 1e5) else _fmt(m)
    if s.get("std") is not None:
        return f"{mtxt} ± {_fmt(s['std'])}"
    if s.get("interval_std") is not None:
        return f"{mtxt} (± {_fmt(s['interval_std'])})"
    return mtxt


def leaderboard_rows(report: dict[str, Any]) -> list[tuple[str, list[tuple[str, bool]]]]:
    """``[(candidate, [(cell text, is best), ...]), ...]`` in the order of ``columns``."""
    rows = []
    for c in report["candidates"]:
        cells = []
        for col in report["columns"]:
            cells.append((format_cell(c["summary"].get(col["id"])), c["name"] in col.get("best", [])))
        seeds = f" ({len(c['runs'])} seeds)" if len(c["runs"]) > 1 else ""
        rows.append((c["name"] + seeds, cells))
    return rows


def _figures(report: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """``[(file name, caption, png bytes)]`` for every figure of the report."""
    from .engine import _slug, unique_slugs
    from .figures import curves_png, image_grid_png, metric_family_png, scatter_png

    out: list[tuple[str, str, bytes]] = []
    families = list(dict.fromkeys(c["metric"] for c in report["columns"]))
    for fam in families:
        out.append((f"metric_{_slug(fam)}.png", f"{fam}: mean over seeds, error bars = std over seeds "
                    "(one seed: the metric's own std)", metric_family_png(fam, report["columns"], report["candidates"])))
    samples = report.get("_samples", {})
    slugs = unique_slugs(["real", *samples.get("candidates", {})])
    real = samples.get("real")
    if real is not None and real.images is not None:
        out.append(("samples_real.png", f"real: {real.name}", image_grid_png(real.images, f"real: {real.name}")))
    for name, ss in samples.get("candidates", {}).items():
        if not ss:
            continue
        first = ss[0]
        if first.images is not None:
            out.append((f"samples_{slugs[name]}.png", f"samples of {name} (seed {first.seed})",
                        image_grid_png(first.images, f"{name} (seed {first.seed})")))
        elif first.points is not None:
            ref = real.points if real is not None else None
            out.append((f"scatter_{slugs[name]}.png", f"samples of {name} (seed {first.seed}) over the real points",
                        scatter_png(first.points, ref, f"{name} (seed {first.seed})")))
        curves = {s.seed: s.train["curves"] for s in ss if s.train is not None and s.train.get("curves")}
        if curves:
            png = curves_png(curves, f"training curves: {name}")
            if png is not None:
                out.append((f"curves_{slugs[name]}.png", f"training curves of {name} (metrics.jsonl)", png))
    return out


def figure_names(report: dict[str, Any]) -> list[str]:
    """The ``figures/...`` files :func:`write_report` writes for ``report`` (what report.json lists)."""
    return [f"figures/{name}" for name, _, _ in _figures(report)]


def write_report(report: dict[str, Any], folder: Path) -> list[str]:
    """Write report.json, report.html, report.md, report.tex and figures/*.png into ``folder``;
    return the file names written."""
    figs = _figures(report)
    clean = {k: v for k, v in report.items() if not k.startswith("_")}
    clean["figures"] = [f"figures/{name}" for name, _, _ in figs]
    written = []
    for name, _, png in figs:
        write_file(folder / "figures" / name, png)
        written.append(f"figures/{name}")
    write_json(folder / REPORT_JSON, clean)
    write_file(folder / "report.md", render_markdown(clean))
    write_file(folder / "report.tex", render_latex(clean))
    write_file(folder / "report.html", render_html(clean, figs))
    return [REPORT_JSON, "report.html", "report.md", "report.tex", *written]


# -- markdown / latex ------------------------------------------------------------------------

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
    """The leaderboard as a Markdown table (best per column in bold; names escaped)."""
    cols = report["columns"]
    lines = [f"# {_md(report['title'])}", "",
             f"Real data: {_md(report['real']['input'])} (n = {report['real']['n']}); "
             f"ganeval {report['ganeval_version']}.", "",
             "| candidate | " + " | ".join(f"{c['label']} {_ARROW[c['better']]}" for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for name, cells in leaderboard_rows(report):
        lines.append(f"| {_md(name)} | " + " | ".join(f"**{t}**" if best else t for t, best in cells) + " |")
    lines += ["", f"Directions: {_direction_line(report)}. Bold: best per column. "
              "`a ± b`: mean ± std over seeds; `a (± b)`: one seed, the metric's own std "
              "(KID over subsets, IS over splits).", ""]
    if report.get("skipped"):
        lines.append("Skipped: " + "; ".join(f"{_md(s['metric'])} for {_md(s['candidate'])} ({_md(s['reason'])})"
                                              for s in report["skipped"]) + ".")
        lines.append("")
    return "\n".join(lines)


def _tex(text: str) -> str:
    text = " ".join(str(text).splitlines())  # one line: a newline would end a comment or a table row
    repl = {"<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}","\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(repl.get(ch, ch) for ch in text)


def render_latex(report: dict[str, Any]) -> str:
    """The leaderboard as a LaTeX ``tabular`` (best per column in bold; needs no package)."""
    cols = report["columns"]
    arrows = {"higher": r"$\uparrow$", "lower": r"$\downarrow$", "0.5": r"$\to 0.5$"}
    lines = ["% ganeval report: " + _tex(report["title"]),
             r"\begin{tabular}{l" + "r" * len(cols) + "}", r"\hline",
             "candidate & " + " & ".join(f"{_tex(c['label'])} {arrows[c['better']]}" for c in cols) + r" \\",
             r"\hline"]
    for name, cells in leaderboard_rows(report):
        tex_cells = []
        for text, best in cells:
            t = _tex(text).replace("±", r"$\pm$").replace("–", "--")
            tex_cells.append(r"\textbf{" + t + "}" if best else t)
        lines.append(_tex(name) + " & " + " & ".join(tex_cells) + r" \\")
    lines += [r"\hline", r"\end{tabular}", ""]
    return "\n".join(lines)


# -- html ------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
td.best{background:#d9f2d9;font-weight:bold}
figure{display:inline-block;margin:0.5em;vertical-align:top}
figcaption{font-size:12px;color:#555;max-width:420px}
pre{background:#f6f6f6;padding:0.8em;font-size:12px;overflow-x:auto}
.dir{font-size:12px;color:#555}
"""


def render_html(report: dict[str, Any], figs: list[tuple[str, str, bytes]]) -> str:
    """One self-contained HTML page: leaderboard, figures inline (base64), provenance."""
    import json

    e = html.escape
    cols = report["columns"]
    head = "".join(f"<th>{e(c['label'])} {_ARROW[c['better']]}<div class='dir'>{e(_BETTER[c['better']])}</div></th>"
                   for c in cols)
    body_rows = []
    for name, cells in leaderboard_rows(report):
        tds = "".join(f"<td class='best'>{e(t)}</td>" if best else f"<td>{e(t)}</td>" for t, best in cells)
        body_rows.append(f"<tr><td>{e(name)}</td>{tds}</tr>")
    fig_html = []
    for fname, caption, png in figs:
        data = base64.b64encode(png).decode("ascii")
        fig_html.append(f"<figure><img alt='{e(fname)}' src='data:image/png;base64,{data}'>"
                        f"<figcaption>{e(caption)}</figcaption></figure>")
    skipped = ""
    if report.get("skipped"):
        skipped = "<h2>Skipped</h2><ul>" + "".join(
            f"<li>{e(s['metric'])} for {e(s['candidate'])}: {e(s['reason'])}</li>" for s in report["skipped"]) + "</ul>"
    prov = dict(report["provenance"])
    steps = prov.pop("steps", [])
    inputs = [{"input": report["real"]["fingerprint"]}] + [
        {"candidate": c["name"], "seed": r["seed"], "fingerprint": r["fingerprint"]}
        for c in report["candidates"] for r in c["runs"]]
    step_rows = "".join(f"<tr><td>{e(s['step'])}</td><td>{s['wall_s']:.3f}</td></tr>" for s in steps)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(report['title'])}</title><style>{_CSS}</style></head>
<body>
<h1>{e(report['title'])}</h1>
<p>Real data: <code>{e(str(report['real']['input']))}</code> (n = {report['real']['n']}), features:
<code>{e(json.dumps(report['real']['features']))}</code>. ganeval {e(report['ganeval_version'])}.</p>
<h2>Leaderboard</h2>
<table id="leaderboard"><thead><tr><th>candidate</th>{head}</tr></thead>
<tbody>{''.join(body_rows)}</tbody></table>
<p class="dir">Green: best per column. <code>a ± b</code>: mean ± std over seeds;
<code>a (± b)</code>: one seed, the metric's own std (KID over subsets, IS over splits).</p>
{skipped}
<h2>Figures</h2>
{''.join(fig_html)}
<h2>Provenance</h2>
<pre>{e(json.dumps(prov, indent=1))}</pre>
<h3>Inputs</h3>
<pre>{e(json.dumps(inputs, indent=1))}</pre>
<h3>Wall time per step (s)</h3>
<table><tbody>{step_rows}</tbody></table>
<h3>Spec</h3>
<pre>{e(report.get('spec_text') or json.dumps(report['spec'], indent=1))}</pre>
</body></html>
"""
