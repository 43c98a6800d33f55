"""scikit-learn's estimator checks for the aligners beyond the paper, and the
score every aligner shares."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
)
from tests._expected_failures import expected_failed_checks

pytest.importorskip("torch")


@parametrize_with_checks(
    [
        SelfLearningAligner(),
        AdapterAligner(max_iter=5, random_state=0),
        AnchorKernelAligner(),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "aligner",
    [
        LatentAligner("affine"),
        SelfLearningAligner(),
        AdapterAligner(max_iter=5, random_state=0),
        AnchorKernelAligner(),
    ],
    ids=lambda aligner: type(aligner).__name__,
)
def test_every_aligner_scores_with_pair_weights(aligner):
    """score(X, y, sample_weight) is the weighted mean of the paired cosines
    (float64 reference) for every aligner, and zero weights drop pairs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    Y = X @ rng.normal(size=(5, 4)) + 0.3 * rng.normal(size=(60, 4))
    aligner.fit(X, Y)
    translated = np.asarray(aligner.transform(X), dtype=np.float64)
    cosines = np.sum(translated * Y, axis=1) / (
        np.linalg.norm(translated, axis=1) * np.linalg.norm(Y, axis=1)
    )
    weights = rng.uniform(0, 2, size=60)
    assert aligner.score(X, Y, sample_weight=weights) == pytest.approx(
        np.average(cosines, weights=weights), rel=1e-10
    )
    assert aligner.score(X, Y) == pytest.approx(cosines.mean(), rel=1e-10)
    assert aligner.score(X, Y, sample_weight=np.r_[np.ones(10), np.zeros(50)]) == (
        pytest.approx(cosines[:10].mean(), rel=1e-10)
    )
    with pytest.raises(ValueError, match="one weight per pair"):
        aligner.score(X, Y, sample_weight=weights[:5])
