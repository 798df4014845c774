"""Hugging Face Accelerate: an Evaluator in a script started by ``accelerate launch`` with two
CPU processes (gloo) gives, on every rank, the numbers of one process fed the same batches."""

import json
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("accelerate")

import ganeval
from ganeval.features.digits import digits_images

SCRIPT = r"""
import json, sys
from accelerate import Accelerator
import torch
import ganeval
from ganeval.features.digits import digits_images

accelerator = Accelerator(cpu=True)  # on the CPU: gloo, accelerator.device is cpu:0
images = digits_images("test")[:300]
ev = ganeval.Evaluator(("fid", "kid", "prdc", "is"), real="builtin:digits/train", extractor="digits",
                       device=accelerator.device, options=json.loads(sys.argv[2]))
for b, lo in enumerate(range(0, len(images), 32)):  # batch b on process b % num_processes
    if b % accelerator.num_processes == accelerator.process_index:
        ev.update(images[lo:lo + 32])
r = ev.compute()  # every process calls it; every process gets the same result
out = {"world": accelerator.num_processes, "backend": torch.distributed.get_backend(), "n": r["fid"].n_fake,
       "results": {m: x.values for m, x in r.items()}}
with open(f"{sys.argv[1]}.{accelerator.process_index}.json", "w") as fh:
    json.dump(out, fh)
"""

OPTS = {"kid": {"subsets": 10, "subset_size": 50, "seed": 3}, "prdc": {"k": 3}, "is": {"splits": 2}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two processes importing torch and accelerate: ~15 s on the shared 2-core machine
def test_accelerate_launch_two_cpu_processes_equal_one(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),  # no user `accelerate config` file applies
        "OMP_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": "lo",
        "CUDA_VISIBLE_DEVICES": "",
    }
    # --multi_gpu picks the torchrun spawner (--cpu alone runs one process unless MPI is set
    # up); Accelerator(cpu=True) in the script makes the processes CPU ones over gloo
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    cmd += ["--main_process_port", str(_free_port()), str(tmp_path / "script.py"), str(tmp_path / "out")]
    r = subprocess.run(cmd + [json.dumps(OPTS)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"out.{i}.json").read_text()) for i in (0, 1)]
    assert ranks[0] == ranks[1]
    got = ranks[0]
    assert (got["world"], got["backend"], got["n"]) == (2, "gloo", 300)  # none dropped or doubled

    one = ganeval.Evaluator(("fid", "kid", "prdc", "is"), real="builtin:digits/train", extractor="digits", options=OPTS)
    images = digits_images("test")[:300]
    for lo in range(0, len(images), 32):
        one.update(images[lo : lo + 32])
    want = one.compute()
    res = got["results"]
    assert res["fid"]["value"] == pytest.approx(want["fid"].value, rel=1e-9)  # moments merged in another order
    assert res["kid"] == pytest.approx(want["kid"].values, rel=1e-12)  # rows gathered in the one-process order
    assert res["is"] == pytest.approx(want["is"].values, rel=1e-12)
    assert res["prdc"] == want["prdc"].values
