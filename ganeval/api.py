"""The public pipeline: sources -> features -> metrics -> results.

:func:`load_features` reads an input once (extracting image features when the input is
images); :func:`evaluate` computes any number of feature-space metrics from those features.
The CLI and the benchmark report call these; so can user code::

    import ganeval
    results = ganeval.evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "kid"])
    results["fid"].value
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from ._validation import as_features, check_choice
from .errors import DataError, ParameterError
from .metrics.cmmd import cmmd_from_features
from .metrics.fid import fid_from_stats
from .metrics.inception_score import inception_score
from .metrics.kid import kernel_inception_distance
from .metrics.mmd import maximum_mean_discrepancy
from .metrics.prdc import prdc
from .results import MetricResult
from .sources import Source, open_source
from .statistics import FeatureStats

__all__ = ["Features", "load_features", "evaluate", "FEATURE_METRICS"]

#: metrics computed from feature rows (or, for FID, their moments); "is" from logits
FEATURE_METRICS = ("fid", "kid", "is", "prdc", "mmd", "cmmd")


@dataclass
class Features:
    """What one input became: feature rows and/or moments and/or logits, and how."""

    name: str
    rows: np.ndarray | None = None
    logits: np.ndarray | None = None
    stats: FeatureStats | None = None
    info: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] | None = None  # names of the rows' columns (tables)

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

    def need_logits(self) -> np.ndarray:
        if self.logits is not None:
            return self.logits
        if self.rows is not None and self.info.get("extractor") in (None, "identity"):
            return self.rows  # a plain 2-D array given to IS is read as logits
        raise DataError(f"{self.name}: the Inception Score needs class logits; this input has none "
                        f"(extractor {self.info.get('extractor')!r})")


def load_features(spec: Any, *, extractor: str = "auto", source_options: Mapping[str, Any] | None = None,
                  **extract_options: Any) -> Features:
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
        return Features(source.name, stats=source.stats, info={"extractor": None, **source.stats.metadata})
    if source.kind in ("features", "logits"):
        if extractor not in ("auto", "identity"):
            raise ParameterError(
                f"{source.name}: holds {source.kind} already; extractor {extractor!r} applies to images only"
            )
        # float32 rows stay float32 (no copy): each metric converts as it needs, exactly as it
        # does for the same array given from Python (KID's products then run in float32, as
        # for image features; a float64 copy here made the command 2x slower than the library)
        arr = as_features(source.array, source.name, min_samples=1, dtype=None)
        if source.kind == "logits":
            return Features(source.name, logits=arr, info={"extractor": None})
        columns = tuple(source.columns) if getattr(source, "columns", None) is not None else None
        return Features(source.name, rows=arr, info={"extractor": "identity"}, columns=columns)
    if source.kind == "images":
        if extractor == "identity":
            raise ParameterError(f"{source.name}: holds images; extractor 'identity' applies to feature rows only")
        from .features import extract_features

        out = extract_features(source, extractor=extractor, **extract_options)
        return Features(source.name, rows=out.features, logits=out.logits,
                        info={**getattr(source, "walk_info", {}), **out.info})
    raise DataError(f"{source.name}: unknown kind of input {source.kind!r}")  # pragma: no cover


def evaluate(real: Any, fake: Any, metrics: Iterable[str] = ("fid",), *, extractor: str = "auto",
             options: Mapping[str, Mapping[str, Any]] | None = None,
             source_options: Mapping[str, Any] | None = None, allow_mismatch: bool = False,
             ci: float | None = None, bootstrap: int = 200, seed: int = 0,
             num_samples: int | None = None, generator_seed: int = 0, value_range: Any = (-1, 1),
             **extract_options: Any) -> dict[str, MetricResult]:
    """Compute several metrics between ``real`` and ``fake``, reading each input once.

    Parameters
    ----------
    real, fake : inputs accepted by :func:`load_features` (or :class:`Features`)
        ``real`` may be ``None`` when only ``"is"`` is asked for.
    metrics : iterable of {"fid", "kid", "is", "prdc", "mmd", "cmmd"}
    options : mapping of metric name to keyword options
        e.g. ``{"kid": {"subsets": 50}, "prdc": {"k": 3}}``.
    allow_mismatch : bool, default=False
        Compare inputs whose features were made by different extractors, preprocessing
        modes or weights (e.g. a statistics file against freshly extracted images). By
        default that is a :class:`DataError` naming both sides; allowed, the result's
        settings record both sides (``real_extractor``, ``fake_extractor``, ...).
    ci : float in (0, 1), optional
        Add a seeded bootstrap interval to every result (``ci_low``, ``ci_high``, ``se``;
        see :mod:`ganeval.uncertainty`), with ``bootstrap`` replicates (>= 10) and ``seed``.
    num_samples, generator_seed, value_range :
        With ``num_samples``, ``fake`` is a generator (``"pkg.module:factory"``, a reference
        checkpoint path, a ``torch.nn.Module`` with ``latent_dim`` or ``fn(batch_size,
        generator)``): ``num_samples`` samples are drawn with ``generator_seed``, batch by
        batch (:func:`ganeval.sources.generator.open_generator`).
    **extract_options
        How image inputs become features, as for :func:`load_features` (``batch_size=``,
        ``device=``, ``tf32=``, ...). With ``tf32=True`` on CUDA the results' settings hold
        ``"tf32": True`` (and ``real_tf32`` / ``fake_tf32`` when only one side used it).

    Under an initialised ``torch.distributed`` process group, image inputs are extracted
    in shards (batch ``b`` on rank ``b % world``) and gathered: every rank gets the
    one-process result.

    Examples
    --------
    >>> r = evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "prdc"])
    >>> sorted(r), r["fid"].value < 10
    (['fid', 'prdc'], True)
    """
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise ParameterError("metrics: give at least one metric")
    for m in metrics:
        check_choice(m, "metric", FEATURE_METRICS)
    options = {k: dict(v) for k, v in (options or {}).items()}
    if ci is not None:  # before any (possibly long) extraction
        from .uncertainty import check_ci

        check_ci(ci, bootstrap)
    unknown = set(options) - set(metrics)
    if unknown:
        raise ParameterError(f"options given for metrics not asked for: {sorted(unknown)}")

    def load(x: Any) -> Features:
        if isinstance(x, Features):
            return x
        return load_features(x, extractor=extractor, source_options=source_options, **extract_options)

    fake = _generator_input(fake, num_samples, generator_seed, value_range, extract_options)
    needs_real = any(m != "is" for m in metrics)
    real_f = load(real) if needs_real else None
    fake_f = load(fake)
    if real_f is not None:
        _align_columns(real_f, fake_f)
        _check_dims(real_f, fake_f)
        _check_provenance(real_f, fake_f, allow_mismatch)

    results: dict[str, MetricResult] = {}
    if ci is not None:
        from .uncertainty import intervals_for

        for m, r in intervals_for(metrics, real_f, fake_f, options, ci=ci, bootstrap=bootstrap, seed=seed,
                                  progress=bool(extract_options.get("progress"))).items():
            results[m] = _with_inputs(r, real_f, fake_f)
        return results
    for m in metrics:
        opts = options.get(m, {})
        if m == "fid":
            r = fid_from_stats(real_f.need_stats(), fake_f.need_stats(), names=(real_f.name, fake_f.name), **opts)
        elif m == "kid":
            r = kernel_inception_distance(real_f.need_rows("kid"), fake_f.need_rows("kid"), **opts)
        elif m == "prdc":
            r = prdc(real_f.need_rows("prdc"), fake_f.need_rows("prdc"), **opts)
        elif m == "mmd":
            r = maximum_mean_discrepancy(real_f.need_rows("mmd"), fake_f.need_rows("mmd"), **opts)
        elif m == "cmmd":
            r = cmmd_from_features(real_f.need_rows("cmmd"), fake_f.need_rows("cmmd"), **opts)
        else:
            r = inception_score(fake_f.need_logits(), **opts)
        results[m] = _with_inputs(r, real_f, fake_f)
    return results


def _generator_input(fake: Any, num_samples: int | None, seed: int, value_range: Any,
                     extract_options: Mapping[str, Any]) -> Any:
    """``fake`` opened as a generator source when ``num_samples`` is given."""
    if num_samples is None:
        if hasattr(fake, "latent_dim") and hasattr(fake, "forward"):
            raise ParameterError("num_samples is required when fake is a generator")
        return fake
    from .features.engine import resolve_device
    from .sources.generator import open_generator

    device = resolve_device(extract_options.get("device", "auto"))
    return open_generator(fake, num_samples=num_samples, seed=seed, batch_size=extract_options.get("batch_size", 50),
                          value_range=value_range, device=device)


def _align_columns(real: Features, fake: Features) -> None:
    """Named columns (tables) are matched by name: reorder ``fake``'s to ``real``'s order."""
    if real.columns is None or fake.columns is None or real.rows is None or fake.rows is None:
        return
    if set(real.columns) != set(fake.columns) or len(set(real.columns)) != len(real.columns):
        only_r = sorted(set(real.columns) - set(fake.columns))
        only_f = sorted(set(fake.columns) - set(real.columns))
        raise DataError(f"columns differ: only in {real.name}: {only_r or '-'}; only in {fake.name}: {only_f or '-'}")
    if real.columns != fake.columns:
        fake.rows = fake.rows[:, [fake.columns.index(c) for c in real.columns]]
        fake.columns = real.columns


def _check_dims(real: Features, fake: Features) -> None:
    """Both inputs have the same feature dimension."""
    dims = {}
    for f in (real, fake):
        if f.rows is not None:
            dims[f.name] = f.rows.shape[1]
        elif f.stats is not None:
            dims[f.name] = f.stats.dim
    if len(set(dims.values())) > 1:
        (a, da), (b, db) = dims.items()
        ea, eb = real.info.get("extractor"), fake.info.get("extractor")
        if ea and eb and ea != eb and "identity" not in (ea, eb):
            raise DataError(f"feature dimensions differ: {a} has {da} ({ea} features), {b} has {db} ({eb} features); "
                            f"--extractor auto chose a different extractor for each input: pass --extractor "
                            f"{eb} (or {ea}) to use one for both")
        raise DataError(f"feature dimensions differ: {a} has {da}, {b} has {db}")


#: what says how features were made; two inputs must agree on each (when both record it)
_PROVENANCE = ("extractor", "preprocessing", "weights_sha256")


def _provenance(f: Features) -> dict[str, Any]:
    """The known settings that made ``f``'s features ('identity' rows: unknown)."""
    return {k: f.info[k] for k in _PROVENANCE if f.info.get(k) not in (None, "identity")}


def _check_provenance(real: Features, fake: Features, allow_mismatch: bool) -> None:
    """Features made by different extractors, preprocessing or weights are not comparable."""
    pr, pf = _provenance(real), _provenance(fake)
    differ = [k for k in _PROVENANCE if k in pr and k in pf and pr[k] != pf[k]]
    if differ and not allow_mismatch:
        what = "; ".join(f"{k.replace('_', ' ')} {pr[k]!r} vs {pf[k]!r}" for k in differ)
        raise DataError(f"{real.name} and {fake.name} were made differently ({what}); their features are not "
                        f"comparable: use the same settings for both, or pass --allow-mismatch "
                        f"(allow_mismatch=True) to compare them anyway")


def _with_inputs(r: MetricResult, real: Features | None, fake: Features) -> MetricResult:
    """Record the inputs and how their features were made in the result's settings."""
    settings = dict(r.settings)
    settings["fake"] = fake.name
    if real is not None:
        settings["real"] = real.name
    for key in _PROVENANCE:
        if fake.info.get(key) is not None:
            settings[key] = fake.info[key]
        elif real is not None and real.info.get(key) is not None:
            settings[key] = real.info[key]
        sides = {s: f.info.get(key) for s, f in (("real", real), ("fake", fake)) if f is not None}
        if len(sides) == 2 and len(set(map(str, sides.values()))) > 1:  # both sides, when they differ
            for side, v in sides.items():
                settings[f"{side}_{key}"] = v
    tf32 = {side: bool(f.info.get("tf32")) for side, f in (("real", real), ("fake", fake)) if f is not None}
    if any(tf32.values()):  # recorded only when a network ran in TF32
        settings["tf32"] = True
        if len(set(tf32.values())) > 1:
            settings.update({f"{side}_tf32": used for side, used in tf32.items()})
    for side, f in (("real", real), ("fake", fake)):
        if f is not None and f.info.get("skipped") is not None:
            settings[f"{side}_skipped"] = f.info["skipped"]
        if f is not None and f.info.get("linked_folders"):
            settings[f"{side}_linked_folders"] = f.info["linked_folders"]
    n_real = r.n_real if r.n_real is not None else (real.n if real is not None and r.metric != "is" else None)
    n_fake = r.n_fake if r.n_fake is not None else fake.n
    return MetricResult(r.metric, r.values, settings, n_real=n_real, n_fake=n_fake)
