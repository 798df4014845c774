"""GPU throughput of ganeval.Evaluator (FID+KID+IS+PRDC, one network pass) vs torchmetrics
(FrechetInceptionDistance + KernelInceptionDistance + InceptionScore, one pass each), and
PRDC at n = 50,000 per side, d = 2048 on the device. One command, downloads nothing:

    python benchmarks/gpu_evaluator.py                      # on a CUDA device
    python benchmarks/gpu_evaluator.py --tiny --device cpu  # smoke run (the test suite does this)

Both sides run the *same* network: the FID Inception with seeded random weights
(``FIDInceptionV3.random``, the cost of the real weights; none can be downloaded here),
handed to torchmetrics as its ``feature`` module (uint8 images in, pool3 features or logits
out), so torchmetrics runs it three times per batch (once per metric) and ganeval once.
Images: random uint8 (N, 3, 256, 256) made on the device from a seeded generator, batch 250.
Timed after a warm-up batch, with ``torch.cuda.synchronize``. The headline is one evaluation
in a training loop: the fake images' ``update`` plus the final ``compute`` (the real side is
extracted once before, by both: torchmetrics keeps real features across ``reset``); the real
phase and the total are printed too. Then PRDC (k = 5) on
50,000 x 2048 features per side on the device, float64, vs the same core on 2,000 rows.
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batches(n: int, batch: int, size: int, device: torch.device, seed: int = 0):
    g = torch.Generator(device=device).manual_seed(seed)
    for start in range(0, n, batch):
        m = min(batch, n - start)
        yield torch.randint(0, 256, (m, 3, size, size), generator=g, device=device, dtype=torch.uint8)


class _Head(torch.nn.Module):
    """uint8 images -> one output of the shared network (what torchmetrics calls)."""

    def __init__(self, extractor, net, key: str):
        super().__init__()
        self.extractor, self.net, self.key = extractor, net, key
        self.num_features = 2048 if key == "pool3" else 1008  # torchmetrics then skips its CPU probe

    def forward(self, x):
        with torch.inference_mode():
            out = self.net(self.extractor.prepare(x).contiguous(memory_format=torch.channels_last))
        return out[self.key].clone()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--images", type=int, default=5000, help="fake images (and as many real ones)")
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--prdc-n", type=int, default=50_000)
    ap.add_argument("--prdc-d", type=int, default=2048)
    ap.add_argument("--tiny", action="store_true", help="small sizes: a smoke run of the script on CPU")
    ap.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object at the end")
    a = ap.parse_args()
    if a.tiny:
        a.images, a.batch, a.size, a.prdc_n, a.prdc_d = 8, 4, 32, 300, 32
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: use --device cpu --tiny for a smoke run")

    import ganeval
    from ganeval.features.extractors import InceptionExtractor
    from ganeval.features.inception import FIDInceptionV3
    from ganeval.metrics.prdc import prdc_from_tensors

    print(
        f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}), "
        f"torch {torch.__version__}, {a.images} fake + {a.images} real images {a.size}x{a.size}, batch {a.batch}"
    )
    net = FIDInceptionV3.random(seed=0).to(device).to(memory_format=torch.channels_last).eval()
    ext = InceptionExtractor(preprocessing="tf", state_dict={})
    ext.build = lambda dev: net  # the shared network, already on the device
    kid_opts = {"subsets": 100, "subset_size": min(1000, a.images), "seed": 0}
    report: dict = {"device": str(device), "images": a.images, "batch": a.batch}

    # -- ganeval: one pass per batch, four metrics -----------------------------------------
    def run_ours(tf32: bool = False):
        ev = ganeval.Evaluator(
            ("fid", "kid", "is", "prdc"),
            extractor=ext,
            device=device,
            options={"kid": kid_opts, "is": {"splits": 10 if a.images >= 10 else 1}},
            feature_dtype="float32",
            tf32=tf32,
        )
        warm = next(_batches(a.batch, a.batch, a.size, device, seed=99))
        ev.features(warm)
        _sync(device)
        t0 = time.perf_counter()
        for x in _batches(a.images, a.batch, a.size, device, seed=1):
            ev.update(x, real=True)
        _sync(device)
        t1 = time.perf_counter()
        for x in _batches(a.images, a.batch, a.size, device, seed=2):
            ev.update(x)
        _sync(device)
        t2 = time.perf_counter()
        res = ev.compute()
        _sync(device)
        return t1 - t0, t2 - t1, time.perf_counter() - t2, res

    # -- torchmetrics: three metrics, three passes ------------------------------------------
    def run_torchmetrics():
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.inception import InceptionScore
        from torchmetrics.image.kid import KernelInceptionDistance

        pool, logits = _Head(ext, net, "pool3"), _Head(ext, net, "logits")
        fid = FrechetInceptionDistance(feature=pool).to(device)
        kid = KernelInceptionDistance(
            feature=pool, subsets=kid_opts["subsets"], subset_size=kid_opts["subset_size"]
        ).to(device)
        is_ = InceptionScore(feature=logits, splits=10 if a.images >= 10 else 1).to(device)
        warm = next(_batches(a.batch, a.batch, a.size, device, seed=99))
        pool(warm)
        _sync(device)
        t0 = time.perf_counter()
        for x in _batches(a.images, a.batch, a.size, device, seed=1):
            fid.update(x, real=True)
            kid.update(x, real=True)
        _sync(device)
        t1 = time.perf_counter()
        for x in _batches(a.images, a.batch, a.size, device, seed=2):
            fid.update(x, real=False)
            kid.update(x, real=False)
            is_.update(x)
        _sync(device)
        t2 = time.perf_counter()
        out = {"fid": float(fid.compute()), "kid": float(kid.compute()[0]), "is": float(is_.compute()[0])}
        _sync(device)
        return t1 - t0, t2 - t1, time.perf_counter() - t2, out

    # ganeval runs its network in full float32 by default; torchmetrics runs it at PyTorch's
    # default (TF32 convolutions on Ampere and later). Both of ours are timed: the default, and
    # tf32=True (the same arithmetic as torchmetrics)
    runs = {"full float32 (default)": run_ours(False), "tf32=True": run_ours(True)}
    m_real, m_fake, m_cmp, ref = run_torchmetrics()
    ref_rate, ref_all = a.images / (m_fake + m_cmp), 2 * a.images / (m_real + m_fake + m_cmp)
    print("  per evaluation (fake images + compute; real side done once before):")
    print(
        f"    torchmetrics FID+KID+IS (TF32 convs)       : {ref_rate:9.1f} images/s  "
        f"(update {m_fake:.2f} s, compute {m_cmp:.2f} s)"
    )
    for mode, (t_real, t_fake, t_cmp, res) in runs.items():
        ours_rate, ours_all = a.images / (t_fake + t_cmp), 2 * a.images / (t_real + t_fake + t_cmp)
        print(
            f"    ganeval FID+KID+IS+PRDC, {mode:<22}: {ours_rate:9.1f} images/s  (update {t_fake:.2f} s, "
            f"compute {t_cmp:.2f} s)  ratio {ours_rate / ref_rate:.2f}x; with the real side "
            f"({t_real:.2f} s vs {m_real:.2f} s) {ours_all / ref_all:.2f}x"
        )
        print(f"      values: fid {res['fid'].value:.6g} kid {res['kid'].value:.6g} is {res['is'].value:.6g}")
        key = "tf32" if "tf32" in mode else "float32"
        report[key] = dict(
            images_per_s=ours_rate,
            ratio=ours_rate / ref_rate,
            ratio_with_real_side=ours_all / ref_all,
            values={k: v.values for k, v in res.items()},
        )
    print(
        f"      torchmetrics: fid {ref['fid']:.6g} kid {ref['kid']:.6g} is {ref['is']:.6g}"
        f"  (KID subsets are drawn differently)"
    )
    report.update(torchmetrics_images_per_s=ref_rate, torchmetrics=ref)

    # -- PRDC on the device --------------------------------------------------------------------
    g = torch.Generator(device=device).manual_seed(0)
    n, d = a.prdc_n, a.prdc_d
    w = torch.randn(32, d, generator=g, device=device, dtype=torch.float64) / 32**0.5
    real = torch.randn(n, 32, generator=g, device=device, dtype=torch.float64) @ w
    real += 0.05 * torch.randn(n, d, generator=g, device=device, dtype=torch.float64)
    fake = (torch.randn(n, 32, generator=g, device=device, dtype=torch.float64) * 1.2 + 0.1) @ w
    fake += 0.05 * torch.randn(n, d, generator=g, device=device, dtype=torch.float64)
    prdc_from_tensors(real[:2000], fake[:2000], k=5)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    r = prdc_from_tensors(real, fake, k=5)
    _sync(device)
    t_prdc = time.perf_counter() - t0
    print(f"  PRDC n={n} per side, d={d}, k=5, float64 on {device}: {t_prdc:.2f} s  {r.values}")
    report.update(prdc_seconds=t_prdc, prdc_n=n, prdc_d=d, prdc=r.values)
    if a.as_json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
