"""Embedded training data for the reference generators.

Two synthetic 2-D Gaussian mixtures, the standard mode-collapse benchmarks, are registered
here as built-in sources (``builtin:ring8``, ``builtin:grid25``, with ``/train`` and
``/test`` splits); scikit-learn's ``digits``, ``wine`` and ``breast_cancer`` are registered
by :mod:`ganeval.sources.builtin` and reused as they are.

- ``ring8``: 8 Gaussians with means on a circle of radius 2, standard deviation 0.02
  (Metz et al. 2016, unrolled GANs, arXiv:1611.02163; Srivastava et al. 2017, VEEGAN,
  arXiv:1705.07761).
- ``grid25``: 25 Gaussians with means on the grid {-4, -2, 0, 2, 4}^2, standard deviation
  0.05 (VEEGAN, arXiv:1705.07761).

Each mixture has 10,000 points, the same number per mode, drawn once from
``numpy.random.default_rng(seed)`` with a fixed seed; labels are the mode index, so the
train/test split (half each, per mode) is fixed too.

:func:`training_set` tells the trainer what each data set is (``mixture``, ``tabular`` or
``image``) and returns the rows of a split.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ..errors import ParameterError
from ..sources.builtin import BuiltinData, load_builtin, register_builtin

__all__ = ["Mixture", "MIXTURES", "mixture", "mixture_data", "TrainingSet", "training_set", "TRAINABLE"]


@dataclass(frozen=True)
class Mixture:
    """An isotropic Gaussian mixture with equal weights: ``centers`` (K, 2) and one ``std``."""

    name: str
    centers: np.ndarray
    std: float
    per_mode: int
    seed: int

    @property
    def n_modes(self) -> int:
        return int(self.centers.shape[0])


def _ring(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    return np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])


def _grid(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    ticks = spacing * (np.arange(side) - (side - 1) / 2)
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    return np.column_stack([xx.ravel(), yy.ravel()])


MIXTURES: dict[str, Mixture] = {
    "ring8": Mixture("ring8", _ring(), 0.02, per_mode=1250, seed=8),
    "grid25": Mixture("grid25", _grid(), 0.05, per_mode=400, seed=25),
}


def mixture(name: str) -> Mixture:
    """The :class:`Mixture` called ``name`` (``"ring8"`` or ``"grid25"``).

    Examples
    --------
    >>> m = mixture("ring8")
    >>> m.n_modes, m.std
    (8, 0.02)
    """
    if name not in MIXTURES:
        raise ParameterError(f"mixture must be one of {', '.join(map(repr, MIXTURES))}; got {name!r}")
    return MIXTURES[name]


def mixture_data(name: str) -> BuiltinData:
    """All rows of a mixture, ``per_mode`` points per mode, labelled by mode.

    The points are ``center_k + std * N(0, I)``, drawn with ``default_rng(seed)``.

    Examples
    --------
    >>> d = mixture_data("grid25")
    >>> d.rows.shape, int(d.labels.max())
    ((10000, 2), 24)
    """
    m = mixture(name)
    rng = np.random.default_rng(m.seed)
    labels = np.repeat(np.arange(m.n_modes), m.per_mode)
    rows = m.centers[labels] + m.std * rng.standard_normal((labels.size, 2))
    return BuiltinData(rows, labels.astype(np.int64), ("x", "y"), test_fraction=0.5)


for _name, _text in (
    ("ring8", "8 Gaussians on a circle of radius 2, std 0.02: 10,000 2-D points, label = mode"),
    ("grid25", "25 Gaussians on the grid {-4,-2,0,2,4}^2, std 0.05: 10,000 2-D points, label = mode"),
):
    register_builtin(_name, partial(mixture_data, _name), _text)


# -- what the trainer needs to know about each set ------------------------------------------

#: data sets the reference trainer can fit, and their kind
TRAINABLE: dict[str, str] = {
    "ring8": "mixture",
    "grid25": "mixture",
    "digits": "image",
    "wine": "tabular",
    "breast_cancer": "tabular",
}


@dataclass(frozen=True)
class TrainingSet:
    """Rows of one split of a trainable data set, with what the trainer needs to know."""

    name: str
    kind: str
    rows: np.ndarray
    labels: np.ndarray | None
    columns: tuple[str, ...] | None

    @property
    def dim(self) -> int:
        return int(self.rows.shape[1])

    @property
    def n_classes(self) -> int:
        return 0 if self.labels is None else int(self.labels.max()) + 1


def training_set(name: str, split: str | None = "train") -> TrainingSet:
    """The rows of ``builtin:NAME/SPLIT`` as a :class:`TrainingSet`.

    Examples
    --------
    >>> t = training_set("wine")
    >>> t.kind, t.dim
    ('tabular', 14)
    """
    if name not in TRAINABLE:
        raise ParameterError(f"data must be one of {', '.join(map(repr, TRAINABLE))}; got {name!r}")
    from ..sources.builtin import ensure_registered

    ensure_registered()
    data, idx = load_builtin(name, split)
    labels = None if data.labels is None else data.labels[idx]
    return TrainingSet(name, TRAINABLE[name], data.rows[idx].astype(np.float64), labels, data.columns)
