"""What TF32 does to FID on a GPU: feature error, FID error and images/s of the FID Inception
(and DINOv2 ViT-L/14) with TF32 on (PyTorch's default for cuDNN convolutions) and off,
against a float64 run of the same network as the reference. Downloads nothing.

PyTorch runs cuDNN convolutions in TF32 by default on Ampere and later GPUs
(``torch.backends.cudnn.allow_tf32 = True``) and float32 matrix products in full float32
(``torch.backends.cuda.matmul.allow_tf32 = False``). pytorch-fid, torch-fidelity and
torchmetrics leave these as they are, so their GPU FIDs are TF32 FIDs. This script measures
how far that moves the number.

Images: two seeded sets of smooth random images (8x8 noise, bilinear to 256x256, uint8) made
on the device, the fake set with a brightness shift, so the FID is well away from zero.
Network: ``FIDInceptionV3.random(seed=0)`` (random weights, the real network's cost and
numerics; the real weights cannot be downloaded here), ``tf`` preprocessing. FIDs in float64
on the host from each run's features.

    python benchmarks/gpu_precision.py            # on a CUDA machine, about a minute
    python benchmarks/gpu_precision.py --tiny     # smoke run (any device)
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from _util import smooth_images  # benchmarks/ is on sys.path when a script runs

from ganeval.features.inception import FIDInceptionV3
from ganeval.features.preprocessing import IMAGENET_MEAN, IMAGENET_STD, preprocess, preprocess_vit
from ganeval.features.vit import DINOV2_ARCHS, DINOv2Extractor, random_original_state_dict
from ganeval.metrics.fid import fid_from_features


class Pool3(torch.nn.Module):
    def __init__(self, net: FIDInceptionV3):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["pool3"]


def set_tf32(on: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.cudnn.allow_tf32 = on
        torch.backends.cuda.matmul.allow_tf32 = on


def run(net, prep, images: torch.Tensor, batch: int, dtype: torch.dtype, device) -> tuple[float, np.ndarray]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    net = net.to(dtype)
    with torch.inference_mode():
        net(prep(images[:batch]).to(dtype))  # warm-up
        sync()
        t = time.perf_counter()
        out = [net(prep(b).to(dtype)).double().cpu() for b in images.split(batch)]
        sync()
        wall = time.perf_counter() - t
    return images.shape[0] / wall, torch.cat(out).numpy()


def compare(title: str, net, prep, real, fake, batch, device, modes) -> None:
    print(title)
    feats = {}
    for name, dtype, tf32 in modes:
        set_tf32(tf32)
        r_rate, fr = run(net, prep, real, batch, dtype, device)
        f_rate, ff = run(net, prep, fake, batch, dtype, device)
        feats[name] = (fr, ff, 2 / (1 / r_rate + 1 / f_rate))
    set_tf32(True if device.type == "cuda" else False)
    torch.backends.cuda.matmul.allow_tf32 = False  # back to PyTorch's defaults
    ref_r, ref_f, _ = feats["float64"]
    ref_fid = fid_from_features(ref_r, ref_f).value
    scale = np.abs(ref_r).max()
    for name, (fr, ff, rate) in feats.items():
        fid = fid_from_features(fr, ff).value
        err = max(np.abs(fr - ref_r).max(), np.abs(ff - ref_f).max()) / scale
        print(
            f"  {name:<22} {rate:8.1f} images/s   FD {fid:.6f}   |FD - FD64| / FD64 {abs(fid - ref_fid) / ref_fid:.1e}"
            f"   max feature error {err:.1e} (of the largest feature)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000, help="per side, Inception")
    ap.add_argument("--vit-images", type=int, default=2048, help="per side, DINOv2 ViT-L/14")
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tiny", action="store_true", help="16 images, ViT-S/14: a smoke run")
    args = ap.parse_args()
    device = torch.device(args.device)
    if args.tiny:
        args.images = args.vit_images = 16
        args.batch = 8
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {name}, torch {torch.__version__}")
    modes = [
        ("float64", torch.float64, False),
        ("float32, TF32 off", torch.float32, False),
        ("float32, TF32 on", torch.float32, True),
    ]

    real = smooth_images(args.images, 256, device, seed=0)
    fake = smooth_images(args.images, 256, device, seed=1, shift=20.0)
    net = Pool3(FIDInceptionV3.random(seed=0)).to(device).to(memory_format=torch.channels_last)
    compare(
        f"FID Inception (random weights), {args.images} images per side, batch {args.batch}",
        net,
        lambda b: preprocess(b, "tf"),
        real,
        fake,
        args.batch,
        device,
        modes,
    )
    del real, fake, net

    arch = "vits14" if args.tiny else "vitl14"
    spec = DINOV2_ARCHS[arch]
    vit = DINOv2Extractor(arch, state_dict=random_original_state_dict("dinov2", arch, seed=0)).network().to(device)
    real = smooth_images(args.vit_images, 256, device, seed=2)
    fake = smooth_images(args.vit_images, 256, device, seed=3, shift=20.0)
    prep = lambda b: preprocess_vit(b, "tf", spec.img_size, IMAGENET_MEAN, IMAGENET_STD)
    compare(
        f"DINOv2 {arch} (random weights), {args.vit_images} images per side, batch 128",
        vit,
        prep,
        real,
        fake,
        min(args.batch, 128),
        device,
        modes,
    )


if __name__ == "__main__":
    main()
