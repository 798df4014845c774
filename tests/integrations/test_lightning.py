"""The Lightning callback: evaluates every N epochs/steps with an Evaluator, logs plain floats
equal to an Evaluator fed the same samples; under DDP (two gloo processes on the CPU) every
rank logs the one-process numbers."""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

import ganeval
from ganeval.features.digits import digits_images
from ganeval.integrations.lightning import EvaluatorCallback
from ganeval.results import flat
from ganeval.sources.generator import batch_seed

MODULE = r'''
import torch
import lightning.pytorch as pl


class TinyGAN(pl.LightningModule):
    """A generator of 8x8 gray images in [-1, 1] trained on a dummy loss (the numbers only
    need to change between epochs)."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Linear(4, 64)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, 1, 8, 8)

    def training_step(self, batch, batch_idx):
        return (self(batch[0]) - 0.3).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)

    def train_dataloader(self):
        z = torch.randn(32, 4, generator=torch.Generator().manual_seed(1))
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(z), batch_size=8)
'''

_NAMESPACE: dict = {}
exec(MODULE, _NAMESPACE)  # TinyGAN, here and in the DDP script alike
TinyGAN = _NAMESPACE["TinyGAN"]

OPTS = {"kid": {"subsets": 5, "subset_size": 20}}


def _evaluator(device):
    return ganeval.Evaluator(
        ["fid", "kid", "prdc"],
        extractor="digits",
        device=device,
        real=digits_images("train")[:150],
        options={**OPTS, "prdc": {"k": 3}},
    )


def _by_hand(module, num_samples, batch_size, seed=0):
    ev = _evaluator("cpu")
    module.eval()
    for b in range(-(-num_samples // batch_size)):
        n = min(batch_size, num_samples - b * batch_size)
        g = torch.Generator().manual_seed(batch_seed(seed, b))
        with torch.inference_mode():
            ev.update(module(torch.randn(n, module.latent_dim, generator=g)))
    return flat(ev.compute())


def _trainer(callback, **kw):
    return pl.Trainer(
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kw,
    )


def test_logs_plain_floats_equal_to_an_evaluator_fed_the_same_samples():
    module = TinyGAN()
    cb = EvaluatorCallback(_evaluator, num_samples=45, batch_size=10, every_n_epochs=1)
    trainer = _trainer(cb, max_epochs=2)
    trainer.fit(module)
    assert set(cb.last) >= {"fid", "kid", "kid_std", "prdc_precision", "prdc_recall", "prdc_density", "prdc_coverage"}
    assert all(isinstance(v, float) for v in cb.last.values())
    want = _by_hand(module, 45, 10)
    assert cb.last == pytest.approx(want, rel=1e-7)
    assert float(trainer.logged_metrics["fid"]) == pytest.approx(cb.last["fid"], rel=1e-6)  # float32 in the logs


def test_every_n_steps_and_a_prefix():
    module = TinyGAN()
    seen = []

    class Recorder(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if "val/fid" in trainer.callback_metrics:
                seen.append((trainer.global_step, float(trainer.callback_metrics["val/fid"])))

    cb = EvaluatorCallback(_evaluator, num_samples=30, batch_size=10, every_n_steps=2, prefix="val/")
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        callbacks=[cb, Recorder()],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        max_steps=4,
    )
    trainer.fit(module)
    assert sorted(cb.last) == sorted(
        f"val/{k}" for k in ("fid", "kid", "kid_std", "prdc_precision", "prdc_recall", "prdc_density", "prdc_coverage")
    )
    assert [s for s, _ in seen if s % 2 == 0][:2] == [2, 4]


def test_bad_arguments():
    with pytest.raises(ganeval.ParameterError, match="not both"):
        EvaluatorCallback(_evaluator, num_samples=10, every_n_epochs=1, every_n_steps=1)
    with pytest.raises(ganeval.ParameterError, match="num_samples"):
        EvaluatorCallback(_evaluator, num_samples=0)
    with pytest.raises(ganeval.ParameterError, match="evaluator must be"):
        EvaluatorCallback("fid", num_samples=10)


DDP_SCRIPT = (
    MODULE
    + r"""
import json, sys
import ganeval
from ganeval.features.digits import digits_images
from ganeval.integrations.lightning import EvaluatorCallback

def make(device):
    return ganeval.Evaluator(["fid", "kid", "prdc"], extractor="digits", device=device,
                             real=digits_images("train")[:150],
                             options={"kid": {"subsets": 5, "subset_size": 20}, "prdc": {"k": 3}})

if __name__ == "__main__":
    cb = EvaluatorCallback(make, num_samples=45, batch_size=10, every_n_epochs=1)
    module = TinyGAN()
    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", callbacks=[cb], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         max_epochs=1)
    trainer.fit(module)
    state = {k: v.tolist() for k, v in module.state_dict().items()}
    with open(sys.argv[1] + f".{trainer.global_rank}.json", "w") as fh:
        json.dump({"last": cb.last, "state": state}, fh)
"""
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_gloo_processes_log_the_one_process_numbers(tmp_path):
    """About 17 s on 2 shared CPU cores (Lightning's DDP launcher starts a second interpreter)."""
    (tmp_path / "ddp.py").write_text(DDP_SCRIPT)
    env = {
        **os.environ,
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "PL_DISABLE_FORK": "1",
    }
    r = subprocess.run(
        [sys.executable, str(tmp_path / "ddp.py"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    outs = [json.loads((tmp_path / f"out.{rank}.json").read_text()) for rank in (0, 1)]
    assert outs[0]["last"] == outs[1]["last"]  # every rank logs the same, gathered numbers
    module = TinyGAN()
    module.load_state_dict({k: torch.tensor(v) for k, v in outs[0]["state"].items()})
    assert outs[0]["last"] == pytest.approx(_by_hand(module, 45, 10), rel=1e-7)
