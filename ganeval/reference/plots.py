"""PNG pictures of samples, drawn with matplotlib (Agg backend: no display needed).

- :func:`save_scatter`: 2-D points (generated in blue, the real ones small and dark on top),
  equal axis scales, with a legend;
- :func:`save_digit_grid`: 8x8 images (rows of 64 pixels in [0, 1]) tiled into a grid, dark
  strokes on white paper as the digits are drawn.

Figures are built with matplotlib's object API on an Agg canvas (``matplotlib.pyplot`` and
its global state are never touched, so nothing opens a window and threads do not interfere),
and written with :func:`~ganeval.reference.outputs.atomic_write`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .outputs import atomic_write

__all__ = ["save_scatter", "save_digit_grid"]

_BLUE = "#1f5ac8"
_REAL = "#222222"


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike) -> None:
    atomic_write(Path(path), lambda fh: fig.savefig(fh, format="png", metadata={"Software": None}))


def save_scatter(
    points: np.ndarray,
    path: str | os.PathLike,
    *,
    reference: np.ndarray | None = None,
    size: int = 512,
    title: str | None = None,
) -> None:
    """Scatter plot of 2-D ``points`` (blue) under optional ``reference`` points (small, dark).

    Both sets share one frame with equal axis scales; non-finite points are left out.
    ``size`` is the picture's side in pixels.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_scatter(np.array([[0.0, 0.0], [1.0, 1.0]]), os.path.join(d, "s.png"))
    ...     Image.open(os.path.join(d, "s.png")).size
    (512, 512)
    """
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    pts = pts[np.isfinite(pts).all(1)]
    fig = _figure(size / 100, size / 100)
    ax = fig.add_subplot()
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c=_BLUE, linewidths=0, alpha=0.6, label=f"generated ({pts.shape[0]:,})")
    if reference is not None:  # on top, small and dark: the modes stay visible under a spread-out generator
        ref = np.asarray(reference, dtype=np.float64)[:, :2]
        ref = ref[np.isfinite(ref).all(1)]
        ax.scatter(ref[:, 0], ref[:, 1], s=1, c=_REAL, linewidths=0, alpha=0.5, label=f"real ({ref.shape[0]:,})")
    ax.set_aspect("equal", adjustable="datalim")
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.legend(loc="upper right", fontsize=7, markerscale=2, framealpha=0.8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def save_digit_grid(rows: np.ndarray, path: str | os.PathLike, *, cell_px: int = 32, title: str | None = None) -> None:
    """Tile 8x8 images (rows of 64 pixels in [0, 1], row-major) into a square grid PNG.

    Each image is drawn ``cell_px`` pixels wide without smoothing (nearest neighbour), 0 as
    white and 1 as black.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_digit_grid(np.zeros((5, 64)), os.path.join(d, "g.png"))
    ...     Image.open(os.path.join(d, "g.png")).size
    (112, 76)
    """
    imgs = np.clip(np.asarray(rows, dtype=np.float64), 0.0, 1.0).reshape(-1, 8, 8)
    cols = max(1, math.ceil(math.sqrt(imgs.shape[0])))
    nrows = max(1, math.ceil(imgs.shape[0] / cols))
    pad = 1  # pixels of paper between digits, in image pixels
    canvas = np.full((nrows * (8 + pad) + pad, cols * (8 + pad) + pad), 0.15)  # light grey frames
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        canvas[pad + r * (8 + pad) : pad + r * (8 + pad) + 8, pad + c * (8 + pad) : pad + c * (8 + pad) + 8] = im
    scale = cell_px / 8
    extra = 0.3 if title else 0.0
    fig = _figure(canvas.shape[1] * scale / 100, canvas.shape[0] * scale / 100 + extra)
    ax = fig.add_axes((0, 0, 1, canvas.shape[0] * scale / 100 / (canvas.shape[0] * scale / 100 + extra)))
    ax.imshow(canvas, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=8, y=0.99)
    _save(fig, path)
