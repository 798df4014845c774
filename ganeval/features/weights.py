"""Finding, downloading, hashing and loading the FID Inception weights.

Resolution order (:func:`resolve_weights`):

1. an explicit path (``--weights PATH``), else the ``GANEVAL_INCEPTION_WEIGHTS`` variable;
2. the torch hub cache file ``<torch.hub.get_dir()>/checkpoints/pt_inception-2015-12-05-6726825d.pth``,
   the file pytorch-fid caches, so its users work offline;
3. a download of that file from pytorch-fid's release to the same place, its sha256 checked,
   written to a temporary file and renamed into place only when the hash matches;
4. otherwise one :class:`~ganeval.errors.WeightsError` that says where to put the file and that
   ``--extractor digits`` works offline.

The weights are the TF ``inception-2015-12-05`` graph ported by pytorch-fid (Heusel et al.
2017, arXiv:1706.08500). Files are always read with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError

__all__ = [
    "FID_WEIGHTS_URL",
    "FID_WEIGHTS_FILENAME",
    "FID_WEIGHTS_SHA256",
    "WEIGHTS_ENV_VAR",
    "hub_cache_path",
    "resolve_weights",
    "download_weights",
    "file_sha256",
    "load_weights_file",
    "hf_hub_cache_dir",
    "hf_cached_file",
    "resolve_model_weights",
    "load_state_dict_file",
    "is_torchscript_archive",
    "read_torchscript_state_dict",
]

logger = logging.getLogger(__name__)

FID_WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FID_WEIGHTS_FILENAME
# sha256 of that file (95,628,359 bytes); torch.hub's check_hash compares its first 8 hex
# digits with the "6726825d" in the file name, we compare all 64.
FID_WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
WEIGHTS_ENV_VAR = "GANEVAL_INCEPTION_WEIGHTS"

Fetch = Callable[[str, Path], None]
"""A download function: ``fetch(url, destination)`` writes the bytes at ``url`` to ``destination``."""

_CHUNK = 1 << 20
_sha_cache: dict[tuple[str, int, int], str] = {}


def hub_cache_path() -> Path:
    """Where torch.hub (and pytorch-fid) cache the FID Inception weights.

    Examples
    --------
    >>> hub_cache_path().name
    'pt_inception-2015-12-05-6726825d.pth'
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILENAME


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, cached per (resolved path, mtime, size).

    Used for the feature-cache key and recorded in results, so a changed weights file is never
    mistaken for the old one.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "x.bin")
    ...     _ = open(p, "wb").write(b"abc")
    ...     file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    p = Path(path)
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
        if key in _sha_cache:
            return _sha_cache[key]
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read weights file ({exc.strerror or exc})") from None
    digest = h.hexdigest()
    _sha_cache[key] = digest
    return digest


def _urllib_fetch(url: str, dest: Path) -> None:
    """Default download: stream ``url`` into ``dest`` with urllib (60 s socket timeout)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:
        while chunk := resp.read(_CHUNK):
            out.write(chunk)


def download_weights(
    dest: str | Path | None = None,
    *,
    url: str = FID_WEIGHTS_URL,
    sha256: str | None = None,
    fetch: Fetch | None = None,
) -> Path:
    """Download the weights to ``dest``, check the sha256, and only then move them into place.

    The bytes go to a temporary file in ``dest``'s folder, which is renamed to ``dest``
    (``os.replace``, atomic on one file system) when its sha256 matches, and deleted otherwise:
    ``dest`` is never left half-written.

    Parameters
    ----------
    dest : str or Path, optional
        Target file; default :func:`hub_cache_path`.
    url : str, default=FID_WEIGHTS_URL
        pytorch-fid's release asset.
    sha256 : str, optional
        Expected hex digest; default :data:`FID_WEIGHTS_SHA256`.
    fetch : callable, optional
        ``fetch(url, path)`` writing the bytes to ``path``; default streams with urllib.
        Tests pass a fake one (no test touches the network).

    Raises
    ------
    WeightsError
        The download failed or its hash differs (the message gives both hashes).

    Examples
    --------
    >>> import hashlib, tempfile, pathlib
    >>> data = b"weights"
    >>> def fake_fetch(url, path):
    ...     pathlib.Path(path).write_bytes(data)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = download_weights(pathlib.Path(d) / "w.pth", sha256=hashlib.sha256(data).hexdigest(), fetch=fake_fetch)
    ...     p.read_bytes()
    b'weights'
    """
    dest = Path(dest) if dest is not None else hub_cache_path()
    sha256 = sha256 or FID_WEIGHTS_SHA256
    fetch = fetch or _urllib_fetch
    from ..atomic import check_output_path
    from ..errors import ParameterError

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest = check_output_path(dest, "weights file")  # through a symlink; never over a device
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
    except ParameterError as exc:
        raise WeightsError(str(exc)) from None
    except OSError as exc:
        raise WeightsError(f"{dest}: cannot write the downloaded weights there ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        logger.info("downloading %s to %s", url, dest)
        try:
            fetch(url, tmp)
        except WeightsError:
            raise
        except Exception as exc:  # network errors come in many types (URLError, OSError, timeouts)
            raise WeightsError(f"download of {url} failed ({exc})") from None
        got = hashlib.sha256()
        with open(tmp, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                got.update(chunk)
        if got.hexdigest() != sha256:
            raise WeightsError(f"download of {url} has sha256 {got.hexdigest()}, expected {sha256}; nothing was saved")
        try:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except OSError as exc:
            raise WeightsError(
                f"{dest}: cannot move the downloaded weights into place ({exc.strerror or exc})"
            ) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def _not_found_message(cache: Path, reason: str) -> str:
    return (
        f"FID Inception weights not found ({reason}): pass --weights PATH, set {WEIGHTS_ENV_VAR}, "
        f"or put {FID_WEIGHTS_FILENAME} (sha256 {FID_WEIGHTS_SHA256}, from {FID_WEIGHTS_URL}) at {cache}; "
        f"`--extractor digits` works offline without it"
    )


def check_state_dict_keys(expected: Any, given: Any, source: Any, what: str, *, optional: Any = ()) -> None:
    """Raise a :class:`WeightsError` naming ``source`` unless the keys ``given`` are those
    ``expected`` (``optional`` ones may be missing), e.g. ``"x.pth: not DINOv2 weights: 3
    missing key(s), first 'norm.weight'"``."""
    missing = sorted(set(expected) - set(given) - set(optional))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s), first {missing[0]!r}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s), first {unexpected[0]!r}")
        raise WeightsError(f"{source}: not {what} weights: {'; '.join(parts)}")


def _explicit_weights(path: str | os.PathLike | None, env_var: str, what: str) -> Path | None:
    """The weights file named by ``--weights`` (``path``) or else ``$env_var``; None when
    neither names one. A named file that is missing is a :class:`WeightsError`."""
    explicit, origin = (path, "--weights") if path is not None else (os.environ.get(env_var) or None, env_var)
    if explicit is None:
        return None
    p = Path(explicit).expanduser()
    if not p.is_file():
        state = "does not exist" if not p.exists() else "is not a file"
        raise WeightsError(f"{p}: {what}weights file given by {origin} {state}")
    return p


def resolve_weights(path: str | Path | None = None, *, download: bool = True, fetch: Fetch | None = None) -> Path:
    """The FID Inception weights file to use, found in the documented order.

    1. ``path`` (``--weights``), else the environment variable ``GANEVAL_INCEPTION_WEIGHTS``:
       used as given (no hash requirement, so fine-tuned or converted weights work; their
       sha256 is recorded in results); it must exist.
    2. ``<torch.hub.get_dir()>/checkpoints/pt_inception-2015-12-05-6726825d.pth`` if present;
       its sha256 must equal :data:`FID_WEIGHTS_SHA256`.
    3. If ``download``: :func:`download_weights` to that cache path (hash-checked, atomic).
    4. Else, or if the download fails: :class:`WeightsError` saying where to put the file.

    Parameters
    ----------
    path : str or Path, optional
        Explicit weights file.
    download : bool, default=True
        Whether step 3 may run.
    fetch : callable, optional
        Download function for step 3 (see :func:`download_weights`).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "w.pth"
    ...     _ = p.write_bytes(b"x")
    ...     resolve_weights(p) == p
    True
    """
    explicit = _explicit_weights(path, WEIGHTS_ENV_VAR, "")
    if explicit is not None:
        return explicit
    cache = hub_cache_path()
    if cache.is_file():
        digest = file_sha256(cache)
        if digest != FID_WEIGHTS_SHA256:
            raise WeightsError(
                f"{cache}: sha256 is {digest}, expected {FID_WEIGHTS_SHA256}; delete the file "
                f"(it will be downloaded again) or pass --weights PATH"
            )
        return cache
    if not download:
        raise WeightsError(_not_found_message(cache, "downloads disabled"))
    try:
        return download_weights(cache, fetch=fetch)
    except WeightsError as exc:
        raise WeightsError(_not_found_message(cache, str(exc))) from None


def load_weights_file(path: str | Path) -> dict[str, Any]:
    """Read a state dict with ``torch.load(..., weights_only=True)`` onto the CPU.

    Raises :class:`WeightsError` naming the file when it is missing, not a torch file, holds
    anything but plain tensors/containers (``weights_only`` refuses arbitrary pickles), or is
    not a mapping.

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "w.pth"
    ...     torch.save({"a": torch.ones(2)}, p)
    ...     load_weights_file(p)["a"]
    tensor([1., 1.])
    """
    p = Path(path)
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{p}: weights file does not exist") from None
    except IsADirectoryError:
        raise WeightsError(f"{p}: weights path is a directory, not a file") from None
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, zip errors...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{p}: cannot be read as a torch weights file ({first[:200]})") from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{p}: expected a state dict (a mapping of names to tensors), got {type(obj).__name__}")
    return obj


# --- weights of the optional ViT extractors (DINOv2, CLIP): found on disk, never downloaded ---


def hf_hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder, as ``huggingface_hub`` chooses it (read only here).

    ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
    ``~/.cache/huggingface/hub``.

    Examples
    --------
    >>> hf_hub_cache_dir().name
    'hub'
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def hf_cached_file(repo_id: str, filename: str, cache: Path | None = None) -> tuple[Path, Path | None]:
    """Where the hub cache would hold ``filename`` of model ``repo_id``, and the file if it is there.

    The hub cache layout is ``models--ORG--NAME/snapshots/<commit>/<filename>`` with
    ``refs/main`` naming the commit; the snapshot of ``refs/main`` is preferred, else the
    newest snapshot holding the file. Nothing is downloaded and no network is touched.

    Returns
    -------
    (folder looked in, file or None)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     snap = pathlib.Path(d) / "models--org--net" / "snapshots" / "abc"
    ...     snap.mkdir(parents=True)
    ...     _ = (snap / "model.safetensors").write_bytes(b"x")
    ...     hf_cached_file("org/net", "model.safetensors", pathlib.Path(d))[1].parent.name
    'abc'
    """
    root = (cache if cache is not None else hf_hub_cache_dir()) / ("models--" + repo_id.replace("/", "--"))
    snapshots = root / "snapshots"
    ref = root / "refs" / "main"
    try:
        commit = ref.read_text().strip() if ref.is_file() else None
        if commit and (snapshots / commit / filename).is_file():
            return snapshots / "<main>", snapshots / commit / filename
        candidates = (
            [s / filename for s in snapshots.iterdir() if (s / filename).is_file()] if snapshots.is_dir() else []
        )
    except OSError:
        candidates = []
    if candidates:
        return snapshots, max(candidates, key=lambda p: p.stat().st_mtime_ns)
    return snapshots / "*", None


def resolve_model_weights(
    path: str | Path | None,
    *,
    what: str,
    env_var: str,
    hf_files: Sequence[tuple[str, str]] = (),
    hub_files: Sequence[str] = (),
    other_files: Sequence[Path] = (),
) -> Path:
    """The weights file of an optional extractor, found on disk in the documented order.

    1. ``path`` (``--weights``), else the environment variable ``env_var``: used as given
       (it must exist; converted or fine-tuned weights are fine; the sha256 is recorded);
    2. the Hugging Face hub cache: each ``(repo_id, filename)`` of ``hf_files`` in turn
       (see :func:`hf_cached_file`);
    3. the torch hub cache ``<torch.hub.get_dir()>/checkpoints/<name>`` for each of ``hub_files``
       (where ``torch.hub.load`` users, e.g. dgm-eval's, have the file), then ``other_files``;
    4. otherwise one :class:`WeightsError` listing every place looked in.

    Nothing is ever downloaded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "w.pth"
    ...     _ = p.write_bytes(b"x")
    ...     resolve_model_weights(p, what="DINOv2", env_var="NOPE") == p
    True
    """
    explicit = _explicit_weights(path, env_var, f"{what} ")
    if explicit is not None:
        return explicit
    looked = ["--weights (not given)", f"${env_var} (not set)"]
    for repo_id, filename in hf_files:
        where, found = hf_cached_file(repo_id, filename)
        if found is not None:
            logger.info("%s weights from the Hugging Face hub cache: %s", what, found)
            return found
        looked.append(str(where / filename))
    for name in hub_files:
        p = Path(torch.hub.get_dir()) / "checkpoints" / name
        if p.is_file():
            logger.info("%s weights from the torch hub cache: %s", what, p)
            return p
        looked.append(str(p))
    for p in other_files:
        p = Path(p).expanduser()
        if p.is_file():
            logger.info("%s weights: %s", what, p)
            return p
        looked.append(str(p))
    raise WeightsError(f"{what} weights not found (nothing is downloaded); looked in: {'; '.join(looked)}")


def load_state_dict_file(path: str | Path) -> dict[str, Any]:
    """A state dict from a ``.safetensors`` file, a TorchScript archive or a torch file.

    Torch files are read with ``weights_only=True``; TorchScript archives (OpenAI's CLIP
    ``.pt``) with :func:`read_torchscript_state_dict`, which runs no code. A torch file
    holding ``{"state_dict": ...}`` or ``{"model": ...}`` is unwrapped.
    Errors are :class:`WeightsError` naming the file.
    """
    p = Path(path)
    if p.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:  # pragma: no cover - safetensors comes with timm
            raise WeightsError(
                f"{p}: reading .safetensors needs the safetensors package (pip install safetensors)"
            ) from None
        try:
            return dict(load_file(str(p), device="cpu"))
        except Exception as exc:  # safetensors raises its own error types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WeightsError(f"{p}: cannot be read as a safetensors file ({first[:200]})") from None
    if p.is_file() and is_torchscript_archive(p):  # OpenAI's CLIP .pt files (clip package, torch-fidelity)
        return read_torchscript_state_dict(p)
    obj = load_weights_file(p)
    for key in ("state_dict", "model"):
        if set(obj) == {key} and isinstance(obj[key], dict):
            return obj[key]
    return obj


# --- TorchScript archives (OpenAI's CLIP .pt files): tensors read without running any code ---

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "DoubleStorage": torch.float64,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class _ScriptObject:
    """Stand-in for a TorchScript module object: only its attributes are kept (no code)."""

    def __init__(self, *args: Any) -> None:
        self.attributes: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.attributes = dict(state) if isinstance(state, dict) else {}


def _rebuild_tensor(flat: torch.Tensor, offset: int, size: Any, stride: Any, *rest: Any) -> torch.Tensor:
    return torch.as_strided(flat, tuple(size), tuple(stride), int(offset)).clone()


def is_torchscript_archive(path: str | Path) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with ``*/data.pkl`` and ``*/code/``)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return any(n.endswith("/data.pkl") for n in names) and any("/code/" in n for n in names)


def read_torchscript_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The named tensors of a TorchScript archive (e.g. OpenAI's ``ViT-L-14-336px.pt``), read safely.

    The archive's ``data.pkl`` is unpickled with a restricted unpickler that accepts only
    TorchScript module objects (kept as plain attribute dicts: no TorchScript code is loaded
    or run), ``OrderedDict``, storage types and the tensor rebuild function; tensor bytes are
    read from the archive's ``data/`` records. Names follow the module tree
    (``visual.conv1.weight``, ...), as ``torch.jit.load(path).state_dict()`` gives them.
    """
    import io
    import pickle
    import sys
    import zipfile
    from collections import OrderedDict

    p = Path(path)
    if sys.byteorder != "little":  # pragma: no cover - every current platform is little-endian
        raise WeightsError(f"{p}: reading TorchScript archives needs a little-endian machine")
    try:
        z = zipfile.ZipFile(p)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WeightsError(f"{p}: cannot be read as a TorchScript archive ({exc})") from None
    with z:
        pkl = next((n for n in z.namelist() if n.endswith("/data.pkl")), None)
        if pkl is None:
            raise WeightsError(f"{p}: not a TorchScript archive (no data.pkl)")
        root = pkl[: -len("data.pkl")]

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module == "__torch__" or module.startswith("__torch__."):
                    return _ScriptObject
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return _rebuild_tensor
                if (module, name) == ("collections", "OrderedDict"):
                    return OrderedDict
                if module == "torch" and name in _STORAGE_DTYPES:
                    return _STORAGE_DTYPES[name]
                raise pickle.UnpicklingError(f"refused global {module}.{name}")

            def persistent_load(self, pid: Any) -> torch.Tensor:
                if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
                    raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
                dtype, key = pid[1], str(pid[2])
                raw = bytearray(z.read(f"{root}data/{key}"))
                return torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)

        try:
            obj = _Unpickler(io.BytesIO(z.read(pkl))).load()
        except Exception as exc:  # a refused global, a damaged record, a missing member
            raise WeightsError(f"{p}: cannot read the TorchScript archive's tensors ({str(exc)[:200]})") from None
    out: dict[str, torch.Tensor] = {}

    def walk(o: Any, prefix: str) -> None:
        for k, v in o.attributes.items():
            if isinstance(v, torch.Tensor):
                out[prefix + k] = v
            elif isinstance(v, _ScriptObject):
                walk(v, prefix + k + ".")

    if not isinstance(obj, _ScriptObject):
        raise WeightsError(f"{p}: the TorchScript archive holds no module")
    walk(obj, "")
    return out
