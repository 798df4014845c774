"""CPU cost of ``Evaluator.update`` over a bare extractor call, at batch 256.

"Bare": ``net(extractor.prepare(images))`` (what any evaluation must run). "update": the
whole ``Evaluator.update`` with FID+KID+IS+PRDC (image checks, the same network call, FID
moments in float64, rows and logits kept). The two alternate ``--repeat`` times on the same
uint8 batch; the best of each is compared.

``--split`` (for Inception on a slow CPU, where one pass over 256 images takes minutes):
the bare call is timed ``--repeat`` times, and what update adds on top of it (the image
check, the float64 moments, keeping rows and logits: an Evaluator fed the network's own
outputs for that batch) is timed separately ``--inner`` times, best of each.

    python benchmarks/bench_evaluator.py [--extractor inception|digits] [--batch 256] [--repeat 3] [--split]

``inception`` uses seeded random weights (the cost of the real network; no file needed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _util import machine_line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extractor", choices=["inception", "digits"], default="inception")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--size", type=int, default=64, help="side of the random images (inception resizes to 299)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--split", action="store_true", help="time the bookkeeping apart from the network")
    ap.add_argument("--inner", type=int, default=20)
    a = ap.parse_args()
    import torch

    import ganeval

    print(machine_line(), f"torch threads {torch.get_num_threads()}")
    if a.extractor == "inception":
        from ganeval.features.extractors import InceptionExtractor
        from ganeval.features.inception import FIDInceptionV3

        net = FIDInceptionV3.random(seed=0).to(memory_format=torch.channels_last).eval()
        ext = InceptionExtractor(state_dict={})
        ext.build = lambda dev: net
        size = a.size
    else:
        from ganeval.features import get_extractor

        ext = get_extractor("digits")
        size = 8
    ev = ganeval.Evaluator(("fid", "kid", "is", "prdc"), extractor=ext, device="cpu")
    from ganeval.features.engine import network

    net = network(ext, ev.device)
    g = np.random.default_rng(0)
    x = torch.from_numpy(g.integers(0, 256, (a.batch, 3, size, size), dtype=np.uint8))

    def bare():
        threads = getattr(ext, "cpu_threads", None)
        saved = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                return ext.split_outputs(net(ext.prepare(x).contiguous(memory_format=torch.channels_last)))
        finally:
            torch.set_num_threads(saved)

    if a.split:
        from ganeval.images import images_to_uint8

        t_bare = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            f, lg = bare()
            t_bare.append(time.perf_counter() - t)
        rows = ganeval.Evaluator(("fid", "kid", "is", "prdc"), extractor=None, device="cpu")
        t_book = []
        for _ in range(a.inner):
            t = time.perf_counter()
            images_to_uint8(x, "images", (-1.0, 1.0), "cpu")
            rows.update(f, logits=lg)
            t_book.append(time.perf_counter() - t)
        b, k = min(t_bare), min(t_book)
        print(f"{a.extractor} batch {a.batch} ({size}x{size} images), split timing:")
        print(f"  bare extractor call     : {b * 1e3:10.2f} ms   (runs: {', '.join(f'{t * 1e3:.1f}' for t in t_bare)})")
        print(
            f"  what update adds        : {k * 1e3:10.2f} ms   (best of {a.inner}; median "
            f"{sorted(t_book)[len(t_book) // 2] * 1e3:.2f})"
        )
        print(f"  overhead                : {k / b * 100:+.3f} %")
        return
    bare()  # warm-up
    ev.update(x)
    t_bare, t_upd = [], []
    for _ in range(a.repeat):
        t = time.perf_counter()
        bare()
        t_bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        ev.update(x)
        t_upd.append(time.perf_counter() - t)
    b, u = min(t_bare), min(t_upd)
    print(f"{a.extractor} batch {a.batch} ({size}x{size} images), best of {a.repeat}, alternating:")
    print(f"  bare extractor call : {b * 1e3:10.2f} ms   (runs: {', '.join(f'{t * 1e3:.1f}' for t in t_bare)})")
    print(f"  Evaluator.update    : {u * 1e3:10.2f} ms   (runs: {', '.join(f'{t * 1e3:.1f}' for t in t_upd)})")
    print(f"  overhead            : {(u - b) / b * 100:+.2f} %")


if __name__ == "__main__":
    main()
