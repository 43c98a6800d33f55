"""Weighted anchors: sample_weight enters the anchor statistics, so integer
weights give exactly the fit on repeated rows (issue 26 item 4); where a fit
cannot equal repeated rows by construction (AdapterAligner's held-out split,
AnchorKernelAligner's n_neighbors, SelfLearningAligner's guard), what holds is
tested: zero weight removes the row, uniform weights change nothing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
    ZeroShotTextSpaceClassifier,
)
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


# --- SelfLearningAligner --------------------------------------------------------


def _self_learning_rows(seed=0, n_pairs=12, n_unpaired=120, d=4):
    """Noisy pairs (weighted 0..3) and unpaired rows of a rotated cloud."""
    from scipy.stats import ortho_group

    rng = np.random.default_rng(seed)
    source = rng.normal(size=(n_pairs + n_unpaired, d)) * np.arange(d, 0, -1)
    target = source @ ortho_group.rvs(d, random_state=seed)
    target[:n_pairs] += 0.3 * rng.normal(size=(n_pairs, d))
    gap = np.full((n_unpaired, d), np.nan)
    X = np.vstack([source[:n_pairs], source[n_pairs:], gap])
    Y = np.vstack([target[:n_pairs], gap, rng.permutation(target[n_pairs:])])
    weights = np.ones(len(X))
    weights[:n_pairs] = rng.integers(0, 4, size=n_pairs)
    weights[:3] = [3, 1, 2]
    weights[n_pairs:] = rng.uniform(0, 5, size=2 * n_unpaired)  # ignored
    return X, Y, weights.astype(float), n_pairs


def test_self_learning_integer_weights_equal_repeated_pairs_without_guard():
    """The pairs' weights reach every LatentAligner fit (matches weigh 1), so
    with the guard off integer weights give the fit on repeated pairs."""
    X, Y, weights, n_pairs = _self_learning_rows()
    counts = np.r_[weights[:n_pairs].astype(int), np.ones(len(X) - n_pairs, int)]
    X_rep, Y_rep = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    params = dict(n_folds=None, max_match_ratio=4.0)
    weighted = SelfLearningAligner(**params).fit(X, Y, sample_weight=weights)
    repeated = SelfLearningAligner(**params).fit(X_rep, Y_rep)
    assert weighted.n_matches_ > 0
    assert weighted.n_matches_per_round_ == repeated.n_matches_per_round_
    X_new = np.random.default_rng(1).normal(size=(5, X.shape[1]))
    np.testing.assert_allclose(
        weighted.transform(X_new), repeated.transform(X_new), atol=1e-8
    )
    unweighted = SelfLearningAligner(**params).fit(X, Y)
    assert not np.allclose(unweighted.transform(X_new), weighted.transform(X_new))


def test_self_learning_match_cap_counts_pair_weight():
    """At most max_match_ratio times the pairs' total weight matches: the cap
    repeated pairs would give."""
    X, Y, weights, n_pairs = _self_learning_rows()
    ratio = 0.5
    fitted = SelfLearningAligner(n_folds=None, max_match_ratio=ratio).fit(
        X, Y, sample_weight=weights
    )
    assert max(fitted.n_matches_per_round_) == int(ratio * weights[:n_pairs].sum())


def test_self_learning_zero_weight_removes_the_pair_guard_included():
    X, Y, weights, n_pairs = _self_learning_rows(seed=2)
    zero = np.flatnonzero(weights[:n_pairs] == 0)
    assert zero.size  # the draw has some
    kept = np.setdiff1d(np.arange(len(X)), zero)
    weighted = SelfLearningAligner().fit(X, Y, sample_weight=weights)
    removed = SelfLearningAligner().fit(X[kept], Y[kept], sample_weight=weights[kept])
    assert weighted.n_pairs_ == removed.n_pairs_ == n_pairs - zero.size
    assert weighted.cv_scores_ == removed.cv_scores_
    np.testing.assert_array_equal(weighted.transform(X[:5]), removed.transform(X[:5]))


def test_self_learning_unit_pair_weights_equal_unweighted_guard_included():
    """Pairs of weight 1 weigh as the matches do: the unweighted fit exactly
    (the weights of unpaired rows are ignored)."""
    X, Y, weights, n_pairs = _self_learning_rows(seed=3)
    weights[:n_pairs] = 1.0
    plain = SelfLearningAligner().fit(X, Y)
    ones = SelfLearningAligner().fit(X, Y, sample_weight=weights)
    assert ones.n_matches_per_round_ == plain.n_matches_per_round_
    assert ones.cv_scores_ == plain.cv_scores_
    np.testing.assert_array_equal(ones.transform(X[:5]), plain.transform(X[:5]))


def test_self_learning_refuses_weights_it_cannot_route():
    from sklearn.preprocessing import FunctionTransformer

    X, Y, weights, _ = _self_learning_rows()
    with pytest.raises(TypeError, match="FunctionTransformer.fit does not accept"):
        SelfLearningAligner(FunctionTransformer()).fit(X, Y, sample_weight=weights)
    only_one = np.zeros(len(X))
    only_one[0] = 1.0
    with pytest.raises(ValueError, match="positive on 1 paired rows"):
        SelfLearningAligner().fit(X, Y, sample_weight=only_one)


# --- AdapterAligner -----------------------------------------------------------


def _bent_anchors(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.c_[X[:, :2], X[:, 2:] + np.tanh(X[:, :2])]
    weights = rng.integers(0, 4, size=n).astype(float)
    weights[:2] = [3, 1]
    return X, Y, weights


def test_adapter_zero_weight_removes_the_pair():
    X, Y, weights = _bent_anchors()
    kept = weights > 0
    weighted = AdapterAligner(random_state=0).fit(X, Y, sample_weight=weights)
    removed = AdapterAligner(random_state=0).fit(
        X[kept], Y[kept], sample_weight=weights[kept]
    )
    assert weighted.best_iter_ > 0  # the blocks were used, not just the base map
    assert weighted.validation_scores_ == removed.validation_scores_
    np.testing.assert_array_equal(weighted.transform(X), removed.transform(X))


def test_adapter_uniform_weights_equal_unweighted():
    X, Y, _ = _bent_anchors()
    plain = AdapterAligner(random_state=0).fit(X, Y)
    uniform = AdapterAligner(random_state=0).fit(X, Y, sample_weight=np.full(120, 2.5))
    assert uniform.validation_scores_ == plain.validation_scores_
    np.testing.assert_array_equal(uniform.transform(X), plain.transform(X))


def test_adapter_weights_its_base_map_statistics_and_blocks():
    """base_, y_mean_ and y_scale_ are those of the repeated rows (to 1e-8);
    the blocks see the weights too (they differ from the unweighted ones)."""
    X, Y, weights = _bent_anchors()
    counts = weights.astype(int)
    X_rep, Y_rep = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    weighted = AdapterAligner(random_state=0).fit(X, Y, sample_weight=weights)
    repeated_base = LatentAligner("ortho").fit(X_rep, Y_rep)
    np.testing.assert_allclose(
        weighted.base_.transform(X), repeated_base.transform(X), atol=1e-8
    )
    np.testing.assert_allclose(weighted.y_mean_, Y_rep.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(weighted.y_scale_, Y_rep.std(axis=0), atol=1e-12)
    kept = weights > 0
    unweighted = AdapterAligner(random_state=0).fit(X[kept], Y[kept])
    assert weighted.validation_scores_ != unweighted.validation_scores_


def test_adapter_refuses_a_base_without_weights():
    from sklearn.preprocessing import FunctionTransformer

    X, Y, weights = _bent_anchors()
    with pytest.raises(TypeError, match="FunctionTransformer.fit does not accept"):
        AdapterAligner(FunctionTransformer()).fit(X, Y, sample_weight=weights)


# --- AnchorKernelAligner --------------------------------------------------------


@pytest.mark.parametrize("n_neighbors", [None, 200])
def test_kernel_integer_weights_equal_repeated_anchors_when_all_are_averaged(
    n_neighbors,
):
    X, Y, weights = _weighted_anchors(40, 5)
    X_rep, Y_rep = np.repeat(X, weights, axis=0), np.repeat(Y, weights, axis=0)
    X_new = np.vstack([np.random.default_rng(1).normal(size=(5, 5)), np.zeros(5)])
    aligner = AnchorKernelAligner(n_neighbors, temperature=0.3)
    weighted = aligner.fit(X, Y, sample_weight=weights).transform(X_new)
    repeated = clone(aligner).fit(X_rep, Y_rep).transform(X_new)
    np.testing.assert_allclose(weighted, repeated, atol=1e-10)  # zero row included


def test_kernel_with_few_neighbors_weighs_anchors_not_copies():
    """n_neighbors counts anchors: a weight-3 anchor takes one place, where 3
    copies would take three; zero weight still removes the anchor."""
    X, Y, weights = _weighted_anchors(40, 5)
    X_new = np.random.default_rng(1).normal(size=(5, 5))
    aligner = AnchorKernelAligner(3, temperature=0.3)
    weighted = clone(aligner).fit(X, Y, sample_weight=weights)
    kept = weights > 0
    removed = clone(aligner).fit(X[kept], Y[kept], sample_weight=weights[kept])
    np.testing.assert_array_equal(weighted.transform(X_new), removed.transform(X_new))
    # the hand computation: the 3 most similar kept anchors, softmax times weight
    unit = lambda rows: rows / np.linalg.norm(rows, axis=1, keepdims=True)  # noqa: E731
    similarities = unit(X_new) @ unit(X[kept]).T
    for row, sims in enumerate(similarities):
        top = np.argsort(-sims)[:3]
        mass = weights[kept][top] * np.exp(sims[top] / 0.3)
        expected = mass @ Y[kept][top] / mass.sum()
        np.testing.assert_allclose(weighted.transform(X_new)[row], expected, atol=1e-10)


def test_kernel_uniform_weights_equal_unweighted():
    X, Y, _ = _weighted_anchors(40, 5)
    X_new = np.random.default_rng(1).normal(size=(5, 5))
    plain = AnchorKernelAligner(4).fit(X, Y)
    uniform = AnchorKernelAligner(4).fit(X, Y, sample_weight=np.full(40, 0.3))
    np.testing.assert_array_equal(uniform.transform(X_new), plain.transform(X_new))
    np.testing.assert_array_equal(uniform.anchor_weights_, np.ones(40))


def test_kernel_weights_on_tensors():
    torch = pytest.importorskip("torch")
    X, Y, weights = _weighted_anchors(40, 5)
    aligner = AnchorKernelAligner(None, temperature=0.3)
    expected = clone(aligner).fit(X, Y, sample_weight=weights).transform(X)
    on_tensors = clone(aligner).fit(
        torch.from_numpy(X),
        torch.from_numpy(Y),
        sample_weight=torch.from_numpy(weights),
    )
    np.testing.assert_allclose(
        on_tensors.transform(torch.from_numpy(X)).numpy(), expected, atol=1e-10
    )


# --- every remaining estimator: bad weights, routing ------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        SelfLearningAligner(n_folds=None),
        AdapterAligner(max_iter=2, random_state=0),
        AnchorKernelAligner(),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(3), r"shape \(80,\), one weight per pair"),
        (-np.ones(80), "non-negative"),
        (np.zeros(80), "sums to zero"),
        (np.full(80, np.inf), "infinity"),
    ],
)
def test_bad_weights_are_refused_by_every_aligner(estimator, weights, message):
    X, Y, _ = _weighted_anchors(80, 6)
    fitted = clone(estimator).fit(X, Y)
    before = fitted.transform(X)
    with pytest.raises(ValueError, match=message):
        fitted.fit(X * 2, Y, sample_weight=weights)
    np.testing.assert_array_equal(fitted.transform(X), before)


@pytest.mark.parametrize(
    "estimator",
    [SelfLearningAligner(n_folds=None), AnchorKernelAligner(n_neighbors=None)],
    ids=lambda estimator: type(estimator).__name__,
)
def test_metadata_routing_reaches_the_other_aligners(estimator):
    X, Y, weights = _weighted_anchors(60, 5)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(estimator).set_fit_request(sample_weight=True)
        routed = routed.set_score_request(sample_weight=True)
        search = GridSearchCV(routed, {}, cv=3).fit(X, Y, sample_weight=weights)
    direct = clone(estimator).fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(
        search.best_estimator_.transform(X), direct.transform(X), atol=1e-12
    )


# --- ZeroShotTextSpaceClassifier ------------------------------------------------


def _labelled_images(seed=0):
    rng = np.random.default_rng(seed)
    prompts = {c: rng.normal(size=(2, 6)) for c in range(3)}
    y = rng.integers(0, 3, size=60)
    centers = np.stack([p.mean(axis=0) for p in prompts.values()])
    X = (3 * centers[y] + 0.5 * rng.normal(size=(60, 6))) @ rng.normal(size=(6, 8))
    weights = rng.integers(0, 4, size=60)
    weights[:2] = [3, 1]
    return prompts, X, y, weights


def test_zero_shot_routes_weights_to_the_aligner_it_fits():
    """fit(X, labels, sample_weight) equals the fit on repeated rows: the
    weights reach the aligner, the prompts do not depend on them."""
    prompts, X, y, weights = _labelled_images()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("affine"))
    weighted = clone(clf).fit(X, y, sample_weight=weights)
    repeated = clone(clf).fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    np.testing.assert_allclose(
        weighted.aligner_.coef_, repeated.aligner_.coef_, atol=1e-8
    )
    np.testing.assert_allclose(
        weighted.decision_function(X), repeated.decision_function(X), atol=1e-8
    )
    plain = clone(clf).fit(X, y)
    assert not np.allclose(plain.aligner_.coef_, weighted.aligner_.coef_)


def test_zero_shot_weights_without_a_learned_aligner_are_checked_only():
    prompts, X, y, weights = _labelled_images()
    texts = np.random.default_rng(5).normal(size=(60, 6))
    fitted = LatentAligner("affine").fit(X, texts)
    frozen = ZeroShotTextSpaceClassifier(prompts, aligner=FrozenEstimator(fitted))
    np.testing.assert_array_equal(
        clone(frozen).fit(X, y, sample_weight=weights).decision_function(X),
        clone(frozen).fit(X, y).decision_function(X),
    )
    with pytest.raises(ValueError, match="non-negative"):
        clone(frozen).fit(X, y, sample_weight=-weights)


def test_zero_shot_refuses_weights_its_aligner_cannot_take():
    from sklearn.preprocessing import FunctionTransformer

    prompts, X, y, weights = _labelled_images()
    clf = ZeroShotTextSpaceClassifier(
        prompts, aligner=FunctionTransformer(lambda rows: rows[:, :6])
    )
    with pytest.raises(TypeError, match="FunctionTransformer.fit does not accept"):
        clf.fit(X, y, sample_weight=weights)
    assert not hasattr(clf, "classes_")


def test_zero_shot_metadata_routing_reaches_the_aligner():
    prompts, X, y, weights = _labelled_images()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("affine"))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(clf).set_fit_request(sample_weight=True)
        routed = routed.set_score_request(sample_weight=True)
        search = GridSearchCV(routed, {"temperature": [0.01, 0.1]}, cv=3)
        search.fit(X, y, sample_weight=weights)
    direct = (
        clone(clf).set_params(**search.best_params_).fit(X, y, sample_weight=weights)
    )
    np.testing.assert_allclose(
        search.best_estimator_.aligner_.coef_, direct.aligner_.coef_, atol=1e-12
    )


@pytest.mark.parametrize("partial", [False, True], ids=["fit", "partial_fit"])
def test_dataframe_targets_keep_their_column_names(partial):
    pd = pytest.importorskip("pandas")
    X, Y, _ = _weighted_anchors(40, 4)
    columns = [f"text_{i}" for i in range(Y.shape[1])]
    target = pd.DataFrame(Y, columns=columns)
    aligner = LatentAligner("ortho")
    (aligner.partial_fit if partial else aligner.fit)(X, target)
    assert list(aligner.get_feature_names_out()) == columns
    out = aligner.set_output(transform="pandas").transform(X)
    assert list(out.columns) == columns
    # an array target keeps the class-name prefix
    plain = LatentAligner("ortho").fit(X, Y)
    assert list(plain.get_feature_names_out()) == [
        f"latentaligner{i}" for i in range(Y.shape[1])
    ]
    # a refit on an array target drops the previous column names
    assert list(aligner.fit(X, Y).get_feature_names_out())[0] == "latentaligner0"
