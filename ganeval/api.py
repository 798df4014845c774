"""The public pipeline: sources -> features -> metrics -> results.

:func:`load_features` reads an input once (extracting image features when the input is
images; it lives in :mod:`ganeval.features.inputs`, with :class:`Features`, and is
importable from here); :func:`evaluate` computes any number of feature-space metrics from
those features.
The CLI and the benchmark report call these; so can user code::

    import ganeval
    results = ganeval.evaluate("builtin:digits/train", "builtin:digits/test", ["fid", "kid"])
    results["fid"].value
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._validation import check_choice
from .errors import DataError, InputError, ParameterError
from .features.inputs import Features, add_reference_batch_images, input_name, load_features, load_table_features
from .features.inputs import features_of as features_of  # the public path of ganeval.api.features_of
from .images import DEFAULT_VALUE_RANGE, check_layout, check_value_range
from .results import MetricResult

__all__ = ["Features", "load_features", "evaluate"]


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
    wanted = _wanted_metrics(metrics)
    opts = _checked_options(wanted, options)
    check_choice(read_as, "read_as", ("auto", "table"))
    value_range = check_value_range(value_range)
    layout = check_layout(layout)
    read_options = {"value_range": value_range, "layout": layout, **dict(source_options or {})}
    _check_before_reading(wanted, ci=ci, bootstrap=bootstrap, target=target)

    results: dict[str, MetricResult] = {}
    for m in wanted:
        if m.takes == "generator":
            from .sources.generator import load_generator

            results[m.name] = _with_generator(m(load_generator(fake), **opts[m.name]), fake)
    unlabelled = [m for m in wanted if m.takes not in ("labelled", "generator")]
    _check_real_test(unlabelled, real_test)
    if unlabelled:
        fake = _generator_input(fake, num_samples, generator_seed, value_range, layout, extract_options)
        real_f: Features | None
        if read_as == "table" or columns is not None or categorical is not None:
            real_f, fake_f, test_f = _read_tables(
                real, fake, real_test, unlabelled, columns, categorical, skip_invalid, names
            )
        else:
            real_f, fake_f, test_f = _read_inputs(
                real,
                fake,
                real_test,
                unlabelled,
                extractor=extractor,
                read_options=read_options,
                skip_invalid=skip_invalid,
                names=names,
                allow_mismatch=allow_mismatch,
                extract_options=extract_options,
            )
        show_bar = ci is not None and progress_bootstrap is None and bool(extract_options.get("progress"))
        results.update(
            _compute_each(
                unlabelled,
                real_f,
                fake_f,
                test_f,
                opts,
                ci=ci,
                bootstrap=bootstrap,
                seed=seed,
                progress=progress_bootstrap,
                show_bar=show_bar,
            )
        )
    for m in wanted:
        if m.takes == "labelled":
            assert target is not None  # checked on entry: labelled metrics need target=
            results[m.name] = _labelled(
                m, real, fake, real_test, target, columns, categorical, skip_invalid, opts[m.name], names
            )
    return {m.name: results[m.name] for m in wanted}


def _wanted_metrics(metrics: str | Iterable[str] | None) -> list[Any]:
    """The registered metrics asked for, each once, in the order given (default: FID)."""
    from .metrics.registry import get

    if metrics is None:
        metrics = ("fid",)
    wanted = [get(m) for m in dict.fromkeys((metrics,) if isinstance(metrics, str) else metrics)]
    if not wanted:
        raise ParameterError("metrics: give at least one metric")
    return wanted


def _check_before_reading(wanted: list[Any], *, ci: float | None, bootstrap: int, target: str | None) -> None:
    """What can be refused before any (possibly long) extraction: an interval a metric
    cannot give, and a labelled metric without its class column."""
    if ci is not None:
        from .uncertainty import check_ci

        check_ci(ci, bootstrap)
        for m in wanted:
            if m.resampling is None:
                raise ParameterError(f"{m.name} has no bootstrap interval (ci=): {m.no_interval}")
    if any(m.takes == "labelled" for m in wanted) and not target:
        raise ParameterError(
            f"{next(m.name for m in wanted if m.takes == 'labelled')} needs target= (the class column)"
        )


def _check_real_test(unlabelled: list[Any], real_test: Any) -> None:
    """A metric on a training set, a held-out set and a generated set needs the held-out set."""
    if any(m.takes == "train-test-fake" for m in unlabelled) and real_test is None:
        name = next(m.name for m in unlabelled if m.takes == "train-test-fake")
        raise ParameterError(
            f"{name} needs real_test= (held-out real rows the generator never saw; real is its training set)"
        )


def _read_tables(
    real: Any,
    fake: Any,
    real_test: Any,
    unlabelled: list[Any],
    columns: Any,
    categorical: Any,
    skip_invalid: bool,
    names: tuple[str, str] | None,
) -> tuple[Features, Features, Features | None]:
    """``real``, ``fake`` (and ``real_test``, when a metric takes it) read as tables with the
    same columns (:func:`~ganeval.features.inputs.load_table_features`)."""
    real_f, fake_f = load_table_features(real, fake, columns, categorical, skip_invalid, names)
    test_f = None
    if any(m.takes == "train-test-fake" for m in unlabelled):
        test_f = load_table_features(real, real_test, columns, categorical, skip_invalid, None)[1]
    return real_f, fake_f, test_f


def _read_inputs(
    real: Any,
    fake: Any,
    real_test: Any,
    unlabelled: list[Any],
    *,
    extractor: str,
    read_options: Mapping[str, Any],
    skip_invalid: bool,
    names: tuple[str, str] | None,
    allow_mismatch: bool,
    extract_options: Mapping[str, Any],
) -> tuple[Features | None, Features, Features | None]:
    """The features of ``real``, ``fake`` (and ``real_test``, when a metric takes it), each
    read once with every extractor output the metrics read, renamed to ``names`` and checked
    comparable (same columns, dimension and provenance)."""
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
    return real_f, fake_f, test_f


def _compute_each(
    unlabelled: list[Any],
    real_f: Features | None,
    fake_f: Features,
    test_f: Features | None,
    opts: dict[str, dict],
    *,
    ci: float | None,
    bootstrap: int,
    seed: int,
    progress: Callable[[int], None] | None,
    show_bar: bool,
) -> dict[str, MetricResult]:
    """Each metric's result on the features read, with the inputs recorded in its settings;
    ``show_bar``: one progress bar over every metric's bootstrap replicates."""
    results: dict[str, MetricResult] = {}
    bar = None
    if show_bar:
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
    return results


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
            if n is None and isinstance(fake, Features):  # already read (the report engine's inputs)
                n = fake.n
            if n is None:
                n = load_features(fake, extractor=ps.extractor, preprocessing=ps.preprocessing, **extract_options).n
            opts = {
                m: {k: (v.resolve(n) if isinstance(v, Chunks) else v) for k, v in ps.options[m].items()} for m in later
            }
            got.update(evaluate(real, fake, later, options=opts, **common))
        for metric in ps.metrics:
            r = got[metric]
            if not rest.get("allow_mismatch"):
                _check_made_by_protocol(p.name, r.settings, ps.extractor, ps.preprocessing)
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


def _check_made_by_protocol(protocol: str, settings: Mapping[str, Any], extractor: str, preprocessing: str) -> None:
    """Inputs read as they are (statistics files, ADM reference batches) carry how they were
    made: numbers labelled with a protocol must come from its extractor and preprocessing."""
    made_with = settings.get("extractor")
    if isinstance(made_with, str) and made_with.split(":")[0] != extractor.split(":")[0]:
        raise InputError(
            f"protocol {protocol!r} extracts with {extractor!r}, but the inputs were made with {made_with!r}: "
            f"their numbers are not {protocol} numbers (pass allow_mismatch=True / --allow-mismatch to compute anyway)"
        )
    made_by = settings.get("preprocessing")
    if isinstance(made_by, str) and made_by != preprocessing:
        raise InputError(
            f"protocol {protocol!r} resizes with {preprocessing!r}, but the inputs were made with preprocessing "
            f"{made_by!r}: their numbers are not {protocol} numbers (pass allow_mismatch=True / --allow-mismatch "
            f"to compute anyway)"
        )


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
        add_reference_batch_images(real_f, real, extractor, src_opts, extract_options)
    return real_f, load(fake)


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
    rn, fn = names or (input_name(real, "real"), input_name(fake, "fake"))
    settings = {**r.settings, "real": rn, "fake": fn, "target": target}
    if real_test is not None:
        settings["real_test"] = input_name(real_test, "real_test")
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
