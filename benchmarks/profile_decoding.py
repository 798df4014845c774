"""Where the time of a folder -> FID goes on this machine: decoding vs resizing vs network.

For a folder of PNG and one of JPEG files (``--n`` seeded smooth images of ``--size``
pixels, written by ``bench_end_to_end.py``'s writer), per image and on one thread:

- decoding with PIL (:func:`ganeval.sources.images.decode_image`, the reference) and with
  ganeval's reader (``FolderImageSource.read``: libpng/libjpeg-turbo through torchvision.io
  where that gives PIL's pixels), checked equal;
- resizing to 299x299 in each preprocessing mode (``tf``, ``pytorch-fid``, ``clean``);
- the FID Inception (seeded random weights) at ``--threads`` threads, per image of a batch;

then whole-folder decoding throughput with ``W`` DataLoader worker processes against a pool
of ``W`` threads (the two ways to decode in parallel), and serially.

    python benchmarks/profile_decoding.py [--n 200] [--size 256] [--threads 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_end_to_end import build_folder


def per_item(fn, items, repeat: int = 1) -> float:
    """Seconds per item of ``fn`` over ``items`` (best of ``repeat`` passes)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, (time.perf_counter() - t) / len(items))
    return best


def loader_rate(src, workers: int) -> float:
    class Decode:
        def __len__(self):
            return len(src)

        def __getitem__(self, i):
            return torch.from_numpy(src.read(i))

    loader = torch.utils.data.DataLoader(Decode(), batch_size=50, num_workers=workers, collate_fn=lambda b: len(b))
    t = time.perf_counter()
    n = sum(loader)
    return n / (time.perf_counter() - t)


def threads_rate(src, workers: int) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        n = sum(1 for _ in ex.map(src.read, range(len(src))))
    return n / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="network threads")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--network-images", type=int, default=10, help="images through the network (one batch)")
    args = ap.parse_args()

    from ganeval.features.inception import FIDInceptionV3
    from ganeval.features.preprocessing import preprocess
    from ganeval.sources.images import FolderImageSource, decode_image

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("png", "jpg"):
            folder = Path(tmp) / fmt
            build_folder(folder, fmt, args.n, args.size)
            src = FolderImageSource(folder)
            paths = [folder / f for f in src.files]
            torch.set_num_threads(1)
            pil = per_item(lambda p: decode_image(p, p.name), paths, 2)
            fast = per_item(src.read, range(len(src)), 2)
            assert all(np.array_equal(src.read(i), decode_image(p, p.name)) for i, p in enumerate(paths))
            x = torch.from_numpy(src.read(0)).permute(2, 0, 1)[None]
            resize = {m: per_item(lambda _: preprocess(x, m), range(20)) for m in ("tf", "pytorch-fid", "clean")}
            serial = len(src) / (fast * len(src))
            rates = {w: (loader_rate(src, w), threads_rate(src, w)) for w in sorted({args.workers, 2})}
            rows.append((fmt, pil, fast, resize, serial, rates, os.path.getsize(paths[0])))

        torch.set_num_threads(args.threads)
        net = FIDInceptionV3.random(seed=0).eval().to(memory_format=torch.channels_last)
        xb = torch.zeros(args.network_images, 3, 299, 299).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            net(xb[:2])
            t = time.perf_counter()
            net(xb)
            network = (time.perf_counter() - t) / args.network_images

    print(f"{args.n} files per format, {args.size}x{args.size}; network at {args.threads} thread(s)\n")
    print("per image, one thread      decode PIL  decode ganeval  resize tf  pytorch-fid  clean   network")
    for fmt, pil, fast, resize, _, _, size in rows:
        print(
            f"{fmt:4s} ({size / 1024:6.1f} KiB/file)    {pil * 1e3:7.2f} ms  {fast * 1e3:9.2f} ms  "
            f"{resize['tf'] * 1e3:7.2f} ms  {resize['pytorch-fid'] * 1e3:7.2f} ms  {resize['clean'] * 1e3:6.2f} ms  "
            f"{network * 1e3:7.1f} ms"
        )
    print("\nfolder decoding, images/s   serial   " + "   ".join(f"{w} workers / {w} threads" for w in rows[0][5]))
    for fmt, _, _, _, serial, rates, _ in rows:
        cells = "   ".join(f"{lo:9.0f} / {th:9.0f}" for lo, th in rates.values())
        print(f"{fmt:27s} {serial:7.0f}   {cells}")
    print(f"\nload average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
