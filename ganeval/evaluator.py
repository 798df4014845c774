"""One extractor plus a dict of streaming metrics, with state on the extractor's device:
any registered metric whose inputs a stream of samples can feed, for training loops.

::

    ev = ganeval.Evaluator(["fid", "kid", "is", "prdc"], extractor="inception", device="cuda:1",
                           real="ref:NAME" | "real_stats.npz" | "real/" | None,
                           options={"kid": {"subsets": 50}})
    ev.update(fake_images)               # a generator's output, on the GPU
    ev.update(real_images, real=True)    # when real= was not given
    results = ev.compute()               # {"fid": MetricResult, ...}, as ganeval.evaluate returns
    ganeval.results.flat(results)        # {"fid": 12.3, "kid": 0.01, "kid_std": 0.001, ...}

Each batch goes through the network once (the forward pass of
:func:`ganeval.features.engine.forward`, the one :func:`ganeval.evaluate` runs) and its rows
go to one state per kind and side (:mod:`ganeval.streaming`): float64 moments for
moment metrics (FID; constant memory), one shared copy of the rows for every row metric
(KID, PRDC, MMD, CMMD, PRD, ECDF, C2ST, Wasserstein, divergences, Vendi, memorization, ...),
the fake logits for IS. ``compute()`` runs each metric on those states, so it equals
:func:`ganeval.evaluate` on the same images (same extractor, batch size, options).

Metrics: every registered metric except those on labelled tables (``nested-f1``), which a
stream cannot feed (refused with the reason). For ``train-fake`` metrics (memorization) the
real side is the training set. One-sample metrics (``is``, ``vendi``) use the fake side only.

Images follow the one rule of :mod:`ganeval.images`: uint8 (0..255) or float in
``value_range`` (default (-1, 1); a warning when a batch fills clearly less of it, e.g.
[0, 1] images); NCHW, NHWC or NHW, an ambiguous shape settled by ``layout=``; 1 channel
copied to 3, a 4th (alpha) dropped. Image sizes may change between updates (the extractor
resizes each batch); feature widths may not. Kept rows are copies: refilling one buffer
between updates is safe.

Under an initialised ``torch.distributed`` process group, ``compute()`` gathers every rank's
states (rows: the ranks' batches interleaved round-robin, so rank ``r`` feeding batches
``r, r + W, ...`` of a stream gives that stream's order) and every rank gets the global
result. Every rank must call ``compute()``; one that calls it alone gets a
:class:`~ganeval.distributed.DistributedError` after ``sync_timeout_s`` instead of hanging.

``state_dict()`` records the extractor, its weights hash, the preprocessing, the row dtype,
the real set's fingerprint and every metric's options; ``load_state_dict`` refuses a state
made otherwise, naming both.

Memory of the kept rows, per 10,000 samples and side: ``10,000 x d x 8`` bytes (float64, the
default; 164 MB at d = 2048) or ``x 4`` with ``feature_dtype="float32"``. IS keeps 10,000 x
1008 x 8 bytes (81 MB) of logits. FID keeps ``8 d^2`` bytes per side (34 MB at d = 2048).

Examples
--------
>>> import numpy as np, ganeval
>>> ev = ganeval.Evaluator(("fid", "kid", "prdc"), extractor=None, options={"kid": {"subsets": 5}})
>>> g = np.random.default_rng(0)
>>> for _ in range(3):
...     ev.update(g.normal(size=(40, 4)), real=True)
...     ev.update(g.normal(size=(40, 4)) + 0.5)
>>> r = ev.compute()
>>> sorted(r), r["fid"].value > 0.5
(['fid', 'kid', 'prdc'], True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._validation import check_bool, check_choice
from .distributed import barrier, is_distributed, prepare_group
from .errors import DataError, ParameterError
from .images import DEFAULT_VALUE_RANGE, check_layout, check_value_range, images_to_uint8
from .metrics.registry import get as get_metric
from .results import MetricResult
from .statistics import FeatureStats
from .streaming import (
    StreamingMetric,
    StreamState,
    as_moments_state,
    as_row_tensor,
    new_state,
    stream_kind,
    stream_sides,
)

if TYPE_CHECKING:
    from .sources.base import ArraySource
    from .sources.images import ImageSource

__all__ = ["Evaluator", "DEFAULT_METRICS"]

#: the metrics of ``Evaluator()`` with no ``metrics``
DEFAULT_METRICS = ("fid", "kid", "is", "prdc")

#: what ``state_dict`` records of how features were made; a loaded state must match
_CONFIG = ("extractor", "weights_sha256", "preprocessing", "feature_dtype")


def _resolve_extractor(extractor: Any, weights: Any, preprocessing: str | None):
    if extractor is None:
        return None
    if isinstance(extractor, str):
        from .features import get_extractor

        name = "inception" if extractor == "auto" else extractor
        return get_extractor(name, weights=weights, preprocessing=preprocessing)
    for attr in ("prepare", "build", "split_outputs"):
        if not callable(getattr(extractor, attr, None)):
            raise ParameterError(
                f"extractor must be a name, None or an ImageExtractor; {type(extractor).__name__} has no {attr}()"
            )
    return extractor


def _metric_names(metrics: Any) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    try:
        names = tuple(dict.fromkeys(metrics))
    except TypeError:
        raise ParameterError(f"metrics must be a metric name or a list of names, got {metrics!r}") from None
    if not names:
        raise ParameterError("metrics: give at least one metric")
    for m in names:
        if not isinstance(m, str):
            raise ParameterError(f"metrics must be metric names, got {m!r}")
    return names


def _fingerprint(rows: Any = None, stats: FeatureStats | None = None) -> str:
    h = hashlib.sha256()
    if rows is not None:
        arr = np.ascontiguousarray(rows, dtype=np.float64)
        h.update(f"rows{arr.shape}".encode())
        h.update(arr.data.cast("B"))
    elif stats is not None:
        for a in (stats.mean, stats.cov):
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(a.data.cast("B"))
    else:
        raise ParameterError("a fingerprint needs rows or statistics")
    return h.hexdigest()[:16]


def _state_device(device: Any) -> Any:
    """The resolved device of the network and the states (MPS refused: no float64 there)."""
    from .devices import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "mps":
        raise ParameterError(
            f"device={device!r}: the Evaluator keeps float64 moments on its device, which "
            "MPS does not support; use device='cpu' (or ganeval.features.extract_features, "
            "which runs the network on MPS and keeps the rows on the CPU)"
        )
    return resolved


class Evaluator:
    """An extractor plus streaming metrics, with state on ``device``.

    Parameters
    ----------
    metrics : str or iterable of str, default=("fid", "kid", "is", "prdc")
        Registered metric names (one name alone is one metric); any metric whose inputs a
        stream can feed (see the module notes).
    extractor : str, ImageExtractor or None, default="inception"
        ``"inception"``, ``"digits"``, ... (registered names), an extractor object, or None to
        feed feature rows (tensors or arrays, shape (n, d)) directly.
    device : str or torch.device, default="auto"
        Where the network and the states live: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (``auto``:
        CUDA when present).
    real : optional
        The real side (for memorization: the training set), fixed for the Evaluator's life:
        a statistics ``.npz``, ``ref:NAME`` or :class:`~ganeval.FeatureStats` (moment metrics
        only), or any input of :func:`ganeval.load_features` (folder, zip, ``builtin:...``,
        array), extracted once. None: feed real batches with ``update(x, real=True)``.
    value_range : (low, high), default=(-1, 1)
        The range of float images (finite, positive finite width).
    layout : {"auto", "NCHW", "NHWC"}, default="auto"
        How 4-D image batches are read (:mod:`ganeval.images`).
    weights, preprocessing :
        As for :func:`ganeval.features.extract_features` (``preprocessing=None``: the
        extractor's own; one that does not apply to the extractor is refused).
    options : mapping of metric name to keyword options
        ``{"kid": {"subsets": 50, "seed": 1}, "prdc": {"k": 3}}``, validated by each metric's
        :meth:`~ganeval.Metric.check_options`.
    feature_dtype : {"float64", "float32"}, default="float64"
        How rows are kept (float64: identical to :func:`ganeval.evaluate`; float32: half the
        memory, KID products in float32).
    sync_timeout_s : float, optional
        How long ``compute()`` waits for the other ranks (default ``$GANEVAL_DIST_TIMEOUT``
        or 300 s).
    tf32 : bool, default=False
        On CUDA, let the extractor network use TF32 (about 2.7x faster Inception on an H100,
        FID off by about 6e-4 relative); by default full float32
        (:mod:`ganeval.features.precision`). Results then hold ``"tf32": True``.

    Attributes
    ----------
    streams : dict of str to StreamingMetric
        The metrics, by name, over the shared states.

    Notes
    -----
    Under a process group, constructing an Evaluator is itself collective on every rank
    (it prepares a gloo side group for the timed barrier).
    """

    def __init__(
        self,
        metrics: Any = DEFAULT_METRICS,
        *,
        extractor: Any = "inception",
        device: Any = "auto",
        real: Any = None,
        value_range: Any = DEFAULT_VALUE_RANGE,
        layout: str = "auto",
        weights: Any = None,
        preprocessing: str | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        feature_dtype: str = "float64",
        sync_timeout_s: float | None = None,
        tf32: bool = False,
    ):
        import torch

        self.metrics = _metric_names(metrics)
        for m in self.metrics:
            stream_kind(get_metric(m))  # unknown names and metrics that cannot stream: refused here
        opts = {k: dict(v) for k, v in (options or {}).items()}
        unknown = set(opts) - set(self.metrics)
        if unknown:
            raise ParameterError(f"options given for metrics not asked for: {sorted(unknown)}")
        self.device = _state_device(device)
        self.value_range = check_value_range(value_range)
        self.layout = check_layout(layout)
        check_choice(feature_dtype, "feature_dtype", ("float64", "float32"))
        self.feature_dtype = feature_dtype
        row_dtype = torch.float64 if feature_dtype == "float64" else torch.float32
        self.sync_timeout_s = sync_timeout_s
        self._tf32 = check_bool(tf32, "tf32")
        self._extractor = _resolve_extractor(extractor, weights, preprocessing)
        self._extractor_name = (
            ("inception" if extractor == "auto" else extractor) if isinstance(extractor, str) else None
        )
        self._weights, self._preprocessing = weights, preprocessing
        self._net = None
        # one state per (kind, side), shared by every metric that keeps that kind
        self._states: dict[tuple[str, str], StreamState] = {}
        self.streams: dict[str, StreamingMetric] = {
            m: self._stream_of(m, row_dtype, opts.get(m, {})) for m in self.metrics
        }
        self._real_fixed = False
        self._real_name = "real batches"
        self._real_fingerprint: str | None = None
        self._info = self._extractor_info()
        if real is not None:
            self._set_real(real)
        prepare_group(timeout_s=sync_timeout_s)

    def _stream_of(self, name: str, row_dtype: Any, options: Mapping[str, Any]) -> StreamingMetric:
        """Metric ``name`` streaming over the shared states of its kind (made on first use)."""
        metric = get_metric(name)
        kind = stream_kind(metric)
        states = {}
        for side in stream_sides(metric):
            key = (kind, side)
            if key not in self._states:
                self._states[key] = new_state(kind, self.device, row_dtype)
            states[side] = self._states[key]
        return StreamingMetric(metric, device=self.device, states=states, **options)

    def _extractor_info(self) -> dict[str, Any]:
        """How the features are made, as results record it (all None for feature rows fed as they are)."""
        from .features.precision import uses_tf32

        if self._extractor is None:
            return {"extractor": None, "weights_sha256": None, "preprocessing": None}
        sha = self._extractor.weights_sha256() if hasattr(self._extractor, "weights_sha256") else None
        info: dict[str, Any] = {
            "extractor": getattr(self._extractor, "name", type(self._extractor).__name__),
            "preprocessing": getattr(self._extractor, "preprocessing", None),
            "weights_sha256": sha,
        }
        if uses_tf32(self.device, self._tf32):
            info["tf32"] = True
        return info

    # -- state -----------------------------------------------------------------------------
    def _side_states(self, side: str) -> list[StreamState]:
        return [st for (kind, s), st in self._states.items() if s == side]

    @property
    def takes_real(self) -> bool:
        """Whether any metric compares with a real (or training) set."""
        return bool(self._side_states("real"))

    def _set_real(self, real: Any) -> None:
        if not self.takes_real:
            raise ParameterError(f"real= was given, but none of {', '.join(self.metrics)} compares with a real set")
        feats = self._real_features(real)
        states = self._side_states("real")
        if feats.rows is None:
            if feats.stats is None:
                raise DataError(f"real={feats.name!r} holds no feature rows or statistics")
            needs_rows = [m for m, s in self.streams.items() if "real" in s.sides and s.kind != "moments"]
            if needs_rows:
                raise ParameterError(
                    f"real={feats.name!r} holds statistics (mu/sigma) only; {', '.join(needs_rows)} "
                    f"need real feature rows: give real images or features, or feed them with "
                    f"update(x, real=True)"
                )
            for st in states:
                as_moments_state(st).set_stats(feats.stats)
            self._real_fingerprint = _fingerprint(stats=feats.stats)
        else:
            rows = as_row_tensor(feats.rows, f"real={feats.name}", self.device, dtype=self._row_dtype())
            for st in states:
                st.check_width(int(rows.shape[1]), f"real={feats.name}")
            for st in states:
                st.add_trusted(rows, f"real={feats.name}")
                st.fixed = True
            self._real_fingerprint = _fingerprint(rows=feats.rows)
        self._real_name = feats.name
        self._real_fixed = True

    def _real_features(self, real: Any) -> Any:
        """The fixed real set read as :class:`~ganeval.features.inputs.Features`: statistics as
        they are, images through this Evaluator's extractor (cached when it is a registered one)."""
        from .features.inputs import Features, features_of
        from .sources import open_source

        if isinstance(real, FeatureStats):
            return Features("real statistics", stats=real)
        src = open_source(real, name="real", value_range=self.value_range, layout=self.layout)
        if src.kind == "images" and self._extractor is None:
            raise ParameterError(f"real={src.name!r} holds images; extractor=None takes feature rows only")
        if src.kind != "images":
            return features_of(src, extractor="auto")
        if self._extractor_name is None:  # an extractor object: no cache
            from .features.engine import run_extraction

            rows, logits, _ = run_extraction(src, self._extractor, device=self.device, tf32=self._tf32)
            return Features(src.name, rows=rows, logits=logits)
        return features_of(
            src,
            extractor=self._extractor_name,
            weights=self._weights,
            preprocessing=self._preprocessing,
            device=self.device,
            progress=False,
            tf32=self._tf32,
        )

    def _row_dtype(self):
        import torch

        return torch.float64 if self.feature_dtype == "float64" else torch.float32

    def reset(self, keep_real: bool = True) -> None:
        """Forget the fake samples (and the real ones too with ``keep_real=False``)."""
        for (_, side), st in self._states.items():
            if side != "real" or not keep_real:
                st.reset()
        if not keep_real:
            self._real_fixed = False
            self._real_name = "real batches"
            self._real_fingerprint = None

    def _config(self) -> dict[str, Any]:
        return {
            "extractor": self._info.get("extractor"),
            "weights_sha256": self._info.get("weights_sha256"),
            "preprocessing": self._info.get("preprocessing"),
            "feature_dtype": self.feature_dtype,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything accumulated, on the CPU (``torch.save``-able), with what made it: the
        extractor, its weights hash, the preprocessing, the row dtype, the real set (name and
        fingerprint, when fixed by ``real=``) and every metric's options."""
        return {
            "format": "ganeval.Evaluator/2",
            "metrics": self.metrics,
            "options": {m: dict(s.options) for m, s in self.streams.items()},
            "config": self._config(),
            "real_fixed": self._real_fixed,
            "real_name": self._real_name,
            "real_fingerprint": self._real_fingerprint,
            "states": {f"{kind}/{side}": st.state_dict() for (kind, side), st in self._states.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (moved to this Evaluator's device). A state made with
        other metrics, options, extractor, weights, preprocessing, row dtype or another real
        set is refused with a :class:`ParameterError` naming both."""
        if not isinstance(state, Mapping) or state.get("format") != "ganeval.Evaluator/2":
            raise ParameterError("not an Evaluator state_dict (format 'ganeval.Evaluator/2')")
        if tuple(state.get("metrics", ())) != self.metrics:
            raise ParameterError(
                f"state_dict holds metrics {tuple(state.get('metrics', ()))}, this Evaluator computes {self.metrics}"
            )
        for m, s in self.streams.items():
            theirs = dict((state.get("options") or {}).get(m) or {})
            if theirs != s.options:
                raise ParameterError(f"state_dict was made with {m} options {theirs}, this Evaluator has {s.options}")
        mine, theirs = self._config(), dict(state.get("config") or {})
        for key in _CONFIG:
            if theirs.get(key) != mine[key]:
                raise ParameterError(
                    f"state_dict was made with {key.replace('_', ' ')} {theirs.get(key)!r}, "
                    f"this Evaluator uses {mine[key]!r}"
                )
        if self._real_fixed and state.get("real_fingerprint") != self._real_fingerprint:
            raise ParameterError(
                f"state_dict was made with real set {state.get('real_name')!r} "
                f"(fingerprint {state.get('real_fingerprint')}), this Evaluator's real set is "
                f"{self._real_name!r} (fingerprint {self._real_fingerprint})"
            )
        saved = state.get("states") or {}
        for kind, side in self._states:
            if f"{kind}/{side}" not in saved:
                raise ParameterError(f"state_dict has no {kind} state for the {side} side")
        for (kind, side), st in self._states.items():
            st.load_state_dict(saved[f"{kind}/{side}"])
            if side == "real" and state.get("real_fixed"):
                st.fixed = True
        self._real_fixed = bool(state.get("real_fixed"))
        self._real_name = str(state.get("real_name") or "real batches")
        self._real_fingerprint = state.get("real_fingerprint")

    # -- feeding ---------------------------------------------------------------------------
    def _network(self):
        from .features.engine import network

        if self._net is None:
            self._net = network(self._extractor, self.device)
        return self._net

    def features(self, images: Any, name: str = "images"):
        """``(features, logits or None)`` of a batch of images on the device, as the
        extractor gives them (float32; on CUDA computed in full float32 unless ``tf32=True``)."""
        import torch

        from .features.engine import ExtractorThreads, forward

        if self._extractor is None:
            raise ParameterError("features(): this Evaluator has no extractor (extractor=None)")
        x = images_to_uint8(images, name, self.value_range, self.device, layout=self.layout)
        net = self._network()
        with ExtractorThreads(self._extractor, self.device), torch.inference_mode():
            return forward(self._extractor, net, self._extractor.prepare(x), self.device, self._tf32)

    def update(self, x: Any, real: bool = False, *, logits: Any = None) -> None:
        """Add a batch: images (through the extractor) or, with ``extractor=None``, feature
        rows (n, d) and optionally their class ``logits`` (for IS). Rows are copied."""
        import torch

        side = "real" if real else "fake"
        if real and self._real_fixed:
            raise ParameterError(
                f"real= was given when the Evaluator was built ({self._real_name}); "
                f"real batches cannot be added (reset(keep_real=False) first)"
            )
        if real and not self.takes_real:
            raise ParameterError(f"update(real=True): none of {', '.join(self.metrics)} compares with a real set")
        if self._extractor is not None:
            if logits is not None:
                raise ParameterError("logits= is for extractor=None; the extractor makes the logits")
            f, lg = self.features(x, f"{side} images")
        else:
            f, lg = x, logits
        rows = as_row_tensor(f, f"{side} batch", self.device, dtype=self._row_dtype())
        targets = [(kind, st) for (kind, s), st in self._states.items() if s == side]
        for (kind, _), st in self._states.items():
            if kind != "logits":
                st.check_width(int(rows.shape[1]), f"{side} batch")
        lg_rows = None
        if any(kind == "logits" for kind, _ in targets):
            if lg is None:
                raise DataError(
                    "the Inception Score needs class logits; with extractor=None pass "
                    "update(rows, logits=...), or leave 'is' out of metrics"
                )
            lg_rows = as_row_tensor(lg, f"{side} logits", self.device, dtype=torch.float64)
            if lg_rows.shape[0] != rows.shape[0]:
                raise DataError(f"{side} logits: {lg_rows.shape[0]} rows for {rows.shape[0]} samples")
            for kind, st in targets:
                if kind == "logits":
                    st.check_width(int(lg_rows.shape[1]), f"{side} logits")
        for kind, st in targets:
            st.add_trusted(lg_rows if kind == "logits" else rows, f"{side} batch")

    def update_from(
        self, generator: Any, num_samples: int, *, seed: int = 0, batch_size: int = 50, real: bool = False
    ) -> None:
        """Add ``num_samples`` samples drawn from ``generator`` batch by batch (a
        ``torch.nn.Module`` with ``latent_dim``, ``fn(batch_size, generator)``,
        ``"pkg.module:factory"`` or a reference checkpoint; see
        :func:`ganeval.sources.generator.open_generator`), on this Evaluator's device,
        ``value_range`` and ``layout``. The samples are never all held.
        """
        from .generators import open_generator

        src = open_generator(
            generator,
            num_samples=num_samples,
            seed=seed,
            batch_size=batch_size,
            value_range=self.value_range,
            device=self.device,
            layout=self.layout,
        )
        if src.kind == "images":  # the kind names the interface
            for batch in cast("ImageSource", src).iter_batches(batch_size):
                self.update(batch, real=real)
        else:
            self.update(cast("ArraySource", src).array, real=real)

    # -- results ---------------------------------------------------------------------------
    @property
    def n_fake(self) -> int:
        """Fake samples added on this rank."""
        return max(st.n for st in self._side_states("fake"))

    def compute(self) -> dict[str, MetricResult]:
        """The metrics over everything added (all ranks' samples under a process group);
        computing again after more updates includes them, nothing is counted twice."""
        if is_distributed():
            barrier("Evaluator.compute()", timeout_s=self.sync_timeout_s)
        if self.n_fake == 0 and not is_distributed():
            raise DataError("compute() needs fake samples; none were added (call update(x) first)")
        # gathered copies (fixed states, e.g. real=, stay as they are): the states keep this
        # rank's samples, so computing twice counts nothing twice
        gathered = {key: st.gathered() for key, st in self._states.items()}
        if max(st.n for (_, side), st in gathered.items() if side == "fake") == 0:
            raise DataError("compute() needs fake samples; none were added (call update(x) first)")
        results: dict[str, MetricResult] = {}
        for m, stream in self.streams.items():
            r = stream.compute_from({side: gathered[(stream.kind, side)] for side in stream.sides})
            settings = dict(r.settings)
            settings.update({k: v for k, v in self._info.items() if v is not None})
            if "real" in stream.sides:
                settings["real"] = self._real_name
            results[m] = MetricResult(r.metric, r.values, settings, n_real=r.n_real, n_fake=r.n_fake)
        return results
