"""Sample-space metrics at n = 10,000 rows, d = 20: ganeval against its anchors, same run.

For each command the library call behind it is timed on the same seeded data (real ~ N(0, I),
fake ~ N(0.1, 1.1^2 I)); where a reference implementation exists it runs on the same input and
the ratio ``anchor time / ganeval time`` is printed (> 1: ganeval is faster), with the largest
difference between the two values:

- ecdf p=1     vs ``scipy.stats.wasserstein_distance`` feature by feature
- ecdf p=inf   vs ``scipy.stats.ks_2samp`` feature by feature
- ecdf p=2     vs ``scipy.stats.energy_distance / sqrt(2)`` feature by feature
- wasserstein exact  vs ``ot.dist`` + ``ot.emd2`` called directly
- wasserstein sliced vs ``ot.sliced_wasserstein_distance`` with the same directions
- wasserstein per-feature vs ``scipy.stats.wasserstein_distance``
- c2st logreg  vs scikit-learn ``cross_val_predict`` of the same pipeline (the same work)
- divergence js vs ``scipy.spatial.distance.jensenshannon`` on the same histograms

and without an anchor: ecdf --multivariate, c2st knn/mlp, nested-f1 rf, mmd (rbf).

    python benchmarks/bench_tabular.py [--n 10000] [--d 20] [--exact-n 5000] [--repeat 1]

Exact OT runs on the first 5,000 rows by default (about 15 s per solve); ``--exact-n 10000`` takes
about 100-180 s per solve on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np


def best_of(fn, repeat):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def line(name, t_ours, t_ref=None, ref_name="", diff=None):
    text = f"  {name:<34} ganeval {t_ours:8.3f} s"
    if t_ref is not None:
        text += f" | {ref_name:<34} {t_ref:8.3f} s | ratio {t_ref / t_ours:6.2f}x"
        if diff is not None:
            text += f" | max |diff| {diff:.1e}"
    print(text, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--exact-n", type=int, default=5_000, help="rows per side for exact OT (10,000: about 2 x 100 s)")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()

    import ot
    from scipy import stats
    from scipy.spatial.distance import jensenshannon
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from ganeval.divergences import divergence_from_samples, shared_histograms
    from ganeval.metrics.c2st import classifier_two_sample_test, make_classifier
    from ganeval.metrics.ecdf import ecdf_distance
    from ganeval.metrics.mmd import maximum_mean_discrepancy
    from ganeval.metrics.nested_f1 import nested_model_f1
    from ganeval.metrics.wasserstein import random_directions, wasserstein_distance

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, numpy {np.__version__}, POT {ot.__version__}")
    g = np.random.default_rng(0)
    n, d, rep = a.n, a.d, a.repeat
    real = g.normal(size=(n, d))
    fake = g.normal(size=(n, d)) * 1.1 + 0.1
    print(f"n = {n} rows per side, d = {d}")

    # -- ecdf ---------------------------------------------------------------------------------
    for p, ref_name, ref_fn in [
        (1, "scipy wasserstein_distance x d", lambda j: stats.wasserstein_distance(real[:, j], fake[:, j])),
        ("inf", "scipy ks_2samp x d", lambda j: stats.ks_2samp(real[:, j], fake[:, j]).statistic),
        (2, "scipy energy_distance/sqrt2 x d", lambda j: stats.energy_distance(real[:, j], fake[:, j]) / math.sqrt(2)),
    ]:
        t1, r = best_of(lambda: ecdf_distance(real, fake, p=p), rep)
        t2, ref = best_of(lambda: [ref_fn(j) for j in range(d)], rep)
        line(f"ecdf --p {p}", t1, t2, ref_name, float(np.max(np.abs(np.array(r.per_feature) - ref))))
    t1, r = best_of(lambda: ecdf_distance(real, fake, p=2, multivariate=True), rep)
    line("ecdf --multivariate --p 2", t1)
    g2 = np.random.default_rng(1)
    big_r, big_f = g2.normal(size=(20_000, d)), g2.normal(size=(20_000, d)) + 0.1
    t1, r = best_of(lambda: ecdf_distance(big_r, big_f, p=2, multivariate=True), rep)
    line("ecdf --multivariate (n=20,000)", t1)

    # -- wasserstein --------------------------------------------------------------------------
    directions = random_directions(d, 500, seed=0)
    t1, r = best_of(lambda: wasserstein_distance(real, fake, sliced=True, projections=500, seed=0), rep)
    t2, ref = best_of(
        lambda: ot.sliced_wasserstein_distance(real, fake, n_projections=500, p=1, projections=directions), rep
    )
    line("wasserstein --sliced (500, p=1)", t1, t2, "ot.sliced_wasserstein_distance", abs(r.value - float(ref)))
    t1, r = best_of(lambda: wasserstein_distance(real, fake, sliced=True, projections=500, seed=0, p=2), rep)
    t2, ref = best_of(
        lambda: ot.sliced_wasserstein_distance(real, fake, n_projections=500, p=2, projections=directions), rep
    )
    line("wasserstein --sliced (500, p=2)", t1, t2, "ot.sliced_wasserstein_distance", abs(r.value - float(ref)))
    t1, r = best_of(lambda: wasserstein_distance(real, fake, sliced=True, projections=1, per_feature=True), rep)
    t2, ref = best_of(lambda: [stats.wasserstein_distance(real[:, j], fake[:, j]) for j in range(d)], rep)
    line(
        "wasserstein per-feature (p=1)",
        t1,
        t2,
        "scipy wasserstein_distance x d",
        float(np.max(np.abs(np.array(r.per_feature) - ref))),
    )
    m = a.exact_n
    xr, xf = real[:m], fake[:m]
    t1, r = best_of(lambda: wasserstein_distance(xr, xf, p=1), 1)

    def pot_exact():
        cost = ot.dist(xr, xf, metric="euclidean")
        w = np.full(m, 1.0 / m)
        return ot.emd2(w, w, cost, numItermax=10_000_000)

    t2, ref = best_of(pot_exact, 1)
    line(f"wasserstein exact p=1 (n={m})", t1, t2, "ot.dist + ot.emd2", abs(r.value - float(ref)))

    # -- c2st ---------------------------------------------------------------------------------
    t1, r = best_of(lambda: classifier_two_sample_test(real, fake, classifier="logreg", seed=0), rep)

    def sk_cv():
        data = np.concatenate([real, fake])
        labels = np.r_[np.ones(n, int), np.zeros(n, int)]
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        return cross_val_predict(make_classifier("logreg", 0), data, labels, cv=cv, method="predict_proba")[:, 1]

    t2, prob = best_of(sk_cv, rep)
    acc_ref = float(np.mean((prob > 0.5) == np.r_[np.ones(n, bool), np.zeros(n, bool)]))
    line("c2st --classifier logreg", t1, t2, "sklearn cross_val_predict", abs(r.accuracy - acc_ref))
    for clf in ("knn", "mlp"):
        t1, r = best_of(lambda: classifier_two_sample_test(real, fake, classifier=clf, seed=0), 1)
        line(f"c2st --classifier {clf}  (acc {r.accuracy:.3f})", t1)

    # -- nested-f1 ----------------------------------------------------------------------------
    yr = (real[:, 0] + real[:, 1] > 0).astype(int)
    yf = (fake[:, 0] + fake[:, 1] > 0.2).astype(int)
    t1, r = best_of(lambda: nested_model_f1(real, yr, fake, yf, model="rf", seed=0), 1)
    line(f"nested-f1 --model rf  (ratio {r.ratio:.3f})", t1)

    # -- divergence, mmd ----------------------------------------------------------------------
    t1, r = best_of(lambda: divergence_from_samples(real, fake, "js", bins=50), rep)

    def scipy_js():
        out = []
        for j in range(d):
            cx, cy, _ = shared_histograms(real[:, j], fake[:, j], 50)
            out.append(jensenshannon(cx, cy) ** 2)
        return out

    t2, ref = best_of(scipy_js, rep)
    line(
        "divergence --divergence js --bins 50",
        t1,
        t2,
        "binning + scipy jensenshannon^2",
        float(np.max(np.abs(np.array(r["per_feature"]) - ref))),
    )
    t1, r = best_of(lambda: maximum_mean_discrepancy(real, fake, kernel="rbf"), 1)
    line("mmd --kernel rbf (median bandwidth)", t1)


if __name__ == "__main__":
    main()
