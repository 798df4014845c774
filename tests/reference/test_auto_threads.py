"""`ganeval train` picks its intra-op threads by the model's size; --threads overrides."""

import torch

import ganeval.reference.training as training
from ganeval.reference import TrainConfig
from ganeval.reference.training import ONE_THREAD_MACS, auto_threads, build


def test_small_nets_train_on_one_thread_large_ones_keep_torchs_setting():
    run = build(TrainConfig(data="ring8", loss="hinge").validated())  # 3x128 MLPs, batch 256
    assert auto_threads(run.generator, run.critic, batch_size=256) == 1
    side = int((ONE_THREAD_MACS / 64) ** 0.5) + 1  # one layer just over the limit at batch 64
    assert auto_threads(torch.nn.Linear(side, side), batch_size=64) is None
    assert auto_threads(torch.nn.Linear(side - 2, side - 2), batch_size=64) == 1
    assert auto_threads(torch.nn.Conv2d(128, 128, 4), batch_size=64) is None  # counted per output position


def _threads_used(monkeypatch, tmp_path, threads):
    seen = []
    real = training.deterministic

    def spy(n=None):
        seen.append(n)
        return real(n)

    monkeypatch.setattr(training, "deterministic", spy)
    monkeypatch.setattr(training, "evaluate_samples", lambda *a, **k: {})  # not what is tested here: keep it fast
    monkeypatch.setattr(training, "_write_outputs", lambda *a, **k: None)
    cfg = TrainConfig(data="ring8", loss="hinge", steps=2, batch_size=16, hidden=(8,), n_samples=50)
    before = torch.get_num_threads()
    training.train(cfg, tmp_path / "run", threads=threads)
    assert torch.get_num_threads() == before  # restored
    return seen[0]


def test_train_uses_the_automatic_choice_unless_threads_is_given(monkeypatch, tmp_path):
    assert _threads_used(monkeypatch, tmp_path / "a", None) == 1
    assert _threads_used(monkeypatch, tmp_path / "b", 2) == 2
