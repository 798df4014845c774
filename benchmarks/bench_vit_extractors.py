"""CPU images/s of the DINOv2 and CLIP extractors' networks, with anchors on the same weights.

Seeded random weights in the original checkpoint layouts (nothing is downloaded), the same
preprocessed inputs (batch 32 by default), ``torch.inference_mode``, float32:

* ``dinov2:vits14`` and ``dinov2:vitl14`` (224x224): ours (timm blocks, position embeddings
  resampled once at load) against timm's registered ``vit_*_patch14_dinov2`` model built at
  224 with the same weights (``timm.create_model``; the model torch.hub's DINOv2 mirrors);
* ``clip:vit-b-32`` (224) and, with ``--large``, ``clip:vit-l-14-336``: ours against OpenAI's
  CLIP image tower as torch-fidelity ships it (``torch_fidelity.feature_extractor_clip``).

Settings are timed in alternating rounds (best round kept) so a busy machine biases them
alike; the process CPU time per image is printed too. The feature difference between ours
and the anchor is printed as a check.

    .venv/bin/python benchmarks/bench_vit_extractors.py [--images 32] [--batch 32] [--rounds 2] [--large]
"""

from __future__ import annotations

import argparse
import time

import torch

from ganeval.features.vit import CLIPExtractor, DINOv2Extractor, convert_dinov2_state_dict, random_original_state_dict


def timm_dinov2(arch: str, sd: dict) -> torch.nn.Module:
    import timm

    name = {
        "vits14": "vit_small_patch14_dinov2",
        "vitb14": "vit_base_patch14_dinov2",
        "vitl14": "vit_large_patch14_dinov2",
    }[arch]
    with torch.device("meta"):
        net = timm.create_model(name, pretrained=False, img_size=224, num_classes=0, init_values=1.0)
    net.load_state_dict(convert_dinov2_state_dict(sd), assign=True)
    return net.eval()


def fidelity_clip(sd: dict) -> torch.nn.Module:
    from torch_fidelity.feature_extractor_clip import build_model

    with torch.random.fork_rng():  # its constructor draws placeholder weights from the global RNG
        return build_model({k: v.half().float() for k, v in sd.items()}, torch.float32).visual.eval()


def run(fn, batches):
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        out = torch.cat([fn(b) for b in batches])
    return time.perf_counter() - t0, time.process_time() - c0, out


def bench(label: str, ours, anchor, anchor_name: str, x: torch.Tensor, args) -> None:
    batches = list(x.split(args.batch))
    best: dict[str, tuple[float, float]] = {}
    outs = {}
    for _ in range(args.rounds):
        for name, fn in (("ours", ours), (anchor_name, anchor)):
            wall, cpu, out = run(fn, batches)
            b = best.get(name)
            best[name] = (wall, cpu) if b is None or wall < b[0] else b
            outs[name] = out
    n = x.shape[0]
    diff = float((outs["ours"] - outs[anchor_name]).abs().max() / outs[anchor_name].abs().max())
    ratio = best[anchor_name][0] / best["ours"][0]
    print(f"{label}: {n} images, batch {args.batch}, best of {args.rounds} (under load)")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<38} {n / wall:7.2f} images/s   {1000 * cpu / n:8.1f} CPU-ms/image")
    print(f"  ours / anchor speed: {ratio:.2f}x   max |difference| / max |anchor| = {diff:.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--large", action="store_true", help="also CLIP ViT-L/14@336 (slow on a CPU)")
    ap.add_argument("--only", choices=["vits14", "vitl14", "clip"], default=None, help="run one model only")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (args.images, 3, 256, 256), generator=g, dtype=torch.uint8)

    for arch in ("vits14", "vitl14"):
        if args.only not in (None, arch):
            continue
        sd = random_original_state_dict("dinov2", arch, seed=0)
        ext = DINOv2Extractor(arch, state_dict=sd)
        net = ext.network()
        anchor = timm_dinov2(arch, sd)
        bench(f"dinov2:{arch}", net, anchor, "timm.create_model (same weights)", ext.prepare(images), args)
        del net, anchor, sd

    if args.only in (None, "clip"):
        for arch in ("vit-b-32", *(["vit-l-14-336"] if args.large else [])):
            sd = random_original_state_dict("clip", arch, seed=0)
            sd = {k: v.half().float() for k, v in sd.items()}
            ext = CLIPExtractor(arch, state_dict=sd)
            net = ext.network()
            anchor = fidelity_clip(sd)
            bench(
                f"clip:{arch} (before L2 normalisation)",
                net,
                anchor,
                "torch-fidelity OpenAI CLIP visual",
                ext.prepare(images),
                args,
            )


if __name__ == "__main__":
    main()
