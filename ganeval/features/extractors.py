"""Image feature extractors: what the engine needs from a network, and the FID Inception one.

An extractor is a small picklable object (the network itself is built by :meth:`build`, so
decoding workers never copy it) with:

- ``name``, ``preprocessing`` (recorded in results and in the cache key);
- ``weights_sha256()``: the hash of the weights, known before the network is built, so a
  cache hit needs no network at all;
- ``prepare(images)``: uint8 (n, 3, H, W) -> the network's float input (runs in workers);
- ``build(device)``: the network, in eval mode, on ``device``, in ``channels_last`` format;
- ``split_outputs(out)``: network output -> (features, logits or None);
- ``extra_outputs``: names of further outputs of the same pass that callers may keep
  (``out[name]``, shape (n, d)); the Inception offers ``"spatial"`` (ADM's sFID features);
- ``device_prepare_exact``: whether ``prepare`` gives the same floats on a CUDA device as on
  the CPU, so file sources may be resized on the device (:mod:`ganeval.features.loading`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._validation import check_choice

__all__ = ["ImageExtractor", "FileWeightsExtractor", "InceptionExtractor", "PREPROCESSING_MODES"]

#: resize/normalisation modes of the Inception input (see :mod:`ganeval.features.preprocessing`)
PREPROCESSING_MODES = ("tf", "pytorch-fid", "clean")


class ImageExtractor:
    """Base class of image feature extractors (see the module docstring)."""

    name: str = ""
    preprocessing: str | None = None
    extra_outputs: tuple[str, ...] = ()

    @property
    def device_prepare_exact(self) -> bool:
        """``prepare`` gives the same floats on CUDA as on the CPU (default: not known, False)."""
        return False

    def weights_sha256(self) -> str | None:
        return None

    def prepare(self, images: Any) -> Any:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def build(self, device: Any) -> Any:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def split_outputs(self, out: Any) -> tuple[Any, Any]:  # pragma: no cover - subclasses define it
        raise NotImplementedError


class FileWeightsExtractor(ImageExtractor):
    """An extractor whose weights are a file resolved by ``_resolved()``, or a state dict
    held in memory (``_state_dict``; tests, benchmarks: recorded as ``weights_sha256=None``,
    and never pickled into decoding workers)."""

    _state_dict: Any = None

    def _resolved(self) -> Path:  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def weights_sha256(self) -> str | None:
        if self._state_dict is not None:
            return None
        from .weights import file_sha256

        return file_sha256(self._resolved())

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_state_dict"] = None if self._state_dict is None else "<in memory>"
        return state


class InceptionExtractor(FileWeightsExtractor):
    """The FID Inception v3 (2048-D pool3 features, or 64/192/768-D shallower ones; 1008 bias-free
    logits; extra output ``"spatial"``: ADM's 2023-D sFID features, :mod:`ganeval.features.inception`).

    Parameters
    ----------
    weights : str, Path or None
        Weights file; None resolves it (``GANEVAL_INCEPTION_WEIGHTS``, the torch hub cache,
        a hash-checked download; see :mod:`ganeval.features.weights`).
    preprocessing : {"tf", "pytorch-fid", "clean"}, default="tf"
        How images become 299x299 inputs in [-1, 1].
    state_dict : mapping, optional
        Weights in memory (tests, benchmarks); recorded as ``weights_sha256=None``.
    dims : {64, 192, 768, 2048}, default=2048
        Feature depth, as pytorch-fid's ``--dims`` (the spatial mean after the first or
        second max pool, after ``Mixed_6e``, or pool3). Other than 2048, the extractor is
        named ``inception:DIMS`` (in results and the cache key). The logits are pool3's.

    Examples
    --------
    >>> InceptionExtractor(state_dict={}, dims=768).name
    'inception:768'
    >>> ext = InceptionExtractor(preprocessing="pytorch-fid", state_dict={})
    >>> ext.name, ext.preprocessing
    ('inception', 'pytorch-fid')
    """

    name = "inception"
    extra_outputs = ("spatial",)
    preprocessing: str  # one of PREPROCESSING_MODES, set in __init__

    def __init__(
        self, weights: str | Path | None = None, preprocessing: str = "tf", *, state_dict: Any = None, dims: int = 2048
    ):
        from .inception import BLOCK_DIMS

        self.preprocessing = check_choice(preprocessing, "preprocessing", PREPROCESSING_MODES)
        self.dims = check_choice(dims, "dims", BLOCK_DIMS)
        if self.dims != 2048:
            self.name = f"inception:{self.dims}"
        self._weights = weights
        self._state_dict = state_dict
        self._path: Path | None = None

    def _resolved(self) -> Path:
        if self._path is None:
            from .weights import resolve_weights

            self._path = resolve_weights(self._weights)
        return self._path

    def prepare(self, images: Any) -> Any:
        from .preprocessing import preprocess

        return preprocess(images, self.preprocessing)

    @property
    def device_prepare_exact(self) -> bool:
        """True for ``tf``: the TF1 resize is float32 adds and products, each rounded once, the
        same on any device (tests/features/test_loading.py checks CUDA against the CPU)."""
        return self.preprocessing == "tf"

    def build(self, device: Any) -> Any:
        import torch

        from .inception import FIDInceptionV3

        if self._state_dict is not None:
            net = FIDInceptionV3(state_dict=self._state_dict)
        else:
            net = FIDInceptionV3(self._resolved())
        return net.to(device).to(memory_format=torch.channels_last).eval()

    def split_outputs(self, out: Any) -> tuple[Any, Any]:
        return out["pool3" if self.dims == 2048 else f"pool{self.dims}"], out["logits"]
