"""The float32 precision of ganeval's own forward passes on CUDA: full float32, or TF32 when asked.

PyTorch lets cuDNN run float32 convolutions in TF32 (a 10-bit mantissa) on Ampere and later
GPUs by default (``torch.backends.cudnn.allow_tf32 = True``); float32 matrix products are full
float32 by default (``torch.backends.cuda.matmul.allow_tf32 = False``,
``torch.get_float32_matmul_precision() == "highest"``). A user's training code may set either.
On an H100 TF32 convolutions move the FID of the FID Inception by 6.2e-4 (relative) from a
float64 run of the same network, full float32 by 1.1e-6 (``benchmarks/gpu_precision.py``,
docs/inception.md, section "GPU"). So ganeval runs its extractor networks in full float32 on
CUDA, whatever the process-wide settings, unless ``tf32=True`` is asked for (about 2.7x faster
for the Inception on an H100).

:func:`network_precision` switches the flags for the duration of one forward pass and puts
back exactly what was there, even when the pass raises. It sets both interfaces PyTorch has:

- the legacy one: ``torch.backends.cudnn.allow_tf32`` and the float32 matmul precision
  (``torch.set_float32_matmul_precision``, which ``torch.backends.cuda.matmul.allow_tf32``
  also sets);
- where the installed torch has it (2.9 and later), the per-operation one:
  ``torch.backends.cudnn.conv.fp32_precision``, ``torch.backends.cudnn.rnn.fp32_precision`` and
  ``torch.backends.cuda.matmul.fp32_precision`` (``"ieee"`` for full float32, ``"tf32"``), set
  explicitly so that a process-wide ``torch.backends.fp32_precision = "tf32"`` cannot leak in
  through an inherited ``"none"`` (``torch.backends.mkldnn.matmul.fp32_precision``, which the
  matmul precision setter also changes, is saved and restored with them). A setting stored
  as ``"none"`` (inherited from ``torch.backends.fp32_precision`` or
  ``torch.backends.cudnn.fp32_precision``) is put back as ``"none"``, not as the value it
  inherited.

Both are kept consistent with each other while ganeval's pass runs (torch checks that they
agree when a kernel asks without naming an operation), and the deprecation warnings torch
gives for the legacy interface are not passed on. The flags are process-wide: another Python
thread running CUDA work at the same moment sees them too. On a CPU device nothing is touched.

The block encloses the extractor network's call only: decoding, preprocessing and a generator
source's own network (the user's model, at the user's settings) run outside it.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["network_precision", "uses_tf32", "precision_flags"]


def uses_tf32(device: Any, tf32: bool) -> bool:
    """Whether a forward pass on ``device`` with ``tf32`` really runs in TF32 (CUDA only).

    Examples
    --------
    >>> uses_tf32("cpu", True), uses_tf32("cuda:0", True), uses_tf32("cuda", False)
    (False, True, False)
    """
    kind = device.type if hasattr(device, "type") else str(device).split(":")[0]
    return bool(tf32) and kind == "cuda"


#: the per-operation settings ganeval's passes touch: (backend, operation) as torch names them
_OPS = (("cuda", "conv"), ("cuda", "rnn"), ("cuda", "matmul"), ("mkldnn", "matmul"))


def _per_op_api(torch: Any):
    """``(get, set)`` of torch's per-operation precision tree (torch 2.9 and later), else None.

    These are what ``torch.backends.cudnn.conv.fp32_precision`` and its siblings call; the
    tree also holds the backend-wide (``"all"``) and generic nodes those inherit from.
    """
    get = getattr(torch._C, "_get_fp32_precision_getter", None)
    put = getattr(torch._C, "_set_fp32_precision_setter", None)
    if get is None or put is None:
        return None
    try:
        for backend, op in _OPS:
            get(backend, op)
    except (RuntimeError, TypeError):
        return None
    return get, put


def _raw(get: Any, put: Any, node: tuple[str, str], parent: tuple[str, str], parent_raw: str) -> str:
    """The value stored at ``node``, ``"none"`` included.

    torch's getter answers with the inherited value when a node holds ``"none"``; when that
    equals the parent's, the parent is moved for a moment (and put back) to tell the two apart.
    """
    value = get(*node)
    if value != get(*parent):
        return value
    probe = "tf32" if value == "ieee" else "ieee"
    put(*parent, probe)
    try:
        follows = get(*node) != value
    finally:
        put(*parent, parent_raw)
    return "none" if follows else value


def precision_flags() -> dict[str, Any]:
    """The float32 precision settings as they stand.

    ``cudnn.allow_tf32`` and ``float32_matmul_precision``: the legacy settings (None when
    torch refuses to read one because the user mixed the legacy and per-operation settings);
    ``cuda.conv``, ``cuda.rnn``, ``cuda.matmul``, ``mkldnn.matmul``: the values stored in
    torch's per-operation tree (``"none"``: inherited), where this torch has one.

    Examples
    --------
    >>> flags = precision_flags()
    >>> flags["float32_matmul_precision"] in ("highest", "high", "medium", None)
    True
    """
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cudnn = bool(torch.backends.cudnn.allow_tf32)
        except RuntimeError:  # the legacy and per-operation settings were mixed by the user
            cudnn = None
        try:
            matmul = torch.get_float32_matmul_precision()
        except RuntimeError:
            matmul = None
        flags: dict[str, Any] = {"cudnn.allow_tf32": cudnn, "float32_matmul_precision": matmul}
        api = _per_op_api(torch)
        if api is not None:
            get, put = api
            generic = ("generic", "all")
            tops = {b: _raw(get, put, (b, "all"), generic, get(*generic)) for b in {b for b, _ in _OPS}}
            for backend, op in _OPS:
                flags[f"{backend}.{op}"] = _raw(get, put, (backend, op), (backend, "all"), tops[backend])
    return flags


def _apply(torch: Any, flags: dict[str, Any]) -> None:
    """Set the settings ``flags`` holds (legacy first: their setters overwrite the per-operation ones)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if flags.get("cudnn.allow_tf32") is not None:
            torch.backends.cudnn.allow_tf32 = flags["cudnn.allow_tf32"]
        if flags.get("float32_matmul_precision") is not None:
            torch.set_float32_matmul_precision(flags["float32_matmul_precision"])
        api = _per_op_api(torch)
        if api is not None:
            for backend, op in _OPS:
                value = flags.get(f"{backend}.{op}")
                if value is not None:
                    api[1](backend, op, value)


def _wanted(saved: dict[str, Any], tf32: bool) -> dict[str, Any]:
    """The settings of a pass: TF32 allowed or not for cuDNN and cuBLAS, legacy and per-op
    settings in step (torch checks they agree when a kernel asks without naming an op)."""
    want: dict[str, Any] = {"cudnn.allow_tf32": bool(tf32), "float32_matmul_precision": "high" if tf32 else "highest"}
    for key in ("cudnn.allow_tf32", "float32_matmul_precision"):
        if saved.get(key) is None:  # mixed by the user: unreadable, so not restorable; leave it
            want[key] = None
    for backend, op in _OPS:
        # mkldnn.matmul (the CPU's; no CPU product runs inside the block) is left as the
        # matmul precision setter puts it, in step with it
        if backend == "cuda" and f"{backend}.{op}" in saved:
            want[f"{backend}.{op}"] = "tf32" if tf32 else "ieee"
    return want


@contextlib.contextmanager
def network_precision(device: Any, tf32: bool = False) -> Iterator[None]:
    """Run the enclosed forward pass in full float32 (``tf32=False``) or with TF32 allowed
    for convolutions and matrix products (``tf32=True``) when ``device`` is CUDA; restore the
    previous settings afterwards, also after an exception. On other devices: nothing.

    Parameters
    ----------
    device : torch.device or str
    tf32 : bool, default=False

    Examples
    --------
    >>> import torch
    >>> before = precision_flags()
    >>> with network_precision(torch.device("cpu"), tf32=True):
    ...     precision_flags() == before
    True
    """
    kind = device.type if hasattr(device, "type") else str(device).split(":")[0]
    if kind != "cuda":
        yield
        return
    import torch

    try:
        saved = precision_flags()
    except Exception as exc:
        _cannot_switch(exc)
        yield
        return
    try:
        _apply(torch, _wanted(saved, tf32))
    except Exception as exc:
        _cannot_switch(exc)
    try:
        yield
    finally:
        _apply(torch, saved)


_WARNED: set[str] = set()


def _cannot_switch(exc: BaseException) -> None:
    """Warn once that this torch's float32 precision settings could not be switched (the pass
    then runs at the process's own settings)."""
    import torch

    key = f"{type(exc).__name__}: {exc}"
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(
            f"could not set the float32 precision of ganeval's forward pass on this torch "
            f"({torch.__version__}: {key}); it runs at the process's settings (PyTorch's "
            f"default allows TF32 convolutions)",
            RuntimeWarning,
            stacklevel=3,
        )
