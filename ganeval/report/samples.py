"""The inputs of a report spec read as :class:`Sample` objects: the real input, and each
candidate once per seed (a file or ``builtin:`` set, disturbed digits, a training run, a
reference checkpoint's samples, a generator's samples).

A sample holds the input's features (:class:`ganeval.features.inputs.Features`), the
fingerprint the report records for it, and what the figures show of it (sample images,
2-D points, training curves). :func:`ganeval.report.engine.run_spec` reads every input
through :func:`read_real` and :func:`read_candidate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from .provenance import array_sha256, file_sha256, input_fingerprint
from .spec import CandidateSpec, ReportSpec

__all__ = ["Sample", "feature_options", "read_real", "read_candidate"]


@dataclass
class Sample:
    """One input as read: features, and what the figures show of it."""

    name: str
    seed: int | None
    features: Any  # ganeval.features.inputs.Features
    fingerprint: dict[str, Any]
    images: np.ndarray | None = None  # up to 64 uint8 (n, H, W, 3)
    points: np.ndarray | None = None  # up to 2,000 2-D rows
    table_input: str | None = None  # the input spec, for nested-f1
    train: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    generator: str | None = None  # the factory a generator candidate sampled (for metrics that sample it)


def feature_options(spec: ReportSpec) -> dict[str, Any]:
    """How the spec's image inputs become features (batch size, device, cache; no progress bar)."""
    return {
        "batch_size": spec.batch_size,
        "device": spec.device,
        "cache": spec.cache,
        "progress": False,
        "num_workers": 0,
        **spec.feature_options,
    }


def read_real(spec: ReportSpec) -> Sample:
    """The spec's ``[real]`` input."""
    return _open_input(spec.real["input"], spec, spec.real.get("name", spec.real["input"]), None)


def read_candidate(
    c: CandidateSpec, spec: ReportSpec, seed: int, runs_dir: Path, slug: str, timed: Callable[[str, Callable], Any]
) -> Sample:
    """Candidate ``c`` at ``seed``, each step run through ``timed(description, fn)``: a
    training run (trained into ``runs_dir/SLUG-seedN``, then its samples read), a
    checkpoint's or a generator's samples, or an input read as it is (disturbed if asked)."""
    if c.kind == "train":
        path, tinfo = timed(f"train {c.name} seed {seed}", lambda: _train(c, spec, seed, runs_dir, slug))
        return timed(f"read {c.name} seed {seed}", lambda: _sample_of_run(path, c, spec, seed, tinfo))
    if c.kind == "checkpoint":
        return timed(f"generate {c.name} seed {seed}", lambda: _checkpoint(c, spec, seed))
    if c.kind == "generator":
        return timed(f"generate {c.name} seed {seed}", lambda: _generator(c, spec, seed))
    return timed(f"read {c.name}", lambda: _open_input(c.value, spec, c.name, seed, c.disturb))


def _load(
    source: Any,
    spec: ReportSpec,
    name: str,
    seed: int | None,
    fingerprint: dict[str, Any],
    table_input: str | None = None,
) -> Sample:
    """Features of an opened source, and the images / points for the figures."""
    from ..features.inputs import features_of

    feats = features_of(source, extractor=spec.extractor, **feature_options(spec))
    images = points = None
    if getattr(source, "kind", None) == "images":
        images = _first_images(source)
    if feats.rows is not None and feats.rows.shape[1] == 2:
        points = feats.rows[:2000]
    return Sample(name, seed, feats, fingerprint, images=images, points=points, table_input=table_input)


def _first_images(source: Any, n: int = 64) -> np.ndarray | None:
    arr = getattr(source, "images", None)
    if isinstance(arr, np.ndarray):
        return np.moveaxis(arr[:n], 1, -1)
    if getattr(source, "random_access", False):
        return np.stack([source.read(i) for i in range(min(n, len(source)))])
    return None


def _open_input(
    value: str, spec: ReportSpec, name: str, seed: int | None, disturb: dict[str, Any] | None = None
) -> Sample:
    from ..sources import open_source

    resolved = spec.resolve(value)
    if disturb is not None:
        return _disturbed(resolved, spec, name, seed, disturb)
    src = open_source(resolved)
    return _load(src, spec, name, seed, input_fingerprint(resolved, src), table_input=resolved)


def _disturbed(value: str, spec: ReportSpec, name: str, seed: int | None, disturb: dict[str, Any]) -> Sample:
    from ..features.digits import digits_images
    from ..sources.builtin import load_builtin
    from ..sources.images import ArrayImageSource
    from .disturb import disturb_digits

    if not value.startswith("builtin:digits") or value.startswith("builtin:digits-"):
        raise InputError(f"candidate {name!r}: disturb applies to builtin:digits[/train|/test] only, got {value!r}")
    split = value.partition("/")[2] or None
    data, idx = load_builtin("digits", split)
    if data.labels is None:
        raise DataError("builtin:digits: the bundled set has no labels")
    imgs, info = disturb_digits(
        digits_images(split),
        data.labels[idx],
        disturb["kind"],
        int(disturb.get("level", 1)),
        seed=int(disturb.get("seed", 0)),
        train_images=digits_images("train"),
    )
    src = ArrayImageSource(
        f"{value} ({info['kind']} level {info['level']})", imgs, preferred_extractor="digits", cacheable=False
    )
    fp = {"input": value, "kind": "data", "sha256": array_sha256(imgs), "disturb": info}
    return _load(src, spec, name, seed, fp)


def _rows_source(name: str, rows: np.ndarray, data: str):
    """Generated rows of reference data set ``data`` as a source (digits: images)."""
    from ..reference.datasets import TRAINABLE
    from ..reference.sampling import digit_images
    from ..sources.base import ArraySource
    from ..sources.images import ArrayImageSource

    if TRAINABLE.get(data) == "image":
        return ArrayImageSource(name, digit_images(rows), preferred_extractor="digits", cacheable=False)
    from ..sources import open_source

    columns = getattr(open_source(f"builtin:{data}"), "columns", None)
    return ArraySource(
        name,
        np.asarray(rows, dtype=np.float64),
        kind="features",
        columns=list(columns) if columns is not None and len(columns) == rows.shape[1] else None,
    )


def _checkpoint(c: CandidateSpec, spec: ReportSpec, seed: int) -> Sample:
    from ..reference.checkpoints import load_checkpoint
    from ..reference.sampling import generate

    path = Path(spec.resolve(c.value))
    if not path.is_file():
        raise InputError(f"candidate {c.name!r}: checkpoint {path} does not exist")
    if c.num_samples is None:
        raise InputError(f"candidate {c.name!r}: a checkpoint needs num_samples = N")
    state = load_checkpoint(path)
    data = state.get("config", {}).get("data")
    rows, _ = generate(state, c.num_samples, seed=seed, threads=spec.threads)
    src = _rows_source(f"{c.name} (seed {seed})", rows, data)
    fp = {"input": str(path), "kind": "file", "sha256": file_sha256(path), "samples_sha256": array_sha256(rows)}
    return _load(src, spec, c.name, seed, fp)


def _generator(c: CandidateSpec, spec: ReportSpec, seed: int) -> Sample:
    from ..generators import open_generator

    if c.num_samples is None:
        raise InputError(f"candidate {c.name!r}: a generator needs num_samples = N")
    src = open_generator(
        c.value,
        num_samples=c.num_samples,
        seed=seed,
        batch_size=c.batch_size,
        value_range=c.value_range,
        device=spec.device,
    )
    fp = {"input": c.value, "kind": "generator", "sha256": None}
    sample = _load(src, spec, c.name, seed, fp)
    sample.generator = c.value
    return sample


def _train(c: CandidateSpec, spec: ReportSpec, seed: int, runs_dir: Path, slug: str) -> tuple[Path, dict[str, Any]]:
    import json

    from ..reference.config import TrainConfig
    from ..reference.training import train

    cfg_kw = {k: v for k, v in c.value.items() if k != "seeds"}
    if "hidden" in cfg_kw and isinstance(cfg_kw["hidden"], list):
        cfg_kw["hidden"] = tuple(cfg_kw["hidden"])
    cfg_kw["seed"] = seed
    try:
        config = TrainConfig(**cfg_kw).validated()
    except TypeError as exc:
        raise InputError(f"candidate {c.name!r}: bad train table ({exc})") from None
    out = runs_dir / f"{slug}-seed{seed}"
    t0 = time.perf_counter()
    train(config, out, overwrite=True, threads=spec.threads)
    curves = []
    log_path = out / "metrics.jsonl"
    if log_path.exists():
        curves = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    samples = out / "samples.npy"
    info = {
        "dir": out,
        "config": config.to_dict(),
        "curves": curves,
        "train_s": round(time.perf_counter() - t0, 3),
        "samples_sha256": file_sha256(samples),
    }
    return samples, info


def _sample_of_run(path: Path, c: CandidateSpec, spec: ReportSpec, seed: int, tinfo: dict[str, Any]) -> Sample:
    from ..sources import open_source

    data = c.value["data"]
    arr = np.load(path, allow_pickle=False)
    if arr.ndim == 2:
        src = _rows_source(f"{c.name} (seed {seed})", arr, data)
    else:
        src = open_source(str(path), name=f"{c.name} (seed {seed})")
        if hasattr(src, "name"):
            src.name = f"{c.name} (seed {seed})"
    fp = {"input": f"train:{data}/{c.value['loss']}", "kind": "train", "sha256": tinfo["samples_sha256"]}
    sample = _load(src, spec, c.name, seed, fp)
    sample.train = tinfo
    return sample
