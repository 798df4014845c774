"""Data sets that ship inside installed packages, named ``builtin:NAME/SPLIT``.

Every built-in set has fixed ``train`` and ``test`` splits, drawn once per class with a
seeded generator (seed 0): the same rows on every machine. ``builtin:NAME`` alone means the
whole set.

Registered here: ``digits`` (scikit-learn's 1,797 8x8 digits, 64 pixel features scaled to [0, 1]),
``wine`` and ``breast_cancer`` (scikit-learn's tabular sets, features plus a ``target``
column). Other modules add their own with :func:`register_builtin`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import ArraySource, Source

__all__ = ["register_builtin", "ensure_registered", "open_builtin", "builtin_names", "split_indices", "BuiltinData"]

SPLITS = ("train", "test")


@dataclass(frozen=True)
class BuiltinData:
    """A whole embedded data set: rows, optional class labels and column names."""

    rows: np.ndarray
    labels: np.ndarray | None = None
    columns: tuple[str, ...] | None = None
    test_fraction: float = 0.5


_REGISTRY: dict[str, tuple[Callable[[], BuiltinData], str]] = {}
_OPENERS: dict[str, Callable[[str, str | None], Source]] = {}


def register_builtin(
    name: str,
    loader: Callable[[], BuiltinData],
    description: str,
    opener: Callable[[str, str | None], Source] | None = None,
) -> None:
    """Register ``builtin:NAME``. ``opener(name, split)`` may override how it is served
    (e.g. as images rather than rows)."""
    _REGISTRY[name] = (loader, description)
    if opener is not None:
        _OPENERS[name] = opener


def builtin_names() -> dict[str, str]:
    """``{name: description}`` of every registered built-in set."""
    ensure_registered()
    return {k: v[1] for k, v in sorted(_REGISTRY.items())}


def split_indices(labels: np.ndarray | None, n: int, test_fraction: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Fixed train/test row indices: per class (or overall), a seeded shuffle, the first
    ``round(test_fraction * size)`` rows go to test. Indices come back sorted."""
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    train, test = [], []
    for g in groups:
        perm = rng.permutation(g)
        n_test = int(round(test_fraction * len(g)))
        test.append(perm[:n_test])
        train.append(perm[n_test:])
    return {"train": np.sort(np.concatenate(train)), "test": np.sort(np.concatenate(test))}


def parse_builtin(spec: str) -> tuple[str, str | None]:
    """``"builtin:digits/train"`` -> ``("digits", "train")``."""
    body = spec.split(":", 1)[1]
    name, _, split = body.partition("/")
    ensure_registered()
    if name not in _REGISTRY:
        raise InputError(f"{spec}: unknown built-in data set {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    if split and split not in SPLITS:
        raise InputError(f"{spec}: unknown split {split!r}; use one of {', '.join(SPLITS)} or none for the whole set")
    return name, (split or None)


def load_builtin(name: str, split: str | None) -> tuple[BuiltinData, np.ndarray]:
    """The data set and the row indices of ``split`` (all rows when ``split`` is None)."""
    data = _REGISTRY[name][0]()
    if split is None:
        return data, np.arange(data.rows.shape[0])
    return data, split_indices(data.labels, data.rows.shape[0], data.test_fraction)[split]


def open_builtin(spec: str) -> Source:
    """Open ``builtin:NAME[/SPLIT]`` as a source."""
    name, split = parse_builtin(spec)
    if name in _OPENERS:
        return _OPENERS[name](name, split)
    data, idx = load_builtin(name, split)
    return ArraySource(
        spec,
        data.rows[idx].astype(np.float64),
        kind="features",
        columns=data.columns,
        metadata={"builtin": name, "split": split},
    )


# -- scikit-learn's embedded sets ----------------------------------------------------------


def _digits() -> BuiltinData:
    from sklearn.datasets import load_digits

    d = load_digits()
    return BuiltinData(
        d.data.astype(np.float64) / 16.0, d.target.astype(np.int64), tuple(f"pixel_{i}" for i in range(64))
    )


def _sklearn_table(loader_name: str) -> Callable[[], BuiltinData]:
    def load() -> BuiltinData:
        import sklearn.datasets

        d = getattr(sklearn.datasets, loader_name)()
        rows = np.column_stack([d.data, d.target]).astype(np.float64)
        names = tuple(str(c).replace(" ", "_") for c in d.feature_names) + ("target",)
        return BuiltinData(rows, d.target.astype(np.int64), names)

    return load


_DEFAULTS_DONE = False


def ensure_registered() -> None:
    """Register the scikit-learn sets, and import the modules that register others."""
    global _DEFAULTS_DONE
    if _DEFAULTS_DONE:
        return
    _DEFAULTS_DONE = True
    register_builtin(
        "digits", _digits, "scikit-learn digits: 1,797 8x8 images, 64 pixel features scaled to [0, 1], 10 classes"
    )
    # ganeval.features.digits re-registers "digits" as images (features by the digits CNN);
    # the raw pixels stay available as feature rows here
    register_builtin(
        "digits-pixels", _digits, "scikit-learn digits: 1,797 rows of 64 pixel features scaled to [0, 1], 10 classes"
    )
    register_builtin(
        "wine", _sklearn_table("load_wine"), "scikit-learn wine: 178 rows, 13 features + target (3 classes)"
    )
    register_builtin(
        "breast_cancer",
        _sklearn_table("load_breast_cancer"),
        "scikit-learn breast cancer: 569 rows, 30 features + target (2 classes)",
    )
    import importlib

    for module in _EXTRA_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


# Modules that call register_builtin() when imported (added by the packages that own them).
_EXTRA_MODULES: list[str] = ["ganeval.reference.datasets", "ganeval.features.digits"]
