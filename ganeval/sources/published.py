"""Published reference statistics of the field, named ``ref:NAME`` and fetched once, hash-checked.

A paper's FID is computed against a fixed reference file: ADM's reference batches
(``guided-diffusion``, Dhariwal & Nichol 2021, arXiv:2105.05233), EDM's ``fid-refs``
(Karras et al. 2022, arXiv:2206.00364), EDM2's ``dataset-refs`` (Karras et al. 2024,
arXiv:2312.02696), clean-fid's statistics (Parmar et al. 2022, arXiv:2104.11222). Each is
registered here with its URL (as the reference repository documents it), the protocol, the
extractor and preprocessing its moments were made with, and its sha256 where one is known.

Fetching (:func:`fetch_reference`) follows the rule for weights: nothing is downloaded behind
the user's back without a hash check.

- The file goes to ``$GANEVAL_CACHE_DIR/references/`` (default ``~/.cache/ganeval/
  references``) and is downloaded once; a ``.json`` record beside it keeps its sha256, size
  and mtime, so later uses re-hash it only when the file changed.
- A download is announced on stderr (a ``WARNING`` log line naming the URL and the target,
  and one when it is done) and is refused when ``$GANEVAL_NO_DOWNLOAD`` is set (to anything
  but ``""``/``0``) or ``allow_download=False``.
- The sha256 is checked against the registered one. **None of the registered files has a
  published hash** (the reference repositories give only URLs), so for those the user passes
  the hash they trust: ``ref:NAME@SHA256`` (or ``sha256=`` in Python); without one the
  download is refused with a message that says so. A file put in the cache by hand is used
  only with a hash to check it against.

:func:`register_published_reference` adds an entry (a plug-in point, and how the tests point
an entry at a local HTTP server).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, ParameterError

__all__ = [
    "PublishedReference",
    "published_references",
    "register_published_reference",
    "fetch_reference",
    "reference_cache_dir",
    "downloads_allowed",
    "file_sha256",
]

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PublishedReference:
    """One published reference file.

    Attributes
    ----------
    name : str
        ``ref:NAME``.
    url : str
        Where the reference repository says the file is.
    sha256 : str or None
        Its sha256, when published; None: the user must give one to download it.
    protocol : str
        ``"adm"``, ``"edm"``, ``"edm2"``, ``"clean-fid"``.
    extractor, preprocessing : str, str or None
        How its (default) moments were made, in ganeval's names; recorded in the statistics'
        metadata so they are not compared with features made otherwise.
    description : str
    documented_in : str
        The file of the reference repository that gives the URL.
    """

    name: str
    url: str
    sha256: str | None
    protocol: str
    extractor: str
    preprocessing: str | None
    description: str
    documented_in: str

    @property
    def filename(self) -> str:
        """Cache file name: ``NAME`` plus the URL's suffix (``.npz``/``.pkl``)."""
        return self.name + Path(self.url.split("?", 1)[0]).suffix.lower()


_ADM_DOC = "openai/guided-diffusion evaluations/README.md"
_ADM_URL = "https://openaipublic.blob.core.windows.net/diffusion/jul-2021/ref_batches/imagenet"
_EDM_DOC = "NVlabs/edm README.md, fid.py"
_EDM2_DOC = "NVlabs/edm2 calculate_metrics.py, README.md"
_CLEAN_DOC = "GaParmar/clean-fid cleanfid/features.py (get_reference_statistics)"
_CLEAN_URL = "https://www.cs.cmu.edu/~clean-fid/stats"

_REGISTRY: dict[str, PublishedReference] = {}


def register_published_reference(ref: PublishedReference) -> None:
    """Add (or replace) a published reference, usable as ``ref:NAME`` afterwards.

    Examples
    --------
    >>> register_published_reference(PublishedReference(
    ...     "my-refs", "https://example.org/my.npz", None, "clean-fid", "inception", "clean", "mine", "me"))
    >>> published_references()["my-refs"].filename
    'my-refs.npz'
    >>> _ = _REGISTRY.pop("my-refs")
    """
    if not isinstance(ref, PublishedReference):
        raise ParameterError(f"expected a PublishedReference, got {type(ref).__name__}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", ref.name):
        raise ParameterError(f"reference name must be lower-case letters, digits, '.', '_' or '-', got {ref.name!r}")
    if not ref.url.startswith(("https://", "http://")):
        raise ParameterError(f"url of {ref.name!r} must be http(s), got {ref.url!r}")
    if ref.sha256 is not None and not _SHA256.match(ref.sha256):
        raise ParameterError(f"sha256 of {ref.name!r} must be 64 lower-case hex digits, got {ref.sha256!r}")
    _REGISTRY[ref.name] = ref


for _res, _file in (
    (64, "VIRTUAL_imagenet64_labeled.npz"),
    (128, "VIRTUAL_imagenet128_labeled.npz"),
    (256, "VIRTUAL_imagenet256_labeled.npz"),
    (512, "VIRTUAL_imagenet512.npz"),
):
    register_published_reference(
        PublishedReference(
            f"adm-imagenet{_res}",
            f"{_ADM_URL}/{_res}/{_file}",
            None,
            "adm",
            "inception",
            "tf",
            f"ADM reference batch, ImageNet {_res}x{_res}: mu/sigma (pool3) and mu_s/sigma_s (sFID) of the "
            f"whole data set, and 10,000 images (arr_0) for precision/recall",
            _ADM_DOC,
        )
    )
for _data in ("cifar10-32x32", "ffhq-64x64", "afhqv2-64x64"):
    register_published_reference(
        PublishedReference(
            f"edm-{_data}",
            f"https://nvlabs-fi-cdn.nvidia.com/edm/fid-refs/{_data}.npz",
            None,
            "edm",
            "inception",
            "tf",
            f"EDM fid-refs, {_data}: FID Inception mu/sigma (.npz)",
            _EDM_DOC,
        )
    )
for _res in (64, 512):
    register_published_reference(
        PublishedReference(
            f"edm2-img{_res}",
            f"https://nvlabs-fi-cdn.nvidia.com/edm2/dataset-refs/img{_res}.pkl",
            None,
            "edm2",
            "inception",
            "tf",
            f"EDM2 dataset-refs, ImageNet {_res}x{_res}: FID (Inception) and FD_DINOv2 "
            f"(dinov2:vitl14) moments (.pkl, read by the restricted unpickler)",
            _EDM2_DOC,
        )
    )
for _mode, _pre in (("clean", "clean"), ("legacy_tensorflow", "tf")):
    for _split in ("train", "test"):
        register_published_reference(
            PublishedReference(
                f"cleanfid-cifar10-{_mode.replace('_', '-')}-{_split}",
                f"{_CLEAN_URL}/cifar10_{_mode}_{_split}_32.npz",
                None,
                "clean-fid",
                "inception",
                _pre,
                f"clean-fid statistics, CIFAR-10 {_split}, {_mode} mode",
                _CLEAN_DOC,
            )
        )


def published_references() -> dict[str, PublishedReference]:
    """``{name: PublishedReference}`` of every registered published reference, sorted.

    Examples
    --------
    >>> refs = published_references()
    >>> refs["adm-imagenet256"].protocol, refs["edm2-img512"].url
    ('adm', 'https://nvlabs-fi-cdn.nvidia.com/edm2/dataset-refs/img512.pkl')
    """
    return dict(sorted(_REGISTRY.items()))


def reference_cache_dir() -> Path:
    """``$GANEVAL_CACHE_DIR/references``, else ``$XDG_CACHE_HOME/ganeval/references``, else
    ``~/.cache/ganeval/references`` (the feature cache's folder, resolved the same way; it is
    read here because sources come before features in the layers)."""
    env = os.environ.get("GANEVAL_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "ganeval"
    return root / "references"


def downloads_allowed() -> bool:
    """False when ``$GANEVAL_NO_DOWNLOAD`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get("GANEVAL_NO_DOWNLOAD", "") in ("", "0")


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _cached_sha256(path: Path) -> tuple[str, str | None]:
    """(actual sha256 of the cached file, the hash recorded when it was downloaded or None);
    the file is re-hashed only when its size or mtime differ from the record."""
    st = path.stat()
    try:
        rec = json.loads(_record_path(path).read_text())
        if rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns and _SHA256.match(rec["sha256"]):
            return rec["sha256"], rec.get("verified_against")
        verified = rec.get("verified_against")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        verified = None
    return file_sha256(path), verified


def _write_record(path: Path, sha: str, url: str) -> None:
    st = path.stat()
    rec = {"sha256": sha, "verified_against": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "url": url}
    try:
        _record_path(path).write_text(json.dumps(rec, sort_keys=True))
    except OSError as exc:  # the file itself is fine; it will be re-hashed next time
        log.warning("could not write %s (%s)", _record_path(path), exc)


def fetch_reference(
    name: str, *, sha256: str | None = None, allow_download: bool | None = None, timeout: float = 60.0
) -> Path:
    """The local path of published reference ``name``, downloading it once if needed.

    Parameters
    ----------
    name : str
        A name of :func:`published_references` (without ``ref:``).
    sha256 : str, optional
        The hash to check the file against, for entries without a published one (it must
        equal the registered one when both exist).
    allow_download : bool, optional
        False refuses a download; None (default) allows it unless ``$GANEVAL_NO_DOWNLOAD``.
    timeout : float, default=60
        Seconds to wait on the server per read.

    Returns
    -------
    Path
        The verified file in :func:`reference_cache_dir`.

    Raises
    ------
    InputError
        Unknown name; no hash to check against; downloads forbidden; the download failed or
        its hash differs (nothing is left in the cache then); a cached file whose hash differs.
    """
    if name not in _REGISTRY:
        known = ", ".join(_REGISTRY) or "(none)"
        raise InputError(f"ref:{name}: unknown published reference; known: {known}")
    ref = _REGISTRY[name]
    given = None
    if sha256 is not None:
        given = str(sha256).strip().lower()
        if not _SHA256.match(given):
            raise ParameterError(f"ref:{name}: sha256 must be 64 hex digits, got {sha256!r}")
        if ref.sha256 is not None and given != ref.sha256:
            raise ParameterError(
                f"ref:{name}: the sha256 given ({given}) differs from the published one ({ref.sha256})"
            )
    expected = ref.sha256 or given
    folder = reference_cache_dir()
    path = folder / ref.filename
    if path.is_file():
        actual, verified = _cached_sha256(path)
        want = expected or verified
        if want is None:
            raise InputError(
                f"ref:{name}: {path} has no hash to check it against (none is published); "
                f"give the sha256 you trust: ref:{name}@SHA256"
            )
        if actual != want:
            raise InputError(
                f"ref:{name}: cached file {path} has sha256 {actual}, expected {want}; delete it to download it again"
            )
        if verified != actual:
            _write_record(path, actual, ref.url)
        return path
    if expected is None:
        raise InputError(
            f"ref:{name}: no sha256 is published for {ref.url}, so it is not downloaded unchecked; "
            f"give the hash you trust (ref:{name}@SHA256), or download the file yourself and pass "
            f"its path"
        )
    if allow_download is False or (allow_download is None and not downloads_allowed()):
        raise InputError(
            f"ref:{name}: not in {folder} and downloads are off (GANEVAL_NO_DOWNLOAD); download "
            f"{ref.url} yourself and pass its path, or allow downloads"
        )
    return _download(ref, path, expected, timeout)


def _download(ref: PublishedReference, path: Path, expected: str, timeout: float) -> Path:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"ref:{ref.name}: cannot create the cache folder {folder} ({exc.strerror or exc})") from None
    log.warning("downloading ref:%s from %s to %s", ref.name, ref.url, path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{ref.filename}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(ref.url, timeout=timeout) as resp:
                    for block in iter(lambda: resp.read(1 << 20), b""):
                        out.write(block)
                        h.update(block)
                        size += len(block)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                why = getattr(exc, "reason", None) or exc
                raise InputError(f"ref:{ref.name}: download of {ref.url} failed ({why})") from None
        actual = h.hexdigest()
        if actual != expected:
            raise InputError(
                f"ref:{ref.name}: downloaded {size} bytes from {ref.url} with sha256 {actual}, "
                f"expected {expected}; nothing was kept"
            )
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _write_record(path, expected, ref.url)
    log.warning("downloaded ref:%s (%d bytes, sha256 %s)", ref.name, size, expected)
    return path
