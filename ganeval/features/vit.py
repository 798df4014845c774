"""DINOv2 and CLIP image encoders as feature extractors (the optional ``extractors`` extra).

=========================  ====================================  =========  ===========================
``--extractor``            network                               features   default input
=========================  ====================================  =========  ===========================
``dinov2[:vitl14]``        DINOv2 ViT-S/B/L/g 14 (Oquab et al.   384, 768,  ``dgm-eval``: PIL bicubic to
                           2023, arXiv:2304.07193)               1024, 1536 224, ImageNet mean/std
``clip[:vit-l-14-336]``    OpenAI CLIP image tower ViT-B/32,     512, 512,  ``cmmd``: centre square crop,
                           B/16, L/14, L/14@336 (Radford et al.  768, 768   PIL bicubic to the input
                           2021, arXiv:2103.00020)                          size, CLIP mean/std
=========================  ====================================  =========  ===========================

DINOv2 features are the class token after the final LayerNorm (what ``model(x)`` returns for
the ``torch.hub`` models dgm-eval loads; FD_DINOv2 of Stein et al. 2023, arXiv:2306.04675).
CLIP features are the image embedding after the projection, divided by its L2 norm (what
CMMD uses; Jayasumana et al. 2024, arXiv:2401.09603).

The transformer blocks are timm's ``VisionTransformer`` (``pip install "ganeval[extractors]"``),
built on the meta device (no random initialisation) and filled from the checkpoint, which may
be in any of the layouts users already have, converted here:

- DINOv2: Meta's ``dinov2_vitl14_pretrain.pth`` (torch hub; dgm-eval), timm's
  ``vit_large_patch14_dinov2.lvd142m``, Hugging Face transformers' ``facebook/dinov2-large``;
- CLIP: OpenAI / open_clip (``visual.conv1.weight``, ...), OpenAI's TorchScript ``.pt`` files
  (read without running them), Hugging Face transformers' ``openai/clip-vit-large-patch14-336``
  (CMMD-pytorch), timm's ``vit_large_patch14_clip_336.openai``.

DINOv2 checkpoints hold position embeddings for 518x518 inputs (37x37 patches). At 224x224
the DINOv2 code interpolates them bicubically with a scale factor of ``(16 + 0.1) / 37``
(not an output size; ``interpolate_offset=0.1``, no antialiasing); we do the same once, when
the weights are loaded, so the features equal those of the ``torch.hub`` model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ParameterError, WeightsError
from .extractors import FileWeightsExtractor
from .preprocessing import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "ViTSpec",
    "DINOV2_ARCHS",
    "CLIP_ARCHS",
    "DINOv2Extractor",
    "CLIPExtractor",
    "EXTRA_HINT",
    "swiglu_hidden",
    "require_timm",
    "convert_dinov2_state_dict",
    "convert_clip_state_dict",
    "build_vit",
    "random_original_state_dict",
]

EXTRA_HINT = 'pip install "ganeval[extractors]"'
DINOV2_INPUT = 224
DINOV2_NATIVE_GRID = 37  # 518 / 14: the grid the released DINOv2 position embeddings are for
DINOV2_INTERPOLATE_OFFSET = 0.1


@dataclass(frozen=True)
class ViTSpec:
    """One ViT architecture: input size, patch size, width, depth, heads, output size."""

    arch: str
    img_size: int
    patch: int
    dim: int
    depth: int
    heads: int
    out_dim: int = 0  # CLIP projection width; 0 = no head (DINOv2)
    swiglu: bool = False  # DINOv2 ViT-g: SwiGLU MLP (hidden 4096 = 2/3 of 4 x 1536, rounded to 8)
    hf_timm: str = ""  # timm's Hugging Face repo of the weights
    hf_original: str = ""  # the authors' Hugging Face (transformers) repo
    hub_file: str = ""  # file name in the torch hub cache
    openai_name: str = ""  # OpenAI's CLIP file name (TorchScript archive), e.g. "ViT-L-14-336px"
    openai_sha256: str = ""  # its sha256 (in OpenAI's download URL; torch-fidelity's cache name)

    @property
    def grid(self) -> int:
        return self.img_size // self.patch


DINOV2_ARCHS: dict[str, ViTSpec] = {
    s.arch: s
    for s in [
        ViTSpec(
            "vits14",
            DINOV2_INPUT,
            14,
            384,
            12,
            6,
            hf_timm="timm/vit_small_patch14_dinov2.lvd142m",
            hf_original="facebook/dinov2-small",
            hub_file="dinov2_vits14_pretrain.pth",
        ),
        ViTSpec(
            "vitb14",
            DINOV2_INPUT,
            14,
            768,
            12,
            12,
            hf_timm="timm/vit_base_patch14_dinov2.lvd142m",
            hf_original="facebook/dinov2-base",
            hub_file="dinov2_vitb14_pretrain.pth",
        ),
        ViTSpec(
            "vitl14",
            DINOV2_INPUT,
            14,
            1024,
            24,
            16,
            hf_timm="timm/vit_large_patch14_dinov2.lvd142m",
            hf_original="facebook/dinov2-large",
            hub_file="dinov2_vitl14_pretrain.pth",
        ),
        ViTSpec(
            "vitg14",
            DINOV2_INPUT,
            14,
            1536,
            40,
            24,
            swiglu=True,
            hf_timm="timm/vit_giant_patch14_dinov2.lvd142m",
            hf_original="facebook/dinov2-giant",
            hub_file="dinov2_vitg14_pretrain.pth",
        ),
    ]
}

CLIP_ARCHS: dict[str, ViTSpec] = {
    s.arch: s
    for s in [
        ViTSpec(
            "vit-l-14-336",
            336,
            14,
            1024,
            24,
            16,
            768,
            hf_timm="timm/vit_large_patch14_clip_336.openai",
            hf_original="openai/clip-vit-large-patch14-336",
            openai_name="ViT-L-14-336px",
            openai_sha256="3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
        ),
        ViTSpec(
            "vit-l-14",
            224,
            14,
            1024,
            24,
            16,
            768,
            hf_timm="timm/vit_large_patch14_clip_224.openai",
            hf_original="openai/clip-vit-large-patch14",
            openai_name="ViT-L-14",
            openai_sha256="b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
        ),
        ViTSpec(
            "vit-b-16",
            224,
            16,
            768,
            12,
            12,
            512,
            hf_timm="timm/vit_base_patch16_clip_224.openai",
            hf_original="openai/clip-vit-base-patch16",
            openai_name="ViT-B-16",
            openai_sha256="5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f",
        ),
        ViTSpec(
            "vit-b-32",
            224,
            32,
            768,
            12,
            12,
            512,
            hf_timm="timm/vit_base_patch32_clip_224.openai",
            hf_original="openai/clip-vit-base-patch32",
            openai_name="ViT-B-32",
            openai_sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
        ),
    ]
}


def require_timm(extractor: str) -> None:
    """Raise a :class:`ParameterError` saying which extra to install when timm is missing."""
    try:
        import timm  # noqa: F401
    except ImportError:
        raise ParameterError(f"extractor {extractor!r} needs the optional package timm: {EXTRA_HINT}") from None


def swiglu_hidden(dim: int) -> int:
    """Hidden width of DINOv2's SwiGLU MLP: 2/3 of ``4 dim``, rounded up to a multiple of 8 (4096 for ViT-g).

    Examples
    --------
    >>> swiglu_hidden(1536)
    4096
    """
    return (int(4 * dim * 2 / 3) + 7) // 8 * 8


def build_vit(family: str, spec: ViTSpec) -> nn.Module:
    """timm's ``VisionTransformer`` for ``spec``, on the meta device (no initialisation run).

    DINOv2: LayerNorm eps 1e-6, LayerScale, CLS token after the final norm, no head.
    CLIP: LayerNorm eps 1e-5 and a norm before the blocks (``ln_pre``), QuickGELU, no patch
    bias, CLS token after the final norm, then the projection (a bias-free linear map; timm's
    head bias is set to 0).
    """
    require_timm(f"{family}:{spec.arch}")
    from timm.layers import SwiGLUPacked
    from timm.models.vision_transformer import VisionTransformer

    common: dict[str, Any] = dict(
        img_size=spec.img_size,
        patch_size=spec.patch,
        embed_dim=spec.dim,
        depth=spec.depth,
        num_heads=spec.heads,
        global_pool="token",
        class_token=True,
        qkv_bias=True,
        weight_init="skip",
    )
    if family == "dinov2":
        extra: dict[str, Any] = dict(init_values=1.0, num_classes=0, norm_layer=partial(nn.LayerNorm, eps=1e-6))
        if spec.swiglu:  # timm packs both SwiGLU halves in fc1: 2 x hidden outputs
            extra.update(
                mlp_ratio=(2 * swiglu_hidden(spec.dim) + 0.5) / spec.dim, mlp_layer=SwiGLUPacked, act_layer=nn.SiLU
            )
    else:
        extra = dict(
            pre_norm=True, num_classes=spec.out_dim, act_layer="quick_gelu", norm_layer=partial(nn.LayerNorm, eps=1e-5)
        )
    with torch.device("meta"):  # no memory and no random initialisation: every tensor comes from the weights
        return VisionTransformer(**common, **extra)


# ------------------------------------------------------------------ checkpoint layouts


def _strip(sd: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def dinov2_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """Position embeddings (1, 1 + M*M, D) resampled to ``grid`` x ``grid`` patches as DINOv2 does.

    Bicubic, ``scale_factor = (grid + 0.1) / M`` (the "interpolate_offset" of the DINOv2 code),
    no antialiasing, in float32; the class token's embedding is kept as is.

    Examples
    --------
    >>> import torch
    >>> dinov2_pos_embed(torch.zeros(1, 1 + 37 * 37, 8), 16).shape
    torch.Size([1, 257, 8])
    """
    n = pos.shape[1] - 1
    m = int(round(math.sqrt(n)))
    if m * m != n:
        raise WeightsError(f"position embeddings of {n} patches do not form a square grid")
    if m == grid:
        return pos
    dim = pos.shape[2]
    patches = pos[:, 1:].float().reshape(1, m, m, dim).permute(0, 3, 1, 2)
    scale = float(grid + DINOV2_INTERPOLATE_OFFSET) / m
    patches = F.interpolate(patches, scale_factor=(scale, scale), mode="bicubic", antialias=False)
    if tuple(patches.shape[-2:]) != (grid, grid):  # pragma: no cover - holds for every released size
        raise WeightsError(f"cannot resample {m}x{m} position embeddings to {grid}x{grid}")
    patches = patches.permute(0, 2, 3, 1).reshape(1, grid * grid, dim)
    return torch.cat([pos[:, :1].float(), patches], dim=1).to(pos.dtype)


def convert_dinov2_state_dict(
    sd: Mapping[str, Any], grid: int = DINOV2_INPUT // 14, source: str = "state_dict"
) -> dict[str, torch.Tensor]:
    """A DINOv2 checkpoint (Meta, timm or Hugging Face transformers layout) in our (timm) layout.

    Meta's ``mask_token`` is dropped, its SwiGLU ``w12``/``w3`` become ``fc1``/``fc2``; the
    transformers layout's separate query/key/value are concatenated into ``qkv``. Position
    embeddings are resampled to ``grid`` (see :func:`dinov2_pos_embed`).
    """
    sd = dict(sd)
    if "embeddings.cls_token" in sd or "dinov2.embeddings.cls_token" in sd:
        sd = _dinov2_from_transformers(sd if "embeddings.cls_token" in sd else _strip(sd, "dinov2."))
    if "register_tokens" in sd or "reg_token" in sd:
        raise WeightsError(f"{source}: DINOv2 with registers is not supported (use the checkpoints without registers)")
    if "cls_token" not in sd or "pos_embed" not in sd:
        raise WeightsError(f"{source}: not DINOv2 weights (no cls_token / pos_embed; keys start {sorted(sd)[:3]})")
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if k == "mask_token":
            continue
        k = k.replace(".mlp.w12.", ".mlp.fc1.").replace(".mlp.w3.", ".mlp.fc2.")
        out[k] = v
    out["pos_embed"] = dinov2_pos_embed(out["pos_embed"], grid)
    return out


def _dinov2_from_transformers(sd: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cls_token": sd["embeddings.cls_token"],
        "pos_embed": sd["embeddings.position_embeddings"],
        "patch_embed.proj.weight": sd["embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": sd["embeddings.patch_embeddings.projection.bias"],
        "norm.weight": sd["layernorm.weight"],
        "norm.bias": sd["layernorm.bias"],
    }
    names = {
        "norm1": "norm1",
        "norm2": "norm2",
        "attention.output.dense": "attn.proj",
        "mlp.fc1": "mlp.fc1",
        "mlp.fc2": "mlp.fc2",
        "mlp.weights_in": "mlp.fc1",
        "mlp.weights_out": "mlp.fc2",
    }
    i = 0
    while f"encoder.layer.{i}.norm1.weight" in sd:
        p = f"encoder.layer.{i}."
        for src, dst in names.items():
            for t in ("weight", "bias"):
                if p + f"{src}.{t}" in sd:
                    out[f"blocks.{i}.{dst}.{t}"] = sd[p + f"{src}.{t}"]
        for t in ("weight", "bias"):
            out[f"blocks.{i}.attn.qkv.{t}"] = torch.cat(
                [sd[p + f"attention.attention.{n}.{t}"] for n in ("query", "key", "value")], dim=0
            )
        out[f"blocks.{i}.ls1.gamma"] = sd[p + "layer_scale1.lambda1"]
        out[f"blocks.{i}.ls2.gamma"] = sd[p + "layer_scale2.lambda1"]
        i += 1
    return out


def convert_clip_state_dict(sd: Mapping[str, Any], source: str = "state_dict") -> dict[str, torch.Tensor]:
    """A CLIP checkpoint (OpenAI / open_clip, Hugging Face transformers or timm layout) in our layout.

    OpenAI's ``proj`` (width x embed) becomes the head weight (its transpose) with a zero bias;
    the text tower and ``logit_scale`` are ignored.
    """
    sd = dict(sd)
    if "norm_pre.weight" in sd and "head.weight" in sd:  # timm already
        return dict(sd.items())
    if "vision_model.embeddings.class_embedding" in sd:
        return _clip_from_transformers(sd)
    visual = _strip(sd, "visual.") if "visual.conv1.weight" in sd else sd
    if "conv1.weight" not in visual or "proj" not in visual:
        raise WeightsError(
            f"{source}: not CLIP ViT image-tower weights (no visual.conv1.weight / visual.proj; "
            f"keys start {sorted(sd)[:3]})"
        )
    out: dict[str, torch.Tensor] = {}
    for k, v in visual.items():
        if k == "proj":
            out["head.weight"] = v.t()
            out["head.bias"] = torch.zeros(v.shape[1], dtype=v.dtype)
            continue
        if k == "class_embedding":
            out["cls_token"] = v.reshape(1, 1, -1)
            continue
        if k == "positional_embedding":
            out["pos_embed"] = v.unsqueeze(0)
            continue
        k = (
            k.replace("conv1.", "patch_embed.proj.")
            .replace("ln_pre.", "norm_pre.")
            .replace("ln_post.", "norm.")
            .replace("transformer.resblocks.", "blocks.")
            .replace(".ln_1.", ".norm1.")
            .replace(".ln_2.", ".norm2.")
            .replace(".attn.in_proj_weight", ".attn.qkv.weight")
            .replace(".attn.in_proj_bias", ".attn.qkv.bias")
            .replace(".attn.out_proj.", ".attn.proj.")
            .replace(".mlp.c_fc.", ".mlp.fc1.")
            .replace(".mlp.c_proj.", ".mlp.fc2.")
        )
        out[k] = v
    return out


def _clip_from_transformers(sd: dict[str, Any]) -> dict[str, Any]:
    v = _strip(sd, "vision_model.")
    proj = sd["visual_projection.weight"]
    out: dict[str, Any] = {
        "cls_token": v["embeddings.class_embedding"].reshape(1, 1, -1),
        "pos_embed": v["embeddings.position_embedding.weight"].unsqueeze(0),
        "patch_embed.proj.weight": v["embeddings.patch_embedding.weight"],
        "norm_pre.weight": v["pre_layrnorm.weight"],
        "norm_pre.bias": v["pre_layrnorm.bias"],
        "norm.weight": v["post_layernorm.weight"],
        "norm.bias": v["post_layernorm.bias"],
        "head.weight": proj,
        "head.bias": torch.zeros(proj.shape[0], dtype=proj.dtype),
    }
    names = {
        "layer_norm1": "norm1",
        "layer_norm2": "norm2",
        "self_attn.out_proj": "attn.proj",
        "mlp.fc1": "mlp.fc1",
        "mlp.fc2": "mlp.fc2",
    }
    i = 0
    while f"encoder.layers.{i}.layer_norm1.weight" in v:
        p = f"encoder.layers.{i}."
        for src, dst in names.items():
            for t in ("weight", "bias"):
                out[f"blocks.{i}.{dst}.{t}"] = v[p + f"{src}.{t}"]
        for t in ("weight", "bias"):
            out[f"blocks.{i}.attn.qkv.{t}"] = torch.cat([v[p + f"self_attn.{n}_proj.{t}"] for n in "qkv"], dim=0)
        i += 1
    return out


def _load_checked(net: nn.Module, sd: Mapping[str, Any], source: str, what: str, *, fresh: bool = False) -> nn.Module:
    """Fill ``net`` (on meta) from ``sd`` (our layout) after checking keys and shapes.

    ``fresh``: the tensors were just read from a file and belong to nobody else, so they are
    used in place (no second copy of a multi-GB checkpoint); otherwise they are copied.
    """
    from .weights import check_state_dict_keys

    expected = net.state_dict()
    check_state_dict_keys(expected, sd, source, what)
    tensors = {}
    for key, value in sd.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise WeightsError(f"{source}: entry {key!r} is not a float tensor")
        if tuple(value.shape) != tuple(expected[key].shape):
            raise WeightsError(
                f"{source}: wrong shape for {key!r}: {tuple(value.shape)}, expected "
                f"{tuple(expected[key].shape)} for {what} (another architecture's weights?)"
            )
        t = value.detach().to("cpu", torch.float32)
        tensors[key] = t.contiguous() if fresh else t.clone(memory_format=torch.contiguous_format)
    net.load_state_dict(tensors, strict=True, assign=True)
    return net.eval().requires_grad_(False)


# ------------------------------------------------------------------ random weights (tests, benchmarks)


def random_original_state_dict(family: str, arch: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded random weights in the original checkpoint layout (Meta's DINOv2, OpenAI's CLIP).

    Linear and convolution weights ~ N(0, 1/fan_in), norms near identity, LayerScale 0.1..0.6,
    biases small; DINOv2 position embeddings for the 37x37 grid of the released checkpoints.
    Drawn from a :class:`torch.Generator` (the global RNG is not touched); no timm needed.

    Examples
    --------
    >>> sd = random_original_state_dict("dinov2", "vits14")
    >>> sd["pos_embed"].shape, "mask_token" in sd
    (torch.Size([1, 1370, 384]), True)
    """
    spec = _spec(family, arch)
    draw = _RandomWeights(torch.Generator().manual_seed(seed), spec.dim)
    if family == "dinov2":
        return _random_dinov2_state_dict(spec, draw)
    return _random_clip_state_dict(spec, draw)


class _RandomWeights:
    """Seeded draws of the random checkpoints, in the order they are asked for."""

    def __init__(self, gen: torch.Generator, d: int) -> None:
        self.gen, self.d = gen, d

    def w(self, out_f: int, in_f: int) -> torch.Tensor:
        """A linear weight ~ N(0, 1/fan_in)."""
        return torch.randn(out_f, in_f, generator=self.gen) / math.sqrt(in_f)

    def small(self, *shape: int, s: float = 0.02) -> torch.Tensor:
        """A small tensor ~ N(0, s^2) (biases, embeddings)."""
        return s * torch.randn(*shape, generator=self.gen)

    def norm(self, prefix: str, sd: dict) -> None:
        """A norm layer near identity."""
        sd[prefix + ".weight"] = 1 + self.small(self.d, s=0.1)
        sd[prefix + ".bias"] = self.small(self.d, s=0.1)

    def patch_conv(self, patch: int) -> torch.Tensor:
        """The patch embedding's convolution weight ~ N(0, 1/fan_in)."""
        return torch.randn(self.d, 3, patch, patch, generator=self.gen) / math.sqrt(3 * patch**2)

    def layer_scale(self) -> torch.Tensor:
        """A LayerScale gamma in 0.1..0.6."""
        return 0.1 + 0.5 * torch.rand(self.d, generator=self.gen)


def _random_dinov2_state_dict(spec: ViTSpec, draw: _RandomWeights) -> dict[str, torch.Tensor]:
    """Random weights in Meta's DINOv2 checkpoint layout."""
    d, w, small, norm = spec.dim, draw.w, draw.small, draw.norm
    sd: dict[str, torch.Tensor] = {}
    sd["cls_token"] = small(1, 1, d, s=0.5)
    sd["pos_embed"] = small(1, 1 + DINOV2_NATIVE_GRID**2, d, s=0.5)
    sd["mask_token"] = torch.zeros(1, d)
    sd["patch_embed.proj.weight"] = draw.patch_conv(spec.patch)
    sd["patch_embed.proj.bias"] = small(d)
    hidden = swiglu_hidden(d) if spec.swiglu else 4 * d
    for i in range(spec.depth):
        p = f"blocks.{i}."
        norm(p + "norm1", sd)
        sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"] = w(3 * d, d), small(3 * d)
        sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"] = w(d, d), small(d)
        sd[p + "ls1.gamma"] = draw.layer_scale()
        norm(p + "norm2", sd)
        if spec.swiglu:
            sd[p + "mlp.w12.weight"], sd[p + "mlp.w12.bias"] = w(2 * hidden, d), small(2 * hidden)
            sd[p + "mlp.w3.weight"], sd[p + "mlp.w3.bias"] = w(d, hidden), small(d)
        else:
            sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"] = w(hidden, d), small(hidden)
            sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"] = w(d, hidden), small(d)
        sd[p + "ls2.gamma"] = draw.layer_scale()
    norm("norm", sd)
    return sd


def _random_clip_state_dict(spec: ViTSpec, draw: _RandomWeights) -> dict[str, torch.Tensor]:
    """Random weights in OpenAI's CLIP checkpoint layout (the image tower; the text
    projection only for its width)."""
    d, w, small, norm = spec.dim, draw.w, draw.small, draw.norm
    sd: dict[str, torch.Tensor] = {}
    v = "visual."
    sd[v + "class_embedding"] = small(d, s=d**-0.5)
    sd[v + "positional_embedding"] = small(spec.grid**2 + 1, d, s=d**-0.5)
    sd[v + "conv1.weight"] = draw.patch_conv(spec.patch)
    norm(v + "ln_pre", sd)
    for i in range(spec.depth):
        p = f"{v}transformer.resblocks.{i}."
        norm(p + "ln_1", sd)
        sd[p + "attn.in_proj_weight"], sd[p + "attn.in_proj_bias"] = w(3 * d, d), small(3 * d)
        sd[p + "attn.out_proj.weight"], sd[p + "attn.out_proj.bias"] = w(d, d), small(d)
        norm(p + "ln_2", sd)
        sd[p + "mlp.c_fc.weight"], sd[p + "mlp.c_fc.bias"] = w(4 * d, d), small(4 * d)
        sd[p + "mlp.c_proj.weight"], sd[p + "mlp.c_proj.bias"] = w(d, 4 * d), small(d)
    norm(v + "ln_post", sd)
    sd[v + "proj"] = torch.randn(d, spec.out_dim, generator=draw.gen) / math.sqrt(d)
    sd["text_projection"] = torch.zeros(1, spec.out_dim)  # the text tower is not used (its width only)
    return sd


# ------------------------------------------------------------------ the extractors


def _spec(family: str, arch: str | None) -> ViTSpec:
    table = DINOV2_ARCHS if family == "dinov2" else CLIP_ARCHS
    if arch not in table:
        options = ", ".join(f"{family}:{a}" for a in table)
        raise ParameterError(f"extractor architecture must be one of {options}; got {family}:{arch}")
    return table[arch]


class _ViTExtractor(FileWeightsExtractor):
    family = ""
    default_arch = ""
    modes: tuple[str, ...] = ()
    preprocessing: str  # one of ``modes``, set in __init__
    env_var = ""
    mean: tuple = ()
    std: tuple = ()
    label = ""

    def __init__(
        self,
        arch: str | None = None,
        weights: str | Path | None = None,
        preprocessing: str | None = None,
        *,
        state_dict: Mapping[str, Any] | None = None,
    ):
        self.spec = _spec(self.family, arch or self.default_arch)
        self.name = f"{self.family}:{self.spec.arch}"
        mode = preprocessing or self.modes[0]
        if mode not in self.modes:
            raise ParameterError(
                f"preprocessing for extractor {self.family!r} must be one of "
                f"{', '.join(map(repr, self.modes))}; got {mode!r}"
            )
        self.preprocessing = mode
        self._weights = weights
        self._state_dict = state_dict
        self._path: Path | None = None

    # what the weights are and where they are
    def _candidates(self) -> tuple[list[tuple[str, str]], list[str]]:  # pragma: no cover - overridden
        return [], []

    def _other_files(self) -> list[Path]:
        return []

    def _resolved(self) -> Path:
        if self._path is None:
            from .weights import resolve_model_weights

            hf, hub = self._candidates()
            self._path = resolve_model_weights(
                self._weights,
                what=f"{self.label} ({self.name})",
                env_var=self.env_var,
                hf_files=hf,
                hub_files=hub,
                other_files=self._other_files(),
            )
        return self._path

    def prepare(self, images: Any) -> Any:
        from .preprocessing import preprocess_vit

        return preprocess_vit(images, self.preprocessing, self.spec.img_size, self.mean, self.std)

    def _convert(self, sd: Mapping[str, Any], source: str) -> dict[str, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def network(self) -> nn.Module:
        """The network on the CPU, in eval mode, with the weights loaded."""
        net = build_vit(self.family, self.spec)  # first: without timm, say so before reading GBs
        if self._state_dict is not None:
            sd, source = self._state_dict, "state_dict"
        else:
            from .weights import load_state_dict_file

            path = self._resolved()
            sd, source = load_state_dict_file(path), str(path)
        return _load_checked(
            net, self._convert(sd, source), source, f"{self.label} {self.spec.arch}", fresh=self._state_dict is None
        )

    def build(self, device: Any) -> Any:
        return self.network().to(device)


class DINOv2Extractor(_ViTExtractor):
    """DINOv2 ViT: the class token after the final LayerNorm (FD_DINOv2's features).

    Parameters
    ----------
    arch : {"vits14", "vitb14", "vitl14", "vitg14"}, default="vitl14"
        384-, 768-, 1024- or 1536-D features.
    weights : str or Path, optional
        Checkpoint (Meta ``.pth``, timm or transformers ``.safetensors``/``.bin``); default
        ``$GANEVAL_DINOV2_WEIGHTS``, then the Hugging Face hub cache, then the torch hub cache.
    preprocessing : {"dgm-eval", "clean", "tf"}, default="dgm-eval"
        Resize to 224x224 (see :func:`ganeval.features.preprocessing.preprocess_vit`).
    state_dict : mapping, optional
        Weights in memory (tests, benchmarks), any accepted layout; ``weights_sha256=None``.

    Examples
    --------
    >>> ext = DINOv2Extractor("vits14", state_dict={})
    >>> ext.name, ext.preprocessing
    ('dinov2:vits14', 'dgm-eval')
    """

    family = "dinov2"
    default_arch = "vitl14"
    modes = ("dgm-eval", "clean", "tf")
    env_var = "GANEVAL_DINOV2_WEIGHTS"
    label = "DINOv2"

    mean = IMAGENET_MEAN
    std = IMAGENET_STD

    def _candidates(self):
        s = self.spec
        hf = [
            (s.hf_timm, "model.safetensors"),
            (s.hf_original, "model.safetensors"),
            (s.hf_original, "pytorch_model.bin"),
        ]
        return hf, [s.hub_file]

    def _convert(self, sd, source):
        return convert_dinov2_state_dict(sd, self.spec.grid, source)

    def split_outputs(self, out: Any) -> tuple[Any, Any]:
        return out, None


class CLIPExtractor(_ViTExtractor):
    """OpenAI CLIP image tower: the projected image embedding, L2-normalised (CMMD's features).

    Parameters
    ----------
    arch : {"vit-l-14-336", "vit-l-14", "vit-b-16", "vit-b-32"}, default="vit-l-14-336"
        768-D (ViT-L) or 512-D (ViT-B) features.
    weights : str or Path, optional
        Checkpoint (OpenAI/open_clip state dict or TorchScript ``.pt``, transformers or timm
        layout); default ``$GANEVAL_CLIP_WEIGHTS``, then the Hugging Face hub cache, then
        OpenAI's ``.pt`` in the torch hub cache (torch-fidelity) or ``~/.cache/clip`` (clip package).
    preprocessing : {"cmmd", "tf"}, default="cmmd"
        Centre crop + PIL bicubic (CMMD), or TF1 bilinear without crop (torch-fidelity).
    state_dict : mapping, optional
        Weights in memory (tests, benchmarks); ``weights_sha256=None``.

    Examples
    --------
    >>> ext = CLIPExtractor(state_dict={})
    >>> ext.name, ext.preprocessing, ext.spec.img_size
    ('clip:vit-l-14-336', 'cmmd', 336)
    """

    family = "clip"
    default_arch = "vit-l-14-336"
    modes = ("cmmd", "tf")
    env_var = "GANEVAL_CLIP_WEIGHTS"
    label = "CLIP"

    mean = CLIP_MEAN
    std = CLIP_STD

    def _candidates(self):
        s = self.spec
        hf = [
            (s.hf_original, "model.safetensors"),
            (s.hf_original, "pytorch_model.bin"),
            (s.hf_timm, "open_clip_model.safetensors"),
            (s.hf_timm, "open_clip_pytorch_model.bin"),
            (s.hf_timm, "model.safetensors"),
        ]
        # OpenAI's TorchScript files, as torch-fidelity and OpenAI's clip package cache them
        hub = [f"clip-{s.openai_name.lower()}-{s.openai_sha256}.pt"]
        return hf, hub

    def _other_files(self) -> list[Path]:
        return [Path("~/.cache/clip") / f"{self.spec.openai_name}.pt"]

    def _convert(self, sd, source):
        return convert_clip_state_dict(sd, source)

    def split_outputs(self, out: Any) -> tuple[Any, Any]:
        f = out.double()
        return f / f.norm(dim=1, keepdim=True), None
