"""What each built-in extractor is and where its weights come from.

:func:`extractor_catalog` lists every extractor name (with its architectures), its output,
its preprocessing modes, and for each weights file the places ganeval looks for it, the
URL it was published at and, where the publisher states one, its sha256. ganeval downloads
only the FID Inception weights (their sha256 checked); the others are read from a file you
name (``weights=`` / ``--weights``), an environment variable, or the Hugging Face / torch hub
caches, never downloaded.

Examples
--------
>>> [e.name for e in extractor_catalog()]
['inception', 'digits', 'dinov2', 'clip']
>>> inception = extractor_catalog()[0]
>>> inception.weights[0].sha256[:8]
'6726825d'
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["WeightsFile", "ExtractorInfo", "extractor_catalog"]

# Meta's published DINOv2 checkpoints (the URLs of the dinov2 repository's hubconf)
_DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2/{stem}/{stem}_pretrain.pth"
# OpenAI's CLIP TorchScript archives: the URL holds the file's sha256 (clip.load checks it)
_CLIP_URL = "https://openaipublic.azureedge.net/clip/models/{sha256}/{name}.pt"


@dataclass(frozen=True)
class WeightsFile:
    """One weights file: which architecture, where it was published, its sha256 (empty when
    the publisher states none; ganeval then records the hash of the file it read)."""

    arch: str
    url: str
    sha256: str = ""
    also: tuple[str, ...] = ()  # other places ganeval finds the same weights (HF repos, caches)


@dataclass(frozen=True)
class ExtractorInfo:
    """One extractor: name, what it outputs, its preprocessing modes (default first), the
    environment variable naming its weights file, the extra to install, its weights files."""

    name: str
    output: str
    preprocessing: tuple[str, ...]
    env_var: str = ""
    needs: str = ""
    default_arch: str = ""
    weights: tuple[WeightsFile, ...] = field(default_factory=tuple)


def extractor_catalog() -> list[ExtractorInfo]:
    """The built-in extractors and where to get their weights.

    Returns
    -------
    list of ExtractorInfo
        ``inception``, ``digits``, ``dinov2``, ``clip``, in that order.

    Examples
    --------
    >>> clip = extractor_catalog()[3]
    >>> clip.default_arch, clip.weights[0].url.endswith("ViT-L-14-336px.pt")
    ('vit-l-14-336', True)
    """
    from .digits import DIGITS_WEIGHTS_FILE
    from .digits import PREPROCESSING as DIGITS_PREPROCESSING
    from .extractors import PREPROCESSING_MODES
    from .vit import CLIPExtractor, DINOv2Extractor
    from .weights import FID_WEIGHTS_FILENAME, FID_WEIGHTS_SHA256, FID_WEIGHTS_URL, WEIGHTS_ENV_VAR

    digits_sha = _shipped_digits_sha256()
    dinov2, clip = _dinov2_weights(), _clip_weights()
    return [
        ExtractorInfo(
            "inception",
            "pool3 2048-D features and 1008 logits (FID, KID, IS, PRDC)",
            PREPROCESSING_MODES,
            WEIGHTS_ENV_VAR,
            "",
            weights=(
                WeightsFile(
                    "", FID_WEIGHTS_URL, FID_WEIGHTS_SHA256, also=(f"torch hub cache: {FID_WEIGHTS_FILENAME}",)
                ),
            ),
        ),
        ExtractorInfo(
            "digits",
            "64-D features and 10 logits of 8x8 digit images (shipped, offline)",
            (DIGITS_PREPROCESSING,),
            weights=(WeightsFile("", f"shipped: ganeval/reference_stats/{DIGITS_WEIGHTS_FILE}", digits_sha),),
        ),
        ExtractorInfo(
            "dinov2",
            "CLS token of a DINOv2 ViT (FD_DINOv2, as dgm-eval)",
            DINOv2Extractor.modes,
            DINOv2Extractor.env_var,
            'pip install "ganeval[extractors]"',
            DINOv2Extractor.default_arch,
            dinov2,
        ),
        ExtractorInfo(
            "clip",
            "L2-normalised CLIP image embedding (CMMD)",
            CLIPExtractor.modes,
            CLIPExtractor.env_var,
            'pip install "ganeval[extractors]"',
            CLIPExtractor.default_arch,
            clip,
        ),
    ]


def _shipped_digits_sha256() -> str:
    """The sha256 of the shipped digits weights, from the shipped manifest ("" when the
    install is broken: the listing still works)."""
    from .digits import DIGITS_WEIGHTS_FILE, reference_file

    try:
        import json

        manifest = reference_file("manifest.json")
        return json.loads(manifest.read_text())["files"][DIGITS_WEIGHTS_FILE]["sha256"]
    except (OSError, KeyError, ValueError):  # a broken install: the listing still works
        return ""


def _dinov2_weights() -> tuple[WeightsFile, ...]:
    """Meta's DINOv2 checkpoints, one per architecture (no published sha256)."""
    from .vit import DINOV2_ARCHS

    return tuple(
        WeightsFile(
            a,
            _DINOV2_URL.format(stem=s.hub_file.removesuffix("_pretrain.pth")),
            also=(f"hf:{s.hf_timm}", f"hf:{s.hf_original}", f"torch hub cache: {s.hub_file}"),
        )
        for a, s in DINOV2_ARCHS.items()
    )


def _clip_weights() -> tuple[WeightsFile, ...]:
    """OpenAI's CLIP archives, one per architecture (the sha256 is in the URL)."""
    from .vit import CLIP_ARCHS

    return tuple(
        WeightsFile(
            a,
            _CLIP_URL.format(sha256=s.openai_sha256, name=s.openai_name),
            s.openai_sha256,
            also=(f"hf:{s.hf_original}", f"hf:{s.hf_timm}", f"~/.cache/clip/{s.openai_name}.pt"),
        )
        for a, s in CLIP_ARCHS.items()
    )
