"""PRDC speed and peak memory: ganeval vs the `prdc` package (Naeem et al.'s reference code).

Each implementation runs in its own child process on the same seeded features, so peak
resident memory is measured per implementation. Prints times, memory, ratios, and checks that
the four numbers agree.

    python benchmarks/bench_prdc.py                 # n = 10,000 per side, d = 2048, k = 5
    python benchmarks/bench_prdc.py --n 50000 --ours-only
    python benchmarks/bench_prdc.py --repeat 2 --float64   # alternate runs; also time the float64 path

With ``--repeat N`` the two (three) children alternate N times and the best time of each is
compared (the machine may be shared: the load average is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import CHILD_PRELUDE, machine_line, run_child

TEMPLATE = (
    CHILD_PRELUDE
    + """
import numpy as np
g = np.random.default_rng(0)
# features on a 32-dimensional manifold plus small noise, so that the k-NN balls overlap
# and the four numbers are far from 0 and 1 (i.i.d. Gaussians in 2048-D give 0/1/0/0)
w = g.normal(size=(32, {d})) / np.sqrt(32)
real = (g.normal(size=({n}, 32)) @ w + 0.05 * g.normal(size=({n}, {d}))).astype(np.{dtype})
fake = ((g.normal(size=({n}, 32)) * 1.2 + 0.1) @ w + 0.05 * g.normal(size=({n}, {d}))).astype(np.{dtype})
base = rss_mb()
t = time.perf_counter()
{call}
dt = time.perf_counter() - t
print(json.dumps({{"seconds": dt, "peak_rss_mb": rss_mb(), "extra_rss_mb": rss_mb() - base, **out}}))
"""
)

OURS = """from ganeval import prdc
out = prdc(real, fake, k={k}).values"""
OURS64 = """from ganeval.metrics.prdc import prdc_core
out = prdc_core(real, fake, {k}, backend="float64")  # the float64 products (the path before float32)"""
ANCHOR = """from prdc import compute_prdc
out = {{k: float(v) for k, v in compute_prdc(real_features=real, fake_features=fake, nearest_k={k}).items()}}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--dtype", default="float32", help="dtype of the features handed to both (Inception gives float32)")
    ap.add_argument("--ours-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="alternate the children this many times; best time")
    ap.add_argument("--float64", action="store_true", help="also run ganeval's float64-product path")
    a = ap.parse_args()
    import os

    print(machine_line())
    print(f"PRDC n={a.n} per side, d={a.d}, k={a.k}, input {a.dtype}")
    calls = {"ganeval": OURS}
    if a.float64:
        calls["ganeval-f64"] = OURS64
    if not a.ours_only:
        calls["prdc"] = ANCHOR
    runs: dict[str, list[dict]] = {name: [] for name in calls}
    for _ in range(a.repeat):
        for name, call in calls.items():
            runs[name].append(run_child(TEMPLATE.format(n=a.n, d=a.d, dtype=a.dtype, call=call.format(k=a.k))))
            print(f"  {name:12s}: {runs[name][-1]}  (load average {os.getloadavg()[0]:.1f})", flush=True)
    if any("error" in r for rs in runs.values() for r in rs):
        return
    best = {name: min(rs, key=lambda r: r["seconds"]) for name, rs in runs.items()}
    ours = best["ganeval"]
    if "ganeval-f64" in best:
        f64 = best["ganeval-f64"]
        same = all(ours[key] == f64[key] for key in ("precision", "recall", "density", "coverage"))
        print(
            f"  float32 path vs float64 path: {f64['seconds'] / ours['seconds']:.2f}x faster, identical numbers: {same}"
        )
    if a.ours_only:
        return
    ref = best["prdc"]
    print(f"  speed-up (prdc time / ganeval time)       : {ref['seconds'] / ours['seconds']:.2f}x")
    print(f"  peak memory (ganeval / prdc, whole process): {ours['peak_rss_mb'] / ref['peak_rss_mb']:.2f}")
    print(f"  extra memory beyond the inputs (ganeval / prdc): {ours['extra_rss_mb'] / ref['extra_rss_mb']:.3f}")
    worst = max(abs(ours[key] - ref[key]) for key in ("precision", "recall", "density", "coverage"))
    print(f"  largest difference in the four numbers: {worst:.3g}")


if __name__ == "__main__":
    main()
