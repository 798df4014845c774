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

from ..errors import InputError
from .base import StatsSource
from ..statistics import load_stats_file

__all__ = ["reference_names", "open_reference_stats", "open_published"]

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

        src = stats_from_pickle(path)
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
