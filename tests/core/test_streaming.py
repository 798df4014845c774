"""Streaming metrics: any batching equals the functional metric; merge; torch.distributed sync."""

import os
import socket

import numpy as np
import pytest

from ganeval import DataError, ParameterError, fid_from_features, inception_score, kernel_inception_distance, prdc
from ganeval.statistics import FeatureStats
from ganeval.streaming import StreamingFID, StreamingIS, StreamingKID, StreamingPRDC


@pytest.fixture(scope="module")
def data():
    g = np.random.default_rng(7)
    return g.normal(size=(90, 4)), g.normal(size=(70, 4)) * 1.2 + 0.3, g.normal(size=(60, 5))


def _feed(metric, real, fake, sizes):
    lo = 0
    for size in sizes:
        r = real[lo : lo + size] if lo < len(real) else None
        f = fake[lo : lo + size] if lo < len(fake) else None
        if r is not None or f is not None:
            metric.update(real=r, fake=f)
        lo += size


@pytest.mark.parametrize("sizes", [[100], [1] * 100, [7, 30, 2, 61]])
def test_any_batching_gives_the_functional_result(data, sizes):
    real, fake, logits = data
    fid, kid, pr = StreamingFID(), StreamingKID(subsets=5, subset_size=30, seed=1), StreamingPRDC(k=3)
    for m in (fid, kid, pr):
        _feed(m, real, fake, sizes)
    assert fid.compute().value == pytest.approx(fid_from_features(real, fake).value, rel=1e-10)
    assert kid.compute().values == kernel_inception_distance(real, fake, subsets=5, subset_size=30, seed=1).values
    assert pr.compute().values == prdc(real, fake, k=3).values
    is_ = StreamingIS(splits=3)
    for lo in range(0, 60, 13):
        is_.update(logits[lo : lo + 13])
    assert is_.compute().value == pytest.approx(inception_score(logits, splits=3).value, rel=1e-12)


def test_merge_equals_one_stream(data):
    real, fake, logits = data
    a, b = StreamingFID(), StreamingFID()
    a.update(real=real[:40], fake=fake[:10])
    b.update(real=real[40:], fake=fake[10:])
    assert a.merge(b).compute().value == pytest.approx(fid_from_features(real, fake).value, rel=1e-10)
    p, q = StreamingPRDC(k=3), StreamingPRDC(k=3)
    p.update(real=real[:50], fake=fake[:20])
    q.update(real=real[50:], fake=fake[20:])
    assert p.merge(q).compute().values == prdc(real, fake, k=3).values
    i, j = StreamingIS(splits=2), StreamingIS(splits=2)
    i.update(logits[:25])
    j.update(logits[25:])
    assert i.merge(j).compute().value == pytest.approx(inception_score(logits, splits=2).value, rel=1e-12)
    with pytest.raises(ParameterError, match="cannot merge"):
        p.merge(StreamingKID())


def test_fixed_real_stats_and_reset(data):
    real, fake, _ = data
    fid = StreamingFID()
    fid.set_real_stats(FeatureStats.from_moments(real.mean(0), np.cov(real, rowvar=False)))
    fid.update(fake=fake)
    assert fid.compute().value == pytest.approx(fid_from_features(real, fake).value, rel=1e-10)
    fid.reset()
    with pytest.raises(DataError):
        fid.compute()


def test_bad_use():
    with pytest.raises(ParameterError, match="needs real=, fake= or both"):
        StreamingKID().update()
    k = StreamingKID()
    k.update(real=np.zeros((3, 2)))
    with pytest.raises(DataError, match="earlier inputs had 2"):
        k.update(real=np.zeros((3, 3)))
    with pytest.raises(DataError, match="needs real and fake rows"):
        k.compute()
    with pytest.raises(DataError, match="non-finite"):
        StreamingFID().update(fake=np.full((2, 2), np.nan))
    with pytest.raises(DataError, match="needs logits"):
        StreamingIS().compute()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RANK_SCRIPT = """
import json, sys
import numpy as np
import torch.distributed as dist
from ganeval.streaming import StreamingFID, StreamingIS, StreamingPRDC

rank, world, port, data, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
with np.load(data) as f:
    real, fake, logits = f["real"], f["fake"], f["logits"]
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
try:
    # each rank sees its own interleaved share of the rows, as a DistributedSampler would
    fid, pr, is_ = StreamingFID(), StreamingPRDC(k=3), StreamingIS(splits=2)
    fid.update(real=real[rank::world], fake=fake[rank::world])
    pr.update(real=real[rank::world], fake=fake[rank::world])
    is_.update(logits[rank * 30:(rank + 1) * 30])
    for m in (fid, pr, is_):
        m.sync()
    result = {"fid": fid.compute().value, "prdc": pr.compute().values, "is": is_.compute().value,
              "n_fake": fid.fake.n, "n_real": fid.real.n}
finally:
    dist.destroy_process_group()
with open(out, "w") as fh:
    json.dump(result, fh)
"""


def test_torch_distributed_sync_equals_single_process(data, tmp_path):
    """Two gloo processes on the loopback interface, each with half of the rows."""
    import json
    import subprocess
    import sys

    real, fake, logits = data
    np.savez(tmp_path / "data.npz", real=real, fake=fake, logits=logits)
    (tmp_path / "rank.py").write_text(RANK_SCRIPT)
    port = str(_free_port())
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp_path / "rank.py"),
                str(rank),
                "2",
                port,
                str(tmp_path / "data.npz"),
                str(tmp_path / f"out{rank}.json"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    results = [json.loads((tmp_path / f"out{rank}.json").read_text()) for rank in (0, 1)]
    assert results[0] == results[1]
    r = results[0]
    assert (r["n_real"], r["n_fake"]) == (len(real), len(fake))  # no sample dropped or counted twice
    assert r["fid"] == pytest.approx(fid_from_features(real, fake).value, rel=1e-10)
    assert r["prdc"] == prdc(real, fake, k=3).values  # PRDC does not depend on row order
    assert r["is"] == pytest.approx(inception_score(logits, splits=2).value, rel=1e-12)
