"""Helpers shared by the benchmark scripts: timing and peak memory in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time


def run_child(code: str, timeout: float = 3600) -> dict:
    """Run ``code`` in a fresh Python (start it with :data:`CHILD_PRELUDE` for ``rss_mb()``, the
    child's peak resident memory); it must print one JSON line last, which is returned."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["killed"])[-1], "returncode": proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])


CHILD_PRELUDE = """
import json, resource, time
def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def machine_line() -> str:
    import os
    import platform

    try:
        from threadpoolctl import threadpool_info

        blas = ",".join(f"{i['internal_api']}({i['num_threads']})" for i in threadpool_info())
    except Exception:  # pragma: no cover - informational only
        blas = "?"
    return f"python {platform.python_version()}, {os.cpu_count()} CPUs, BLAS {blas}"


def smooth_images(n: int, size: int, device, seed: int, shift: float = 0.0):
    """``n`` seeded smooth random uint8 images (3, size, size) on ``device``: 8x8 noise resized
    bilinearly, plus ``shift`` grey levels (a second law for an FID well away from zero)."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator(device=device).manual_seed(seed)
    low = torch.rand((n, 3, 8, 8), generator=g, device=device)
    x = F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False) * 255 + shift
    return x.clamp(0, 255).round().to(torch.uint8)
