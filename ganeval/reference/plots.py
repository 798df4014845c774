"""PNG pictures of samples, drawn with Pillow (no plotting library needed).

- :func:`save_scatter`: 2-D points (generated in blue over the real ones in grey);
- :func:`save_digit_grid`: 8x8 images (rows of 64 pixels in [0, 1]) tiled into a grid.

Both write atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["save_scatter", "save_digit_grid"]


def _save(img: Image.Image, path: Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        img.save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_scatter(points: np.ndarray, path: str | os.PathLike, *, reference: np.ndarray | None = None,
                 size: int = 512, margin: int = 16) -> None:
    """Scatter plot of 2-D ``points`` (blue) over optional ``reference`` points (grey).

    Both sets share one square frame that holds them all (equal axis scales).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_scatter(np.array([[0.0, 0.0], [1.0, 1.0]]), os.path.join(d, "s.png"))
    ...     os.path.getsize(os.path.join(d, "s.png")) > 0
    True
    """
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    sets = [pts] if reference is None else [np.asarray(reference, dtype=np.float64)[:, :2], pts]
    both = np.concatenate(sets)
    both = both[np.isfinite(both).all(1)]
    lo, hi = (both.min(0), both.max(0)) if both.size else (np.zeros(2), np.ones(2))
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-9)
    scale = (size / 2 - margin) / half
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    colours = [(190, 190, 190), (31, 90, 200)] if reference is not None else [(31, 90, 200)]
    for arr, colour in zip(sets, colours):
        arr = arr[np.isfinite(arr).all(1)]
        px = size / 2 + (arr[:, 0] - centre[0]) * scale
        py = size / 2 - (arr[:, 1] - centre[1]) * scale
        for x, y in zip(px, py):
            draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    _save(img, Path(path))


def save_digit_grid(rows: np.ndarray, path: str | os.PathLike, *, zoom: int = 4, pad: int = 2) -> None:
    """Tile 8x8 images (rows of 64 pixels in [0, 1], row-major) into a square grid PNG.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_digit_grid(np.zeros((5, 64)), os.path.join(d, "g.png"))
    ...     Image.open(os.path.join(d, "g.png")).size
    (104, 70)
    """
    imgs = np.clip(np.asarray(rows, dtype=np.float64), 0.0, 1.0).reshape(-1, 8, 8)
    cols = max(1, math.ceil(math.sqrt(imgs.shape[0])))
    nrows = max(1, math.ceil(imgs.shape[0] / cols))
    cell = 8 * zoom + pad
    canvas = np.full((nrows * cell + pad, cols * cell + pad), 255, dtype=np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        big = np.kron(im, np.ones((zoom, zoom)))
        # digits are dark strokes on white paper: 0 -> white, 1 -> black
        canvas[pad + r * cell: pad + r * cell + 8 * zoom, pad + c * cell: pad + c * cell + 8 * zoom] = \
            np.round(255 * (1.0 - big)).astype(np.uint8)
    _save(Image.fromarray(canvas), Path(path))
