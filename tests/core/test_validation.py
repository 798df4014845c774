"""Input validation helpers: no spurious warnings on ordinary inputs."""

import warnings

import numpy as np
import pytest

from ganeval._validation import as_features
from ganeval.errors import DataError


def test_float32_rows_pass_without_a_warning():
    # the |value| bound (1e150) must not be cast to float32 for the comparison (an overflow warning
    # that reached users as a 'warning:' line)
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = as_features(x, "rows", dtype=None)
    assert out.dtype == np.float32


def test_huge_rows_are_refused_naming_row_and_column():
    x = np.zeros((4, 3))
    x[2, 1] = -1e200
    with pytest.raises(DataError, match=r"rows: value -1e\+200 at row 2, column 1 is too large"):
        as_features(x, "rows")
