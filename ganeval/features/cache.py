"""The feature cache: extracted features kept on disk, keyed by what made them.

An entry is one ``.npz`` (``features``, optional ``logits``, optional extra outputs of the same
pass as ``extra_<name>`` (e.g. ``extra_spatial``, the Inception's sFID features), ``skipped``,
``info`` as a JSON string, ``rows`` and the sha256 ``checksum`` of features and logits; no
pickles) in the cache folder, named by the sha256 of

    source fingerprint (the folder, files' relative paths, sizes, mtimes, inode numbers and
    ctimes; zip members' names, sizes and CRCs; array bytes) + extractor name + weights sha256
    + preprocessing mode + cache format version (+ ``"tf32"`` for features a CUDA network
    computed with TF32 allowed; full-float32 features have no precision part).

A file edited in place keeps its inode but gets a new ctime (which no user can set back), so
the key changes even when its size and mtime were restored; docs/outputs-and-cache.md says
what the key does and does not notice.

The folder is ``$GANEVAL_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/ganeval``, else
``~/.cache/ganeval``. Entries are written atomically (a temporary file in the same folder,
then :func:`os.replace`), so an interrupted run never leaves a half-written entry; an entry
that cannot be read, whose rows do not match the stored count and checksum, or whose rows
and skipped images do not add up to the source's image count is ignored (and rebuilt by the
caller). A cache that cannot be written
only logs a warning.

Under ``torch.distributed`` (:func:`load_shared`, :func:`store_shared`) the ranks decide
together: they compare their keys (ranks that see different fingerprints, e.g. node-local
copies of a folder with other inode numbers, do not use the cache for that input), then
whether each has the entry. When every rank has it, each reads its own copy; when only some
do, the lowest such rank sends it to the others (no extraction); when none does, the
features are extracted (sharded) and stored. Each entry is written by one rank per cache
folder: every rank that lacks it tries to create a claim file
``.features-KEY.claim-JOBTOKEN`` with ``O_CREAT | O_EXCL`` in its cache folder, and only
the winner writes, so a shared cache folder gets one writer for the whole job and
node-local folders one each. A rank never reads a half-written entry: the write goes to a
temporary file renamed over the entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "cache_dir",
    "cache_key",
    "load_entry",
    "store_entry",
    "load_shared",
    "store_shared",
    "claim_entry",
    "entry_checksum",
    "CACHE_VERSION",
]

log = logging.getLogger(__name__)

#: bumped whenever the meaning of a cached entry changes
CACHE_VERSION = 3
# 2: folder fingerprints include inode and ctime
# 3: before it, features extracted on CUDA came from TF32 convolutions (PyTorch's default);
#    from 3 on they are full float32 unless TF32 is asked for, which has its own key, and
#    entries of 2 cannot tell a GPU's TF32 features from a CPU's float32 ones


def cache_dir() -> Path:
    """The cache folder (not created here).

    A ``~user`` in ``$GANEVAL_CACHE_DIR`` that names no user (or ``~`` without a home
    folder) raises :class:`~ganeval.errors.ParameterError` naming the variable.

    Examples
    --------
    >>> cache_dir().is_absolute() or "GANEVAL_CACHE_DIR" in os.environ
    True
    """
    env = os.environ.get("GANEVAL_CACHE_DIR")
    if env:
        try:
            return Path(env).expanduser()
        except RuntimeError:  # "Could not determine home directory"
            from ..errors import ParameterError

            user = env[1:].split("/", 1)[0]
            who = f"user {user!r} is unknown on this machine" if user else "the home folder is unknown"
            raise ParameterError(f"GANEVAL_CACHE_DIR={env!r}: {who}; set it to a folder path") from None
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ganeval"


def cache_key(
    fingerprint: str,
    extractor: str,
    weights_sha256: str | None,
    preprocessing: str | None,
    precision: str | None = None,
) -> str:
    """sha256 hex digest naming a cache entry.

    ``precision`` is None for features computed in full float32 (on a CPU, or on CUDA by
    default) and ``"tf32"`` for features a CUDA network computed with TF32 allowed, so the
    one is never handed back for the other.

    Examples
    --------
    >>> a = cache_key("fp", "digits", "abc", None)
    >>> len(a), a == cache_key("fp", "digits", "abc", None), a == cache_key("fp", "digits", "abd", None)
    (64, True, False)
    >>> a == cache_key("fp", "digits", "abc", None, precision="tf32")
    False
    """
    parts: list[Any] = [CACHE_VERSION, fingerprint, extractor, weights_sha256, preprocessing]
    if precision is not None:
        parts.append(precision)
    text = json.dumps(parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry_path(key: str) -> Path:
    return cache_dir() / f"features-{key}.npz"


def entry_checksum(features: np.ndarray, logits: np.ndarray | None) -> str:
    """sha256 of an entry's arrays (shapes and float64 bytes), stored with it and checked on read."""
    h = hashlib.sha256()
    for arr in (features, logits):
        if arr is not None:
            a = np.ascontiguousarray(arr, dtype=np.float64)
            h.update(f"{a.shape}".encode())
            h.update(a.data.cast("B"))
    return h.hexdigest()


def load_entry(key: str, expected_images: int | None = None) -> dict[str, Any] | None:
    """The cached entry ``key`` as ``{"features", "logits", "extras", "skipped", "info"}``, or
    None when it is missing, unreadable or does not hold what was stored (an entry is logged
    and left to be rewritten). ``extras`` maps each stored extra output name to its rows.

    Checked on read: the row count and sha256 stored with the entry (an entry rewritten with
    other or fewer rows, or without them, is refused) and, when ``expected_images`` (the
    source's image count) is given, ``rows + skipped == expected_images``.
    """
    path = _entry_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            features = np.asarray(data["features"], dtype=np.float64)
            logits = np.asarray(data["logits"], dtype=np.float64) if "logits" in data.files else None
            extras = {
                k[len("extra_") :]: np.asarray(data[k], dtype=np.float64) for k in data.files if k.startswith("extra_")
            }
            skipped = int(data["skipped"])
            info = json.loads(str(data["info"]))
            stored_rows = int(data["rows"]) if "rows" in data.files else None
            stored_sum = str(data["checksum"]) if "checksum" in data.files else None
        if features.ndim != 2 or features.shape[0] == 0 or not np.isfinite(features).all():
            raise ValueError(f"bad features array of shape {features.shape}")
        if logits is not None and (logits.ndim != 2 or logits.shape[0] != features.shape[0]):
            raise ValueError(f"bad logits array of shape {logits.shape}")
        for name, arr in extras.items():
            if arr.ndim != 2 or arr.shape[0] != features.shape[0] or not np.isfinite(arr).all():
                raise ValueError(f"bad {name!r} array of shape {arr.shape}")
        if not isinstance(info, dict):
            raise ValueError("info is not a JSON object")
        if stored_rows is None or stored_sum is None:
            raise ValueError("no row count or checksum stored (written by an older ganeval)")
        if features.shape[0] != stored_rows:
            raise ValueError(f"{features.shape[0]} rows where {stored_rows} were stored")
        if entry_checksum(features, logits) != stored_sum:
            raise ValueError("the arrays do not match the stored checksum")
        if expected_images is not None and features.shape[0] + skipped != expected_images:
            raise ValueError(f"{features.shape[0]} rows + {skipped} skipped for a source of {expected_images} images")
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable feature cache entry %s (%s: %s)", path, type(exc).__name__, exc)
        return None
    log.info("feature cache hit: %s", path)
    return {"features": features, "logits": logits, "extras": extras, "skipped": skipped, "info": info}


def store_entry(
    key: str,
    features: np.ndarray,
    logits: np.ndarray | None,
    skipped: int,
    info: dict[str, Any],
    extras: dict[str, np.ndarray] | None = None,
) -> Path | None:
    """Write entry ``key`` atomically; return its path, or None (logged) if it could not be written.

    ``extras``: further outputs of the same pass (``{"spatial": rows}``), stored as
    ``extra_<name>``."""
    from ..atomic import atomic_write
    from ..errors import ParameterError

    folder = cache_dir()
    features = np.asarray(features, dtype=np.float64)
    logits = None if logits is None else np.asarray(logits, dtype=np.float64)
    arrays: dict[str, Any] = {
        "features": features,
        "skipped": np.array(int(skipped)),
        "info": np.array(json.dumps(info, sort_keys=True, default=str)),
        "rows": np.array(int(features.shape[0])),
        "checksum": np.array(entry_checksum(features, logits)),
    }
    if logits is not None:
        arrays["logits"] = np.asarray(logits, dtype=np.float64)
    for name, arr in (extras or {}).items():
        arrays[f"extra_{name}"] = np.asarray(arr, dtype=np.float64)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return atomic_write(_entry_path(key), lambda fh: np.savez(fh, **arrays), what="feature cache entry")
    except (OSError, ParameterError) as exc:
        log.warning("could not write the feature cache in %s (%s); continuing without it", folder, exc)
        return None


def claim_entry(key: str, token: str) -> Path | None:
    """Try to become the one writer of entry ``key`` in this job (``token``, the same on
    every rank): create ``.features-KEY.claim-TOKEN`` in the cache folder with ``O_CREAT |
    O_EXCL``. Returns the claim file when this process won, None when another process
    holds it (or the folder cannot be written; logged).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"GANEVAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     first, second = claim_entry("k", "t"), claim_entry("k", "t")
    ...     first.unlink()
    >>> first is not None, second is None
    (True, True)
    """
    folder = cache_dir()
    path = folder / f".features-{key}.claim-{token}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    except OSError as exc:
        log.warning("could not write the feature cache in %s (%s); continuing without it", folder, exc)
        return None
    os.close(fd)
    return path


def _entry_arrays(entry: dict[str, Any]) -> dict[str, np.ndarray]:
    arrays = {"features": entry["features"]}
    if entry["logits"] is not None:
        arrays["logits"] = entry["logits"]
    for name, arr in entry.get("extras", {}).items():
        arrays[f"extra_{name}"] = arr
    return arrays


def load_shared(
    key: str | None, name: str, *, expected_images: int | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """:func:`load_entry` for every rank of a ``torch.distributed`` job at once (a
    collective: every rank calls it with its own key for input ``name``).

    Returns ``(entry, key)``: the entry on every rank or on none, and the key to store under
    later (None when the ranks' keys differ: the cache is then not used for this input). An
    entry only some ranks have is sent to the others, which store it in their cache folder
    (one writer per folder)."""
    from ..distributed import broadcast_arrays, broadcast_object, gather_objects, rank_and_world

    rank, _ = rank_and_world()
    keys = gather_objects(key, what=f"feature cache lookup of {name}")
    if key is None or len(set(keys)) > 1:
        if key is not None and rank == 0:
            log.warning(
                "%s: the ranks see different fingerprints (node-local copies with other inode "
                "numbers or times?); the feature cache is not used for it",
                name,
            )
        return None, None
    entry = load_entry(key, expected_images=expected_images)
    have = gather_objects(entry is not None, what=f"feature cache lookup of {name}")
    if all(have) or not any(have):
        return entry, key
    src = have.index(True)
    # rank ``src`` has the entry (have[src] is True)
    arrays = broadcast_arrays(
        _entry_arrays(entry) if rank == src and entry is not None else None,
        src,
        what=f"sending the cached features of {name}",
    )
    extra = broadcast_object(
        (entry["skipped"], entry["info"]) if rank == src and entry is not None else None,
        src,
        what=f"sending the cached features of {name}",
    )
    shared = {
        "features": arrays["features"],
        "logits": arrays.get("logits"),
        "skipped": extra[0],
        "info": extra[1],
        "extras": {k[len("extra_") :]: v for k, v in arrays.items() if k.startswith("extra_")},
    }
    store_shared(
        key,
        shared["features"],
        shared["logits"],
        shared["skipped"],
        shared["info"],
        wanted=entry is None,
        name=name,
        extras=shared["extras"],
    )
    return shared, key


def store_shared(
    key: str,
    features: np.ndarray,
    logits: np.ndarray | None,
    skipped: int,
    info: dict[str, Any],
    *,
    wanted: bool = True,
    name: str = "input",
    extras: dict[str, np.ndarray] | None = None,
) -> Path | None:
    """:func:`store_entry` with one writer per cache folder across a ``torch.distributed``
    job (a collective: every rank calls it; ``wanted=False`` on a rank that has the entry
    already). Every rank that wants it claims the entry (:func:`claim_entry`); once all have
    tried, the winners write. Without a process group it is :func:`store_entry`."""
    from ..distributed import gather_objects, is_distributed, job_token

    if not is_distributed():
        return store_entry(key, features, logits, skipped, info, extras) if wanted else None
    token = job_token()
    claim = claim_entry(key, token) if wanted else None
    # every rank has tried before any claim is released: no second writer can claim after
    writers = gather_objects(claim is not None, what=f"feature cache write of {name}")
    log.debug("%s: %d writer(s) of feature cache entry %s", name, sum(writers), key)
    if claim is None:
        return None
    try:
        return store_entry(key, features, logits, skipped, info, extras)
    finally:
        try:
            claim.unlink()
        except OSError:
            pass
