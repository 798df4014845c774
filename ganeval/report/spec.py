"""Report specs: a TOML file naming the real input, the candidates, the metrics and the seeds.

.. code-block:: toml

    title = "digits"
    seed = 0                     # seed of every seeded metric (KID subsets, MMD, C2ST)
    threads = 1                  # intra-op threads (results are exact for a given count)
    extractor = "auto"           # auto | digits | inception | identity
    on_inapplicable = "skip"     # a metric that does not apply to an input: skip | error
    # protocol = "pytorch-fid"   # a preset of ganeval.protocols: fixes extractor,
    #                            # preprocessing, metrics and their options

    [real]
    input = "builtin:digits/train"

    [metrics]
    fid = {}
    kid = {subsets = 50, subset_size = 500}
    prdc = {k = 5}

    [[candidates]]
    name = "test split"
    input = "builtin:digits/test"

    [[candidates]]
    name = "hinge GAN"
    train = {data = "digits", loss = "hinge", steps = 200, seeds = [0, 1]}

A candidate is exactly one of ``input`` (any input ganeval reads), ``checkpoint`` (a
reference trainer checkpoint, with ``num_samples`` and ``seeds``), ``generator``
(``"pkg.mod:factory"``, with ``num_samples``) or ``train`` (a reference training run per
seed). Paths are relative to the spec file's folder.

``protocol = "NAME"`` (one of :func:`ganeval.protocols.names`) applies a preset as
``ganeval.evaluate(..., protocol=NAME)`` does: it sets the extractor, the preprocessing, the
metrics (``[metrics]`` may then be left out, or name a subset) and the options the preset
fixes; keys of the spec that say otherwise are refused with one line naming both. It is
spec-wide, as the extractor and the metrics are: every candidate is measured the same way.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..devices import DEVICE_CHOICES, is_device_name
from ..errors import GanevalError, InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["ReportSpec", "CandidateSpec", "load_spec", "parse_spec", "report_metrics", "DISTURBANCES"]

#: report-only metrics beside the registry (mode metrics of the reference mixtures)
EXTRA_METRICS = ("modes",)
#: keys a [metrics] entry takes besides the metric's own options: an interval on its numbers
INTERVAL_KEYS = ("ci", "bootstrap")


def report_metrics() -> tuple[str, ...]:
    """Every metric a report can compute: the registered ones (plug-ins too) and ``modes``."""
    from ..metrics.registry import names

    return (*names(), *EXTRA_METRICS)


#: disturbances a candidate may apply to image inputs (see :mod:`ganeval.report.disturb`)
DISTURBANCES = (
    "gaussian_noise",
    "gaussian_blur",
    "black_rectangles",
    "salt_and_pepper",
    "swirl",
    "mode_dropping",
    "mode_collapse",
    "memorisation",
    "mixing",
)

_TOP = (
    "title",
    "seed",
    "threads",
    "device",
    "extractor",
    "on_inapplicable",
    "cache",
    "batch_size",
    "real",
    "metrics",
    "candidates",
    "version",
    "ci",
    "preprocessing",
    "protocol",
)
_REAL = ("input", "name", "target", "test")
_CANDIDATE = (
    "name",
    "input",
    "checkpoint",
    "generator",
    "train",
    "num_samples",
    "seeds",
    "value_range",
    "batch_size",
    "disturb",
)
_SOURCES = ("input", "checkpoint", "generator", "train")
_DISTURB = ("kind", "level", "seed", "train")
_TRAIN_EXTRA = ("seeds",)


@dataclass
class CandidateSpec:
    """One candidate: where its samples come from, and the seeds."""

    name: str
    kind: str  # input | checkpoint | generator | train
    value: Any  # the input spec, checkpoint path, factory string, or the train table
    seeds: list[int] = field(default_factory=lambda: [0])
    num_samples: int | None = None
    value_range: tuple[float, float] = (-1.0, 1.0)
    batch_size: int = 50
    disturb: dict[str, Any] | None = None


@dataclass
class ReportSpec:
    """A parsed, validated report spec (``raw`` is the TOML table as read)."""

    raw: dict[str, Any]
    base: Path
    title: str
    real: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    candidates: list[CandidateSpec]
    #: metric -> (level, bootstrap replicates) of the interval a spec asks for
    intervals: dict[str, tuple[float, int]] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    extractor: str = "auto"
    on_inapplicable: str = "skip"
    cache: bool = False
    batch_size: int = 50
    #: the extractor's preprocessing mode (None: the extractor's default)
    preprocessing: str | None = None
    #: the protocol preset the spec names (``ganeval.protocols``), None without one
    protocol: str | None = None

    @property
    def feature_options(self) -> dict[str, Any]:
        """How inputs become features beyond the extractor: the ``preprocessing`` and the
        extra extractor ``outputs`` the metrics read (sFID: ``"spatial"``), for
        :func:`ganeval.api.features_of`."""
        from ..metrics.registry import get

        wanted = (get(m).features for m in self.metrics if m not in EXTRA_METRICS)
        outputs = tuple(dict.fromkeys(f for f in wanted if f))
        out: dict[str, Any] = {"preprocessing": self.preprocessing} if self.preprocessing is not None else {}
        if outputs:
            out["outputs"] = outputs
        return out

    def resolve(self, value: str) -> str:
        """A path of the spec made absolute against the spec's folder (``builtin:``/``ref:``
        names and absolute paths are returned as they are)."""
        if not isinstance(value, str) or value.startswith(("builtin:", "ref:")) or os.path.isabs(value):
            return value
        return str(self.base / value)


def _metric_options(
    metric: str, opts: dict[str, Any], where: str, default_ci: Any
) -> tuple[dict[str, Any], tuple[float, int] | None]:
    """A [metrics] entry checked against the metric's declared options (``ci`` and
    ``bootstrap`` ask for an interval; a top-level ``ci`` applies to every metric that has
    one)."""
    from ..errors import GanevalError
    from ..uncertainty import check_ci

    ci = opts.pop("ci", None)
    bootstrap = opts.pop("bootstrap", None)
    if metric in EXTRA_METRICS:
        if ci is not None or bootstrap is not None:
            raise InputError(f"{where}: {metric} has no interval (ci)")
        return opts, None
    from ..metrics.registry import get

    m = get(metric)
    try:
        opts = m.check_options(opts, where=where, fill=False)
    except GanevalError as exc:
        raise InputError(str(exc)) from None
    if ci is None and bootstrap is not None:
        raise InputError(f"{where}: bootstrap is given without ci (e.g. ci = 0.95)")
    if ci is None and default_ci is not None and m.resampling is not None:
        ci = default_ci
    if ci is None:
        return opts, None
    if m.resampling is None:
        raise InputError(f"{where}: {metric} has no interval (ci): {m.no_interval}")
    if isinstance(ci, bool) or isinstance(bootstrap, bool):
        raise InputError(f"{where}: ci must be a number in (0, 1) and bootstrap an integer >= 10")
    try:
        return opts, check_ci(ci, 200 if bootstrap is None else bootstrap)
    except GanevalError as exc:
        raise InputError(f"{where}: {exc}") from None


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        parts = []
        for k in unknown:
            close = difflib.get_close_matches(k, allowed, n=1)
            parts.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InputError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; known: {', '.join(allowed)}"
        )


def _int(value: Any, where: str, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{where}: expected an integer in {minimum}..{maximum}, got {value!r}")
    return value


#: the largest seed a spec may name (seeds are drawn into 32-bit generators)
_MAX_SEED = 2**32 - 1


def _seed(value: Any, where: str) -> int:
    return _int(value, where, 0, _MAX_SEED)


def load_spec(path: str | os.PathLike) -> ReportSpec:
    """Read and validate a report spec file (:class:`InputError` naming the problem)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"spec {p}: no such file")
    if p.is_dir():
        raise InputError(f"spec {p}: is a folder, expected a .toml file")
    if not p.is_file():
        raise InputError(f"spec {p}: not a regular file (a FIFO, socket or device), expected a .toml file")
    if p.stat().st_size > 16 * 2**20:
        raise InputError(f"spec {p}: {p.stat().st_size / 2**20:.0f} MiB is too large for a report spec")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"spec {p}: cannot be read ({exc})") from None
    return parse_spec(text, base=p.resolve().parent, name=str(p))


def parse_spec(text: str, *, base: str | os.PathLike = ".", name: str = "spec") -> ReportSpec:
    """Parse TOML text into a :class:`ReportSpec`.

    Examples
    --------
    >>> s = parse_spec('[real]\\ninput = "builtin:ring8/train"\\n[metrics]\\nfid = {}\\n'
    ...                '[[candidates]]\\ninput = "builtin:ring8/test"')
    >>> s.candidates[0].name, list(s.metrics)
    ('builtin:ring8/test', ['fid'])
    >>> parse_spec('[real]\\ninput = "x"\\n[metrcs]')
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: spec: unknown key 'metrcs' (did you mean 'metrics'?); known: title, ...
    """
    raw = _read_toml(text, name)
    protocol = _protocol_name(raw, name)
    real = _parse_real(raw, name)
    metrics, intervals = _parse_metrics(raw, name, protocol)
    candidates = _parse_candidates(raw, name)
    settings = _parse_settings(raw, name)
    if protocol is not None:
        metrics, settings = _apply_protocol(protocol, metrics, settings, name, given="metrics" in raw)
    return ReportSpec(
        raw=raw,
        base=Path(base),
        real=real,
        metrics=metrics,
        intervals=intervals,
        candidates=candidates,
        **settings,
    )


def _read_toml(text: str, name: str) -> dict[str, Any]:
    """The TOML table, its top-level keys and version checked."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: not valid TOML ({exc})") from None
    _check_keys(raw, _TOP, name)
    version = raw.get("version", 1)
    if version != 1:
        raise InputError(f"{name}: spec version {version!r} is not supported (this ganeval reads version 1)")
    return raw


def _parse_real(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The [real] table: an input, and the keys it may take."""
    real = raw.get("real")
    if not isinstance(real, dict) or "input" not in real:
        raise InputError(f'{name}: needs a [real] table with input = "..." (the real data)')
    _check_keys(real, _REAL, f"{name} [real]")
    return dict(real)


def _parse_metrics(
    raw: dict[str, Any], name: str, protocol: str | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[float, int]]]:
    """The [metrics] table: each metric's options, and the intervals asked for (under a
    protocol the table may be left out: every metric of the protocol, with no options)."""
    metrics_raw = raw.get("metrics")
    if protocol is not None and "metrics" not in raw:
        from ..protocols import get_protocol

        metrics_raw = {m: {} for _, m, _ in get_protocol(protocol).all_metrics()}
    if not isinstance(metrics_raw, dict) or not metrics_raw:
        raise InputError(f"{name}: needs a [metrics] table naming at least one metric, e.g. fid = {{}}")
    _check_keys(metrics_raw, report_metrics(), f"{name} [metrics]")
    metrics, intervals = {}, {}
    for m, opts in metrics_raw.items():
        if not isinstance(opts, dict):
            raise InputError(f"{name} [metrics] {m}: expected a table of options, e.g. {m} = {{}}")
        metrics[m], interval = _metric_options(m, dict(opts), f"{name} [metrics] {m}", raw.get("ci"))
        if interval is not None:
            intervals[m] = interval
    return metrics, intervals


def _parse_candidates(raw: dict[str, Any], name: str) -> list[CandidateSpec]:
    """Every [[candidates]] entry, with distinct names."""
    cands_raw = raw.get("candidates")
    if not isinstance(cands_raw, list) or not cands_raw:
        raise InputError(f"{name}: needs at least one [[candidates]] entry")
    candidates = [_parse_candidate(c, f"{name} candidate {i + 1}") for i, c in enumerate(cands_raw)]
    names = [c.name for c in candidates]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{name}: candidate names repeat: {', '.join(dup)} (give each a distinct name)")
    return candidates


def _parse_candidate(c: Any, where: str) -> CandidateSpec:
    """One [[candidates]] entry: exactly one source, its seeds, sizes and disturbance."""
    if not isinstance(c, dict):
        raise InputError(f"{where}: expected a table")
    _check_keys(c, _CANDIDATE, where)
    given = [k for k in _SOURCES if k in c]
    if len(given) != 1:
        raise InputError(f"{where}: give exactly one of {', '.join(_SOURCES)} (got {', '.join(given) or 'none'})")
    kind = given[0]
    value = c[kind]
    seeds = c.get("seeds", [0])
    if kind == "train":
        if not isinstance(value, dict):
            raise InputError(f'{where}: train must be a table, e.g. {{data = "ring8", loss = "hinge"}}')
        _check_train_keys(value, where)
        seeds = value.get("seeds", [value.get("seed", 0)])
    elif not isinstance(value, str):
        raise InputError(f"{where}: {kind} must be a string, got {value!r}")
    seeds = _check_seeds(seeds, where)
    num = c.get("num_samples")
    if kind in ("checkpoint", "generator") and num is None:
        raise InputError(f"{where}: {kind} needs num_samples = N")
    if num is not None:
        num = _int(num, f"{where} num_samples", 2)
    disturb = c.get("disturb")
    if disturb is not None:
        _check_disturb(disturb, where)
    vr = _value_range(c.get("value_range", [-1, 1]), where)
    default_name = value if isinstance(value, str) else f"{value.get('data', '?')}/{value.get('loss', '?')}"
    cname = c.get("name", default_name)
    if not isinstance(cname, str) or not cname.strip():
        raise InputError(f"{where}: name must be a non-empty string")
    batch_size = _int(c.get("batch_size", 50), f"{where} batch_size", 1)
    return CandidateSpec(cname, kind, value, seeds, num, vr, batch_size, disturb)


def _check_seeds(seeds: Any, where: str) -> list[int]:
    if not isinstance(seeds, list) or not seeds:
        raise InputError(f"{where}: seeds must be a non-empty list of integers, got {seeds!r}")
    seeds = [_seed(s, f"{where} seeds") for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise InputError(f"{where}: seeds repeat: {seeds}")
    return seeds


def _check_disturb(disturb: Any, where: str) -> None:
    if not isinstance(disturb, dict):
        raise InputError(f'{where}: disturb must be a table, e.g. {{kind = "gaussian_noise", level = 2}}')
    _check_keys(disturb, _DISTURB, f"{where} disturb")
    if disturb.get("kind") not in DISTURBANCES:
        close = difflib.get_close_matches(str(disturb.get("kind")), DISTURBANCES, n=1)
        raise InputError(
            f"{where} disturb: kind must be one of {', '.join(DISTURBANCES)}; got "
            f"{disturb.get('kind')!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    _int(disturb.get("level", 1), f"{where} disturb level", 0)
    _seed(disturb.get("seed", 0), f"{where} disturb seed")
    if disturb.get("level", 1) > 5:
        raise InputError(f"{where} disturb: level must be 0..5, got {disturb['level']!r}")


def _value_range(vr: Any, where: str) -> tuple[float, float]:
    if not (isinstance(vr, list) and len(vr) == 2 and all(isinstance(v, (int, float)) for v in vr) and vr[0] < vr[1]):
        raise InputError(f"{where}: value_range must be [low, high] with low < high, got {vr!r}")
    return float(vr[0]), float(vr[1])


def _parse_settings(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The top-level settings (:class:`ReportSpec` fields besides the tables)."""
    on = raw.get("on_inapplicable", "skip")
    if on not in ("skip", "error"):
        raise InputError(f"{name}: on_inapplicable must be 'skip' or 'error', got {on!r}")
    ext = raw.get("extractor", "auto")
    if not isinstance(ext, str):
        raise InputError(f"{name}: extractor must be a name, got {ext!r}")
    device = raw.get("device", "cpu")
    if not is_device_name(device):
        raise InputError(f"{name}: device must be {DEVICE_CHOICES}, got {device!r}")
    cache = raw.get("cache", False)
    if not isinstance(cache, bool):
        raise InputError(f"{name}: cache must be true or false (without quotes), got {cache!r}")
    title = raw.get("title", Path(name).stem)
    if not isinstance(title, str):
        raise InputError(f"{name}: title must be a string, got {title!r}")
    preprocessing = _preprocessing(raw.get("preprocessing"), ext, name)
    return {
        "title": str(title),
        "seed": _seed(raw.get("seed", 0), f"{name} seed"),
        "threads": _int(raw.get("threads", 1), f"{name} threads", 1),
        "device": device,
        "extractor": ext,
        "on_inapplicable": on,
        "cache": cache,
        "batch_size": _int(raw.get("batch_size", 50), f"{name} batch_size", 1),
        "preprocessing": preprocessing,
    }


def _preprocessing(value: Any, extractor: str, name: str) -> str | None:
    """The ``preprocessing`` key: a mode of the named extractor (it needs one named)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name}: preprocessing must be a name, got {value!r}")
    from ..features.catalog import extractor_catalog

    if extractor in ("auto", "identity"):
        raise InputError(
            f"{name}: preprocessing = {value!r} needs the extractor it applies to named (e.g. extractor = "
            f'"inception"); extractor is {extractor!r}'
        )
    modes = {e.name: e.preprocessing for e in extractor_catalog()}.get(extractor.partition(":")[0])
    if modes is not None and value not in modes:
        raise InputError(
            f"{name}: preprocessing {value!r} is not a mode of the {extractor} extractor; known: {', '.join(modes)}"
        )
    return value


def _protocol_name(raw: dict[str, Any], name: str) -> str | None:
    """The ``protocol`` key, checked before anything else is read."""
    if "protocol" not in raw:
        return None
    from ..protocols import get_protocol

    try:
        return get_protocol(raw["protocol"]).name
    except GanevalError as exc:
        raise InputError(f"{name}: {exc}") from None


def _apply_protocol(
    protocol: str, metrics: dict[str, dict[str, Any]], settings: dict[str, Any], name: str, *, given: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The metrics and settings under ``protocol``, planned as :func:`ganeval.evaluate`
    plans them (:func:`ganeval.protocols.plan`): the spec's [metrics] must be the
    protocol's, and its extractor, preprocessing and options agree with the preset's."""
    from ..protocols import Chunks, plan

    try:
        passes = plan(
            protocol,
            list(metrics) if given else None,
            extractor=settings["extractor"],
            preprocessing=settings["preprocessing"],
            options={m: o for m, o in metrics.items() if o},
        )
    except GanevalError as exc:
        raise InputError(f"{name}: {exc}") from None
    if len(passes) != 1:
        parts = "; ".join(f"{', '.join(p.keys.values())} on {p.extractor}" for p in passes)
        first = ", ".join(f"{m} = {{}}" for m in passes[0].metrics)
        raise InputError(
            f"{name}: protocol {protocol!r} reads its inputs with {len(passes)} extractors ({parts}); a report "
            f"reads each input with one: give [metrics] {first} for the {passes[0].extractor} pass, or run "
            f"`ganeval eval --protocol {protocol}` for all"
        )
    (ps,) = passes
    # options fixed per sample count (ADM's IS splits) are left to evaluate(protocol=), per candidate
    planned = {m: {k: v for k, v in ps.options[m].items() if not isinstance(v, Chunks)} for m in ps.metrics}
    metrics = {m: planned[m] for m in metrics}
    return metrics, {**settings, "extractor": ps.extractor, "preprocessing": ps.preprocessing, "protocol": protocol}


def protocol_metrics(raw: Any) -> tuple[Any, dict[str, dict[str, Any]]] | None:
    """The protocol a spec table (``report.json``'s ``spec``) names, and the options it runs
    each metric with (options fixed per sample count shown as their rule); None when the
    table names no protocol, or one this ganeval does not plan."""
    from ..protocols import get_protocol, plan

    if not isinstance(raw, dict) or "protocol" not in raw:
        return None
    try:
        p = get_protocol(raw["protocol"])
        asked = list(raw["metrics"]) if isinstance(raw.get("metrics"), dict) else None
        passes = plan(p, asked)
    except GanevalError:
        return None
    return p, {m: dict(ps.options[m]) for ps in passes for m in ps.metrics}


def _check_train_keys(table: dict[str, Any], where: str) -> None:
    import dataclasses

    from ..reference.config import TrainConfig

    allowed = tuple(f.name for f in dataclasses.fields(TrainConfig)) + _TRAIN_EXTRA
    _check_keys(table, allowed, f"{where} train")
    if "data" not in table or "loss" not in table:
        raise InputError(f'{where} train: needs data = "..." and loss = "..."')
