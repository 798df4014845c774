"""Streaming metrics for training loops: ``update`` with batches, ``compute``, ``reset``,
``merge``, and ``sync`` across ``torch.distributed`` processes.

Each object is the functional metric behind a stateful front:

- :class:`StreamingFID` keeps constant-size sufficient statistics (two
  :class:`~ganeval.statistics.FeatureStats`: n, mean, centred sum of outer products);
- :class:`StreamingKID`, :class:`StreamingPRDC` and :class:`StreamingIS` need every row, so
  they keep the rows (float32 features as float32).

Fed any batching, ``compute()`` gives the functional result. ``sync()`` gathers every rank's
state in rank order and merges it, so all ranks then hold the single-process state: no
sample is dropped or counted twice (that the ranks saw disjoint samples is the data
loader's business; ``DistributedSampler`` pads with repeats unless ``drop_last``).

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

from ._validation import as_features
from .errors import DataError, ParameterError
from .metrics.fid import fid_from_stats
from .metrics.inception_score import inception_score
from .metrics.kid import kernel_inception_distance
from .metrics.prdc import prdc
from .results import MetricResult
from .statistics import FeatureStats

__all__ = ["StreamingFID", "StreamingKID", "StreamingPRDC", "StreamingIS"]


class _Rows:
    """Growing list of row batches of one width."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def add(self, batch: Any, name: str) -> None:
        x = as_features(batch, name, min_samples=1, dtype=None)
        if self.batches and x.shape[1] != self.batches[0].shape[1]:
            raise DataError(f"{name}: batch has {x.shape[1]} features, earlier batches had {self.batches[0].shape[1]}")
        self.batches.append(x)

    def array(self) -> np.ndarray | None:
        if not self.batches:
            return None
        if len(self.batches) > 1:
            self.batches = [np.concatenate(self.batches)]
        return self.batches[0]


def _gather_arrays(arr: np.ndarray | None, group: Any = None) -> list[np.ndarray | None]:
    """Every rank's array, in rank order (variable lengths; ``None`` where a rank had none)."""
    import torch.distributed as dist

    world = dist.get_world_size(group)
    obj = None if arr is None else np.ascontiguousarray(arr)
    out: list[Any] = [None] * world
    dist.all_gather_object(out, obj, group=group)
    return out


def _distributed_ready() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch always ships it
        return False
    return dist.is_available() and dist.is_initialized()


class _TwoSampleRows:
    """Shared state of the metrics that keep real and fake rows."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every row."""
        self._real, self._fake = _Rows(), _Rows()

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
            arr = theirs.array()
            if arr is not None:
                mine.add(arr, "merged rows")
        return self

    def sync(self, group: Any = None) -> None:
        """Gather every rank's rows (rank order) so each rank holds all of them."""
        if not _distributed_ready():
            return
        for attr in ("_real", "_fake"):
            gathered = _gather_arrays(getattr(self, attr).array(), group)
            rows = _Rows()
            for arr in gathered:
                if arr is not None:
                    rows.add(arr, "gathered rows")
            setattr(self, attr, rows)

    def _both(self) -> tuple[np.ndarray, np.ndarray]:
        real, fake = self._real.array(), self._fake.array()
        if real is None or fake is None:
            raise DataError("compute() needs real and fake rows; call update() with both first")
        return real, fake


class StreamingFID:
    """FID from running float64 moments (constant memory: O(d^2)).

    ``higher_is_better = False``. ``update(real=..., fake=...)`` accepts either side alone;
    ``set_real_stats`` fixes the real side from precomputed statistics (e.g. a ``.npz``).
    """

    higher_is_better = False
    is_differentiable = False

    def __init__(self, *, eps: float = 0.0) -> None:
        self.eps = eps
        self.reset()

    def reset(self) -> None:
        """Forget all samples (real statistics set with ``set_real_stats`` included)."""
        self.real, self.fake = FeatureStats(), FeatureStats()

    def set_real_stats(self, stats: FeatureStats) -> None:
        """Use fixed statistics for the real side (they are not synced: every rank has them)."""
        self.real = stats

    def update(self, real: Any = None, fake: Any = None) -> None:
        """Add a batch of real rows, fake rows, or both (shape (n, d))."""
        if real is None and fake is None:
            raise ParameterError("update() needs real=, fake= or both")
        if real is not None:
            self.real.update(real)
        if fake is not None:
            self.fake.update(fake)

    def merge(self, other: "StreamingFID") -> "StreamingFID":
        """Add ``other``'s samples (exact pairwise merge of the moments; returns ``self``)."""
        if self.real._fixed_sigma is None:
            self.real.merge(other.real)
        self.fake.merge(other.fake)
        return self

    def sync(self, group: Any = None) -> None:
        """Merge every rank's moments in rank order, so each rank holds the global ones."""
        if not _distributed_ready():
            return
        import torch.distributed as dist

        sides = [("fake", self.fake)] + ([("real", self.real)] if self.real._fixed_sigma is None else [])
        for name, stats in sides:
            state = None if stats.n == 0 else (stats.n, stats._mean, stats._m2)
            gathered: list[Any] = [None] * dist.get_world_size(group)
            dist.all_gather_object(gathered, state, group=group)
            merged = FeatureStats(stats.dim, stats.metadata)
            for item in gathered:
                if item is not None:
                    part = FeatureStats(item[1].shape[0])
                    part.n, part._mean, part._m2 = item
                    merged.merge(part)
            setattr(self, name, merged)

    def compute(self) -> MetricResult:
        """FID between everything added so far."""
        return fid_from_stats(self.real, self.fake, eps=self.eps)


class StreamingKID(_TwoSampleRows):
    """KID over all rows added so far (``higher_is_better = False``); options as
    :func:`~ganeval.metrics.kid.kernel_inception_distance`."""

    higher_is_better = False
    is_differentiable = False

    def __init__(self, **options: Any) -> None:
        self.options = options
        super().__init__()

    def compute(self) -> MetricResult:
        real, fake = self._both()
        return kernel_inception_distance(real, fake, **self.options)


class StreamingPRDC(_TwoSampleRows):
    """Precision, recall, density and coverage over all rows added so far
    (``higher_is_better = True``)."""

    higher_is_better = True
    is_differentiable = False

    def __init__(self, *, k: int = 5) -> None:
        self.k = k
        super().__init__()

    def compute(self) -> MetricResult:
        real, fake = self._both()
        return prdc(real, fake, k=self.k)


class StreamingIS:
    """Inception Score of all logits added so far, in the order added
    (``higher_is_better = True``; consecutive splits, as the functional metric)."""

    higher_is_better = True
    is_differentiable = False

    def __init__(self, *, splits: int = 10, input: str = "logits") -> None:
        self.splits, self.input = splits, input
        self.reset()

    def reset(self) -> None:
        """Forget every row."""
        self._rows = _Rows()

    def update(self, logits: Any) -> None:
        """Add a batch of logits (or probabilities, with ``input="probs"``)."""
        self._rows.add(logits, "logits batch")

    def merge(self, other: "StreamingIS") -> "StreamingIS":
        """Append ``other``'s rows after ours (returns ``self``)."""
        arr = other._rows.array()
        if arr is not None:
            self._rows.add(arr, "merged rows")
        return self

    def sync(self, group: Any = None) -> None:
        """Gather every rank's rows in rank order."""
        if not _distributed_ready():
            return
        rows = _Rows()
        for arr in _gather_arrays(self._rows.array(), group):
            if arr is not None:
                rows.add(arr, "gathered rows")
        self._rows = rows

    def compute(self) -> MetricResult:
        arr = self._rows.array()
        if arr is None:
            raise DataError("compute() needs logits; call update() first")
        return inception_score(arr, splits=self.splits, input=self.input)
