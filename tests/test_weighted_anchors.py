"""Weighted anchors: sample_weight enters the anchor statistics, so integer
weights give exactly the fit on repeated rows (issue 26 item 4)."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV

from skalign import LatentAligner
from skalign.evaluation import NaiveAligner

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]
# the references repeat rows on purpose
pytestmark = pytest.mark.filterwarnings(
    "ignore::skalign._validation.DegenerateAnchorsWarning"
)


def _weighted_anchors(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + 1.0
    Y = X @ rng.normal(size=(d, 4)) + 0.3 * rng.normal(size=(n, 4)) - 2.0
    weights = rng.integers(0, 4, size=n)
    weights[:2] = [3, 1]  # some weight on the first rows whatever the draw
    return X, Y, weights


@pytest.mark.parametrize("transform_type", TRANSFORMS)
@pytest.mark.parametrize(
    "params",
    [{}, dict(std_scaling=False), dict(alpha=0.5), dict(l2_normalize=True)],
    ids=["default", "unscaled", "ridge", "unit-rows"],
)
@pytest.mark.parametrize("shape", [(80, 6), (9, 14)], ids=["moments", "samples"])
def test_integer_weights_equal_repeated_rows(transform_type, params, shape):
    """fit, partial_fit and Dask with integer weights give the map of the
    anchors repeated that many times (zero: dropped), to 1e-8."""
    da = pytest.importorskip("dask.array")
    X, Y, weights = _weighted_anchors(*shape)
    X_rep, Y_rep = np.repeat(X, weights, axis=0), np.repeat(Y, weights, axis=0)
    X_new = np.random.default_rng(1).normal(size=(5, shape[1]))

    def aligner():
        return LatentAligner(transform_type, **params)

    expected = aligner().fit(X_rep, Y_rep).transform(X_new)
    weighted = aligner().fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(weighted.transform(X_new), expected, atol=1e-8)
    half = len(X) // 2
    streamed = aligner().partial_fit(X[:half], Y[:half], sample_weight=weights[:half])
    streamed.partial_fit(X[half:], Y[half:], sample_weight=weights[half:])
    np.testing.assert_allclose(streamed.transform(X_new), expected, atol=1e-8)
    blocks = aligner().fit(
        da.from_array(X, chunks=7), da.from_array(Y, chunks=7), sample_weight=weights
    )
    np.testing.assert_allclose(blocks.transform(X_new), expected, atol=1e-8)


def test_tensor_anchors_take_weights():
    torch = pytest.importorskip("torch")
    X, Y, weights = _weighted_anchors(60, 5)
    expected = LatentAligner("affine").fit(X, Y, sample_weight=weights)
    on_tensors = LatentAligner("affine").fit(
        torch.from_numpy(X),
        torch.from_numpy(Y),
        sample_weight=torch.from_numpy(weights),
    )
    np.testing.assert_allclose(
        on_tensors.transform(X), expected.transform(X), rtol=1e-10, atol=1e-10
    )


def test_naive_aligner_weights_its_statistics():
    X, Y, weights = _weighted_anchors(50, 4)
    X_rep, Y_rep = np.repeat(X, weights, axis=0), np.repeat(Y, weights, axis=0)
    np.testing.assert_allclose(
        NaiveAligner().fit(X, Y, sample_weight=weights).transform(X),
        NaiveAligner().fit(X_rep, Y_rep).transform(X),
        atol=1e-10,
    )


def test_weighted_alpha_auto_cross_validates_weighted_folds():
    """alpha='auto' with weights searches on weighted fold statistics: all-ones
    weights reproduce the unweighted search exactly."""
    X, Y, _ = _weighted_anchors(80, 6)
    params = dict(alpha="auto", alphas=np.logspace(-3, 3, 13))
    plain = LatentAligner("affine", **params).fit(X, Y)
    ones = LatentAligner("affine", **params).fit(X, Y, sample_weight=np.ones(80))
    assert ones.alpha_ == plain.alpha_
    np.testing.assert_allclose(ones.cv_errors_, plain.cv_errors_, rtol=1e-10)


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(3), r"shape \(80,\), one weight per pair"),
        (-np.ones(80), "non-negative"),
        (np.zeros(80), "sums to zero"),
        (np.full(80, np.inf), "infinity"),
    ],
)
def test_bad_weights_are_refused_before_any_state_changes(weights, message):
    X, Y, _ = _weighted_anchors(80, 6)
    aligner = LatentAligner("affine").fit(X, Y)
    coef = aligner.coef_.copy()
    with pytest.raises(ValueError, match=message):
        aligner.fit(X * 2, Y, sample_weight=weights)
    np.testing.assert_array_equal(aligner.coef_, coef)


def test_adam_refuses_weights():
    X, Y, weights = _weighted_anchors(30, 3)
    with pytest.raises(ValueError, match="sample_weight needs solver='closed-form'"):
        LatentAligner("affine", solver="adam").fit(X, Y, sample_weight=weights)


def test_metadata_routing_sends_weights_to_fit():
    """GridSearchCV routes sample_weight to fit (and score) once requested."""
    X, Y, weights = _weighted_anchors(60, 5)
    with sklearn.config_context(enable_metadata_routing=True):
        aligner = LatentAligner().set_fit_request(sample_weight=True)
        aligner = aligner.set_score_request(sample_weight=True)
        search = GridSearchCV(aligner, {"transform_type": ["affine", "ortho"]}, cv=3)
        search.fit(X, Y, sample_weight=weights)
    X_rep, Y_rep = np.repeat(X, weights, axis=0), np.repeat(Y, weights, axis=0)
    best = LatentAligner(search.best_params_["transform_type"]).fit(X_rep, Y_rep)
    np.testing.assert_allclose(
        search.best_estimator_.transform(X), best.transform(X), atol=1e-8
    )
