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
from _util import machine_line  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--subsets", type=int, default=100)
    ap.add_argument("--subset-size", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--check-paths", action="store_true", help="also time ganeval's per-subset path")
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
    kw = dict(kid_subsets=a.subsets, kid_subset_size=a.subset_size, verbose=False, rng_seed=0, kid_kernel="poly",
              kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    ours_t, ref_t = [], []
    for _ in range(a.repeat):  # alternate, so load from other processes hits both alike
        t = time.perf_counter()
        r = kernel_inception_distance(real, fake, subsets=a.subsets, subset_size=a.subset_size, seed=0)
        ours_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), **kw)
        ref_t.append(time.perf_counter() - t)
    t_ours, t_ref = min(ours_t), min(ref_t)
    print(f"  ganeval        : {t_ours:8.3f} s   {r.value:.6g} ± {r.std:.3g}   (runs: {', '.join(f'{t:.2f}' for t in ours_t)})")
    print(f"  torch-fidelity : {t_ref:8.3f} s   {ref['kernel_inception_distance_mean']:.6g} ± "
          f"{ref['kernel_inception_distance_std']:.3g}   (runs: {', '.join(f'{t:.2f}' for t in ref_t)})")
    print(f"  speed-up (torch-fidelity / ganeval): {t_ref / t_ours:.2f}x")
    if a.check_paths:
        o = kid_options(a.d, a.n, a.n, subsets=a.subsets, subset_size=a.subset_size)
        x, y = torch.from_numpy(real), torch.from_numpy(fake)
        t = time.perf_counter()
        per = kid_core(x, y, method="subsets", **o)
        t_per = time.perf_counter() - t
        whole = kid_core(x, y, method="gram", **o)
        print(f"  per-subset path: {t_per:8.3f} s; whole-Gram vs per-subset: max |diff| per subset "
              f"{np.abs(per - whole).max():.3g} (KID {whole.mean():.6g})")


if __name__ == "__main__":
    main()
