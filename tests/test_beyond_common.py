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


def _every_aligner():
    from skalign.evaluation import NaiveAligner

    return [
        LatentAligner("affine"),
        NaiveAligner(),
        SelfLearningAligner(),
        AdapterAligner(max_iter=5, random_state=0),
        AnchorKernelAligner(),
    ]


@pytest.mark.parametrize(
    "aligner", _every_aligner(), ids=lambda aligner: type(aligner).__name__
)
@pytest.mark.parametrize("namespace", ["numpy", "torch"])
def test_every_aligner_refuses_a_wrong_width_or_nan_source(aligner, namespace):
    """One source check (skalign._base) for every aligner, NumPy and torch:
    a batch of the wrong width or with NaN is a ValueError naming it; so is a
    target batch of the wrong width for inverse_transform and score."""
    import torch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    Y = X @ rng.normal(size=(5, 4)) + 0.1 * rng.normal(size=(40, 4))
    aligner.fit(X, Y)
    as_input = torch.from_numpy if namespace == "torch" else np.asarray
    narrow = as_input(X[:3, :4].copy())
    with_nan = X[:3].copy()
    with_nan[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X has 4 features.*expecting 5.*source"):
        aligner.transform(narrow)
    with pytest.raises(ValueError, match="NaN"):
        aligner.transform(as_input(with_nan))
    with pytest.raises(ValueError, match=r"y has 3 features.*expecting 4.*target"):
        aligner.score(as_input(X[:3].copy()), as_input(Y[:3, :3].copy()))
    if hasattr(aligner, "inverse_transform"):
        with pytest.raises(ValueError, match=r"X has 5 features.*expecting 4.*target"):
            aligner.inverse_transform(as_input(X[:3].copy()))
    translated = aligner.transform(as_input(X[:3].copy()))
    assert tuple(translated.shape) == (3, 4)
    assert type(translated) is type(as_input(X[:1]))


def test_every_aligner_refuses_a_meta_tensor_and_foreign_dask_anchors():
    import torch

    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    for aligner in _every_aligner():
        aligner.fit(X, Y)
        with pytest.raises(ValueError, match="meta device"):
            aligner.transform(torch.empty(2, 3, device="meta"))
    from skalign.evaluation import NaiveAligner

    for aligner in (NaiveAligner(), AdapterAligner(), AnchorKernelAligner()):
        with pytest.raises(TypeError, match=r"fits in memory.*compute\(\)"):
            aligner.fit(da.from_array(X, chunks=10), da.from_array(Y, chunks=10))
