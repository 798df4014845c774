"""GPU images/s of the DINOv2 / CLIP extractors against the references' networks, same weights.

Self-contained (ganeval, timm, torch-fidelity; downloads nothing; seeded random weights in
the original checkpoint layouts). For each model, the same random uint8 images (generated on
the device from a seeded generator) are preprocessed once on the device with the ``tf`` mode
(TF1 bilinear + mean/std: the torch-fidelity / torchmetrics input path, identical for both
sides), then both networks run over them in batches under ``torch.inference_mode`` in float32,
timed after a warm-up batch with ``torch.cuda.synchronize``:

* ``dinov2:vitl14`` (and ``vits14``): ours vs timm's registered ``vit_*_patch14_dinov2`` at 224
  with the same weights (the architecture of the torch.hub model dgm-eval and torch-fidelity
  load; the hub code itself cannot be fetched offline);
* ``clip:vit-l-14-336`` (and ``vit-b-32``): ours vs OpenAI's CLIP image tower as torch-fidelity
  ships it (``torch_fidelity.feature_extractor_clip``; torchmetrics' CLIP uses transformers).

Prints images/s of each, the ratio, and the largest feature difference.

    python benchmarks/gpu_vit_extractors.py                  # on a CUDA machine, ~2-4 minutes
    python benchmarks/gpu_vit_extractors.py --tiny           # CPU check: small models, 16 images
"""

from __future__ import annotations

import argparse
import time

import torch

from ganeval.features.preprocessing import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, preprocess_vit
from ganeval.features.vit import (
    CLIP_ARCHS,
    DINOV2_ARCHS,
    CLIPExtractor,
    DINOv2Extractor,
    convert_dinov2_state_dict,
    random_original_state_dict,
)


def anchor_dinov2(arch: str, sd: dict) -> torch.nn.Module:
    import timm

    name = {
        "vits14": "vit_small_patch14_dinov2",
        "vitb14": "vit_base_patch14_dinov2",
        "vitl14": "vit_large_patch14_dinov2",
        "vitg14": "vit_giant_patch14_dinov2",
    }[arch]
    with torch.device("meta"):
        net = timm.create_model(name, pretrained=False, img_size=224, num_classes=0, init_values=1.0)
    net.load_state_dict(convert_dinov2_state_dict(sd), assign=True)
    return net.eval()


def anchor_clip(sd: dict) -> torch.nn.Module:
    from torch_fidelity.feature_extractor_clip import build_model

    with torch.random.fork_rng():  # its constructor draws placeholder weights from the global RNG
        return build_model(dict(sd), torch.float32).visual.eval()


def images_on(device: torch.device, n: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator(device=device).manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, device=device, dtype=torch.uint8)


def timed(fn, x: torch.Tensor, batch: int, device: torch.device) -> tuple[float, torch.Tensor]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    with torch.inference_mode():
        fn(x[:batch])  # warm-up
        sync()
        t = time.perf_counter()
        outs = [fn(b) for b in x.split(batch)]
        sync()
        wall = time.perf_counter() - t
    return wall, torch.cat(outs).float().cpu()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=256, help="side of the random source images")
    ap.add_argument("--models", default="dinov2:vits14,dinov2:vitl14,clip:vit-b-32,clip:vit-l-14-336")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tiny", action="store_true", help="CPU check: small models, 16 images, batch 8")
    args = ap.parse_args()
    if args.tiny:
        args.images, args.batch, args.size, args.models = 16, 8, 64, "dinov2:vits14,clip:vit-b-32"
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {name}, torch {torch.__version__}, {args.images} images {args.size}x{args.size}, batch {args.batch}")
    for model in args.models.split(","):
        family, arch = model.split(":")
        sd = random_original_state_dict(family, arch, seed=0)
        if family == "dinov2":
            spec, mean, std = DINOV2_ARCHS[arch], IMAGENET_MEAN, IMAGENET_STD
            ours = DINOv2Extractor(arch, state_dict=sd).network().to(device)
            anchor, anchor_name = anchor_dinov2(arch, sd).to(device), "timm vit_*_dinov2"
        else:
            sd = {k: v.half().float() for k, v in sd.items()}  # torch-fidelity keeps CLIP weights in float16
            spec, mean, std = CLIP_ARCHS[arch], CLIP_MEAN, CLIP_STD
            ours = CLIPExtractor(arch, state_dict=sd).network().to(device)
            anchor, anchor_name = anchor_clip(sd).to(device), "torch-fidelity CLIP"
        x = preprocess_vit(images_on(device, args.images, args.size), "tf", spec.img_size, mean, std)
        t_anchor, f_anchor = timed(anchor, x, args.batch, device)
        t_ours, f_ours = timed(ours, x, args.batch, device)
        diff = float((f_ours - f_anchor).abs().max() / f_anchor.abs().max())
        print(
            f"{model:<20} ours {args.images / t_ours:8.1f} img/s   {anchor_name} {args.images / t_anchor:8.1f} img/s   "
            f"ratio {t_anchor / t_ours:.2f}x   max rel diff {diff:.1e}"
        )
        del ours, anchor, x, sd
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
