"""Trainer: every loss learns on the ring, determinism, resume, killed runs, all data sets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from ganeval.metrics.mmd import maximum_mean_discrepancy
from ganeval.reference import CHECKPOINT, TrainConfig, generate, load_checkpoint, train
from ganeval.reference.datasets import mixture, training_set
from ganeval.reference.losses import LOSSES
from ganeval.reference.sampling import sample_rows
from ganeval.reference.training import build

TINY = dict(batch_size=32, hidden=(16, 16), eval_every=0, n_samples=200, checkpoint_every=1000)
SMALL = dict(batch_size=64, hidden=(32, 32), eval_every=0, n_samples=1000, checkpoint_every=1000)


def _ring_scores(samples: np.ndarray) -> tuple[float, float]:
    """MMD^2 (RBF, bandwidth 0.5) to the ring's test split and mean distance to the nearest mode."""
    test = training_set("ring8", "test").rows[::5]
    centers = mixture("ring8").centers
    dist = np.sqrt(((samples[:, None, :] - centers[None]) ** 2).sum(-1)).min(1).mean()
    return maximum_mean_discrepancy(test, samples, bandwidth=0.5).value, float(dist)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_improves_over_the_untrained_generator(loss, tmp_path):
    cfg = TrainConfig(data="ring8", loss=loss, steps=300, **SMALL)
    untrained = build(cfg.validated())
    before, _ = sample_rows(untrained.generator, 1000, 8, 2, untrained.mu, untrained.sd, {}, None)
    result = train(cfg, tmp_path / "run", threads=1)
    after = np.load(result.samples_path)
    mmd0, dist0 = _ring_scores(before)
    mmd1, dist1 = _ring_scores(after)
    assert mmd1 < 0.95 * mmd0, (mmd0, mmd1)
    assert dist1 < 0.95 * dist0, (dist0, dist1)
    log = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 300 and {"modes_covered", "high_quality", "kl_uniform"} <= set(log[-1])


def test_same_seed_same_samples_other_seed_differs(tmp_path):
    cfg = TrainConfig(data="ring8", loss="wgan-gp", steps=15, **TINY)
    a = np.load(train(cfg, tmp_path / "a", threads=1).samples_path)
    b = np.load(train(cfg, tmp_path / "b", threads=1).samples_path)
    c = np.load(
        train(
            TrainConfig(data="ring8", loss="wgan-gp", steps=15, seed=1, **TINY), tmp_path / "c", threads=1
        ).samples_path
    )
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_training_leaves_global_state_alone(tmp_path):
    before = torch.random.get_rng_state().clone()
    det, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    train(TrainConfig(data="ring8", loss="hinge", steps=3, **TINY), tmp_path / "r", threads=1)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.are_deterministic_algorithms_enabled() == det and torch.get_num_threads() == threads


@pytest.mark.parametrize("loss,data", [("wgan", "ring8"), ("least-squares", "digits")])
def test_resume_equals_uninterrupted_run(loss, data, tmp_path):
    common = dict(
        data=data, loss=loss, batch_size=32, hidden=(16, 16), width=8, eval_every=10, n_samples=100, checkpoint_every=10
    )
    full = train(TrainConfig(steps=20, **common), tmp_path / "full", threads=1)
    train(TrainConfig(steps=10, **common), tmp_path / "part", threads=1)
    resumed = train(TrainConfig(steps=20, **common), tmp_path / "part", resume=True, threads=1)
    np.testing.assert_array_equal(np.load(full.samples_path), np.load(resumed.samples_path))
    strip = lambda p: [
        {k: v for k, v in json.loads(x).items() if k != "elapsed_s"}
        for x in (p / "metrics.jsonl").read_text().splitlines()
    ]
    assert strip(tmp_path / "full") == strip(tmp_path / "part")
    assert load_checkpoint(tmp_path / "part" / CHECKPOINT)["step"] == 20


def test_killed_run_leaves_a_readable_checkpoint(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys; from ganeval.reference import TrainConfig, train; "
        "train(TrainConfig(data='ring8', loss='hinge', steps=10**6, batch_size=16, hidden=(8,), eval_every=0, "
        "checkpoint_every=1), sys.argv[1], threads=1)"
    )
    cmd = [sys.executable, "-c", code, str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (out / CHECKPOINT).exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)  # let it write a few more checkpoints, then kill it mid-run
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert (out / CHECKPOINT).exists(), err.decode()
    state = load_checkpoint(out / CHECKPOINT)
    assert state["step"] >= 1
    rows, _ = generate(state, 10)
    assert rows.shape == (10, 2) and np.isfinite(rows).all()
    # and the run can be resumed from it
    cfg = TrainConfig(
        data="ring8",
        loss="hinge",
        steps=state["step"] + 2,
        batch_size=16,
        hidden=(8,),
        eval_every=0,
        checkpoint_every=1,
        n_samples=50,
    )
    assert train(cfg, out, resume=True, threads=1).steps == state["step"] + 2


@pytest.mark.parametrize(
    "data,loss,extra",
    [
        ("grid25", "minimax", {"instance_noise": 0.1}),
        ("digits", "wgan-gp", {"conditional": True}),
        ("wine", "least-squares", {"smirnov": True, "label_smoothing": 0.1}),
        ("breast_cancer", "hinge", {}),
        ("digits", "non-saturating", {"smirnov": True}),
    ],
)
def test_each_kind_of_data_trains_and_samples(data, loss, extra, tmp_path):
    cfg = TrainConfig(data=data, loss=loss, steps=3, width=8, **TINY, **extra)
    result = train(cfg, tmp_path / "r", threads=1)
    samples = np.load(result.samples_path)
    kind = training_set(data).kind
    if kind == "image":
        assert samples.dtype == np.uint8 and samples.shape == (200, 8, 8, 1)
        pixels = np.load(tmp_path / "r" / "samples_pixels.npy")
        assert pixels.shape == (200, 64) and pixels.min() >= 0 and pixels.max() <= 1
        assert {"fid_pixels", "fid_digits"} <= set(result.final_metrics)
    else:
        assert samples.shape == (200, training_set(data).dim)
    if kind == "tabular":
        target = samples[:, -1]
        assert set(np.unique(target)) <= set(np.unique(training_set(data).rows[:, -1]))
        assert {"ecdf_l1_std", "c2st_accuracy"} <= set(result.final_metrics)
    if extra.get("smirnov") and kind == "tabular":
        real = training_set(data).rows
        assert np.all(samples.min(0) >= real.min(0) - 1e-9) and np.all(samples.max(0) <= real.max(0) + 1e-9)
    if extra.get("conditional"):
        assert np.load(tmp_path / "r" / "sample_labels.npy").shape == (200,)
    assert (tmp_path / "r" / "samples.png").exists() == (kind != "tabular")


@pytest.mark.slow
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("data", ["ring8", "grid25", "digits", "wine", "breast_cancer"])
def test_every_loss_on_every_data_set(loss, data, tmp_path):
    result = train(TrainConfig(data=data, loss=loss, steps=20, width=8, **TINY), tmp_path / "r", threads=1)
    assert np.isfinite(np.load(result.samples_path).astype(float)).all()


@pytest.mark.slow
def test_done_criterion_wgan_gp_ring8_covers_7_of_8_modes(tmp_path):
    result = train(TrainConfig(data="ring8", loss="wgan-gp", steps=3000, seed=0), tmp_path / "r", threads=1)
    assert result.final_metrics["modes_covered"] >= 7


def test_ema_generator_is_the_running_average_and_draws_the_samples(tmp_path):
    cfg = TrainConfig(data="digits", loss="hinge", steps=1, width=8, ema=0.9, **TINY).validated()
    run = build(cfg)
    start = [p.detach().clone() for p in run.generator.parameters()]
    x = torch.as_tensor(run.data.rows, dtype=torch.float32)
    from ganeval.reference.training import train_step

    train_step(run, x, None)  # first update (step 0): decay min(0.9, 1 / 10) = 0.1
    for pe, p0, p1 in zip(run.ema.parameters(), start, run.generator.parameters()):
        torch.testing.assert_close(pe, 0.1 * p0 + 0.9 * p1.detach())
    run.step = 1000  # later: min(0.9, 1001 / 1010) = 0.9
    before = [p.detach().clone() for p in run.ema.parameters()]
    train_step(run, x, None)
    for pe, p0, p1 in zip(run.ema.parameters(), before, run.generator.parameters()):
        torch.testing.assert_close(pe, 0.9 * p0 + 0.1 * p1.detach())
    for be, b in zip(run.ema.buffers(), run.generator.buffers()):
        assert torch.equal(be, b)  # batch-norm statistics are copied, not averaged
    assert run.sampler is run.ema
    assert TrainConfig(data="ring8", loss="hinge").validated().ema == 0.0
    assert build(TrainConfig(data="digits", loss="hinge", ema=0, width=8, **TINY).validated()).ema is None
    # generate() draws from the averaged generator of the checkpoint
    result = train(
        TrainConfig(data="digits", loss="hinge", steps=2, width=8, ema=0.5, **TINY), tmp_path / "r", threads=1
    )
    state = load_checkpoint(result.out / CHECKPOINT)
    assert "generator_ema" in state
    rows, _ = generate(state, 200, seed=2)
    np.testing.assert_array_equal(np.load(result.out / "samples_pixels.npy"), rows)
