"""torchrun across nodes, simulated on one machine: two launchers (``--nnodes 2
--nproc_per_node 1 --node-rank 0|1``) meet at one c10d rendezvous endpoint on 127.0.0.1,
and their ranks talk over gloo on the loopback interface.

- ``ganeval eval`` over two nodes prints once and equals one process bit for bit (FID,
  KID, IS, PRDC), with a shared feature cache written once (CI);
- each rank decodes only its own batches of a folder, a zip and a stored ``.npz``, and
  node-local caches where only one node has the entry are filled from it (slow);
- a node that is killed, or a rank that stalls past ``$GANEVAL_DIST_TIMEOUT``, ends the
  job with one ``error:`` line on the surviving rank in bounded time (slow).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

PY = sys.executable
METRICS = "fid,kid,prdc,is"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


_STORES: list = []  # rendezvous stores the test hosts (kept alive until the session ends)


def _launch(
    args: list[str], envs: list[dict[str, str]], logs: Path, *, host_store: bool = False
) -> list[subprocess.Popen]:
    """Two torchrun launchers, one per simulated node, each in its own process group (so a
    node can be killed whole); their output goes to files (no pipe can fill up).

    By default the first launcher to start hosts the c10d rendezvous store, as on a
    cluster. With ``host_store`` the test hosts it (``is_host=0`` for both launchers), so
    killing either node leaves the rendezvous up: torchrun's agent on the surviving node
    would otherwise lose its store and end its own workers before they can report."""
    port = _free_port()
    extra: list[str] = []
    if host_store:
        import torch.distributed as dist

        _STORES.append(dist.TCPStore("127.0.0.1", port, is_master=True, multi_tenant=True, wait_for_workers=False))
        extra = ["--rdzv-conf", "is_host=0"]
    procs = []
    for node, env in enumerate(envs):
        cmd = [
            PY,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "2",
            "--nproc_per_node",
            "1",
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            f"127.0.0.1:{port}",
            "--rdzv-id",
            f"t{port}",
            *extra,
            "--node-rank",
            str(node),
            "--local-addr",
            "127.0.0.1",
            "--monitor-interval",
            "0.1",
            *args,
        ]
        out, err = open(logs / f"node{node}.out", "w"), open(logs / f"node{node}.err", "w")
        procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=err, start_new_session=True))
        out.close(), err.close()
    return procs


def _wait(procs: list[subprocess.Popen], timeout: float) -> list[int | None]:
    """Exit codes (None: still running after ``timeout`` s); every launcher and its
    workers are gone afterwards."""
    deadline = time.time() + timeout
    codes: list[int | None] = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(0.1, deadline - time.time())))
        except subprocess.TimeoutExpired:
            codes.append(None)
    for p in procs:
        _kill_node(p.pid)
        p.wait()
    return codes


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (torchrun starts each worker in a session of its own)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _kill_node(launcher: int) -> None:
    """SIGKILL a simulated node: its launcher's workers, then the launcher's own session."""
    for pid in _children(launcher):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(launcher, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(logs: Path, node: int, what: str) -> str:
    return (logs / f"node{node}.{what}").read_text()


def _results(text: str) -> dict:
    return {m: {k: v for k, v in r.items() if k != "settings"} for m, r in json.loads(text)["results"].items()}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Small seeded 8x8 image batches as .npy files (memory-mapped by the source): 150 real,
    110 fake, so the ranks' shares differ in size."""
    d = tmp_path_factory.mktemp("mn-data")
    g = np.random.default_rng(21)
    real = g.integers(0, 256, (150, 8, 8, 3), dtype=np.uint8)
    fake = np.clip(real[:110].astype(int) + g.integers(-40, 41, (110, 8, 8, 3)), 0, 255).astype(np.uint8)
    np.save(d / "real.npy", real)
    np.save(d / "fake.npy", fake)
    return d


def _eval_args(d: Path, *extra: str) -> list[str]:
    return [
        "-m",
        "ganeval",
        "eval",
        str(d / "real.npy"),
        str(d / "fake.npy"),
        "--metrics",
        METRICS,
        "--extractor",
        "digits",
        "--kid-subsets",
        "20",
        "--kid-subset-size",
        "50",
        "--splits",
        "2",
        "--json",
        "--num-workers",
        "0",
        "--device",
        "cpu",
        "--batch-size",
        "16",
        *extra,
    ]


def test_two_nodes_equal_one_process_and_write_the_cache_once(images, tmp_path):
    one = subprocess.run(
        [PY, *_eval_args(images, "--no-cache")], capture_output=True, text=True, env=_env(), timeout=300
    )
    assert one.returncode == 0, one.stderr
    cache = tmp_path / "cache"  # one cache folder both nodes see (a shared file system)
    procs = _launch(_eval_args(images), [_env(GANEVAL_CACHE_DIR=str(cache))] * 2, tmp_path)
    assert _wait(procs, 240) == [0, 0], _read(tmp_path, 0, "err")[-3000:] + _read(tmp_path, 1, "err")[-3000:]
    printed = [[ln for ln in _read(tmp_path, n, "out").splitlines() if ln.strip()] for n in (0, 1)]
    assert sorted(len(p) for p in printed) == [0, 1]  # global rank 0 alone prints, on whichever node it is
    line = printed[0][0] if printed[0] else printed[1][0]
    # batch b was extracted on rank b % 2 and the features gathered in batch order: the
    # same rows as one process, so every number is identical, not close
    assert _results(line) == _results(one.stdout)
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 2 and all(e.startswith("features-") and e.endswith(".npz") for e in entries), entries
    # no claim file, no temporary file left: one writer per entry, renamed into place


RANK_SCRIPT = r"""
import json, os, sys
import numpy as np
import ganeval
import ganeval.sources.images as images
from ganeval.distributed import init_from_env, rank_and_world

read = []
for cls in (images.FolderImageSource, images.ZipImageSource):
    orig = cls.read
    def wrapped(self, i, orig=orig):
        read.append([type(self).__name__, int(i)])
        return orig(self, i)
    cls.read = wrapped
orig_iter = images.ArrayFileImageSource.iter_batches
def iter_wrapped(self, batch_size, only=None):
    for b, batch in zip(sorted(only) if only is not None else range(10**9), orig_iter(self, batch_size, only)):
        read.append(["ArrayFileImageSource", b])
        yield batch
images.ArrayFileImageSource.iter_batches = iter_wrapped

assert init_from_env("cpu")
rank, world = rank_and_world()
out = {"rank": rank, "results": {}}
for a, b in [(sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])]:
    r = ganeval.evaluate(a, b, ["fid", "prdc"], extractor="digits", device="cpu", num_workers=0, batch_size=8)
    out["results"][a] = {m: x.values for m, x in r.items()}
out["read"] = read
with open(os.path.join(sys.argv[5], f"rank{rank}.json"), "w") as fh:
    json.dump(out, fh)
"""


@pytest.mark.slow
def test_each_rank_decodes_only_its_shard_and_node_local_caches_fill(images, tmp_path):
    import zipfile

    from PIL import Image

    g = np.random.default_rng(3)
    (tmp_path / "folder").mkdir()
    for i in range(37):
        Image.fromarray(g.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "folder" / f"{i:02d}.png")
    with zipfile.ZipFile(tmp_path / "imgs.zip", "w") as zf:
        for i in range(29):
            zf.write(tmp_path / "folder" / f"{i:02d}.png", f"z/{i:02d}.png")
    np.savez(tmp_path / "batch.npz", arr_0=g.integers(0, 256, (45, 8, 8, 3), dtype=np.uint8))  # stored, as ADM's
    inputs = [
        str(tmp_path / "folder"),
        str(tmp_path / "imgs.zip"),
        str(tmp_path / "batch.npz"),
        str(images / "fake.npy"),
    ]
    (tmp_path / "rank.py").write_text(RANK_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    # node-local caches: only node 0's has the folder's entry (filled by one process first)
    import ganeval
    from ganeval.features import extract_features

    local0, local1 = tmp_path / "cache0", tmp_path / "cache1"
    os.environ["GANEVAL_CACHE_DIR"] = str(local0)
    try:
        extract_features(inputs[0], extractor="digits", device="cpu", num_workers=0, batch_size=8)
    finally:
        del os.environ["GANEVAL_CACHE_DIR"]
    procs = _launch(
        [str(tmp_path / "rank.py"), *inputs, str(out)],
        [_env(GANEVAL_CACHE_DIR=str(local0)), _env(GANEVAL_CACHE_DIR=str(local1))],
        tmp_path,
    )
    assert _wait(procs, 300) == [0, 0], _read(tmp_path, 0, "err")[-3000:] + _read(tmp_path, 1, "err")[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["results"] == ranks[1]["results"]
    for a, b in [(inputs[0], inputs[1]), (inputs[2], inputs[3])]:
        r = ganeval.evaluate(
            a, b, ["fid", "prdc"], extractor="digits", device="cpu", num_workers=0, batch_size=8, cache=False
        )
        assert ranks[0]["results"][a] == {m: x.values for m, x in r.items()}
    sizes = {"FolderImageSource": 37, "ZipImageSource": 29}
    for rank, info in enumerate(ranks):
        # the folder came from node 0's cache (sent to node 1): nobody decoded it
        assert not [i for kind, i in info["read"] if kind == "FolderImageSource"]
        zip_read = sorted(i for kind, i in info["read"] if kind == "ZipImageSource")
        assert zip_read == [i for i in range(sizes["ZipImageSource"]) if (i // 8) % 2 == rank]
        arr_batches = [b for kind, b in info["read"] if kind == "ArrayFileImageSource"]
        # batch.npz (45 rows: 6 batches) then fake.npy (110 rows: 14 batches), this rank's only
        assert arr_batches == [b for b in range(6) if b % 2 == rank] + [b for b in range(14) if b % 2 == rank]
    # node 1's cache got every entry (the folder's from node 0), node 0's too; no claims left
    for folder in (local0, local1):
        names = sorted(p.name for p in folder.iterdir())
        assert len(names) == 4 and all(n.startswith("features-") for n in names), names


STALL_GEN = r"""
import os, time
import torch

def factory():
    calls = []
    def sample(n, generator):
        calls.append(n)
        if os.environ.get("RANK") == "1" and len(calls) > 1:  # past the first (probe) batch
            with open(os.environ["MARK"], "w") as fh:
                fh.write(str(os.getppid()))
            time.sleep(3600)
        return torch.rand(n, 3, 8, 8, generator=generator) * 2 - 1
    return sample
"""


def _stall_run(images, tmp_path, timeout_s: str):
    (tmp_path / "stall_gen.py").write_text(STALL_GEN)
    mark = tmp_path / "rank1.mark"
    env = _env(
        PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        MARK=str(mark),
        GANEVAL_DIST_TIMEOUT=timeout_s,
    )
    args = [
        "-m",
        "ganeval",
        "eval",
        str(images / "real.npy"),
        "--generator",
        "stall_gen:factory",
        "--num-samples",
        "64",
        "--metrics",
        "fid",
        "--extractor",
        "digits",
        "--no-cache",
        "--json",
        "--num-workers",
        "0",
        "--device",
        "cpu",
        "--batch-size",
        "16",
    ]
    procs = _launch(args, [env, env], tmp_path, host_store=True)
    deadline = time.time() + 180
    while not mark.exists() and time.time() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.1)
    assert mark.exists(), _read(tmp_path, 0, "err")[-3000:] + _read(tmp_path, 1, "err")[-3000:]
    time.sleep(0.2)
    launcher_pid = int(mark.read_text())
    stalled = next(i for i, p in enumerate(procs) if p.pid == launcher_pid)
    return procs, stalled


def _error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("error:")]


@pytest.mark.slow
def test_a_killed_node_ends_the_job_with_one_clear_line(images, tmp_path):
    procs, dead = _stall_run(images, tmp_path, "600")
    _kill_node(procs[dead].pid)  # the whole node: its worker and its launcher
    t = time.time()
    survivor = procs[1 - dead]
    try:
        rc = survivor.wait(timeout=120)
    finally:
        _wait(procs, 1)
    took = time.time() - t
    err = _read(tmp_path, 1 - dead, "err")
    lines = _error_lines(err)
    assert rc != 0 and took < 60, (rc, took, err[-3000:])  # long before the 600 s timeout: the peer's socket closed
    assert len(lines) == 1 and "lost contact with another rank" in lines[0], err[-3000:]
    assert _read(tmp_path, 1 - dead, "out").strip() == ""  # no result printed


@pytest.mark.slow
def test_a_stalled_rank_ends_the_job_after_the_timeout(images, tmp_path):
    procs, stalled = _stall_run(images, tmp_path, "5")
    t = time.time()
    survivor = procs[1 - stalled]
    try:
        rc = survivor.wait(timeout=120)
    finally:
        _wait(procs, 1)  # the stalled node is killed here (a scheduler would, e.g. srun --kill-on-bad-exit)
    took = time.time() - t
    err = _read(tmp_path, 1 - stalled, "err")
    lines = _error_lines(err)
    assert rc != 0 and took < 60, (rc, took, err[-3000:])
    assert len(lines) == 1 and "lost contact with another rank" in lines[0], err[-3000:]


class _Recording:
    """An array that records which rows are read (stands in for a memory map)."""

    def __init__(self, arr):
        self.arr, self.reads = arr, []
        self.shape, self.dtype = arr.shape, arr.dtype

    def __getitem__(self, key):
        self.reads.append((key.start, key.stop))
        return self.arr[key]


def test_an_array_file_source_reads_only_the_batches_asked_for(tmp_path):
    from ganeval.sources.images import ArrayFileImageSource

    arr = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", arr)
    rec = _Recording(arr)
    src = ArrayFileImageSource("x.npy", rec, tmp_path / "x.npy")
    assert rec.reads == [(None, 1)]  # the layout, from the first image
    got = list(src.iter_batches(6, only={1, 3}))  # rank 1 of 2: batches 1 and 3
    assert rec.reads[1:] == [(6, 12), (18, 24)]
    assert np.array_equal(np.concatenate(got), np.moveaxis(arr, -1, 1)[np.r_[6:12, 18:20]])


def test_a_stored_npz_member_is_mapped_and_a_compressed_one_loaded(tmp_path):
    from ganeval.sources import open_source
    from ganeval.sources.images import ArrayFileImageSource, ArrayImageSource

    arr = np.random.default_rng(1).integers(0, 256, (9, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "s.npz", arr_0=arr)
    np.savez_compressed(tmp_path / "c.npz", arr_0=arr)
    np.savez_compressed(tmp_path / "r.npz", images=arr)
    stored, compressed = open_source(str(tmp_path / "s.npz")), open_source(str(tmp_path / "r.npz"))
    assert isinstance(stored, ArrayFileImageSource) and type(compressed) is ArrayImageSource
    assert np.array_equal(np.concatenate(list(stored.iter_batches(4))), compressed.images)
    # a compressed ADM batch (arr_0 of uint8 NHWC images) is streamed a batch at a time instead
    from ganeval.sources.adm import AdmBatchImageSource

    streamed = open_source(str(tmp_path / "c.npz"))
    assert isinstance(streamed, AdmBatchImageSource)
    assert np.array_equal(np.concatenate(list(streamed.iter_batches(4))), compressed.images)


def test_a_bad_dist_timeout_is_named(monkeypatch):
    from ganeval.distributed import dist_timeout
    from ganeval.errors import ParameterError

    monkeypatch.setenv("GANEVAL_DIST_TIMEOUT", "soon")
    with pytest.raises(ParameterError, match="GANEVAL_DIST_TIMEOUT must be a positive number of seconds, got 'soon'"):
        dist_timeout()
    monkeypatch.setenv("GANEVAL_DIST_TIMEOUT", "7.5")
    assert dist_timeout() == 7.5


def test_the_device_is_chosen_by_local_rank(monkeypatch):
    import torch

    from ganeval.distributed import local_cuda_index, local_rank
    from ganeval.errors import DeviceError, ParameterError

    monkeypatch.setenv("RANK", "9")  # the global rank on a second node is never a device index
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert local_rank() == 1
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert local_cuda_index() == 1
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # one visible GPU per process
    assert local_cuda_index() == 0
    monkeypatch.setenv("LOCAL_RANK", "3")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(DeviceError, match="LOCAL_RANK=3 but this process sees 2 CUDA device"):
        local_cuda_index()
    monkeypatch.setenv("LOCAL_RANK", "x")
    with pytest.raises(ParameterError, match="LOCAL_RANK"):
        local_rank()
