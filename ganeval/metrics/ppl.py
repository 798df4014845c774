"""PPL, perceptual path length of a generator (Karras et al. 2019, StyleGAN, arXiv:1812.04948, sec. 3.1).

For latent pairs ``z0, z1 ~ N(0, I)`` and ``t`` (0 for ``sampling="end"``, uniform on [0, 1)
for ``"full"``):

.. math::

    \\ell = \\frac{1}{\\varepsilon^2}\\, d\\big(G(\\mathrm{slerp}(z_0, z_1; t)),\\ G(\\mathrm{slerp}(z_0, z_1; t + \\varepsilon))\\big)

in Z (spherical interpolation of the normalised latents), or with ``lerp`` of
``w_i = mapping(z_i)`` in W; ``epsilon = 1e-4``; ``d`` is LPIPS-VGG
(:class:`ganeval.features.lpips.LPIPSVGG`). PPL is the mean of ``ell`` over the samples
between the 1st percentile (lower) and the 99th (higher), as StyleGAN2-ADA's
``metrics/perceptual_path_length.py`` computes it, which also fixes the image handling:
``crop=True`` keeps rows ``3H/8 .. 7H/8`` and columns ``2W/8 .. 6W/8`` (the face crop of
StyleGAN's FFHQ protocol); images larger than 256 are average-pooled by the integer factor
``H // 256``; grey images are repeated to three channels.

Differences from StyleGAN2-ADA: its LPIPS is the TF-converted ``vgg16.pt`` applied to images in
[0, 255]; ours is the ``lpips`` package's LPIPS v0.1 (VGG) on images in [-1, 1] (checked
against that package under shared weights). Numbers are therefore on LPIPS v0.1's scale.

Generator: ``generator(latents) -> images`` in [-1, 1], (N, C, H, W), C in {1, 3}, taking
(N, latent_dim) float32 latents on ``device`` (for W: ``generator`` takes ``w`` and
``mapping(z) -> w`` is given). Latents and ``t`` come from a ``torch.Generator`` seeded with
``seed`` on the CPU: no global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice, check_int, check_positive
from ..errors import DataError, ParameterError
from ..results import MetricResult
from .base import Metric, Option, Output

__all__ = ["perceptual_path_length", "slerp", "prepare_ppl_images", "PPL"]


def slerp(a: Any, b: Any, t: Any) -> Any:
    """Spherical interpolation of the *normalised* rows of ``a`` and ``b`` at ``t`` (N, 1).

    Examples
    --------
    >>> import torch
    >>> a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    >>> slerp(a, b, torch.tensor([[0.5]])).mul(2**0.5).round(decimals=6).tolist()
    [[1.0, 1.0]]
    """
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t * torch_acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    out = a * p.cos() + c * p.sin()
    return out / out.norm(dim=-1, keepdim=True)


def torch_acos(d: Any) -> Any:
    """``acos`` of cosines clipped to [-1, 1] (round-off can leave them just outside)."""
    return d.clamp(-1.0, 1.0).acos()


def prepare_ppl_images(img: Any, crop: bool) -> Any:
    """StyleGAN2-ADA's image handling before LPIPS: optional face crop, integer average pooling
    to at most about 256 pixels, grey repeated to three channels."""
    if img.ndim != 4 or img.shape[1] not in (1, 3) or not img.is_floating_point():
        raise DataError(
            f"ppl: the generator must return float images (N, 1 or 3, H, W) in [-1, 1]; "
            f"got {img.dtype} of shape {tuple(img.shape)}"
        )
    if crop:
        if img.shape[2] != img.shape[3]:
            raise DataError(f"ppl: crop needs square images, got {img.shape[2]}x{img.shape[3]}")
        c = img.shape[2] // 8
        img = img[:, :, c * 3 : c * 7, c * 2 : c * 6]
    factor = img.shape[2] // 256
    if factor > 1:
        n, ch, h, w = img.shape
        img = img[:, :, : h // factor * factor, : w // factor * factor]
        img = img.reshape(n, ch, h // factor, factor, w // factor, factor).mean((3, 5))
    if img.shape[1] == 1:
        img = img.repeat(1, 3, 1, 1)
    return img


def _latent_pairs(
    g: Any,
    n: int,
    latent_dim: int,
    space: str,
    sampling: str,
    epsilon: float,
    mapping: Callable[[Any], Any] | None,
    device: Any,
) -> Any:
    """One batch of ``2 n`` latents: the points at ``t`` of ``n`` seeded paths, then the
    points at ``t + epsilon`` (slerp in ``z``, lerp in ``w = mapping(z)``)."""
    import torch

    t = torch.rand((n, 1), generator=g) * (1.0 if sampling == "full" else 0.0)
    z0, z1 = torch.randn((2, n, latent_dim), generator=g)
    t, z0, z1 = t.to(device), z0.to(device), z1.to(device)
    if space == "z":
        return torch.cat([slerp(z0, z1, t), slerp(z0, z1, t + epsilon)])
    if mapping is not None:  # space "w": mapping checked on entry
        w0, w1 = mapping(z0), mapping(z1)
        tt = t.view(-1, *([1] * (w0.ndim - 1)))
        return torch.cat([torch.lerp(w0, w1, tt), torch.lerp(w0, w1, tt + epsilon)])
    raise ParameterError("ppl: space='w' needs mapping (z -> w)")  # unreachable: checked on entry


def _percentile_cut_mean(dist: np.ndarray) -> dict[str, Any]:
    """PPL of the distances: the mean between the 1st and the 99th percentile (StyleGAN's
    cut), the mean of all, and how many were kept."""
    lo_q = np.percentile(dist, 1, method="lower")
    hi_q = np.percentile(dist, 99, method="higher")
    kept = dist[(dist >= lo_q) & (dist <= hi_q)]
    return {"value": float(kept.mean()), "mean_all": float(dist.mean()), "n_kept": int(kept.size)}


def perceptual_path_length(
    generator: Callable[[Any], Any],
    *,
    latent_dim: int,
    num_samples: int = 100_000,
    space: str = "z",
    sampling: str = "end",
    epsilon: float = 1e-4,
    crop: bool = False,
    mapping: Callable[[Any], Any] | None = None,
    batch_size: int = 64,
    seed: int = 0,
    lpips: Any = None,
    device: Any = "cpu",
) -> MetricResult:
    """Perceptual path length of ``generator`` (Karras et al. 2019, arXiv:1812.04948).

    .. math:: \\mathrm{PPL} = \\mathbb{E}\\Big[\\frac{1}{\\varepsilon^2} d\\big(G(\\mathrm{slerp}(z_0, z_1; t)),
              G(\\mathrm{slerp}(z_0, z_1; t + \\varepsilon))\\big)\\Big]

    (the mean over the samples between the 1st and the 99th percentile).

    Parameters
    ----------
    generator : callable
        ``generator(latents) -> images`` in [-1, 1] (N, C, H, W); in W space it takes ``w``.
    latent_dim : int
        Width of ``z``.
    num_samples : int, default=100000
        Latent pairs (StyleGAN's protocol: 100,000).
    space : {"z", "w"}, default="z"
        Interpolate ``z`` (slerp) or ``w = mapping(z)`` (lerp; needs ``mapping``).
    sampling : {"end", "full"}, default="end"
        ``t = 0`` (path ends) or ``t ~ U[0, 1)`` (full paths).
    epsilon : float, default=1e-4
    crop : bool, default=False
        StyleGAN's FFHQ face crop.
    mapping : callable, optional
        ``mapping(z) -> w`` for ``space="w"``.
    batch_size : int, default=64
        Pairs per generator call (2 x batch_size images).
    seed : int, default=0
    lpips : LPIPSVGG, optional
        The distance network (default: :class:`~ganeval.features.lpips.LPIPSVGG` with resolved weights).
    device : str or torch.device, default="cpu"

    Returns
    -------
    MetricResult
        ``value`` (PPL), ``mean_all`` (mean without the percentile cut) and ``n_kept``
        (samples between the percentiles).
    """
    import torch

    latent_dim = check_int(latent_dim, "latent_dim", minimum=1)
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    check_choice(space, "space", ("z", "w"))
    check_choice(sampling, "sampling", ("end", "full"))
    epsilon = check_positive(epsilon, "epsilon")
    crop = check_bool(crop, "crop")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    if not callable(generator):
        raise ParameterError(f"ppl: generator must be callable (latents -> images), got {type(generator).__name__}")
    if space == "w" and mapping is None:
        raise ParameterError("ppl: space='w' needs mapping (z -> w)")
    if lpips is None:
        from ..features.lpips import LPIPSVGG

        lpips = LPIPSVGG()
    lpips = lpips.to(device)
    g = torch.Generator().manual_seed(seed)
    dists = []
    with torch.inference_mode():
        for lo in range(0, num_samples, batch_size):
            n = min(batch_size, num_samples - lo)
            lat = _latent_pairs(g, n, latent_dim, space, sampling, epsilon, mapping, device)
            img = prepare_ppl_images(torch.as_tensor(generator(lat)), crop).float()
            d = lpips(img[:n], img[n:]).double() / epsilon**2
            dists.append(d.cpu().numpy())
    dist = np.concatenate(dists)
    if not np.isfinite(dist).all():
        raise DataError("ppl: some LPIPS distances are not finite; check the generator's output")
    values = _percentile_cut_mean(dist)
    return MetricResult(
        "ppl",
        values,
        {
            "space": space,
            "sampling": sampling,
            "epsilon": epsilon,
            "crop": crop,
            "seed": seed,
            "num_samples": num_samples,
            "distance": "lpips-vgg v0.1",
            "weights_sha256": getattr(lpips, "weights_sha256", None),
        },
        n_fake=num_samples,
    )


class PPL(Metric):
    """Perceptual path length of a generator: LPIPS-VGG between images of latents epsilon apart, / epsilon^2 (lower is better)."""

    name = "ppl"
    takes = "generator"
    higher_is_better = False
    outputs = (Output("value", False, (0.0, math.inf), "PPL"),)
    seeded = True
    resampling = None
    no_interval = "PPL draws its own latents; run it with several seeds instead."
    streaming = None
    options = (
        Option("num_samples", "int", 100_000, "Latent pairs.", minimum=2),
        Option("space", "str", "z", "Interpolation space (z: slerp; w: lerp, needs a mapping).", choices=("z", "w")),
        Option("sampling", "str", "end", "t = 0 (end) or uniform (full).", choices=("end", "full")),
        Option("epsilon", "float", 1e-4, "Step between the two latents.", minimum=0.0, exclusive_minimum=True),
        Option("crop", "bool", False, "StyleGAN's FFHQ face crop."),
        Option("batch_size", "int", 64, "Latent pairs per generator call.", minimum=1),
    )

    def prepare(self, inputs: Any, names: Any = None) -> list[Any]:
        """One input: a generator with ``latent_dim`` (a ``torch.nn.Module`` or callable;
        ``mapping`` attribute used for W)."""
        if len(inputs) != 1:
            raise ParameterError(f"ppl: takes 1 input (generator), got {len(inputs)}")
        gen = inputs[0]
        if not callable(gen) or not isinstance(getattr(gen, "latent_dim", None), int):
            raise ParameterError("ppl: the generator must be callable with an int attribute latent_dim")
        return [gen]

    def compute(self, generator: Any, **options: Any) -> MetricResult:
        return perceptual_path_length(
            generator, latent_dim=generator.latent_dim, mapping=getattr(generator, "mapping", None), **options
        )
