"""The frozen result object every metric returns."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MetricResult", "flat"]


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and nested containers to plain JSON types."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no inf/nan; keep the meaning explicit instead of emitting invalid JSON.
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    return value


@dataclass(frozen=True)
class MetricResult:
    """The numbers a metric produced, with the settings and input sizes behind them.

    Attributes
    ----------
    metric : str
        Metric name as used on the command line (``"fid"``, ``"kid"``, ...).
    values : mapping
        The numbers: ``value`` for scalar metrics, plus e.g. ``std``, ``precision``...
        Each is also readable as an attribute (``result.value``, ``result.precision``).
    settings : mapping
        The options that produced the numbers (seed, k, kernel, preprocessing, ...).
    n_real, n_fake : int or None
        Number of samples on each side (``None`` when the metric has no such side).

    Examples
    --------
    >>> r = MetricResult("fid", {"value": 1.5}, {"eps": 0.0}, n_real=10, n_fake=12)
    >>> r.value
    1.5
    >>> r.to_dict()["n_fake"]
    12
    """

    metric: str
    values: Mapping[str, Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    n_real: int | None = None
    n_fake: int | None = None

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} for {self.metric!r} has no value {name!r}")

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary: ``metric``, the values, ``n_real``, ``n_fake``,
        ``settings`` and the ganeval ``version``."""
        from .version import __version__

        out: dict[str, Any] = {"metric": self.metric}
        out.update(_jsonable(dict(self.values)))
        out["n_real"] = self.n_real
        out["n_fake"] = self.n_fake
        out["settings"] = _jsonable(dict(self.settings))
        out["version"] = __version__
        return out

    def to_json(self) -> str:
        """One-line JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), sort_keys=False)

    def summary(self) -> str:
        """A short human line, e.g. ``fid = 12.3456  (n_real=1000, n_fake=1000)``."""
        parts = []
        for key, val in self.values.items():
            if isinstance(val, (int, float)) and not isinstance(val, bool):
                parts.append(f"{key} = {val:.6g}")
            elif (
                isinstance(val, Mapping)
                and val
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in val.values())
            ):
                parts.append(f"{key} = (" + ", ".join(f"{k} {v:.4g}" for k, v in val.items()) + ")")
        sizes = ", ".join(f"{k}={v}" for k, v in (("n_real", self.n_real), ("n_fake", self.n_fake)) if v is not None)
        head = f"{self.metric}: " + ", ".join(parts)
        return f"{head}  ({sizes})" if sizes else head


def flat(results: Any, *, prefix: str = "", sep: str = "_") -> dict[str, float]:
    """Plain floats of results, one call, for loggers (``LightningModule.log_dict``,
    TensorBoard ``add_scalars``, ``wandb.log``).

    The main number of a metric is its name (``"fid"``); every other number is
    ``name + sep + key`` (``"kid_std"``, ``"prdc_precision"``). Metrics whose values are all
    named (PRDC) give each one; non-numeric values (curves, lists, per-feature tables) are
    left out. ``prefix`` is put before every key (``"val/"``).

    Parameters
    ----------
    results : MetricResult or mapping of name to MetricResult
        What :func:`ganeval.evaluate` or ``Evaluator.compute()`` returned.

    Examples
    --------
    >>> r = {"fid": MetricResult("fid", {"value": 12.5}),
    ...      "kid": MetricResult("kid", {"value": 0.01, "std": 0.002}),
    ...      "prdc": MetricResult("prdc", {"precision": 0.7, "recall": 0.6})}
    >>> flat(r)
    {'fid': 12.5, 'kid': 0.01, 'kid_std': 0.002, 'prdc_precision': 0.7, 'prdc_recall': 0.6}
    >>> flat(r["kid"], prefix="val/")
    {'val/kid': 0.01, 'val/kid_std': 0.002}
    """
    if isinstance(results, MetricResult):
        results = {results.metric: results}
    if not isinstance(results, Mapping):
        raise TypeError(f"flat() takes a MetricResult or a mapping of them, got {type(results).__name__}")
    out: dict[str, float] = {}
    for name, r in results.items():
        values = r.values if isinstance(r, MetricResult) else r
        if not isinstance(values, Mapping):
            raise TypeError(f"flat(): {name!r} is a {type(r).__name__}, not a MetricResult")
        for key, v in values.items():
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                and not (hasattr(v, "item") and getattr(v, "ndim", 1) == 0)
            ):
                continue
            v = float(v)
            if not math.isfinite(v):
                continue
            out[prefix + (str(name) if key == "value" else f"{name}{sep}{key}")] = v
    return out
