"""The one registry of metrics: built-ins, listed here, and plug-ins, found through the
``ganeval.metrics`` entry-point group.

Every front-end (the CLI, :func:`ganeval.evaluate`, intervals, report specs, the
:class:`~ganeval.Evaluator`) asks this registry which metrics exist and what each takes.

A third-party package registers a metric with one line in its ``pyproject.toml``::

    [project.entry-points."ganeval.metrics"]
    mean-gap = "mygap:MeanGap"

(or, at run time, :func:`register_metric`). A plug-in that fails to load is reported
once as a warning naming it; it never breaks the built-ins.

Examples
--------
>>> sorted(names())[:4]
['c2st', 'cmmd', 'data-copying', 'divergence']
>>> get("fid").takes
'moments'
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from typing import Any

from ..errors import ParameterError
from .base import Metric
from .c2st import C2ST
from .cmmd import CMMD
from .data_copying import DataCopying
from .divergence import Divergence
from .ecdf import ECDF
from .fid import FID
from .fld import FLD
from .inception_score import InceptionScore
from .kid import KID
from .memorization import Memorization
from .mifid import MiFID
from .mmd import MMD
from .nested_f1 import NestedF1
from .ppl import PPL
from .pprecision import PPrecisionRecall
from .prd import PRD
from .prdc import PRDC
from .rarity import Rarity
from .realism import Realism
from .sfid import SFID
from .top_pr import TopPR
from .vendi import Vendi
from .wasserstein import Wasserstein

__all__ = ["register_metric", "unregister_metric", "get", "names", "metrics", "BUILTIN", "ENTRY_POINT_GROUP"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ganeval.metrics"

#: the built-in metrics, in the order listings show them
BUILTIN: tuple[type[Metric], ...] = (
    FID,
    SFID,
    KID,
    InceptionScore,
    PRDC,
    MMD,
    CMMD,
    PRD,
    Vendi,
    Memorization,
    ECDF,
    C2ST,
    Wasserstein,
    Divergence,
    NestedF1,
    Realism,
    Rarity,
    MiFID,
    DataCopying,
    FLD,
    TopPR,
    PPrecisionRecall,
    PPL,
)

_REGISTRY: dict[str, Metric] = {}
_PLUGINS_LOADED = False

#: names the CLI keeps for itself (a plug-in cannot take them)
RESERVED = ("eval", "train", "report", "stats", "datasets", "sample", "modes", "extractors", "metrics")


def register_metric(metric: Any, *, replace: bool = False) -> Any:
    """Register a :class:`Metric` subclass (or instance); usable as a class decorator.

    A name already registered is refused unless ``replace=True``.
    """
    instance = metric() if isinstance(metric, type) else metric
    if not isinstance(instance, Metric):
        raise TypeError(f"{metric!r} is not a ganeval.Metric subclass")
    type(instance).check_declaration()
    name = instance.name
    if name in RESERVED:
        raise ParameterError(f"metric name {name!r} is reserved for a ganeval command; choose another")
    if name in _REGISTRY and not replace and type(_REGISTRY[name]) is not type(instance):
        raise ParameterError(
            f"metric {name!r} is already registered (by {type(_REGISTRY[name]).__module__}); "
            f"pass replace=True to replace it"
        )
    _REGISTRY[name] = instance
    return metric


def unregister_metric(name: str) -> None:
    """Remove a metric from the registry (tests, interactive use)."""
    _REGISTRY.pop(name, None)


def _load_plugins() -> None:
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if ep.name in _REGISTRY and type(_REGISTRY[ep.name]) is obj:
                continue
            register_metric(obj)
        except Exception as exc:  # a broken plug-in must not break ganeval
            warnings.warn(
                f"metric plug-in {ep.name!r} ({ep.value}) could not be loaded: {type(exc).__name__}: {exc}",
                stacklevel=2,
            )
            continue
        if _REGISTRY.get(ep.name) is None or _REGISTRY[ep.name].name != ep.name:
            log.info("metric plug-in %s registered as %r", ep.value, getattr(obj, "name", ep.name))


def _ensure() -> None:
    if not _REGISTRY:
        for cls in BUILTIN:
            register_metric(cls)
    _load_plugins()


def metrics(takes: str | Iterable[str] | None = None) -> dict[str, Metric]:
    """Every registered metric by name (built-ins first), optionally only those whose
    :attr:`~ganeval.Metric.takes` is in ``takes``."""
    _ensure()
    if takes is None:
        return dict(_REGISTRY)
    kinds = {takes} if isinstance(takes, str) else set(takes)
    return {n: m for n, m in _REGISTRY.items() if m.takes in kinds}


def names(takes: str | Iterable[str] | None = None) -> list[str]:
    """The registered metric names (see :func:`metrics`)."""
    return list(metrics(takes))


def get(name: str) -> Metric:
    """The metric registered as ``name``; a :class:`ParameterError` listing the known ones
    otherwise."""
    _ensure()
    if isinstance(name, Metric):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        import difflib

        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"unknown metric {name!r}{hint}; known: {', '.join(_REGISTRY)}") from None
