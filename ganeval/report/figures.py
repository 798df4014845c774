"""The report's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Each function returns PNG bytes; the writers save them under ``figures/`` and inline them
in ``report.html``.
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

__all__ = ["metric_family_png", "image_grid_png", "scatter_png", "curves_png", "level_grid_png", "copies_grid_png"]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


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


def metric_family_png(family: str, columns: Sequence[dict[str, Any]], candidates: Sequence[dict[str, Any]]) -> bytes:
    """Bar chart of one metric family: a panel per value, a bar per candidate (mean), error
    bars = std over seeds (or the metric's own std when one seed)."""
    cols = [c for c in columns if c["metric"] == family]
    fig = _figure(max(2.4, 1.2 + 0.35 * len(candidates)) * max(1, len(cols)), 3.2)
    names = [c["name"] for c in candidates]
    for i, col in enumerate(cols):
        ax = fig.add_subplot(1, len(cols), i + 1)
        means, errs = [], []
        for c in candidates:
            s = c["summary"].get(col["id"], {})
            means.append(s.get("mean") if s.get("mean") is not None else np.nan)
            errs.append(s.get("std") if s.get("std") is not None else (s.get("interval_std") or 0.0))
        x = np.arange(len(names))
        colors = ["tab:green" if c["name"] in col.get("best", []) else "tab:blue" for c in candidates]
        ax.bar(x, means, yerr=errs, color=colors, capsize=3)
        ax.set_xticks(x)
        ax.set_xticklabels([_plain(n) for n in names], rotation=45, ha="right", fontsize=7)
        ax.set_title(_plain(f"{col['label']} ({_BETTER[col['better']]})"), fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def image_grid_png(images: np.ndarray, title: str, *, columns: int = 8) -> bytes:
    """Up to 64 uint8 images (n, H, W, 3) as one grid."""
    n = min(len(images), columns * columns)
    rows = int(np.ceil(n / columns))
    h, w = images.shape[1:3]
    pad = 1
    canvas = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 128, np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    fig = _figure(2.6, 2.6 * canvas.shape[0] / canvas.shape[1] + 0.3)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(_plain(title), fontsize=8)
    return _png(fig)


def scatter_png(points: np.ndarray, reference: np.ndarray | None, title: str) -> bytes:
    """2-D samples (orange) over the real points (gray)."""
    fig = _figure(3.0, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    if reference is not None:
        ax.scatter(reference[:, 0], reference[:, 1], s=2, c="0.7", label="real", linewidths=0)
    ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:orange", label="candidate", linewidths=0)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(_plain(title), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, markerscale=4, loc="upper right")
    return _png(fig)


def curves_png(curves_by_seed: dict[int, list[dict[str, Any]]], title: str) -> bytes | None:
    """Training curves from ``metrics.jsonl``: a panel per logged number, a line per seed."""
    keys: list[str] = []
    for recs in curves_by_seed.values():
        for r in recs:
            for k, v in r.items():
                if k not in ("step", "elapsed_s") and isinstance(v, (int, float)) and k not in keys:
                    keys.append(k)
    if not keys:
        return None
    fig = _figure(2.4 * len(keys), 2.4)
    for i, k in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        for seed, recs in sorted(curves_by_seed.items()):
            pts = [(r["step"], r[k]) for r in recs if isinstance(r.get(k), (int, float))]
            if pts:
                s, v = zip(*pts)
                ax.plot(s, v, marker=".", label=f"seed {seed}")
        ax.set_title(_plain(k), fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    fig.suptitle(_plain(title), fontsize=9, y=1.04)
    return _png(fig)


def level_grid_png(table: dict[str, dict[str, list[float]]], metrics: Sequence[str], levels: Sequence[int],
                   verdicts: dict[tuple[str, str], str]) -> bytes:
    """The sanity suite's grid: a panel per disturbance x metric, metric against level
    (title green = pass, red = fail, black = no expectation)."""
    dists = list(table)
    fig = _figure(1.45 * len(metrics), 1.2 * len(dists))
    for i, d in enumerate(dists):
        for j, m in enumerate(metrics):
            ax = fig.add_subplot(len(dists), len(metrics), i * len(metrics) + j + 1)
            ax.plot(levels[:len(table[d][m])], table[d][m], marker=".", lw=1)
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
        axes[0, j].set_title(f"fake {c['fake_index']}\nd={c['distance']:.3g}{' *' if c['flagged'] else ''}",
                             fontsize=7)
        axes[1, j].imshow(train_images[c["train_index"]])
        axes[1, j].set_title(f"train {c['train_index']}", fontsize=7)
    fig.suptitle("closest generated samples (top) and their nearest training samples; * = flagged", fontsize=8)
    return _png(fig)
