"""CPU forward throughput: ganeval's FID Inception vs pytorch-fid's, same random weights.

Both networks get the same seeded random weights (nothing is downloaded) and the same
preprocessed 299x299 inputs. The anchor runs as pytorch-fid's ``fid_score`` runs it
(``torch.no_grad``, NCHW). Ours runs in several settings, to show which of
``torch.inference_mode``, ``channels_last`` and ``torch.compile`` help on this CPU. Settings
are timed in interleaved rounds (best round kept), so a busy machine biases them alike; the
process CPU time per image is printed too, as it is much less sensitive to other load.

    .venv/bin/python benchmarks/bench_inception.py [--images 64] [--batch 32] [--rounds 3] [--compile]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from unittest import mock

import pytorch_fid.inception as pfi
import torch

from ganeval.features.inception import FIDInceptionV3


def build_anchor(state_dict):
    with mock.patch.object(pfi, "load_state_dict_from_url", lambda *a, **k: dict(state_dict)), torch.random.fork_rng():
        return pfi.InceptionV3([3], resize_input=False, normalize_input=False).eval()


def run(fn, batches, ctx):
    t0, c0 = time.perf_counter(), time.process_time()
    outs = []
    with ctx():
        for b in batches:
            outs.append(fn(b))
    return time.perf_counter() - t0, time.process_time() - c0, torch.cat(outs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(ours) (slow first call)")
    args = ap.parse_args()

    ours = FIDInceptionV3.random(seed=0)
    anchor = build_anchor(ours.state_dict())
    ours_cl = FIDInceptionV3.random(seed=0).to(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(0)
    x = torch.rand((args.images, 3, 299, 299), generator=g) * 2 - 1
    batches = list(x.split(args.batch))
    batches_cl = [b.contiguous(memory_format=torch.channels_last) for b in batches]

    settings = {
        "pytorch-fid (no_grad, NCHW)": (lambda b: anchor(b)[0].flatten(1), batches, torch.no_grad),
        "ours (no_grad, NCHW)": (lambda b: ours(b)["pool3"], batches, torch.no_grad),
        "ours (inference_mode, NCHW)": (lambda b: ours(b)["pool3"], batches, torch.inference_mode),
        "ours (inference_mode, channels_last)": (lambda b: ours_cl(b)["pool3"], batches_cl, torch.inference_mode),
    }
    if args.compile:
        compiled = torch.compile(ours_cl)
        settings["ours (compile, inference_mode, channels_last)"] = (
            lambda b: compiled(b)["pool3"],
            batches_cl,
            torch.inference_mode,
        )

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.images} images at batch {args.batch}")
    best = {name: float("inf") for name in settings}
    best_cpu = dict(best)
    feats = {}
    for name, (fn, bs, ctx) in settings.items():  # warm-up (oneDNN primitives, compile)
        t0 = time.perf_counter()
        run(fn, bs[:1], ctx)
        print(f"  warm-up {name}: {time.perf_counter() - t0:.1f} s")
    for _ in range(args.rounds):
        for name, (fn, bs, ctx) in settings.items():
            dt, cpu, f = run(fn, bs, ctx)
            best[name] = min(best[name], dt)
            best_cpu[name] = min(best_cpu[name], cpu)
            feats[name] = f
    ref_name = "pytorch-fid (no_grad, NCHW)"
    ref_rate = args.images / best[ref_name]
    ref_cpu = best_cpu[ref_name]
    for name in settings:
        rate = args.images / best[name]
        cpu_ms = 1000 * best_cpu[name] / args.images
        diff = (feats[name] - feats[ref_name]).abs().max().item()
        print(
            f"{name:48s} {rate:7.2f} images/s (x{rate / ref_rate:4.2f})   "
            f"{cpu_ms:6.0f} CPU-ms/image (anchor/ours x{ref_cpu / best_cpu[name]:4.2f})   "
            f"max|pool3 - anchor| {diff:.1e}"
        )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
