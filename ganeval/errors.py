"""The exceptions ganeval raises for bad input.

Every error a user can cause is a :class:`GanevalError`. Its message is one line that names
the input (a file, a parameter) and what was wrong with it; the CLI prints it as
``error: <message>`` and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "GanevalError",
    "InputError",
    "ParameterError",
    "DataError",
    "WeightsError",
    "DeviceError",
    "DegenerateWarning",
]


class GanevalError(Exception):
    """Base class of every error caused by the user's input or settings."""


class InputError(GanevalError):
    """An input path or source cannot be read: missing, empty, wrong format, corrupt."""


class ParameterError(GanevalError, ValueError):
    """An option has a value outside its domain (names the option and the value received)."""


class DataError(GanevalError, ValueError):
    """Data that was read has the wrong shape or content (NaN, too few samples, mismatched
    dimensions)."""


class WeightsError(GanevalError):
    """Network weights are missing, have the wrong hash or the wrong shapes."""


class DeviceError(GanevalError):
    """A device was asked for that this machine does not have."""


class DegenerateWarning(UserWarning):
    """A result was computed but is degenerate (e.g. a near-singular covariance)."""
