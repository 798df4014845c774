"""The report's tables and figures from hand-made report dicts: one number format per column,
intervals, LaTeX that compiles and fits the page, figures in three formats."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import numpy as np
import pytest

from ganeval.report.cells import column_decimals, leaderboard_cells
from ganeval.report.figures import axis_scale, curve_title, curves_figure, figure_files, metric_family_figure
from ganeval.report.writers import TEXT_WIDTH_PT, latex_parts, render_html, render_latex, render_markdown

COLUMNS = [
    ("fid", "value", "FID", "lower"),
    ("kid", "value", "KID", "lower"),
    ("is", "value", "IS", "higher"),
    ("prdc", "precision", "Precision", "higher"),
    ("prdc", "recall", "Recall", "higher"),
    ("prdc", "density", "Density", "higher"),
    ("prdc", "coverage", "Coverage", "higher"),
    ("mmd", "value", "MMD^2", "lower"),
    ("ecdf", "value", "ECDF L^p", "lower"),
    ("c2st", "accuracy", "C2ST acc.", "0.5"),
    ("c2st", "auc", "C2ST AUC", "0.5"),
]

# candidate -> column id -> (mean, std over seeds or None, own std or None)
NUMBERS = {
    "test split": {
        "fid.value": 0.0302,
        "kid.value": -0.0037949,
        "is.value": 9.3742,
        "prdc.precision": 0.95657,
        "prdc.recall": 0.95996,
        "prdc.density": 0.97506,
        "prdc.coverage": 0.96329,
        "mmd.value": -6.854059e-04,
        "ecdf.value": 0.0121316,
        "c2st.accuracy": 0.502227,
        "c2st.auc": 0.483739,
    },
    "test + noise": {
        "fid.value": 0.11821,
        "kid.value": 0.0068079,
        "is.value": 9.2761,
        "prdc.precision": 0.95212,
        "prdc.recall": 0.95996,
        "prdc.density": 0.93393,
        "prdc.coverage": 0.94661,
        "mmd.value": 0.0012357,
        "ecdf.value": 0.029714,
        "c2st.accuracy": 0.655345,
        "c2st.auc": 0.721749,
    },
    "hinge GAN_{150} & 50%": {
        "fid.value": 10.5429,
        "kid.value": 0.58597,
        "is.value": 1.3262,
        "prdc.precision": 0.41652,
        "prdc.recall": 0.0,
        "prdc.density": 0.14605,
        "prdc.coverage": 0.020578,
        "mmd.value": 0.254122,
        "ecdf.value": 0.256375,
        "c2st.accuracy": 0.998131,
        "c2st.auc": 0.99999649,
    },
}


def _report(ci: bool) -> dict:
    cols = [
        {"id": f"{m}.{k}", "metric": m, "key": k, "label": lab, "better": b, "best": []} for m, k, lab, b in COLUMNS
    ]
    cands = []
    for name, nums in NUMBERS.items():
        seeds = 2 if name.startswith("hinge") else 1
        summary, results = {}, {}
        for cid, v in nums.items():
            m, k = cid.split(".")
            s = {"mean": v, "std": 0.01 * abs(v) + 1e-7 if seeds > 1 else None, "n": seeds, "values": [v] * seeds}
            if m in ("kid", "is") and seeds == 1:
                s["interval_std"] = 2.1e-05 if m == "kid" else 0.178
            summary[cid] = s
            r = results.setdefault(m, {"value": v} if k == "value" else {"value": nums.get(f"{m}.accuracy", v)})
            r[k] = v
        if ci and seeds == 1:
            for m, r in results.items():
                r["settings"] = {"ci": 0.95, "bootstrap": 200}
                if m == "prdc":
                    r["ci_low"] = {k: max(0.0, r[k] - 0.012) for k in ("precision", "recall", "density", "coverage")}
                    r["ci_high"] = {k: r[k] + 0.011 for k in ("precision", "recall", "density", "coverage")}
                else:
                    r["ci_low"], r["ci_high"] = r["value"] - 0.1 * abs(r["value"]), r["value"] + 0.2 * abs(r["value"])
        runs = [
            {"seed": s, "results": results, "fingerprint": {"input": "x", "sha256": "ab" * 32}} for s in range(seeds)
        ]
        cands.append({"name": name, "kind": "input", "seeds": list(range(seeds)), "runs": runs, "summary": summary})
    for col in cols:
        vals = [(c["summary"][col["id"]]["mean"], c["name"]) for c in cands]
        key = {"lower": lambda t: t[0], "higher": lambda t: -t[0], "0.5": lambda t: abs(t[0] - 0.5)}[col["better"]]
        col["best"] = [min(vals, key=key)[1]]
    return {
        "title": "digits & friends",
        "ganeval_version": "0",
        "skipped": [],
        "spec": {"metrics": {"kid": {"subsets": 50}}},
        "spec_text": "seed = 0",
        "real": {
            "name": "r",
            "input": "builtin:digits/train",
            "n": 899,
            "fingerprint": {"input": "builtin:digits/train", "sha256": "cd" * 32},
            "features": {"extractor": "digits", "preprocessing": "luma-area-8x8", "weights_sha256": "ef" * 32},
        },
        "columns": cols,
        "candidates": cands,
        "provenance": {
            "versions": {"ganeval": "0", "torch": "2"},
            "platform": "linux",
            "threads": 1,
            "seed": 0,
            "device": "cpu",
            "steps": [{"step": "read", "wall_s": 0.5}],
            "total_wall_s": 3.0,
        },
    }


NUM = re.compile(r"-?\d+\.\d+|-?\d+")


def test_one_decimal_count_per_column_and_no_e_notation():
    for ci in (False, True):
        rep = _report(ci)
        rows = leaderboard_cells(rep)
        for j in range(len(rep["columns"])):
            decs = {len(c.value.split(".")[1]) if "." in c.value else 0 for _, cells in rows for c in [cells[j]]}
            assert len(decs) == 1, (rep["columns"][j]["label"], decs)
        for text in (render_markdown(rep), render_latex(rep), render_html(rep, [])):
            assert not re.search(r"\d[eE][-+]?\d", text)
    cells = {name: [c.value for c in cs] for name, cs in leaderboard_cells(_report(False))}
    assert cells["test split"][0] == "0.03" and cells["hinge GAN_{150} & 50% (2 seeds)"][0] == "10.54"
    assert cells["test split"][7] == "-0.0007" and cells["test + noise"][7] == "0.0012"
    assert column_decimals([8, 7]) == 0 and column_decimals([0.9566, 0.4165]) == 3


def test_spreads_and_intervals_read_the_same_in_md_html_tex():
    plain, with_ci = _report(False), _report(True)
    md0, md1 = render_markdown(plain), render_markdown(with_ci)
    assert "(± 0.18)" in md0 and "\\[" not in md0 and "bootstrap" not in md0  # IS: own std over splits
    assert "10.54 ± 0.11" in md0 and "10.54 ± 0.11" in md1  # several seeds: mean ± std over seeds
    # one seed with an interval: value [low, high] at the column's decimals, level stated
    assert "**0.03** \\[0.03, 0.04\\]" in md1 and "| 0.12 \\[0.11, 0.14\\] |" in md1
    assert "bootstrap interval at 95 % (200 resamples)" in md1
    assert "**0.957** \\[0.945, 0.968\\]" in md1  # PRDC: the interval of each named number
    assert "**0.502** \\[0.452, 0.603\\]" in md1  # C2ST accuracy is the value the scalar interval belongs to
    assert "**0.484** |" in md1  # ... AUC is not
    html1, tex1 = render_html(with_ci, []), render_latex(with_ci)
    assert "<span class='v'>0.03</span><span class='sp'>[0.03, 0.04]</span>" in html1
    assert "}0.12\\\\[-1pt]{\\scriptsize [0.11, 0.14]}" in tex1 and "95 \\%" in tex1
    assert "[" not in render_latex(plain).split("\\begin{tabular}", 1)[1].replace("[t]", "").replace("[-1pt]", "")


def _body(tex: str) -> str:
    return "\n".join(line for line in tex.splitlines() if not line.startswith("%"))


def test_latex_structure():
    for ci in (False, True):
        rep = _report(ci)
        tex = render_latex(rep)
        body = _body(tex)
        assert body.count(r"\begin{tabular}") == body.count(r"\end{tabular}")
        assert body.count(r"\begin{tabular}{l") == len(latex_parts(rep)) >= 2
        assert body.count(r"\toprule") == body.count(r"\midrule") == body.count(r"\bottomrule") == len(latex_parts(rep))
        assert "±" not in body and "–" not in body and "$-$0.0007" in body
        assert not re.search(r"(?<![$\w\[])-\d", body)  # every minus sign is a math minus
        assert r"hinge GAN\_\{150\} \& 50\%" in body and r"MMD$^{2}$" in body and r"ECDF $L^{p}$" in body
        for spec, block in re.findall(r"\\begin\{tabular\}\{l(r+)\}\n(.*?)\\bottomrule", body, re.S):
            for line in block.splitlines():
                if line.endswith(r"\\") and not line.startswith("\\"):
                    flat = re.sub(r"\\begin\{tabular\}\[t\].*?\\end\{tabular\}", "X", line)
                    assert flat.count(" & ") == len(spec), line
        assert set(sum(latex_parts(rep), [])) == set(range(len(rep["columns"])))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (texlive-latex-recommended)")
def test_latex_compiles_inside_table_and_fits_the_text_width(tmp_path):
    for ci in (False, True):
        (tmp_path / "report.tex").write_text(render_latex(_report(ci)))
        (tmp_path / "doc.tex").write_text(r"""\documentclass{article}
\usepackage{booktabs}
\usepackage{graphicx}
\begin{document}
\begin{table}\centering
\input{report.tex}
\caption{Leaderboard.}
\end{table}
\setbox0=\hbox{\input{report.tex}}\typeout{FRAGWIDTH=\the\wd0}\typeout{TEXTWIDTH=\the\textwidth}
\noindent\resizebox{\linewidth}{!}{\input{report.tex}}
\end{document}
""")
        proc = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log = (tmp_path / "doc.log").read_text(errors="replace")
        assert proc.returncode == 0, log[-2000:]
        assert "Overfull \\hbox" not in log and "Undefined control sequence" not in log
        width = float(re.search(r"FRAGWIDTH=([\d.]+)pt", log).group(1))
        assert float(re.search(r"TEXTWIDTH=([\d.]+)pt", log).group(1)) == TEXT_WIDTH_PT
        assert 100 < width <= TEXT_WIDTH_PT, width


def test_html_settings_in_words_and_provenance_folded():
    page = render_html(_report(True), [])
    assert '{"extractor"' not in page and "<b>digits</b> extractor" in page and "KID (subsets = 50)" in page
    assert '<details id="provenance">' in page and "<details open" not in page
    assert "MMD<sup>2</sup>" in page and "hinge GAN_{150} &amp; 50%" in page


def test_figures_three_formats_log_axis_labels():
    from PIL import Image

    rep = _report(True)
    fig = metric_family_figure("fid", rep["columns"], rep["candidates"])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "FID (log scale)"
    files = figure_files(fig)
    assert files["pdf"].startswith(b"%PDF") and b"<svg" in files["svg"]
    assert files["pdf"] == figure_files(fig)["pdf"] and files["svg"] == figure_files(fig)["svg"]  # no dates, no ids
    dpi = Image.open(io.BytesIO(files["png"])).info["dpi"]
    assert round(dpi[0]) == 200
    prdc = metric_family_figure("prdc", rep["columns"], rep["candidates"])
    assert [a.get_ylabel() for a in prdc.axes] == ["Precision", "Recall", "Density", "Coverage"]
    assert all(a.get_yscale() == "linear" for a in prdc.axes)
    kid = metric_family_figure("kid", rep["columns"], rep["candidates"])
    assert kid.axes[0].get_yscale() == "symlog"
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["0.03", "0.12", "10.54"]  # the bars carry the table's numbers
    assert axis_scale([1.0, 2.0, 40.0]) == "linear" and axis_scale([0.01, 1.0]) == "log"
    curves = curves_figure(
        {0: [{"step": 10, "fid_digits": 9.5, "kid_pixels": 0.3}, {"step": 20, "fid_digits": 8.0, "kid_pixels": 0.2}]},
        "Training curves of x",
    )
    assert [a.get_title() for a in curves.axes] == ["FID on digits-network features", "KID on raw pixels"]
    assert curves.axes[0].get_ylabel() == "FID" and curves.axes[0].get_xlabel() == "generator step"
    assert curve_title("ecdf_l1_std")[0] == "ECDF L1 distance on standardised rows"
    assert np.isfinite(len(files["png"]))
