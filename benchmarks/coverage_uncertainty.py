"""Coverage of the 95% intervals on Gaussians with a known population FID (docs/uncertainty.md).

real ~ N(0, I_d), fake ~ N(m, s^2 I_d) with m = 0.2 * 1, s = 1.3: population
FID = |m|^2 + d (1 - s)^2. For each repetition (its own seed) it computes

- the plain FID interval (``fid_interval``, exact replicates) and whether it covers the
  population value;
- the FID∞ interval (``fid_infinity(ci=...)``) and whether it covers the population value;

and prints, per setting, the coverage with its binomial standard error, the mean bias of
plain FID and of FID∞, and the mean interval widths.

    python benchmarks/coverage_uncertainty.py [--reps 200] [--bootstrap 100] [--settings 8:500,32:1000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np


def simulate(d: int, n: int, reps: int, bootstrap: int, level: float = 0.95, s: float = 1.3) -> dict:
    from ganeval.uncertainty import fid_infinity, fid_interval

    m = np.full(d, 0.2)
    population = float(m @ m + d * (1 - s) ** 2)
    cov_plain = cov_inf = 0
    bias_plain, bias_inf, w_plain, w_inf = [], [], [], []
    for rep in range(reps):
        g = np.random.default_rng(1000 + rep)
        x, y = g.normal(size=(n, d)), g.normal(size=(n, d)) * s + m
        p = fid_interval(x, y, ci=level, bootstrap=bootstrap, seed=rep, method="exact")
        i = fid_infinity(x, y, seed=rep, ci=level, bootstrap=bootstrap)
        cov_plain += p.ci_low <= population <= p.ci_high
        cov_inf += i.ci_low <= population <= i.ci_high
        bias_plain.append(p.value - population)
        bias_inf.append(i.value - population)
        w_plain.append(p.ci_high - p.ci_low)
        w_inf.append(i.ci_high - i.ci_low)
    return {
        "d": d,
        "n": n,
        "reps": reps,
        "population": population,
        "coverage_plain": cov_plain / reps,
        "coverage_inf": cov_inf / reps,
        "bias_plain": float(np.mean(bias_plain)),
        "bias_inf": float(np.mean(bias_inf)),
        "width_plain": float(np.mean(w_plain)),
        "width_inf": float(np.mean(w_inf)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--settings", default="8:500,32:1000")
    a = ap.parse_args()
    print(
        "| d | n | population FID | plain FID bias | FID∞ bias | coverage, plain FID interval | "
        "coverage, FID∞ interval | mean width plain / FID∞ |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for item in a.settings.split(","):
        d, n = (int(v) for v in item.split(":"))
        r = simulate(d, n, a.reps, a.bootstrap)
        se = lambda p: math.sqrt(p * (1 - p) / r["reps"])
        print(
            f"| {d} | {n} | {r['population']:.3f} | {r['bias_plain']:+.4f} | {r['bias_inf']:+.4f} | "
            f"{r['coverage_plain']:.3f} ± {se(r['coverage_plain']):.3f} | "
            f"{r['coverage_inf']:.3f} ± {se(r['coverage_inf']):.3f} | "
            f"{r['width_plain']:.4f} / {r['width_inf']:.4f} |",
            flush=True,
        )
    print(f"({a.reps} repetitions, {a.bootstrap} bootstrap replicates each, 95% intervals)")


if __name__ == "__main__":
    main()
