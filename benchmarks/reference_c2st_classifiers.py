"""C2ST on the reference suite's 2-D samples with each classifier: what the linear default
misses on ring8 and grid25.

Reads the samples a reference-suite report kept (``DIR/ring8/runs/LOSS-seedS/samples.npy``,
from ``ganeval report --suite reference --out DIR``) and the real test split, and prints the
C2ST accuracy (5 folds, seed 0; 0.5 = indistinguishable) of every candidate with the
``logreg`` (the suite's), ``knn`` and ``mlp`` classifiers, mean ± std over the seeds found.

    python benchmarks/reference_c2st_classifiers.py DIR [--data ring8,grid25]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from ganeval.metrics.c2st import classifier_two_sample_test
from ganeval.sources import open_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, help="a reference-suite report folder")
    ap.add_argument("--data", default="ring8,grid25")
    ap.add_argument("--classifiers", default="logreg,knn,mlp")
    a = ap.parse_args()
    classifiers = a.classifiers.split(",")
    for data in a.data.split(","):
        runs = sorted((a.report / data / "runs").glob("*-seed*"))
        if not runs:
            raise SystemExit(f"{a.report / data / 'runs'}: no runs")
        real = open_source(f"builtin:{data}/test").array
        by_loss: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for run in runs:
            loss = re.sub(r"-seed\d+$", "", run.name)
            fake = np.load(run / "samples.npy")
            for clf in classifiers:
                r = classifier_two_sample_test(real, fake, classifier=clf, folds=5, seed=0)
                by_loss[loss][clf].append(r.values["accuracy"])
        print(f"\n{data}: C2ST accuracy (0.5 = indistinguishable), mean ± std over {len(runs) // len(by_loss)} seeds")
        print("| candidate | " + " | ".join(classifiers) + " |")
        print("|---|" + "---|" * len(classifiers))
        for loss, accs in by_loss.items():
            cells = [f"{np.mean(v):.3f} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.3f}" for v in accs.values()]
            print(f"| {loss} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
