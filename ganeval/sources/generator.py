"""Generators as inputs: samples drawn batch by batch from a model, never all held at once.

:func:`open_generator` turns what the user names into a source:

==============================  ==============================================================
spec                            what is called
==============================  ==============================================================
``"pkg.module:factory"``        ``factory()`` is imported and called; it returns one of the two
                                below
``torch.nn.Module``             with an int ``latent_dim``: ``module(z)``, ``z ~ N(0, I)`` of
                                shape (batch, latent_dim), in eval mode under
                                ``torch.inference_mode``
callable                        ``fn(batch_size, generator)`` -> a batch; ``generator`` is the
                                seeded :class:`torch.Generator` to draw from
path to a ``.pt`` checkpoint    a reference trainer checkpoint (``ganeval train``):
                                :func:`ganeval.reference.generate` in chunks of 10,000
==============================  ==============================================================

A batch is images (uint8 0..255 or float in ``value_range``, default (-1, 1); NCHW, NHWC or
NHW, read by the one rule of :mod:`ganeval.images`, an ambiguous shape settled by
``layout=``) or, when it is 2-D, feature rows (e.g. a tabular generator): the source is then
a feature-row source. Every batch is copied as it is read, so a generator that returns one
buffer it refills gives the right samples; NaN or Inf in a batch is an error, and so are
non-finite weights in a checkpoint (named by its path).

Seeds: batch ``b`` (of ``batch_size`` samples; the last one shorter) draws from a fresh
``torch.Generator`` on ``device`` seeded with ``SeedSequence([seed, b])``, so a batch does not
depend on which process makes it: under ``torch.distributed`` each rank makes only its own
batches (``b % world_size == rank``) and the gathered samples equal one process's.
Checkpoints: chunk ``j`` of 10,000 rows is ``generate(ckpt, n_j, seed=seed)`` for ``j = 0``
(so up to 10,000 samples equal ``ganeval sample``'s), then a seed derived from
``SeedSequence([seed, j])``.

Examples
--------
>>> import torch
>>> def fn(batch_size, generator):
...     return torch.rand(batch_size, 3, 8, 8, generator=generator)
>>> src = open_generator(fn, num_samples=5, seed=0, batch_size=2, value_range=(0, 1))
>>> src.kind, len(src), [b.shape[0] for b in src.iter_batches(2)]
('images', 5, [2, 2, 1])
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import GanevalError, InputError, ParameterError
from ..images import DEFAULT_VALUE_RANGE, check_layout, check_value_range, images_to_uint8
from .base import ArraySource, Source
from .images import ImageSource

__all__ = ["open_generator", "GeneratedImageSource", "batch_seed", "is_generator_spec", "load_generator"]


def batch_seed(seed: int, index: int) -> int:
    """The seed of batch ``index`` (a 63-bit int from ``SeedSequence([seed, index])``).

    Examples
    --------
    >>> batch_seed(0, 3) == batch_seed(0, 3) != batch_seed(1, 3)
    True
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] & np.uint64(2**63 - 1))


def is_generator_spec(spec: Any) -> bool:
    """True for a ``"pkg.module:factory"`` string."""
    return (
        isinstance(spec, str)
        and ":" in spec
        and not spec.startswith(("builtin:", "ref:"))
        and not os.path.exists(spec)
        and all(part.replace("_", "a").replace(".", "a").isalnum() for part in spec.split(":", 1))
    )


@contextlib.contextmanager
def _current_folder_importable() -> Iterator[None]:
    """Put the current folder first on ``sys.path`` for the block, as ``python -m`` does
    (the ``ganeval`` script's own ``sys.path`` starts with its bin folder instead)."""
    here = os.getcwd()
    if "" in sys.path or here in sys.path:
        yield
        return
    sys.path.insert(0, here)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(here)


@contextlib.contextmanager
def _user_code(name: str, what: str) -> Iterator[None]:
    """Run the user's generator code: what it prints goes to stderr (stdout stays the
    command's: one JSON object with --json); an exception or ``sys.exit`` it raises becomes
    :class:`InputError` ``generator NAME: WHAT failed (...)``. Ctrl-C passes through."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except (GanevalError, MemoryError):
        raise
    except SystemExit as exc:
        raise InputError(f"generator {name}: {what} called sys.exit({exc.code!r})") from None
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError(f"generator {name}: {what} failed ({type(exc).__name__}: {text[:300]})") from None


def _import_factory(spec: str) -> Any:
    """Import and call ``factory`` of ``"pkg.module:factory"``; modules are found in the
    current folder first, then on ``sys.path``."""
    with _current_folder_importable():
        return _import_factory_here(spec)


def load_generator(spec: Any) -> Any:
    """The generator object behind ``spec``: ``"pkg.module:factory"`` is imported and called
    (modules in the current folder first); anything else is returned as it is. For metrics
    that sample a generator themselves (perceptual path length)."""
    if isinstance(spec, str) and ":" in spec and not Path(spec).exists():
        return _import_factory(spec)
    return spec


def _import_factory_here(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module(module_name)
    except SystemExit as exc:
        raise InputError(
            f"generator {spec!r}: module {module_name!r} called sys.exit({exc.code!r}) while importing"
        ) from None
    except Exception as exc:  # ImportError, or any error the module raises at import
        raise InputError(
            f"generator {spec!r}: module {module_name!r} does not import "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"generator {spec!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"generator {spec!r}: {attr!r} is not callable (expected a factory)")
    with _user_code(repr(spec), "the factory"):
        made = obj()
    return made


def _as_sampler(obj: Any, name: str, device: Any) -> Callable[[int, Any], Any]:
    """A ``sample(batch_size, torch_generator)`` from a Module (with latent_dim) or callable."""
    import torch

    if isinstance(obj, torch.nn.Module):
        latent = getattr(obj, "latent_dim", None)
        if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
            raise InputError(
                f"generator {name}: a torch.nn.Module generator needs an int attribute latent_dim "
                f"(the size of z), got {latent!r}"
            )
        module = obj.to(device).eval()

        def sample(n: int, gen: Any) -> Any:
            z = torch.randn(n, latent, generator=gen, device=gen.device)
            return module(z)

        return sample
    if callable(obj):
        return obj
    raise InputError(
        f"generator {name}: expected a torch.nn.Module with latent_dim or a callable "
        f"fn(batch_size, generator), got {type(obj).__name__}"
    )


class GeneratedImageSource(ImageSource):
    """Images drawn from a sampler batch by batch (see the module docstring).

    ``iter_batches(batch_size, only=None)`` yields uint8 tensors (N, 3, H, W) on ``device``;
    ``only`` (a set of batch indices) makes just those batches (sharding).
    """

    random_access = False
    shardable = True

    def __init__(
        self,
        name: str,
        sample: Callable[[int, Any], Any],
        *,
        num_samples: int,
        seed: int,
        batch_size: int,
        value_range: tuple[float, float],
        device: Any,
        first: Any = None,
        layout: str = "auto",
    ):
        self.name = name
        self._sample = sample
        self.num_samples = num_samples
        self.seed = seed
        self.batch_size = batch_size
        self.value_range = value_range
        self.device = device
        self.layout = layout
        self.length_known = True
        self._first = first  # batch 0, already made while probing
        if first is not None and tuple(first.shape[2:]) == (8, 8):
            self.preferred_extractor = "digits"  # as for in-memory 8x8 images

    def __len__(self) -> int:
        return self.num_samples

    def fingerprint(self) -> None:
        return None  # never cached: the model may change between calls

    def _make(self, b: int, n: int) -> Any:
        if b == 0 and self._first is not None and self._first.shape[0] == n:
            return self._first
        return _checked_batch(
            _draw(self._sample, self.seed, b, n, self.device, self.name),
            self.name,
            b,
            n,
            "images",
            self.value_range,
            self.device,
            self.layout,
        )

    def iter_batches(self, batch_size: int | None = None, only: Any = None) -> Iterator[Any]:
        if batch_size is not None and batch_size != self.batch_size:
            # the batch is the unit of seeding: keep the source's own batch size
            pass
        bs = self.batch_size
        n_batches = math.ceil(self.num_samples / bs)
        for b in range(n_batches):
            if only is not None and b not in only:
                continue
            n = min(bs, self.num_samples - b * bs)
            yield self._make(b, n)


def _draw(sample: Callable, seed: int, b: int, n: int, device: Any, name: str = "") -> Any:
    import torch

    gen = torch.Generator(device=device).manual_seed(batch_seed(seed, b))
    with _user_code(name or getattr(sample, "__name__", "callable"), f"batch {b}"), torch.inference_mode():
        return sample(n, gen)


def _checked_batch(
    out: Any, name: str, b: int, n: int, kind: str | None, value_range, device, layout: str = "auto"
) -> Any:
    """Check one generated batch; images -> a new uint8 (N, 3, H, W) tensor, rows -> a new
    float64 array (copies: the generator may refill the buffer it returned)."""
    import torch

    if isinstance(out, (tuple, list)) and out and hasattr(out[0], "shape"):
        out = out[0]  # (samples, labels) pairs: the samples
    if not isinstance(out, torch.Tensor):
        try:
            out = torch.as_tensor(np.asarray(out))
        except (TypeError, ValueError, RuntimeError):
            raise InputError(
                f"generator {name}: batch {b} is a {type(out).__name__}, expected a tensor or array "
                f"of images (N, C, H, W) or rows (N, d)"
            ) from None
    if out.dtype == torch.bool or out.is_complex() or not (out.is_floating_point() or out.dtype == torch.uint8):
        raise InputError(
            f"generator {name}: batch {b} has dtype {out.dtype}; expected float images in "
            f"value_range {tuple(value_range)}, uint8 images, or float rows"
        )
    if out.ndim not in (2, 3, 4) or out.shape[0] != n:
        raise InputError(
            f"generator {name}: batch {b} has shape {tuple(out.shape)}; expected {n} samples: "
            f"images ({n}, C, H, W) / ({n}, H, W, C) or rows ({n}, d)"
        )
    got = "rows" if out.ndim == 2 else "images"
    if kind is not None and got != kind:
        raise InputError(
            f"generator {name}: batch {b} holds {got} (shape {tuple(out.shape)}), earlier batches held {kind}"
        )
    if got == "rows":
        arr = out.detach().to("cpu", torch.float64, copy=True).numpy()
        if not np.isfinite(arr).all():
            raise InputError(
                f"generator {name}: batch {b} contains {int((~np.isfinite(arr)).sum())} NaN or Inf value(s)"
            )
        return arr
    return images_to_uint8(out, f"generator {name} batch {b}", value_range, device, layout=layout)


def open_generator(
    spec: Any,
    *,
    num_samples: int,
    seed: int = 0,
    batch_size: int = 50,
    value_range: Any = DEFAULT_VALUE_RANGE,
    device: Any = "cpu",
    layout: str = "auto",
) -> Source:
    """A source of ``num_samples`` samples from a generator (see the module docstring).

    Parameters
    ----------
    spec : str, torch.nn.Module or callable
        ``"pkg.module:factory"``, a reference checkpoint path (``.pt``), a Module with
        ``latent_dim``, or ``fn(batch_size, generator)``.
    num_samples : int
        How many samples to draw (>= 1).
    seed : int, default=0
    batch_size : int, default=50
        Samples per call (the unit of seeding and of sharding).
    value_range : (low, high), default=(-1, 1)
        The range of float images the generator outputs.
    device : str, default="cpu"
        Where the generator runs (its ``torch.Generator`` lives there too).
    layout : {"auto", "NCHW", "NHWC"}, default="auto"
        How 4-D image batches are read (:mod:`ganeval.images`).

    Returns
    -------
    Source
        An image source (``kind == "images"``) streaming uint8 batches, or a feature-row
        source (``kind == "features"``) when the generator makes 2-D rows.
    """
    from ..devices import resolve_device

    if num_samples is None:
        raise ParameterError("num_samples is required with a generator (--num-samples N)")
    num_samples = check_int(num_samples, "num_samples", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    value_range = check_value_range(value_range)
    layout = check_layout(layout)
    dev = resolve_device(device)
    if isinstance(spec, (str, os.PathLike)) and not is_generator_spec(os.fspath(spec)):
        path = Path(spec)
        if not path.exists():
            raise InputError(f"generator {path}: no such file, and not a 'pkg.module:factory' spec")
        raise InputError(
            f"generator {path}: a file, not a 'pkg.module:factory' spec; reference checkpoints are "
            f"opened by ganeval.generators.open_generator"
        )
    if isinstance(spec, str):
        name = spec
        obj = _import_factory(spec)
    else:
        name = getattr(spec, "__name__", type(spec).__name__)
        obj = spec
    sample = _as_sampler(obj, name, dev)
    n0 = min(batch_size, num_samples)
    first_raw = _draw(sample, seed, 0, n0, dev, name)
    first = _checked_batch(first_raw, name, 0, n0, None, value_range, dev, layout)
    if isinstance(first, np.ndarray):  # rows: a feature source (rows are what the metrics keep)
        parts = [first]
        for b in range(1, math.ceil(num_samples / batch_size)):
            n = min(batch_size, num_samples - b * batch_size)
            parts.append(
                _checked_batch(_draw(sample, seed, b, n, dev, name), name, b, n, "rows", value_range, dev, layout)
            )
        return ArraySource(name, np.concatenate(parts))
    return GeneratedImageSource(
        name,
        sample,
        num_samples=num_samples,
        seed=seed,
        batch_size=batch_size,
        value_range=value_range,
        device=dev,
        first=first,
        layout=layout,
    )
