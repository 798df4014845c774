"""What a report records to be rerun: versions, machine, threads, and input fingerprints."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["environment", "machine_key", "file_sha256", "folder_sha256", "array_sha256", "input_fingerprint"]

_PACKAGES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "scipy": "scipy",
    "scikit-learn": "scikit-learn",
    "POT": "pot",
    "scikit-image": "scikit-image",
    "matplotlib": "matplotlib",
}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment(threads: int, device: str) -> dict[str, Any]:
    """Versions, platform, device and thread counts of this process.

    Examples
    --------
    >>> env = environment(1, "cpu")
    >>> sorted(env["versions"])[:3], env["threads"]
    (['POT', 'ganeval', 'matplotlib'], 1)
    """
    from ..version import __version__

    versions: dict[str, str | None] = {"ganeval": __version__, "python": platform.python_version()}
    versions.update({name: _version(dist) for name, dist in _PACKAGES.items()})
    return {
        "versions": versions,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "device": device,
        "threads": int(threads),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "python_executable": sys.executable,
    }


def machine_key(env: dict[str, Any]) -> list[Any]:
    """What must match for numbers to reproduce exactly: versions, platform, CPU, threads."""
    v = env.get("versions", {})
    return [v.get(k) for k in ("torch", "numpy", "scipy", "scikit-learn", "POT")] + [
        env.get("platform"),
        env.get("machine"),
        env.get("processor"),
        env.get("device"),
        env.get("threads"),
        env.get("env"),
    ]


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def folder_sha256(path: str | os.PathLike) -> str:
    """sha256 over every file under ``path`` (sorted relative paths and each file's sha256);
    independent of where the folder lies and of modification times."""
    root = Path(path)
    h = hashlib.sha256(b"folder-content\0")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    for p in files:
        h.update(f"{p.relative_to(root).as_posix()}\0{file_sha256(p)}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def array_sha256(arr: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes."""
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{arr.dtype.str}\0{arr.shape}\0".encode())
    h.update(arr.data.cast("B"))
    return h.hexdigest()


def input_fingerprint(spec: str, source: Any = None) -> dict[str, Any]:
    """Fingerprint of an input as the spec names it: sha256 of a file, of a folder's files,
    or (``builtin:``/``ref:``) of the data served; plus the source's own cache fingerprint
    (:meth:`~ganeval.sources.images.ImageSource.fingerprint`: paths, sizes, mtimes) when it has one."""
    out: dict[str, Any] = {"input": spec}
    if spec.startswith(("builtin:", "ref:")):
        out["kind"] = "data"
        out["sha256"] = _source_sha256(source) if source is not None else None
    else:
        p = Path(spec)
        if p.is_dir():
            out.update(kind="folder", sha256=folder_sha256(p))
        elif p.is_file():
            out.update(kind="file", sha256=file_sha256(p), size=p.stat().st_size)
        else:
            out.update(kind="missing", sha256=None)
    fp = getattr(source, "fingerprint", None)
    if callable(fp):
        try:
            out["source_fingerprint"] = fp()
        except Exception:
            out["source_fingerprint"] = None
    return out


def _source_sha256(source: Any) -> str | None:
    for attr in ("images", "array"):
        arr = getattr(source, attr, None)
        if isinstance(arr, np.ndarray):
            return array_sha256(arr)
    stats = getattr(source, "stats", None)
    if stats is not None:
        return array_sha256(np.concatenate([np.ravel(stats.mean), np.ravel(stats.cov)]))
    return None
