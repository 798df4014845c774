"""torch.distributed helpers: shard assignment, variable-length gathers, a barrier that
times out with a clear error, and process-group setup for ``torchrun``.

Sharding rule (used by the extraction engine and the generator sources): the input is cut
into batches of ``batch_size`` in order, and batch ``b`` goes to rank ``b % world_size``.
No sample is duplicated or dropped (no padding, unlike ``DistributedSampler``), and after
the gather, rows are put back in batch order, so every rank holds exactly the rows, in the
order, that one process would have produced from the same batches.

Examples
--------
>>> my_batches(10, rank=1, world_size=3)
[1, 4, 7]
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from typing import Any

from .errors import DeviceError, GanevalError, ParameterError

__all__ = [
    "DistributedError",
    "is_distributed",
    "rank_and_world",
    "my_batches",
    "barrier",
    "gather_rows",
    "gather_objects",
    "broadcast_object",
    "broadcast_arrays",
    "job_token",
    "collective",
    "init_from_env",
    "local_device",
    "local_rank",
    "local_cuda_index",
    "dist_timeout",
    "DEFAULT_TIMEOUT_S",
]


def _env_timeout() -> float:
    text = os.environ.get("GANEVAL_DIST_TIMEOUT", "300")
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ParameterError(f"GANEVAL_DIST_TIMEOUT must be a positive number of seconds, got {text!r}")
    return value


try:
    #: seconds a rank waits for the others at a collective step before raising (the value
    #: of ``$GANEVAL_DIST_TIMEOUT`` when ganeval was imported; :func:`dist_timeout` reads it now)
    DEFAULT_TIMEOUT_S = _env_timeout()
except ParameterError:  # a bad value is reported where it is used, not at import
    DEFAULT_TIMEOUT_S = 300.0


def dist_timeout() -> float:
    """Seconds a rank waits for the others at a collective step: ``$GANEVAL_DIST_TIMEOUT``
    (default 300); a value that is not a positive number is a :class:`ParameterError`.

    Examples
    --------
    >>> dist_timeout() > 0
    True
    """
    return _env_timeout()


class DistributedError(GanevalError):
    """A collective step across processes failed: a rank did not arrive in time, or died."""


@contextlib.contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn a failed ``torch.distributed`` call (a peer that died: the connection closes; a
    peer that stalled: the group's timeout passes) into one :class:`DistributedError` line
    naming ``what``, so every surviving rank ends with a clear message instead of a
    traceback or a hang."""
    try:
        yield
    except RuntimeError as exc:  # gloo/NCCL errors (DistBackendError, DistNetworkError) derive from it
        first = " ".join(str(exc).split())[:300]
        raise DistributedError(
            f"{what}: lost contact with another rank (it died, or did not arrive within the group's "
            f"timeout, $GANEVAL_DIST_TIMEOUT): {first}"
        ) from None


def is_distributed() -> bool:
    """True when a ``torch.distributed`` process group is initialised with more than one rank."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover
        return False
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world(group: Any = None) -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without a process group."""
    if not is_distributed():
        return 0, 1
    import torch.distributed as dist

    return dist.get_rank(group), dist.get_world_size(group)


def my_batches(n_batches: int, rank: int, world_size: int) -> list[int]:
    """Indices of the batches rank ``rank`` handles: ``b % world_size == rank``."""
    return list(range(rank, n_batches, world_size))


_GLOO_GROUPS: dict[Any, Any] = {}


def _timeout(timeout_s: float | None) -> float:
    return dist_timeout() if timeout_s is None else float(timeout_s)


def _gloo_group(group: Any = None, timeout_s: float | None = None):
    """A gloo group over the same ranks whose operations time out after ``timeout_s``
    (gloo enforces a group's timeout on every rank; the monitored barrier's own timeout
    only binds rank 0)."""
    import torch.distributed as dist

    t = _timeout(timeout_s)
    key = (id(group), t)
    if key not in _GLOO_GROUPS:
        ranks = None if group is None else dist.get_process_group_ranks(group)
        _GLOO_GROUPS[key] = dist.new_group(ranks=ranks, backend="gloo", timeout=datetime.timedelta(seconds=t))
    return _GLOO_GROUPS[key]


def prepare_group(group: Any = None, timeout_s: float | None = None) -> None:
    """Create the helper gloo group now (a collective: every rank calls it, e.g. when an
    :class:`~ganeval.Evaluator` is built), so :func:`barrier` never creates it alone."""
    if is_distributed():
        _gloo_group(group, timeout_s)


def barrier(what: str, *, timeout_s: float | None = None, group: Any = None) -> None:
    """Wait until every rank reaches this point; raise :class:`DistributedError` after
    ``timeout_s`` (default ``$GANEVAL_DIST_TIMEOUT`` or 300 s) naming ``what``, instead of
    hanging (rank 0 also names the ranks that did not arrive)."""
    if not is_distributed():
        return
    import torch.distributed as dist

    t = _timeout(timeout_s)
    try:
        dist.monitored_barrier(group=_gloo_group(group, t), timeout=datetime.timedelta(seconds=t), wait_all_ranks=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:300]
        raise DistributedError(
            f"{what}: not every rank arrived within {t:g} s (every rank must call it; {first})"
        ) from None


def gather_objects(obj: Any, group: Any = None, *, what: str = "gather") -> list[Any]:
    """Every rank's picklable ``obj``, in rank order (a :class:`DistributedError` naming
    ``what`` when a rank died or did not arrive in time)."""
    if not is_distributed():
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size(group)
    with collective(what):
        dist.all_gather_object(out, obj, group=group)
    return out


def broadcast_object(obj: Any, src: int = 0, group: Any = None, *, what: str = "broadcast") -> Any:
    """Rank ``src``'s picklable ``obj`` on every rank (the others pass anything, e.g. None)."""
    if not is_distributed():
        return obj
    import torch.distributed as dist

    box = [obj]
    with collective(what):
        dist.broadcast_object_list(box, src=src, group=group)
    return box[0]


def broadcast_arrays(
    arrays: dict[str, Any] | None, src: int, group: Any = None, *, what: str = "broadcast"
) -> dict[str, Any]:
    """Rank ``src``'s dict of numpy arrays on every rank, sent as tensors (one copy in
    flight, not a pickle per rank; on CUDA for NCCL, on the CPU for gloo)."""
    import numpy as np

    if not is_distributed():
        return dict(arrays or {})
    import torch
    import torch.distributed as dist

    meta = broadcast_object(
        None if arrays is None else {k: (tuple(v.shape), str(v.dtype)) for k, v in arrays.items()},
        src,
        group,
        what=what,
    )
    backend = dist.get_backend(group)
    dev = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    out: dict[str, Any] = {}
    for name, (shape, dtype) in meta.items():
        if arrays is not None:
            t = torch.from_numpy(np.ascontiguousarray(arrays[name])).to(dev)
        else:
            t = torch.empty(shape, dtype=getattr(torch, dtype), device=dev)
        with collective(what):
            dist.broadcast(t, src=src, group=group)
        out[name] = t.cpu().numpy()
    return out


def job_token() -> str:
    """A string every rank of this job shares and no other job has (rank 0 makes it), e.g.
    to name claim files; one process without a group gets a fresh one too."""
    import uuid

    return str(broadcast_object(uuid.uuid4().hex, 0, what="job token"))


def gather_rows(t: Any, group: Any = None) -> list[Any]:
    """Every rank's 2-D tensor (rows may differ in number, ``None`` = no rows), in rank order,
    on ``t``'s device. Uses padded ``all_gather`` (on CUDA for NCCL, on CPU for gloo)."""
    if not is_distributed():
        return [t]
    import torch
    import torch.distributed as dist

    world = dist.get_world_size(group)
    backend = dist.get_backend(group)
    home = t.device if t is not None else None
    if backend == "nccl":
        comm_dev = torch.device("cuda", torch.cuda.current_device())
    else:
        comm_dev = torch.device("cpu")
    meta = gather_objects(
        None if t is None else (int(t.shape[0]), int(t.shape[1]), str(t.dtype)), group, what="gather_rows"
    )
    known = [m for m in meta if m is not None]
    if not known:
        return [None] * world
    widths = {m[1] for m in known}
    if len(widths) > 1:
        raise ParameterError(
            f"ranks hold rows of different widths {sorted(widths)}; every rank must use the same features"
        )
    dtype = getattr(torch, known[0][2].replace("torch.", ""))
    width = known[0][1]
    n_max = max(m[0] for m in known)
    send = torch.zeros(n_max, width, dtype=dtype, device=comm_dev)
    if t is not None and t.shape[0]:
        send[: t.shape[0]] = t.to(device=comm_dev, dtype=dtype)
    recv = [torch.empty_like(send) for _ in range(world)]
    with collective("gather_rows"):
        dist.all_gather(recv, send, group=group)
    out_dev = home if home is not None else comm_dev
    return [None if m is None else r[: m[0]].to(out_dev) for m, r in zip(meta, recv)]


def local_rank() -> int:
    """This process's rank on its own machine: ``$LOCAL_RANK`` as torchrun sets it (0
    without it). Devices are picked by it, never by the global rank, which runs past the
    number of GPUs of one machine on the second node."""
    text = os.environ.get("LOCAL_RANK", "0")
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ParameterError(f"LOCAL_RANK must be a non-negative integer, got {text!r}")
    return value


def local_cuda_index() -> int:
    """The CUDA device of this process: ``LOCAL_RANK``, or 0 when the process sees a single
    device (a launcher such as Slurm's ``--gpus-per-task=1`` gives each process its own
    ``CUDA_VISIBLE_DEVICES``); a :class:`~ganeval.errors.DeviceError` when ``LOCAL_RANK``
    exceeds the devices this process sees."""
    import torch

    lr, n = local_rank(), torch.cuda.device_count()
    if lr < n:
        return lr
    if n == 1:
        return 0
    raise DeviceError(
        f"LOCAL_RANK={lr} but this process sees {n} CUDA device(s); start at most that many "
        f"processes per node (--nproc_per_node)"
    )


def init_from_env(device: str = "auto", *, timeout_s: float | None = None) -> bool:
    """Initialise the default process group from ``torchrun``'s environment (``WORLD_SIZE``
    > 1, ``RANK``, ``MASTER_ADDR``..., on one machine or several). NCCL when the device is
    CUDA, else gloo; each rank uses ``cuda:LOCAL_RANK`` (:func:`local_rank`). Collective
    steps time out after ``timeout_s`` (default ``$GANEVAL_DIST_TIMEOUT`` or 300 s).
    Returns True when it initialised a group (the caller then calls
    ``torch.distributed.destroy_process_group()``)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return False
    t = _timeout(timeout_s)
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_cuda_index())
    with collective("joining the process group"):
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(seconds=t))
    return True


def local_device(device: str = "auto") -> str:
    """Under torchrun with CUDA, ``cuda:LOCAL_RANK`` for ``auto``/``cuda``; else ``device``.

    Examples
    --------
    >>> local_device("cpu")
    'cpu'
    """
    import torch

    if is_distributed() and device in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{local_cuda_index()}"
    return device
