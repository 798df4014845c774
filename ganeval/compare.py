"""The tabular spelling of :func:`ganeval.evaluate`: :func:`compare`.

``compare(real, fake, metrics)`` is ``evaluate(real, fake, metrics, read_as="table")``:
REAL and FAKE are read together (:func:`ganeval.sources.tabular.load_table_pair`): same
columns, matched by name, ``categorical`` columns one-hot encoded with categories fitted on
REAL. Every registered metric is reachable (ECDF, C2ST, Wasserstein, divergences, MMD,
nested F1, and the feature metrics on the rows as they are)::

    import ganeval
    r = ganeval.compare("builtin:wine/train", "builtin:wine/test", ["ecdf", "c2st"])
    r["c2st"].accuracy
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .api import evaluate
from .results import MetricResult

__all__ = ["compare"]


def compare(
    real: Any,
    fake: Any,
    metrics: Iterable[str] = ("ecdf",),
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    columns: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    skip_invalid: bool = False,
    target: str | None = None,
    real_test: Any = None,
    names: tuple[str, str] | None = None,
    ci: float | None = None,
    bootstrap: int = 200,
    seed: Any = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, MetricResult]:
    """Compute several metrics between two tables, reading each input once.

    Parameters
    ----------
    real, fake : path (``.csv``, ``.npy``, ``.npz``), ``builtin:NAME/SPLIT``, array, DataFrame-like
        For ``nested-f1`` these are the real and the synthetic *training* rows.
    metrics : iterable of registered metric names
        e.g. ``"ecdf"``, ``"c2st"``, ``"wasserstein"``, ``"divergence"``, ``"mmd"``, ``"nested-f1"``.
    options : mapping of metric name to keyword options, optional
        Checked against each metric's declared options (``ganeval <metric> --help``).
    columns, categorical : str or list of str, optional
        Columns to use; text columns to one-hot encode (categories from ``real``).
    skip_invalid : bool, default=False
        Drop rows with a missing value instead of stopping.
    target : str, optional
        The class column (required by ``nested-f1``; excluded from its features).
    real_test : input, optional
        Held-out real rows for ``nested-f1`` (default: a stratified part of ``real``).
    names : (str, str), optional
        Names of ``real`` and ``fake`` recorded in the settings (default: the specs as given
        when they are strings, else ``"real"`` / ``"fake"``).
    ci, bootstrap, seed : optional
        A seeded bootstrap interval on every metric that has one (see :func:`ganeval.evaluate`).
    progress : callable, optional
        Called with 1 after each bootstrap replicate.

    Notes
    -----
    ECDF: (integral |F_real - F_fake|^p dt)^(1/p) per feature; C2ST: Lopez-Paz & Oquab,
    arXiv:1610.06545; nested F1: Gonzalez-Prieto et al., arXiv:2110.15914; MMD: Gretton et
    al. 2012 (JMLR 13); Wasserstein: exact optimal transport (POT).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 2.0
    >>> r = compare(a, b, ["ecdf", "c2st"])
    >>> round(r["ecdf"].value, 1), r["c2st"].accuracy > 0.8
    (2.0, True)
    """
    return evaluate(
        real,
        fake,
        metrics,
        options=options,
        read_as="table",
        columns=columns,
        categorical=categorical,
        skip_invalid=skip_invalid,
        target=target,
        real_test=real_test,
        names=names,
        ci=ci,
        bootstrap=bootstrap,
        seed=seed,
        progress_bootstrap=progress,
    )
