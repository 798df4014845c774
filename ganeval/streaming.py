"""Streaming metrics for training loops: ``update`` with batches, ``compute``, ``reset``,
``merge``, ``state_dict`` and ``sync`` across ``torch.distributed`` processes.

Each object is the functional metric behind a stateful front, with its state in torch on
``device`` (CPU by default, the GPU in a training loop), so nothing goes through numpy
until the final numbers:

- :class:`StreamingFID` keeps constant-size sufficient statistics on the device (n, mean,
  centred sum of outer products ``M2``, float64; on devices without float64, e.g. MPS, the
  moments are kept on the CPU), merged exactly with
  :func:`~ganeval.statistics.combine_moments`;
- :class:`StreamingKID`, :class:`StreamingPRDC` and :class:`StreamingIS` need every row, so
  they keep the rows (float32 rows stay float32, anything else is float64). Their
  ``compute`` runs the same torch cores as the functional metrics
  (:func:`~ganeval.metrics.kid.kid_core`, :func:`~ganeval.metrics.prdc.prdc_core`) on the
  rows' device.

Fed any batching, ``compute()`` gives the functional result. ``sync()`` gathers every rank's
state in rank order and merges it, so all ranks then hold the single-process state: no
sample is dropped or counted twice (that the ranks saw disjoint samples is the data
loader's business; ``DistributedSampler`` pads with repeats unless ``drop_last``).

Memory of the kept rows: ``4 d`` bytes per float32 row, ``8 d`` per float64 row: at
d = 2048, 82 MB (float32) or 164 MB (float64) per 10,000 samples and side.

Examples
--------
>>> import numpy as np
>>> fid = StreamingFID()
>>> x = np.random.default_rng(0).normal(size=(200, 3))
>>> for lo in range(0, 200, 50):
...     fid.update(real=x[lo:lo + 50], fake=x[lo:lo + 50] + 1.0)
>>> round(fid.compute().value, 9)  # a shift by (1, 1, 1)
3.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .distributed import gather_objects, gather_rows, is_distributed
from .errors import DataError, ParameterError
from .metrics.fid import fid_from_stats
from .metrics.inception_score import inception_score
from .metrics.kid import kid_from_tensors, kid_options
from .metrics.prdc import prdc_from_tensors
from .results import MetricResult
from .statistics import FeatureStats, batch_moments, combine_moments

__all__ = ["StreamingFID", "StreamingKID", "StreamingPRDC", "StreamingIS", "as_row_tensor"]


def _device(device: Any):
    import torch

    return torch.device(device) if device is not None else torch.device("cpu")


def as_row_tensor(batch: Any, name: str, device: Any = None, *, dtype: Any = None):
    """A batch of rows (numpy array, tensor, nested list) as a finite 2-D torch tensor on
    ``device``: float32 stays float32 unless ``dtype`` says otherwise, anything else is float64."""
    import torch

    if isinstance(batch, torch.Tensor):
        t = batch.detach()
    else:
        try:
            arr = np.asarray(batch)
            if arr.dtype.kind not in "fiub":
                raise TypeError(f"dtype {arr.dtype}")
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name}: cannot be read as a numeric array ({exc})") from None
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
    t = t.to(device=_device(device), dtype=target)
    if not bool(torch.isfinite(t).all()):
        n_bad = int((~torch.isfinite(t)).sum())
        raise DataError(f"{name}: contains {n_bad} non-finite value(s) (NaN or Inf)")
    return t


class _Rows:
    """Growing list of row batches of one width, on one device (``sizes``: the batch sizes
    as added, which :meth:`gathered` uses to interleave the ranks' batches)."""

    def __init__(self, device: Any = None) -> None:
        self.device = _device(device)
        self.batches: list[Any] = []
        self.sizes: list[int] = []

    @property
    def width(self) -> int | None:
        return int(self.batches[0].shape[1]) if self.batches else None

    @property
    def n(self) -> int:
        return sum(int(b.shape[0]) for b in self.batches)

    def add(self, batch: Any, name: str) -> None:
        t = as_row_tensor(batch, name, self.device)
        self.add_trusted(t, name)

    def add_trusted(self, t: Any, name: str) -> None:
        if self.batches and t.shape[1] != self.batches[0].shape[1]:
            raise DataError(f"{name}: batch has {t.shape[1]} features, earlier batches had {self.batches[0].shape[1]}")
        if self.batches and t.dtype != self.batches[0].dtype:
            import torch

            self.batches = [b.to(torch.float64) for b in self.batches]
            t = t.to(torch.float64)
        self.batches.append(t)
        self.sizes.append(int(t.shape[0]))

    def tensor(self):
        import torch

        if not self.batches:
            return None
        if len(self.batches) > 1:
            self.batches = [torch.cat(self.batches)]
        return self.batches[0]

    def gathered(self, group: Any = None) -> "_Rows":
        """Every rank's rows, batches interleaved round-robin (batch 0 of rank 0, of rank 1,
        ..., then batch 1 of each): when rank r fed batches r, r + W, r + 2W, ... of one
        stream, the result is that stream in its order."""
        parts = gather_rows(self.tensor(), group)
        sizes = gather_objects(self.sizes, group)
        chunks = [list(p.split(s)) if p is not None else [] for p, s in zip(parts, sizes)]
        rows = _Rows(self.device)
        for i in range(max((len(c) for c in chunks), default=0)):
            for c in chunks:
                if i < len(c) and c[i].shape[0]:
                    rows.add_trusted(c[i], "gathered rows")
        return rows


class _TwoSampleRows:
    """Shared state of the metrics that keep real and fake rows."""

    def __init__(self, device: Any = None) -> None:
        self.device = _device(device)
        self.reset()

    def reset(self, keep_real: bool = False) -> None:
        """Forget every row (the real ones too, unless ``keep_real``)."""
        if not keep_real or not hasattr(self, "_real"):
            self._real = _Rows(self.device)
        self._fake = _Rows(self.device)

    def update(self, real: Any = None, fake: Any = None) -> None:
        """Add a batch of real rows, fake rows, or both (shape (n, d))."""
        if real is None and fake is None:
            raise ParameterError("update() needs real=, fake= or both")
        if real is not None:
            self._real.add(real, "real batch")
        if fake is not None:
            self._fake.add(fake, "fake batch")

    def merge(self, other: "_TwoSampleRows") -> "_TwoSampleRows":
        """Add ``other``'s rows after ours (returns ``self``)."""
        if type(other) is not type(self):
            raise ParameterError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        for mine, theirs in ((self._real, other._real), (self._fake, other._fake)):
            t = theirs.tensor()
            if t is not None:
                mine.add_trusted(t.to(self.device), "merged rows")
        return self

    def sync(self, group: Any = None, *, real: bool = True) -> None:
        """Gather every rank's rows (rank order) so each rank holds all of them; ``real=False``
        leaves the real rows alone (e.g. the same real set was given to every rank)."""
        if not is_distributed():
            return
        if real:
            self._real = self._real.gathered(group)
        self._fake = self._fake.gathered(group)

    def state_dict(self) -> dict[str, Any]:
        """The rows, on the CPU (``torch.save``-able)."""
        out = {}
        for side in ("real", "fake"):
            t = getattr(self, f"_{side}").tensor()
            out[side] = None if t is None else t.cpu()
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reset()
        for side in ("real", "fake"):
            if state.get(side) is not None:
                getattr(self, f"_{side}").add(state[side], f"state {side} rows")

    def _both(self):
        real, fake = self._real.tensor(), self._fake.tensor()
        if real is None or fake is None:
            missing = " and ".join(s for s, t in (("real", real), ("fake", fake)) if t is None)
            raise DataError(f"compute() needs real and fake rows; no {missing} rows were added (call update() first)")
        if real.shape[1] != fake.shape[1]:
            raise DataError(f"feature dimensions differ: real has {real.shape[1]}, fake has {fake.shape[1]}")
        return real, fake


class _Moments:
    """Running (n, mean, M2) in float64 on a device (CPU where float64 is missing)."""

    def __init__(self, device: Any = None) -> None:
        dev = _device(device)
        self.device = dev if dev.type != "mps" else _device("cpu")
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, t: Any, name: str) -> None:
        import torch

        x = t.to(device=self.device, dtype=torch.float64)
        if self.mean is not None and x.shape[1] != self.mean.shape[0]:
            raise DataError(f"{name}: batch has {x.shape[1]} features, earlier batches had {self.mean.shape[0]}")
        self.merge_moments(*batch_moments(x))

    def merge_moments(self, n: int, mean: Any, m2: Any) -> None:
        if n == 0:
            return
        if self.mean is None:
            self.n, self.mean, self.m2 = n, mean.to(self.device), m2.to(self.device)
        else:
            self.n, self.mean, self.m2 = combine_moments(self.n, self.mean, self.m2, n, mean.to(self.device),
                                                         m2.to(self.device))

    def stats(self, metadata: dict | None = None) -> FeatureStats:
        s = FeatureStats(None if self.mean is None else int(self.mean.shape[0]), metadata)
        if self.mean is not None:
            s.n, s._mean, s._m2 = self.n, self.mean.cpu().numpy(), self.m2.cpu().numpy()
        return s

    def sync(self, group: Any = None) -> None:
        import torch

        parts = gather_objects(None if self.n == 0 else (self.n, self.mean.cpu(), self.m2.cpu()), group)
        self.n, self.mean, self.m2 = 0, None, None
        for p in parts:
            if p is not None:
                self.merge_moments(p[0], p[1].to(torch.float64), p[2].to(torch.float64))


class StreamingFID:
    """FID from running float64 moments (constant memory: O(d^2)) on ``device``.

    ``higher_is_better = False``. ``update(real=..., fake=...)`` accepts either side alone;
    ``set_real_stats`` fixes the real side from precomputed statistics (e.g. a ``.npz``).
    """

    higher_is_better = False
    is_differentiable = False

    def __init__(self, *, eps: float = 0.0, device: Any = None) -> None:
        self.eps = eps
        self.device = _device(device)
        self._fixed_real: FeatureStats | None = None
        self.reset()

    def reset(self, keep_real: bool = False) -> None:
        """Forget all samples (fixed or accumulated real statistics too, unless ``keep_real``)."""
        if not keep_real or not hasattr(self, "_real"):
            self._real = _Moments(self.device)
            self._fixed_real = None
        self._fake = _Moments(self.device)

    @property
    def real(self) -> FeatureStats:
        """The real side's statistics (fixed ones when set)."""
        return self._fixed_real if self._fixed_real is not None else self._real.stats()

    @property
    def fake(self) -> FeatureStats:
        return self._fake.stats()

    def set_real_stats(self, stats: FeatureStats) -> None:
        """Use fixed statistics for the real side (they are not synced: every rank has them)."""
        if not isinstance(stats, FeatureStats):
            raise ParameterError(f"set_real_stats needs a FeatureStats, got {type(stats).__name__}")
        self._fixed_real = stats

    def update(self, real: Any = None, fake: Any = None) -> None:
        """Add a batch of real rows, fake rows, or both (shape (n, d))."""
        if real is None and fake is None:
            raise ParameterError("update() needs real=, fake= or both")
        if real is not None:
            if self._fixed_real is not None:
                raise DataError("real statistics were fixed with set_real_stats(); real batches cannot be added")
            self._real.add(as_row_tensor(real, "real batch", self._real.device), "real batch")
        if fake is not None:
            self._fake.add(as_row_tensor(fake, "fake batch", self._fake.device), "fake batch")

    def update_trusted(self, real: Any = None, fake: Any = None) -> None:
        """:meth:`update` without checks (finite 2-D tensors on the device)."""
        if real is not None:
            self._real.add(real, "real batch")
        if fake is not None:
            self._fake.add(fake, "fake batch")

    def merge(self, other: "StreamingFID") -> "StreamingFID":
        """Add ``other``'s samples (exact pairwise merge of the moments; returns ``self``)."""
        if not isinstance(other, StreamingFID):
            raise ParameterError(f"cannot merge {type(other).__name__} into StreamingFID")
        if self._fixed_real is None and other._real.n:
            self._real.merge_moments(other._real.n, other._real.mean, other._real.m2)
        if other._fake.n:
            self._fake.merge_moments(other._fake.n, other._fake.mean, other._fake.m2)
        return self

    def sync(self, group: Any = None, *, real: bool = True) -> None:
        """Merge every rank's moments in rank order, so each rank holds the global ones."""
        if not is_distributed():
            return
        self._fake.sync(group)
        if real and self._fixed_real is None:
            self._real.sync(group)

    def state_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for side in ("real", "fake"):
            m = getattr(self, f"_{side}")
            out[side] = None if m.n == 0 else (m.n, m.mean.cpu(), m.m2.cpu())
        if self._fixed_real is not None:
            out["fixed_real"] = (self._fixed_real.mean, self._fixed_real.cov, self._fixed_real.n,
                                 dict(self._fixed_real.metadata))
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reset()
        for side in ("real", "fake"):
            if state.get(side) is not None:
                getattr(self, f"_{side}").merge_moments(*state[side])
        if state.get("fixed_real") is not None:
            mu, sigma, n, meta = state["fixed_real"]
            self._fixed_real = FeatureStats.from_moments(mu, sigma, n=n, metadata=meta)

    def compute(self) -> MetricResult:
        """FID between everything added so far."""
        if self._fake.n == 0:
            raise DataError("compute() needs fake samples; none were added (call update() first)")
        if self._fixed_real is None and self._real.n == 0:
            raise DataError("compute() needs real samples or real statistics; none were given")
        return fid_from_stats(self.real, self.fake, eps=self.eps)


class StreamingKID(_TwoSampleRows):
    """KID over all rows added so far (``higher_is_better = False``); options as
    :func:`~ganeval.metrics.kid.kernel_inception_distance`, computed on ``device``."""

    higher_is_better = False
    is_differentiable = False

    def __init__(self, *, device: Any = None, **options: Any) -> None:
        self.seed = options.pop("seed", 0)
        kid_options(1, 10**9, 10**9, **{k: v for k, v in options.items() if k != "subset_size"})  # validate early
        self.options = options
        super().__init__(device)

    def compute(self) -> MetricResult:
        real, fake = self._both()
        return kid_from_tensors(real, fake, seed=self.seed, **self.options)


class StreamingPRDC(_TwoSampleRows):
    """Precision, recall, density and coverage over all rows added so far
    (``higher_is_better = True``), computed on ``device`` in float64."""

    higher_is_better = True
    is_differentiable = False

    def __init__(self, *, k: int = 5, device: Any = None) -> None:
        self.k = k
        super().__init__(device)

    def compute(self) -> MetricResult:
        real, fake = self._both()
        return prdc_from_tensors(real, fake, k=self.k)


class StreamingIS:
    """Inception Score of all logits added so far, in the order added
    (``higher_is_better = True``; consecutive splits, as the functional metric)."""

    higher_is_better = True
    is_differentiable = False

    def __init__(self, *, splits: int = 10, input: str = "logits", device: Any = None) -> None:
        self.splits, self.input = splits, input
        self.device = _device(device)
        self.reset()

    def reset(self, keep_real: bool = False) -> None:
        """Forget every row."""
        self._rows = _Rows(self.device)

    def update(self, logits: Any) -> None:
        """Add a batch of logits (or probabilities, with ``input="probs"``)."""
        self._rows.add(logits, "logits batch")

    def merge(self, other: "StreamingIS") -> "StreamingIS":
        """Append ``other``'s rows after ours (returns ``self``)."""
        if not isinstance(other, StreamingIS):
            raise ParameterError(f"cannot merge {type(other).__name__} into StreamingIS")
        t = other._rows.tensor()
        if t is not None:
            self._rows.add_trusted(t.to(self.device), "merged rows")
        return self

    def sync(self, group: Any = None, *, real: bool = True) -> None:
        """Gather every rank's rows in rank order."""
        if is_distributed():
            self._rows = self._rows.gathered(group)

    def state_dict(self) -> dict[str, Any]:
        t = self._rows.tensor()
        return {"logits": None if t is None else t.cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reset()
        if state.get("logits") is not None:
            self._rows.add(state["logits"], "state logits")

    def compute(self) -> MetricResult:
        t = self._rows.tensor()
        if t is None:
            raise DataError("compute() needs logits; call update() first")
        return inception_score(t.double().cpu().numpy(), splits=self.splits, input=self.input)
