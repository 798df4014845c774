"""Disturbances of the digits test split, at levels 0 (none) to 5 (strongest).

The image disturbances are those of the FID paper (Heusel et al. 2017, arXiv:1706.08500,
Fig. A1): Gaussian noise, Gaussian blur, black rectangles, salt-and-pepper noise and swirl,
made with scikit-image (:func:`skimage.util.random_noise`, :func:`skimage.filters.gaussian`,
:func:`skimage.transform.swirl`). The sample-set disturbances change which images are there:
mode dropping (whole classes removed), mode collapse (a share of the images replaced by copies
of five), memorisation (a share replaced by training images) and mixing in another data set
(rows of scikit-learn's breast-cancer table drawn as 8x8 images). Every random draw comes from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = ["disturb_digits", "LEVELS", "DISTURBANCE_NAMES"]

#: the parameter of each disturbance at levels 0..5
LEVELS: dict[str, tuple[float, ...]] = {
    "gaussian_noise": (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),  # noise std (images in [0, 1])
    "gaussian_blur": (0.0, 0.3, 0.5, 0.75, 1.0, 1.5),  # kernel sigma in pixels
    "black_rectangles": (0, 1, 2, 3, 4, 5),  # 3x3 black squares per image
    "salt_and_pepper": (0.0, 0.02, 0.05, 0.1, 0.2, 0.3),  # share of pixels replaced
    "swirl": (0.0, 0.5, 1.0, 2.0, 3.0, 5.0),  # swirl strength (radius 6 px)
    "mode_dropping": (0, 1, 3, 5, 7, 9),  # classes removed (0, 1, ...)
    "mode_collapse": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),  # share replaced by copies of 5 images
    "memorisation": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),  # share replaced by training images
    "mixing": (0.0, 0.1, 0.2, 0.4, 0.6, 0.8),  # share replaced by breast-cancer rows
}
DISTURBANCE_NAMES = tuple(LEVELS)


def disturb_digits(
    images: np.ndarray,
    labels: np.ndarray,
    kind: str,
    level: int,
    *,
    seed: int = 0,
    train_images: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply disturbance ``kind`` at ``level`` (0..5) to uint8 digit images (n, 8, 8).

    Returns the disturbed uint8 images (mode dropping returns fewer) and a description
    (``kind``, ``level``, ``parameter``, ``seed``).

    Examples
    --------
    >>> from ganeval.features.digits import digits_images
    >>> from ganeval.sources.builtin import load_builtin
    >>> data, idx = load_builtin("digits", "test")
    >>> x = digits_images("test")
    >>> y, info = disturb_digits(x, data.labels[idx], "gaussian_noise", 3, seed=0)
    >>> y.shape == x.shape, info["parameter"], bool((y != x).any())
    (True, 0.2, True)
    >>> disturb_digits(x, data.labels[idx], "mode_dropping", 5)[0].shape[0] < x.shape[0]
    True
    """
    if kind not in LEVELS:
        raise ParameterError(f"disturbance must be one of {', '.join(LEVELS)}; got {kind!r}")
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 0 <= level <= 5:
        raise ParameterError(f"level must be an integer 0..5, got {level!r}")
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ParameterError(f"images must be uint8 of shape (n, H, W), got {images.dtype} {images.shape}")
    param = LEVELS[kind][level]
    info = {"kind": kind, "level": int(level), "parameter": param, "seed": int(seed)}
    if level == 0:
        return images.copy(), info
    rng = np.random.default_rng([int(seed), DISTURBANCE_NAMES.index(kind), int(level)])
    x = images.astype(np.float64) / 255.0
    if kind == "mode_dropping":
        keep = ~np.isin(labels, np.arange(int(param)))
        return images[keep].copy(), info
    if kind in ("mode_collapse", "memorisation", "mixing"):
        x = _replace_images(x, kind, float(param), rng, train_images)
    else:
        x = _disturb_pixels(x, kind, param, rng)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8), info


def _disturb_pixels(x: np.ndarray, kind: str, param: float, rng: np.random.Generator) -> np.ndarray:
    """The image disturbances of the FID paper, on float images in [0, 1] (n, H, W):
    Gaussian noise, salt and pepper, Gaussian blur, swirl, black 3x3 rectangles."""
    n = x.shape[0]
    if kind == "gaussian_noise":
        from skimage.util import random_noise

        return random_noise(x, mode="gaussian", var=float(param) ** 2, rng=rng, clip=True)
    if kind == "salt_and_pepper":
        from skimage.util import random_noise

        return random_noise(x, mode="s&p", amount=float(param), rng=rng)
    if kind == "gaussian_blur":
        from skimage.filters import gaussian

        return gaussian(x, sigma=(0.0, float(param), float(param)), mode="nearest", preserve_range=True)
    if kind == "swirl":
        from skimage.transform import swirl

        h, w = x.shape[1:]
        center = ((w - 1) / 2.0, (h - 1) / 2.0)
        return np.stack(
            [
                swirl(
                    img, center=center, strength=float(param), radius=6, mode="constant", cval=0.0, preserve_range=True
                )
                for img in x
            ]
        )
    # black_rectangles
    h, w = x.shape[1:]
    for i in range(n):
        for _ in range(int(param)):
            top, left = rng.integers(0, h - 2), rng.integers(0, w - 2)
            x[i, top : top + 3, left : left + 3] = 0.0
    return x


def _replace_images(
    x: np.ndarray, kind: str, share: float, rng: np.random.Generator, train_images: np.ndarray | None
) -> np.ndarray:
    """The sample-set disturbances: a ``share`` of the images replaced by copies of five of
    them (mode collapse), by training images (memorisation) or by another data set (mixing)."""
    n = x.shape[0]
    k = int(round(share * n))
    if kind == "mode_collapse":
        sources = rng.choice(n, size=5, replace=False)
        idx = rng.choice(n, size=k, replace=False)
        x[idx] = x[sources[np.arange(k) % 5]]
    elif kind == "memorisation":
        if train_images is None:
            raise ParameterError("memorisation needs train_images (the training split)")
        idx = rng.choice(n, size=k, replace=False)
        x[idx] = (
            np.asarray(train_images, dtype=np.float64)[rng.choice(len(train_images), size=k, replace=False)] / 255.0
        )
    else:  # mixing
        idx = rng.choice(n, size=k, replace=False)
        x[idx] = _other_data_images(k, rng, x.shape[1:])
    return x


def _other_data_images(k: int, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """``k`` rows of scikit-learn's breast-cancer table as images: each column scaled to
    [0, 1] by its range, the 30 values repeated to fill the image."""
    from sklearn.datasets import load_breast_cancer

    rows = load_breast_cancer().data
    lo, hi = rows.min(0), rows.max(0)
    scaled = (rows - lo) / np.where(hi > lo, hi - lo, 1.0)
    pick = scaled[rng.choice(len(scaled), size=k, replace=k > len(scaled))]
    size = shape[0] * shape[1]
    return np.resize(pick, (k, size)).reshape(k, *shape) if k else np.zeros((0, *shape))
