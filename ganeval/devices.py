"""Device names ganeval takes (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``) and their
resolution to a :class:`torch.device`, with one clear error for a device this machine lacks.

The indexed names torch itself prints are taken too: ``cpu:N`` (Hugging Face Accelerate's
``accelerator.device`` on the CPU is ``cpu:0``) is the CPU, ``mps:0`` is MPS.

A core module: sources (generators), features and the Evaluator all resolve devices here.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import DeviceError, ParameterError

__all__ = ["DEVICE_CHOICES", "is_device_name", "resolve_device"]


_DEVICE_RE = re.compile(r"(auto|cpu(?::\d+)?|mps(?::0)?|cuda(?::(\d+))?)")
DEVICE_CHOICES = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def is_device_name(text: Any) -> bool:
    """True when ``text`` is a device name ganeval takes: ``"auto"``, ``"cpu"``, ``"cuda"``,
    ``"cuda:N"`` or ``"mps"`` (any case). Says nothing about whether this machine has it.

    Examples
    --------
    >>> [is_device_name(t) for t in ("cuda:1", "CPU", "cpu:0", "gpu", "cuda:x")]
    [True, True, True, False, False]
    """
    return isinstance(text, str) and _DEVICE_RE.fullmatch(text.strip().lower()) is not None


def resolve_device(device: Any = "auto"):
    """Turn ``"auto"`` / ``"cpu"`` / ``"cuda"`` / ``"cuda:N"`` / ``"mps"`` (or a
    :class:`torch.device`) into a :class:`torch.device` this machine has.

    ``"auto"`` is CUDA (the current CUDA device) when it is available, else CPU; it never
    picks MPS, whose float64 support the metrics' moments need is missing. ``"cuda"`` is
    the current CUDA device, ``"cuda:N"`` the N-th one, ``"mps"`` Apple's Metal device.

    Parameters
    ----------
    device : str or torch.device, default="auto"

    Returns
    -------
    torch.device

    Raises
    ------
    ganeval.errors.ParameterError
        ``device`` is not one of the names above.
    ganeval.errors.DeviceError
        The machine does not have that device: no CUDA, a CUDA index past the last GPU, no MPS.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ganeval.errors.ParameterError: device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got 'tpu'
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ParameterError(f"device must be {DEVICE_CHOICES} (a str) or a torch.device; got {device!r}")
    text = device.strip().lower()
    match = _DEVICE_RE.fullmatch(text)
    if match is None:
        raise ParameterError(f"device must be {DEVICE_CHOICES}; got {device!r}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text.startswith("cpu"):  # "cpu:N" too (torch's name of the CPU device; the index means nothing)
        return torch.device("cpu")
    if text.startswith("mps"):
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(
                f"device={device!r}: MPS (Apple Metal) is not available on this machine "
                f"(torch {torch.__version__}); use device='cpu' or device='auto'"
            )
        return torch.device("mps")
    if not torch.cuda.is_available():
        raise DeviceError(
            f"device={device!r}: CUDA is not available on this machine "
            f"(torch {torch.__version__}); use device='cpu' or device='auto'"
        )
    if match.group(2) is None:
        return torch.device("cuda")
    index, count = int(match.group(2)), torch.cuda.device_count()
    if index >= count:
        have = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        raise DeviceError(f"device={device!r}: no such CUDA device; this machine has {count} ({have})")
    return torch.device("cuda", index)
