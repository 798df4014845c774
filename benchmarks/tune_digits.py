"""Tuning the digits GAN: digits-network FID against CPU seconds of training.

Trains one configuration of the reference DCGAN pair on ``builtin:digits/train`` with the
trainer's own pieces (``build``, ``train_step``), optionally keeping an exponential moving
average (EMA) of the generator's weights, and evaluates the digits-network FID of the raw
and EMA generators against ``builtin:digits/test`` every ``--eval-every`` steps. Prints one
JSON line per evaluation with the process CPU seconds spent training so far (evaluation not
counted) and the wall seconds.

    .venv/bin/python benchmarks/tune_digits.py --loss non-saturating --batch-size 64 --steps 3000
    .venv/bin/python benchmarks/tune_digits.py --loss hinge --ema 0.999 --lr-g 1e-4 --lr-d 4e-4

The results of the runs behind docs/training.md's tuning table are in that table.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from ganeval.reference.config import TrainConfig
from ganeval.reference.evaluation import digits_network_fid
from ganeval.reference.sampling import sample_rows
from ganeval.reference.training import build, deterministic, train_step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="non-saturating")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=None, help="generator lr (default: the loss's)")
    ap.add_argument("--lr-d", type=float, default=None, help="critic lr (default: the trainer's)")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--latent-dim", type=int, default=None)
    ap.add_argument(
        "--ema", type=float, default=None, help="EMA decay of G's weights (0 = off; default: the trainer's)"
    )
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--instance-noise", type=float, default=0.0)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-cpu", type=float, default=600.0, help="stop after this many CPU seconds of training")
    args = ap.parse_args()
    cfg = TrainConfig(
        data="digits",
        loss=args.loss,
        steps=args.steps,
        batch_size=args.batch_size,
        seed=args.seed,
        lr=args.lr,
        width=args.width,
        latent_dim=args.latent_dim,
        ema=args.ema,
        lr_d=args.lr_d,
        label_smoothing=args.label_smoothing,
        instance_noise=args.instance_noise,
    ).validated()
    run = build(cfg)
    x = (torch.as_tensor(run.data.rows, dtype=torch.float32) - run.mu) / run.sd
    cpu = 0.0
    wall0 = time.perf_counter()
    with deterministic(args.threads):
        while run.step < cfg.steps:
            t0 = time.process_time()
            train_step(run, x, None)
            run.step += 1
            cpu += time.process_time() - t0
            if run.step % args.eval_every == 0 or run.step == cfg.steps or cpu > args.max_cpu:
                rec = {"step": run.step, "cpu_s": round(cpu, 1), "wall_s": round(time.perf_counter() - wall0, 1)}
                for name, gen in (("raw", run.generator), ("ema", run.ema)):
                    if gen is None:
                        continue
                    rows, _ = sample_rows(gen, 899, cfg.latent_dim, cfg.seed + 2, run.mu, run.sd, run.discrete, None)
                    rec[f"fid_{name}"] = round(digits_network_fid(rows), 3)
                print(json.dumps({"config": vars(args), **rec}), flush=True)
                if cpu > args.max_cpu:
                    break


if __name__ == "__main__":
    main()
