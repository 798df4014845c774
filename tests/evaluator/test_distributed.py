"""torch.distributed: Evaluator.compute() gathers every rank's samples (gloo, 2 processes on
CPU); a lone rank gets a clear error after the timeout; torchrun eval prints once and
equals one process; NCCL on GPUs (marked gpu)."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import ganeval

RANK_SCRIPT = r"""
import json, os, sys, time
import numpy as np
import torch
import torch.distributed as dist
import ganeval
from ganeval.distributed import DistributedError

rank, world, port, data, out, mode, backend = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                               sys.argv[5], sys.argv[6], sys.argv[7])
device = f"cuda:{rank}" if backend == "nccl" else "cpu"
if backend == "nccl":
    torch.cuda.set_device(rank)
dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
with np.load(data) as f:
    real, fake, logits = f["real"], f["fake"], f["logits"]
opts = {"kid": {"subsets": 10, "subset_size": 50, "seed": 2}, "prdc": {"k": 3}, "is": {"splits": 2}}
ev = ganeval.Evaluator(("fid", "kid", "prdc", "is"), extractor=None, device=device, options=opts,
                       sync_timeout_s=float(os.environ.get("T", "60")))
if mode == "normal":
    # uneven shards, batch by batch: rank r takes batches r, r + world, ...
    for b, lo in enumerate(range(0, len(fake), 17)):
        if b % world == rank:
            ev.update(torch.from_numpy(fake[lo:lo + 17]), logits=logits[lo:lo + 17])
    for b, lo in enumerate(range(0, len(real), 23)):
        if b % world == rank:
            ev.update(real[lo:lo + 23], real=True)
    r = ev.compute()
    r2 = ev.compute()  # computing twice does not double count
    result = {m: x.values for m, x in r.items()}
    result["same_twice"] = {m: x.values for m, x in r2.items()} == result
    result["n"] = [r["fid"].n_real, r["fid"].n_fake, r["is"].n_fake]
else:  # only rank 1 (or only rank 0) calls compute()
    ev.update(fake[:20], logits=logits[:20])
    ev.update(real[:20], real=True)
    lone = 1 if mode == "lone1" else 0
    if rank == lone:
        t = time.time()
        try:
            ev.compute()
            result = {"error": None}
        except DistributedError as exc:
            result = {"error": str(exc), "seconds": time.time() - t}
    else:
        lone_out = out[:-6] + f"{lone}.json"  # stay alive (not in compute) until the lone rank is done
        deadline = time.time() + float(os.environ.get("T", "60")) + 60
        while not os.path.exists(lone_out) and time.time() < deadline:
            time.sleep(0.2)
        result = {"idle": True}
with open(out + ".tmp", "w") as fh:
    json.dump(result, fh)
os.replace(out + ".tmp", out)
sys.stdout.flush()
os._exit(0)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    g = np.random.default_rng(11)
    d = tmp_path_factory.mktemp("dist")
    real, fake, logits = g.normal(size=(130, 5)), g.normal(size=(101, 5)) + 0.4, g.normal(size=(101, 7))
    np.savez(d / "data.npz", real=real, fake=fake, logits=logits)
    (d / "rank.py").write_text(RANK_SCRIPT)
    return d, real, fake, logits


def _run(d, mode, backend="gloo", timeout_s="60"):
    port = str(_free_port())
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "T": timeout_s}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(d / "rank.py"),
                str(r),
                "2",
                port,
                str(d / "data.npz"),
                str(d / f"{mode}{r}.json"),
                mode,
                backend,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in (0, 1)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-3000:]
    return [json.loads((d / f"{mode}{r}.json").read_text()) for r in (0, 1)]


def _check_equal_to_one_process(results, real, fake, logits):
    assert results[0] == results[1]
    r = results[0]
    assert r["same_twice"] and r["n"] == [len(real), len(fake), len(fake)]  # none dropped or doubled
    opts = {"kid": {"subsets": 10, "subset_size": 50, "seed": 2}, "prdc": {"k": 3}, "is": {"splits": 2}}
    one = ganeval.Evaluator(("fid", "kid", "prdc", "is"), extractor=None, options=opts)
    one.update(fake, logits=logits)
    one.update(real, real=True)
    want = one.compute()
    assert r["fid"]["value"] == pytest.approx(want["fid"].value, rel=1e-10)
    # rank r fed batches r, r + 2, ...: the gathered rows interleave the ranks' batches back
    # into the one-process order, so KID draws the same subsets and IS cuts the same splits
    assert r["kid"]["value"] == pytest.approx(want["kid"].value, rel=1e-12)
    assert r["is"]["value"] == pytest.approx(want["is"].value, rel=1e-12)
    assert r["prdc"] == want["prdc"].values
    return r, want


def test_gloo_two_processes_equal_one(data):
    d, real, fake, logits = data
    _check_equal_to_one_process(_run(d, "normal"), real, fake, logits)


@pytest.mark.parametrize("mode", ["lone1", pytest.param("lone0", marks=pytest.mark.slow)])
def test_a_lone_rank_gets_a_clear_error(data, mode):
    d, *_ = data
    results = _run(d, mode, timeout_s="3")
    lone = results[1] if mode == "lone1" else results[0]
    assert lone["error"] is not None and "Evaluator.compute(): not every rank arrived within 3 s" in lone["error"]
    assert lone["seconds"] < 30


@pytest.mark.gpu
def test_nccl_two_gpus_equal_one(data):
    import torch

    if torch.cuda.device_count() < 2:
        pytest.skip("needs 2 CUDA devices")
    d, real, fake, logits = data
    _check_equal_to_one_process(_run(d, "normal", backend="nccl"), real, fake, logits)


def test_torchrun_eval_prints_once_and_equals_one_process(tmp_path):
    args = [
        "-m",
        "ganeval",
        "eval",
        "builtin:digits/train",
        "builtin:digits/test",
        "--metrics",
        "fid,kid,prdc,is",
        "--no-cache",
        "--json",
        "--num-workers",
        "0",
        "--device",
        "cpu",
        "--batch-size",
        "64",
    ]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(_free_port()),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    lines = [ln for ln in two.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1  # rank 0 alone prints
    a, b = json.loads(one.stdout)["results"], json.loads(lines[0])["results"]
    # the same batches are extracted (batch b on rank b % 2) and gathered in order: the
    # features, hence every number, are identical
    for m in ("fid", "kid", "prdc", "is"):
        assert {k: v for k, v in a[m].items() if k != "settings"} == {k: v for k, v in b[m].items() if k != "settings"}


def test_torchrun_folder_inputs_shard_through_the_dataloader(tmp_path):
    """File sources take the DataLoader path (batch_sampler of this rank's batches)."""
    from PIL import Image

    g = np.random.default_rng(5)
    for name, n in (("a", 23), ("b", 18)):
        (tmp_path / name).mkdir()
        for i in range(n):
            Image.fromarray(g.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / name / f"{i:02d}.png")
    args = [
        "-m",
        "ganeval",
        "eval",
        str(tmp_path / "a"),
        str(tmp_path / "b"),
        "--metrics",
        "fid,prdc,kid",
        "--kid-subset-size",
        "10",
        "--extractor",
        "digits",
        "--no-cache",
        "--json",
        "--num-workers",
        "1",
        "--device",
        "cpu",
        "--batch-size",
        "4",
    ]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(_free_port()),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = json.loads(one.stdout)["results"], json.loads(two.stdout)["results"]
    assert a["fid"]["n_real"] == b["fid"]["n_real"] == 23 and b["fid"]["n_fake"] == 18
    for m in ("fid", "prdc", "kid"):
        assert {k: v for k, v in a[m].items() if k != "settings"} == {k: v for k, v in b[m].items() if k != "settings"}
