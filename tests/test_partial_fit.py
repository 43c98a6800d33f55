"""Streaming fits: partial_fit, chunked fit, float32 products, memory, torch."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.linalg

from skalign import LatentAligner, _statistics

torch = pytest.importorskip("torch")

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]
DIMENSIONS = [(12, 7), (9, 9), (6, 11)]


def _anchors(n, d1, d2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d1)) * rng.uniform(0.5, 4, size=d1) + rng.normal(size=d1)
    Y = X @ rng.normal(size=(d1, d2)) + 0.5 * rng.normal(size=(n, d2)) + 3.0
    return X.astype(dtype), Y.astype(dtype)


def _frozen_reference(X, Y, X_new, transform_type, alpha=0.0):
    """The paper's recipe as the pre-statistics fit computed it, in float64:
    standardise each side, zero-pad both to the larger width, solve the square
    problem, translate, drop the padding, de-normalise."""
    x_mean, x_std = X.mean(0), X.std(0)
    y_mean, y_std = Y.mean(0), Y.std(0)
    Xs, Ys, Xn = (X - x_mean) / x_std, (Y - y_mean) / y_std, (X_new - x_mean) / x_std
    d1, d2 = X.shape[1], Y.shape[1]
    d = max(d1, d2)

    def pad(A):
        return np.hstack([A, np.zeros((A.shape[0], d - A.shape[1]))])

    Xp, Yp, Xnp = pad(Xs), pad(Ys), pad(Xn)
    if transform_type == "ortho":
        R = scipy.linalg.orthogonal_procrustes(Xp, Yp)[0]
    else:
        R = np.linalg.pinv(Xp.T @ Xp + alpha * np.eye(d)) @ Xp.T @ Yp
        if transform_type == "l-ortho":
            R = scipy.linalg.polar(R)[0]
    return (Xnp @ R)[:, :d2] * y_std + y_mean


def _partial_fit_in(aligner, X, Y, bounds):
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        aligner.partial_fit(X[start:stop], Y[start:stop])
    return aligner


def _random_bounds(n, rng, n_chunks=5):
    cuts = np.sort(rng.choice(np.arange(2, n - 2), size=n_chunks - 1, replace=False))
    cuts = cuts[np.diff(np.r_[0, cuts]) >= 2]
    return [0, *cuts.tolist(), n]


@pytest.mark.parametrize("d1, d2", DIMENSIONS)
@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_fit_and_any_chunking_equal_the_frozen_float64_reference(
    transform_type, d1, d2
):
    X, Y = _anchors(300, d1, d2, seed=d1 * 10 + d2)
    X_new = _anchors(20, d1, d2, seed=99)[0]
    expected = _frozen_reference(X, Y, X_new, transform_type)
    fitted = LatentAligner(transform_type).fit(X, Y)
    np.testing.assert_allclose(fitted.transform(X_new), expected, rtol=1e-8, atol=1e-8)
    rng = np.random.default_rng(0)
    for _ in range(3):
        streamed = _partial_fit_in(
            LatentAligner(transform_type), X, Y, _random_bounds(300, rng)
        )
        assert streamed.n_samples_seen_ == 300
        np.testing.assert_allclose(
            streamed.transform(X_new), fitted.transform(X_new), rtol=1e-8, atol=1e-9
        )


@pytest.mark.parametrize("alpha", [0.0, 30.0])
@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_fewer_anchors_than_features_statistics_equal_the_samples_side(
    transform_type, alpha
):
    """fit solves on the n x n side when n < d; partial_fit from d x d
    statistics must give the same (minimum-norm or ridge) map."""
    X, Y = _anchors(40, 90, 60, seed=3)
    X_new = _anchors(10, 90, 60, seed=4)[0]
    fitted = LatentAligner(transform_type, alpha=alpha).fit(X, Y)
    assert fitted._moments is None  # the samples-side path
    streamed = _partial_fit_in(
        LatentAligner(transform_type, alpha=alpha), X, Y, [0, 13, 27, 40]
    )
    np.testing.assert_allclose(
        streamed.transform(X_new), fitted.transform(X_new), rtol=1e-8, atol=1e-8
    )
    if transform_type in ("linear", "affine"):  # polar factors are not unique here
        np.testing.assert_allclose(
            fitted.transform(X_new),
            _frozen_reference(X, Y, X_new, transform_type, alpha),
            rtol=1e-8,
            atol=1e-8,
        )


@pytest.mark.parametrize("transform_type", ["affine", "linear", "l-ortho"])
def test_auto_alpha_is_the_same_whatever_the_chunking(transform_type):
    X, Y = _anchors(120, 30, 8, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = LatentAligner(transform_type, alpha="auto").fit(X, Y)
        streamed = _partial_fit_in(
            LatentAligner(transform_type, alpha="auto"), X, Y, [0, 7, 50, 52, 120]
        )
    assert streamed.alpha_ == fitted.alpha_
    np.testing.assert_allclose(streamed.cv_errors_, fitted.cv_errors_, rtol=1e-8)
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("transform_type", ["affine", "linear", "l-ortho"])
def test_auto_alpha_on_the_samples_side_equals_the_statistics(transform_type):
    """Fewer anchors than features: fit cross-validates on n x n kernels,
    partial_fit on d x d fold statistics; the errors and the choice agree."""
    X, Y = _anchors(45, 70, 20, seed=11)
    grid = np.logspace(-1, 5, 19)
    fitted = LatentAligner(transform_type, alpha="auto", alphas=grid).fit(X, Y)
    assert fitted._moments is None
    streamed = _partial_fit_in(
        LatentAligner(transform_type, alpha="auto", alphas=grid), X, Y, [0, 20, 45]
    )
    np.testing.assert_allclose(fitted.cv_errors_, streamed.cv_errors_, rtol=1e-8)
    assert fitted.alpha_ == streamed.alpha_
    np.testing.assert_allclose(
        fitted.transform(X), streamed.transform(X), rtol=1e-8, atol=1e-8
    )


def test_fit_streams_in_chunks_with_the_same_result(monkeypatch):
    X, Y = _anchors(5000, 16, 8, seed=6)
    whole = LatentAligner("affine").fit(X, Y)
    monkeypatch.setattr(_statistics, "_CHUNK_BYTES", 16 * 24 * 8)
    monkeypatch.setattr(_statistics, "_MIN_CHUNK_ROWS", 7)
    assert _statistics.chunk_rows(X, Y) < 100
    chunked = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(chunked.coef_, whole.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(chunked.y_scale_, whole.y_scale_, rtol=1e-12)


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_float32_products_stay_close_to_float64_despite_large_means(transform_type):
    """Chunks are centred on their own mean before the float32 GEMM, so an
    offset of 1e3 (large against the spread) does not cancel catastrophically."""
    X, Y = _anchors(4000, 24, 12, seed=7)
    X, Y = X + 1e3, Y - 1e3
    reference = LatentAligner(transform_type).fit(X, Y)
    aligner = LatentAligner(transform_type).fit(
        X.astype(np.float32), Y.astype(np.float32)
    )
    assert aligner.coef_.dtype == np.float32
    np.testing.assert_allclose(aligner.coef_, reference.coef_, rtol=1e-4, atol=1e-4)
    translated = aligner.transform(X.astype(np.float32))
    np.testing.assert_allclose(translated, reference.transform(X), rtol=1e-4, atol=1e-3)


def test_memory_mapped_fit_copies_no_input(tmp_path, monkeypatch):
    """Peak traced memory of a fit from memory-mapped float32 files stays
    near one chunk's temporaries plus the d x d statistics, far below the
    inputs (the chunk is set to 1 MiB here so that the bound is visible)."""
    monkeypatch.setattr(_statistics, "_CHUNK_BYTES", 2**20)
    n, d = 60_000, 64
    X, Y = _anchors(n, d, d, seed=8, dtype=np.float32)
    paths = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(paths[0], X)
    np.save(paths[1], Y)
    expected = LatentAligner("affine").fit(X, Y)
    del X, Y
    X_map, Y_map = (np.load(path, mmap_mode="r") for path in paths)
    tracemalloc.start()
    aligner = LatentAligner("affine").fit(X_map, Y_map)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    inputs = 2 * n * d * 4
    # one chunk of float64 temporaries (least squares takes its products in
    # float64) plus the d x d statistics
    assert peak < 4 * 2**20 + 0.1 * inputs, (peak, inputs)
    np.testing.assert_allclose(aligner.coef_, expected.coef_, rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, "auto"])
def test_torch_batches_match_numpy(alpha):
    X, Y = _anchors(200, 12, 9, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = _partial_fit_in(
            LatentAligner("affine", alpha=alpha), X, Y, [0, 80, 200]
        )
        streamed = _partial_fit_in(
            LatentAligner("affine", alpha=alpha),
            torch.from_numpy(X),
            torch.from_numpy(Y),
            [0, 80, 200],
        )
    assert isinstance(streamed.coef_, torch.Tensor)
    np.testing.assert_allclose(streamed.coef_.numpy(), expected.coef_, atol=1e-10)
    assert streamed.alpha_ == pytest.approx(expected.alpha_)


def test_partial_fit_errors_name_the_fix():
    X, Y = _anchors(50, 6, 4)
    with pytest.raises(ValueError, match="solver='closed-form'"):
        LatentAligner("affine", solver="adam").partial_fit(X, Y)
    aligner = LatentAligner("affine").partial_fit(X, Y)
    with pytest.raises(ValueError, match="X has 5 features"):
        aligner.partial_fit(X[:, :5], Y)
    with pytest.raises(ValueError, match="target space"):
        aligner.partial_fit(X, Y[:, :3])
    assert aligner.n_samples_seen_ == 50
    wide = LatentAligner("affine").fit(*_anchors(10, 30, 4))
    with pytest.raises(ValueError, match="Call partial_fit from the start"):
        wide.partial_fit(*_anchors(10, 30, 4))
    with pytest.raises(ValueError, match="alphas must be"):
        LatentAligner("affine", alpha="auto", alphas=[-1.0]).fit(X, Y)


@pytest.mark.parametrize("transform_type", ["ortho", "affine"])
@pytest.mark.parametrize(
    "scale, dtype",
    [
        (1e20, np.float32),
        (1e-25, np.float32),
        (1e-30, np.float64),
        (1e200, np.float64),
        (1e-200, np.float64),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_any_finite_magnitude_gives_the_scaled_map(
    transform_type, scale, dtype, method
):
    """Anchors multiplied by c translate to c times the unscaled translation,
    from fit and from partial_fit, whether c overflows float32 products,
    underflows them, or takes squares past float64's range."""
    X, Y = _anchors(300, 5, 4, seed=11)
    reference = LatentAligner(transform_type).fit(X, Y).transform(X)
    X_c, Y_c = (X * scale).astype(dtype), (Y * scale).astype(dtype)
    aligner = getattr(LatentAligner(transform_type), method)(X_c, Y_c)
    translated = np.asarray(aligner.transform(X_c), dtype=np.float64) / scale
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        translated, reference, atol=tolerance * np.abs(reference).max()
    )


def test_a_batch_at_another_scale_is_refused_before_it_changes_the_fit():
    X, Y = _anchors(200, 5, 4, seed=12)
    aligner = LatentAligner("affine").partial_fit(X[:100] * 1e200, Y[:100] * 1e200)
    coef = aligner.coef_.copy()
    with pytest.raises(ValueError, match="Scale every batch the same way"):
        aligner.partial_fit(X[100:], Y[100:])
    np.testing.assert_array_equal(aligner.coef_, coef)
    assert aligner.n_samples_seen_ == 100


@pytest.mark.parametrize(
    "change",
    [
        dict(transform_type="ortho"),
        dict(l2_normalize=True),
        dict(alpha="auto"),
        dict(alpha=1.0),
        dict(alphas=[0.1, 1.0]),
        dict(center=False),
        dict(std_scaling=False),
    ],
    ids=lambda change: next(iter(change)),
)
@pytest.mark.parametrize("start", ["fit", "partial_fit"])
def test_a_changed_statistics_parameter_is_refused_before_any_state_changes(
    change, start
):
    """After fit or partial_fit, partial_fit with another setting of any
    parameter that shapes the statistics names the parameter, both values and
    the fix (fit to restart), and leaves the fitted aligner as it was."""
    X, Y = _anchors(120, 5, 4, seed=13)
    aligner = getattr(LatentAligner("affine"), start)(X[:60], Y[:60])
    before = {k: v for k, v in vars(aligner).items() if k.endswith("_")}
    coef = aligner.coef_.copy()
    name = next(iter(change))
    aligner.set_params(**change)
    with pytest.raises(ValueError, match=rf"{name}=.*{name} is now.*call fit"):
        aligner.partial_fit(X[60:], Y[60:])
    assert {k: v for k, v in vars(aligner).items() if k.endswith("_")} == before
    np.testing.assert_array_equal(aligner.coef_, coef)
    assert aligner.n_samples_seen_ == 60
    # fit restarts with the new setting, and partial_fit then continues it
    aligner.fit(X[:60], Y[:60]).partial_fit(X[60:], Y[60:])
    assert aligner.n_samples_seen_ == 120


@pytest.mark.parametrize("transform_type", ["ortho", "affine", "l-ortho"])
def test_one_row_batches_equal_the_fit_on_all_rows(transform_type):
    X, Y = _anchors(40, 5, 4, seed=14)
    streamed = LatentAligner(transform_type)
    for row in range(len(X)):
        streamed.partial_fit(X[row : row + 1], Y[row : row + 1])
    expected = LatentAligner(transform_type).fit(X, Y)
    assert streamed.n_samples_seen_ == 40
    np.testing.assert_allclose(
        streamed.transform(X), expected.transform(X), rtol=1e-10, atol=1e-10
    )
