"""The extraction engine: images from a source -> feature rows (and logits) from a network.

File sources (folders, zips) are decoded *and preprocessed* (resized to the network's input)
one image at a time in ``num_workers`` DataLoader worker processes, so mixed image sizes
are fine and decoding overlaps inference; on CUDA, when the resize gives the same floats
there (the Inception's ``tf`` mode), the workers only decode and the uint8 images are
resized on the device. In-memory sources (arrays, generator callables) are preprocessed a
batch at a time in the main process (arrays in a file read ahead in a thread). The routes
are in :mod:`ganeval.features.loading`. Inference runs in batches under
:func:`torch.inference_mode`, with the network and its input in ``channels_last`` memory
format; outputs are returned as float64 numpy arrays in the source's order. On CUDA the
network runs in full float32 (TF32 off for convolutions and matrix products) unless
``tf32=True``; the user's settings are put back after each pass
(:mod:`ganeval.features.precision`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .._validation import check_bool
from ..devices import DEVICE_CHOICES, is_device_name, resolve_device
from ..errors import GanevalError, InputError, ParameterError

__all__ = [
    "resolve_device",
    "is_device_name",
    "DEVICE_CHOICES",
    "default_num_workers",
    "run_extraction",
    "run_extraction_outputs",
    "network",
    "forward",
    "forward_outputs",
    "ExtractorThreads",
]

log = logging.getLogger(__name__)


def default_num_workers(device: Any = None) -> int:
    """The default count of decoding worker processes: ``min(4, CPUs)``, or on a CUDA
    ``device`` ``min(12, CPUs - 2)`` (:func:`ganeval.features.loading.default_workers`).

    Examples
    --------
    >>> 1 <= default_num_workers() <= 4
    True
    """
    from .loading import default_workers

    return default_workers(getattr(device, "type", None) or "cpu")


class _DecodeDataset:
    """Map-style dataset for DataLoader workers: decode image ``i`` and preprocess it.

    Returns ``(i, tensor or None, error message or None)`` so a bad file never raises inside
    a worker (DataLoader would turn that into a multi-line traceback).
    """

    def __init__(self, source: Any, prepare: Any):
        self.source = source
        self.prepare = prepare

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int):
        import torch

        try:
            img = self.source.read(i)
            x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0)
            return i, self.prepare(x)[0], None
        except GanevalError as exc:
            return i, None, str(exc)


def _collate(items):
    import torch

    good = [x for _, x, err in items if err is None]
    errors = [err for _, _, err in items if err is not None]
    return (torch.stack(good) if good else None), errors


def _as_batch(arr: Any):
    import torch

    if isinstance(arr, torch.Tensor):  # generator sources hand over tensors (maybe on the GPU)
        return arr
    return torch.from_numpy(np.ascontiguousarray(arr))


def _batches(
    source: Any,
    extractor: Any,
    batch_size: int,
    num_workers: int,
    pin: bool,
    rank: int = 0,
    world: int = 1,
    dev: Any = None,
    gpu_decode: bool = False,
):
    """Yield ``(batch index, prepared float batch or None, [error messages])`` for the
    batches this rank handles (``index % world == rank``; all of them for one process).
    The routes (decode and resize in workers, resize on the device, read-ahead) are in
    :mod:`ganeval.features.loading`."""
    import torch

    from ..distributed import my_batches
    from .loading import device_file_batches, resizes_on_device

    if getattr(source, "random_access", False):
        n = len(source)
        mine = my_batches(-(-n // batch_size), rank, world)
        if dev is not None and resizes_on_device(extractor, dev, gpu_decode):
            ranges = [list(range(b * batch_size, min(n, (b + 1) * batch_size))) for b in mine]
            for b, (x, errors) in zip(
                mine, device_file_batches(source, extractor, ranges, num_workers, dev, gpu_decode)
            ):
                yield b, x, errors
            return
        loader: torch.utils.data.DataLoader[Any] = torch.utils.data.DataLoader(
            # DataLoader takes any map-style dataset (``__getitem__``/``__len__``); its stub wants a
            # torch Dataset, which would import torch with this module
            _DecodeDataset(source, extractor.prepare),  # type: ignore[arg-type]
            batch_sampler=[list(range(b * batch_size, min(n, (b + 1) * batch_size))) for b in mine],
            num_workers=num_workers,
            collate_fn=_collate,
            pin_memory=pin,
        )
        for b, (x, errors) in zip(mine, loader):
            yield b, x, errors
        return
    for b, x in _memory_batches(source, extractor, batch_size, dev, rank, world):
        yield b, x, []


def _memory_batches(source: Any, extractor: Any, batch_size: int, dev: Any, rank: int, world: int):
    """``(batch index, prepared batch)`` of an in-memory or array-file source: arrays in a
    file are read ahead in a thread; on CUDA with an exact resize the uint8 batch is resized
    on the device."""
    from ..distributed import my_batches
    from .loading import read_ahead, resizes_on_device

    on_device = dev is not None and resizes_on_device(extractor, dev)
    ahead = getattr(source, "read_ahead", False)  # arrays in a file: made ready in a thread

    def ready(arr: Any) -> Any:  # what the read-ahead thread can do: all but device work
        x = _as_batch(arr)
        if not on_device:
            return extractor.prepare(x)
        return x.pin_memory() if ahead and x.device.type == "cpu" and dev.type == "cuda" else x

    if world > 1 and getattr(source, "shardable", False):
        per = getattr(source, "batch_size", batch_size)
        mine = my_batches(-(-len(source) // per), rank, world)
        numbered: Any = zip(mine, source.iter_batches(batch_size, only=set(mine)))
    else:
        numbered = ((b, arr) for b, arr in enumerate(source.iter_batches(batch_size)) if b % world == rank)
    items = ((b, ready(arr)) for b, arr in numbered)
    for b, x in read_ahead(items) if ahead else items:
        if on_device:  # uint8 (n, 3, H, W) resized on the device
            x = extractor.prepare(x.to(dev, non_blocking=True))
        yield b, x


_NETWORKS: dict[tuple, Any] = {}  # the last network built, reused by the next run


def network(extractor: Any, dev: Any) -> Any:
    """``extractor.build(dev)``, reusing the last network when the extractor, its weights
    hash and the device are the same (``ganeval fid real/ fake/`` loads the weights once)."""
    sha = extractor.weights_sha256() if hasattr(extractor, "weights_sha256") else None
    key = (getattr(extractor, "name", None), sha, str(dev))
    if sha is not None and key in _NETWORKS:
        return _NETWORKS[key]
    net = extractor.build(dev)
    _NETWORKS.clear()
    if sha is not None:
        _NETWORKS[key] = net
    return net


def forward(extractor: Any, net: Any, x: Any, dev: Any, tf32: bool = False) -> tuple[Any, Any]:
    """``(features, logits or None)`` of one prepared batch ``x`` (the extractor's
    ``prepare`` output): moved to ``dev`` in ``channels_last`` format, run through ``net``
    in full float32 on CUDA unless ``tf32`` (:mod:`ganeval.features.precision`). The one
    forward pass of :func:`run_extraction` and the :class:`~ganeval.Evaluator`; call it
    under :func:`torch.inference_mode`."""

    f, lg, _ = forward_outputs(extractor, net, x, dev, tf32)
    return f, lg


def forward_outputs(
    extractor: Any, net: Any, x: Any, dev: Any, tf32: bool = False, outputs: Any = ()
) -> tuple[Any, Any, dict[str, Any]]:
    """:func:`forward`, plus the extra outputs named in ``outputs`` of the same pass
    (e.g. ``"spatial"``, the Inception's sFID features) as ``{name: tensor}``."""
    import torch

    from .precision import network_precision

    x = x.to(dev, non_blocking=True).contiguous(memory_format=torch.channels_last)
    with network_precision(dev, tf32):
        out = net(x)
        f, lg = extractor.split_outputs(out)
    return f, lg, {name: out[name] for name in outputs}


class ExtractorThreads:
    """Context manager: on the CPU, the extractor's thread count (``cpu_threads``, 1 for the
    tiny digits CNN) while it runs, the caller's put back after (small products on several
    threads cost more in wake-ups than they save); entered at construction."""

    def __init__(self, extractor: Any, dev: Any) -> None:
        import torch

        self.saved = torch.get_num_threads()
        threads = getattr(extractor, "cpu_threads", None)
        if getattr(dev, "type", None) == "cpu" and threads and threads != self.saved:
            torch.set_num_threads(threads)

    def __enter__(self) -> ExtractorThreads:
        return self

    def __exit__(self, *exc: Any) -> None:
        import torch

        if torch.get_num_threads() != self.saved:
            torch.set_num_threads(self.saved)


def run_extraction(
    source: Any,
    extractor: Any,
    *,
    batch_size: int = 50,
    device: Any = "auto",
    num_workers: int | None = None,
    progress: bool = False,
    shard: bool | None = None,
    tf32: bool = False,
    gpu_decode: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Run ``extractor`` over every image of ``source``: features, logits, skipped count.

    The same pass as :func:`run_extraction_outputs` without extra outputs; see it for the
    parameters.

    Examples
    --------
    >>> import torch
    >>> from ganeval.sources.images import ArrayImageSource
    >>> class Mean:  # a tiny extractor: per-channel means
    ...     def prepare(self, x): return x.float() / 255
    ...     def build(self, device): return lambda x: {"f": x.mean(dim=(2, 3))}
    ...     def split_outputs(self, out): return out["f"], None
    >>> f, logits, skipped = run_extraction(ArrayImageSource("a", np.full((3, 4, 4, 3), 255, np.uint8)), Mean())
    >>> f.shape, float(f.max()), logits, skipped
    ((3, 3), 1.0, None, 0)
    """
    features, logits, _, skipped = run_extraction_outputs(
        source,
        extractor,
        batch_size=batch_size,
        device=device,
        num_workers=num_workers,
        progress=progress,
        shard=shard,
        tf32=tf32,
        gpu_decode=gpu_decode,
    )
    return features, logits, skipped


def run_extraction_outputs(
    source: Any,
    extractor: Any,
    *,
    outputs: tuple[str, ...] = (),
    batch_size: int = 50,
    device: Any = "auto",
    num_workers: int | None = None,
    progress: bool = False,
    shard: bool | None = None,
    tf32: bool = False,
    gpu_decode: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray], int]:
    """Run ``extractor`` over every image of ``source``, keeping extra named outputs too.

    Parameters
    ----------
    source : ImageSource
        A file source (decoded in workers) or an in-memory one.
    extractor : ImageExtractor
        Gives ``prepare`` (uint8 (n, 3, H, W) -> network input), ``build(device)`` (the
        network) and ``split_outputs`` (network output -> features, logits).
    batch_size : int, default=50
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device, default="auto"
        See :func:`resolve_device`.
    num_workers : int, optional
        Decoding worker processes for file sources (default ``min(4, CPUs)`` on the CPU,
        ``min(12, CPUs - 2)`` on CUDA; 0 decodes in the main process).
    progress : bool, default=False
        Show a tqdm progress bar on stderr (rank 0 only under ``torch.distributed``).
    shard : bool, optional
        Under an initialised ``torch.distributed`` process group (the default, None, means
        "when there is one"), each rank extracts only the batches ``b % world == rank`` and
        the features are gathered in batch order: every rank returns exactly what one
        process would (:mod:`ganeval.distributed`).
    tf32 : bool, default=False
        On CUDA, let the network run convolutions and matrix products in TF32 (faster, FID
        off by about 6e-4 relative for the Inception); by default it runs in full float32,
        whatever ``torch.backends`` says (:mod:`ganeval.features.precision`). No effect on CPU.
    outputs : tuple of str, default=()
        Extra outputs of the same forward pass to keep, among ``extractor.extra_outputs``
        (e.g. ``("spatial",)`` for the Inception's sFID features).
    gpu_decode : bool, default=False
        On CUDA, decode the JPEG files of a folder or zip with nvjpeg on the device (faster;
        not PIL's pixels: FID moves slightly, see docs/performance.md). No effect on CPU or
        for other inputs (:mod:`ganeval.features.loading`).

    Returns
    -------
    features : ndarray of shape (n, d), float64
    logits : ndarray of shape (n, classes), float64, or None
    extras : dict of str to ndarray of shape (n, d_name), float64
    skipped : int
        Unreadable images skipped (only when ``source.skip_invalid``).
    """
    import torch

    from ..distributed import is_distributed, rank_and_world

    dev, tf32, workers, outputs = _checked_run_options(extractor, device, tf32, num_workers, batch_size, outputs)
    gpu_decode = check_bool(gpu_decode, "gpu_decode")
    rank, world = rank_and_world() if (shard or shard is None) and is_distributed() else (0, 1)
    net = network(extractor, dev)
    threads = ExtractorThreads(extractor, dev)
    bar = _progress_bar(source, world, show=progress and rank == 0)
    parts: list[tuple[int, np.ndarray, np.ndarray | None, dict[str, np.ndarray]]] = []
    skipped = 0
    failure: str | None = None
    try:
        with torch.inference_mode():
            batches = _batches(source, extractor, batch_size, workers, dev.type == "cuda", rank, world, dev, gpu_decode)
            for b, x, errors in batches:
                skipped += _skip_unreadable(source, errors)
                if x is not None:
                    parts.append((b, *_forward_to_numpy(extractor, net, x, dev, tf32, outputs)))
                if bar is not None:
                    bar.update(len(errors) + (0 if x is None else x.shape[0]))
    except GanevalError as exc:
        if world == 1:
            raise
        failure = str(exc)  # tell the other ranks before raising, so none waits forever
    finally:
        if bar is not None:
            bar.close()
        threads.__exit__(None, None, None)
    if world > 1:
        parts, skipped = _gather_parts(parts, skipped, failure, source.name)
    return _concatenated(parts, skipped, outputs, source.name)


def _checked_run_options(
    extractor: Any, device: Any, tf32: Any, num_workers: int | None, batch_size: int, outputs: tuple[str, ...]
) -> tuple[Any, bool, int, tuple[str, ...]]:
    """The device, TF32 flag, worker count and extra outputs of a run, checked before any
    work (an output the extractor does not offer is refused here)."""
    dev = resolve_device(device)
    tf32 = check_bool(tf32, "tf32")
    workers = default_num_workers(dev) if num_workers is None else int(num_workers)
    if workers < 0:
        raise ParameterError(f"num_workers must be >= 0, got {num_workers}")
    if batch_size < 1:
        raise ParameterError(f"batch_size must be >= 1, got {batch_size}")
    outputs = tuple(outputs)
    offered = tuple(getattr(extractor, "extra_outputs", ()))
    for name in outputs:
        if name not in offered:
            raise ParameterError(
                f"extractor {getattr(extractor, 'name', '?')!r} has no output {name!r}; "
                f"it offers {', '.join(offered) or 'none besides features and logits'}"
            )
    return dev, tf32, workers, outputs


def _progress_bar(source: Any, world: int, *, show: bool) -> Any:
    """A progress bar over this rank's share of the images (None when not ``show``)."""
    total = len(source) if getattr(source, "length_known", True) else None
    if total is not None and world > 1:
        total = -(-total // world)
    if not show:
        return None
    from ..progress import progress_bar

    return progress_bar(total, str(source.name)[-40:], "img")


def _skip_unreadable(source: Any, errors: list[str]) -> int:
    """How many unreadable images a batch skips: each logged when the source skips invalid
    images, else the first one is the error."""
    if errors:
        if not getattr(source, "skip_invalid", False):
            raise InputError(errors[0])
        for msg in errors:
            log.warning("skipped: %s", msg)
    return len(errors)


def _forward_to_numpy(
    extractor: Any, net: Any, x: Any, dev: Any, tf32: bool, outputs: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """One batch's features, logits and extra outputs, as float64 numpy arrays."""
    f, lg, extras = forward_outputs(extractor, net, x, dev, tf32, outputs)
    return (
        f.double().cpu().numpy(),
        None if lg is None else lg.double().cpu().numpy(),
        {name: arr.double().cpu().numpy() for name, arr in extras.items()},
    )


def _gather_parts(parts: list[Any], skipped: int, failure: str | None, name: str) -> tuple[list[Any], int]:
    """Every rank's batches, in batch order, and the total skipped count (the first rank's
    error raised on every rank)."""
    from ..distributed import gather_objects

    gathered = gather_objects((parts, skipped, failure), what=f"extracting {name}")
    errors_seen = [g[2] for g in gathered if g[2] is not None]
    if errors_seen:
        raise InputError(errors_seen[0])
    return sorted((p for g in gathered for p in g[0]), key=lambda p: p[0]), sum(g[1] for g in gathered)


def _concatenated(
    parts: list[Any], skipped: int, outputs: tuple[str, ...], name: str
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray], int]:
    """The batches' features, logits and extra outputs joined in order."""
    feats = [p[1] for p in parts]
    logits = [p[2] for p in parts if p[2] is not None]
    if not feats:
        raise InputError(f"{name}: no readable images ({skipped} skipped as invalid)")
    features = np.concatenate(feats)
    extras = {out: np.concatenate([p[3][out] for p in parts]) for out in outputs}
    return features, (np.concatenate(logits) if logits else None), extras, skipped
