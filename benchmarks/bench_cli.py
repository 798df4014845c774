"""Whole processes, start-up included: the ``ganeval`` command against each anchor's own
process on the same files, alternating (ours, anchor, ours, anchor, ...), best of ``--repeat``.

- ``fid``: ``ganeval fid a.npz b.npz`` (statistics files, d = 2048) against a process that
  imports ``pytorch_fid.fid_score``, reads the same files and calls its
  ``calculate_frechet_distance`` (scipy ``sqrtm``); ``python -m pytorch_fid a.npz b.npz``
  itself would first build the Inception network, which needs its weights;
- ``kid``: ``ganeval kid real.npy fake.npy`` (n = 10,000 float32 rows, d = 2048, 100 subsets
  of 1,000) against a process that loads the same files and calls torch-fidelity's
  ``kid_features_to_metric`` with the same settings.

It also checks what a stats-file FID imports (``-X importtime``): no torch, scikit-learn or
matplotlib. Prints wall-clock seconds, CPU seconds (user + system) of each process, the
ratio anchor / ours (> 1: ganeval faster), and the load average (the machine may be shared).

    python benchmarks/bench_cli.py [--only fid|kid] [--repeat 3] [--n 10000] [--d 2048]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _util import machine_line

HEAVY = ("torch", "sklearn", "matplotlib")

FID_ANCHOR = """
import sys
import numpy as np
from pytorch_fid.fid_score import calculate_frechet_distance
(m1, s1), (m2, s2) = ((f["mu"], f["sigma"]) for f in map(np.load, sys.argv[1:3]))
print("fid", calculate_frechet_distance(m1, s1, m2, s2))
"""

KID_ANCHOR = """
import sys
import numpy as np
import torch
from torch_fidelity.metric_kid import kid_features_to_metric
real, fake = (torch.from_numpy(np.load(p)) for p in sys.argv[1:3])
r = kid_features_to_metric(real, fake, kid_subsets=100, kid_subset_size=1000, verbose=False, rng_seed=0,
                           kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                           kid_kernel_poly_coef0=1)
print("kid", r["kernel_inception_distance_mean"], r["kernel_inception_distance_std"])
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one child process, and its stdout (a failure stops the run)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout.strip().splitlines()[-1]


def compare(label: str, ours: list[str], anchor: list[str], repeat: int) -> None:
    rows: dict[str, list[tuple[float, float]]] = {"ganeval": [], "anchor": []}
    lines = {}
    for _ in range(repeat):
        for name, cmd in (("ganeval", ours), ("anchor", anchor)):
            wall, cpu, line = timed(cmd)
            rows[name].append((wall, cpu))
            lines[name] = line
    best = {k: min(w for w, _ in v) for k, v in rows.items()}
    cpu = {k: min(c for _, c in v) for k, v in rows.items()}
    print(f"{label}  (load average {os.getloadavg()[0]:.1f})")
    for k in ("ganeval", "anchor"):
        runs = ", ".join(f"{w:.2f}" for w, _ in rows[k])
        print(f"  {k:8s}: {best[k]:7.2f} s wall (runs {runs}), {cpu[k]:7.2f} s CPU   -> {lines[k]}")
    print(
        f"  ratio anchor/ganeval: {best['anchor'] / best['ganeval']:.2f}x wall, "
        f"{cpu['anchor'] / cpu['ganeval']:.2f}x CPU"
    )


def make_stats(n: int, d: int, seed: int, scale: float):
    g = np.random.default_rng(seed)
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(d))
    x = (g.normal(size=(n, d)) * spectrum) @ np.linalg.qr(g.normal(size=(d, d)))[0] * scale
    x += g.normal(size=d) * 0.1
    return x.mean(0), np.cov(x, rowvar=False)


def imported_heavy(cmd: list[str]) -> list[str]:
    """Top-level packages among ``HEAVY`` that ``cmd`` (a ``python -X importtime ...`` run) imports."""
    err = subprocess.run(cmd, capture_output=True, text=True).stderr
    names = {line.split("|")[-1].strip().split(".")[0] for line in err.splitlines() if line.startswith("import time:")}
    return sorted(names & set(HEAVY))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["fid", "kid"], default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=2048)
    a = ap.parse_args()
    py = sys.executable
    ganeval = [py, "-m", "ganeval"]
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if a.only in (None, "fid"):
            for name, seed, scale in (("a", 0, 1.0), ("b", 1, 1.1)):
                mu, sigma = make_stats(min(a.n, 3 * a.d), a.d, seed, scale)
                np.savez(t / f"{name}.npz", mu=mu, sigma=sigma)
            files = [str(t / "a.npz"), str(t / "b.npz")]
            heavy = imported_heavy([py, "-X", "importtime", "-m", "ganeval", "fid", *files])
            print(f"ganeval fid a.npz b.npz imports {', '.join(heavy) if heavy else 'none of ' + ', '.join(HEAVY)}")
            compare(
                f"FID from statistics files, d={a.d}: ganeval fid vs pytorch-fid (a process)",
                [*ganeval, "fid", *files],
                [py, "-c", FID_ANCHOR, *files],
                a.repeat,
            )
        if a.only in (None, "kid"):
            g = np.random.default_rng(0)
            np.save(t / "real.npy", np.abs(g.normal(size=(a.n, a.d))).astype(np.float32))
            np.save(t / "fake.npy", (np.abs(g.normal(size=(a.n, a.d))) * 1.05).astype(np.float32))
            files = [str(t / "real.npy"), str(t / "fake.npy")]
            compare(
                f"KID, n={a.n}, d={a.d}, 100 subsets of 1000: ganeval kid vs torch-fidelity "
                f"kid_features_to_metric (a process)",
                [*ganeval, "kid", *files],
                [py, "-c", KID_ANCHOR, *files],
                a.repeat,
            )


if __name__ == "__main__":
    main()
