"""CPU cost of training the reference GANs: 2,000 steps on ring8 and on digits, per loss.

For each loss and data set this times ``--measure`` training steps (after ``--warmup``
untimed steps) with the trainer's own step function, in process CPU time and wall time,
and extrapolates to 2,000 steps (``--measure 2000 --warmup 0`` times them all). A step is
one generator update after ``n_critic`` critic updates (5 for wgan and wgan-gp), so those
two losses cost about five times the others. Evaluation and checkpointing are not timed.

There is no external anchor for training; the ratio printed is each loss's time over the
non-saturating GAN's on the same data set (same nets, same batch).

    .venv/bin/python benchmarks/bench_training.py                 # ring8 + digits, all losses
    .venv/bin/python benchmarks/bench_training.py --threads 1 --measure 200
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from ganeval.reference import TrainConfig
from ganeval.reference.losses import LOSSES
from ganeval.reference.training import build, deterministic, train_step


def time_steps(data: str, loss: str, batch: int, warmup: int, measure: int, threads: int | None) -> dict:
    run = build(TrainConfig(data=data, loss=loss, steps=warmup + measure, batch_size=batch).validated())
    x = (torch.as_tensor(run.data.rows, dtype=torch.float32) - run.mu) / run.sd
    with deterministic(threads):
        for _ in range(warmup):
            train_step(run, x, None)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(measure):
            train_step(run, x, None)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "data": data,
        "loss": loss,
        "batch_size": batch,
        "n_critic": run.config.n_critic,
        "measured_steps": measure,
        "cpu_s_per_step": cpu / measure,
        "wall_s_per_step": wall / measure,
        "cpu_s_2000_steps": 2000 * cpu / measure,
        "wall_s_2000_steps": 2000 * wall / measure,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=["ring8", "digits"])
    ap.add_argument("--losses", nargs="+", default=list(LOSSES))
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--measure", type=int, default=50, help="timed steps (2000 = no extrapolation)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: as is)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for data in args.data:
        base = None
        for loss in args.losses:
            r = time_steps(data, loss, args.batch_size, args.warmup, args.measure, args.threads)
            if loss == "non-saturating":
                base = r["cpu_s_2000_steps"]
            rows.append(r)
        for r in rows:
            if r["data"] == data:
                r["ratio_to_non_saturating"] = (r["cpu_s_2000_steps"] / base) if base else None
    threads = args.threads or torch.get_num_threads()
    if args.json:
        print(json.dumps({"threads": threads, "results": rows}))
        return
    print(f"torch threads: {threads}; batch {args.batch_size}; {args.measure} timed steps, extrapolated to 2,000")
    print(f"{'data':8} {'loss':15} {'n_critic':>8} {'CPU s/2000 steps':>17} {'wall s/2000':>12} {'vs NS':>6}")
    for r in rows:
        ratio = f"{r['ratio_to_non_saturating']:.2f}" if r.get("ratio_to_non_saturating") else "-"
        print(
            f"{r['data']:8} {r['loss']:15} {r['n_critic']:>8} {r['cpu_s_2000_steps']:>17.1f} "
            f"{r['wall_s_2000_steps']:>12.1f} {ratio:>6}"
        )


if __name__ == "__main__":
    main()
