"""Train the embedded digits CNN and write its reference statistics.

Run from the repository root (CPU, well under a minute)::

    python -m ganeval.features.digits_train --out reference_stats

It trains :class:`~ganeval.features.digits_net.DigitsCNN` on the project's fixed *train*
split of scikit-learn's digits (``builtin:digits/train``), seed 0, Adam, full determinism
from a seeded :class:`torch.Generator` (initial weights and batch order; no dropout, no
global RNG), rescales the feature layer to unit root-mean-square on the train split (so
kernel metrics such as KID see values of order 1, as with Inception pool3), then writes into ``--out``:

- ``digits_cnn.pt``: the state dict;
- ``digits_train_stats.npz``, ``digits_test_stats.npz``: mu/sigma of the 64-D features of each
  split, computed through the same pipeline as ``ganeval stats builtin:digits/SPLIT``;
- ``manifest.json``: per file its sha256 and the command that made it, plus test accuracy
  and the torch version (other entries of an existing manifest are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["train_digits_cnn", "main"]


def train_digits_cnn(
    *, seed: int = 0, epochs: int = 40, batch_size: int = 32, lr: float = 2e-3, weight_decay: float = 1e-4
):
    """Train the digits CNN on ``builtin:digits/train``; return ``(net, test_accuracy)``.

    Cross-entropy, Adam (Kingma & Ba 2014, arXiv:1412.6980), fixed seed.
    """
    import torch
    import torch.nn.functional as F

    from ..errors import DataError
    from ..sources.builtin import load_builtin
    from .digits import DigitsExtractor, digits_images
    from .digits_net import init_digits_cnn

    ext = DigitsExtractor()

    def inputs(split: str):
        imgs = torch.from_numpy(np.repeat(digits_images(split)[:, None], 3, axis=1))
        data, idx = load_builtin("digits", split)
        if data.labels is None:
            raise DataError("builtin:digits: the bundled set has no labels")
        return ext.prepare(imgs), torch.from_numpy(data.labels[idx])

    x_train, y_train = inputs("train")
    x_test, y_test = inputs("test")
    gen = torch.Generator().manual_seed(seed)
    net = init_digits_cnn(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(x_train.shape[0], generator=gen)
        for start in range(0, len(order), batch_size):
            b = order[start : start + batch_size]
            loss = F.cross_entropy(net(x_train[b])["logits"], y_train[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        # unit root-mean-square features on the train split: divide fc1 by c and multiply
        # fc2's weights by c (ReLU is positively homogeneous, so the logits do not change)
        c = float(net(x_train)["features"].pow(2).mean().sqrt())
        net.fc1.weight.div_(c)
        net.fc1.bias.div_(c)
        net.fc2.weight.mul_(c)
    with torch.inference_mode():
        acc = float((net(x_test)["logits"].argmax(1) == y_test).double().mean())
    return net, acc


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    from ..atomic import atomic_write

    atomic_write(
        path, lambda fh: fh.write(json.dumps(obj, indent=2, sort_keys=True) + "\n"), mode="w", encoding="utf-8"
    )


def _write_split_stats(split: str, weights: Path, out: Path, command: str) -> dict[str, Any]:
    """Write ``digits_SPLIT_stats.npz`` (mu/sigma of the split's features through the
    extraction pipeline, with the new weights); return its manifest entry."""
    import torch

    from ..statistics import FeatureStats
    from . import extract_features

    feats = extract_features(
        f"builtin:digits/{split}", extractor="digits", weights=weights, cache=False, num_workers=0, device="cpu"
    )
    stats = FeatureStats.from_features(
        feats.features,
        metadata={
            "extractor": "digits",
            "preprocessing": feats.info["preprocessing"],
            "weights_sha256": feats.info["weights_sha256"],
            "source": f"builtin:digits/{split}",
        },
    )
    path = out / f"digits_{split}_stats.npz"
    stats.save(path)
    return {
        "sha256": _sha256(path),
        "command": command.strip(),
        "n": stats.n,
        "dim": stats.dim,
        "extractor": "digits",
        "torch": torch.__version__,
    }


def _update_manifest(manifest_path: Path, entries: dict[str, Any]) -> None:
    """Put ``entries`` into the manifest's files, keeping its other entries."""
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
    manifest.setdefault("files", {}).update(entries)
    _write_json(manifest_path, manifest)


def main(argv: list[str] | None = None) -> int:
    import torch

    from ..atomic import atomic_write
    from .digits import DIGITS_WEIGHTS_FILE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reference_stats", help="output folder (default: reference_stats)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: fastest for this small network on a busy machine)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # this is a script's process: setting it here touches no caller
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m ganeval.features.digits_train " + " ".join(argv if argv is not None else sys.argv[1:])

    net, acc = train_digits_cnn(seed=args.seed, epochs=args.epochs)
    weights = out / DIGITS_WEIGHTS_FILE
    state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    atomic_write(weights, lambda fh: torch.save(state, fh))

    entries: dict[str, Any] = {
        DIGITS_WEIGHTS_FILE: {
            "sha256": _sha256(weights),
            "command": command.strip(),
            "test_accuracy": round(acc, 6),
            "train_split": "builtin:digits/train",
            "seed": args.seed,
            "epochs": args.epochs,
            "threads": args.threads,
            "torch": torch.__version__,
        },
    }
    for split in ("train", "test"):
        entries[f"digits_{split}_stats.npz"] = _write_split_stats(split, weights, out, command)
    _update_manifest(out / "manifest.json", entries)
    sys.stdout.write(f"digits CNN: test accuracy {acc:.4f}; wrote {', '.join(sorted(entries))} in {out}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
