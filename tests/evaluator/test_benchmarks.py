"""The GPU benchmark script runs end to end in one command (here on CPU at tiny size)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_evaluator_script_runs_on_cpu_tiny():
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_evaluator.py"), "--tiny", "--device", "cpu", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    report = json.loads(p.stdout.strip().splitlines()[-1])
    assert report["prdc_n"] == 300
    for mode in ("float32", "tf32"):  # ganeval's default and tf32=True (the same on a CPU)
        assert report[mode]["ratio"] > 0
        # the same network gives both libraries the same features: FID agrees
        assert report[mode]["values"]["fid"]["value"] == pytest.approx(report["torchmetrics"]["fid"], rel=1e-4)
        assert set(report[mode]["values"]) == {"fid", "kid", "is", "prdc"}
