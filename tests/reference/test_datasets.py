"""Embedded mixtures: registered as builtin sources with fixed, disjoint splits."""

from __future__ import annotations

import numpy as np
import pytest

from ganeval.errors import InputError, ParameterError
from ganeval.reference.datasets import mixture, training_set
from ganeval.sources import open_source
from ganeval.sources.builtin import builtin_names


def test_registered_and_served_as_rows():
    names = builtin_names()
    assert {"ring8", "grid25", "digits", "wine", "breast_cancer"} <= set(names)
    train, test = open_source("builtin:ring8/train"), open_source("builtin:ring8/test")
    assert train.array.shape == test.array.shape == (5000, 2)
    assert not set(map(tuple, train.array)) & set(map(tuple, test.array))
    np.testing.assert_array_equal(open_source("builtin:ring8/test").array, test.array)  # fixed
    assert open_source("builtin:grid25").array.shape == (10000, 2)


def test_mixture_geometry():
    ring = mixture("ring8")
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0)
    t = training_set("ring8", "train")
    for k in range(8):
        pts = t.rows[t.labels == k]
        assert len(pts) == 625
        assert np.linalg.norm(pts.mean(0) - ring.centers[k]) < 0.005
        assert pts.std(0).mean() == pytest.approx(0.02, rel=0.1)
    grid = mixture("grid25")
    assert sorted(set(grid.centers[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_training_sets_of_every_kind():
    assert training_set("digits").kind == "image" and training_set("digits").dim == 64
    assert training_set("breast_cancer", "test").kind == "tabular"
    with pytest.raises(ParameterError, match="ring9"):
        training_set("ring9")
    with pytest.raises(InputError, match="unknown split"):
        open_source("builtin:ring8/valid")
