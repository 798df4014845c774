"""One extractor, many metrics, state on the extractor's device: FID, KID, IS and PRDC for
training loops.

::

    ev = ganeval.Evaluator(("fid", "kid", "is", "prdc"), extractor="inception", device="cuda",
                           real="ref:NAME" | "real_stats.npz" | "real/" | None, value_range=(-1, 1))
    ev.update(fake_images)               # a generator's output, on the GPU
    ev.update(real_images, real=True)    # when real= was not given
    results = ev.compute()               # {"fid": MetricResult, ...}, as ganeval.evaluate returns

Each batch goes through the network once for all metrics. FID keeps float64 moments on the
device (constant memory, :class:`~ganeval.streaming.StreamingFID`); KID and PRDC share one
copy of the feature rows on the device (:class:`~ganeval.streaming.StreamingKID`,
:class:`~ganeval.streaming.StreamingPRDC`); IS keeps the fake logits
(:class:`~ganeval.streaming.StreamingIS`). ``compute()`` runs the same torch cores as the
functional metrics on the device, so it equals :func:`ganeval.evaluate` on the same images
(same extractor, batch size, seed).

Images: uint8 (0..255) or float in ``value_range``; NCHW, NHWC or NHW (gray); tensor or
array; 1 channel is copied to 3, a 4th (alpha) dropped. Floats become uint8 as
``round((x - lo) / (hi - lo) * 255)`` (float64, half to even): what saving the images as
PNG and reading them back gives, and what :func:`ganeval.evaluate` does to float images in
[0, 1]. Image sizes may change between updates (the extractor resizes each batch to its
input size); feature widths may not.

Under an initialised ``torch.distributed`` process group, ``compute()`` gathers every
rank's rows and moments (rows: the ranks' batches interleaved round-robin, so rank ``r``
feeding batches ``r, r + W, ...`` of a stream gives that stream's order) and every rank gets
the global result. Every rank
must call ``compute()``; one that calls it alone gets a
:class:`~ganeval.distributed.DistributedError` after ``sync_timeout_s`` instead of hanging.

Memory of the kept rows (KID, PRDC), per 10,000 samples and side: ``10,000 x d x 8`` bytes
(float64, the default; 164 MB at d = 2048) or ``x 4`` with ``feature_dtype="float32"``
(82 MB; KID products then run in float32). IS keeps 10,000 x 1008 x 8 bytes (81 MB) of
logits. FID keeps ``8 d^2`` bytes per side whatever the count (34 MB at d = 2048).

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

import contextlib
from typing import Any, Iterable, Mapping

import numpy as np

from ._validation import check_bool, check_choice
from .distributed import barrier, is_distributed, prepare_group
from .errors import DataError, InputError, ParameterError
from .results import MetricResult
from .statistics import FeatureStats
from .streaming import StreamingFID, StreamingIS, StreamingKID, StreamingPRDC, as_row_tensor

__all__ = ["Evaluator", "EVALUATOR_METRICS", "images_to_uint8"]

#: metrics the Evaluator computes
EVALUATOR_METRICS = ("fid", "kid", "is", "prdc")


def _check_value_range(value_range: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ParameterError(f"value_range must be a pair (low, high), got {value_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"value_range must be finite with low < high, got {value_range!r}")
    return lo, hi


def images_to_uint8(images: Any, name: str, value_range: tuple[float, float], device: Any):
    """Images (tensor or array; NCHW, NHWC or NHW; uint8 or float in ``value_range``) as a
    uint8 tensor of shape (N, 3, H, W) on ``device``.

    Examples
    --------
    >>> import torch
    >>> x = images_to_uint8(torch.tensor([[[[-1.0, 0.0], [0.5, 1.0]]]]), "img", (-1.0, 1.0), "cpu")
    >>> x.shape, x[0, 0].tolist()
    (torch.Size([1, 3, 2, 2]), [[0, 128], [191, 255]])
    """
    import torch

    if isinstance(images, torch.Tensor):
        t = images.detach()
    else:
        try:
            arr = np.asarray(images)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: cannot be read as an image array ({exc})") from None
        if arr.dtype == object:
            raise InputError(f"{name}: cannot be read as an image array (dtype object)")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4:
        raise InputError(f"{name}: expected images of shape (N, C, H, W), (N, H, W, C) or (N, H, W), "
                         f"got {tuple(t.shape)}")
    if t.shape[-1] in (1, 3, 4) and t.shape[1] not in (1, 3, 4):
        t = t.permute(0, 3, 1, 2)
    elif t.shape[1] not in (1, 3, 4):
        raise InputError(f"{name}: images of shape {tuple(t.shape)} have {t.shape[1]} channels (NCHW) or "
                         f"{t.shape[-1]} (NHWC); expected 1, 3 or 4")
    if t.shape[0] == 0 or t.shape[2] == 0 or t.shape[3] == 0:
        raise InputError(f"{name}: images of shape {tuple(t.shape)} hold no pixels")
    t = t.to(device)
    if t.dtype == torch.uint8:
        out = t
    elif t.is_floating_point():
        lo, hi = value_range
        t64 = t.to(torch.float64)
        mn, mx = torch.aminmax(t64)
        mn, mx = float(mn), float(mx)
        if not (np.isfinite(mn) and np.isfinite(mx)) or mn < lo or mx > hi:
            raise InputError(f"{name}: float images must lie in value_range [{lo:g}, {hi:g}], got values in "
                             f"[{mn:.4g}, {mx:.4g}]; pass value_range= (or uint8 images 0..255)")
        out = torch.round((t64 - lo) / (hi - lo) * 255.0).to(torch.uint8)
    else:
        raise InputError(f"{name}: images must be uint8 (0..255) or float in value_range, got dtype {t.dtype}")
    c = out.shape[1]
    if c == 1:
        out = out.expand(-1, 3, -1, -1)
    elif c == 4:
        out = out[:, :3]
    return out.contiguous()


def _resolve_extractor(extractor: Any, weights: Any, preprocessing: str):
    if extractor is None:
        return None
    if isinstance(extractor, str):
        from .features import get_extractor

        name = "inception" if extractor == "auto" else extractor
        return get_extractor(name, weights=weights, preprocessing=preprocessing)
    for attr in ("prepare", "build", "split_outputs"):
        if not callable(getattr(extractor, attr, None)):
            raise ParameterError(f"extractor must be a name, None or an ImageExtractor; "
                                 f"{type(extractor).__name__} has no {attr}()")
    return extractor


class Evaluator:
    """FID, KID, IS and PRDC from one pass of one extractor, with state on ``device``.

    Parameters
    ----------
    metrics : str or iterable of {"fid", "kid", "is", "prdc"}, default=all four
        One metric name (``"fid"``) or several.
    extractor : str, ImageExtractor or None, default="inception"
        ``"inception"``, ``"digits"`` (registered names), an extractor object, or None to
        feed feature rows (tensors or arrays, shape (n, d)) directly.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Where the network, the moments and the kept rows live (``auto``: CUDA when present;
        see :func:`ganeval.features.engine.resolve_device`). Not ``"mps"``: the moments are
        float64, which MPS does not have.
    real : optional
        The real side, fixed for the Evaluator's life: a statistics ``.npz``, ``ref:NAME``
        or :class:`~ganeval.FeatureStats` (FID only), or any input of
        :func:`ganeval.load_features` (folder, zip, ``builtin:...``, array), extracted once.
        None: feed real batches with ``update(x, real=True)``.
    value_range : (low, high), default=(-1, 1)
        The range of float images.
    weights, preprocessing :
        As for :func:`ganeval.features.extract_features`.
    options : mapping of metric name to keyword options
        ``{"kid": {"subsets": 50, "seed": 1}, "prdc": {"k": 3}, "is": {"splits": 10},
        "fid": {"eps": 0}}``.
    feature_dtype : {"float64", "float32"}, default="float64"
        How KID/PRDC rows are kept (float64: identical to :func:`ganeval.evaluate`; float32:
        half the memory, KID products in float32).
    sync_timeout_s : float, optional
        How long ``compute()`` waits for the other ranks (default ``$GANEVAL_DIST_TIMEOUT``
        or 300 s).
    tf32 : bool, default=False
        On CUDA, let the extractor network use TF32 for convolutions and matrix products
        (about 2.7x faster Inception on an H100, FID off by about 6e-4 relative). By default
        ganeval's forward passes run in full float32 whatever ``torch.backends`` says, and
        the training loop's own settings are put back after each pass
        (:mod:`ganeval.features.precision`). When TF32 was used, every result's settings
        hold ``"tf32": True``. No effect on CPU or with ``extractor=None``.

    Notes
    -----
    Under a process group, constructing an Evaluator is itself collective on every rank
    (it prepares a gloo side group for the timed barrier).
    """

    def __init__(self, metrics: Iterable[str] = EVALUATOR_METRICS, *, extractor: Any = "inception",
                 device: Any = "auto", real: Any = None, value_range: Any = (-1, 1), weights: Any = None,
                 preprocessing: str = "tf", options: Mapping[str, Mapping[str, Any]] | None = None,
                 feature_dtype: str = "float64", sync_timeout_s: float | None = None,
                 tf32: bool = False):
        import torch

        from .features.engine import resolve_device
        from .features.precision import uses_tf32

        self.metrics = tuple(dict.fromkeys((metrics,) if isinstance(metrics, str) else metrics))
        if not self.metrics:
            raise ParameterError("metrics: give at least one metric")
        for m in self.metrics:
            check_choice(m, "metric", EVALUATOR_METRICS)
        opts = {k: dict(v) for k, v in (options or {}).items()}
        unknown = set(opts) - set(self.metrics)
        if unknown:
            raise ParameterError(f"options given for metrics not asked for: {sorted(unknown)}")
        self.device = resolve_device(device)
        if self.device.type == "mps":
            raise ParameterError(f"device={device!r}: the Evaluator keeps float64 moments on its device, which "
                                 "MPS does not support; use device='cpu' (or ganeval.features.extract_features, "
                                 "which runs the network on MPS and keeps the rows on the CPU)")
        self.value_range = _check_value_range(value_range)
        check_choice(feature_dtype, "feature_dtype", ("float64", "float32"))
        self._row_dtype = torch.float64 if feature_dtype == "float64" else torch.float32
        self.sync_timeout_s = sync_timeout_s
        self._tf32 = check_bool(tf32, "tf32")
        self._extractor = _resolve_extractor(extractor, weights, preprocessing)
        self._extractor_name = ("inception" if extractor == "auto" else extractor) if isinstance(extractor, str) else None
        self._net = None
        dev = self.device
        self._fid = StreamingFID(device=dev, **opts.get("fid", {})) if "fid" in self.metrics else None
        self._kid = StreamingKID(device=dev, **opts.get("kid", {})) if "kid" in self.metrics else None
        self._prdc = StreamingPRDC(device=dev, **opts.get("prdc", {})) if "prdc" in self.metrics else None
        self._is = StreamingIS(device=dev, **opts.get("is", {})) if "is" in self.metrics else None
        self._share_rows()
        self._real_fixed = False
        self._real_name = "real batches"
        self._info: dict[str, Any] = {}
        if self._extractor is not None:
            sha = self._extractor.weights_sha256() if hasattr(self._extractor, "weights_sha256") else None
            self._info = {"extractor": getattr(self._extractor, "name", type(self._extractor).__name__),
                          "preprocessing": getattr(self._extractor, "preprocessing", None), "weights_sha256": sha}
            if uses_tf32(self.device, self._tf32):
                self._info["tf32"] = True
        if real is not None:
            self._set_real(real, weights=weights, preprocessing=preprocessing)
        prepare_group(timeout_s=sync_timeout_s)

    # -- state -----------------------------------------------------------------------------
    def _row_streams(self) -> list:
        return [s for s in (self._kid, self._prdc) if s is not None]

    def _share_rows(self) -> None:
        """KID and PRDC read the same rows: keep one copy."""
        if self._kid is not None and self._prdc is not None:
            self._prdc._real, self._prdc._fake = self._kid._real, self._kid._fake

    def _set_real(self, real: Any, *, weights: Any, preprocessing: str) -> None:
        from .api import Features, features_of
        from .sources import open_source

        if isinstance(real, FeatureStats):
            feats = Features("real statistics", stats=real)
        else:
            src = open_source(real, name="real")
            if src.kind == "images" and self._extractor is None:
                raise ParameterError(f"real={src.name!r} holds images; extractor=None takes feature rows only")
            if src.kind == "images" and self._extractor_name is None:  # an extractor object: no cache
                from .features.engine import run_extraction

                rows, logits, _ = run_extraction(src, self._extractor, device=self.device, tf32=self._tf32)
                feats = Features(src.name, rows=rows, logits=logits)
            else:
                kw = {} if self._extractor is None else {"weights": weights, "preprocessing": preprocessing,
                                                         "device": self.device, "progress": False,
                                                         "tf32": self._tf32}
                feats = features_of(src, extractor=(self._extractor_name or "auto") if src.kind == "images" else "auto",
                                    **(kw if src.kind == "images" else {}))
        self._real_name = feats.name
        if feats.rows is None:
            needs_rows = [m for m in ("kid", "prdc") if m in self.metrics]
            if needs_rows:
                raise ParameterError(f"real={feats.name!r} holds statistics (mu/sigma) only; {', '.join(needs_rows)} "
                                     f"need real feature rows: give real images or features, or feed them with "
                                     f"update(x, real=True)")
            if self._fid is not None:
                self._fid.set_real_stats(feats.stats)
        else:
            rows = as_row_tensor(feats.rows, f"real={feats.name}", self.device, dtype=self._row_dtype)
            if self._fid is not None:
                self._fid.update_trusted(real=rows.to(self.device))
            if self._kid is not None or self._prdc is not None:
                (self._kid or self._prdc)._real.add_trusted(rows, "real rows")
        self._real_fixed = True

    def reset(self, keep_real: bool = True) -> None:
        """Forget the fake samples (and the real ones too with ``keep_real=False``)."""
        for s in (self._fid, self._kid, self._prdc, self._is):
            if s is not None:
                s.reset(keep_real=keep_real)
        self._share_rows()
        if not keep_real:
            self._real_fixed = False

    def state_dict(self) -> dict[str, Any]:
        """Everything accumulated, on the CPU (``torch.save``-able)."""
        out: dict[str, Any] = {"metrics": self.metrics, "real_fixed": self._real_fixed}
        for name, s in (("fid", self._fid), ("kid", self._kid), ("prdc", self._prdc), ("is", self._is)):
            if s is not None and not (name == "prdc" and self._kid is not None):
                out[name] = s.state_dict()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (moved to this Evaluator's device)."""
        if tuple(state.get("metrics", ())) != self.metrics:
            raise ParameterError(f"state_dict holds metrics {tuple(state.get('metrics', ()))}, "
                                 f"this Evaluator computes {self.metrics}")
        for name, s in (("fid", self._fid), ("kid", self._kid), ("prdc", self._prdc), ("is", self._is)):
            if s is not None and name in state:
                s.load_state_dict(state[name])
        self._share_rows()
        self._real_fixed = bool(state.get("real_fixed", False))

    # -- feeding ---------------------------------------------------------------------------
    def _network(self):
        if self._net is None:
            from .features.engine import _network

            self._net = _network(self._extractor, self.device)
        return self._net

    @contextlib.contextmanager
    def _threads(self):
        """On the CPU, the extractor's thread count (1 for the tiny digits CNN) for the whole
        update: small products on several threads cost more in wake-ups than they save."""
        import torch

        threads = getattr(self._extractor, "cpu_threads", None)
        saved = torch.get_num_threads()
        if self.device.type == "cpu" and threads and saved != threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch.get_num_threads() != saved:
                torch.set_num_threads(saved)

    def features(self, images: Any, name: str = "images"):
        """``(features, logits or None)`` of a batch of images on the device, as the
        extractor gives them (float32; on CUDA computed in full float32 unless ``tf32=True``)."""
        import torch

        from .features.precision import network_precision

        x = images_to_uint8(images, name, self.value_range, self.device)
        net = self._network()
        with self._threads(), torch.inference_mode():
            prepared = self._extractor.prepare(x).to(self.device)
            with network_precision(self.device, self._tf32):
                out = net(prepared.contiguous(memory_format=torch.channels_last))
                return self._extractor.split_outputs(out)

    def update(self, x: Any, real: bool = False, *, logits: Any = None) -> None:
        """Add a batch: images (through the extractor) or, with ``extractor=None``, feature
        rows (n, d) and optionally their class ``logits`` (for IS)."""
        with self._threads():
            self._update(x, real, logits)

    def _update(self, x: Any, real: bool, logits: Any) -> None:
        import torch

        side = "real" if real else "fake"
        if real and self._real_fixed:
            raise ParameterError(f"real= was given when the Evaluator was built ({self._real_name}); "
                                 f"real batches cannot be added (reset(keep_real=False) first)")
        if self._extractor is not None:
            if logits is not None:
                raise ParameterError("logits= is for extractor=None; the extractor makes the logits")
            f, lg = self.features(x, f"{side} images")
        else:
            f = x
            lg = logits
        rows = as_row_tensor(f, f"{side} batch", self.device, dtype=self._row_dtype)
        lg_rows = None
        if lg is not None and self._is is not None and not real:
            lg_rows = as_row_tensor(lg, f"{side} logits", self.device, dtype=torch.float64)
            if lg_rows.shape[0] != rows.shape[0]:
                raise DataError(f"{side} logits: {lg_rows.shape[0]} rows for {rows.shape[0]} samples")
        self._check_width(rows, side)
        if self._fid is not None:
            self._fid.update_trusted(**{side: rows})
        owner = self._kid or self._prdc
        if owner is not None:
            getattr(owner, f"_{side}").add_trusted(rows, f"{side} batch")
        if self._is is not None and not real:
            if lg_rows is None:
                raise DataError("is: the Inception Score needs class logits; with extractor=None pass "
                                "update(rows, logits=...), or leave 'is' out of metrics")
            self._is._rows.add_trusted(lg_rows, "logits batch")

    def update_from(self, generator: Any, num_samples: int, *, seed: int = 0, batch_size: int = 50,
                    real: bool = False) -> None:
        """Add ``num_samples`` samples drawn from ``generator`` batch by batch (a
        ``torch.nn.Module`` with ``latent_dim``, ``fn(batch_size, generator)``,
        ``"pkg.module:factory"`` or a reference checkpoint; see
        :func:`ganeval.sources.generator.open_generator`), on this Evaluator's device and
        ``value_range``. The samples are never all held.
        """
        from .sources.generator import open_generator

        src = open_generator(generator, num_samples=num_samples, seed=seed, batch_size=batch_size,
                             value_range=self.value_range, device=self.device)
        if src.kind == "images":
            for batch in src.iter_batches(batch_size):
                self.update(batch, real=real)
        else:
            self.update(src.array, real=real)

    def _check_width(self, rows: Any, side: str) -> None:
        widths = []
        if self._fid is not None:
            for m in (self._fid._real, self._fid._fake):
                if m.mean is not None:
                    widths.append(int(m.mean.shape[0]))
            if self._fid._fixed_real is not None:
                widths.append(int(self._fid._fixed_real.dim))
        owner = self._kid or self._prdc
        if owner is not None:
            widths += [w for w in (owner._real.width, owner._fake.width) if w is not None]
        if widths and rows.shape[1] != widths[0]:
            raise DataError(f"{side} batch: has {rows.shape[1]} features, earlier inputs had {widths[0]} "
                            f"(feature widths cannot change between updates)")

    # -- results ---------------------------------------------------------------------------
    @property
    def n_fake(self) -> int:
        """Fake samples added on this rank."""
        if self._fid is not None:
            return self._fid._fake.n
        owner = self._kid or self._prdc
        if owner is not None:
            return owner._fake.n
        return self._is._rows.n

    def compute(self) -> dict[str, MetricResult]:
        """The metrics over everything added (all ranks' samples under a process group)."""
        import copy

        if is_distributed():
            barrier("Evaluator.compute()", timeout_s=self.sync_timeout_s)
        fid, kid, pr, is_ = self._fid, self._kid, self._prdc, self._is
        if is_distributed():
            sync_real = not self._real_fixed
            fid = copy.copy(fid) if fid is not None else None
            if fid is not None:
                fid._real, fid._fake = copy.copy(fid._real), copy.copy(fid._fake)
                fid.sync(real=sync_real)
            owner = kid or pr
            if owner is not None:
                real_rows = owner._real.gathered() if sync_real else owner._real
                fake_rows = owner._fake.gathered()
                if kid is not None:
                    kid = copy.copy(kid)
                    kid._real, kid._fake = real_rows, fake_rows
                if pr is not None:
                    pr = copy.copy(pr)
                    pr._real, pr._fake = real_rows, fake_rows
            if is_ is not None:
                is_ = copy.copy(is_)
                is_._rows = is_._rows.gathered()
        n_fake = (fid._fake.n if fid is not None else
                  (kid or pr)._fake.n if (kid or pr) is not None else is_._rows.n)
        if n_fake == 0:
            raise DataError("compute() needs fake samples; none were added (call update(x) first)")
        results: dict[str, MetricResult] = {}
        for m in self.metrics:
            r = {"fid": fid, "kid": kid, "prdc": pr, "is": is_}[m].compute()
            settings = dict(r.settings)
            settings.update({k: v for k, v in self._info.items() if v is not None})
            settings["real"] = self._real_name if m != "is" else None
            if settings["real"] is None:
                del settings["real"]
            results[m] = MetricResult(r.metric, r.values, settings, n_real=r.n_real, n_fake=r.n_fake)
        return results
