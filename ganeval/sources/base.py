"""What a source is: something that yields feature rows, statistics, logits or images.

Sources know how to read their input and nothing about metrics. ``kind`` says which of the
four they carry:

- ``"features"``: float rows, :attr:`ArraySource.array` of shape (n, d), optional column names;
- ``"logits"``: class logits (n, classes), the input of the Inception Score;
- ``"stats"``: only a mean and covariance (:class:`~ganeval.statistics.FeatureStats`);
- ``"images"``: uint8 images, read in batches of shape (n, 3, H, W) by an extractor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
    """Only the moments of a feature set (a ``mu``/``sigma`` ``.npz``, a reference pickle...).

    ``stats`` are the default moments (the FID Inception's pool3 for every published format);
    ``spatial`` the moments of the same network's spatial features when the file has them
    (ADM's ``mu_s``/``sigma_s``: sFID); ``alternatives`` moments of other extractors in the
    same file (EDM2's FD_DINOv2 moments), each naming its extractor in ``metadata``.
    :meth:`stats_for` picks the moments for an extractor name.
    """

    name: str
    stats: FeatureStats
    kind: str = "stats"
    spatial: FeatureStats | None = None
    alternatives: tuple[FeatureStats, ...] = ()

    def __len__(self) -> int:
        return int(self.stats.n)

    def stats_for(self, extractor: str | None) -> FeatureStats:
        """The moments made by ``extractor`` (``"inception"``, ``"dinov2"``, ``"dinov2:vitl14"``):
        the first whose ``metadata["extractor"]`` is that name, or that family before its
        ``:ARCH``; the default ``stats`` for ``None``/``"auto"``/``"identity"`` or when none
        matches (the caller's provenance check then says what differs).

        Examples
        --------
        >>> import numpy as np
        >>> a = FeatureStats.from_moments(np.zeros(2), np.eye(2), metadata={"extractor": "inception"})
        >>> b = FeatureStats.from_moments(np.ones(3), np.eye(3), metadata={"extractor": "dinov2:vitl14"})
        >>> src = StatsSource("x", a, alternatives=(b,))
        >>> src.stats_for("dinov2").dim, src.stats_for("auto").dim, src.stats_for("inception").dim
        (3, 2, 2)
        """
        if extractor in (None, "auto", "identity"):
            return self.stats
        for st in (self.stats, *self.alternatives):
            made_by = str(st.metadata.get("extractor") or "")
            if made_by and (made_by == extractor or made_by.split(":", 1)[0] == extractor):
                return st
        return self.stats
