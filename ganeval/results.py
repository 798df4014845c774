"""The frozen result object every metric returns."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["MetricResult"]


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
        from . import __version__

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
            elif isinstance(val, Mapping) and val and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in val.values()):
                parts.append(f"{key} = (" + ", ".join(f"{k} {v:.4g}" for k, v in val.items()) + ")")
        sizes = ", ".join(
            f"{k}={v}" for k, v in (("n_real", self.n_real), ("n_fake", self.n_fake)) if v is not None
        )
        head = f"{self.metric}: " + ", ".join(parts)
        return f"{head}  ({sizes})" if sizes else head
