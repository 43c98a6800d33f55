"""ZeroShotTextSpaceClassifier: prompt ensembles, aligners, sklearn API, errors."""

import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_decision_proba_consistency,
    parametrize_with_checks,
)

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from tests._expected_failures import expected_failed_checks
from tests._toy_encoders import LookupTextEncoder

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]


def _unit(rows):
    rows = np.asarray(rows, dtype=float)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def _text_space(seed=0, n_classes=3, n_prompts=2, dim=6):
    """Precomputed prompt embeddings and labelled inputs already in that space."""
    rng = np.random.default_rng(seed)
    prompts = {c: rng.normal(size=(n_prompts, dim)) for c in range(n_classes)}
    centers = np.stack([_unit(p).mean(axis=0) for p in prompts.values()])
    y = rng.integers(0, n_classes, size=90)
    X = 3 * centers[y] + 0.2 * rng.normal(size=(90, dim))
    return prompts, X, y


def _image_space(seed=0, n_classes=3, dim=6, image_dim=9):
    """Prompts, and labelled "images" whose space is a hidden map of the text's."""
    prompts, X_text, y = _text_space(seed, n_classes, dim=dim)
    rng = np.random.default_rng(seed + 100)
    X_image = X_text @ rng.normal(size=(dim, image_dim)) + rng.normal(size=image_dim)
    return prompts, X_image, y


# --- prompt ensembles ---------------------------------------------------------


def test_prompt_averaging_matches_hand_computation():
    # prompts of very different norms: averaging raw embeddings would let the
    # long one dominate, averaging normalised ones does not
    table = {
        "cat 1": [10.0, 0.0, 0.0],
        "cat 2": [0.0, 1.0, 0.0],
        "dog 1": [0.0, 0.0, 2.0],
        "dog 2": [0.0, 3.0, 3.0],
        "dog 3": [-1.0, 0.0, 1.0],
    }
    clf = ZeroShotTextSpaceClassifier(
        {"dog": ["dog 1", "dog 2", "dog 3"], "cat": ["cat 1", "cat 2"]},
        text_encoder=LookupTextEncoder(table),
    ).fit(np.eye(3))
    s = 1 / np.sqrt(2)
    cat = np.array([1.0, 1.0, 0.0]) / 2  # mean of (1,0,0) and (0,1,0)
    dog = (np.array([0, 0, 1.0]) + np.array([0, s, s]) + np.array([-s, 0, s])) / 3
    expected = np.stack([cat / np.linalg.norm(cat), dog / np.linalg.norm(dog)])
    assert clf.classes_.tolist() == ["cat", "dog"]
    np.testing.assert_allclose(clf.class_embeddings_, expected, atol=1e-12)
    raw_cat = _unit(np.array([10.0, 1.0, 0.0]))
    assert not np.allclose(clf.class_embeddings_[0], raw_cat, atol=1e-2)


def test_string_prompt_is_one_prompt_and_text_encoder_is_cloned():
    table = {"a": [1.0, 0.0], "b": [0.0, 1.0]}
    encoder = LookupTextEncoder(table)
    single = ZeroShotTextSpaceClassifier({0: "a", 1: "b"}, text_encoder=encoder)
    listed = ZeroShotTextSpaceClassifier({0: ["a"], 1: ["b"]}, text_encoder=encoder)
    X = np.array([[2.0, 1.0], [0.1, 3.0]])
    np.testing.assert_array_equal(
        single.fit(X).class_embeddings_, listed.fit(X).class_embeddings_
    )
    assert not hasattr(encoder, "n_fits_")  # the user's encoder is untouched
    assert single.text_encoder_ is not encoder and single.text_encoder_.n_fits_ == 1


def test_text_encoder_and_precomputed_embeddings_agree():
    table = {"x": [1.0, 2.0, 0.0], "y": [0.0, 1.0, 1.0], "z": [3.0, 0.0, 1.0]}
    X = np.random.default_rng(0).normal(size=(5, 3))
    encoded = ZeroShotTextSpaceClassifier(
        {0: ["x", "y"], 1: ["z"]}, text_encoder=LookupTextEncoder(table)
    ).fit(X)
    precomputed = ZeroShotTextSpaceClassifier(
        {0: [table["x"], table["y"]], 1: table["z"]}
    ).fit(X)
    np.testing.assert_allclose(
        encoded.class_embeddings_, precomputed.class_embeddings_, atol=1e-12
    )
    np.testing.assert_array_equal(encoded.predict(X), precomputed.predict(X))


# --- the CLIP-style baseline (aligner=None) -------------------------------------


def test_baseline_scores_are_cosine_similarities():
    prompts, X, y = _text_space()
    clf = ZeroShotTextSpaceClassifier(prompts, temperature=0.05).fit(X)
    class_embeddings = np.stack(
        [_unit(_unit(p).mean(axis=0)) for p in prompts.values()]
    )
    cosine = _unit(X) @ class_embeddings.T
    np.testing.assert_allclose(clf.decision_function(X), cosine, atol=1e-12)
    np.testing.assert_allclose(
        clf.predict_proba(X), softmax(cosine / 0.05, axis=1), atol=1e-12
    )
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), atol=1e-12
    )
    np.testing.assert_array_equal(clf.predict(X), np.argmax(cosine, axis=1))
    assert accuracy_score(y, clf.predict(X)) > 0.95
    assert clf.aligner_ is None and clf.n_features_in_ == 6


def test_binary_decision_function_is_one_column_for_roc_auc():
    prompts, X, y = _text_space(n_classes=2)
    clf = ZeroShotTextSpaceClassifier(prompts).fit(X)
    similarities = _unit(X) @ clf.class_embeddings_.T
    decision = clf.decision_function(X)
    assert decision.shape == (90,)
    np.testing.assert_allclose(decision, similarities[:, 1] - similarities[:, 0])
    np.testing.assert_array_equal(clf.predict(X), (decision > 0).astype(int))
    assert roc_auc_score(y, decision) > 0.95
    assert roc_auc_score(y, clf.predict_proba(X)[:, 1]) == pytest.approx(
        roc_auc_score(y, decision)
    )


def test_binary_decision_and_proba_rank_consistently():
    rng = np.random.default_rng(0)
    prompts = {0: rng.normal(size=(2, 5)), 1: rng.normal(size=(3, 5))}
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("affine"))
    check_decision_proba_consistency("ZeroShotTextSpaceClassifier", clf)


def test_zero_input_row_has_zero_similarity_not_nan():
    prompts, X, _ = _text_space()
    clf = ZeroShotTextSpaceClassifier(prompts).fit(X)
    scores = clf.decision_function(np.zeros((1, 6)))
    np.testing.assert_array_equal(scores, np.zeros((1, 3)))
    np.testing.assert_allclose(clf.predict_proba(np.zeros((1, 6))), [[1 / 3] * 3])


# --- aligners -----------------------------------------------------------------


def test_aligner_learned_from_labels_pairs_anchors_with_class_embeddings():
    prompts, X, y = _image_space()
    aligner = LatentAligner("affine")
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=aligner).fit(X, y)
    reference = clone(aligner).fit(X, clf.class_embeddings_[y])
    np.testing.assert_allclose(clf.aligner_.coef_, reference.coef_, atol=1e-10)
    expected = _unit(reference.transform(X)) @ clf.class_embeddings_.T
    np.testing.assert_allclose(clf.decision_function(X), expected, atol=1e-10)
    assert clf.aligner_ is not aligner and not hasattr(aligner, "coef_")
    assert accuracy_score(y, clf.predict(X)) > 0.95


def test_prefitted_aligner_is_used_as_is_without_labels():
    prompts, X, y = _image_space()
    text_targets = ZeroShotTextSpaceClassifier(prompts).fit(np.eye(6)).class_embeddings_
    aligner = LatentAligner("ortho").fit(X, text_targets[y])
    coef = aligner.coef_.copy()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=aligner).fit(X[:5])
    assert clf.aligner_ is aligner
    np.testing.assert_array_equal(aligner.coef_, coef)
    expected = _unit(aligner.transform(X)) @ text_targets.T
    np.testing.assert_allclose(clf.decision_function(X), expected, atol=1e-10)


def test_frozen_aligner_survives_labels_clone_and_cross_validation():
    prompts, X, y = _image_space()
    # a deliberately poor aligner: re-estimating it from the labels would score ~1
    noise = np.random.default_rng(1).normal(size=(30, 6))
    fitted = LatentAligner("ortho").fit(X[:30], noise)
    frozen = FrozenEstimator(fitted)
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=frozen).fit(X, y)
    assert clf.aligner_ is frozen
    np.testing.assert_array_equal(clf.aligner_.coef_, fitted.coef_)
    cloned = clone(clf).fit(X, y)
    np.testing.assert_array_equal(cloned.decision_function(X), clf.decision_function(X))
    # cross-validation scores the zero-shot classifier, not a re-estimated aligner
    cv = StratifiedKFold(3)
    per_fold = [
        accuracy_score(y[test], clf.predict(X[test])) for _, test in cv.split(X, y)
    ]
    np.testing.assert_allclose(cross_val_score(clf, X, y, cv=cv), per_fold)
    assert np.mean(per_fold) < 0.8


def test_plain_fitted_aligner_with_labels_is_reestimated_on_a_clone():
    prompts, X, y = _image_space()
    noise = np.random.default_rng(2).normal(size=(40, 6))
    fitted = LatentAligner("affine").fit(X[:40], noise)
    coef = fitted.coef_.copy()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=fitted).fit(X, y)
    assert clf.aligner_ is not fitted
    np.testing.assert_array_equal(fitted.coef_, coef)  # the user's stays as it was
    assert accuracy_score(y, clf.predict(X)) > 0.95


def test_any_transformer_can_align():
    prompts, X_text, y = _text_space()
    X = np.c_[X_text, np.zeros((90, 3))]  # the text space zero-padded
    drop_padding = FrozenEstimator(FunctionTransformer(lambda Z: Z[:, :6]).fit(X))
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=drop_padding).fit(X)
    baseline = ZeroShotTextSpaceClassifier(prompts).fit(X_text)
    np.testing.assert_allclose(
        clf.decision_function(X), baseline.decision_function(X_text)
    )
    learned = make_pipeline(StandardScaler(), LatentAligner("affine"))
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=learned).fit(X, y)
    assert accuracy_score(y, clf.predict(X)) > 0.95


def test_classes_without_anchors_stay_predictable():
    prompts, X_text, y = _text_space()
    # labels only validate the baseline's fit: class 2 has no anchor at all
    keep = y != 2
    clf = ZeroShotTextSpaceClassifier(prompts).fit(X_text[keep], y[keep])
    assert clf.classes_.tolist() == [0, 1, 2]
    assert 2 in clf.predict(X_text[~keep])


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_float32_and_pickle(transform_type):
    prompts, X, y = _image_space()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner(transform_type))
    clf.fit(X.astype(np.float32), y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_allclose(
        clf.predict_proba(X.astype(np.float32)).sum(axis=1), 1.0, rtol=1e-6
    )


def test_grid_search_over_transform_type_with_roc_auc():
    prompts, X, y = _image_space(n_classes=2)
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner())
    search = GridSearchCV(
        clf, {"aligner__transform_type": TRANSFORMS}, scoring="roc_auc", cv=3
    ).fit(X, y)
    assert search.best_params_["aligner__transform_type"] in TRANSFORMS
    assert search.best_score_ > 0.95
    assert not hasattr(clf.aligner, "coef_")


def test_multiclass_training_accuracy_and_decision_agree():
    # the part of sklearn's check_classifiers_train that the expected binary
    # failure in test_sklearn_compatible hides
    X, y = make_blobs(n_samples=300, centers=3, random_state=0, cluster_std=0.1)
    rng = np.random.default_rng(0)
    prompts = {c: rng.normal(size=(2, 6)) for c in range(3)}
    for transform_type in TRANSFORMS:
        clf = ZeroShotTextSpaceClassifier(
            prompts, aligner=LatentAligner(transform_type)
        )
        clf.fit(X, y)
        assert accuracy_score(y, clf.predict(X)) > 0.83, transform_type
        decision = clf.decision_function(X)
        assert decision.shape == (300, 3)
        np.testing.assert_array_equal(np.argmax(decision, axis=1), clf.predict(X))


# --- errors ---------------------------------------------------------------------


def test_class_without_prompts():
    X = np.eye(2)
    with pytest.raises(ValueError, match="Class 'b' has no prompts"):
        ZeroShotTextSpaceClassifier(
            {"a": ["x"], "b": []}, text_encoder=LookupTextEncoder({"x": [1, 0]})
        ).fit(X)
    with pytest.raises(ValueError, match="Class 1 has no prompts"):
        ZeroShotTextSpaceClassifier({0: np.ones((1, 2)), 1: np.empty((0, 2))}).fit(X)


def test_prompts_that_are_not_strings():
    encoder = LookupTextEncoder({"x": [1.0, 0.0]})
    with pytest.raises(TypeError, match=r"Prompts must be strings.*holds 3 \(int\)"):
        ZeroShotTextSpaceClassifier({0: ["x", 3], 1: ["x"]}, text_encoder=encoder).fit(
            np.eye(2)
        )
    with pytest.raises(TypeError, match="set text_encoder=None"):
        ZeroShotTextSpaceClassifier(
            {0: np.ones((2, 2)), 1: ["x"]}, text_encoder=encoder
        ).fit(np.eye(2))
    with pytest.raises(TypeError, match="holds text, but text_encoder is None"):
        ZeroShotTextSpaceClassifier({0: ["x"], 1: np.ones(2)}).fit(np.eye(2))


def test_aligner_target_dimension_differs_from_text_encoder():
    prompts, X, y = _image_space()  # 6-d prompts, 9-d images
    wrong = LatentAligner().fit(X, np.random.default_rng(0).normal(size=(90, 4)))
    with pytest.raises(ValueError, match="4-dimensional space but the prompt"):
        ZeroShotTextSpaceClassifier(prompts, aligner=wrong).fit(X)
    with pytest.raises(ValueError, match="pass an aligner"):
        ZeroShotTextSpaceClassifier(prompts).fit(X)
    with pytest.raises(ValueError, match="different widths"):
        ZeroShotTextSpaceClassifier({0: np.ones((1, 3)), 1: np.ones((2, 4))}).fit(X)


def test_predict_before_fit():
    prompts, X, _ = _text_space()
    clf = ZeroShotTextSpaceClassifier(prompts)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(clf, method)(X)


def test_unfitted_aligner_without_labels():
    prompts, X, _ = _image_space()
    with pytest.raises(NotFittedError, match="pass labels y"):
        ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner()).fit(X)


def test_labels_without_prompts_raise_before_state_changes():
    prompts, X, y = _image_space()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner()).fit(X, y)
    before = clf.decision_function(X)
    with pytest.raises(ValueError, match=r"labels without prompts: \[7\]"):
        clf.fit(X, np.where(y == 0, 7, y))
    np.testing.assert_array_equal(clf.decision_function(X), before)
    with pytest.raises(ValueError, match=r"labels without prompts: \['cat', 'dog'\]"):
        clf.fit(X[:2], ["cat", "dog"])


def test_learning_the_aligner_from_one_class_raises_before_state_changes():
    prompts, X, y = _image_space()
    clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner()).fit(X, y)
    before = clf.decision_function(X)
    one_class = np.full_like(y, y[0])
    with pytest.raises(ValueError, match=r"at least two classes in y, got one class"):
        clf.fit(X, one_class)
    np.testing.assert_array_equal(clf.decision_function(X), before)
    # A frozen aligner is not learned, so a single labelled class is fine.
    frozen = FrozenEstimator(clf.aligner_)
    refit = ZeroShotTextSpaceClassifier(prompts, aligner=frozen).fit(X, one_class)
    np.testing.assert_array_equal(refit.decision_function(X), before)


def test_other_bad_inputs():
    prompts, X, y = _image_space()
    with pytest.raises(ValueError, match="at least two classes"):
        ZeroShotTextSpaceClassifier({0: np.ones(3)}).fit(X)
    with pytest.raises(ValueError, match="all be strings or all numbers"):
        ZeroShotTextSpaceClassifier({0: np.ones(3), "a": np.ones(3)}).fit(X)
    with pytest.raises(ValueError, match="average to the zero vector"):
        ZeroShotTextSpaceClassifier({0: [[1.0, 0.0], [-1.0, 0.0]], 1: [0.0, 1.0]}).fit(
            np.eye(2)
        )
    with pytest.raises(ValueError, match="Unknown label type"):
        ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner()).fit(
            X, np.linspace(0, 1, 90)
        )
    encoded_target = LatentAligner(target_encoder=LookupTextEncoder({}))
    with pytest.raises(ValueError, match="target_encoder=None"):
        ZeroShotTextSpaceClassifier(prompts, aligner=encoded_target).fit(X, y)
    with pytest.raises(InvalidParameterError, match="temperature"):
        ZeroShotTextSpaceClassifier(prompts, temperature=0).fit(X)
    with pytest.raises(InvalidParameterError, match="class_prompts"):
        ZeroShotTextSpaceClassifier([["a"], ["b"]]).fit(X)
    with pytest.raises(ValueError, match="one row per text"):
        ZeroShotTextSpaceClassifier(
            {0: ["x"], 1: ["x"]}, text_encoder=_OneRowEncoder({"x": [1.0, 0.0]})
        ).fit(np.eye(2))


class _OneRowEncoder(LookupTextEncoder):
    def transform(self, X):
        return np.ones((1, 2))


# --- scikit-learn's estimator checks ---------------------------------------------


def _estimators_for_checks():
    rng = np.random.default_rng(0)
    prompts = {c: rng.normal(size=(2, 6)) for c in range(3)}
    table = {
        f"class {c} prompt {i}": rng.normal(size=5) for c in range(3) for i in (0, 1)
    }
    text_prompts = {c: [f"class {c} prompt {i}" for i in (0, 1)] for c in range(3)}
    return [
        ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("affine")),
        ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("ortho")),
        ZeroShotTextSpaceClassifier(
            text_prompts,
            text_encoder=LookupTextEncoder(table),
            aligner=LatentAligner("l-ortho", alpha="auto"),
            temperature=0.1,
        ),
    ]


@parametrize_with_checks(
    _estimators_for_checks(),
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_csls_scores_use_fit_time_class_penalties():
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(0)
    prompts = {c: rng.normal(size=(2, 6)) for c in "abc"}
    X_fit, X_new = rng.normal(size=(40, 6)), rng.normal(size=(5, 6))
    clf = ZeroShotTextSpaceClassifier(prompts, hubness="csls", hubness_neighbors=4)
    clf.fit(X_fit)
    C = clf.class_embeddings_
    penalty = np.sort(normalize(X_fit) @ C.T, axis=0)[-4:].mean(axis=0)
    np.testing.assert_allclose(clf.class_hubness_, penalty)
    cosine = normalize(X_new) @ C.T
    expected = 2 * cosine - cosine.mean(axis=1, keepdims=True) - penalty
    np.testing.assert_allclose(clf.decision_function(X_new), expected, atol=1e-12)
    # batch-independent: one row scores the same alone
    np.testing.assert_allclose(
        clf.decision_function(X_new[:1]), expected[:1], atol=1e-12
    )
