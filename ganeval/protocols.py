"""Evaluation protocol presets: the settings a paper's table was made with, as data.

A protocol fixes the extractor, its preprocessing, the metrics and their options, and the
sample count it is meant for; ``ganeval eval --protocol NAME`` and
``ganeval.evaluate(..., protocol=NAME)`` apply it, and every result records
``"protocol": NAME`` in its settings. A user option that contradicts the preset is a
:class:`~ganeval.errors.ParameterError` naming both; options the preset leaves open (a
seed, the batch size, the device) stay the user's.

The table (:data:`PROTOCOLS`), and how each entry follows its source (docs/protocols.md
says which agreement with the reference tool the tests hold):

- ``adm``: guided-diffusion ``evaluations/evaluator.py`` (Dhariwal & Nichol 2021,
  arXiv:2105.05233): the TF FID Inception (``tf`` resize), IS over consecutive chunks of
  5,000 samples (:class:`Chunks`: ``ceil(n / 5000)`` splits, 10 at 50,000), FID and sFID (spatial features,
  :mod:`ganeval.metrics.sfid`) against the reference batch's stored moments, and the
  improved precision and recall of Kynkäänniemi et al. 2019 (arXiv:1904.06991) with k = 3
  on pool3 features against the reference batch's images (``prdc`` with ``k=3``: the same
  k-NN radii, the k-th nearest other point, and the same ball test);
- ``pytorch-fid``: pytorch-fid's ``fid_score.py``: FID, Inception pool3, bilinear
  ``F.interpolate`` resize (``pytorch-fid``);
- ``clean-fid``: clean-fid (Parmar et al. 2022, arXiv:2104.11222) ``mode="clean"``: FID,
  PIL bicubic antialiased resize (``clean``);
- ``torch-fidelity``: torch-fidelity's defaults: IS (10 splits), FID, KID (100 subsets of
  1,000, cubic polynomial kernel), Inception with TF1 bilinear resize (``tf``);
- ``stylegan``: StyleGAN2-ADA / StyleGAN3 ``fid50k_full``: FID of 50,000 generated images
  against the full real data set, TF Inception graph port (``tf``);
- ``edm2``: EDM2 ``calculate_metrics.py`` (Karras et al. 2024, arXiv:2312.02696): FID
  (Inception, ``tf``) and FD_DINOv2 (the Fréchet distance of DINOv2 ViT-L/14 features,
  Stein et al. 2023, arXiv:2306.04675; ``dgm-eval`` preprocessing), 50,000 samples.

Examples
--------
>>> p = get_protocol("adm")
>>> [(k, m) for k, m, _ in p.all_metrics()]
[('is', 'is'), ('fid', 'fid'), ('sfid', 'sfid'), ('prdc', 'prdc')]
>>> plan("pytorch-fid", preprocessing="clean")
Traceback (most recent call last):
...
ganeval.errors.ParameterError: preprocessing 'clean' contradicts protocol 'pytorch-fid', which fixes preprocessing 'pytorch-fid'
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ParameterError

__all__ = ["PROTOCOLS", "Chunks", "Pass", "PlannedPass", "Protocol", "get_protocol", "names", "plan"]


@dataclass(frozen=True)
class Pass:
    """One extraction and the metrics computed from it.

    ``metrics`` maps each result's key to the registered metric that computes it and the
    options the protocol fixes (``{"fd_dinov2": ("fid", {})}``: FID on DINOv2 features).
    """

    extractor: str
    preprocessing: str
    metrics: Mapping[str, tuple[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Protocol:
    """A named preset: its passes, sample counts and where it comes from."""

    name: str
    source: str
    passes: tuple[Pass, ...]
    num_fake: int | None = None  # the generated-sample count it is defined for (None: any)
    real: str = ""  # what the real side is
    notes: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)  # other names of result keys

    def all_metrics(self) -> list[tuple[str, str, Mapping[str, Any]]]:
        """``(result key, metric name, fixed options)`` of every pass, in order."""
        return [(key, m, o) for p in self.passes for key, (m, o) in p.metrics.items()]


@dataclass(frozen=True)
class Chunks:
    """An option fixed per sample count: ``ceil(n_fake / size)`` (ADM's IS: splits of 5,000)."""

    size: int

    def resolve(self, n: int) -> int:
        return max(1, -(-int(n) // self.size))

    def __repr__(self) -> str:
        return f"one per {self.size} samples"


_INCEPTION = "inception"

#: the presets, by name
PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "adm",
            "guided-diffusion evaluations/evaluator.py (Dhariwal & Nichol 2021, arXiv:2105.05233)",
            (
                Pass(
                    _INCEPTION,
                    "tf",
                    {
                        "is": ("is", {"splits": Chunks(5000)}),
                        "fid": ("fid", {"eps": 0.0}),
                        "sfid": ("sfid", {"eps": 0.0}),
                        "prdc": ("prdc", {"k": 3}),
                    },
                ),
            ),
            num_fake=50_000,
            real="an ADM reference batch (.npz: arr_0 images, mu/sigma, mu_s/sigma_s)",
            notes="IS over chunks of 5,000 (ceil(n/5000) splits); precision/recall: k-NN manifolds, k=3, pool3",
            aliases={"inception_score": "is", "precision": "prdc", "recall": "prdc"},
        ),
        Protocol(
            "pytorch-fid",
            "pytorch-fid fid_score.py (Seitzer, github.com/mseitzer/pytorch-fid)",
            (Pass(_INCEPTION, "pytorch-fid", {"fid": ("fid", {"eps": 0.0})}),),
            real="any set of images or pytorch-fid statistics",
        ),
        Protocol(
            "clean-fid",
            "clean-fid, mode='clean' (Parmar et al. 2022, arXiv:2104.11222)",
            (Pass(_INCEPTION, "clean", {"fid": ("fid", {"eps": 0.0})}),),
            real="any set of images or clean-fid 'clean' statistics",
        ),
        Protocol(
            "torch-fidelity",
            "torch-fidelity defaults (Obukhov et al., github.com/toshas/torch-fidelity)",
            (
                Pass(
                    _INCEPTION,
                    "tf",
                    {
                        "is": ("is", {"splits": 10}),
                        "fid": ("fid", {"eps": 0.0}),
                        "kid": ("kid", {"subsets": 100, "subset_size": 1000, "degree": 3, "gamma": None, "coef0": 1.0}),
                    },
                ),
            ),
            real="any set of images",
            notes="KID: 100 subsets of 1,000 (needs >= 1,000 samples a side)",
        ),
        Protocol(
            "stylegan",
            "StyleGAN2-ADA / StyleGAN3 metrics/metric_main.py fid50k_full (Karras et al. 2020, arXiv:2006.06676)",
            (Pass(_INCEPTION, "tf", {"fid": ("fid", {"eps": 0.0})}),),
            num_fake=50_000,
            real="the full real data set",
        ),
        Protocol(
            "edm2",
            "EDM2 calculate_metrics.py (Karras et al. 2024, arXiv:2312.02696)",
            (
                Pass(_INCEPTION, "tf", {"fid": ("fid", {"eps": 0.0})}),
                Pass("dinov2", "dgm-eval", {"fd_dinov2": ("fid", {"eps": 0.0})}),
            ),
            num_fake=50_000,
            real="an EDM2 dataset-refs .pkl (fid and fd_dinov2 moments) or images",
            aliases={"fd-dinov2": "fd_dinov2"},
        ),
    )
}


def names() -> list[str]:
    """The protocol names."""
    return list(PROTOCOLS)


def get_protocol(name: Any) -> Protocol:
    """The protocol called ``name``; a :class:`ParameterError` listing the known ones otherwise."""
    if isinstance(name, Protocol):
        return name
    if isinstance(name, str) and name in PROTOCOLS:
        return PROTOCOLS[name]
    close = difflib.get_close_matches(str(name), list(PROTOCOLS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParameterError(f"protocol: unknown protocol {name!r}{hint}; known: {', '.join(PROTOCOLS)}")


@dataclass(frozen=True)
class PlannedPass:
    """What :func:`ganeval.evaluate` runs for one pass: metric names, their options, and the
    result key of each metric."""

    extractor: str
    preprocessing: str
    metrics: tuple[str, ...]
    options: dict[str, dict[str, Any]]
    keys: dict[str, str]  # metric name -> result key


def plan(
    protocol: Any,
    metrics: str | Iterable[str] | None = None,
    *,
    extractor: str | None = "auto",
    preprocessing: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[PlannedPass]:
    """The passes of ``protocol`` with the user's choices checked against it.

    Parameters
    ----------
    protocol : str
        One of :func:`names`.
    metrics : str or iterable of str, optional
        A subset of the protocol's results (their keys, e.g. ``"fid"``, ``"fd_dinov2"``, or
        the metric names); default all of them. Any other metric contradicts the preset.
    extractor, preprocessing : str, optional
        ``"auto"`` / ``None`` take the protocol's; any other value must equal it.
    options : mapping of metric name (or result key) to options, optional
        Options the preset fixes must have its value; the others are passed on.

    Raises
    ------
    ParameterError
        Naming the user's value and the protocol's, on any contradiction.
    """
    p = get_protocol(protocol)
    entries = p.all_metrics()
    by_key = {k: (k, m, o) for k, m, o in entries}
    for k, m, o in entries:  # a metric name also selects its entry (the first one of that name)
        by_key.setdefault(m, (k, m, o))
    for alias, key in p.aliases.items():
        by_key.setdefault(alias, by_key[key])
    listing = ", ".join(k for k, _, _ in entries)
    chosen = _chosen_keys(p, metrics, by_key, listing)
    given = {str(k): dict(v) for k, v in (options or {}).items()}
    for name in given:
        if name not in by_key:
            raise ParameterError(f"options for {name!r} contradict protocol {p.name!r}, whose metrics are {listing}")
    out = []
    for ps in p.passes:
        if extractor not in (None, "auto") and extractor != ps.extractor:
            raise ParameterError(
                f"extractor {extractor!r} contradicts protocol {p.name!r}, which fixes extractor {ps.extractor!r}"
            )
        if preprocessing is not None and preprocessing != ps.preprocessing:
            raise ParameterError(
                f"preprocessing {preprocessing!r} contradicts protocol {p.name!r}, which fixes "
                f"preprocessing {ps.preprocessing!r}"
            )
        names_, opts, keys = [], {}, {}
        for key, (metric, fixed) in ps.metrics.items():
            if key not in chosen:
                continue
            user = _user_options(p, key, metric, fixed, given, by_key)
            names_.append(metric)
            opts[metric] = {**user, **fixed}
            keys[metric] = key
        if names_:
            out.append(PlannedPass(ps.extractor, ps.preprocessing, tuple(names_), opts, keys))
    return out


def _chosen_keys(p: Any, metrics: str | Iterable[str] | None, by_key: Mapping[str, Any], listing: str) -> list[str]:
    """The result keys asked for (by key, metric name or alias), each once; default every one."""
    if metrics is None:
        return [k for k, _, _ in p.all_metrics()]
    asked = [metrics] if isinstance(metrics, str) else list(metrics)
    if not asked:
        raise ParameterError("metrics: give at least one metric")
    chosen = []
    for name in asked:
        if name not in by_key:
            raise ParameterError(f"metric {name!r} contradicts protocol {p.name!r}, whose metrics are {listing}")
        chosen.append(by_key[name][0])
    return list(dict.fromkeys(chosen))


def _user_options(
    p: Any,
    key: str,
    metric: str,
    fixed: Mapping[str, Any],
    given: Mapping[str, dict[str, Any]],
    by_key: Mapping[str, Any],
) -> dict[str, Any]:
    """The user's options for the entry ``key`` (given by key or metric name), refused where
    they contradict what the protocol fixes."""
    user: dict[str, Any] = {}
    for label in dict.fromkeys((key, metric)):
        if label in given and by_key[label][0] == key:
            user.update(given[label])
    for opt, value in user.items():
        if isinstance(fixed.get(opt), Chunks) and value is not None:
            raise ParameterError(
                f"option {metric}.{opt}={value!r} contradicts protocol {p.name!r}, "
                f"which fixes {metric}.{opt} to {fixed[opt]!r}"
            )
        if opt in fixed and value != fixed[opt]:
            raise ParameterError(
                f"option {metric}.{opt}={value!r} contradicts protocol {p.name!r}, "
                f"which fixes {metric}.{opt}={fixed[opt]!r}"
            )
    return user
