"""NaiveAligner: zero-padding, the paper's pre-processing, sklearn checks."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skalign import LatentAligner
from skalign._affine import AffineMapAligner
from skalign.evaluation import NaiveAligner
from tests._expected_failures import expected_failed_checks


def test_raw_padding_and_truncation():
    X = np.arange(6.0).reshape(2, 3)
    padded = NaiveAligner(center=False, std_scaling=False).fit(X, np.ones((2, 5)))
    np.testing.assert_array_equal(padded.transform(X), np.c_[X, np.zeros((2, 2))])
    truncated = NaiveAligner(center=False, std_scaling=False).fit(X, np.ones((2, 2)))
    np.testing.assert_array_equal(truncated.transform(X), X[:, :2])
    assert truncated.get_feature_names_out().tolist() == [
        "naivealigner0",
        "naivealigner1",
    ]


def test_standardised_padding_matches_hand_computation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)) * [1, 2, 3, 4] + 5
    Y = rng.normal(size=(50, 6)) * 0.5 - 1
    X_new = rng.normal(size=(7, 4))
    expected = (X_new - X.mean(0)) / X.std(0)
    expected = np.c_[expected, np.zeros((7, 2))] * Y.std(0) + Y.mean(0)
    np.testing.assert_allclose(NaiveAligner().fit(X, Y).transform(X_new), expected)


@pytest.mark.parametrize("d_target", [4, 6])
def test_is_latent_aligner_with_the_identity_map(d_target):
    """Same pipeline, map replaced by the identity: for equal widths and an
    identity relation the two coincide."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4)) * [1, 2, 3, 4]
    Y = np.c_[X, np.zeros((80, d_target - 4))]
    naive = NaiveAligner(std_scaling=False).fit(X, Y)
    ortho = LatentAligner("ortho", std_scaling=False).fit(X, Y)
    np.testing.assert_allclose(naive.transform(X), ortho.transform(X), atol=1e-10)


def test_float32_preserved():
    X = np.array([[1, 1], [2, 2], [3, 5]], dtype=np.float32)
    out = NaiveAligner().fit(X, X).transform(X)
    assert out.dtype == np.float32


@parametrize_with_checks(
    [NaiveAligner(), NaiveAligner(center=False, std_scaling=False)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_shares_latent_aligner_machinery():
    """Inherited inverse_transform and score work on the identity map, and
    l2_normalize is the aligner's own row normalisation."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3)) * [1, 2, 3] + 1
    Y = rng.normal(size=(30, 5))
    naive = NaiveAligner().fit(X, Y)
    assert isinstance(naive, AffineMapAligner) and not isinstance(naive, LatentAligner)
    np.testing.assert_allclose(naive.inverse_transform(naive.transform(X)), X)
    assert naive.coef_.shape == (5, 3) and naive.score(X, Y) < 0.5
    unit = NaiveAligner(l2_normalize=True, center=False, std_scaling=False)
    out = unit.fit(X, Y).transform(X)
    unit_X = X / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(out, np.c_[unit_X, np.zeros((30, 2))])
