"""The public pipeline: sources -> features -> metrics -> results.

:func:`load_features` reads an input once (extracting image features when the input is
images); :func:`evaluate` computes any number of feature-space metrics from those features.
The CLI and the benchmark report call these; so can user code::

    import ganeval
    results = ganeval.evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "kid"])
    results["fid"].value
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from ._validation import as_features, check_choice
from .errors import DataError, ParameterError
from .images import DEFAULT_VALUE_RANGE, check_layout, check_value_range
from .results import MetricResult
from .sources import ArraySource, Source, StatsSource, open_source
from .statistics import FeatureStats

__all__ = ["Features", "load_features", "evaluate"]


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
        from .features import extract_features

        out = extract_features(source, extractor=extractor, **extract_options)
        return Features(
            source.name,
            rows=out.features,
            logits=out.logits,
            info={**getattr(source, "walk_info", {}), **out.info},
            extras=dict(out.extras),
        )
    raise DataError(f"{source.name}: unknown kind of input {source.kind!r}")  # pragma: no cover


def evaluate(
    real: Any,
    fake: Any,
    metrics: str | Iterable[str] | None = None,
    *,
    extractor: str = "auto",
    options: Mapping[str, Mapping[str, Any]] | None = None,
    source_options: Mapping[str, Any] | None = None,
    allow_mismatch: bool = False,
    ci: float | None = None,
    bootstrap: int = 200,
    seed: int = 0,
    num_samples: int | None = None,
    generator_seed: int = 0,
    value_range: Any = DEFAULT_VALUE_RANGE,
    layout: str = "auto",
    read_as: str = "auto",
    columns: Any = None,
    categorical: Any = None,
    skip_invalid: bool = False,
    target: str | None = None,
    real_test: Any = None,
    names: tuple[str, str] | None = None,
    progress_bootstrap: Callable[[int], None] | None = None,
    protocol: str | None = None,
    **extract_options: Any,
) -> dict[str, MetricResult]:
    """Compute any registered metrics between ``real`` and ``fake``, reading each input once.

    Every metric of :mod:`ganeval.metrics.registry` is reachable here (plug-ins too); what
    each one is computed from follows its ``takes``: feature rows or their moments (FID),
    class logits (IS: ``real`` may be ``None``), one sample (Vendi: ``fake``), the training
    set and a generated set (memorisation: ``real`` is the training set), labelled tables
    (nested F1: ``real`` and ``fake`` are the training tables, ``target`` names the class
    column, ``real_test`` the held-out real rows).

    Parameters
    ----------
    real, fake : inputs accepted by :func:`load_features` (or :class:`Features`)
        For a metric that takes a generator (perceptual path length), ``fake`` is the
        generator (``"pkg.module:factory"`` or an object with ``latent_dim``); for one that
        takes a training set, a held-out set and a generated set (C_T, FLD), ``real`` is the
        training set and ``real_test`` the held-out real rows.
    metrics : str or iterable of registered metric names, optional
        One name or several, e.g. ``["fid", "kid", "prdc"]`` (see ``ganeval.metrics.names()``);
        default ``"fid"``, or every metric of ``protocol``.
    options : mapping of metric name to keyword options
        e.g. ``{"kid": {"subsets": 50}, "prdc": {"k": 3}}``; checked against each metric's
        declared options before anything is read.
    allow_mismatch : bool, default=False
        Compare inputs whose features were made by different extractors, preprocessing
        modes or weights (e.g. a statistics file against freshly extracted images). By
        default that is a :class:`DataError` naming both sides; allowed, the result's
        settings record both sides (``real_extractor``, ``fake_extractor``, ...).
    ci : float in (0, 1), optional
        Add a seeded bootstrap interval to every result (``ci_low``, ``ci_high``, ``se``;
        see :mod:`ganeval.uncertainty`), with ``bootstrap`` replicates (>= 10) and ``seed``;
        each metric is resampled as it declares (rows with replacement, or half-samples).
    num_samples, generator_seed :
        With ``num_samples``, ``fake`` is a generator (``"pkg.module:factory"``, a reference
        checkpoint path, a ``torch.nn.Module`` with ``latent_dim`` or ``fn(batch_size,
        generator)``): ``num_samples`` samples are drawn with ``generator_seed``, batch by
        batch (:func:`ganeval.sources.generator.open_generator`).
    value_range : (low, high), default=(-1, 1)
        The range of float images, in arrays, tensors, ``.npy`` files and generator outputs
        alike (:mod:`ganeval.images`; a warning when images fill clearly less of it).
    layout : {"auto", "NCHW", "NHWC"}, default="auto"
        How 4-D image arrays are read (an ambiguous shape is refused under ``"auto"``).
    read_as : {"auto", "table"}, default="auto"
        ``"table"`` reads ``real`` and ``fake`` together as tables (same columns matched by
        name, ``categorical`` columns one-hot encoded with categories fitted on ``real``), as
        :func:`ganeval.compare` does; ``"auto"`` does so when ``columns`` or ``categorical``
        is given and otherwise reads each input as :func:`load_features` does.
    columns, categorical, skip_invalid, target, real_test :
        Table reading: columns to use, text columns to one-hot encode, drop rows with a
        missing value, the class column and held-out real rows of nested F1.
    names : (str, str), optional
        What ``real`` and ``fake`` are called in the results (default: as read).
    protocol : str, optional
        A preset of :mod:`ganeval.protocols` (``"adm"``, ``"edm2"``, ``"clean-fid"``,
        ``"stylegan"``, ``"torch-fidelity"``, ``"pytorch-fid"``): it fixes the extractor,
        preprocessing, metrics and their options (``metrics``, ``extractor``,
        ``preprocessing`` and ``options`` may only agree with it or leave it open); each
        result's settings hold ``"protocol"``, and its keys are the protocol's (EDM2's
        ``"fd_dinov2"``). A warning says when the generated sample count is not the one
        the protocol is defined for.
    **extract_options
        How image inputs become features, as for :func:`load_features` (``batch_size=``,
        ``device=``, ``tf32=``, ...). With ``tf32=True`` on CUDA the results' settings hold
        ``"tf32": True`` (and ``real_tf32`` / ``fake_tf32`` when only one side used it).

    Notes
    -----
    Under an initialised ``torch.distributed`` process group, image inputs are extracted
    in shards (batch ``b`` on rank ``b % world``) and gathered: every rank gets the
    one-process result.

    Examples
    --------
    >>> r = evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "prdc"])
    >>> sorted(r), r["fid"].value < 10
    (['fid', 'prdc'], True)
    """
    from .metrics.registry import get

    if protocol is not None:
        rest = {
            "source_options": source_options,
            "allow_mismatch": allow_mismatch,
            "ci": ci,
            "bootstrap": bootstrap,
            "seed": seed,
            "num_samples": num_samples,
            "generator_seed": generator_seed,
            "value_range": value_range,
            "layout": layout,
            "read_as": read_as,
            "columns": columns,
            "categorical": categorical,
            "skip_invalid": skip_invalid,
            "target": target,
            "real_test": real_test,
            "names": names,
            "progress_bootstrap": progress_bootstrap,
        }
        return _evaluate_protocol(protocol, real, fake, metrics, extractor, options, rest, extract_options)
    if metrics is None:
        metrics = ("fid",)
    wanted = [get(m) for m in dict.fromkeys((metrics,) if isinstance(metrics, str) else metrics)]
    if not wanted:
        raise ParameterError("metrics: give at least one metric")
    opts = _checked_options(wanted, options)
    check_choice(read_as, "read_as", ("auto", "table"))
    value_range = check_value_range(value_range)
    layout = check_layout(layout)
    read_options = {"value_range": value_range, "layout": layout, **dict(source_options or {})}
    if ci is not None:  # before any (possibly long) extraction
        from .uncertainty import check_ci

        check_ci(ci, bootstrap)
        for m in wanted:
            if m.resampling is None:
                raise ParameterError(f"{m.name} has no bootstrap interval (ci=): {m.no_interval}")
    if any(m.takes == "labelled" for m in wanted) and not target:
        raise ParameterError(
            f"{next(m.name for m in wanted if m.takes == 'labelled')} needs target= (the class column)"
        )

    results: dict[str, MetricResult] = {}
    for m in wanted:
        if m.takes == "generator":
            from .sources.generator import load_generator

            results[m.name] = _with_generator(m(load_generator(fake), **opts[m.name]), fake)
    unlabelled = [m for m in wanted if m.takes not in ("labelled", "generator")]
    if any(m.takes == "train-test-fake" for m in unlabelled) and real_test is None:
        name = next(m.name for m in unlabelled if m.takes == "train-test-fake")
        raise ParameterError(
            f"{name} needs real_test= (held-out real rows the generator never saw; real is its training set)"
        )
    if unlabelled:
        fake = _generator_input(fake, num_samples, generator_seed, value_range, layout, extract_options)
        as_table = read_as == "table" or columns is not None or categorical is not None
        real_f: Features | None
        if as_table:
            real_f, fake_f = _table_features(real, fake, columns, categorical, skip_invalid, names)
            test_f = None
            if any(m.takes == "train-test-fake" for m in unlabelled):
                test_f = _table_features(real, real_test, columns, categorical, skip_invalid, None)[1]
        else:
            outputs = tuple(
                dict.fromkeys([*extract_options.get("outputs", ()), *(m.features for m in unlabelled if m.features)])
            )
            if outputs:  # extra extractor outputs the metrics read (sFID: "spatial"), in the same pass
                extract_options = {**extract_options, "outputs": outputs}
            real_f, fake_f = _read_pair(real, fake, unlabelled, extractor, read_options, skip_invalid, extract_options)
            test_f = None
            train_test = [m for m in unlabelled if m.takes == "train-test-fake"]
            if train_test:
                test_f = _read_pair(None, real_test, [], extractor, read_options, skip_invalid, extract_options)[1]
                real_read = _required(real_f, train_test[0], "real")
                _check_dims(real_read, test_f)
                _check_provenance(real_read, test_f, allow_mismatch)
            if names is not None:
                if real_f is not None:
                    real_f.name = names[0]
                fake_f.name = names[1]
            if real_f is not None:
                _align_columns(real_f, fake_f)
                _check_dims(real_f, fake_f)
                _check_provenance(real_f, fake_f, allow_mismatch)
        progress = progress_bootstrap
        bar = None
        if ci is not None and progress is None and extract_options.get("progress"):
            from .progress import progress_bar

            bar = progress_bar(bootstrap * len(unlabelled), "bootstrap", "replicate")
            progress = bar.update
        try:
            for m in unlabelled:
                r = _compute(
                    m,
                    real_f,
                    fake_f,
                    opts[m.name],
                    ci=ci,
                    bootstrap=bootstrap,
                    seed=seed,
                    progress=progress,
                    test=test_f,
                )
                results[m.name] = _with_inputs(r, real_f, fake_f)
        finally:
            if bar is not None:
                bar.close()
    for m in wanted:
        if m.takes == "labelled":
            assert target is not None  # checked on entry: labelled metrics need target=
            results[m.name] = _labelled(
                m, real, fake, real_test, target, columns, categorical, skip_invalid, opts[m.name], names
            )
    return {m.name: results[m.name] for m in wanted}


def _evaluate_protocol(
    protocol: str,
    real: Any,
    fake: Any,
    metrics: Any,
    extractor: str,
    options: Mapping[str, Mapping[str, Any]] | None,
    rest: dict[str, Any],
    extract_options: Mapping[str, Any],
) -> dict[str, MetricResult]:
    """:func:`evaluate` under a protocol preset: one evaluation per pass of its table."""
    import warnings

    from .protocols import Chunks, get_protocol, plan

    extract_options = dict(extract_options)
    passes = plan(
        protocol,
        metrics,
        extractor=extractor,
        preprocessing=extract_options.pop("preprocessing", None),
        options=options,
    )
    p = get_protocol(protocol)
    out: dict[str, MetricResult] = {}
    for ps in passes:
        # options fixed per sample count (ADM's IS splits) wait for the sample count: the
        # metrics without them run first (the feature cache serves the second run)
        later = [m for m in ps.metrics if any(isinstance(v, Chunks) for v in ps.options[m].values())]
        first = [m for m in ps.metrics if m not in later]
        common = {"extractor": ps.extractor, "preprocessing": ps.preprocessing, **rest, **extract_options}
        got = evaluate(real, fake, first, options={m: ps.options[m] for m in first}, **common) if first else {}
        if later:
            n = next((r.n_fake for r in got.values() if r.n_fake is not None), None)
            if n is None:
                n = load_features(fake, extractor=ps.extractor, preprocessing=ps.preprocessing, **extract_options).n
            opts = {
                m: {k: (v.resolve(n) if isinstance(v, Chunks) else v) for k, v in ps.options[m].items()} for m in later
            }
            got.update(evaluate(real, fake, later, options=opts, **common))
        for metric in ps.metrics:
            r = got[metric]
            key = ps.keys[metric]
            out[key] = MetricResult(key, r.values, {**r.settings, "protocol": p.name}, n_real=r.n_real, n_fake=r.n_fake)
    n_fake = next((r.n_fake for r in out.values() if r.n_fake is not None), None)
    if p.num_fake is not None and n_fake is not None and n_fake != p.num_fake:
        warnings.warn(
            f"protocol {p.name!r} is defined for {p.num_fake} generated samples; {n_fake} were given, "
            f"so the numbers are not comparable with published {p.name} numbers",
            stacklevel=3,
        )
    return out


def _checked_options(wanted: list[Any], options: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict]:
    """Each metric's options checked against its declaration (the metric fills defaults)."""
    given = {k: dict(v) for k, v in (options or {}).items()}
    unknown = set(given) - {m.name for m in wanted}
    if unknown:
        raise ParameterError(f"options given for metrics not asked for: {sorted(unknown)}")
    return {m.name: m.check_options(given.get(m.name, {}), fill=False) for m in wanted}


def _read_pair(
    real: Any,
    fake: Any,
    wanted: list[Any],
    extractor: str,
    source_options: Mapping[str, Any] | None,
    skip_invalid: bool,
    extract_options: Mapping[str, Any],
) -> tuple[Features | None, Features]:
    """Features of both inputs (``real`` is not read when no metric needs it)."""
    src_opts = dict(source_options or {})
    if skip_invalid:
        src_opts["skip_invalid"] = True

    def load(x: Any) -> Features:
        if isinstance(x, Features):
            return x
        return load_features(x, extractor=extractor, source_options=src_opts, **extract_options)

    needs_real = any(len(m.inputs()) > 1 for m in wanted)
    real_f = load(real) if needs_real else None
    if (
        real_f is not None
        and real_f.rows is None
        and real_f.stats is not None
        and any(m.takes not in ("moments", "logits", "one-sample") for m in wanted)
    ):
        _add_batch_images(real_f, real, extractor, src_opts, extract_options)
    return real_f, load(fake)


def _add_batch_images(
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
    from .sources.arrays import open_adm_images

    images = features_of(open_adm_images(spec), extractor=extractor, **extract_options)
    features.rows, features.logits, features.extras = images.rows, images.logits, images.extras
    features.info = {**images.info, **{k: v for k, v in features.info.items() if v is not None}}


def _table_features(
    real: Any, fake: Any, columns: Any, categorical: Any, skip_invalid: bool, names: tuple[str, str] | None
) -> tuple[Features, Features]:
    """``real`` and ``fake`` read together as tables (:func:`~ganeval.sources.tabular.load_table_pair`)."""
    from .sources.tabular import load_table_pair

    pair = load_table_pair(real, fake, columns=columns, categorical=categorical, skip_invalid=skip_invalid)
    rn, fn = names or (_spec_name(real, "real"), _spec_name(fake, "fake"))
    cols = tuple(pair.columns)
    info_r = {"skipped_rows": pair.skipped} if pair.skipped else {}
    return (
        Features(rn, rows=pair.real, columns=cols, info=dict(info_r)),
        Features(fn, rows=pair.fake, columns=cols, info=dict(info_r)),
    )


def _spec_name(spec: Any, default: str) -> str:
    return os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else default


def _inputs_of(
    metric: Any, real: Features | None, fake: Features, test: Features | None = None
) -> tuple[list[Any], tuple[str, ...]]:
    """The positional inputs ``metric.takes`` asks for, and what they are called."""
    label = f"{metric.name}"
    if metric.features:  # an extra extractor output (sFID: "spatial")
        out = metric.features
        if metric.takes in ("one-sample", "logits"):
            return [fake.need_output_rows(out, label)], (fake.name,)
        real = _required(real, metric, "real")
        if metric.takes == "moments":
            return [real.need_extra_stats(out), fake.need_extra_stats(out)], (real.name, fake.name)
        if metric.takes == "train-test-fake":
            test = _required(test, metric, "real_test")
            return ([f.need_output_rows(out, label) for f in (real, test, fake)], (real.name, test.name, fake.name))
        return [real.need_output_rows(out, label), fake.need_output_rows(out, label)], (real.name, fake.name)
    if metric.takes == "train-test-fake":
        real, test = _required(real, metric, "real"), _required(test, metric, "real_test")
        return [real.need_rows(label), test.need_rows(label), fake.need_rows(label)], (real.name, test.name, fake.name)
    if metric.takes == "moments":
        real = _required(real, metric, "real")
        return [real.need_stats(), fake.need_stats()], (real.name, fake.name)
    if metric.takes == "logits":
        return [fake.need_logits()], (fake.name,)
    if metric.takes == "one-sample":
        return [fake.need_rows(label)], (fake.name,)
    real = _required(real, metric, "real")
    return [real.need_rows(label), fake.need_rows(label)], (real.name, fake.name)


def _required(features: Features | None, metric: Any, role: str) -> Features:
    """``features``, which ``metric`` needs (``evaluate`` reads every input a metric takes)."""
    if features is None:
        raise ParameterError(f"{metric.name} needs {role} input")
    return features


def _compute(
    metric: Any,
    real: Features | None,
    fake: Features,
    options: dict[str, Any],
    *,
    ci: float | None,
    bootstrap: int,
    seed: int,
    progress: Callable[[int], None] | None,
    test: Features | None = None,
) -> MetricResult:
    cols = fake.columns if metric.uses_columns else None
    if ci is None:
        inputs, labels = _inputs_of(metric, real, fake, test)
        return metric(*inputs, names=labels, columns=cols, **options)
    from .uncertainty import interval

    if metric.takes == "moments":  # an interval needs the rows
        label = f"{metric.name} --ci"
        real_read = _required(real, metric, "real")
        inputs = [real_read.need_output_rows(metric.features, label), fake.need_output_rows(metric.features, label)]
    else:
        inputs = _inputs_of(metric, real, fake)[0]
    return interval(
        metric, *inputs, ci=ci, bootstrap=bootstrap, seed=seed, options=options, columns=cols, progress=progress
    )


def _with_generator(r: MetricResult, spec: Any) -> MetricResult:
    """A generator metric's result, naming the generator it sampled."""
    name = spec if isinstance(spec, str) else type(spec).__name__
    return MetricResult(r.metric, r.values, {**r.settings, "generator": name}, n_real=r.n_real, n_fake=r.n_fake)


def _labelled(
    metric: Any,
    real: Any,
    fake: Any,
    real_test: Any,
    target: str,
    columns: Any,
    categorical: Any,
    skip_invalid: bool,
    options: dict[str, Any],
    names: tuple[str, str] | None,
) -> MetricResult:
    """A metric on labelled tables (train on FAKE, test on REAL: nested F1)."""
    from .sources.tabular import load_labelled_tables

    specs = [real, fake] + ([real_test] if real_test is not None else [])
    tables, feature_names = load_labelled_tables(
        specs, target, columns=columns, categorical=categorical, skip_invalid=skip_invalid
    )
    test = tables[2] if real_test is not None else None
    r = metric(
        tables[0].rows,
        tables[0].labels,
        tables[1].rows,
        tables[1].labels,
        None if test is None else test.rows,
        None if test is None else test.labels,
        columns=feature_names,
        **options,
    )
    rn, fn = names or (_spec_name(real, "real"), _spec_name(fake, "fake"))
    settings = {**r.settings, "real": rn, "fake": fn, "target": target}
    if real_test is not None:
        settings["real_test"] = _spec_name(real_test, "real_test")
    return MetricResult(r.metric, r.values, settings, n_real=r.n_real, n_fake=r.n_fake)


def _generator_input(
    fake: Any, num_samples: int | None, seed: int, value_range: Any, layout: str, extract_options: Mapping[str, Any]
) -> Any:
    """``fake`` opened as a generator source when ``num_samples`` is given."""
    if num_samples is None:
        if hasattr(fake, "latent_dim") and hasattr(fake, "forward"):
            raise ParameterError("num_samples is required when fake is a generator")
        return fake
    from .devices import resolve_device
    from .generators import open_generator

    device = resolve_device(extract_options.get("device", "auto"))
    return open_generator(
        fake,
        num_samples=num_samples,
        seed=seed,
        batch_size=extract_options.get("batch_size", 50),
        value_range=value_range,
        device=device,
        layout=layout,
    )


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
            raise DataError(
                f"feature dimensions differ: {a} has {da} ({ea} features), {b} has {db} ({eb} features); "
                f"--extractor auto chose a different extractor for each input: pass --extractor "
                f"{eb} (or {ea}) to use one for both"
            )
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
        raise DataError(
            f"{real.name} and {fake.name} were made differently ({what}); their features are not "
            f"comparable: use the same settings for both, or pass --allow-mismatch "
            f"(allow_mismatch=True) to compare them anyway"
        )


def _registered() -> list[str]:
    from .metrics.registry import names

    return names()


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
    if any(f is not None and f.info.get("gpu_decode") for f in (real, fake)):  # nvjpeg, not PIL's pixels
        settings["gpu_decode"] = True
    if fake.info.get("skipped_rows"):
        settings["skipped_rows"] = dict(fake.info["skipped_rows"])
    for side, f in (("real", real), ("fake", fake)):
        if f is not None and f.info.get("skipped") is not None:
            settings[f"{side}_skipped"] = f.info["skipped"]
        if f is not None and f.info.get("linked_folders"):
            settings[f"{side}_linked_folders"] = f.info["linked_folders"]
    from .metrics.registry import get

    two_sided = r.metric in _registered() and len(get(r.metric).inputs()) > 1
    n_real = r.n_real if r.n_real is not None else (real.n if real is not None and two_sided else None)
    if (
        r.n_real is None
        and two_sided
        and get(r.metric).takes == "moments"
        and real is not None
        and real.stats is not None
    ):
        n_real = real.stats.n or None  # stored moments (an ADM reference batch: count unknown), not its rows
    n_fake = r.n_fake if r.n_fake is not None else fake.n
    return MetricResult(r.metric, r.values, settings, n_real=n_real, n_fake=n_fake)
