"""Integrations with training frameworks (optional dependencies, imported on use).

- :mod:`ganeval.integrations.lightning`: a PyTorch Lightning callback that evaluates a
  generator every N epochs or steps with an :class:`~ganeval.Evaluator`, under DDP too.
"""
