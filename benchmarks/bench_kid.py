"""KID, 100 subsets of 1,000 at d = 2048: ganeval vs torch-fidelity's ``kid_features_to_metric``.

Both get the same float32 features (what Inception produces). The subsets differ (each
library draws its own from its own seeded generator), so the values agree only to within the
subset noise; both are printed with their std.

    python benchmarks/bench_kid.py [--n 5000] [--d 2048] [--subsets 100] [--subset-size 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _util import best_of, machine_line  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--subsets", type=int, default=100)
    ap.add_argument("--subset-size", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    import torch
    from torch_fidelity.metric_kid import kid_features_to_metric

    from ganeval import kernel_inception_distance

    print(machine_line())
    g = np.random.default_rng(0)
    real = np.abs(g.normal(size=(a.n, a.d))).astype(np.float32)
    fake = (np.abs(g.normal(size=(a.n, a.d))) * 1.05).astype(np.float32)
    print(f"KID n={a.n} per side, d={a.d}, {a.subsets} subsets of {a.subset_size}")
    t_ours, r = best_of(lambda: kernel_inception_distance(real, fake, subsets=a.subsets,
                                                          subset_size=a.subset_size, seed=0), a.repeat)
    kw = dict(kid_subsets=a.subsets, kid_subset_size=a.subset_size, verbose=False, rng_seed=0, kid_kernel="poly",
              kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    t_ref, ref = best_of(lambda: kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), **kw), a.repeat)
    print(f"  ganeval        : {t_ours:8.3f} s   {r.value:.6g} ± {r.std:.3g}")
    print(f"  torch-fidelity : {t_ref:8.3f} s   {ref['kernel_inception_distance_mean']:.6g} ± "
          f"{ref['kernel_inception_distance_std']:.3g}")
    print(f"  speed-up (torch-fidelity / ganeval): {t_ref / t_ours:.2f}x")


if __name__ == "__main__":
    main()
