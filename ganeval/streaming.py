"""Streaming metrics for training loops: one base, :class:`StreamingMetric`, with ``update``,
``merge``, ``sync``, ``state_dict`` / ``load_state_dict``, ``reset`` and ``compute`` written
once, over a registered :class:`~ganeval.Metric` and the state its inputs need.

States (the torchmetrics pattern: a state is declared with its reduction)
-------------------------------------------------------------------------
==============  =========================================  ======================================
state           kept per side                              merge / sync (reduction)
==============  =========================================  ======================================
``moments``     n, mean, centred sum of outer products     exact pairwise combination
                ``M2``, float64 (:class:`MomentsState`)    (:func:`~ganeval.statistics.combine_moments`)
``rows``        every row, float64 (or float32 on          concatenation; across ranks the
                request) (:class:`RowsState`)              batches interleaved round-robin
``logits``      every logit row, float64, in order         as ``rows``
==============  =========================================  ======================================

Which state a metric gets: the one its :attr:`~ganeval.Metric.streaming` names; a metric that
declares none but takes feature rows (``takes`` two-sample, one-sample or train-fake: ECDF,
C2ST, Wasserstein, divergences, PRD, Vendi, memorization, ...) streams by keeping its rows,
since rows are all any such metric needs; a ``moments`` metric keeps moments; a ``logits``
metric keeps logits. Labelled tables (nested-F1) cannot stream: :func:`stream_kind` says why.
Sides: ``real`` and ``fake`` (for ``train-fake`` metrics ``real`` is the training set); a
one-input metric keeps ``fake`` only.

Kept rows are copies: a caller that refills one buffer between updates does not change what
was kept. Non-finite rows are an error. States live in torch on ``device`` (CPU by default,
the GPU in a training loop; moments stay on the CPU on devices without float64, e.g. MPS).
``compute()`` runs KID and PRDC on the rows' device (their torch cores,
:func:`~ganeval.metrics.kid.kid_from_tensors`, :func:`~ganeval.metrics.prdc.prdc_from_tensors`),
every other metric through its registered :class:`~ganeval.Metric` on float64 numpy rows:
fed any batching, ``compute()`` gives the functional result.

``sync()`` gathers every rank's state (in rank order) so every rank holds the single-process
state: no sample is dropped or counted twice (that the ranks saw disjoint samples is the data
loader's business; ``DistributedSampler`` pads with repeats unless ``drop_last``). A state
marked ``fixed`` (the same real set given to every rank) is not gathered.

Memory of kept rows: ``8 d`` bytes per float64 row (``4 d`` float32): at d = 2048, 164 MB
(82 MB) per 10,000 samples and side. Moments: ``8 d^2`` bytes per side, whatever the count.

:class:`StreamingFID`, :class:`StreamingKID`, :class:`StreamingPRDC` and :class:`StreamingIS`
are :class:`StreamingMetric` for ``fid``, ``kid``, ``prdc`` and ``is``.

Examples
--------
>>> import numpy as np
>>> fid = StreamingFID()
>>> x = np.random.default_rng(0).normal(size=(200, 3))
>>> for lo in range(0, 200, 50):
...     fid.update(real=x[lo:lo + 50], fake=x[lo:lo + 50] + 1.0)
>>> round(fid.compute().value, 9)  # a shift by (1, 1, 1)
3.0
>>> ecdf = StreamingMetric("ecdf", p=1)  # no streaming declared: keeps rows
>>> ecdf.update(real=x[:100], fake=x[100:]); ecdf.kind
'rows'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .distributed import gather_objects, gather_rows, is_distributed
from .errors import DataError, ParameterError
from .metrics.base import Metric
from .metrics.kid import kid_from_tensors
from .metrics.prdc import prdc_from_tensors
from .metrics.registry import get as get_metric
from .results import MetricResult
from .statistics import FeatureStats, batch_moments, combine_moments

if TYPE_CHECKING:  # torch is imported lazily at run time
    import torch

__all__ = [
    "StreamingMetric",
    "StreamState",
    "MomentsState",
    "RowsState",
    "stream_kind",
    "stream_sides",
    "StreamingFID",
    "StreamingKID",
    "StreamingPRDC",
    "StreamingIS",
    "as_row_tensor",
    "as_moments_state",
    "as_rows_state",
]

#: metrics whose compute runs on the rows' device (a torch core beside the numpy entry)
_ON_DEVICE = {"kid": kid_from_tensors, "prdc": prdc_from_tensors}


def _device(device: Any):
    import torch

    return torch.device(device) if device is not None else torch.device("cpu")


def as_row_tensor(batch: Any, name: str, device: Any = None, *, dtype: Any = None):
    """A batch of rows (numpy array, tensor, nested list) as a new finite 2-D torch tensor on
    ``device`` (never sharing memory with ``batch``): float32 stays float32 unless ``dtype``
    says otherwise, anything else is float64; complex and boolean rows are refused."""
    import torch

    if isinstance(batch, torch.Tensor):
        t = batch.detach()
    else:
        try:
            arr = np.asarray(batch)
            if arr.dtype.kind not in "fiub":
                raise TypeError(f"dtype {arr.dtype}")
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name}: cannot be read as a real numeric array ({exc})") from None
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.is_complex() or t.dtype == torch.bool:
        raise DataError(f"{name}: rows must be real numbers, got dtype {t.dtype}")
    if t.ndim != 2:
        raise DataError(f"{name}: expected a 2-D array of shape (n_samples, n_features), got shape {tuple(t.shape)}")
    if t.shape[0] < 1:
        raise DataError(f"{name}: needs at least 1 samples, got 0")
    if t.shape[1] == 0:
        raise DataError(f"{name}: has zero features (shape {tuple(t.shape)})")
    target = dtype or (torch.float32 if t.dtype == torch.float32 else torch.float64)
    t = t.to(device=_device(device), dtype=target, copy=True)
    if not bool(torch.isfinite(t).all()):
        n_bad = int((~torch.isfinite(t)).sum())
        raise DataError(f"{name}: contains {n_bad} non-finite value(s) (NaN or Inf)")
    return t


# -- states --------------------------------------------------------------------------------


class StreamState:
    """One side's accumulated state. Subclasses give the reduction (``merge`` and
    ``gathered``); ``fixed`` states (the same data on every rank) refuse additions and are
    not gathered."""

    kind: ClassVar[str] = ""

    def __init__(self, device: Any = None) -> None:
        self.device = _device(device)
        self.fixed = False
        self.reset()

    def reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def width(self) -> int | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def add(self, batch: Any, name: str) -> None:
        """Validate a batch of rows (copied, finite, 2-D) and add it."""
        self.add_trusted(as_row_tensor(batch, name, self.device, dtype=self._dtype()), name)

    def _dtype(self) -> Any:
        return None

    def add_trusted(self, t: Any, name: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_width(self, width: int, name: str) -> None:
        if self.width is not None and width != self.width:
            raise DataError(
                f"{name}: has {width} features, earlier inputs had {self.width} "
                f"(feature widths cannot change between updates)"
            )

    def merge(self, other: StreamState) -> StreamState:  # pragma: no cover - abstract
        raise NotImplementedError

    def gathered(self, group: Any = None) -> StreamState:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_state_dict(self, state: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class MomentsState(StreamState):
    """Running (n, mean, M2) in float64, merged exactly; or fixed statistics (mean and
    covariance only, e.g. a ``.npz``) set with :meth:`set_stats`."""

    kind = "moments"

    def __init__(self, device: Any = None) -> None:
        dev = _device(device)
        super().__init__(dev if dev.type != "mps" else "cpu")

    def reset(self) -> None:
        self._n = 0
        self._mean: torch.Tensor | None = None
        self._m2: torch.Tensor | None = None
        self._stats: FeatureStats | None = None
        self.fixed = False

    @property
    def n(self) -> int:
        return self._stats.n if self._stats is not None else self._n

    @property
    def width(self) -> int | None:
        if self._stats is not None:
            return None if self._stats.dim is None else int(self._stats.dim)
        return None if self._mean is None else int(self._mean.shape[0])

    @property
    def empty(self) -> bool:
        return self._stats is None and self._n == 0

    def _moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The running ``(mean, M2)``; they exist as soon as a row was added."""
        if self._mean is None or self._m2 is None:
            raise DataError("moments state is empty: no rows were added")
        return self._mean, self._m2

    def _dtype(self) -> Any:
        import torch

        return torch.float64

    def set_stats(self, stats: FeatureStats) -> None:
        """Fix this side to ``stats`` (e.g. loaded from mu/sigma); it is then not synced."""
        if not isinstance(stats, FeatureStats):
            raise ParameterError(f"set_stats needs a FeatureStats, got {type(stats).__name__}")
        self.reset()
        self._stats = stats
        self.fixed = True

    def add_trusted(self, t: Any, name: str) -> None:
        import torch

        if self._stats is not None:
            raise DataError(f"{name}: these statistics were fixed (set_stats / real=); batches cannot be added")
        self.check_width(int(t.shape[1]), name)
        self.combine(*batch_moments(t.to(device=self.device, dtype=torch.float64)))

    def combine(self, n: int, mean: Any, m2: Any) -> None:
        """Add ``n`` rows summarised by their mean and ``M2`` (exact)."""
        if n == 0:
            return
        mean, m2 = mean.to(self.device), m2.to(self.device)
        if self._mean is None:
            self._n, self._mean, self._m2 = int(n), mean, m2
        else:
            self._n, self._mean, self._m2 = combine_moments(self._n, self._mean, self._m2, int(n), mean, m2)

    def stats(self, metadata: Mapping[str, Any] | None = None) -> FeatureStats:
        """The state as :class:`~ganeval.statistics.FeatureStats` (numpy, float64)."""
        if self._stats is not None:
            return self._stats
        if self._mean is None:
            return FeatureStats(None, metadata)
        mean, m2 = self._moments()
        return FeatureStats.from_running(self._n, mean.cpu().numpy(), m2.cpu().numpy(), metadata)

    def merge(self, other: StreamState) -> MomentsState:
        if not isinstance(other, MomentsState):
            raise ParameterError(f"cannot merge a {other.kind} state into a moments state")
        if other._stats is not None:
            raise DataError("cannot merge fixed statistics (mean and covariance only) into running moments")
        if other._n:
            if self._stats is not None:
                raise DataError("cannot add samples to fixed statistics")
            mean, m2 = other._moments()
            self.check_width(int(mean.shape[0]), "merged moments")
            self.combine(other._n, mean, m2)
        return self

    def gathered(self, group: Any = None) -> MomentsState:
        """Every rank's moments merged in rank order (a new state; this one when fixed)."""
        import torch

        if self.fixed or not is_distributed():
            return self
        parts = gather_objects(None if self._n == 0 else (self._n, *(t.cpu() for t in self._moments())), group)
        out = MomentsState(self.device)
        for p in parts:
            if p is not None:
                out.check_width(int(p[1].shape[0]), "gathered moments")
                out.combine(p[0], p[1].to(torch.float64), p[2].to(torch.float64))
        return out

    def state_dict(self) -> dict[str, Any]:
        if self._stats is not None:
            s = self._stats
            return {"kind": "moments", "fixed": (s.mean, s.cov, s.n, dict(s.metadata))}
        if self._n == 0:
            return {"kind": "moments", "moments": None}
        mean, m2 = self._moments()
        return {"kind": "moments", "moments": (self._n, mean.cpu(), m2.cpu())}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        import torch

        _check_kind(state, "moments")
        self.reset()
        if state.get("fixed") is not None:
            mu, sigma, n, meta = state["fixed"]
            self.set_stats(FeatureStats.from_moments(mu, sigma, n=n, metadata=meta, name="state statistics"))
        elif state.get("moments") is not None:
            n, mean, m2 = state["moments"]
            mean, m2 = torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(m2, dtype=torch.float64)
            if not (bool(torch.isfinite(mean).all()) and bool(torch.isfinite(m2).all())):
                raise DataError("state moments hold non-finite values")
            self.combine(int(n), mean, m2)


class RowsState(StreamState):
    """Every row added, in order, as a list of batches of one width on one device
    (``dtype``: torch dtype the rows are kept in; None: float32 stays float32, anything else
    float64)."""

    kind = "rows"

    def __init__(self, device: Any = None, dtype: Any = None) -> None:
        self.dtype = dtype
        super().__init__(device)

    def reset(self) -> None:
        self.batches: list[Any] = []
        self.sizes: list[int] = []
        self.fixed = False

    def _dtype(self) -> Any:
        return self.dtype

    @property
    def n(self) -> int:
        return sum(self.sizes)

    @property
    def width(self) -> int | None:
        return int(self.batches[0].shape[1]) if self.batches else None

    def add_trusted(self, t: Any, name: str) -> None:
        """Add a finite 2-D tensor as it is (kept: the caller hands it over)."""
        import torch

        if self.fixed:
            raise DataError(f"{name}: these rows were fixed (real=); batches cannot be added")
        self.check_width(int(t.shape[1]), name)
        t = t.to(self.device)
        if self.dtype is not None and t.dtype != self.dtype:
            t = t.to(self.dtype)
        if self.batches and t.dtype != self.batches[0].dtype:
            self.batches = [b.to(torch.float64) for b in self.batches]
            t = t.to(torch.float64)
        self.batches.append(t)
        self.sizes.append(int(t.shape[0]))

    def tensor(self):
        """All rows as one tensor (None when there are none)."""
        import torch

        if not self.batches:
            return None
        if len(self.batches) > 1:
            self.batches = [torch.cat(self.batches)]
        return self.batches[0]

    def merge(self, other: StreamState) -> RowsState:
        if not isinstance(other, RowsState):
            raise ParameterError(f"cannot merge a {other.kind} state into a {self.kind} state")
        t = other.tensor()
        if t is not None:
            self.add_trusted(t.clone(), "merged rows")
        return self

    def gathered(self, group: Any = None) -> RowsState:
        """Every rank's rows (a new state; this one when fixed), batches interleaved
        round-robin (batch 0 of rank 0, of rank 1, ..., then batch 1 of each): when rank r fed
        batches r, r + W, r + 2W, ... of one stream, the result is that stream in its order."""
        if self.fixed or not is_distributed():
            return self
        sizes = list(self.sizes)
        parts = gather_rows(self.tensor(), group)
        all_sizes = gather_objects(sizes, group)
        chunks = [list(p.split(s)) if p is not None else [] for p, s in zip(parts, all_sizes)]
        out = type(self)(self.device, self.dtype)
        for i in range(max((len(c) for c in chunks), default=0)):
            for c in chunks:
                if i < len(c) and c[i].shape[0]:
                    out.add_trusted(c[i], "gathered rows")
        return out

    def state_dict(self) -> dict[str, Any]:
        t = self.tensor()
        return {"kind": self.kind, "rows": None if t is None else t.cpu().clone(), "sizes": list(self.sizes)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        _check_kind(state, self.kind)
        self.reset()
        rows = state.get("rows")
        if rows is None:
            return
        t = as_row_tensor(rows, f"state {self.kind}", self.device, dtype=self.dtype)
        sizes = [int(s) for s in state.get("sizes") or [t.shape[0]]]
        if sum(sizes) != t.shape[0] or min(sizes) < 1:
            sizes = [int(t.shape[0])]
        for piece in t.split(sizes):
            self.add_trusted(piece, f"state {self.kind}")


class LogitsState(RowsState):
    """A sample's class logits, kept in order in float64 (splits are consecutive)."""

    kind = "logits"

    def __init__(self, device: Any = None, dtype: Any = None) -> None:
        import torch

        super().__init__(device, torch.float64)


def _check_kind(state: Mapping[str, Any], kind: str) -> None:
    if not isinstance(state, Mapping) or state.get("kind") != kind:
        got = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
        raise ParameterError(f"state_dict holds a {got!r} state, expected {kind!r}")


_STATES = {"moments": MomentsState, "rows": RowsState, "logits": LogitsState}


def stream_kind(metric: Metric | str) -> str:
    """The state a metric streams with: what its ``streaming`` names, else ``"moments"`` /
    ``"logits"`` / ``"rows"`` from what it takes; a :class:`ParameterError` with the reason
    for metrics that cannot stream (labelled tables)."""
    m = get_metric(metric) if isinstance(metric, str) else metric
    if m.streaming is not None:
        return m.streaming
    if m.takes == "moments":
        return "moments"
    if m.takes == "logits":
        return "logits"
    if m.takes in ("two-sample", "one-sample", "train-fake"):
        return "rows"
    raise ParameterError(
        f"metric {m.name!r} takes {m.takes} inputs ({', '.join(m.inputs())}), which a stream of "
        f"samples cannot feed; compute it with ganeval.evaluate"
    )


def stream_sides(metric: Metric | str) -> tuple[str, ...]:
    """The sides a streaming metric keeps: ``("real", "fake")``, or ``("fake",)`` for
    one-input metrics (for ``train-fake`` metrics ``real`` is the training set)."""
    m = get_metric(metric) if isinstance(metric, str) else metric
    return ("real", "fake") if len(m.inputs()) == 2 else ("fake",)


def as_moments_state(state: StreamState) -> MomentsState:
    """``state`` as a :class:`MomentsState` (a :class:`ParameterError` for another kind)."""
    if not isinstance(state, MomentsState):
        raise ParameterError(f"expected a moments state, got a {state.kind} state")
    return state


def as_rows_state(state: StreamState) -> RowsState:
    """``state`` as a :class:`RowsState` (or :class:`LogitsState`; a :class:`ParameterError` otherwise)."""
    if not isinstance(state, RowsState):
        raise ParameterError(f"expected a rows or logits state, got a {state.kind} state")
    return state


def new_state(kind: str, device: Any = None, dtype: Any = None) -> StreamState:
    """An empty state of ``kind`` (``"moments"``, ``"rows"``, ``"logits"``)."""
    if kind == "moments":
        return MomentsState(device)
    return _STATES[kind](device, dtype)


# -- the base ------------------------------------------------------------------------------


class StreamingMetric:
    """A registered metric fed batch by batch (see the module notes).

    Parameters
    ----------
    metric : str or Metric
        A registered metric name (``"fid"``, ``"kid"``, ``"ecdf"``, ...) or a Metric object.
    device : str or torch.device, optional
        Where the state lives (default CPU).
    dtype : torch.dtype, optional
        How rows are kept (default: float32 rows stay float32, others float64).
    states : mapping of side to StreamState, optional
        States to use instead of new ones (the :class:`~ganeval.Evaluator` shares one rows
        state among all its row metrics).
    **options
        The metric's options, validated by :meth:`Metric.check_options`.
    """

    is_differentiable = False

    def __init__(
        self,
        metric: Metric | str,
        *,
        device: Any = None,
        dtype: Any = None,
        states: Mapping[str, StreamState] | None = None,
        **options: Any,
    ) -> None:
        self.metric = get_metric(metric) if isinstance(metric, str) else metric
        if not isinstance(self.metric, Metric):
            raise ParameterError(f"metric must be a registered name or a ganeval.Metric, got {metric!r}")
        self.kind = stream_kind(self.metric)
        self.sides = stream_sides(self.metric)
        self.options = self.metric.check_options(options)
        self.device = _device(device)
        if states is not None:
            if set(states) != set(self.sides) or any(s.kind != self.kind for s in states.values()):
                raise ParameterError(f"{self.name}: states must be {self.kind} states for {self.sides}")
            self.states = dict(states)
        else:
            self.states = {side: new_state(self.kind, self.device, dtype) for side in self.sides}

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def higher_is_better(self) -> bool | None:
        return self.metric.main_output().higher_is_better

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={st.n}" for s, st in self.states.items())
        return f"<streaming {self.name} ({self.kind}; {sizes})>"

    # -- accumulating ------------------------------------------------------------------------
    def update(self, *batch: Any, real: Any = None, fake: Any = None) -> None:
        """Add a batch of rows (shape (n, d)): ``update(real=..., fake=...)`` (either side
        alone), or ``update(x)`` for a one-input metric (its ``fake`` side)."""
        if batch:
            if len(batch) > 1 or fake is not None or real is not None or self.sides != ("fake",):
                raise ParameterError(f"{self.name}: pass rows by keyword: update(real=..., fake=...)")
            fake = batch[0]
        if real is None and fake is None:
            raise ParameterError("update() needs real=, fake= or both")
        if real is not None and "real" not in self.sides:
            raise ParameterError(f"{self.name} takes one sample ({self.metric.inputs()[0]}); update(x) adds to it")
        for side, x in (("real", real), ("fake", fake)):
            if x is not None:
                what = "logits batch" if self.kind == "logits" else f"{side} batch"
                self.states[side].add(x, what)

    def merge(self, other: StreamingMetric) -> StreamingMetric:
        """Add ``other``'s samples after ours (exact for moments; returns ``self``)."""
        if not isinstance(other, StreamingMetric) or other.name != self.name:
            theirs = other.name if isinstance(other, StreamingMetric) else type(other).__name__
            raise ParameterError(
                f"cannot merge {type(other).__name__} ({theirs}) into {type(self).__name__} ({self.name})"
            )
        if other.options != self.options:
            raise ParameterError(
                f"cannot merge {self.name} states made with other options: {other.options} vs {self.options}"
            )
        for side in self.sides:
            if not (side == "real" and self.states[side].fixed):
                self.states[side].merge(other.states[side])
        return self

    def sync(self, group: Any = None, *, real: bool = True) -> None:
        """Gather every rank's states in rank order, so each rank holds the global ones;
        ``real=False`` leaves the real side alone (e.g. the same real set on every rank)."""
        if not is_distributed():
            return
        for side in self.sides:
            if real or side != "real":
                self.states[side] = self.states[side].gathered(group)

    def reset(self, keep_real: bool = False) -> None:
        """Forget every sample (the real side too, unless ``keep_real``)."""
        for side, st in self.states.items():
            if not (keep_real and side == "real"):
                st.reset()

    def state_dict(self) -> dict[str, Any]:
        """The metric, its options and its states, on the CPU (``torch.save``-able)."""
        return {
            "metric": self.name,
            "options": dict(self.options),
            "kind": self.kind,
            "states": {side: st.state_dict() for side, st in self.states.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; a state of another metric or other options is refused,
        naming both."""
        if not isinstance(state, Mapping) or "states" not in state:
            raise ParameterError(f"{self.name}: not a streaming state_dict (no 'states')")
        if state.get("metric") != self.name:
            raise ParameterError(f"state_dict is for metric {state.get('metric')!r}, this is {self.name!r}")
        if dict(state.get("options") or {}) != self.options:
            raise ParameterError(
                f"{self.name}: state_dict was made with options {dict(state.get('options') or {})}, "
                f"this one has {self.options}"
            )
        for side in self.sides:
            self.states[side].load_state_dict(state["states"][side])

    # -- results ---------------------------------------------------------------------------
    def compute(self) -> MetricResult:
        """The metric over everything added (on this process; :meth:`sync` first to include
        every rank)."""
        return self.compute_from(self.states)

    def compute_from(self, states: Mapping[str, StreamState]) -> MetricResult:
        """The metric over the given states (e.g. gathered copies of :attr:`states`)."""
        missing = [
            s
            for s in self.sides
            if states[s].n == 0 and not (self.kind == "moments" and not as_moments_state(states[s]).empty)
        ]
        if missing:
            if self.kind == "logits":
                raise DataError("compute() needs logits; none were added (call update() first)")
            if self.kind == "moments":
                if "fake" in missing:
                    raise DataError("compute() needs fake samples; none were added (call update() first)")
                raise DataError("compute() needs real samples or real statistics; none were given")
            what = " and ".join(missing)
            raise DataError(
                f"compute() needs {' and '.join(self.sides)} rows; no {what} rows were added (call update() first)"
            )
        widths = {states[s].width for s in self.sides}
        if len(widths) > 1:
            raise DataError(
                f"{self.name}: feature dimensions differ: real has {states['real'].width}, "
                f"fake has {states['fake'].width}"
            )
        if self.kind == "moments":
            return self.metric(*(as_moments_state(states[s]).stats() for s in self.sides), **self.options)
        tensors = [as_rows_state(states[s]).tensor() for s in self.sides]
        core = _ON_DEVICE.get(self.name)
        if core is not None and type(self.metric).__module__.startswith("ganeval.metrics."):
            return core(*tensors, **self.options)
        arrays = [t.to(dtype=_float64()).cpu().numpy() for t in tensors]
        return self.metric(*arrays, **self.options)


def _float64():
    import torch

    return torch.float64


# -- the public names over the base --------------------------------------------------------


class StreamingFID(StreamingMetric):
    """FID from running float64 moments (constant memory: O(d^2)) on ``device``.

    ``update(real=..., fake=...)`` accepts either side alone; :meth:`set_real_stats` fixes
    the real side from precomputed statistics (e.g. a ``.npz``).
    """

    def __init__(self, *, eps: float = 0.0, device: Any = None) -> None:
        super().__init__("fid", device=device, eps=eps)

    @property
    def real(self) -> FeatureStats:
        """The real side's statistics (fixed ones when set)."""
        return as_moments_state(self.states["real"]).stats()

    @property
    def fake(self) -> FeatureStats:
        return as_moments_state(self.states["fake"]).stats()

    def set_real_stats(self, stats: FeatureStats) -> None:
        """Use fixed statistics for the real side (they are not synced: every rank has them)."""
        as_moments_state(self.states["real"]).set_stats(stats)


class StreamingKID(StreamingMetric):
    """KID over all rows added so far; options as
    :func:`~ganeval.metrics.kid.kernel_inception_distance`, computed on ``device``."""

    def __init__(self, *, device: Any = None, **options: Any) -> None:
        super().__init__("kid", device=device, **options)


class StreamingPRDC(StreamingMetric):
    """Precision, recall, density and coverage over all rows added so far, computed on
    ``device`` in float64."""

    def __init__(self, *, k: int = 5, device: Any = None) -> None:
        super().__init__("prdc", device=device, k=k)


class StreamingIS(StreamingMetric):
    """Inception Score of all logits added so far, in the order added (consecutive splits,
    as the functional metric); ``update(logits)``."""

    def __init__(self, *, splits: int = 10, input: str = "logits", device: Any = None) -> None:
        super().__init__("is", device=device, splits=splits, input=input)
