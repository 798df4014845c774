"""The report's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each ``*_figure`` function returns a matplotlib ``Figure``; :func:`figure_files` renders one
as PNG (200 dpi), PDF and SVG, which the writers save under ``figures/`` (the PNG also goes
inline into ``report.html``). The ``*_png`` functions return the PNG bytes alone.

Bar charts label their y axis with the metric, and switch to a log axis (symmetric log when
a value is zero or negative) when the column's non-zero magnitudes span more than
:data:`LOG_SPAN` (FID 0.03 and 10.5 on one linear axis would hide the small bars); every
bar carries its number, printed as in the tables.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from .cells import column_decimals, format_number

__all__ = [
    "metric_family_png",
    "image_grid_png",
    "scatter_png",
    "curves_png",
    "level_grid_png",
    "copies_grid_png",
    "metric_family_figure",
    "image_grid_figure",
    "scatter_figure",
    "curves_figure",
    "figure_files",
    "axis_scale",
    "curve_title",
    "CURVE_TITLES",
    "PNG_DPI",
    "LOG_SPAN",
]

#: resolution of the PNG files (the PDF and SVG are vector; images inside them keep their pixels)
PNG_DPI = 200
#: a column whose non-zero magnitudes span more than this ratio gets a log axis
LOG_SPAN = 50.0


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _render(fig, fmt: str) -> bytes:
    """``fig`` as ``fmt`` bytes, without dates or random ids (the same figure gives the same bytes)."""
    import matplotlib

    meta = {
        "png": {"Software": None},
        "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
        "svg": {"Creator": None, "Date": None},
    }[fmt]
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "ganeval", "svg.fonttype": "none", "pdf.fonttype": 42}):
        fig.savefig(buf, format=fmt, dpi=PNG_DPI, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def _png(fig) -> bytes:
    return _render(fig, "png")


def figure_files(fig) -> dict[str, bytes]:
    """``{"png": ..., "pdf": ..., "svg": ...}``: the figure in the three formats.

    Examples
    --------
    >>> files = figure_files(curves_figure({0: [{"step": 1, "fid_digits": 2.0}]}, "run"))
    >>> files["png"][:4], files["pdf"][:4], b"<svg" in files["svg"]
    (b'\\x89PNG', b'%PDF', True)
    """
    return {fmt: _render(fig, fmt) for fmt in ("png", "pdf", "svg")}


def _plain(text: Any) -> str:
    r"""``text`` shown as it is: every ``$`` escaped, so matplotlib never reads a name as
    mathtext (a name such as ``a$\^$b`` would stop the figure writer).

    Examples
    --------
    >>> print(_plain("cost $5 $x^2$"))
    cost \$5 \$x^2\$
    """
    return str(text).replace("$", r"\$")


_BETTER = {"higher": "higher is better", "lower": "lower is better", "0.5": "0.5 is best"}


def _math_label(label: str) -> str:
    """``MMD^2`` -> ``MMD$^{2}$`` (matplotlib mathtext), other text unchanged."""
    import re

    return re.sub(r"\^([A-Za-z0-9]+)", r"$^{\1}$", label.replace("$", r"\$"))


def axis_scale(values: Sequence[float], span: float = LOG_SPAN) -> str:
    """``"linear"``, ``"log"`` or ``"symlog"`` for bars of ``values``.

    Log when every value is positive and the largest is more than ``span`` times the
    smallest; symlog when a value is zero or negative and the non-zero magnitudes span that
    much; linear otherwise.

    Examples
    --------
    >>> axis_scale([0.0302, 0.118, 3.07, 10.5]), axis_scale([0.96, 0.53]), axis_scale([-0.0038, 0.0068, 0.586])
    ('log', 'linear', 'symlog')
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    mags = np.abs(v[v != 0])
    if mags.size < 2 or mags.max() <= span * mags.min():
        return "linear"
    return "log" if np.all(v > 0) else "symlog"


def _bar_errors(means: list[float], kinds: list[str | None], spreads: list[float | None], cis: list[Any]) -> np.ndarray:
    """Lower and upper error-bar lengths, shape (2, n): the std, or the interval's two sides."""
    err = np.zeros((2, len(means)))
    for i, (m, k, s, ci) in enumerate(zip(means, kinds, spreads, cis)):
        if not np.isfinite(m):
            continue
        if k == "ci" and ci is not None:
            err[:, i] = max(0.0, m - ci[0]), max(0.0, ci[1] - m)
        elif s is not None:
            err[:, i] = s
    return err


def metric_family_figure(family: str, columns: Sequence[dict[str, Any]], candidates: Sequence[dict[str, Any]]):
    """Bar chart of one metric family: a panel per value, a bar per candidate (mean; green =
    best), each bar labelled with its number. Error bars: std over seeds (several seeds),
    else the bootstrap interval, else the metric's own std (KID, IS)."""
    from .cells import cell_numbers

    cols = [c for c in columns if c["metric"] == family]
    names = [c["name"] for c in candidates]
    panel_w = max(2.8, 1.2 + 0.5 * len(names))
    fig = _figure(panel_w * max(1, len(cols)), 3.2)
    for i, col in enumerate(cols):
        ax = fig.add_subplot(1, len(cols), i + 1)
        nums = [cell_numbers(c, col) for c in candidates]
        means = [m if m is not None else np.nan for m, _, _, _ in nums]
        err = _bar_errors(means, [k for _, k, _, _ in nums], [s for _, _, s, _ in nums], [ci for *_, ci in nums])
        x = np.arange(len(names))
        colors = ["tab:green" if c["name"] in col.get("best", []) else "tab:blue" for c in candidates]
        bars = ax.bar(
            x,
            np.nan_to_num(means, nan=0.0),
            yerr=err,
            color=colors,
            capsize=3,
            error_kw={"elinewidth": 0.8, "capthick": 0.8},
        )
        scale = axis_scale(means)
        ylabel = _math_label(col["label"])
        if scale == "log":
            ax.set_yscale("log", nonpositive="clip")
            ylabel += " (log scale)"
        elif scale == "symlog":
            finite = np.abs([m for m in means if np.isfinite(m) and m != 0])
            ax.set_yscale("symlog", linthresh=float(10.0 ** np.floor(np.log10(finite.min()))), linscale=1.0)
            ylabel += " (symmetric log scale)"
        if any(np.isfinite(m) and m < 0 for m in means):
            ax.axhline(0.0, color="0.3", lw=0.6)
        dec = column_decimals(means, spreads=[s for _, _, s, _ in nums])
        ax.bar_label(
            bars, labels=[format_number(m if np.isfinite(m) else None, dec) for m in means], fontsize=6, padding=2
        )
        ax.margins(y=0.15)
        ax.set_xticks(x)
        ax.set_xticklabels([_plain(n) for n in names], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(f"{_math_label(col['label'])} ({_BETTER[col['better']]})", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def metric_family_png(family: str, columns: Sequence[dict[str, Any]], candidates: Sequence[dict[str, Any]]) -> bytes:
    """PNG bytes of :func:`metric_family_figure`."""
    return _png(metric_family_figure(family, columns, candidates))


def image_grid_figure(images: np.ndarray, title: str, *, columns: int = 8):
    """Up to 64 uint8 images (n, H, W, 3) as one grid."""
    n = min(len(images), columns * columns)
    rows = int(np.ceil(n / columns))
    h, w = images.shape[1:3]
    pad = 1
    canvas = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[i]
    fig = _figure(2.6, 2.6 * canvas.shape[0] / canvas.shape[1] + 0.3)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(canvas, interpolation="none")
    ax.set_axis_off()
    ax.set_title(_plain(title), fontsize=8)
    return fig


def image_grid_png(images: np.ndarray, title: str, *, columns: int = 8) -> bytes:
    """PNG bytes of :func:`image_grid_figure`."""
    return _png(image_grid_figure(images, title, columns=columns))


def scatter_figure(points: np.ndarray, reference: np.ndarray | None, title: str):
    """2-D samples (orange) over the real points (gray); the dots are rasterized in PDF/SVG."""
    fig = _figure(3.2, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    if reference is not None:
        ax.scatter(reference[:, 0], reference[:, 1], s=2, c="0.7", label="real", linewidths=0, rasterized=True)
    ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:orange", label="candidate", linewidths=0, rasterized=True)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(_plain(title), fontsize=8)
    ax.set_xlabel("x1", fontsize=7)
    ax.set_ylabel("x2", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, markerscale=4, loc="upper right")
    return fig


def scatter_png(points: np.ndarray, reference: np.ndarray | None, title: str) -> bytes:
    """PNG bytes of :func:`scatter_figure`."""
    return _png(scatter_figure(points, reference, title))


#: words for the numbers ``ganeval train`` logs to metrics.jsonl: (panel title, y-axis label)
CURVE_TITLES = {
    "fid_pixels": ("FID on raw pixels", "FID"),
    "kid_pixels": ("KID on raw pixels", "KID"),
    "fid_digits": ("FID on digits-network features", "FID"),
    "kid_digits": ("KID on digits-network features", "KID"),
    "modes_covered": ("Modes covered", "modes"),
    "high_quality": ("Share of high-quality samples", "share"),
    "kl_uniform": ("KL of the mode histogram from uniform", "KL (nats)"),
    "ecdf_l1_std": ("ECDF L1 distance on standardised rows", "ECDF L1"),
    "c2st_accuracy": ("C2ST accuracy", "accuracy"),
    "c2st_auc": ("C2ST ROC AUC", "AUC"),
    "loss_d": ("Discriminator loss", "loss"),
    "loss_g": ("Generator loss", "loss"),
}

_ACRONYMS = {
    "fid": "FID",
    "kid": "KID",
    "is": "IS",
    "mmd": "MMD",
    "c2st": "C2ST",
    "auc": "AUC",
    "ecdf": "ECDF",
    "kl": "KL",
    "js": "JS",
    "tv": "TV",
    "f1": "F1",
}


def curve_title(key: str) -> tuple[str, str]:
    """``(title, y label)`` in words for a logged key.

    Examples
    --------
    >>> curve_title("fid_digits")
    ('FID on digits-network features', 'FID')
    >>> curve_title("mmd_rbf_value")
    ('MMD rbf value', 'MMD rbf value')
    """
    if key in CURVE_TITLES:
        return CURVE_TITLES[key]
    words = [_ACRONYMS.get(w.lower(), w) for w in key.replace("-", "_").split("_") if w]
    text = " ".join(words) or key
    text = text[0].upper() + text[1:]
    return text, text


def curves_figure(curves_by_seed: dict[int, list[dict[str, Any]]], title: str):
    """Training curves from ``metrics.jsonl``: a panel per logged number (titled in words,
    log axis when the values span decades), a line per seed; None when nothing was logged."""
    keys: list[str] = []
    for recs in curves_by_seed.values():
        for r in recs:
            for k, v in r.items():
                if k not in ("step", "elapsed_s") and isinstance(v, (int, float)) and k not in keys:
                    keys.append(k)
    if not keys:
        return None
    per_row = min(4, len(keys))
    rows = int(np.ceil(len(keys) / per_row))
    fig = _figure(2.8 * per_row, 2.5 * rows + 0.3)
    for i, k in enumerate(keys):
        ax = fig.add_subplot(rows, per_row, i + 1)
        allv: list[float] = []
        for seed, recs in sorted(curves_by_seed.items()):
            pts = [(r["step"], r[k]) for r in recs if isinstance(r.get(k), (int, float))]
            if pts:
                s, v = zip(*pts)
                allv.extend(v)
                ax.plot(s, v, marker=".", ms=3, lw=1, label=f"seed {seed}")
        panel, ylabel = curve_title(k)
        scale = axis_scale(allv)
        if scale == "log":
            ax.set_yscale("log")
            ylabel += " (log scale)"
        ax.set_title(panel, fontsize=8)
        ax.set_xlabel("generator step", fontsize=7)
        ax.set_ylabel(ylabel, fontsize=7)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    fig.suptitle(_plain(title), fontsize=9)
    fig.tight_layout()
    return fig


def curves_png(curves_by_seed: dict[int, list[dict[str, Any]]], title: str) -> bytes | None:
    """PNG bytes of :func:`curves_figure` (None when nothing was logged)."""
    fig = curves_figure(curves_by_seed, title)
    return None if fig is None else _png(fig)


def level_grid_png(
    table: dict[str, dict[str, list[float]]],
    metrics: Sequence[str],
    levels: Sequence[int],
    verdicts: dict[tuple[str, str], str],
) -> bytes:
    """The sanity suite's grid: a panel per disturbance x metric, metric against level
    (title green = pass, red = fail, black = no expectation)."""
    dists = list(table)
    fig = _figure(1.45 * len(metrics), 1.2 * len(dists))
    for i, d in enumerate(dists):
        for j, m in enumerate(metrics):
            ax = fig.add_subplot(len(dists), len(metrics), i * len(metrics) + j + 1)
            ax.plot(levels[: len(table[d][m])], table[d][m], marker=".", lw=1)
            v = verdicts.get((d, m), "")
            color = {"pass": "tab:green", "fail": "tab:red"}.get(v, "black")
            ax.set_xticks([])
            ax.tick_params(labelsize=4, length=1, pad=1)
            if i == 0:
                ax.set_title(m, fontsize=6, color="black")
            if j == 0:
                ax.set_ylabel(d.replace("_", "\n"), fontsize=5)
            for spine in ax.spines.values():
                spine.set_color(color)
                spine.set_linewidth(1.2 if v else 0.5)
    fig.subplots_adjust(wspace=0.45, hspace=0.25)
    return _png(fig)


def copies_grid_png(train_images: Any, fake_images: Any, closest: Sequence[dict[str, Any]]) -> bytes:
    """PNG of the closest copies of a memorisation result: each generated sample (top row)
    above its nearest training sample (bottom row), with the distance; ``*`` marks flagged ones.

    ``train_images`` and ``fake_images`` are indexable by the indices in ``closest``
    (``train_index``, ``fake_index``) and give RGB uint8 arrays of shape (H, W, 3).
    """
    cols = max(1, len(closest))
    fig = _figure(1.6 * cols, 3.6)
    axes = fig.subplots(2, cols, squeeze=False)
    for j in range(cols):
        for i in range(2):
            axes[i, j].axis("off")
        if j >= len(closest):
            continue
        c = closest[j]
        axes[0, j].imshow(fake_images[c["fake_index"]])
        axes[0, j].set_title(f"fake {c['fake_index']}\nd={c['distance']:.3g}{' *' if c['flagged'] else ''}", fontsize=7)
        axes[1, j].imshow(train_images[c["train_index"]])
        axes[1, j].set_title(f"train {c['train_index']}", fontsize=7)
    fig.suptitle("closest generated samples (top) and their nearest training samples; * = flagged", fontsize=8)
    return _png(fig)
