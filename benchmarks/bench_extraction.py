"""Image folder -> FID statistics: ganeval vs pytorch-fid, same folder, same (random) weights.

Both sides run the FID Inception v3 loaded with one seeded random state dict (no download),
the pytorch-fid preprocessing (bilinear ``F.interpolate`` to 299, ``2x - 1``), the same batch
size and the same number of decoding workers, on the same folder of PNGs. Each side is
warmed up on a few images first (network built, weights loaded), then timed on the whole
folder, the two sides alternating (``--repeats``, best run kept). The script prints images/s for both, the speed ratio and the largest difference of
the statistics.

    python benchmarks/bench_extraction.py                 # CPU: 200 PNGs of 64x64
    python benchmarks/bench_extraction.py --n 10000 --batch-size 250 --device cuda

ganeval's extra speed comes from decoding *and resizing* in worker processes, the network in
``channels_last`` memory format and ``torch.inference_mode``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def write_pngs(folder: Path, n: int, size: int, seed: int = 0) -> list[str]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    files = []
    for i in range(n):
        # smooth-ish random images (a noisy upsampled pattern), compress like real photos do
        img = np.kron(base, np.ones((size // 8, size // 8, 1), np.uint8)).astype(np.int16)
        img += rng.integers(-40, 41, img.shape, dtype=np.int16)
        p = folder / f"{i:05d}.png"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(p)
        files.append(str(p))
    return files


def pytorch_fid_model(state_dict, device):
    import pytorch_fid.inception as pfi

    original = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: state_dict
    try:
        with torch.random.fork_rng(devices=[]):  # its constructor draws default inits
            model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        pfi.load_state_dict_from_url = original
    return model.to(device).eval()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="number of PNGs (default 200)")
    ap.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--num-workers", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--folder", default=None, help="use this folder of PNGs instead of writing one")
    ap.add_argument("--repeats", type=int, default=2, help="alternating timed runs per side; the best is kept")
    args = ap.parse_args()

    from pytorch_fid.fid_score import calculate_activation_statistics

    from ganeval.features import extract_features
    from ganeval.features.inception import FIDInceptionV3
    from ganeval.statistics import FeatureStats

    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights = tmp / "random_inception.pth"
        state = FIDInceptionV3.random(seed=0).state_dict()
        torch.save(state, weights)
        if args.folder:
            folder = Path(args.folder)
            files = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() == ".png")
        else:
            folder = tmp / "imgs"
            folder.mkdir()
            t = time.perf_counter()
            files = write_pngs(folder, args.n, args.size)
            print(f"wrote {len(files)} PNGs of {args.size}x{args.size} in {time.perf_counter() - t:.1f}s")
        warm = tmp / "warm"
        warm.mkdir()
        for f in files[:4]:
            os.symlink(f, warm / Path(f).name)
        n = len(files)
        kw = dict(
            extractor="inception",
            weights=weights,
            preprocessing="pytorch-fid",
            cache=False,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            device=device,
        )

        # warm up both (network built, weights loaded), then alternate the timed runs so a
        # change of machine load affects both sides alike
        model = pytorch_fid_model(state, device)
        calculate_activation_statistics(files[:4], model, batch_size=4, dims=2048, device=device, num_workers=0)
        extract_features(warm, **{**kw, "num_workers": 0})
        t_refs, t_ours_list = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            mu_ref, sigma_ref = calculate_activation_statistics(
                files, model, batch_size=args.batch_size, dims=2048, device=device, num_workers=args.num_workers
            )
            if device.type == "cuda":
                torch.cuda.synchronize()
            t_refs.append(time.perf_counter() - t)

            t = time.perf_counter()
            out = extract_features(folder, **kw)
            stats = FeatureStats.from_features(out.features)
            mu, sigma = stats.mean, stats.cov
            if device.type == "cuda":
                torch.cuda.synchronize()
            t_ours_list.append(time.perf_counter() - t)
        del model
        t_ref, t_ours = min(t_refs), min(t_ours_list)

    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU x{os.cpu_count()}"
    print(
        f"device: {dev_name}; torch {torch.__version__}; {n} images, batch {args.batch_size}, "
        f"{args.num_workers} workers"
    )
    print(f"pytorch-fid : {t_ref:8.2f} s  {n / t_ref:8.1f} images/s  (runs: {', '.join(f'{x:.1f}' for x in t_refs)} s)")
    print(
        f"ganeval     : {t_ours:8.2f} s  {n / t_ours:8.1f} images/s  (runs: {', '.join(f'{x:.1f}' for x in t_ours_list)} s)"
    )
    print(f"speed ratio ganeval / pytorch-fid: {t_ref / t_ours:.2f}x")
    print(f"max |mu diff| = {np.abs(mu - mu_ref).max():.2e}, max |sigma diff| = {np.abs(sigma - sigma_ref).max():.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
