"""What a source is: something that yields feature rows, statistics, logits or images.

Sources know how to read their input and nothing about metrics. ``kind`` says which of the
four they carry:

- ``"features"``: float rows, :attr:`ArraySource.array` of shape (n, d), optional column names;
- ``"logits"``: class logits (n, classes), the input of the Inception Score;
- ``"stats"``: only a mean and covariance (:class:`~ganeval.statistics.FeatureStats`);
- ``"images"``: uint8 images, read in batches of shape (n, 3, H, W) by an extractor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..statistics import FeatureStats

__all__ = ["Source", "ArraySource", "StatsSource"]


class Source:
    """Base class: ``name`` (for messages and results) and ``kind``."""

    name: str
    kind: str

    def __len__(self) -> int:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


@dataclass
class ArraySource(Source):
    """Rows already in memory (features or logits)."""

    name: str
    array: np.ndarray
    kind: str = "features"
    columns: Sequence[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.array.shape[0])


@dataclass
class StatsSource(Source):
    """Only the moments of a feature set (a ``mu``/``sigma`` ``.npz``)."""

    name: str
    stats: FeatureStats
    kind: str = "stats"

    def __len__(self) -> int:
        return int(self.stats.n)
