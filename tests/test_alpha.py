"""alpha="auto" in the aligner, and choosing by a downstream decoder's score."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skalign import LatentAligner, make_downstream_scorer


def _stitching_task(n=300, d1=40, d2=12, seed=0):
    """Two noisy views of a labelled latent: source X, target Y, labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    latent = rng.normal(size=(n, 6)) + 1.5 * np.eye(6)[labels]
    X = latent @ rng.normal(size=(6, d1)) + rng.normal(size=(n, d1))
    Y = latent @ rng.normal(size=(6, d2)) + 0.5 * rng.normal(size=(n, d2))
    return X, Y, labels


@pytest.mark.parametrize("transform_type", ["affine", "linear", "l-ortho"])
def test_auto_alpha_attributes_and_custom_grid(transform_type):
    X, Y, _ = _stitching_task(n=60, d1=80)  # fewer anchors than features
    grid = np.logspace(-1, 5, 13)
    aligner = LatentAligner(transform_type, alpha="auto", alphas=grid).fit(X, Y)
    np.testing.assert_array_equal(aligner.alphas_, grid)
    assert aligner.cv_errors_.shape == (13,)
    assert aligner.alpha_ == grid[np.argmin(aligner.cv_errors_)]
    assert grid[0] < aligner.alpha_ < grid[-1]  # never the interpolating end
    refit = LatentAligner(transform_type, alpha=aligner.alpha_).fit(X, Y)
    np.testing.assert_allclose(refit.transform(X), aligner.transform(X), atol=1e-8)
    fixed = LatentAligner(transform_type, alpha=1.0).fit(X, Y)
    assert not hasattr(fixed, "cv_errors_") and not hasattr(fixed, "alphas_")


def test_auto_alpha_beats_interpolation_on_held_out_pairs():
    X, Y, _ = _stitching_task(n=400, d1=120, seed=1)
    train, test = slice(0, 80), slice(80, None)
    auto = LatentAligner("affine", alpha="auto").fit(X[train], Y[train])
    exact = LatentAligner("affine").fit(X[train], Y[train])
    held_out = auto.score(X[test], Y[test])
    assert held_out > exact.score(X[test], Y[test]) + 0.03
    oracle = max(
        LatentAligner("affine", alpha=a).fit(X[train], Y[train]).score(X[test], Y[test])
        for a in np.logspace(-2, 5, 29)
    )
    assert held_out > oracle - 0.005


def test_edge_of_grid_warns_from_the_aligner():
    X, Y, _ = _stitching_task(n=60, d1=80)
    with pytest.warns(UserWarning, match="smallest of the candidate alphas"):
        LatentAligner("affine", alpha="auto", alphas=[1e4, 1e5]).fit(X, Y)


def test_downstream_scorer_equals_manual_cross_validation():
    X, Y, labels = _stitching_task(n=240, d1=30)
    decoder = LogisticRegression(max_iter=1000).fit(Y, labels)
    scorer = make_downstream_scorer(decoder)
    grid = {"transform_type": ["ortho", "affine"], "alpha": [0.0, 100.0]}
    cv = KFold(4, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(LatentAligner(), grid, scoring=scorer, cv=cv)
        search.fit(X, Y, labels=labels)
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        manual = []
        for train, test in cv.split(X):
            aligner = LatentAligner(**params).fit(X[train], Y[train])
            predicted = decoder.predict(aligner.transform(X[test]))
            manual.append(accuracy_score(labels[test], predicted))
        assert score == pytest.approx(np.mean(manual))
    best = max(search.cv_results_["mean_test_score"])
    assert search.best_score_ == best


def test_downstream_scorer_with_decision_function_metric():
    X, Y, labels = _stitching_task(n=200, d1=30)
    binary = (labels == 0).astype(int)
    decoder = LogisticRegression(max_iter=1000).fit(Y, binary)
    scorer = make_downstream_scorer(
        decoder, metric=roc_auc_score, response_method="decision_function"
    )
    aligner = LatentAligner("affine").fit(X, Y)
    expected = roc_auc_score(binary, decoder.decision_function(aligner.transform(X)))
    assert scorer(aligner, X, Y, labels=binary) == pytest.approx(expected)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        scorer(aligner, X, Y)


def test_score_accepts_sample_weight_and_routes_through_cross_val_score():
    X, Y, _ = _stitching_task(n=120, d1=20)
    aligner = LatentAligner("affine").fit(X[:80], Y[:80])
    weights = np.r_[np.ones(20), np.zeros(20)]
    assert aligner.score(X[80:], Y[80:], sample_weight=weights) == pytest.approx(
        aligner.score(X[80:100], Y[80:100])
    )
    with pytest.raises(ValueError, match="one weight per pair"):
        aligner.score(X[80:], Y[80:], sample_weight=np.ones(3))
    weights = np.random.default_rng(0).uniform(size=120)
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = LatentAligner("affine").set_score_request(sample_weight=True)
        scores = cross_val_score(
            weighted, X, Y, cv=3, params={"sample_weight": weights}
        )
    expected = []
    for train, test in KFold(3).split(X):
        fitted = LatentAligner("affine").fit(X[train], Y[train])
        expected.append(fitted.score(X[test], Y[test], sample_weight=weights[test]))
    np.testing.assert_allclose(scores, expected)


def test_grid_search_default_scoring_still_mean_cosine():
    X, Y, _ = _stitching_task(n=150, d1=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search = GridSearchCV(
            LatentAligner(), {"alpha": [0.0, "auto"], "transform_type": ["affine"]}
        ).fit(X, Y)
    assert search.best_score_ > 0.5
