"""KID, 100 subsets of 1,000 at d = 2048, n = 10,000: ganeval vs torch-fidelity's
``kid_features_to_metric``, alternating in the same run (best of ``--repeat`` each).

Both get the same float32 features (what Inception produces). The subsets differ (each
library draws its own from its own seeded generator), so the values agree only to within the
subset noise; both are printed with their std. ganeval's two computation paths (whole Gram
matrix in blocks, per subset) are also compared with each other on ganeval's own subsets:
they must agree to float32 round-off.

    python benchmarks/bench_kid.py [--n 10000] [--d 2048] [--subsets 100] [--subset-size 1000] [--repeat 2]
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--subsets", type=int, default=100)
    ap.add_argument("--subset-size", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--check-paths", action="store_true", help="also time ganeval's per-subset path")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also print the floor: the float32 product rate this machine sustains (numpy's "
        "BLAS, torch's), the products' share of ours, and the kernel-power timings",
    )
    a = ap.parse_args()
    import torch
    from torch_fidelity.metric_kid import kid_features_to_metric

    from ganeval import kernel_inception_distance
    from ganeval.metrics.kid import kid_core, kid_options

    print(machine_line(), f"torch threads {torch.get_num_threads()}")
    g = np.random.default_rng(0)
    real = np.abs(g.normal(size=(a.n, a.d))).astype(np.float32)
    fake = (np.abs(g.normal(size=(a.n, a.d))) * 1.05).astype(np.float32)
    print(f"KID n={a.n} per side, d={a.d}, {a.subsets} subsets of {a.subset_size} (float32 features)")
    kw = dict(
        kid_subsets=a.subsets,
        kid_subset_size=a.subset_size,
        verbose=False,
        rng_seed=0,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
    )
    ours_t, ref_t = [], []
    for _ in range(a.repeat):  # alternate, so load from other processes hits both alike
        t = time.perf_counter()
        r = kernel_inception_distance(real, fake, subsets=a.subsets, subset_size=a.subset_size, seed=0)
        ours_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), **kw)
        ref_t.append(time.perf_counter() - t)
    t_ours, t_ref = min(ours_t), min(ref_t)
    print(
        f"  ganeval        : {t_ours:8.3f} s   {r.value:.6g} ± {r.std:.3g}   (runs: {', '.join(f'{t:.2f}' for t in ours_t)})"
    )
    print(
        f"  torch-fidelity : {t_ref:8.3f} s   {ref['kernel_inception_distance_mean']:.6g} ± "
        f"{ref['kernel_inception_distance_std']:.3g}   (runs: {', '.join(f'{t:.2f}' for t in ref_t)})"
    )
    print(f"  speed-up (torch-fidelity / ganeval): {t_ref / t_ours:.2f}x")
    if a.check_paths:
        o = kid_options(a.d, a.n, a.n, subsets=a.subsets, subset_size=a.subset_size)
        x, y = torch.from_numpy(real), torch.from_numpy(fake)
        t = time.perf_counter()
        per = kid_core(x, y, method="subsets", **o)
        t_per = time.perf_counter() - t
        whole = kid_core(x, y, method="gram", **o)
        print(
            f"  per-subset path: {t_per:8.3f} s; whole-Gram vs per-subset: max |diff| per subset "
            f"{np.abs(per - whole).max():.3g} (KID {whole.mean():.6g})"
        )
    if a.floor:
        floor(real, fake, a, t_ours, t_ref)


def floor(real: np.ndarray, fake: np.ndarray, a, t_ours: float, t_ref: float) -> None:
    """What bounds both libraries: the multiply-adds of the kernel pairs at the rate this
    machine sustains for float32 products, and the time each spends around them."""
    import torch

    from ganeval.metrics import kid as K

    n, d, b = a.n, a.d, K._blocks(a.n)[0][1]
    spans = K._blocks(n)
    out = np.empty((b, b), np.float32)
    tx, ty, tout = torch.from_numpy(real), torch.from_numpy(fake), torch.from_numpy(out)

    def sweep(product) -> float:  # every cross block once, back to back
        t = time.perf_counter()
        for lo, hi in spans:
            for lo2, hi2 in spans:
                product(lo, hi, lo2, hi2)
        return time.perf_counter() - t

    cross_macs = n * n * d
    rates = {}
    for name, product in (
        (
            "numpy (OpenBLAS)",
            lambda lo, hi, lo2, hi2: np.matmul(real[lo:hi], fake[lo2:hi2].T, out=out[: hi - lo, : hi2 - lo2]),
        ),
        (
            "torch (its BLAS)",
            lambda lo, hi, lo2, hi2: torch.mm(tx[lo:hi], ty[lo2:hi2].t(), out=tout[: hi - lo, : hi2 - lo2]),
        ),
    ):
        if name.startswith("torch") and any(hi - lo != b for lo, hi in spans):
            continue  # out= must match the shape exactly
        rates[name] = cross_macs / min(sweep(product) for _ in range(2)) / 1e9
        print(f"  float32 block products ({b} rows), {name}: {rates[name]:.1f} GMAC/s sustained")
    # the kernel pairs both do: within-set pairs once each (torch-fidelity: syrk, X @ X.T), cross pairs once
    pairs = n * (n + 1) / 2 * 2 + n * n
    best = max(rates.values())
    t_floor = pairs * d / best / 1e9
    print(
        f"  floor: {pairs:.3g} pairs x d = {pairs * d:.3g} multiply-adds at {best:.1f} GMAC/s = {t_floor:.2f} s; "
        f"around the products: ganeval {t_ours - t_floor:.2f} s, torch-fidelity {t_ref - t_floor:.2f} s"
    )
    # where ganeval's time goes
    spent = {"_gram": 0.0, "_kernel_": 0.0, "_subset_sums": 0.0}
    originals = {k: getattr(K, k) for k in spent}

    def timed(name):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t

        return wrapper

    opts = K.kid_options(d, n, n, subsets=a.subsets, subset_size=a.subset_size)
    try:
        for k in spent:
            setattr(K, k, timed(k))
        t = time.perf_counter()
        K.kid_core(tx, ty, method="gram", **opts)
        total = time.perf_counter() - t
    finally:
        for k, f in originals.items():
            setattr(K, k, f)
    print(
        f"  ganeval's whole-Gram path: {total:.2f} s = products {spent['_gram']:.2f} s + membership sums "
        f"{spent['_subset_sums']:.2f} s + kernel values {spent['_kernel_']:.2f} s + the rest "
        f"{total - sum(spent.values()):.2f} s"
    )
    # the kernel power on one block: numpy's pow per element against two multiplications
    g0 = (np.abs(np.random.default_rng(1).normal(size=(b, b))) + 1).astype(np.float32)

    def power(fn) -> float:
        times = []
        for _ in range(7):
            g = g0.copy()
            t = time.perf_counter()
            fn(g)
            times.append(time.perf_counter() - t)
        return min(times) * 1e3

    def by_pow(g):
        g **= 3

    def by_products(g):
        t = g * g
        g *= t

    print(
        f"  cube of a {b}^2 float32 block: numpy **= 3 {power(by_pow):.2f} ms, two multiplications "
        f"{power(by_products):.2f} ms, ganeval's chunked kernel {power(lambda g: K._kernel_(g, 1.0, 0.0, 3)):.2f} ms"
    )


if __name__ == "__main__":
    main()
