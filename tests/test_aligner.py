"""LatentAligner: the paper's pipeline, dtypes, tensors, sklearn integration, errors."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import ortho_group
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skalign import LatentAligner, fit_alignment

torch = pytest.importorskip("torch")

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]


def _anchors(n=120, d1=10, d2=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d1)) * rng.uniform(0.5, 4, size=d1) + rng.normal(size=d1)
    Y = X @ rng.normal(size=(d1, d2)) + 0.2 * rng.normal(size=(n, d2)) + 3.0
    return X, Y


def _paper_reference(X, Y, X_new, transform_type):
    """Standardise with sklearn, solve with fit_alignment, de-normalise by hand."""
    x_scaler, y_scaler = StandardScaler().fit(X), StandardScaler().fit(Y)
    result = fit_alignment(x_scaler.transform(X), y_scaler.transform(Y), transform_type)
    translated = x_scaler.transform(X_new) @ result.coef.T + result.intercept
    return y_scaler.inverse_transform(translated)


@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho"])
def test_rotation_recovered_end_to_end(transform_type):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 12)) + 5.0
    R = ortho_group.rvs(12, random_state=2)
    aligner = LatentAligner(transform_type, std_scaling=False).fit(X[:200], X[:200] @ R)
    np.testing.assert_allclose(aligner.transform(X[200:]), X[200:] @ R, atol=1e-8)
    np.testing.assert_allclose(aligner.coef_, R.T, atol=1e-8)


def test_affine_map_recovered_with_default_preprocessing():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 9)) * rng.uniform(0.1, 10, size=9) - 2.0
    W, b = rng.normal(size=(9, 5)), rng.normal(size=5)
    aligner = LatentAligner("affine").fit(X[:200], X[:200] @ W + b)
    np.testing.assert_allclose(aligner.transform(X[200:]), X[200:] @ W + b, atol=1e-8)


def test_linear_map_recovered_without_centering():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 9)) + 1.0
    W = rng.normal(size=(9, 13))
    aligner = LatentAligner("linear", center=False, std_scaling=False)
    aligner.fit(X[:200], X[:200] @ W)
    np.testing.assert_allclose(aligner.transform(X[200:]), X[200:] @ W, atol=1e-8)
    np.testing.assert_array_equal(aligner.intercept_, np.zeros(13))


@pytest.mark.parametrize("d1, d2", [(10, 7), (8, 8), (6, 11)])
@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_matches_paper_pipeline_in_all_dimension_cases(transform_type, d1, d2):
    X, Y = _anchors(d1=d1, d2=d2)
    X_new = _anchors(n=30, d1=d1, d2=d2, seed=9)[0]
    aligner = LatentAligner(transform_type).fit(X, Y)
    translated = aligner.transform(X_new)
    assert translated.shape == (30, d2)
    np.testing.assert_allclose(
        translated, _paper_reference(X, Y, X_new, transform_type), atol=1e-9
    )


@pytest.mark.parametrize("transform_type", TRANSFORMS)
@pytest.mark.parametrize("alpha", [0.0, "auto"])
def test_fewer_anchors_than_features(transform_type, alpha):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(40, 96)), rng.normal(size=(40, 64))
    aligner = LatentAligner(transform_type, alpha=alpha).fit(X, Y)
    translated = aligner.transform(rng.normal(size=(5, 96)))
    assert translated.shape == (5, 64)
    assert np.isfinite(translated).all()
    if transform_type in ("affine", "linear") and alpha == 0.0:
        np.testing.assert_allclose(aligner.transform(X), Y, atol=1e-8)
    if alpha == "auto" and transform_type != "ortho":
        assert aligner.alpha_ > 0


def test_constant_features_are_safe():
    X, Y = _anchors()
    X[:, 2], Y[:, 4] = 7.0, -3.0
    for transform_type in TRANSFORMS:
        aligner = LatentAligner(transform_type).fit(X, Y)
        assert aligner.x_scale_[2] == 1.0 and aligner.y_scale_[4] == 1.0
        translated = aligner.transform(X)
        assert np.isfinite(translated).all()
        if transform_type in ("affine", "linear"):  # an isometry spreads mass
            np.testing.assert_allclose(translated[:, 4], -3.0, atol=1e-9)


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_float32_in_float32_out(transform_type):
    X, Y = _anchors()
    aligner32 = LatentAligner(transform_type).fit(X.astype(np.float32), Y)
    aligner64 = LatentAligner(transform_type).fit(X, Y)
    assert aligner32.coef_.dtype == np.float32
    translated = aligner32.transform(X.astype(np.float32))
    assert translated.dtype == np.float32
    np.testing.assert_allclose(translated, aligner64.transform(X), rtol=1e-4, atol=1e-4)
    assert aligner64.transform(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("weak", [1e-4, 3e-5])
def test_float32_ortho_keeps_a_weak_but_real_direction(weak):
    """Full-rank anchors whose standardised cross-covariance has one direction
    at ``weak`` of the strongest (3e-5 is below the former cut-off, d x
    float32's eps = 4.6e-5 for 384 features, which dropped it: 4% output
    error): float32 agrees with float64 to 1e-5 relative, and both maps are
    orthogonal."""
    rng = np.random.default_rng(0)
    n, d = 600, 384
    basis, _ = np.linalg.qr(StandardScaler().fit_transform(rng.normal(size=(n, d))))
    X = basis * np.sqrt(n)  # centred, unit variance, XᵀX = n I
    spectrum = np.linspace(1.0, 0.5, d)
    spectrum[-1] = weak
    U, V = (np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(2))
    Y = X @ (U * spectrum) @ V.T
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    cross = StandardScaler().fit_transform(X64).T @ StandardScaler().fit_transform(Y64)
    singular_values = np.linalg.svd(cross, compute_uv=False)
    assert 0.5 * weak < singular_values[-1] / singular_values[0] < 2 * weak
    aligner32 = LatentAligner("ortho").fit(X32, Y32)
    aligner64 = LatentAligner("ortho").fit(X64, Y64)
    for aligner in (aligner32, aligner64):
        coef = np.asarray(aligner.coef_, dtype=np.float64)
        np.testing.assert_allclose(coef.T @ coef, np.eye(d), atol=1e-5)
    X_new = rng.normal(size=(50, d))
    expected = aligner64.transform(X_new)
    translated = aligner32.transform(X_new.astype(np.float32))
    assert np.abs(translated - expected).max() <= 1e-5 * np.abs(expected).max()


@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho"])
def test_full_orthogonal_completion_is_the_papers_map(transform_type):
    """Fewer anchors than features: orthogonal_completion="full" gives an
    orthogonal matrix equal, on the span of the standardised anchors (where it
    is unique), to SciPy's answer on them; "span" is zero off that span."""
    rng = np.random.default_rng(9)
    n, d = 20, 48
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + 1.0
    Y = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) - 2.0
    Xs, Ys = StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y)
    full = LatentAligner(transform_type, orthogonal_completion="full").fit(X, Y)
    span = LatentAligner(transform_type).fit(X, Y)
    np.testing.assert_allclose(full.coef_.T @ full.coef_, np.eye(d), atol=1e-10)
    if transform_type == "ortho":
        reference = scipy.linalg.orthogonal_procrustes(Xs, Ys)[0].T
    else:
        reference = scipy.linalg.polar(np.linalg.pinv(Xs) @ Ys)[0].T
    on_span = np.linalg.pinv(Xs) @ Xs
    np.testing.assert_allclose(full.coef_ @ on_span, reference @ on_span, atol=1e-10)
    np.testing.assert_allclose(span.coef_ @ on_span, reference @ on_span, atol=1e-10)
    np.testing.assert_allclose(span.coef_ @ (np.eye(d) - on_span), 0.0, atol=1e-10)
    np.testing.assert_allclose(full.transform(X), span.transform(X), atol=1e-9)
    X_new = rng.normal(size=(5, d))
    norms = np.linalg.norm(StandardScaler().fit(X).transform(X_new), axis=1)
    translated = (full.transform(X_new) - full.y_mean_) / full.y_scale_
    np.testing.assert_allclose(np.linalg.norm(translated, axis=1), norms, rtol=1e-10)


def test_full_orthogonal_completion_from_the_statistics():
    """More anchors than features, but a constant feature leaves XᵀY singular:
    the moments path completes it too (and partial_fit gives the same map)."""
    rng = np.random.default_rng(10)
    X, Y = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    X[:, 3] = 4.0
    for transform_type in ("ortho", "l-ortho"):
        span = LatentAligner(transform_type).fit(X, Y)
        np.testing.assert_allclose(span.coef_[:, 3], 0.0, atol=1e-12)
        full = LatentAligner(transform_type, orthogonal_completion="full")
        coef = full.fit(X, Y).coef_
        np.testing.assert_allclose(coef.T @ coef, np.eye(8), atol=1e-10)
        kept = [0, 1, 2, 4, 5, 6, 7]
        np.testing.assert_allclose(coef[:, kept], span.coef_[:, kept], atol=1e-10)
        batched = clone(full).partial_fit(X[:120], Y[:120])
        batched.partial_fit(X[120:], Y[120:])
        np.testing.assert_allclose(batched.coef_, coef, atol=1e-10)


def test_unknown_orthogonal_completion_is_rejected():
    with pytest.raises(InvalidParameterError, match="orthogonal_completion"):
        LatentAligner(orthogonal_completion="paper").fit(*_anchors())


def test_float32_ortho_agrees_with_float64_among_many_weak_directions():
    """A decaying spectrum (embedding-like: many weak directions) and a
    nonlinear relation: float32 cross-products carried rounding that the polar
    factor amplifies among weak directions (5e-3 output error here; 15% on
    600 x 384 real sentence embeddings); exact products agree to 1e-5."""
    rng = np.random.default_rng(0)
    n, d = 600, 384
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    X = rng.normal(size=(n, d)) @ np.diag(np.logspace(0, -2.5, d)) @ rotation
    X += 0.5 * rng.normal(size=d)
    Y = np.tanh(X @ rng.normal(size=(d, d)) / 3) + 0.01 * rng.normal(size=(n, d))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    aligner64 = LatentAligner("ortho").fit(X64, Y64)
    aligner32 = LatentAligner("ortho").fit(X32, Y32)
    expected = aligner64.transform(X64[:100])
    translated = aligner32.transform(X32[:100])
    assert np.abs(translated - expected).max() <= 1e-5 * np.abs(expected).max()


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_torch_tensors_in_tensors_out(transform_type):
    X, Y = _anchors()
    expected = LatentAligner(transform_type).fit(X, Y).transform(X)
    aligner = LatentAligner(transform_type).fit(
        torch.from_numpy(X), torch.from_numpy(Y)
    )
    assert isinstance(aligner.coef_, torch.Tensor)
    translated = aligner.transform(torch.from_numpy(X).float())
    assert isinstance(translated, torch.Tensor) and translated.dtype == torch.float32
    np.testing.assert_allclose(translated.numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(aligner.transform(X), expected, atol=1e-9)
    from_numpy_fit = LatentAligner(transform_type).fit(X, Y)
    np.testing.assert_allclose(
        from_numpy_fit.transform(torch.from_numpy(X)).numpy(), expected, atol=1e-12
    )


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_cpu_float32_tensors_fit_exactly_as_their_numpy_views(transform_type):
    """CPU tensors are solved through their NumPy views: the same numbers, in
    float32 tensors, and the inputs untouched."""
    X, Y = (A.astype(np.float32) for A in _anchors())
    X_t, Y_t = torch.from_numpy(X.copy()), torch.from_numpy(Y.copy())
    on_tensors = LatentAligner(transform_type).fit(X_t, Y_t)
    on_arrays = LatentAligner(transform_type).fit(X, Y)
    for name in ("coef_", "intercept_", "x_mean_", "x_scale_", "y_mean_", "y_scale_"):
        value = getattr(on_tensors, name)
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float32, name
        np.testing.assert_array_equal(value.numpy(), getattr(on_arrays, name))
    np.testing.assert_array_equal(X_t.numpy(), X)
    np.testing.assert_array_equal(Y_t.numpy(), Y)


def test_pickle_round_trip_gives_identical_output():
    X, Y = _anchors()
    aligner = LatentAligner("affine", alpha="auto").fit(X, Y)
    restored = pickle.loads(pickle.dumps(aligner))
    np.testing.assert_array_equal(restored.transform(X), aligner.transform(X))
    assert restored.alpha_ == aligner.alpha_


@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho", "linear", "affine"])
def test_inverse_transform_round_trip(transform_type):
    X, Y = _anchors(d1=6, d2=11)
    aligner = LatentAligner(transform_type).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # injective map: exact and silent
        np.testing.assert_allclose(
            aligner.inverse_transform(aligner.transform(X)), X, atol=1e-8
        )


@pytest.mark.parametrize("transform_type", ["affine", "linear"])
def test_inverse_transform_with_fewer_anchors_than_features(transform_type):
    """Issue 14 item 6: 30 anchors in 60-d. The anchors round-trip exactly; a
    new point comes back as its projection onto the anchors' span (in the
    standardised source space), with a warning saying so."""
    rng = np.random.default_rng(14)
    X, Y = rng.normal(size=(30, 60)) + 1.0, rng.normal(size=(30, 50))
    X_new = rng.normal(size=(5, 60)) + 1.0
    aligner = LatentAligner(transform_type).fit(X, Y)
    with pytest.warns(UserWarning, match=r"rank (29|30) < n_features_in_=60"):
        back = aligner.inverse_transform(aligner.transform(X))
    np.testing.assert_allclose(back, X, atol=1e-8)
    with pytest.warns(UserWarning, match="minimum-norm preimage"):
        back_new = aligner.inverse_transform(aligner.transform(X_new))
    mean, scale = aligner.x_mean_, aligner.x_scale_
    span = scipy.linalg.orth(((X - mean) / scale).T)
    projected = ((X_new - mean) / scale) @ span @ span.T
    np.testing.assert_allclose(back_new, projected * scale + mean, atol=1e-8)


def test_score_is_mean_cosine_in_target_space():
    X, Y = _anchors()
    aligner = LatentAligner("affine").fit(X, Y)
    translated = aligner.transform(X)
    cosine = np.sum(translated * Y, 1) / np.linalg.norm(translated, axis=1)
    cosine /= np.linalg.norm(Y, axis=1)
    assert aligner.score(X, Y) == pytest.approx(cosine.mean())
    assert aligner.score(X, aligner.transform(X)) == pytest.approx(1.0)


def test_l2_normalize_makes_translation_scale_invariant():
    X, Y = _anchors()
    aligner = LatentAligner("ortho", l2_normalize=True).fit(X, Y)
    np.testing.assert_allclose(aligner.transform(3 * X), aligner.transform(X))


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X, Y = _anchors(d2=3)
    frame = pd.DataFrame(X, columns=[f"dino{i}" for i in range(X.shape[1])])
    aligner = LatentAligner().set_output(transform="pandas").fit(frame, Y)
    out = aligner.transform(frame)
    assert list(out.columns) == ["latentaligner0", "latentaligner1", "latentaligner2"]
    assert list(aligner.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(out.to_numpy(), clone(aligner).fit(X, Y).transform(X))


def test_grid_search_over_transform_types():
    X, Y = _anchors(n=200)
    search = GridSearchCV(LatentAligner(), {"transform_type": TRANSFORMS}, cv=4)
    search.fit(X, Y)
    scores = dict(
        zip(
            search.cv_results_["param_transform_type"],
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert scores["affine"] > scores["ortho"]
    assert search.best_params_["transform_type"] in ("affine", "linear")


def test_stitching_pipeline_with_frozen_decoder():
    digits = load_digits()
    rng = np.random.default_rng(0)
    B = StandardScaler().fit_transform(digits.data)
    mixing = rng.normal(size=(64, 80))
    A = B @ mixing + 0.1 * rng.normal(size=(len(B), 80))  # "another encoder"
    y = (digits.target == 3).astype(int)
    train, anchors, test = np.split(rng.permutation(len(B)), [600, 1100])
    decoder = LinearSVC(C=0.1).fit(B[train], y[train])
    upper_bound = roc_auc_score(y[test], decoder.decision_function(B[test]))
    aligner = LatentAligner("affine").fit(A[anchors], B[anchors])
    stitched = make_pipeline(aligner, FrozenEstimator(decoder))
    auroc = roc_auc_score(y[test], stitched.decision_function(A[test]))
    assert auroc > 0.97 and auroc > upper_bound - 0.02


# -- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (np.full((5, 3), np.nan), np.ones((5, 2)), ValueError, "NaN"),
        (np.ones((5, 3)), np.full((5, 2), np.inf), ValueError, "infinity"),
        (np.ones((5, 3)), np.ones((4, 2)), ValueError, "paired row by row"),
        (np.ones((1, 3)), np.ones((1, 2)), ValueError, "minimum of 2 is required"),
        (np.ones((5, 3)), None, ValueError, "requires y to be passed"),
        (np.ones((5, 3)), np.ones(5), ValueError, r"reshape\(-1, 1\)"),
        ([["a", "b"], ["c", "d"]], np.ones((2, 2)), ValueError, "EmbeddingExtractor"),
        (np.empty((0, 3)), np.empty((0, 2)), ValueError, "0 sample"),
        (torch.full((4, 3), float("nan")), torch.ones(4, 2), ValueError, "NaN"),
        (torch.ones(4), torch.ones(4, 2), ValueError, "2-D tensor"),
    ],
)
def test_bad_anchors_raise_before_fitted_state_changes(X, y, error, match):
    good_X, good_Y = _anchors()
    aligner = LatentAligner().fit(good_X, good_Y)
    before = {k: v for k, v in vars(aligner).items() if k.endswith("_")}
    with pytest.raises(error, match=match):
        aligner.fit(X, y)
    after = {k: v for k, v in vars(aligner).items() if k.endswith("_")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)


def test_unknown_transform_type():
    with pytest.raises(InvalidParameterError, match="'transform_type' parameter"):
        LatentAligner("procrustes").fit(*_anchors())


def test_wrong_feature_count_at_transform():
    aligner = LatentAligner().fit(*_anchors(d1=10))
    with pytest.raises(ValueError, match="X has 9 features, but LatentAligner is "):
        aligner.transform(np.ones((2, 9)))
    with pytest.raises(ValueError, match="same source encoder"):
        aligner.transform(torch.ones(2, 9))
    with pytest.raises(ValueError, match="same target encoder"):
        aligner.inverse_transform(np.ones((2, 3)))


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LatentAligner().transform(np.ones((2, 3)))


class _CountingEncoder:
    """A minimal target encoder: maps token ids to fixed vectors."""

    def __init__(self, table=None):
        self.table = table

    def get_params(self, deep=True):
        return {"table": self.table}

    def set_params(self, **params):
        self.table = params["table"]
        return self

    def fit(self, items, y=None):
        return self

    def transform(self, items):
        return self.table[np.asarray(items)]


def test_target_encoder_embeds_raw_targets():
    X, Y = _anchors(n=50)
    ids = np.arange(50)
    aligner = LatentAligner("affine", target_encoder=_CountingEncoder(Y)).fit(X, ids)
    reference = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X))
    assert aligner.score(X, ids) == pytest.approx(reference.score(X, Y))
