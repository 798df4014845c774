"""One input read as features: :class:`Features` (feature rows, moments or logits, and how
they were made), from any source :func:`ganeval.sources.open_source` opens.

:func:`load_features` opens and reads one input; :func:`features_of` reads an opened source
(images go through :func:`ganeval.features.extract_features`); :func:`load_table_features`
reads two tables together (same columns, categories fitted on the real one).
:func:`ganeval.evaluate` computes metrics from what these return.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from .._validation import as_features
from ..errors import DataError, ParameterError
from ..sources import ArraySource, Source, StatsSource, open_source
from ..statistics import FeatureStats

__all__ = [
    "Features",
    "load_features",
    "features_of",
    "add_reference_batch_images",
    "load_table_features",
    "input_name",
]


@dataclass
class Features:
    """What one input became: feature rows and/or moments and/or logits, and how."""

    name: str
    rows: np.ndarray | None = None
    logits: np.ndarray | None = None
    stats: FeatureStats | None = None
    info: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] | None = None  # names of the rows' columns (tables)
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # extra extractor outputs' rows ("spatial")
    extra_stats: dict[str, FeatureStats] = field(default_factory=dict)  # their moments, when only those are known

    @property
    def n(self) -> int:
        for arr in (self.rows, self.logits):
            if arr is not None:
                return int(arr.shape[0])
        return int(self.stats.n) if self.stats is not None else 0

    def need_rows(self, metric: str) -> np.ndarray:
        if self.rows is None:
            what = "statistics (mu/sigma)" if self.stats is not None else "logits"
            raise DataError(f"{self.name}: {metric} needs feature rows, but this input holds only {what}")
        return self.rows

    def need_stats(self) -> FeatureStats:
        if self.stats is None:
            self.stats = FeatureStats.from_features(self.need_rows("fid"), name=self.name)
        return self.stats

    def need_extra_stats(self, output: str) -> FeatureStats:
        """Moments of the extra output ``output`` (``"spatial"``: ADM's sFID features), from a
        statistics file's ``mu_s``/``sigma_s``, from the rows extracted with
        ``outputs=("spatial",)``, or from feature rows given as they are."""
        if output not in self.extra_stats:
            if output not in self.extras and self._given_rows():
                return self.need_stats()  # rows given as they are: read as that output's rows
            if output not in self.extras:
                raise DataError(
                    f"{self.name}: has no {output!r} features (image inputs need the Inception with "
                    f"outputs=({output!r},); statistics files need mu_s/sigma_s)"
                )
            self.extra_stats[output] = FeatureStats.from_features(self.extras[output], name=f"{self.name}[{output}]")
        return self.extra_stats[output]

    def need_output_rows(self, output: str, metric: str) -> np.ndarray:
        """Rows of the extractor output ``output``: ``""`` the main features, else an extra
        output (``"spatial"``) extracted with ``outputs=(output,)``."""
        if not output or (output not in self.extras and self._given_rows()):
            return self.need_rows(metric)
        if output not in self.extras:
            raise DataError(
                f"{self.name}: {metric} needs {output!r} feature rows, but this input has none "
                f"(image inputs give them with the Inception; statistics files hold only moments)"
            )
        return self.extras[output]

    def _given_rows(self) -> bool:
        """Feature rows given as they are (no extractor ran): a metric that reads an extra
        output (sFID) reads them as that output, as the Inception Score reads a 2-D array
        as logits."""
        return self.rows is not None and self.info.get("extractor") in (None, "identity")

    def need_logits(self) -> np.ndarray:
        if self.logits is not None:
            return self.logits
        if self.rows is not None and self.info.get("extractor") in (None, "identity"):
            return self.rows  # a plain 2-D array given to IS is read as logits
        raise DataError(
            f"{self.name}: the Inception Score needs class logits; this input has none "
            f"(extractor {self.info.get('extractor')!r})"
        )


def load_features(
    spec: Any, *, extractor: str = "auto", source_options: Mapping[str, Any] | None = None, **extract_options: Any
) -> Features:
    """Read one input and return its :class:`Features`.

    Parameters
    ----------
    spec : path, ``builtin:NAME/SPLIT``, ``ref:NAME``, array, tensor or :class:`Source`
    extractor : str, default="auto"
        ``"auto"`` uses the rows as they are for feature inputs and the default image
        extractor for images; ``"identity"`` forbids image inputs; other names
        (``"inception"``, ``"digits"``) select an image feature extractor.
    source_options : mapping, optional
        Passed to the source reader (``columns=``, ``skip_invalid=``, ...).
    **extract_options
        Passed to the image feature extractor (``weights=``, ``preprocessing=``,
        ``batch_size=``, ``device=``, ``num_workers=``, ``cache=``, ``progress=``,
        ``tf32=``; see :func:`ganeval.features.extract_features`). ``tf32=True`` lets the
        network use TF32 on CUDA (faster, FID off by about 6e-4 relative for the Inception);
        by default it runs in full float32, and ``info`` records ``"tf32": True`` only when
        TF32 was used.
    """
    source = open_source(spec, **dict(source_options or {}))
    return features_of(source, extractor=extractor, **extract_options)


def features_of(source: Source, *, extractor: str = "auto", **extract_options: Any) -> Features:
    """:class:`Features` of an opened source (see :func:`load_features`)."""
    if source.kind == "stats":
        moments = cast(StatsSource, source)  # the kind names the interface
        stats = moments.stats_for(extractor) if hasattr(moments, "stats_for") else moments.stats
        spatial = getattr(moments, "spatial", None)
        extra = {"spatial": spatial} if spatial is not None and stats is moments.stats else {}
        return Features(source.name, stats=stats, info={"extractor": None, **stats.metadata}, extra_stats=extra)
    if source.kind in ("features", "logits"):
        if extractor not in ("auto", "identity"):
            raise ParameterError(
                f"{source.name}: holds {source.kind} already; extractor {extractor!r} applies to images only"
            )
        # float32 rows stay float32 (no copy): each metric converts as it needs, exactly as it
        # does for the same array given from Python (KID's products then run in float32, as
        # for image features; a float64 copy here made the command 2x slower than the library)
        rows = cast(ArraySource, source)  # the kind names the interface
        arr = as_features(rows.array, rows.name, min_samples=1, dtype=None)
        if rows.kind == "logits":
            return Features(rows.name, logits=arr, info={"extractor": None})
        names = getattr(rows, "columns", None)
        columns = tuple(names) if names is not None else None
        return Features(source.name, rows=arr, info={"extractor": "identity"}, columns=columns)
    if source.kind == "images":
        if extractor == "identity":
            raise ParameterError(f"{source.name}: holds images; extractor 'identity' applies to feature rows only")
        from . import extract_features

        out = extract_features(source, extractor=extractor, **extract_options)
        return Features(
            source.name,
            rows=out.features,
            logits=out.logits,
            info={**getattr(source, "walk_info", {}), **out.info},
            extras=dict(out.extras),
        )
    raise DataError(f"{source.name}: unknown kind of input {source.kind!r}")  # pragma: no cover


def add_reference_batch_images(
    features: Features, spec: Any, extractor: str, source_options: Mapping[str, Any], extract_options: Mapping[str, Any]
) -> None:
    """An ADM reference batch holds its moments (``mu``, ``sigma``, ``mu_s``, ``sigma_s``) and
    its images (``arr_0``): metrics on rows (precision/recall) read the images' features, as
    ADM's evaluator does, while FID and sFID keep the stored moments."""
    import zipfile

    if not isinstance(spec, (str, os.PathLike)) or not os.fspath(spec).endswith(".npz"):
        return
    try:
        with zipfile.ZipFile(os.fspath(spec)) as zf:
            if "arr_0.npy" not in zf.namelist():
                return
    except (OSError, zipfile.BadZipFile):
        return
    from ..sources.arrays import open_adm_images

    images = features_of(open_adm_images(spec), extractor=extractor, **extract_options)
    features.rows, features.logits, features.extras = images.rows, images.logits, images.extras
    features.info = {**images.info, **{k: v for k, v in features.info.items() if v is not None}}


def load_table_features(
    real: Any, fake: Any, columns: Any, categorical: Any, skip_invalid: bool, names: tuple[str, str] | None
) -> tuple[Features, Features]:
    """``real`` and ``fake`` read together as tables (:func:`~ganeval.sources.tabular.load_table_pair`)."""
    from ..sources.tabular import load_table_pair

    pair = load_table_pair(real, fake, columns=columns, categorical=categorical, skip_invalid=skip_invalid)
    rn, fn = names or (input_name(real, "real"), input_name(fake, "fake"))
    cols = tuple(pair.columns)
    info_r = {"skipped_rows": pair.skipped} if pair.skipped else {}
    return (
        Features(rn, rows=pair.real, columns=cols, info=dict(info_r)),
        Features(fn, rows=pair.fake, columns=cols, info=dict(info_r)),
    )


def input_name(spec: Any, default: str) -> str:
    """What an input is called: its path, or ``default`` for an in-memory one."""
    return os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else default
