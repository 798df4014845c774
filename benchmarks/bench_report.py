"""Time of `ganeval report` against the bare library calls it makes (the anchor), and of the
sanity suite.

The anchor computes the same metrics on the same inputs with ganeval.load_features /
ganeval.evaluate / ganeval.compare directly; the report adds spec parsing, fingerprints,
provenance, figures and the four files. Runs alternate (anchor, report, anchor, ...) so
load from other jobs hits both alike; medians and their ratio are printed.

    OMP_NUM_THREADS=1 python benchmarks/bench_report.py [--repeats 3] [--sanity]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

SPEC = """
threads = 1
[real]
input = "builtin:digits/train"
[metrics]
fid = {}
kid = {subsets = 50}
prdc = {k = 5}
mmd = {}
ecdf = {}
c2st = {}
[[candidates]]
name = "test"
input = "builtin:digits/test"
[[candidates]]
name = "noisy"
input = "builtin:digits/test"
disturb = {kind = "gaussian_noise", level = 2}
[[candidates]]
name = "dropped"
input = "builtin:digits/test"
disturb = {kind = "mode_dropping", level = 3}
"""


def anchor() -> None:
    import torch

    import ganeval
    from ganeval.features.digits import digits_images
    from ganeval.report.disturb import disturb_digits
    from ganeval.sources.builtin import load_builtin

    torch.set_num_threads(1)
    opts = dict(extractor="digits", cache=False, progress=False, device="cpu", num_workers=0)
    real = ganeval.load_features("builtin:digits/train", **opts)
    data, idx = load_builtin("digits", "test")
    test = digits_images("test")
    fakes = [test] + [
        disturb_digits(test, data.labels[idx], k, lv)[0] for k, lv in (("gaussian_noise", 2), ("mode_dropping", 3))
    ]
    for imgs in fakes:
        f = ganeval.load_features(imgs, **opts)
        ganeval.evaluate(real, f, ["fid", "kid", "prdc", "mmd"], options={"kid": {"subsets": 50}})
        ganeval.compare(real.rows, f.rows, ["ecdf", "c2st"])


def report(tmp: Path) -> None:
    from ganeval.report import build_report

    spec = tmp / "bench.toml"
    spec.write_text(SPEC)
    build_report(spec, tmp / "out")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sanity", action="store_true", help="also time the sanity suite once")
    args = ap.parse_args()
    times: dict[str, list[float]] = {"anchor": [], "report": []}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(args.repeats):
            for name, fn in (("anchor", anchor), ("report", lambda: report(Path(d)))):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        a, r = statistics.median(times["anchor"]), statistics.median(times["report"])
        print(f"anchor (library calls) median {a:.2f} s; report median {r:.2f} s; ratio report/anchor {r / a:.2f}")
        if args.sanity:
            from ganeval.report import run_sanity_suite

            t0 = time.perf_counter()
            run_sanity_suite(Path(d) / "sanity")
            print(f"sanity suite: {time.perf_counter() - t0:.1f} s wall")


if __name__ == "__main__":
    main()
