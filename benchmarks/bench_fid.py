"""Fréchet distance at d = 2048: ganeval (Cholesky/eigh, no sqrtm) vs pytorch-fid's
``calculate_frechet_distance`` (scipy.linalg.sqrtm), on the same statistics.

The statistics come from 10,000 seeded samples per side drawn with a realistic, decaying
spectrum. Prints both times, the ratio, and the relative difference of the two values.

    python benchmarks/bench_fid.py [--d 2048] [--n 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _util import best_of, machine_line


def make_stats(n: int, d: int, seed: int, scale: float):
    g = np.random.default_rng(seed)
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(d))  # well conditioned: cond ~ sqrt(d)
    x = (g.normal(size=(n, d)) * spectrum) @ np.linalg.qr(g.normal(size=(d, d)))[0] * scale
    x += g.normal(size=d) * 0.1
    return x.mean(0), np.cov(x, rowvar=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import warnings

    from pytorch_fid.fid_score import calculate_frechet_distance

    from ganeval import frechet_distance

    print(machine_line())
    mu1, s1 = make_stats(a.n, a.d, 0, 1.0)
    mu2, s2 = make_stats(a.n, a.d, 1, 1.1)
    print(f"Fréchet distance, d={a.d}, statistics of {a.n} samples each, best of {a.repeat}")
    t_ours, v_ours = best_of(lambda: frechet_distance(mu1, s1, mu2, s2), a.repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        t_ref, v_ref = best_of(lambda: calculate_frechet_distance(mu1, s1, mu2, s2), a.repeat)
    print(f"  ganeval     : {t_ours:8.3f} s   value {v_ours:.12g}")
    print(f"  pytorch-fid : {t_ref:8.3f} s   value {float(v_ref):.12g}")
    print(f"  speed-up (pytorch-fid / ganeval): {t_ref / t_ours:.2f}x")
    print(f"  relative difference: {abs(v_ours - v_ref) / abs(v_ref):.3g}")


if __name__ == "__main__":
    main()
