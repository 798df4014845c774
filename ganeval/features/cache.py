"""The feature cache: extracted features kept on disk, keyed by what made them.

An entry is one ``.npz`` (``features``, optional ``logits``, ``skipped``, ``info`` as a JSON
string; no pickles) in the cache folder, named by the sha256 of

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
that cannot be read is ignored (and rebuilt by the caller). A cache that cannot be written
only logs a warning.
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

__all__ = ["cache_dir", "cache_key", "load_entry", "store_entry", "CACHE_VERSION"]

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


def cache_key(fingerprint: str, extractor: str, weights_sha256: str | None, preprocessing: str | None,
              precision: str | None = None) -> str:
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


def load_entry(key: str) -> dict[str, Any] | None:
    """The cached entry ``key`` as ``{"features", "logits", "skipped", "info"}``, or None when
    it is missing or unreadable (an unreadable entry is logged and left to be rewritten)."""
    path = _entry_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            features = np.asarray(data["features"], dtype=np.float64)
            logits = np.asarray(data["logits"], dtype=np.float64) if "logits" in data.files else None
            skipped = int(data["skipped"])
            info = json.loads(str(data["info"]))
        if features.ndim != 2 or features.shape[0] == 0 or not np.isfinite(features).all():
            raise ValueError(f"bad features array of shape {features.shape}")
        if logits is not None and (logits.ndim != 2 or logits.shape[0] != features.shape[0]):
            raise ValueError(f"bad logits array of shape {logits.shape}")
        if not isinstance(info, dict):
            raise ValueError("info is not a JSON object")
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable feature cache entry %s (%s: %s)", path, type(exc).__name__, exc)
        return None
    log.info("feature cache hit: %s", path)
    return {"features": features, "logits": logits, "skipped": skipped, "info": info}


def store_entry(key: str, features: np.ndarray, logits: np.ndarray | None, skipped: int,
                info: dict[str, Any]) -> Path | None:
    """Write entry ``key`` atomically; return its path, or None (logged) if it could not be written."""
    from ..atomic import atomic_write
    from ..errors import ParameterError

    folder = cache_dir()
    arrays: dict[str, Any] = {
        "features": np.asarray(features, dtype=np.float64),
        "skipped": np.array(int(skipped)),
        "info": np.array(json.dumps(info, sort_keys=True, default=str)),
    }
    if logits is not None:
        arrays["logits"] = np.asarray(logits, dtype=np.float64)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return atomic_write(_entry_path(key), lambda fh: np.savez(fh, **arrays), what="feature cache entry")
    except (OSError, ParameterError) as exc:
        log.warning("could not write the feature cache in %s (%s); continuing without it", folder, exc)
        return None
