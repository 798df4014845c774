"""Time of a 95% FID interval at n = 10,000 per side, d = 2048 (the goal: under 60 s).

Runs, in this order, on the same seeded features (a decaying spectrum, a shifted fake side):

1. the anchor: plain FID from the rows (``fid_from_features``: moments + Fréchet distance);
2. ``fid_interval(..., ci=0.95, bootstrap=B)`` with ``method="auto"`` (linear bootstrap at
   this size: influence-function replicates, see ganeval/uncertainty.py);
3. ``--exact-replicates R`` exact replicates (weighted moments + Fréchet distance each),
   timed and extrapolated to B to show what the exact bootstrap would cost;

then the anchor again, and prints times and ratios to the mean anchor time. Also compares the
linear bootstrap's se with the exact replicates' spread at a smaller size (``--check-d``).

    python benchmarks/bench_uncertainty.py [--n 10000] [--d 2048] [--bootstrap 200] [--exact-replicates 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _util import machine_line


def make_features(n: int, d: int, seed: int, shift: float) -> np.ndarray:
    g = np.random.default_rng(seed)
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(d))
    basis = np.linalg.qr(np.random.default_rng(99).normal(size=(d, d)))[0]
    return (g.normal(size=(n, d)) * spectrum) @ basis + shift


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--exact-replicates", type=int, default=3)
    ap.add_argument("--check-d", type=int, default=64)
    a = ap.parse_args()
    from ganeval.metrics.fid import fid_from_features, frechet_distance
    from ganeval.uncertainty import _weighted_moments, fid_interval

    print(machine_line())
    x = make_features(a.n, a.d, 0, 0.0)
    y = make_features(a.n, a.d, 1, 0.01)

    def anchor() -> float:
        t = time.perf_counter()
        fid_from_features(x, y)
        return time.perf_counter() - t

    t_anchor1 = anchor()
    t = time.perf_counter()
    r = fid_interval(x, y, ci=0.95, bootstrap=a.bootstrap, seed=0)
    t_interval = time.perf_counter() - t
    # exact replicates, a few, extrapolated
    g = np.random.default_rng(0)
    t = time.perf_counter()
    w1 = g.multinomial(a.n, np.full(a.n, 1.0 / a.n), size=a.exact_replicates).astype(float)
    w2 = g.multinomial(a.n, np.full(a.n, 1.0 / a.n), size=a.exact_replicates).astype(float)
    mu1, mu2 = x.mean(0), y.mean(0)
    m1, c1 = _weighted_moments(x, w1, mu1, x - mu1)
    m2, c2 = _weighted_moments(y, w2, mu2, y - mu2)
    for i in range(a.exact_replicates):
        frechet_distance(m1[i], c1(i), m2[i], c2(i))
    t_exact = (time.perf_counter() - t) / a.exact_replicates
    t_anchor2 = anchor()
    t_anchor = (t_anchor1 + t_anchor2) / 2
    print(f"n={a.n} per side, d={a.d}, B={a.bootstrap}  (under load: shared machine)")
    print(f"anchor plain FID:          {t_anchor:8.2f} s  (runs {t_anchor1:.2f}, {t_anchor2:.2f})")
    print(
        f"95% interval ({r.settings['method']}):    {t_interval:8.2f} s  = {t_interval / t_anchor:.2f} x anchor"
        f"  FID {r.value:.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] se {r.se:.4f}"
    )
    print(
        f"exact replicate:           {t_exact:8.2f} s each -> B={a.bootstrap}: {t_exact * a.bootstrap:.0f} s"
        f" = {t_exact * a.bootstrap / t_anchor:.1f} x anchor (extrapolated)"
    )
    # agreement of the linear and exact bootstraps at a small size
    xs, ys = make_features(2000, a.check_d, 2, 0.0), make_features(2000, a.check_d, 3, 0.05)
    lin = fid_interval(xs, ys, bootstrap=400, seed=1, method="linear")
    ex = fid_interval(xs, ys, bootstrap=400, seed=1, method="exact")
    print(f"check n=2000, d={a.check_d}: se linear {lin.se:.5f} vs exact {ex.se:.5f} (ratio {lin.se / ex.se:.3f})")


if __name__ == "__main__":
    main()
