"""PyTorch Lightning: evaluate a generator every N epochs (or steps) with an
:class:`~ganeval.Evaluator` and log plain floats through the LightningModule.

::

    from ganeval.integrations.lightning import EvaluatorCallback

    callback = EvaluatorCallback(
        lambda device: ganeval.Evaluator(["fid", "kid"], real="ref:cifar10-train", device=device),
        num_samples=10_000, batch_size=250, every_n_epochs=5)
    trainer = lightning.Trainer(callbacks=[callback], strategy="ddp", devices=4)

Every evaluation draws ``num_samples`` samples from the module: batch ``b`` (of
``batch_size``) from a :class:`torch.Generator` seeded with
:func:`~ganeval.sources.generator.batch_seed` ``(seed, b)``, by ``sample(module, n,
generator)`` (default: ``module(z)`` with ``z ~ N(0, I)`` of shape (n, ``module.latent_dim``)),
in eval mode under :func:`torch.inference_mode`. Under DDP rank ``r`` draws the batches
``b % world == r`` and ``Evaluator.compute()`` gathers them in batch order, so every rank
gets the one-process numbers for the same seed, whatever the number of processes. The
results go to ``module.log_dict`` as :func:`ganeval.results.flat` floats (``"fid"``,
``"kid"``, ``"kid_std"``, ...; ``prefix`` before each), identical on every rank (so
``sync_dist`` is not needed); :attr:`EvaluatorCallback.last` keeps them. The fake side is
reset after each evaluation; the real side (``real=``) is kept.

Needs ``lightning`` (or ``pytorch-lightning``): ``pip install "ganeval[lightning]"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import ParameterError
from ..evaluator import Evaluator
from ..results import flat

try:  # the unified package first, then the standalone one
    import lightning.pytorch as _pl
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        # the same API from its older distribution: mypy sees two modules bound to one name
        import pytorch_lightning as _pl  # type: ignore[no-redef]
    except ImportError as exc:
        raise ImportError(
            "ganeval.integrations.lightning needs PyTorch Lightning: pip install lightning (or pytorch-lightning)"
        ) from exc

__all__ = ["EvaluatorCallback"]


def _latent_sample(module: Any, n: int, generator: Any) -> Any:
    import torch

    latent = getattr(module, "latent_dim", None)
    if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
        raise ParameterError(
            "EvaluatorCallback: the LightningModule has no int latent_dim; pass "
            "sample=fn(module, n, generator) that returns n samples"
        )
    z = torch.randn(n, latent, generator=generator, device=generator.device)
    return module(z)


class EvaluatorCallback(_pl.Callback):
    """Evaluate every ``every_n_epochs`` epochs or ``every_n_steps`` optimizer steps (see
    the module notes).

    Parameters
    ----------
    evaluator : Evaluator or callable
        The Evaluator, or ``fn(device) -> Evaluator`` called at setup with the module's device
        (the right choice under DDP: it is built after the process group exists, on each
        rank's own GPU).
    num_samples : int
        Samples drawn per evaluation (over all ranks).
    batch_size : int, default=50
        Samples per draw (the unit of seeding and of sharding across ranks).
    every_n_epochs : int, optional
        Evaluate at the end of every N-th training epoch (default 1 unless
        ``every_n_steps`` is given).
    every_n_steps : int, optional
        Evaluate after every N-th optimizer step instead.
    sample : callable, optional
        ``fn(module, n, generator) -> samples`` (images or feature rows); default
        ``module(z)``, ``z ~ N(0, I)`` of shape (n, ``module.latent_dim``).
    seed : int, default=0
        Seed of the draws: the same seed gives the same samples at every evaluation, so the
        numbers follow the model, not the noise.
    prefix : str, default=""
        Put before every logged key (``"val/"``).
    """

    def __init__(
        self,
        evaluator: Evaluator | Callable[[Any], Evaluator],
        *,
        num_samples: int,
        batch_size: int = 50,
        every_n_epochs: int | None = None,
        every_n_steps: int | None = None,
        sample: Callable[[Any, int, Any], Any] | None = None,
        seed: int = 0,
        prefix: str = "",
    ) -> None:
        from .._validation import check_int

        super().__init__()
        if not (isinstance(evaluator, Evaluator) or callable(evaluator)):
            raise ParameterError(
                f"evaluator must be an Evaluator or fn(device) -> Evaluator, got {type(evaluator).__name__}"
            )
        if every_n_epochs is not None and every_n_steps is not None:
            raise ParameterError("give every_n_epochs or every_n_steps, not both")
        self.num_samples = check_int(num_samples, "num_samples", minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.every_n_steps = None if every_n_steps is None else check_int(every_n_steps, "every_n_steps", minimum=1)
        self.every_n_epochs = (
            check_int(every_n_epochs, "every_n_epochs", minimum=1)
            if every_n_epochs is not None
            else (None if every_n_steps is not None else 1)
        )
        self.seed = check_int(seed, "seed", minimum=0)
        self.sample = sample or _latent_sample
        self.prefix = str(prefix)
        self.evaluator: Evaluator | None = evaluator if isinstance(evaluator, Evaluator) else None
        self._make: Callable[[Any], Any] | None = None if isinstance(evaluator, Evaluator) else evaluator
        #: the floats logged by the last evaluation
        self.last: dict[str, float] = {}

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if self.evaluator is None and self._make is not None:  # one of the two is set
            made = self._make(pl_module.device)
            if not isinstance(made, Evaluator):
                raise ParameterError(f"evaluator factory returned {type(made).__name__}, not an Evaluator")
            self.evaluator = made

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.every_n_epochs is not None and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._evaluate(trainer, pl_module, on_step=False)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.every_n_steps is not None and trainer.global_step > 0 and trainer.global_step % self.every_n_steps == 0:
            self._evaluate(trainer, pl_module, on_step=True)

    def evaluate(self, pl_module: Any, rank: int = 0, world: int = 1) -> dict[str, float]:
        """Draw the samples of this rank, compute (gathering every rank's) and return the
        flat floats; the fake side is reset afterwards."""
        import torch

        from ..sources.generator import batch_seed

        ev = self.evaluator
        if ev is None:
            raise ParameterError("EvaluatorCallback.evaluate(): no Evaluator yet (the trainer calls setup first)")
        was_training = pl_module.training
        pl_module.eval()
        try:
            for b in range(rank, math.ceil(self.num_samples / self.batch_size), world):
                n = min(self.batch_size, self.num_samples - b * self.batch_size)
                gen = torch.Generator(device=pl_module.device).manual_seed(batch_seed(self.seed, b))
                with torch.inference_mode():
                    x = self.sample(pl_module, n, gen)
                if isinstance(x, torch.Tensor) and x.ndim == 2:
                    ev.update(x.detach())
                else:
                    ev.update(x)
            results = ev.compute()
        finally:
            ev.reset(keep_real=True)
            pl_module.train(was_training)
        return flat(results, prefix=self.prefix)

    def _evaluate(self, trainer: Any, pl_module: Any, on_step: bool) -> None:
        self.last = self.evaluate(pl_module, trainer.global_rank, trainer.world_size)
        pl_module.log_dict(self.last, on_step=on_step, on_epoch=not on_step, sync_dist=False, prog_bar=False)
