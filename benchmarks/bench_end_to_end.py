"""Files to FID, whole processes: ``ganeval fid A/ B/`` against pytorch-fid, torch-fidelity
and clean-fid on the same two folders, the same network, threads and decoding workers.

The script builds its own folders (``--n`` images per side, ``--size`` pixels square, smooth
seeded random content that compresses like photos): A/ holds PNG files and B/ JPEG files
(quality 90) by default, so one FID reads both decoders. Every tool runs the FID Inception
v3 with one set of *seeded random weights* (no download: the weights file is put where
pytorch-fid and clean-fid's PyTorch Inception look, ``$TORCH_HOME/hub/checkpoints``, and
handed to torch-fidelity and ganeval by path), so the timing is of each tool's own pipeline
around the same network, and the FIDs can be compared:

==============  =====================================================  ========================
anchor          its process                                            ganeval run against it
==============  =====================================================  ========================
pytorch-fid     ``python -m pytorch_fid A B --device D --num-workers   ``--preprocessing
                W --batch-size N``                                     pytorch-fid``
torch-fidelity  ``calculate_metrics(input1=A, input2=B, fid=True,      default (``tf``)
                feature_extractor_weights_path=...)``, its loader's
                workers set to W
clean-fid       ``compute_fid(A, B, mode="clean", num_workers=W)``     ``--preprocessing clean``
                with its PyTorch Inception as ``custom_feat_extractor``
                (its TorchScript file cannot be downloaded here)
==============  =====================================================  ========================

On CUDA the anchors run PyTorch's default precision (cuDNN may use TF32 for convolutions)
and ganeval its default, full float32: ``--tf32`` adds a ganeval run at the anchors'
precision, ``--gpu-decode`` one with JPEGs decoded by nvjpeg (and prints how far the FID
moved), ``--own-workers`` gives each tool its own default worker count (out of the box).

Each process is started fresh (imports, network build, folder walk, decoding, resizing,
network, statistics and the Fréchet distance all count), with ``OMP_NUM_THREADS=T`` for all;
ganeval and each anchor alternate (ours, anchor, ours, anchor, ...), the best of
``--repeats`` is kept, and the ratio anchor / ours is printed (> 1: ganeval faster), with
the relative difference of the FIDs.

    python benchmarks/bench_end_to_end.py                                   # GPU: 50,000 per side
    python benchmarks/bench_end_to_end.py --n 2000 --size 64 --device cpu --threads 2 --anchors pytorch-fid
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ANCHORS = ("pytorch-fid", "torch-fidelity", "clean-fid")
#: ganeval's --preprocessing for the run compared with each anchor
MODE = {"pytorch-fid": "pytorch-fid", "torch-fidelity": "tf", "clean-fid": "clean"}
FID_WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"

TORCH_FIDELITY = """
import json, sys, torch, torch_fidelity, torch_fidelity.utils as u
a, b, weights, device, batch, workers = sys.argv[1:7]
loader = u.DataLoader
if workers != "own":  # torch-fidelity has no option for it: min(4, 2 * CPUs) workers
    u.DataLoader = lambda *args, **kw: loader(*args, **{**kw, "num_workers": int(workers)})
r = torch_fidelity.calculate_metrics(input1=a, input2=b, fid=True, cuda=device.startswith("cuda"),
    batch_size=int(batch), feature_extractor_weights_path=weights, cache=False, verbose=False)
print(json.dumps({"fid": r["frechet_inception_distance"]}))
"""

CLEAN_FID = """
import json, sys, torch
from cleanfid import fid
from cleanfid.inception_pytorch import InceptionV3
a, b, device, batch, workers = sys.argv[1:6]
net = InceptionV3([3], resize_input=False, normalize_input=False).to(device).eval()
def features(x):  # clean-fid's InceptionV3W forward: (x - 128) / 128 on 299x299 input in 0..255
    return net((x - 128) / 128)[0].squeeze(-1).squeeze(-1)
value = fid.compute_fid(a, b, mode="clean", num_workers=12 if workers == "own" else int(workers), batch_size=int(batch),
    device=torch.device(device), custom_feat_extractor=features, verbose=False, use_dataparallel=False)
print(json.dumps({"fid": float(value)}))
"""


def _write_images(job: tuple[str, str, int, int, int]) -> None:
    from PIL import Image

    folder, fmt, start, stop, size = job
    for i in range(start, stop):
        rng = np.random.default_rng([i, 0 if fmt == "png" else 1])
        low = rng.integers(0, 256, (8, 8, 3)).astype(np.float32)
        img = np.asarray(Image.fromarray(low.astype(np.uint8)).resize((size, size), Image.Resampling.BILINEAR))
        img = np.clip(img.astype(np.int16) + rng.integers(-12, 13, img.shape), 0, 255).astype(np.uint8)
        path = Path(folder) / f"{i:06d}.{fmt}"
        Image.fromarray(img).save(path, quality=90) if fmt == "jpg" else Image.fromarray(img).save(path)


def build_folder(folder: Path, fmt: str, n: int, size: int) -> float:
    """Write ``n`` seeded images (unless the folder already holds them); seconds spent."""
    stamp = folder / ".made"
    spec = f"{fmt} {n} {size} v1"
    if stamp.exists() and stamp.read_text() == spec:
        return 0.0
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.*"):
        old.unlink()
    t = time.perf_counter()
    chunk = max(1, n // ((os.cpu_count() or 1) * 4))
    jobs = [(str(folder), fmt, s, min(n, s + chunk), size) for s in range(0, n, chunk)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as ex:
        list(ex.map(_write_images, jobs))
    stamp.write_text(spec)
    return time.perf_counter() - t


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one whole process and the FID it printed (last line)."""
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({out.returncode}):\n{out.stderr[-3000:]}")
    last = out.stdout.strip().splitlines()[-1]
    if last.startswith("FID:"):  # pytorch-fid's line
        return wall, float(last.split()[-1])
    data = json.loads(last)
    return wall, float(data.get("fid", data.get("value", float("nan"))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000, help="images per side (default 50,000)")
    ap.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    ap.add_argument("--formats", default="png,jpg", help="A's and B's file format (default png,jpg)")
    ap.add_argument("--device", default=None, help="cuda when there is one, else cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="OMP_NUM_THREADS of every process")
    ap.add_argument("--workers", type=int, default=None, help="decoding workers of every tool (default ganeval's)")
    ap.add_argument(
        "--own-workers",
        action="store_true",
        help="each tool with its own default workers instead (out of the box: pytorch-fid min(8, CPUs), "
        "torch-fidelity min(4, 2 CPUs), clean-fid 12, ganeval its own)",
    )
    ap.add_argument("--batch-size", type=int, default=None, help="default 50 on CPU, 250 on CUDA")
    ap.add_argument("--anchors", default=",".join(ANCHORS), help="comma-separated subset of " + ", ".join(ANCHORS))
    ap.add_argument("--repeats", type=int, default=1, help="alternating timed runs per tool; the best is kept")
    ap.add_argument("--dir", default=None, help="keep the folders here (reused when they match)")
    ap.add_argument("--gpu-decode", action="store_true", help="also time ganeval --gpu-decode (CUDA)")
    ap.add_argument(
        "--tf32",
        action="store_true",
        help="also time ganeval --tf32 (CUDA): the anchors run PyTorch's default, TF32 convolutions",
    )
    args = ap.parse_args()

    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from _util import machine_line

    from ganeval.features.engine import default_num_workers
    from ganeval.features.inception import FIDInceptionV3

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    workers = args.workers if args.workers is not None else default_num_workers(dev)
    batch = args.batch_size or (250 if dev.type == "cuda" else 50)
    anchors = [a for a in args.anchors.split(",") if a]
    bad = [a for a in anchors if a not in ANCHORS]
    if bad:
        raise SystemExit(f"unknown anchor(s) {bad}; choose among {ANCHORS}")
    modules = {"pytorch-fid": "pytorch_fid", "torch-fidelity": "torch_fidelity", "clean-fid": "cleanfid"}
    missing = [a for a in anchors if importlib.util.find_spec(modules[a]) is None]
    if missing:
        print(f"not installed, left out: {', '.join(missing)}")
        anchors = [a for a in anchors if a not in missing]

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = Path(args.dir) if args.dir else tmp
        fa, fb = args.formats.split(",")
        a, b = root / f"A_{fa}_{args.n}_{args.size}", root / f"B_{fb}_{args.n}_{args.size}"
        made = build_folder(a, fa, args.n, args.size) + build_folder(b, fb, args.n, args.size)
        print(f"folders: {a.name}, {b.name} ({args.n} {args.size}x{args.size} images each; built in {made:.0f} s)")

        hub = tmp / "torch" / "hub" / "checkpoints"
        hub.mkdir(parents=True)
        weights = hub / FID_WEIGHTS_FILENAME
        torch.save(FIDInceptionV3.random(seed=0).state_dict(), weights)
        env = {
            **os.environ,
            "TORCH_HOME": str(tmp / "torch"),
            "OMP_NUM_THREADS": str(args.threads),
            "MKL_NUM_THREADS": str(args.threads),
            "GANEVAL_CACHE_DIR": str(tmp / "cache"),
            "PYTHONWARNINGS": "ignore",
        }
        py = sys.executable
        ganeval = [py, "-m", "ganeval", "fid", str(a), str(b), "--weights", str(weights), "--device", device]
        ganeval += ["--batch-size", str(batch), "--no-cache", "-q", "--json"]
        ganeval += [] if args.own_workers else ["--num-workers", str(workers)]
        each = "own" if args.own_workers else str(workers)
        cmds = {
            "pytorch-fid": [py, "-m", "pytorch_fid", str(a), str(b), "--device", device]
            + ["--batch-size", str(batch)]
            + ([] if args.own_workers else ["--num-workers", str(workers)]),
            "torch-fidelity": [
                py,
                "-c",
                TORCH_FIDELITY,
                str(a),
                str(b),
                str(weights),
                device,
                str(batch),
                each,
            ],
            "clean-fid": [py, "-c", CLEAN_FID, str(a), str(b), device, str(batch), each],
        }
        ours = {m: ganeval + ["--preprocessing", m] for m in dict.fromkeys(MODE[x] for x in anchors)}
        if args.tf32 and dev.type == "cuda":  # the anchors' precision: PyTorch lets cuDNN use TF32
            ours["tf --tf32"] = ganeval + ["--preprocessing", "tf", "--tf32"]
        if args.gpu_decode and dev.type == "cuda":
            ours["tf --gpu-decode"] = ganeval + ["--preprocessing", "tf", "--gpu-decode"]

        print(f"{machine_line()}; torch {torch.__version__}; device {device}", end="")
        print(f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "")
        print(
            f"threads {args.threads}, workers {'each its own default' if args.own_workers else workers}, "
            f"batch {batch}; network: FID Inception v3, seeded random weights"
        )
        load0 = os.getloadavg()[0]
        times: dict[str, list[float]] = {}
        fids: dict[str, float] = {}
        for r in range(args.repeats):
            order = []
            for anchor in anchors:
                order += [("ganeval " + MODE[anchor], ours[MODE[anchor]]), (anchor, cmds[anchor])]
            order += [("ganeval " + k, v) for k, v in ours.items() if k not in MODE.values()]
            for label, cmd in order:
                wall, value = run(cmd, env)
                times.setdefault(label, []).append(wall)
                fids[label] = value
                print(f"  run {r + 1}: {label:28s} {wall:8.1f} s  FID {value:.6g}", flush=True)

        print(
            f"\nbest of {args.repeats}, {2 * args.n} images per run; load average {load0:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        for label, ts in times.items():
            print(f"{label:28s} {min(ts):8.1f} s  {2 * args.n / min(ts):9.1f} images/s")
        for anchor in anchors:
            mine = "ganeval " + MODE[anchor]
            ratio = min(times[anchor]) / min(times[mine])
            rel = abs(fids[mine] - fids[anchor]) / max(abs(fids[anchor]), 1e-12)
            print(f"ratio {anchor} / {mine}: {ratio:.2f}x   FID relative difference {rel:.1e}")
            if MODE[anchor] != "tf" and "ganeval tf" in times:
                print(
                    f"ratio {anchor} / ganeval tf (ganeval's default): {min(times[anchor]) / min(times['ganeval tf']):.2f}x"
                )
        if "ganeval tf --tf32" in times:
            for anchor in anchors:
                print(
                    f"ratio {anchor} / ganeval tf --tf32: {min(times[anchor]) / min(times['ganeval tf --tf32']):.2f}x"
                )
        if "ganeval tf --gpu-decode" in fids and "ganeval tf" in fids:
            rel = abs(fids["ganeval tf --gpu-decode"] - fids["ganeval tf"]) / abs(fids["ganeval tf"])
            print(f"--gpu-decode moves the FID by {rel:.1e} (relative) on these JPEGs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
