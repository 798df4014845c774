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

import datetime
import os
from typing import Any

from .errors import GanevalError, ParameterError

__all__ = ["DistributedError", "is_distributed", "rank_and_world", "my_batches", "barrier",
           "gather_rows", "gather_objects", "init_from_env", "DEFAULT_TIMEOUT_S"]

#: seconds a rank waits for the others in :func:`barrier` before raising
DEFAULT_TIMEOUT_S = float(os.environ.get("GANEVAL_DIST_TIMEOUT", "300"))


class DistributedError(GanevalError):
    """A collective step across processes failed (a rank did not arrive in time)."""


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
    return DEFAULT_TIMEOUT_S if timeout_s is None else float(timeout_s)


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
        dist.monitored_barrier(group=_gloo_group(group, t), timeout=datetime.timedelta(seconds=t),
                               wait_all_ranks=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:300]
        raise DistributedError(
            f"{what}: not every rank arrived within {t:g} s (every rank must call it; {first})"
        ) from None


def gather_objects(obj: Any, group: Any = None) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order."""
    if not is_distributed():
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(out, obj, group=group)
    return out


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
    meta = gather_objects(None if t is None else (int(t.shape[0]), int(t.shape[1]), str(t.dtype)), group)
    known = [m for m in meta if m is not None]
    if not known:
        return [None] * world
    widths = {m[1] for m in known}
    if len(widths) > 1:
        raise ParameterError(f"ranks hold rows of different widths {sorted(widths)}; every rank must use the same features")
    dtype = getattr(torch, known[0][2].replace("torch.", ""))
    width = known[0][1]
    n_max = max(m[0] for m in known)
    send = torch.zeros(n_max, width, dtype=dtype, device=comm_dev)
    if t is not None and t.shape[0]:
        send[: t.shape[0]] = t.to(device=comm_dev, dtype=dtype)
    recv = [torch.empty_like(send) for _ in range(world)]
    dist.all_gather(recv, send, group=group)
    out_dev = home if home is not None else comm_dev
    return [None if m is None else r[: m[0]].to(out_dev) for m, r in zip(meta, recv)]


def init_from_env(device: str = "auto", *, timeout_s: float | None = None) -> bool:
    """Initialise the default process group from ``torchrun``'s environment (``WORLD_SIZE``
    > 1, ``RANK``, ``MASTER_ADDR``...). NCCL when the device is CUDA, else gloo; each rank
    uses ``cuda:LOCAL_RANK``. Returns True when it initialised a group (the caller then
    calls ``torch.distributed.destroy_process_group()``)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return False
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    t = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
    dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(seconds=t))
    return True


def local_device(device: str = "auto") -> str:
    """Under torchrun with CUDA, ``cuda:LOCAL_RANK`` for ``auto``/``cuda``; else ``device``."""
    import torch

    if is_distributed() and device in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{torch.cuda.current_device()}"
    return device
