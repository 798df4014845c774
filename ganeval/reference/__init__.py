"""Reference generators: embedded data sets, GAN losses, the Smirnov layer, models and a trainer.

Import the submodules you need (this package imports nothing itself, so opening a
``builtin:`` source does not load torch models):

- :mod:`ganeval.reference.datasets`: ``ring8`` and ``grid25`` mixtures (registered as
  ``builtin:`` sources) and :func:`~ganeval.reference.datasets.training_set`;
- :mod:`ganeval.reference.losses`: minimax, non-saturating, wgan, wgan-gp, hinge,
  least-squares;
- :mod:`ganeval.reference.smirnov`: :class:`~ganeval.reference.smirnov.SmirnovLayer` and
  :func:`~ganeval.reference.smirnov.smirnov_transform`;
- :mod:`ganeval.reference.models`: MLP and DCGAN-style generator / critic pairs;
- :mod:`ganeval.reference.trainer`: :func:`~ganeval.reference.trainer.train`,
  :func:`~ganeval.reference.trainer.generate`, checkpoints;
- :mod:`ganeval.reference.plots`: scatter and digit-grid PNGs with Pillow.

See docs/training.md.
"""
