"""Shipped reference statistics, named ``ref:NAME``.

Every ``reference_stats/<name>_stats.npz`` installed with the package (found with
:mod:`importlib.resources`, so it works from a wheel) is ``ref:<name>`` with underscores
written as hyphens: ``reference_stats/digits_test_stats.npz`` is ``ref:digits-test``.
Their provenance (sha256, the command that made them) is in ``reference_stats/manifest.json``.

Shipped now: ``ref:digits-train`` and ``ref:digits-test``, the 64-D digits-CNN features of
the two splits of ``builtin:digits`` (compare with ``--extractor digits`` inputs).

Any other ``ref:NAME`` is a published reference of the field (ADM, EDM, EDM2, clean-fid;
:mod:`ganeval.sources.published`), fetched once into the cache with its sha256 checked;
``ref:NAME@SHA256`` gives the hash to check when none is published.

They are opened here, among the sources, because a ``ref:NAME`` is an input like any other
(:func:`ganeval.sources.open_source` reads it); the files themselves are made by
:mod:`ganeval.features.digits_train`, and :mod:`ganeval.features` reads nothing from here.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..statistics import FeatureStats, load_stats_file
from .base import Source, StatsSource

__all__ = ["reference_names", "open_reference_stats", "open_published", "import_statistics", "ImportedStats"]

_SUFFIX = "_stats.npz"


def reference_names() -> dict[str, str]:
    """``{name: file name}`` of every shipped statistics file.

    Examples
    --------
    >>> reference_names()["digits-test"]
    'digits_test_stats.npz'
    """
    root = importlib.resources.files("ganeval.reference_stats")
    names = {}
    for entry in root.iterdir():
        if entry.name.endswith(_SUFFIX) and entry.is_file():
            names[entry.name[: -len(_SUFFIX)].replace("_", "-")] = entry.name
    return dict(sorted(names.items()))


def open_reference_stats(spec: str) -> StatsSource:
    """Open ``ref:NAME`` as a :class:`~ganeval.sources.base.StatsSource`.

    Examples
    --------
    >>> src = open_reference_stats("ref:digits-test")
    >>> src.stats.dim, src.stats.metadata["extractor"]
    (64, 'digits')
    >>> open_reference_stats("ref:nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ganeval.errors.InputError: ref:nope: unknown reference statistics 'nope'; known: digits-test, digits-train, adm-...
    """
    name = spec.split(":", 1)[1] if spec.startswith("ref:") else spec
    name, _, sha = name.partition("@")
    known = reference_names()
    if name not in known:
        from .published import published_references

        if name in published_references():
            return open_published(name, sha256=sha or None)
        everything = [*known, *published_references()]
        raise InputError(f"{spec}: unknown reference statistics {name!r}; known: {', '.join(everything) or '(none)'}")
    resource = importlib.resources.files("ganeval.reference_stats").joinpath(known[name])
    with importlib.resources.as_file(resource) as path:
        stats = load_stats_file(path)
    stats.metadata.setdefault("reference", f"ref:{name}")
    return StatsSource(f"ref:{name}", stats)


def open_published(name: str, *, sha256: str | None = None) -> StatsSource:
    """Fetch published reference ``name`` (:func:`ganeval.sources.published.fetch_reference`)
    and open it as statistics, recording the reference, its protocol, extractor and
    preprocessing in the metadata (where the file does not say them itself)."""
    from .published import fetch_reference, published_references

    ref = published_references()[name]
    path = fetch_reference(name, sha256=sha256)
    if path.suffix == ".pkl":
        from .pickles import stats_from_pickle

        src: Source = stats_from_pickle(path)
    else:
        from .arrays import open_npz

        src = open_npz(path)
    if not isinstance(src, StatsSource):
        raise InputError(f"ref:{name}: {path} holds {src.kind}, not statistics")
    for st in (src.stats, src.spatial):
        if st is not None:
            st.metadata.setdefault("extractor", ref.extractor)
            if ref.preprocessing is not None:
                st.metadata.setdefault("preprocessing", ref.preprocessing)
    for st in (src.stats, src.spatial, *src.alternatives):
        if st is not None:
            st.metadata.update(reference=f"ref:{name}", protocol=ref.protocol)
    return StatsSource(f"ref:{name}", src.stats, spatial=src.spatial, alternatives=src.alternatives)


@dataclass
class ImportedStats:
    """Statistics read from a reference file by :func:`import_statistics`: the moments, the
    spatial (sFID) moments when the file has them, and where they came from (``origin``:
    ``source``, ``path``, ``sha256`` of the file read, ``format``)."""

    stats: FeatureStats
    spatial: FeatureStats | None
    origin: dict[str, Any]


def import_statistics(spec: Any, *, extractor: str | None = None) -> ImportedStats:
    """Read the statistics of any reference file the field publishes.

    ganeval / pytorch-fid / clean-fid / EDM ``.npz`` (``mu``, ``sigma``), ADM reference batches
    (``mu``, ``sigma``, ``mu_s``, ``sigma_s``), EDM2 ``dataset-refs`` pickles (FID and FD_DINOv2
    moments; restricted unpickler), and ``ref:NAME``. The metadata of the returned statistics
    records the origin and the sha256 of the file read.

    Parameters
    ----------
    spec : str or path
        The file, or ``ref:NAME[@SHA256]``.
    extractor : str, optional
        Which moments to take from a file holding several (EDM2: ``"inception"`` for FID,
        ``"dinov2"`` for FD_DINOv2); default the file's FID moments. The spatial moments are
        kept only with the default (Inception) ones.

    Raises
    ------
    InputError
        The input is not a statistics file (images, feature rows: use ``ganeval stats``), or
        cannot be read.

    Examples
    --------
    >>> got = import_statistics("ref:digits-test")
    >>> got.stats.dim, got.origin["source"], len(got.origin["sha256"])
    (64, 'ref:digits-test', 64)
    """
    import os
    from pathlib import Path

    from . import open_source
    from .published import fetch_reference, file_sha256, published_references

    text = os.fspath(spec) if isinstance(spec, (str, os.PathLike)) else None
    if text is None:
        raise InputError(f"expected a statistics file or ref:NAME, got {type(spec).__name__}")
    src = open_source(text)
    if not isinstance(src, StatsSource):
        raise InputError(
            f"{src.name}: holds {src.kind}, not statistics; compute them with "
            f"`ganeval stats {text} -o OUT.npz` (add --spatial for sFID moments)"
        )
    origin: dict[str, Any] = {"source": text}
    if text.startswith("ref:"):
        name, _, sha = text[4:].partition("@")
        if name in reference_names():
            resource = importlib.resources.files("ganeval.reference_stats").joinpath(reference_names()[name])
            with importlib.resources.as_file(resource) as path:
                origin.update(path=str(path), sha256=file_sha256(Path(path)))
        else:
            ref = published_references()[name]
            path = fetch_reference(name, sha256=sha or None)
            origin.update(path=str(path), sha256=file_sha256(path), url=ref.url, protocol=ref.protocol)
    else:
        origin.update(path=str(Path(text).resolve()), sha256=file_sha256(Path(text)))
    stats = src.stats_for(extractor)
    spatial = src.spatial if stats is src.stats else None
    for st in (stats, spatial):
        if st is not None:
            st.metadata.update({f"origin_{k}": v for k, v in origin.items()})
    fmt = stats.metadata.get("format")
    if fmt is not None:
        origin["format"] = fmt
    return ImportedStats(stats, spatial, origin)
