"""ganeval's own GPU passes: full float32 by default, TF32 with ``tf32=True``. Checks that the
switch reaches the network (feature error against a CPU run, images/s) and that the user's
process-wide TF32 settings are left as they were. Downloads nothing.

The FID Inception with seeded random weights (``FIDInceptionV3.random``; the real weights
cannot be downloaded here) runs through :meth:`ganeval.Evaluator.features` (preprocessing and
network on the device, as in a training loop), on smooth random 256x256 uint8 images made on
the device. ``torch.backends.cudnn.allow_tf32`` is left at PyTorch's default (True) and the
matmul precision at ``"high"`` (TF32), as a training loop might set them: the default run must
still be full float32. The anchor (default, full float32) and ``tf32=True`` alternate, twice.
The figures on what TF32 does to the FID itself come from ``benchmarks/gpu_precision.py``.

    python benchmarks/gpu_tf32.py            # on a CUDA machine, under a minute
    python benchmarks/gpu_tf32.py --tiny     # smoke run (any device: on CPU nothing switches)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _util import smooth_images  # benchmarks/ is on sys.path when a script runs

import ganeval
from ganeval.features.extractors import InceptionExtractor
from ganeval.features.inception import FIDInceptionV3
from ganeval.features.precision import precision_flags


def features(ev: ganeval.Evaluator, images: torch.Tensor, batch: int, device: torch.device) -> tuple[float, np.ndarray]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    ev.features(images[:batch])  # warm-up (cuDNN algorithm choice)
    sync()
    t = time.perf_counter()
    out = [ev.features(b)[0] for b in images.split(batch)]
    sync()
    wall = time.perf_counter() - t
    return images.shape[0] / wall, torch.cat(out).double().cpu().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--cpu-images", type=int, default=16, help="images compared with a CPU run")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tiny", action="store_true", help="8 images: a smoke run")
    args = ap.parse_args()
    if args.tiny:
        args.images, args.batch, args.cpu_images = 8, 4, 4
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {name}, torch {torch.__version__}")
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default, stated
    torch.set_float32_matmul_precision("high")  # what a training loop might set
    before = precision_flags()
    ext = InceptionExtractor(state_dict=FIDInceptionV3.random(seed=0).state_dict())
    images = smooth_images(args.images, 256, device, seed=0)
    evs = {tf32: ganeval.Evaluator(("fid",), extractor=ext, device=device, tf32=tf32) for tf32 in (False, True)}
    rates: dict[bool, list[float]] = {False: [], True: []}
    feats: dict[bool, np.ndarray] = {}
    for _ in range(2):
        for tf32 in (False, True):
            rate, f = features(evs[tf32], images, args.batch, device)
            rates[tf32].append(rate)
            feats[tf32] = f
    assert precision_flags() == before, (precision_flags(), before)
    cpu_ev = ganeval.Evaluator(("fid",), extractor=ext, device="cpu")
    k = args.cpu_images
    cpu = cpu_ev.features(images[:k].cpu())[0].double().numpy()
    scale = np.abs(cpu).max()
    for tf32, label in ((False, "default (full float32)"), (True, "tf32=True")):
        err = np.abs(feats[tf32][:k] - cpu).max() / scale
        print(
            f"  {label:<24} {max(rates[tf32]):8.1f} images/s (best of 2)   largest feature error vs CPU "
            f"{err:.1e} (of the largest feature)"
        )
    print(f"  tf32=True / default: {max(rates[True]) / max(rates[False]):.2f}x")
    print(f"  user's flags unchanged after the passes: {precision_flags() == before} ({before})")


if __name__ == "__main__":
    main()
