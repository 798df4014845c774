"""Image feature extraction: the registry of extractors and :func:`extract_features`.

==============  ===================================================================  =======
name            network                                                              offline
==============  ===================================================================  =======
``inception``   FID Inception v3 (TF ``inception-2015-12-05``): 2048-D pool3,        needs
                1008 bias-free logits (:mod:`ganeval.features.inception`);            weights
                ``inception:64|192|768`` pytorch-fid's shallower ``--dims``
``digits``      embedded digits CNN: 64-D features, 10 logits                        yes
                (:mod:`ganeval.features.digits`)
``dinov2``      DINOv2 ViT, ``dinov2[:vits14|vitb14|vitl14|vitg14]`` (default        needs
                vitl14): CLS token after the final norm (:mod:`.vit`)                weights
``clip``        OpenAI CLIP image tower, ``clip[:vit-l-14-336|vit-l-14|vit-b-16|``   needs
                ``vit-b-32]`` (default ViT-L/14@336): projected, L2-normalised       weights
==============  ===================================================================  =======

``dinov2`` and ``clip`` need the optional extra ``pip install "ganeval[extractors]"`` (timm);
without it, asking for them raises a :class:`~ganeval.errors.ParameterError` that says so.

``extractor="auto"`` picks the source's preferred extractor (``digits`` for
``builtin:digits``), ``digits`` for in-memory 8x8 images (``.npy``/``.npz`` arrays, tensors),
else ``inception``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from .._validation import check_bool, check_int
from ..errors import InputError, ParameterError

__all__ = ["extract_features", "ExtractedFeatures", "get_extractor", "register_extractor", "extractor_names"]

log = logging.getLogger(__name__)


def _inception(weights: Any = None, preprocessing: str | None = None, arch: str | None = None):
    from .extractors import InceptionExtractor
    from .inception import BLOCK_DIMS

    dims = 2048
    if arch:
        if arch not in {str(d) for d in BLOCK_DIMS}:
            raise ParameterError(
                f"extractor inception:DIMS takes DIMS in {', '.join(map(str, BLOCK_DIMS))}; got inception:{arch}"
            )
        dims = int(arch)
    return InceptionExtractor(weights, preprocessing or "tf", dims=dims)


def _digits(weights: Any = None, preprocessing: str | None = None):
    from .digits import PREPROCESSING, DigitsExtractor

    if preprocessing not in (None, PREPROCESSING):  # the digits network has a single fixed preprocessing
        raise ParameterError(
            f"preprocessing {preprocessing!r} does not apply to the digits extractor, which has one "
            f"fixed preprocessing ({PREPROCESSING}); leave --preprocessing out"
        )
    return DigitsExtractor(weights)


def _dinov2(weights: Any = None, preprocessing: str | None = None, arch: str | None = None):
    from .vit import DINOv2Extractor, require_timm

    ext = DINOv2Extractor(arch, weights, preprocessing)
    require_timm(ext.name)  # the optional extra: say which one before any work
    return ext


def _clip(weights: Any = None, preprocessing: str | None = None, arch: str | None = None):
    from .vit import CLIPExtractor, require_timm

    ext = CLIPExtractor(arch, weights, preprocessing)
    require_timm(ext.name)
    return ext


_EXTRACTORS: dict[str, Callable[..., Any]] = {
    "inception": _inception,
    "digits": _digits,
    "dinov2": _dinov2,
    "clip": _clip,
}
_WITH_ARCH = {"dinov2", "clip", "inception"}  # names that take ":ARCH" (inception: ":64|192|768|2048")


#: entry-point group through which installed packages register extractors
EXTRACTOR_ENTRY_POINTS = "ganeval.extractors"
_PLUGINS_LOADED = False


def register_extractor(name: str, factory: Callable[..., Any]) -> None:
    """Register ``factory(weights=None, preprocessing=None) -> ImageExtractor`` as ``name``
    (``preprocessing=None``: the extractor's default). Installed packages do the same with
    an entry point in the ``ganeval.extractors`` group (``NAME = "pkg.module:factory"``)."""
    if not isinstance(name, str) or not name or ":" in name or name == "auto":
        raise ParameterError(f"extractor name must be a word without ':' and not 'auto', got {name!r}")
    _EXTRACTORS[name] = factory


def _load_plugins() -> None:
    """Register the extractors of installed packages (once; a broken one is a warning)."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    import warnings
    from importlib.metadata import entry_points

    for ep in entry_points(group=EXTRACTOR_ENTRY_POINTS):
        if ep.name in _EXTRACTORS:
            continue
        try:
            register_extractor(ep.name, ep.load())
        except Exception as exc:  # a broken plug-in must not break ganeval
            warnings.warn(
                f"extractor plug-in {ep.name!r} ({ep.value}) could not be loaded: {type(exc).__name__}: {exc}",
                stacklevel=2,
            )


def extractor_names() -> list[str]:
    """Names accepted by ``extractor=`` (besides ``"auto"``).

    Examples
    --------
    >>> extractor_names()
    ['clip', 'digits', 'dinov2', 'inception']
    """
    _load_plugins()
    return sorted(_EXTRACTORS)


def get_extractor(name: str, *, weights: str | Path | None = None, preprocessing: str | None = None):
    """The extractor registered as ``name`` (the network is only built when it runs).

    ``dinov2`` and ``clip`` take an architecture after a colon (``dinov2:vits14``,
    ``clip:vit-b-32``); the name with its architecture is the extractor's ``name``, recorded
    in results and in the feature-cache key. ``preprocessing=None`` is the extractor's default.

    Examples
    --------
    >>> get_extractor("digits").name
    'digits'
    >>> get_extractor("vgg")
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: extractor must be one of 'auto', 'clip', 'digits', 'dinov2', 'inception'; got 'vgg'
    """
    _load_plugins()
    base, sep, arch = name.partition(":") if isinstance(name, str) else (name, "", "")
    if base not in _EXTRACTORS or (sep and base not in _WITH_ARCH):
        options = ", ".join(repr(n) for n in ["auto", *extractor_names()])
        raise ParameterError(f"extractor must be one of {options}; got {name!r}")
    if base in _WITH_ARCH:
        return _EXTRACTORS[base](weights=weights, preprocessing=preprocessing, arch=arch.lower() or None)
    return _EXTRACTORS[base](weights=weights, preprocessing=preprocessing)


def _auto_for(src: Any) -> str:
    """``"auto"``: in-memory 8x8 images (e.g. samples of a digits generator) -> ``digits``;
    anything else -> ``inception``."""
    images = getattr(src, "images", None)
    if images is not None and tuple(images.shape[2:]) == (8, 8):
        return "digits"
    return "inception"


@dataclass
class ExtractedFeatures:
    """Features of one image source: ``features`` (n, d) float64, ``logits`` (n, classes)
    or None, ``info`` (extractor, preprocessing, weights_sha256, skipped, cached, n, and
    ``tf32: True`` when the network ran in TF32 on CUDA; absent when it ran in full float32),
    and ``extras``: the extra outputs asked for (``{"spatial": (n, 2023)}``), float64."""

    features: np.ndarray
    logits: np.ndarray | None
    info: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def extract_features(
    source: Any,
    *,
    extractor: str = "auto",
    weights: str | Path | None = None,
    preprocessing: str | None = None,
    batch_size: int = 50,
    device: Any = "auto",
    num_workers: int | None = None,
    cache: bool = True,
    progress: bool = False,
    tf32: bool = False,
    outputs: tuple[str, ...] = (),
    gpu_decode: bool = False,
    **source_options: Any,
) -> ExtractedFeatures:
    """Features (and logits) of every image of ``source``, from the cache when possible.

    FID uses the 2048-D pool3 features of the FID Inception (Heusel et al. 2017,
    arXiv:1706.08500); the Inception Score uses its 1008 logits without the fc bias
    (Salimans et al. 2016, arXiv:1606.03498).

    Parameters
    ----------
    source : image source, path (folder, .zip), or uint8 array/tensor of images
    extractor : {"auto", "inception", "digits", "dinov2[:ARCH]", "clip[:ARCH]"}, default="auto"
        ``"auto"``: the source's preferred extractor (``digits`` for ``builtin:digits``),
        ``digits`` for in-memory 8x8 images, else ``inception``.
    weights : str or Path, optional
        Weights file of the extractor (default: resolved for Inception, DINOv2 and CLIP,
        shipped for digits).
    preprocessing : str, optional
        Input resizing; default the extractor's own: ``"tf"`` for Inception (or
        ``"pytorch-fid"``, ``"clean"``), ``"dgm-eval"`` for DINOv2 (or ``"clean"``, ``"tf"``),
        ``"cmmd"`` for CLIP (or ``"tf"``); ``digits`` has one fixed way and refuses any other.
    batch_size : int, default=50
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        See :func:`ganeval.features.engine.resolve_device`.
    num_workers : int, optional
        Decoding worker processes (default ``min(4, CPUs)``; 0 = main process).
    cache : bool, default=True
        Read and write the feature cache (:mod:`ganeval.features.cache`). Sources without
        a fingerprint (generator callables) are never cached. Under ``torch.distributed``
        the ranks look the entry up together and one rank per cache folder writes it
        (:func:`ganeval.features.cache.load_shared`).
    progress : bool, default=False
        Show a progress bar on stderr.
    tf32 : bool, default=False
        On CUDA, let the network use TF32 for convolutions and matrix products: about 2.7x
        faster Inception on an H100, FID off by about 6e-4 relative (docs/inception.md,
        "Precision on GPUs"). By default the network runs in full float32 on CUDA whatever
        ``torch.backends`` says, and the user's settings are put back after each pass. When
        TF32 was used, ``info`` holds ``"tf32": True`` and the cache keeps the features under
        their own key. No effect on CPU.
    outputs : tuple of str, default=()
        Extra outputs of the same forward pass to return in ``extras``, among the extractor's
        ``extra_outputs``: ``("spatial",)`` gives the Inception's 2023-D sFID features (ADM's
        ``mixed_6/conv`` features; :mod:`ganeval.features.inception`). They are cached with the
        features; a cached entry without them is recomputed.
    gpu_decode : bool, default=False
        On CUDA, decode the JPEG files of a folder or zip on the GPU with nvjpeg (faster
        than the CPU decoding workers; nvjpeg's pixels are not PIL's, so FID moves slightly:
        docs/performance.md). When it was used, ``info`` holds ``"gpu_decode": True`` and the
        cache keeps the features under their own key. No effect on CPU or for other inputs.
    **source_options
        Passed to :func:`ganeval.sources.open_source` when ``source`` is not opened yet
        (e.g. ``skip_invalid=True``).

    Returns
    -------
    ExtractedFeatures

    Examples
    --------
    >>> out = extract_features("builtin:digits/test", cache=False, num_workers=0)
    >>> out.features.shape, out.logits.shape, out.info["extractor"]
    ((898, 64), (898, 10), 'digits')
    """
    from ..sources import open_source
    from .cache import store_shared
    from .engine import resolve_device, run_extraction, run_extraction_outputs
    from .precision import uses_tf32

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    tf32 = check_bool(tf32, "tf32")
    gpu_decode = check_bool(gpu_decode, "gpu_decode")
    if num_workers is not None:
        num_workers = check_int(num_workers, "num_workers", minimum=0)
    src = open_source(source, **source_options)
    if getattr(src, "kind", None) != "images":
        raise InputError(f"{src.name}: holds {src.kind}, not images; no feature extractor applies")
    ext = _extractor_for(src, extractor, weights=weights, preprocessing=preprocessing)
    outputs = _checked_outputs(ext, outputs)
    dev = resolve_device(device)  # a DeviceError comes before any work or cache access
    sha = ext.weights_sha256()
    info: dict[str, Any] = {"extractor": ext.name, "preprocessing": ext.preprocessing, "weights_sha256": sha}
    used_tf32 = uses_tf32(dev, tf32)
    if used_tf32:
        info["tf32"] = True
    # nvjpeg decodes only the JPEG files of a folder or zip, on CUDA
    gpu_decoded = gpu_decode and dev.type == "cuda" and bool(getattr(src, "random_access", False))
    if gpu_decoded:
        info["gpu_decode"] = True
    variant = "+".join(v for v, used in (("tf32", used_tf32), ("gpu-decode", gpu_decoded)) if used) or None
    key, hit = _cache_lookup(src, ext, sha, variant, cache)
    if hit is not None and all(o in hit["extras"] for o in outputs):
        info.update(skipped=hit["skipped"], n=int(hit["features"].shape[0]), cached=True)
        return ExtractedFeatures(hit["features"], hit["logits"], info, {o: hit["extras"][o] for o in outputs})
    run_kw = dict(
        batch_size=batch_size, device=dev, num_workers=num_workers, progress=progress, tf32=tf32, gpu_decode=gpu_decoded
    )
    if outputs:
        features, logits, extras, skipped = run_extraction_outputs(src, ext, outputs=outputs, **run_kw)
    else:
        features, logits, skipped = run_extraction(src, ext, **run_kw)
        extras = {}
    info.update(skipped=skipped, n=int(features.shape[0]), cached=False)
    if key is not None:
        store_shared(key, features, logits, skipped, {k: v for k, v in info.items() if k != "cached"}, extras=extras)
    return ExtractedFeatures(features, logits, info, extras)


def _extractor_for(src: Any, extractor: Any, *, weights: str | Path | None, preprocessing: str | None) -> Any:
    """The extractor named ``extractor`` (``"auto"``: the source's preferred one, see
    :func:`_auto_for`)."""
    if not isinstance(extractor, str):
        raise ParameterError(f"extractor must be a name, got {type(extractor).__name__}")
    name = extractor
    if name == "auto":
        name = getattr(src, "preferred_extractor", None) or _auto_for(src)
    return get_extractor(name, weights=weights, preprocessing=preprocessing)


def _checked_outputs(ext: Any, outputs: tuple[str, ...]) -> tuple[str, ...]:
    """``outputs``, each one an extra output the extractor offers."""
    outputs = tuple(outputs)
    for out_name in outputs:
        if out_name not in getattr(ext, "extra_outputs", ()):
            offered = ", ".join(getattr(ext, "extra_outputs", ())) or "none"
            raise ParameterError(f"outputs: extractor {ext.name!r} has no output {out_name!r} (offers: {offered})")
    return outputs


def _cache_lookup(src: Any, ext: Any, sha: str | None, variant: str | None, cache: bool) -> tuple[Any, Any]:
    """``(key, entry or None)``: the cache key of these features (None for a source without
    a fingerprint, or ``cache=False``; ``variant`` names a way of computing them that gives
    other numbers: ``"tf32"``, ``"gpu-decode"``, both joined by ``+``) and the cached entry,
    looked up by all ranks together under ``torch.distributed``."""
    from ..distributed import is_distributed
    from ..sources.images import ImageSource
    from .cache import cache_key, load_entry, load_shared

    fingerprint = cast(ImageSource, src).fingerprint() if cache else None  # kind "images" names the interface
    key = cache_key(fingerprint, ext.name, sha, ext.preprocessing, precision=variant) if fingerprint else None
    expected = len(src) if getattr(src, "length_known", True) else None
    if is_distributed() and cache:  # the ranks decide together (one writer per entry)
        hit, key = load_shared(key, src.name, expected_images=expected)
    else:
        hit = load_entry(key, expected_images=expected) if key is not None else None
    return key, hit
