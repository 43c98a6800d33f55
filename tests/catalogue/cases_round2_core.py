"""Round two on the core estimators: the scikit-learn ecosystem (pipelines,
search, cloning, pickling, metadata routing) and sequences of calls (refits,
warm state after a refusal, output containers, round trips)."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
    ZeroShotTextSpaceClassifier,
    fit_alignment,
)
from skalign.evaluation import NaiveAligner
from tests.catalogue._harness import Behaves, Case, Raises, Warns

RNG = np.random.default_rng(23)
X = RNG.normal(size=(40, 5))
MAP = RNG.normal(size=(5, 3))
Y = X @ MAP + 0.01 * RNG.normal(size=(40, 3))
X_WIDE = RNG.normal(size=(40, 7))
Y_WIDE = RNG.normal(size=(40, 7))
#: transform of no rows is refused as sklearn does (pinned in cases_tensors)
ZERO_ROWS = r"0 sample.*minimum of 1.*Pass at least 1 row"
W = RNG.uniform(0.5, 2.0, size=40)
PROMPTS = {"cat": ["a cat"], "dog": ["a dog"]}
PROMPT_VECTORS = {
    "cat": np.array([[1.0, 0.0, 0.0]]),
    "dog": np.array([[0.0, 1.0, 0.0]]),
}


def _frame(array, prefix):
    return pd.DataFrame(array, columns=[f"{prefix}{i}" for i in range(array.shape[1])])


# --- cloning and pickling -------------------------------------------------


def _clone_fitted_is_unfitted():
    fitted = LatentAligner("affine").fit(X, Y)
    copy = clone(fitted)
    try:
        copy.transform(X)
    except NotFittedError:
        return True
    raise AssertionError("a clone of a fitted aligner transforms without a fit")


def _clone_with_tensor_alphas():
    aligner = LatentAligner("affine", alpha="auto", alphas=torch.tensor([0.1, 1.0]))
    copy = clone(aligner)
    np.testing.assert_allclose(
        copy.fit(X, Y).transform(X), aligner.fit(X, Y).transform(X), atol=1e-10
    )
    return True


def _clone_self_learning_with_fitted_base():
    base = LatentAligner("affine").fit(X_WIDE, Y_WIDE)
    aligner = SelfLearningAligner(base, n_iter=1)
    copy = clone(aligner)
    assert not hasattr(copy.aligner, "coef_") and not hasattr(
        copy.aligner, "n_features_in_"
    ), "the clone's base kept the fitted state"
    copy.fit(X, Y)
    return copy.transform(X).shape == (40, 3)


def _roundtrip(estimator, data=X):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(
        np.asarray(loaded.transform(data)), np.asarray(estimator.transform(data))
    )
    return True


def _pickle_latent():
    return _roundtrip(LatentAligner("affine").fit(X, Y))


def _pickle_latent_tensors():
    aligner = LatentAligner("ortho").fit(
        torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    )
    loaded = pickle.loads(pickle.dumps(aligner))
    batch = torch.tensor(X[:5], dtype=torch.float32)
    return torch.equal(loaded.transform(batch), aligner.transform(batch))


def _pickle_adapter():
    aligner = AdapterAligner("affine", max_iter=2, random_state=0).fit(X, Y)
    return _roundtrip(aligner)


def _pickle_kernel():
    return _roundtrip(AnchorKernelAligner(n_neighbors=3).fit(X, Y))


def _pickle_self_learning():
    pool_x = np.vstack([X, RNG.normal(size=(5, 5))])
    pool_y = np.vstack([Y, np.full((5, 3), np.nan)])
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=1).fit(pool_x, pool_y)
    return _roundtrip(aligner)


def _pickle_then_partial_fit():
    aligner = LatentAligner("affine").partial_fit(X[:20], Y[:20])
    loaded = pickle.loads(pickle.dumps(aligner))
    loaded.partial_fit(X[20:], Y[20:])
    reference = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(loaded.transform(X), reference.transform(X), atol=1e-8)
    return True


# --- scikit-learn meta-estimators ----------------------------------------


def _pipeline_with_regressor():
    pipeline = make_pipeline(LatentAligner("affine"), LinearRegression())
    target = X[:, 0]
    pipeline.fit(X, target)
    return pipeline.predict(X).shape == (40,)


def _pipeline_aligner_last_y_target():
    pipeline = make_pipeline(LatentAligner("linear"))
    pipeline.fit(X, Y)
    reference = LatentAligner("linear").fit(X, Y)
    np.testing.assert_allclose(pipeline.transform(X), reference.transform(X))
    return True


def _pipeline_routes_weights():
    with sklearn.config_context(enable_metadata_routing=True):
        aligner = LatentAligner("affine").set_fit_request(sample_weight=True)
        pipeline = make_pipeline(aligner)
        pipeline.fit(X, Y, sample_weight=W)
    reference = LatentAligner("affine").fit(X, Y, sample_weight=W)
    np.testing.assert_allclose(
        pipeline.transform(X), reference.transform(X), atol=1e-10
    )
    return True


def _grid_search_alpha():
    search = GridSearchCV(
        LatentAligner("affine"), {"alpha": [0.0, 1.0]}, cv=KFold(3)
    ).fit(X, Y)
    return search.best_params_ == {"alpha": 0.0} and np.isfinite(search.best_score_)


def _grid_search_weights_routed():
    with sklearn.config_context(enable_metadata_routing=True):
        aligner = (
            LatentAligner("affine")
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True)
        )
        search = GridSearchCV(aligner, {"alpha": [0.0, 1.0]}, cv=KFold(3))
        search.fit(X, Y, sample_weight=W)
    return np.isfinite(search.best_score_)


def _cross_val_score_aligner():
    scores = cross_val_score(LatentAligner("affine"), X, Y, cv=KFold(4))
    return scores.shape == (4,) and (scores > 0.9).all()


def _cross_val_score_kernel():
    scores = cross_val_score(AnchorKernelAligner(n_neighbors=3), X, Y, cv=KFold(4))
    return scores.shape == (4,) and np.isfinite(scores).all()


def _column_transformer():
    frame = pd.concat([_frame(X, "x"), pd.DataFrame({"note": ["a"] * 40})], axis=1)
    transformer = ColumnTransformer(
        [("align", LatentAligner("affine"), [f"x{i}" for i in range(5)])]
    )
    return transformer.fit(frame, Y)


def _transformed_target_regressor():
    model = TransformedTargetRegressor(
        regressor=LinearRegression(), transformer=LatentAligner("ortho")
    )
    return model.fit(X, X[:, 0])


def _grid_search_self_learning():
    search = GridSearchCV(
        SelfLearningAligner(LatentAligner("affine")),
        {"n_iter": [0, 1]},
        cv=KFold(3),
    ).fit(X, Y)
    return np.isfinite(search.best_score_)


# --- refits and sequences -------------------------------------------------


def _refit_other_width():
    aligner = LatentAligner("affine").fit(_frame(X, "x"), Y)
    aligner.fit(X_WIDE, Y_WIDE)
    assert not hasattr(aligner, "feature_names_in_"), "feature_names_in_ kept"
    assert aligner.n_features_in_ == 7
    return aligner.transform(X_WIDE).shape == (40, 7)


def _refit_kernel_other_width():
    aligner = AnchorKernelAligner(n_neighbors=3).fit(_frame(X, "x"), Y)
    aligner.fit(X_WIDE, Y_WIDE)
    assert not hasattr(aligner, "feature_names_in_"), "feature_names_in_ kept"
    return aligner.transform(X_WIDE).shape == (40, 7)


def _refit_adapter_other_width():
    aligner = AdapterAligner("affine", max_iter=2, random_state=0)
    aligner.fit(_frame(X, "x"), Y)
    aligner.fit(X_WIDE, Y_WIDE)
    assert not hasattr(aligner, "feature_names_in_"), "feature_names_in_ kept"
    return aligner.transform(X_WIDE).shape == (40, 7)


def _refit_self_learning_other_width():
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=1)
    aligner.fit(_frame(X, "x"), Y)
    aligner.fit(X_WIDE, Y_WIDE)
    assert not hasattr(aligner, "feature_names_in_"), "feature_names_in_ kept"
    return aligner.transform(X_WIDE).shape == (40, 7)


def _refit_target_names_dropped():
    aligner = LatentAligner("affine").fit(X, _frame(Y, "t"))
    aligner.fit(X, Y)
    names = list(aligner.get_feature_names_out())
    return names == [f"latentaligner{i}" for i in range(3)]


def _unchanged_after_failed_fit(make, bad):
    aligner = make().fit(X, Y)
    before = np.asarray(aligner.transform(X)).copy()
    try:
        aligner.fit(*bad)
    except (ValueError, TypeError):
        np.testing.assert_array_equal(np.asarray(aligner.transform(X)), before)
        assert aligner.n_features_in_ == 5
        raise
    return aligner


def _frame_then_array():
    aligner = LatentAligner("affine").fit(_frame(X, "x"), Y)
    return aligner.transform(X)


def _array_then_frame():
    aligner = LatentAligner("affine").fit(X, Y)
    return aligner.transform(_frame(X, "x"))


def _set_output_pandas_after_fit():
    aligner = LatentAligner("affine").fit(X, Y)
    aligner.set_output(transform="pandas")
    out = aligner.transform(X)
    assert isinstance(out, pd.DataFrame), type(out)
    assert list(out.columns) == list(aligner.get_feature_names_out())
    return out.shape == (40, 3)


def _set_output_pandas_inverse():
    aligner = LatentAligner("ortho").fit(X, Y).set_output(transform="pandas")
    back = aligner.inverse_transform(aligner.transform(X))
    return np.asarray(back).shape == (40, 5)


def _partial_fit_then_fit_then_partial():
    aligner = LatentAligner("affine").partial_fit(X[:10], Y[:10])
    aligner.fit(X[10:30], Y[10:30])
    aligner.partial_fit(X[30:], Y[30:])
    reference = LatentAligner("affine").fit(X[10:], Y[10:])
    assert aligner.n_samples_seen_ == 30, aligner.n_samples_seen_
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-8)
    return True


def _partial_fit_other_width_after_fit():
    aligner = LatentAligner("affine").fit(X, Y)
    return aligner.partial_fit(X_WIDE[:5], Y[:5])


def _names_out_wrong_length():
    return (
        LatentAligner("affine").fit(_frame(X, "x"), Y).get_feature_names_out(["a", "b"])
    )


def _names_out_wrong_names():
    return (
        LatentAligner("affine")
        .fit(_frame(X, "x"), Y)
        .get_feature_names_out([f"z{i}" for i in range(5)])
    )


def _score_weights_wrong_length():
    return LatentAligner("affine").fit(X, Y).score(X, Y, sample_weight=W[:10])


def _kernel_score_weights_wrong_length():
    return AnchorKernelAligner(3).fit(X, Y).score(X, Y, sample_weight=W[:10])


def _inverse_roundtrip(transform_type, source, target):
    aligner = LatentAligner(transform_type).fit(source, target)
    back = aligner.inverse_transform(aligner.transform(source))
    return back


def _ortho_pad_down():
    """d1 > d2: ortho maps 5 -> 3; inverse gets back the part of X in the span."""
    source = X
    aligner = LatentAligner("ortho").fit(source, Y)
    back = aligner.inverse_transform(aligner.transform(source))
    assert back.shape == source.shape, back.shape
    again = aligner.transform(back)
    np.testing.assert_allclose(again, aligner.transform(source), atol=1e-8)
    return True


def _ortho_pad_up():
    """d1 < d2: ortho 3 -> 5 is injective, so the round trip is exact."""
    source = Y
    aligner = LatentAligner("ortho").fit(source, X)
    back = aligner.inverse_transform(aligner.transform(source))
    np.testing.assert_allclose(back, source, atol=1e-8)
    return True


def _affine_pad_up():
    source = Y
    target = np.hstack([Y @ RNG.normal(size=(3, 3)), RNG.normal(size=(40, 2))])
    aligner = LatentAligner("affine").fit(source, target)
    back = aligner.inverse_transform(aligner.transform(source))
    np.testing.assert_allclose(back, source, atol=1e-6)
    return True


def _linear_pad_down_inverse():
    aligner = LatentAligner("linear").fit(X, Y)
    return aligner.inverse_transform(aligner.transform(X))


def _transform_zero_rows(estimator):
    def run(tmp_path):
        fitted = estimator().fit(X, Y)
        return fitted.transform(np.empty((0, 5)))

    return run


def _inverse_zero_rows():
    aligner = LatentAligner("ortho").fit(X, Y)
    return aligner.inverse_transform(np.empty((0, 3)))


def _score_zero_rows():
    return LatentAligner("affine").fit(X, Y).score(np.empty((0, 5)), np.empty((0, 3)))


def _fit_alignment_zero_rows():
    return fit_alignment(np.empty((0, 5)), np.empty((0, 3)), "affine")


def _fit_transform_equals_fit_then_transform():
    a = LatentAligner("affine").fit_transform(X, Y)
    b = LatentAligner("affine").fit(X, Y).transform(X)
    np.testing.assert_allclose(a, b, atol=1e-12)
    return True


def _naive_refit_other_width():
    aligner = NaiveAligner().fit(_frame(X, "x"), Y)
    aligner.fit(X_WIDE, Y_WIDE)
    assert not hasattr(aligner, "feature_names_in_"), "feature_names_in_ kept"
    return aligner.transform(X_WIDE).shape == (40, 7)


# --- self-learning pools ---------------------------------------------------


def _pool(n_pairs=10, unpaired_x=None, unpaired_y=None):
    xs = [X[:n_pairs]]
    ys = [Y[:n_pairs]]
    if unpaired_x is not None:
        xs.append(unpaired_x)
        ys.append(np.full((len(unpaired_x), 3), np.nan))
    if unpaired_y is not None:
        xs.append(np.full((len(unpaired_y), 5), np.nan))
        ys.append(unpaired_y)
    return np.vstack(xs), np.vstack(ys)


def _identical_unpaired():
    pool_x, pool_y = _pool(
        10, unpaired_x=np.tile(X[20], (6, 1)), unpaired_y=np.tile(Y[20], (6, 1))
    )
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=3).fit(pool_x, pool_y)
    n_matches = len(getattr(aligner, "matches_", []))
    assert n_matches <= 1, f"{n_matches} copies of one row matched"
    return True


def _more_targets_than_sources():
    pool_x, pool_y = _pool(10, unpaired_x=X[10:13], unpaired_y=Y[10:30])
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=3).fit(pool_x, pool_y)
    return aligner.transform(X).shape == (40, 3)


def _more_sources_than_targets():
    pool_x, pool_y = _pool(10, unpaired_x=X[10:30], unpaired_y=Y[10:13])
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=3).fit(pool_x, pool_y)
    return aligner.transform(X).shape == (40, 3)


def _n_iter_zero():
    """Refused: n_iter >= 1 is pinned by tests/test_bad_inputs.py."""
    pool_x, pool_y = _pool(10, unpaired_x=X[10:30], unpaired_y=Y[10:30])
    return SelfLearningAligner(LatentAligner("affine"), n_iter=0).fit(pool_x, pool_y)


def _one_unpaired_each(matching):
    def run(tmp_path):
        pool_x, pool_y = _pool(10, unpaired_x=X[10:11], unpaired_y=Y[10:11])
        aligner = SelfLearningAligner(
            LatentAligner("affine"), n_iter=2, matching=matching
        ).fit(pool_x, pool_y)
        return aligner.transform(X).shape == (40, 3)

    return run


def _self_learning_n_iter_negative():
    return SelfLearningAligner(n_iter=-1).fit(*_pool(10, X[10:20], Y[10:20]))


def _self_learning_matching_typo():
    return SelfLearningAligner(matching="mutal").fit(*_pool(10, X[10:20], Y[10:20]))


def _self_learning_no_pairs():
    pool_x, pool_y = _pool(0, unpaired_x=X[:10], unpaired_y=Y[:10])
    return SelfLearningAligner(LatentAligner("affine")).fit(pool_x, pool_y)


# --- zero-shot ------------------------------------------------------------


def _zero_shot():
    return ZeroShotTextSpaceClassifier(PROMPT_VECTORS).fit(
        np.eye(3)[:2], ["cat", "dog"]
    )


def _proba_sums_to_one():
    model = _zero_shot()
    proba = model.predict_proba(RNG.normal(size=(7, 3)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    return list(model.classes_) == ["cat", "dog"]


def _classes_order_follows_proba():
    prompts = {"zebra": np.array([[1.0, 0, 0]]), "ant": np.array([[0, 1.0, 0]])}
    model = ZeroShotTextSpaceClassifier(prompts).fit(np.eye(3)[:2], ["zebra", "ant"])
    images = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    predicted = model.predict(images)
    columns = model.classes_[model.predict_proba(images).argmax(axis=1)]
    assert list(predicted) == ["zebra", "ant"], predicted
    return list(columns) == list(predicted)


def _decision_function_two_classes():
    model = _zero_shot()
    scores = model.decision_function(RNG.normal(size=(7, 3)))
    assert scores.shape in ((7,), (7, 2)), scores.shape
    predicted = model.predict(RNG.normal(size=(7, 3)))
    return scores.ndim >= 1 and len(predicted) == 7


def _zero_shot_zero_rows():
    out = _zero_shot().predict_proba(np.empty((0, 3)))
    return out.shape == (0, 2)


def _zero_shot_pickle():
    model = _zero_shot()
    loaded = pickle.loads(pickle.dumps(model))
    images = RNG.normal(size=(5, 3))
    np.testing.assert_array_equal(
        loaded.predict_proba(images), model.predict_proba(images)
    )
    return True


def _zero_shot_clone_with_tensor_prompts():
    prompts = {k: torch.tensor(v) for k, v in PROMPT_VECTORS.items()}
    model = ZeroShotTextSpaceClassifier(prompts)
    copy = clone(model).fit(np.eye(3)[:2], ["cat", "dog"])
    return list(copy.predict(np.eye(3)[:2])) == ["cat", "dog"]


def _zero_shot_score_weights_wrong_length():
    return _zero_shot().score(np.eye(3)[:2], ["cat", "dog"], sample_weight=[1.0])


def _zero_shot_set_output_pandas():
    model = _zero_shot()
    return model.predict_proba(pd.DataFrame(RNG.normal(size=(4, 3))))


CASES = [
    Case(
        "aligners",
        "clone of a fitted aligner is unfitted",
        lambda t: _clone_fitted_is_unfitted(),
        Behaves(bool),
    ),
    Case(
        "tensors",
        "clone with an alphas tensor gives the same fit",
        lambda t: _clone_with_tensor_alphas(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "clone of a self-learner with a fitted base",
        lambda t: _clone_self_learning_with_fitted_base(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "joblib round trip gives identical transforms",
        lambda t: _pickle_latent(),
        Behaves(bool),
    ),
    Case(
        "tensors",
        "pickle of an aligner fitted on tensors",
        lambda t: _pickle_latent_tensors(),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "joblib round trip of a fitted adapter",
        lambda t: _pickle_adapter(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "joblib round trip of a fitted kernel aligner",
        lambda t: _pickle_kernel(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "joblib round trip of a fitted self-learner",
        lambda t: _pickle_self_learning(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "pickled mid-stream then partial_fit goes on",
        lambda t: _pickle_then_partial_fit(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "aligner before a regressor in a pipeline (1-D target)",
        lambda t: _pipeline_with_regressor(),
        Raises(ValueError, r"y must be 2-D target embeddings.*got a 1-D.*reshape"),
    ),
    Case(
        "aligners",
        "aligner alone in a pipeline",
        lambda t: _pipeline_aligner_last_y_target(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "pipeline routes sample_weight to the aligner",
        lambda t: _pipeline_routes_weights(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "GridSearchCV over alpha",
        lambda t: _grid_search_alpha(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "GridSearchCV with routed weights",
        lambda t: _grid_search_weights_routed(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "cross_val_score of an aligner",
        lambda t: _cross_val_score_aligner(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "cross_val_score of a kernel aligner",
        lambda t: _cross_val_score_kernel(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "aligner inside a ColumnTransformer gets y",
        lambda t: _column_transformer(),
        Behaves(
            lambda r: np.allclose(
                r.transform(
                    pd.concat(
                        [_frame(X, "x"), pd.DataFrame({"note": ["a"] * 40})], axis=1
                    )
                ),
                LatentAligner("affine").fit(X, Y).transform(X),
                atol=1e-10,
            )
        ),
    ),
    Case(
        "aligners",
        "aligner as TransformedTargetRegressor's transformer",
        lambda t: _transformed_target_regressor(),
        Raises(
            (ValueError, TypeError), r"(y|target).*(anchor|pair|fit\(X, y\)|paired)"
        ),
    ),
    Case(
        "self-learning",
        "GridSearchCV over n_iter",
        lambda t: _grid_search_self_learning(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "refit on another width forgets the first fit",
        lambda t: _refit_other_width(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "refit on another width forgets the first fit",
        lambda t: _refit_kernel_other_width(),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "refit on another width forgets the first fit",
        lambda t: _refit_adapter_other_width(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "refit on another width forgets the first fit",
        lambda t: _refit_self_learning_other_width(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "refit on an array forgets the target DataFrame's names",
        lambda t: _refit_target_names_dropped(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "failed refit with NaN leaves the fit unchanged",
        lambda t: _unchanged_after_failed_fit(
            lambda: LatentAligner("affine"), (np.full((40, 5), np.nan), Y)
        ),
        Raises(ValueError, r"NaN|infinit|finite"),
    ),
    Case(
        "kernel",
        "failed refit with rows differing leaves the fit unchanged",
        lambda t: _unchanged_after_failed_fit(
            lambda: AnchorKernelAligner(3), (X, Y[:10])
        ),
        Raises(ValueError, r"(rows|samples).*(40|10)"),
    ),
    Case(
        "adapter",
        "failed refit with a wrong base leaves the fit unchanged",
        lambda t: _unchanged_after_failed_fit(
            lambda: AdapterAligner("affine", max_iter=1, random_state=0), (X[:, :0], Y)
        ),
        Raises(ValueError, r"(feature|column).*(0|zero)"),
    ),
    Case(
        "aligners",
        "fit on a DataFrame, transform an array",
        lambda t: _frame_then_array(),
        Warns(UserWarning, r"feature names", lambda r: r.shape == (40, 3)),
    ),
    Case(
        "aligners",
        "fit on an array, transform a DataFrame",
        lambda t: _array_then_frame(),
        Warns(UserWarning, r"feature names", lambda r: np.asarray(r).shape == (40, 3)),
    ),
    Case(
        "aligners",
        "set_output pandas after fit",
        lambda t: _set_output_pandas_after_fit(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "set_output pandas then inverse_transform a DataFrame",
        lambda t: _set_output_pandas_inverse(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "partial_fit, fit, partial_fit restarts at fit",
        lambda t: _partial_fit_then_fit_then_partial(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "partial_fit of another width after fit",
        lambda t: _partial_fit_other_width_after_fit(),
        Raises(ValueError, r"7 features.*expecting 5 features.*same source encoder"),
    ),
    Case(
        "aligners",
        "get_feature_names_out with input_features of the wrong length",
        lambda t: _names_out_wrong_length(),
        Raises(ValueError, r"input_features"),
    ),
    Case(
        "aligners",
        "get_feature_names_out with other names",
        lambda t: _names_out_wrong_names(),
        Raises(
            ValueError,
            r"input_features.*feature_names_in_|feature_names_in_.*input_features",
        ),
    ),
    Case(
        "weights",
        "score with sample_weight of the wrong length after fit",
        lambda t: _score_weights_wrong_length(),
        Raises(ValueError, r"sample_weight.*10.*40|sample_weight.*40.*10"),
    ),
    Case(
        "weights",
        "kernel score with sample_weight of the wrong length",
        lambda t: _kernel_score_weights_wrong_length(),
        Raises(ValueError, r"sample_weight.*10.*40|sample_weight.*40.*10"),
    ),
    Case(
        "aligners",
        "ortho 5→3 inverse round trip",
        lambda t: _ortho_pad_down(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "ortho 3→5 inverse round trip is exact",
        lambda t: _ortho_pad_up(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "affine 3→5 inverse round trip is exact",
        lambda t: _affine_pad_up(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "linear 5→3 has no inverse",
        lambda t: _linear_pad_down_inverse(),
        Behaves(
            lambda r: (
                r.shape == (40, 5)
                and np.allclose(
                    LatentAligner("linear").fit(X, Y).transform(r),
                    LatentAligner("linear").fit(X, Y).transform(X),
                    atol=1e-6,
                )
            )
        ),
    ),
    Case(
        "aligners",
        "transform of zero rows",
        _transform_zero_rows(lambda: LatentAligner("affine")),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "kernel",
        "transform of zero rows",
        _transform_zero_rows(lambda: AnchorKernelAligner(3)),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "adapter",
        "transform of zero rows",
        _transform_zero_rows(
            lambda: AdapterAligner("affine", max_iter=1, random_state=0)
        ),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "self-learning",
        "transform of zero rows",
        _transform_zero_rows(
            lambda: SelfLearningAligner(LatentAligner("affine"), n_iter=1)
        ),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "aligners",
        "NaiveAligner transform of zero rows",
        _transform_zero_rows(NaiveAligner),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "aligners",
        "inverse_transform of zero rows",
        lambda t: _inverse_zero_rows(),
        Raises(ValueError, ZERO_ROWS),
    ),
    Case(
        "aligners",
        "score on zero rows",
        lambda t: _score_zero_rows(),
        Raises(
            ValueError,
            r"(0|zero|no) (rows|samples|pairs).*(at least|need)"
            r"|(at least|need).*(sample|row|pair)",
        ),
    ),
    Case(
        "aligners",
        "fit_alignment on zero rows",
        lambda t: _fit_alignment_zero_rows(),
        Raises(ValueError, r"(0|zero|no) (rows|samples|pairs|anchor)|at least"),
    ),
    Case(
        "aligners",
        "fit_transform equals fit then transform",
        lambda t: _fit_transform_equals_fit_then_transform(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "NaiveAligner refit on another width forgets the first",
        lambda t: _naive_refit_other_width(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "every unpaired row identical",
        lambda t: _identical_unpaired(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "more unpaired targets than sources",
        lambda t: _more_targets_than_sources(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "more unpaired sources than targets",
        lambda t: _more_sources_than_targets(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "n_iter=0 is refused (pinned: n_iter >= 1)",
        lambda t: _n_iter_zero(),
        Raises(ValueError, r"n_iter.*range \[1"),
    ),
    Case(
        "self-learning",
        "mutual matching with one unpaired row each",
        _one_unpaired_each("mutual"),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "many-to-one matching with one unpaired row each",
        _one_unpaired_each("many-to-one"),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "n_iter=-1",
        lambda t: _self_learning_n_iter_negative(),
        Raises(ValueError, r"n_iter.*range \[1"),
    ),
    Case(
        "self-learning",
        "matching typo 'mutal'",
        lambda t: _self_learning_matching_typo(),
        Raises(ValueError, r"matching.*mutual"),
    ),
    Case(
        "self-learning",
        "a pool with no pair at all",
        lambda t: _self_learning_no_pairs(),
        Raises(ValueError, r"pair.*(at least|need)|(at least|need).*pair"),
    ),
    Case(
        "zero-shot",
        "predict_proba rows sum to 1 in classes_ order",
        lambda t: _proba_sums_to_one(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "classes_ columns agree with predict",
        lambda t: _classes_order_follows_proba(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "decision_function for two classes",
        lambda t: _decision_function_two_classes(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "predict_proba of zero rows",
        lambda t: _zero_shot_zero_rows(),
        Raises(ValueError, r"0 sample.*minimum of 1"),
    ),
    Case(
        "zero-shot", "pickle round trip", lambda t: _zero_shot_pickle(), Behaves(bool)
    ),
    Case(
        "zero-shot",
        "clone with tensor prompt embeddings",
        lambda t: _zero_shot_clone_with_tensor_prompts(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "score with sample_weight of the wrong length",
        lambda t: _zero_shot_score_weights_wrong_length(),
        Raises(
            ValueError,
            r"sample_weight.*shape \(2,\).*got shape \(1,\).*one weight per row",
        ),
    ),
    Case(
        "zero-shot",
        "score with labels of the wrong length",
        lambda t: _zero_shot().score(np.eye(3)[:2], ["cat"]),
        Raises(ValueError, r"y has 1 label.*X has 2.*one true label per row"),
    ),
    Case(
        "zero-shot",
        "predict_proba of a DataFrame",
        lambda t: _zero_shot_set_output_pandas(),
        Behaves(lambda r: np.allclose(np.asarray(r).sum(axis=1), 1.0)),
    ),
]


# --- parameters changed after fit, sequences of partial fits ---------------


def _params_changed_after_fit(**change):
    """set_params after fit changes nothing until the next fit."""

    def run(tmp_path):
        aligner = LatentAligner("affine").fit(X, Y)
        before = aligner.transform(X).copy()
        back = aligner.inverse_transform(before).copy()
        aligner.set_params(**change)
        np.testing.assert_array_equal(aligner.transform(X), before)
        np.testing.assert_array_equal(aligner.inverse_transform(before), back)
        return True

    return run


def _kernel_params_changed_after_fit():
    aligner = AnchorKernelAligner(3).fit(X, Y)
    before = aligner.transform(X).copy()
    aligner.set_params(n_neighbors=1, temperature=10.0)
    np.testing.assert_array_equal(aligner.transform(X), before)
    return True


def _self_learning_base_changed_after_fit():
    aligner = SelfLearningAligner(LatentAligner("affine"), n_iter=1).fit(X, Y)
    before = aligner.transform(X).copy()
    aligner.set_params(aligner=LatentAligner("linear"))
    np.testing.assert_array_equal(aligner.transform(X), before)
    return True


def _failed_first_partial_fit():
    aligner = LatentAligner("affine")
    try:
        aligner.partial_fit(X[:5], np.full((5, 3), np.nan))
    except ValueError:
        pass
    try:
        aligner.transform(X)
    except NotFittedError:
        pass
    else:
        raise AssertionError("a refused first batch left a fitted aligner")
    aligner.partial_fit(X, Y)
    reference = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-8)
    return True


def _partial_frame_then_array():
    aligner = LatentAligner("affine").partial_fit(_frame(X[:20], "x"), Y[:20])
    return aligner.partial_fit(X[20:], Y[20:])


def _partial_target_frame_then_array():
    aligner = LatentAligner("affine").fit(X, _frame(Y, "t"))
    aligner.partial_fit(X[:5], Y[:5])
    return list(aligner.get_feature_names_out()) == ["t0", "t1", "t2"]


def _weights_series_shuffled_index():
    weights = pd.Series(W, index=RNG.permutation(40))
    a = LatentAligner("affine").fit(X, Y, sample_weight=weights)
    b = LatentAligner("affine").fit(X, Y, sample_weight=W)
    np.testing.assert_allclose(a.transform(X), b.transform(X), atol=1e-12)
    return True


def _alpha_auto_then_fixed_forgets_grid():
    aligner = LatentAligner("affine", alpha="auto").fit(X, Y)
    aligner.set_params(alpha=0.0).fit(X, Y)
    return not hasattr(aligner, "alphas_") and not hasattr(aligner, "cv_errors_")


def _adam_then_closed_form_forgets_n_iter():
    aligner = LatentAligner("linear", solver="adam", max_iter=50, random_state=0)
    aligner.fit(X, Y)
    aligner.set_params(solver="closed-form").fit(X, Y)
    return not hasattr(aligner, "n_iter_")


def _kernel_refit_fewer_anchors():
    aligner = AnchorKernelAligner(5).fit(X, Y)
    aligner.fit(X[:3], Y[:3])
    reference = AnchorKernelAligner(3).fit(X[:3], Y[:3])
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X))
    return True


def _names_out_target_frame(make):
    def run(tmp_path):
        fitted = make().fit(_frame(X, "x"), _frame(Y, "t"))
        return list(fitted.get_feature_names_out()) == ["t0", "t1", "t2"]

    return run


def _set_output_pandas(make):
    def run(tmp_path):
        fitted = make().set_output(transform="pandas").fit(X, Y)
        out = fitted.transform(X)
        assert isinstance(out, pd.DataFrame), type(out)
        return list(out.columns) == list(fitted.get_feature_names_out())

    return run


def _pipeline_inverse():
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LatentAligner("ortho")).fit(Y, X)
    back = pipeline.inverse_transform(pipeline.transform(Y))
    np.testing.assert_allclose(back, Y, atol=1e-8)
    return True


def _naive_pickle():
    return _roundtrip(NaiveAligner().fit(X, Y))


def _target_encoder_pickle():
    from sklearn.decomposition import PCA

    aligner = LatentAligner("affine", target_encoder=PCA(3)).fit(X, X_WIDE)
    return _roundtrip(aligner)


# --- zero-shot sequences ---------------------------------------------------

THREE = {
    "a": np.array([[1.0, 0, 0]]),
    "b": np.array([[0, 1.0, 0]]),
    "c": np.array([[0, 0, 1.0]]),
}


def _log_proba_is_log_of_proba():
    model = ZeroShotTextSpaceClassifier(THREE, temperature=0.5).fit(np.eye(3))
    images = RNG.normal(size=(6, 3))
    np.testing.assert_allclose(
        np.exp(model.predict_log_proba(images)), model.predict_proba(images)
    )
    return True


def _two_class_decision_agrees_with_predict():
    model = _zero_shot()
    images = RNG.normal(size=(9, 3))
    scores = model.decision_function(images)
    return (model.classes_[(scores > 0).astype(int)] == model.predict(images)).all()


def _three_class_decision_shape():
    model = ZeroShotTextSpaceClassifier(THREE).fit(np.eye(3))
    return model.decision_function(np.eye(3)).shape == (3, 3)


def _zero_shot_refit_other_classes():
    model = ZeroShotTextSpaceClassifier(THREE).fit(np.eye(3))
    model.set_params(class_prompts={"x": THREE["a"], "y": THREE["b"]}).fit(np.eye(3))
    assert list(model.classes_) == ["x", "y"]
    return model.predict_proba(np.eye(3)).shape == (3, 2)


def _zero_shot_params_changed_after_fit():
    model = ZeroShotTextSpaceClassifier(THREE).fit(np.eye(3))
    before = model.predict_proba(np.eye(3)).copy()
    model.set_params(temperature=5.0, hubness="csls", class_prompts={"x": THREE["a"]})
    np.testing.assert_array_equal(model.predict_proba(np.eye(3)), before)
    return True


def _zero_shot_learned_refit_other_width():
    model = ZeroShotTextSpaceClassifier(THREE, aligner=LatentAligner("affine"))
    labels = ["a", "b", "c"] * 4
    model.fit(RNG.normal(size=(12, 4)), labels)
    model.fit(RNG.normal(size=(12, 6)), labels)
    assert model.n_features_in_ == 6
    return model.predict(RNG.normal(size=(2, 6))).shape == (2,)


def _zero_shot_clone_of_fitted_aligner():
    fitted = LatentAligner("affine").fit(
        RNG.normal(size=(30, 4)), RNG.normal(size=(30, 3))
    )
    model = clone(ZeroShotTextSpaceClassifier(THREE, aligner=fitted))
    return model.fit(RNG.normal(size=(5, 4)))


def _zero_shot_frozen_pickle():
    from sklearn.frozen import FrozenEstimator

    fitted = LatentAligner("affine").fit(
        RNG.normal(size=(30, 4)), RNG.normal(size=(30, 3))
    )
    model = ZeroShotTextSpaceClassifier(THREE, aligner=FrozenEstimator(fitted))
    model.fit(RNG.normal(size=(5, 4)))
    loaded = pickle.loads(pickle.dumps(model))
    images = RNG.normal(size=(4, 4))
    np.testing.assert_array_equal(
        loaded.predict_proba(images), model.predict_proba(images)
    )
    return True


def _zero_shot_grid_search_temperature():
    images = np.vstack([np.eye(3)] * 4) + 0.05 * RNG.normal(size=(12, 3))
    labels = ["a", "b", "c"] * 4
    search = GridSearchCV(
        ZeroShotTextSpaceClassifier(THREE), {"temperature": [0.01, 1.0]}, cv=KFold(3)
    ).fit(images, labels)
    return search.best_score_ == 1.0


def _zero_shot_csls_one_row():
    model = ZeroShotTextSpaceClassifier(THREE, hubness="csls").fit(np.eye(3))
    proba = model.predict_proba(np.eye(3)[:1])
    assert np.isclose(proba.sum(), 1.0)
    return model.predict(np.eye(3)[:1])[0] == "a"


def _zero_shot_tiny_temperature():
    model = ZeroShotTextSpaceClassifier(THREE, temperature=1e-8).fit(np.eye(3))
    proba = model.predict_proba(np.array([[1.0, 1e-9, 0.0]]))
    return np.isfinite(proba).all() and proba[0, 0] == 1.0


CASES += [
    Case(
        "aligners",
        "l2_normalize switched on after fit changes nothing",
        _params_changed_after_fit(l2_normalize=True),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "transform_type changed after fit changes nothing",
        _params_changed_after_fit(transform_type="linear"),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "center and std_scaling changed after fit change nothing",
        _params_changed_after_fit(center=False, std_scaling=False),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "n_neighbors and temperature changed after fit change nothing",
        lambda t: _kernel_params_changed_after_fit(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "base aligner replaced after fit changes nothing",
        lambda t: _self_learning_base_changed_after_fit(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "a refused first batch leaves the aligner unfitted",
        lambda t: _failed_first_partial_fit(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "partial_fit on a DataFrame then an array",
        lambda t: _partial_frame_then_array(),
        Warns(
            UserWarning,
            r"does not have valid feature names.*fitted with feature names",
            lambda r: r.n_samples_seen_ == 40,
        ),
    ),
    Case(
        "streaming",
        "fit on a target DataFrame then partial_fit a target array",
        lambda t: _partial_target_frame_then_array(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "weights as a Series with a shuffled index are positional",
        lambda t: _weights_series_shuffled_index(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "alpha='auto' then a fixed alpha forgets the grid",
        lambda t: _alpha_auto_then_fixed_forgets_grid(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "adam then closed form forgets n_iter_",
        lambda t: _adam_then_closed_form_forgets_n_iter(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "refit on fewer anchors than n_neighbors",
        lambda t: _kernel_refit_fewer_anchors(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "target DataFrame names the output columns",
        _names_out_target_frame(lambda: AnchorKernelAligner(3)),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "target DataFrame names the output columns",
        _names_out_target_frame(
            lambda: AdapterAligner("affine", max_iter=1, random_state=0)
        ),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "target DataFrame names the output columns",
        _names_out_target_frame(
            lambda: SelfLearningAligner(LatentAligner("affine"), n_iter=1)
        ),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "set_output pandas",
        _set_output_pandas(lambda: AnchorKernelAligner(3)),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "set_output pandas",
        _set_output_pandas(lambda: AdapterAligner("ortho", max_iter=1, random_state=0)),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "set_output pandas",
        _set_output_pandas(
            lambda: SelfLearningAligner(LatentAligner("affine"), n_iter=1)
        ),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "inverse_transform through a scaler pipeline",
        lambda t: _pipeline_inverse(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "NaiveAligner joblib round trip",
        lambda t: _naive_pickle(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "aligner with a target_encoder survives pickling",
        lambda t: _target_encoder_pickle(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "predict_log_proba is the log of predict_proba",
        lambda t: _log_proba_is_log_of_proba(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "two-class decision_function agrees with predict",
        lambda t: _two_class_decision_agrees_with_predict(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "three-class decision_function has a column per class",
        lambda t: _three_class_decision_shape(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "refit with other classes replaces classes_",
        lambda t: _zero_shot_refit_other_classes(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "parameters changed after fit change nothing",
        lambda t: _zero_shot_params_changed_after_fit(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "learned aligner refit on another width",
        lambda t: _zero_shot_learned_refit_other_width(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "clone drops a plain fitted aligner's fit",
        lambda t: _zero_shot_clone_of_fitted_aligner(),
        Raises(
            NotFittedError,
            r"needs a fitted aligner.*FrozenEstimator"
            r"|needs a fitted aligner.*(Fit it|pass labels)",
        ),
    ),
    Case(
        "zero-shot",
        "a frozen aligner survives pickling",
        lambda t: _zero_shot_frozen_pickle(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "GridSearchCV over temperature",
        lambda t: _zero_shot_grid_search_temperature(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "CSLS on a single input",
        lambda t: _zero_shot_csls_one_row(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "temperature 1e-8 gives finite probabilities",
        lambda t: _zero_shot_tiny_temperature(),
        Behaves(bool),
    ),
]


# --- third batch: self-learning options, adapter and kernel edges ----------

POOL_X, POOL_Y = _pool(10, unpaired_x=X[10:30], unpaired_y=Y[10:30])


def _huge_margin_keeps_no_match():
    aligner = SelfLearningAligner(LatentAligner("affine"), margin=1e9, n_folds=None)
    aligner.fit(POOL_X, POOL_Y)
    reference = LatentAligner("affine").fit(X[:10], Y[:10])
    assert aligner.n_matches_ == 0, aligner.n_matches_
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-8)
    return True


def _unguarded_matches_are_right():
    aligner = SelfLearningAligner(LatentAligner("affine"), n_folds=None)
    aligner.fit(POOL_X, POOL_Y)
    matches = np.asarray(aligner.matches_)
    # unpaired source row 10 + i was made from unpaired target row 30 + i:
    # every match found (mutual CSLS finds most) pairs them rightly
    return len(matches) >= 15 and (matches[:, 0] - 10 == matches[:, 1] - 30).all()


def _unpaired_weights_ignored():
    weights = np.r_[np.ones(10), np.full(40, 5.0)]
    a = SelfLearningAligner(LatentAligner("affine"), n_folds=None)
    a.fit(POOL_X, POOL_Y, sample_weight=weights)
    b = SelfLearningAligner(LatentAligner("affine"), n_folds=None).fit(POOL_X, POOL_Y)
    np.testing.assert_allclose(a.transform(X), b.transform(X), atol=1e-10)
    return True


def _self_learning_partial_fit():
    return SelfLearningAligner().partial_fit(POOL_X, POOL_Y)


def _nested_self_learner():
    inner = SelfLearningAligner(LatentAligner("affine"), n_iter=1)
    aligner = SelfLearningAligner(inner, n_iter=1).fit(POOL_X, POOL_Y)
    return aligner.transform(X).shape == (40, 3)


def _self_learning_kernel_base():
    aligner = SelfLearningAligner(AnchorKernelAligner(3), n_iter=1)
    return aligner.fit(POOL_X, POOL_Y).transform(X).shape == (40, 3)


def _max_match_ratio_zero():
    return SelfLearningAligner(max_match_ratio=0).fit(POOL_X, POOL_Y)


def _n_folds_one():
    return SelfLearningAligner(n_folds=1).fit(POOL_X, POOL_Y)


def _adapter_reproducible():
    make = lambda: AdapterAligner("affine", max_iter=3, random_state=1)  # noqa: E731
    return np.array_equal(make().fit(X, Y).transform(X), make().fit(X, Y).transform(X))


def _adapter_max_iter_zero():
    return AdapterAligner("affine", max_iter=0).fit(X, Y)


def _adapter_three_anchors():
    return AdapterAligner("affine", max_iter=2, random_state=0).fit(X[:3], Y[:3])


def _kernel_zero_weight_nearest():
    weights = np.r_[0.0, np.ones(39)]
    aligner = AnchorKernelAligner(1).fit(X, Y, sample_weight=weights)
    nearest = 1 + np.argmin(np.linalg.norm(X[1:] - X[0], axis=1))
    np.testing.assert_allclose(aligner.transform(X[:1])[0], Y[nearest])
    return True


def _latent_generator_seed():
    return LatentAligner(
        "linear", solver="adam", max_iter=5, random_state=np.random.default_rng(0)
    ).fit(X, Y)


CASES += [
    Case(
        "self-learning",
        "margin 1e9 keeps no match: the pairs-only map",
        lambda t: _huge_margin_keeps_no_match(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "unguarded matches on a noiseless pool are all right",
        lambda t: _unguarded_matches_are_right(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "weights of unpaired rows are ignored, as documented",
        lambda t: _unpaired_weights_ignored(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "partial_fit is not offered",
        lambda t: _self_learning_partial_fit(),
        Raises(AttributeError, r"partial_fit"),
    ),
    Case(
        "self-learning",
        "a self-learner as the base of a self-learner",
        lambda t: _nested_self_learner(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "a kernel aligner as the base",
        lambda t: _self_learning_kernel_base(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "max_match_ratio 0",
        lambda t: _max_match_ratio_zero(),
        Raises(ValueError, r"max_match_ratio.*range \(0\.0, inf\)"),
    ),
    Case(
        "self-learning",
        "n_folds 1",
        lambda t: _n_folds_one(),
        Raises(ValueError, r"n_folds.*None or an int in the range \[2, inf\)"),
    ),
    Case(
        "adapter",
        "the same random_state gives the same fit",
        lambda t: _adapter_reproducible(),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "max_iter 0",
        lambda t: _adapter_max_iter_zero(),
        Raises(ValueError, r"max_iter.*range \[1, inf\)"),
    ),
    Case(
        "adapter",
        "three anchors",
        lambda t: _adapter_three_anchors(),
        Behaves(
            lambda r: (
                r.transform(X).shape == (40, 3) and np.isfinite(r.transform(X)).all()
            )
        ),
    ),
    Case(
        "kernel",
        "a zero-weight anchor is never the nearest",
        lambda t: _kernel_zero_weight_nearest(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "adam seeded with a numpy Generator",
        lambda t: _latent_generator_seed(),
        Raises(ValueError, r"random_state.*int.*RandomState.*None"),
    ),
]
