"""Streaming fits: ``partial_fit`` after ``fit``, batch shapes, parameter changes."""

import numpy as np

from skalign import LatentAligner
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 6))
Y = X @ RNG.normal(size=(6, 4)) + 0.01 * RNG.normal(size=(60, 4))


def _fit_then_partial(change):
    aligner = LatentAligner("affine").fit(X, Y)
    aligner.set_params(**change)
    return aligner.partial_fit(X[:10], Y[:10])


def _one_row_batches():
    aligner = LatentAligner("affine")
    for row in range(len(X)):
        aligner.partial_fit(X[row : row + 1], Y[row : row + 1])
    return aligner


def _same_map_as_fit(aligner):
    reference = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-8)
    return True


CASES = [
    Case(
        "streaming",
        "partial_fit after fit with another transform_type",
        lambda tmp: _fit_then_partial({"transform_type": "ortho"}),
        Raises(ValueError, r"transform_type.*(fit|reset|new)"),
    ),
    Case(
        "streaming",
        "partial_fit after fit with another l2_normalize",
        lambda tmp: _fit_then_partial({"l2_normalize": True}),
        Raises(ValueError, r"l2_normalize.*(fit|reset|new)"),
    ),
    Case(
        "streaming",
        "one-row batches give the batch fit's map",
        lambda tmp: _one_row_batches(),
        Behaves(_same_map_as_fit),
    ),
]
