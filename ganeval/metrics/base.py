"""The one metric abstraction: :class:`Metric`, its :class:`Option` and :class:`Output` declarations.

A metric is one class. It declares, in one place, everything every front-end needs:

- ``name``: the command name and the key of its results (``"fid"``, ``"mean-gap"``);
- ``takes``: what it is computed from (see :data:`TAKES`): two samples of feature rows,
  two samples' moments, one sample's class logits, one sample, a training set and a
  generated set, a training set, a held-out real set and a generated set, or labelled tables;
- ``outputs``: the numbers it returns, each with its direction and natural range (by
  default one ``value`` whose direction is ``higher_is_better``);
- ``seeded``: whether it draws random numbers (then it takes a ``seed`` option);
- ``resampling``: how an interval is made (``"replacement"``: rows drawn with replacement,
  ``"half"``: half-samples without replacement, ``None``: no interval, ``no_interval``
  says why);
- ``options``: its options, with type, default, bounds and help text: the one source of
  the CLI options, the report-spec validation and the keyword checks in Python;
- ``streaming``: the state a training loop keeps for it (``"moments"``, ``"rows"``,
  ``"logits"``), or ``None``;
- ``features``: which output of the image extractor it reads: ``""`` (default) for the
  extractor's main features (the Inception's pool3), or the name of an extra output
  (``"spatial"``: the Inception's sFID features); :func:`ganeval.evaluate` asks the
  extractor for it, and takes its moments from statistics files that hold them
  (``mu_s``/``sigma_s``).

Every front-end derives from that declaration: ``ganeval NAME ...`` (a command generated
from the options), ``ganeval eval --metrics``, :func:`ganeval.evaluate`, intervals (``--ci``,
``ci=``), report specs and the :class:`~ganeval.Evaluator`. Built-in metrics and plug-ins
(entry-point group ``ganeval.metrics``) are registered the same way
(:mod:`ganeval.metrics.registry`). The smallest metric::

    import numpy as np
    from ganeval import Metric

    class MeanGap(Metric):
        name = "mean-gap"
        higher_is_better = False

        def compute(self, real, fake):      # two samples of feature rows, float64 (n, d)
            return {"value": float(np.abs(real.mean(0) - fake.mean(0)).mean())}

Calling a metric object validates its inputs and options and returns a
:class:`~ganeval.results.MetricResult`:

>>> import numpy as np
>>> class MeanGap(Metric):
...     name = "mean-gap"
...     higher_is_better = False
...     def compute(self, real, fake):
...         return {"value": float(np.abs(real.mean(0) - fake.mean(0)).mean())}
>>> r = MeanGap()(np.zeros((4, 2)), np.ones((5, 2)))
>>> r.metric, r.value, r.n_real, r.n_fake
('mean-gap', 1.0, 4, 5)
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .._validation import MAX_SEED, as_features, check_same_dim, show
from ..errors import DataError, ParameterError
from ..results import MetricResult

__all__ = ["Metric", "Option", "Output", "TAKES", "RESAMPLING", "STREAMING"]

#: what a metric is computed from -> the names of its positional inputs
TAKES: dict[str, tuple[str, ...]] = {
    "two-sample": ("real", "fake"),  # two samples of feature rows, float64 (n, d), same d
    "moments": ("real", "fake"),  # two samples' mean and covariance (FeatureStats), or their rows
    "logits": ("fake",),  # one sample's class logits (n, classes)
    "one-sample": ("fake",),  # one sample of feature rows
    "train-fake": ("train", "fake"),  # the training set and a generated set, feature rows
    "train-test-fake": ("train", "test", "fake"),  # training set, held-out real set, generated set
    "generator": ("generator",),  # a generator (latents -> images), sampled by the metric itself
    "labelled": ("real_train", "fake_train", "real_test"),  # labelled tables (train on fake, test on real)
}

#: how an interval resamples a metric's inputs
RESAMPLING = ("replacement", "half", None)

#: the state a streaming (training-loop) version keeps
STREAMING = ("moments", "rows", "logits", None)

_TYPES = ("int", "float", "str", "bool")


@dataclass(frozen=True)
class Option:
    """One option of a metric: its type, default, bounds and help.

    Parameters
    ----------
    name : str
        Python keyword (``subset_size``); the CLI flag is ``--subset-size`` unless ``flag``.
    type : {"int", "float", "str", "bool"}
    default : any
        ``None`` means "chosen by the metric" (e.g. KID's subset size); then ``None`` is
        accepted as a value too.
    help : str
    minimum, maximum : float, optional
        Inclusive bounds for numbers (``exclusive_minimum``: the minimum is excluded).
    choices : tuple, optional
        The admitted values (strings or numbers).
    words : tuple of str, optional
        Words a number option also admits (``"median"``, ``"inf"``).
    flag : str, optional
        CLI flag name, when it differs from ``--name`` with dashes.
    """

    name: str
    type: str = "float"
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    words: tuple[str, ...] = ()
    flag: str | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"option {self.name}: type must be one of {_TYPES}, got {self.type!r}")

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def describe(self) -> str:
        """The accepted values in words (for help texts and errors)."""
        if self.choices is not None:
            what = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            what = {"int": "an integer", "float": "a number", "str": "text", "bool": "true or false"}[self.type]
            lo = None if self.minimum is None else (">" if self.exclusive_minimum else ">=") + f" {_num(self.minimum)}"
            hi = None if self.maximum is None else f"<= {_num(self.maximum)}"
            bounds = " and ".join(b for b in (lo, hi) if b)
            what = f"{what} {bounds}" if bounds else what
        if self.words:
            what += " or " + " or ".join(repr(w) for w in self.words)
        return what

    def check(self, value: Any, where: str, *, text: bool = False) -> Any:
        """``value`` validated and converted; ``text=True`` parses command-line strings.

        >>> Option("k", "int", 5, minimum=1).check(3, "prdc")
        3
        >>> Option("cache", "bool", False).check("false", "report")
        Traceback (most recent call last):
        ...
        ganeval.errors.ParameterError: report: option cache must be true or false, got 'false'
        """
        label = f"{where}: option {self.name}"
        if value is None:
            if self.default is None:
                return None
            raise ParameterError(f"{label} must be {self.describe()}, got None")
        if isinstance(value, str) and value.strip().lower() in self.words:
            return value.strip().lower()
        if self.type == "bool":
            if text and isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no"):
                return value.lower() in ("true", "1", "yes")
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise ParameterError(f"{label} must be true or false, got {show(value)}")
        if self.type == "str":
            if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
                raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}")
            return value
        return self._number(value, label, text)

    def _number(self, value: Any, label: str, text: bool) -> Any:
        if text and isinstance(value, str):
            try:
                value = int(value) if self.type == "int" else float(value)
            except ValueError:
                raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}") from None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}")
        if self.type == "int":
            if not float(value).is_integer():
                raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}")
            # typeshed types numbers.Real.__trunc__ as returning a protocol, not int
            value = int(value)  # type: ignore[call-overload]
        else:
            value = float(value)
            if math.isnan(value):
                raise ParameterError(f"{label} must be {self.describe()}, got nan")
        low_bad = self.minimum is not None and (
            value <= self.minimum if self.exclusive_minimum else value < self.minimum
        )
        if low_bad or (self.maximum is not None and value > self.maximum):
            raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}")
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"{label} must be {self.describe()}, got {show(value)}")
        return value


@dataclass(frozen=True)
class Output:
    """One number a metric returns, and how to read it.

    ``higher_is_better``: True, False, or None when neither (then ``target`` is the best
    value, e.g. 0.5 for a two-sample classifier's accuracy). ``range`` is the natural range
    (interval ends are clipped to it). ``spread``: the key of this number's own spread
    (KID's ``std``).
    """

    key: str = "value"
    higher_is_better: bool | None = None
    range: tuple[float, float] = (-math.inf, math.inf)
    label: str = ""
    target: float | None = None
    spread: str | None = None

    @property
    def better(self) -> str:
        """``"higher"``, ``"lower"`` or the target as text (``"0.5"``)."""
        if self.higher_is_better is None:
            return "" if self.target is None else f"{self.target:g}"
        return "higher" if self.higher_is_better else "lower"


SEED_OPTION = Option(
    "seed",
    "int",
    0,
    "Seed of every random draw; same inputs and seed give the same numbers.",
    minimum=0,
    maximum=MAX_SEED,
)


class Metric:
    """Base class of every metric (built-in and plug-in); see the module notes.

    Subclasses set the class attributes and implement :meth:`compute`, which receives
    validated inputs (float64 arrays, or :class:`~ganeval.statistics.FeatureStats` for
    ``takes = "moments"``) and validated options, and returns a mapping of numbers (or a
    :class:`~ganeval.results.MetricResult`).
    """

    name: ClassVar[str] = ""
    takes: ClassVar[str] = "two-sample"
    higher_is_better: ClassVar[bool | None] = None
    outputs: ClassVar[tuple[Output, ...]] = ()
    seeded: ClassVar[bool] = False
    resampling: ClassVar[str | None] = "replacement"
    no_interval: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()
    streaming: ClassVar[str | None] = None
    #: extractor output read: "" = the main features, else an extra output ("spatial")
    features: ClassVar[str] = ""
    #: compute() takes ``columns=`` (the feature names, for per-feature output)
    uses_columns: ClassVar[bool] = False
    #: fewest rows per input
    min_samples: ClassVar[int] = 2
    #: float32 rows reach compute() as float32 (a metric with a float32 fast path, as KID);
    #: otherwise every input is float64
    keeps_float32: ClassVar[bool] = False
    #: one line for ``--help`` and listings (default: the first line of the docstring)
    summary: ClassVar[str] = ""
    #: options used by the shared registry tests (small and fast)
    test_options: ClassVar[Mapping[str, Any]] = {}
    #: shared-test facts: value on identical samples (None: none fixed), symmetry, row order
    identity: ClassVar[float | None] = None
    symmetric: ClassVar[bool] = False
    order_invariant: ClassVar[bool] = True

    # -- the declaration, read by every front-end ------------------------------------------

    @classmethod
    def all_outputs(cls) -> tuple[Output, ...]:
        """The declared outputs; by default one ``value`` with the metric's direction."""
        return cls.outputs or (Output("value", cls.higher_is_better),)

    @classmethod
    def main_output(cls) -> Output:
        return cls.all_outputs()[0]

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        """The declared options, plus ``seed`` for seeded metrics that do not declare it."""
        opts = tuple(cls.options)
        if cls.seeded and not any(o.name == "seed" for o in opts):
            opts += (SEED_OPTION,)
        return opts

    @classmethod
    def one_line(cls) -> str:
        if cls.summary:
            return cls.summary
        doc = inspect.getdoc(cls) or ""
        return doc.strip().split("\n")[0] if doc and cls.__doc__ is not Metric.__doc__ else cls.name

    @classmethod
    def inputs(cls) -> tuple[str, ...]:
        return TAKES[cls.takes]

    @classmethod
    def check_declaration(cls) -> None:
        """Raise ``TypeError`` when the class attributes do not make a metric."""
        where = f"metric class {cls.__module__}.{cls.__qualname__}"
        if not isinstance(cls.name, str) or not cls.name or cls.name != cls.name.strip() or " " in cls.name:
            raise TypeError(f"{where}: set `name` to a non-empty word (e.g. 'mean-gap'), got {cls.name!r}")
        if cls.takes not in TAKES:
            raise TypeError(f"{where}: takes must be one of {sorted(TAKES)}, got {cls.takes!r}")
        if cls.resampling not in RESAMPLING:
            raise TypeError(f"{where}: resampling must be one of {RESAMPLING}, got {cls.resampling!r}")
        if cls.streaming not in STREAMING:
            raise TypeError(f"{where}: streaming must be one of {STREAMING}, got {cls.streaming!r}")
        if not isinstance(cls.features, str):
            raise TypeError(f"{where}: features must be an extractor output name or '', got {cls.features!r}")
        if cls.compute is Metric.compute:
            raise TypeError(f"{where}: define compute()")
        names = [o.name for o in cls.all_options()]
        if len(set(names)) != len(names):
            raise TypeError(f"{where}: option names repeat: {names}")
        if any(not isinstance(o, Option) for o in cls.all_options()):
            raise TypeError(f"{where}: options must be Option(...) declarations")

    # -- options ---------------------------------------------------------------------------

    @classmethod
    def check_options(
        cls,
        options: Mapping[str, Any] | None = None,
        *,
        where: str | None = None,
        text: bool = False,
        fill: bool = True,
    ) -> dict[str, Any]:
        """Validated options, defaults filled in (``fill``); unknown names are an error.

        >>> from ganeval.metrics.registry import get
        >>> get("kid").check_options({"subsets": 10})["subsets"]
        10
        """
        where = where or cls.name
        options = dict(options or {})
        known = {o.name: o for o in cls.all_options()}
        unknown = [k for k in options if k not in known]
        if unknown:
            import difflib

            parts = []
            for k in unknown:
                close = difflib.get_close_matches(str(k), list(known), n=1)
                parts.append(repr(k) + (f" (did you mean {close[0]!r}?)" if close else ""))
            have = ", ".join(known) if known else "none"
            raise ParameterError(
                f"{where}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; {cls.name} takes: {have}"
            )
        out: dict[str, Any] = {}
        for name, opt in known.items():
            if name in options:
                out[name] = opt.check(options[name], where, text=text)
            elif fill:
                out[name] = opt.default
        return out

    # -- computing -------------------------------------------------------------------------

    def compute(self, *inputs: Any, **options: Any) -> Any:  # pragma: no cover - abstract
        """The numbers, from validated inputs and options: a mapping or a MetricResult."""
        raise NotImplementedError

    def prepare(self, inputs: Sequence[Any], names: Sequence[str] | None = None) -> list[Any]:
        """Validate and convert the positional inputs as :attr:`takes` says (``names``: what
        the inputs are called in error messages, default the :data:`TAKES` names)."""
        names = tuple(names) if names is not None else self.inputs()
        if self.takes == "labelled":
            return list(inputs)
        if len(inputs) != len(names):
            raise ParameterError(
                f"{self.name}: takes {len(names)} input{'s' if len(names) > 1 else ''} "
                f"({', '.join(names)}), got {len(inputs)}"
            )
        if self.takes == "moments":
            from ..statistics import FeatureStats

            out = [
                x if isinstance(x, FeatureStats) else FeatureStats.from_features(as_features(x, n), name=n)
                for x, n in zip(inputs, names)
            ]
            if out[0].dim != out[1].dim:
                raise DataError(
                    f"{self.name}: feature dimensions differ: {names[0]} has {out[0].dim}, {names[1]} has {out[1].dim}"
                )
            return out
        dtype = None if self.keeps_float32 else np.float64
        arrays = [as_features(x, n, min_samples=self.min_samples, dtype=dtype) for x, n in zip(inputs, names)]
        for i in range(1, len(arrays)):
            check_same_dim(arrays[0], arrays[i], names[0], names[i])
        return arrays

    def __call__(
        self, *inputs: Any, columns: Sequence[str] | None = None, names: Sequence[str] | None = None, **options: Any
    ) -> MetricResult:
        """Compute the metric: inputs as :attr:`takes` says, options by keyword.

        ``columns``: the feature names (metrics that report per feature); ``names``: what
        the inputs are called in error messages.
        """
        opts = self.check_options(options)
        data = self.prepare(inputs, names)
        extra: dict[str, Any] = {}
        if self.uses_columns:
            extra["columns"] = list(columns) if columns is not None else None
        if names is not None and "names" in _parameters(type(self).compute):
            extra["names"] = tuple(names)
        out = self.compute(*data, **opts, **extra)
        return self.to_result(out, opts, data)

    def to_result(self, out: Any, options: Mapping[str, Any], data: Sequence[Any]) -> MetricResult:
        """A :class:`MetricResult` of what :meth:`compute` returned; numbers checked finite."""
        if isinstance(out, MetricResult):
            return out
        if not isinstance(out, Mapping) or not out:
            raise TypeError(f"metric {self.name}: compute() must return a mapping of numbers, got {type(out).__name__}")
        values: dict[str, Any] = {}
        for key, v in out.items():
            if isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, bool):
                v = float(v) if not isinstance(v, (int, np.integer)) else int(v)
                if not math.isfinite(v):
                    raise DataError(f"{self.name}: {key} is not finite ({v}); check the inputs")
            values[str(key)] = v
        sizes = [_size(x) for x in data]
        n_real = sizes[0] if len(sizes) == 2 else None
        n_fake = sizes[-1] if sizes else None
        settings = dict(options)
        return MetricResult(self.name, values, settings, n_real=n_real, n_fake=n_fake)

    def __repr__(self) -> str:
        return f"<metric {self.name!r} ({self.takes})>"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _parameters(function: Any) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set()


def _size(x: Any) -> int | None:
    n = getattr(x, "n", None)
    if isinstance(n, int):
        return n
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape else None
