"""Getting images to the network: decoding in workers, resizing on the device, reading ahead.

The engine (:mod:`ganeval.features.engine`) reads a source through one of three routes:

==========================  ===============================================================
route                       when, and what runs where
==========================  ===============================================================
decode + resize in workers  file sources (folders, zips) on the CPU, or on CUDA when the
                            extractor's resize is not bit-exact on the device: each worker
                            decodes one file and resizes it to the network's input (as
                            before this module)
decode in workers, resize   file sources on CUDA when the extractor's resize gives the same
on the device               floats on the device as on the CPU (``device_prepare_exact``:
(:func:`device_file_batches`) the Inception's default ``tf`` mode): workers only decode; the
                            uint8 images go to the device (pinned, 1/5 of the bytes of a
                            resized float image) and are resized there in batches, grouped by
                            size. With ``gpu_decode=True`` the workers only read JPEG files
                            and nvjpeg decodes them on the device (opt-in: not PIL's pixels)
batches read ahead          ``.npy`` / ``.npz`` image arrays (:func:`read_ahead`): a thread
                            reads and converts the next batches from the memory-mapped file
                            while the network runs; on CUDA with an exact resize the uint8
                            batch is resized on the device
==========================  ===============================================================

Every route gives the same images in the same order, and for the exact routes the same
network input bit for bit (tests/features/test_loading.py on the CPU; the ``gpu``-marked
tests on a CUDA device).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import GanevalError

__all__ = [
    "default_workers",
    "resizes_on_device",
    "device_file_batches",
    "read_ahead",
    "to_device_uint8",
]


def default_workers(device_type: str = "cpu") -> int:
    """Decoding worker processes when none are asked for: ``min(4, CPUs)`` on the CPU (the
    network needs the cores), ``min(12, CPUs - 2)`` (at least 1) on CUDA, where decoding is
    what limits the pace.

    Examples
    --------
    >>> 1 <= default_workers("cpu") <= 4 and 1 <= default_workers("cuda") <= 12
    True
    """
    cpus = os.cpu_count() or 1
    if device_type == "cuda":
        return max(1, min(12, cpus - 2))
    return max(1, min(4, cpus))


def resizes_on_device(extractor: Any, dev: Any, gpu_decode: bool = False) -> bool:
    """Whether file sources take the decode-in-workers, resize-on-device route: on CUDA,
    when the extractor's ``prepare`` gives the same floats there (``device_prepare_exact``)
    or when ``gpu_decode`` is asked for."""
    return getattr(dev, "type", None) == "cuda" and (
        bool(getattr(extractor, "device_prepare_exact", False)) or gpu_decode
    )


class _DecodeOnly:
    """Map-style dataset for DataLoader workers: image ``i`` as uint8 (H, W, 3), or, with
    ``jpeg_bytes``, a JPEG file's bytes for nvjpeg. Returns ``(i, tensor or None,
    is_jpeg_bytes, error or None)``: a bad file never raises inside a worker."""

    def __init__(self, source: Any, jpeg_bytes: bool):
        self.source = source
        self.jpeg_bytes = jpeg_bytes and hasattr(source, "read_encoded")

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> tuple[int, Any, bool, str | None]:
        import torch

        try:
            if self.jpeg_bytes:
                data = self.source.read_encoded(i)
                if data is not None:
                    return i, torch.frombuffer(bytearray(data), dtype=torch.uint8), True, None
            return i, torch.from_numpy(np.ascontiguousarray(self.source.read(i))), False, None
        except GanevalError as exc:
            return i, None, False, str(exc)


def _collate_uint8(items: list) -> tuple[list, list, list[str], int]:
    """Group a batch by image size: ``(groups, jpegs, errors, count)`` where ``groups`` is a
    list of ``(positions, uint8 (n, H, W, 3))``, ``jpegs`` a list of ``(position, index,
    bytes)`` and ``count`` the number of readable images (positions run over them)."""
    import torch

    by_shape: dict[tuple[int, ...], list[tuple[int, Any]]] = {}
    jpegs: list[tuple[int, int, Any]] = []
    errors: list[str] = []
    pos = 0
    for i, x, is_jpeg, err in items:
        if err is not None:
            errors.append(err)
            continue
        if is_jpeg:
            jpegs.append((pos, i, x))
        else:
            by_shape.setdefault(tuple(x.shape), []).append((pos, x))
        pos += 1
    groups = [
        (torch.tensor([p for p, _ in members], dtype=torch.long), torch.stack([x for _, x in members]))
        for members in by_shape.values()
    ]
    return groups, jpegs, errors, pos


def to_device_uint8(x: Any, dev: Any) -> Any:
    """uint8 images (n, H, W, 3) on the host -> (n, 3, H, W) on ``dev`` (a view in
    channels-last order: the resize reads it as it is)."""
    return x.to(dev, non_blocking=True).permute(0, 3, 1, 2)


class _Placer:
    """Puts prepared groups of a batch back in source order."""

    def __init__(self, count: int):
        self.count = count
        self.out: Any = None

    def put(self, positions: Any, y: Any) -> None:
        import torch

        if self.out is None and y.shape[0] == self.count:
            self.out = y  # one group holding the whole batch, already in order
            return
        if self.out is None:
            self.out = torch.empty((self.count, *y.shape[1:]), dtype=y.dtype, device=y.device)
        self.out[positions.to(y.device)] = y


def _decode_jpegs(source: Any, jpegs: list, dev: Any) -> list[tuple[int, Any]]:
    """``(position, uint8 (3, H, W) on dev)`` for the JPEG bytes of a batch: nvjpeg in one
    call, or on the CPU (PIL's pixels) when nvjpeg refuses the batch."""
    import torch

    from ..sources.decoding import decode_jpegs_on_device
    from ..sources.images import decode_image

    try:
        imgs = decode_jpegs_on_device([blob for _, _, blob in jpegs], dev)
        return [(pos, img) for (pos, _, _), img in zip(jpegs, imgs)]
    except (RuntimeError, ValueError) as exc:
        import logging

        logging.getLogger(__name__).info("nvjpeg refused a batch (%s); decoding it on the CPU", exc)
    out = []
    for pos, i, blob in jpegs:
        arr = decode_image(blob.numpy().tobytes(), source.item_name(i))
        out.append((pos, torch.from_numpy(arr).to(dev).permute(2, 0, 1)))
    return out


def device_file_batches(
    source: Any,
    extractor: Any,
    batches: list[list[int]],
    num_workers: int,
    dev: Any,
    gpu_decode: bool = False,
) -> Iterator[tuple[Any, list[str]]]:
    """``(prepared batch on dev or None, [error messages])`` for each list of indices in
    ``batches``: decoded (or, with ``gpu_decode``, JPEG bytes read) in ``num_workers``
    DataLoader workers, resized by ``extractor.prepare`` on ``dev``, one call per image
    size in the batch."""
    import torch

    loader: torch.utils.data.DataLoader[Any] = torch.utils.data.DataLoader(
        _DecodeOnly(source, gpu_decode),  # type: ignore[arg-type]  # any map-style dataset
        batch_sampler=batches,
        num_workers=num_workers,
        collate_fn=_collate_uint8,
        pin_memory=getattr(dev, "type", None) == "cuda",
    )
    for groups, jpegs, errors, count in loader:
        if count == 0:
            yield None, errors
            continue
        placer = _Placer(count)
        for positions, x in groups:
            placer.put(positions, extractor.prepare(to_device_uint8(x, dev)))
        if jpegs:
            by_shape: dict[tuple[int, ...], list[tuple[int, Any]]] = {}
            for pos, img in _decode_jpegs(source, jpegs, dev):
                by_shape.setdefault(tuple(img.shape), []).append((pos, img))
            for members in by_shape.values():
                positions = torch.tensor([p for p, _ in members], dtype=torch.long)
                placer.put(positions, extractor.prepare(torch.stack([img for _, img in members])))
        yield placer.out, errors


_DONE = object()


def read_ahead(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate over ``batches`` with the next ``depth`` items made in a background thread
    (reading a memory-mapped file and converting overlap the network; numpy and torch
    release the GIL while they copy). Items come in order; an exception raised while
    making one is raised here, in order; closing the iterator stops the thread.

    Examples
    --------
    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in batches:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((None, exc))
            return
        put((_DONE, None))

    thread = threading.Thread(target=work, name="ganeval-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
