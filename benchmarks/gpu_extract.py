"""GPU images/s of FID feature extraction: ganeval vs pytorch-fid, identical random weights.

Self-contained (needs ganeval, pytorch-fid and a CUDA device; downloads nothing):
10,000 random uint8 images (generated on the device from a seeded generator, one batch at a
time), batch 250, preprocessing + network + copy of the pool3 features to the host, timed
after one warm-up batch with ``torch.cuda.synchronize``.

* anchor: pytorch-fid's ``InceptionV3([3])`` (resize + normalise inside), fed ``x / 255`` as its
  ``fid_score`` does, under ``torch.no_grad``;
* ours: :func:`ganeval.features.preprocessing.preprocess` (``pytorch-fid`` mode, the same
  arithmetic as the anchor, and the default ``tf`` mode) + ``FIDInceptionV3`` in
  ``channels_last`` under ``torch.inference_mode``.

    python benchmarks/gpu_extract.py [--images 10000] [--batch 250] [--size 256]
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import pytorch_fid.inception as pfi
import torch

from ganeval.features.inception import FIDInceptionV3
from ganeval.features.preprocessing import preprocess


def batches(n: int, batch: int, size: int, device: torch.device, seed: int = 0):
    g = torch.Generator(device=device).manual_seed(seed)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        yield torch.randint(0, 256, (m, 3, size, size), generator=g, device=device, dtype=torch.uint8)


def timed(name: str, fn, args, device) -> tuple[float, torch.Tensor]:
    first = next(batches(args.batch, args.batch, args.size, device, seed=123))
    fn(first)  # warm-up: cuDNN algorithm choice, allocator
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    feats = [fn(x) for x in batches(args.images, args.batch, args.size, device)]
    sync()
    dt = time.perf_counter() - t0
    rate = args.images / dt
    print(f"{name:52s} {rate:9.1f} images/s  ({dt:.2f} s)")
    return rate, torch.cat(feats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--size", type=int, default=256, help="side of the random square images")
    ap.add_argument("--device", default="cuda", help="cpu only for a quick smoke run of this script")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("this benchmark needs a CUDA device")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {args.images} images {args.size}x{args.size} at batch {args.batch}")

    ours = FIDInceptionV3.random(seed=0)
    sd = {k: v.clone() for k, v in ours.state_dict().items()}
    with mock.patch.object(pfi, "load_state_dict_from_url", lambda *a, **k: sd), torch.random.fork_rng():
        anchor = pfi.InceptionV3([3]).eval().to(device)
    ours = ours.to(device).to(memory_format=torch.channels_last)

    def run_anchor(x):
        with torch.no_grad():
            return anchor(x.float() / 255)[0].flatten(1).cpu()

    def run_ours(mode):
        def fn(x):
            with torch.inference_mode():
                return ours(preprocess(x, mode))["pool3"].cpu()

        return fn

    r_anchor, f_anchor = timed("pytorch-fid InceptionV3 (no_grad, NCHW)", run_anchor, args, device)
    r_pt, f_pt = timed("ganeval, preprocessing=pytorch-fid (inference, CL)", run_ours("pytorch-fid"), args, device)
    r_tf, _ = timed("ganeval, preprocessing=tf (inference, CL)", run_ours("tf"), args, device)
    print(f"ratio ours(pytorch-fid)/anchor {r_pt / r_anchor:.2f}x, ours(tf)/anchor {r_tf / r_anchor:.2f}x")
    diff = (f_pt - f_anchor).abs().max().item()
    scale = f_anchor.abs().max().item()
    print(
        f"max |pool3 ours - anchor| over all images: {diff:.2e} (features up to {scale:.1f}; "
        f"channels_last/cuDNN algorithm choice changes the rounding)"
    )


if __name__ == "__main__":
    main()
