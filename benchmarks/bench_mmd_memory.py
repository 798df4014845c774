"""Peak memory of MMD (RBF, median bandwidth) on 20,000 x 10 rows per side: ganeval's blocked
kernel sums vs the whole-matrix computation (the three n x n kernel matrices formed at once, as
ganeval did before it summed in blocks), each in a fresh child process, same bandwidth.

    python benchmarks/bench_mmd_memory.py [--n 20000] [--d 10]
"""

from __future__ import annotations

import argparse

from _util import CHILD_PRELUDE, machine_line, run_child

SETUP = (
    CHILD_PRELUDE
    + """
import numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=({n}, {d})); y = rng.normal(size=({n}, {d})) + 0.1
base = rss_mb()
t = time.perf_counter()
"""
)

OURS = (
    SETUP
    + """
from ganeval.metrics.mmd import maximum_mean_discrepancy
r = maximum_mean_discrepancy(x, y, kernel="rbf", bandwidth="median", seed=0)
print(json.dumps({{"value": r.value, "sigma": r.settings["bandwidth"], "s": time.perf_counter() - t,
                  "peak_mb": rss_mb(), "base_mb": base}}))
"""
)

WHOLE = (
    SETUP
    + """
from scipy.spatial.distance import cdist
s2 = 2.0 * {sigma!r} ** 2
def k(a, b):
    return np.exp(-cdist(a, b, "sqeuclidean") / s2)
kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
m = x.shape[0]
v = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
     - 2.0 * kxy.mean())
print(json.dumps({{"value": float(v), "s": time.perf_counter() - t, "peak_mb": rss_mb(), "base_mb": base}}))
"""
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=10)
    a = ap.parse_args()
    print(machine_line())
    print(f"MMD^2 (RBF, median bandwidth), n={a.n} per side, d={a.d}; peak resident memory of a fresh process")
    ours = run_child(OURS.format(n=a.n, d=a.d))
    if "error" in ours:
        raise SystemExit(f"ganeval failed: {ours['error']}")
    whole = run_child(WHOLE.format(n=a.n, d=a.d, sigma=ours["sigma"]))
    print(
        f"  ganeval (blocked)     : {ours['peak_mb']:8.0f} MB peak ({ours['base_mb']:.0f} MB with the data), "
        f"{ours['s']:.1f} s, value {ours['value']:.10g}"
    )
    if "error" in whole:
        print(f"  whole kernel matrices: failed ({whole['error']})")
        return
    print(
        f"  whole kernel matrices: {whole['peak_mb']:8.0f} MB peak ({whole['base_mb']:.0f} MB with the data), "
        f"{whole['s']:.1f} s, value {whole['value']:.10g}"
    )
    print(
        f"  memory ratio (ganeval / whole): {ours['peak_mb'] / whole['peak_mb']:.3f}; "
        f"relative difference of the values: {abs(ours['value'] - whole['value']) / abs(whole['value']):.1e}"
    )


if __name__ == "__main__":
    main()
