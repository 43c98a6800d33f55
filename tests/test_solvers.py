"""fit_alignment against known maps and float64 reference formulas."""

import warnings

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import ortho_group
from sklearn.exceptions import ConvergenceWarning

from skalign import fit_alignment
from skalign._alpha import cross_validated_alpha
from skalign._solvers import ridge_least_squares
from skalign._statistics import accumulate_moments

torch = pytest.importorskip("torch")

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]
DIMENSIONS = [(12, 7), (9, 9), (6, 11)]  # d1 > d2, d1 == d2, d1 < d2


def _pad(A, width):
    return np.hstack([A, np.zeros((A.shape[0], width - A.shape[1]))])


def _padded_reference(X, Y, transform_type):
    """The paper's recipe, literally: zero-pad both sides to the larger width,
    solve the square problem with SciPy / NumPy, translate, drop the padding."""
    d1, d2 = X.shape[1], Y.shape[1]
    d = max(d1, d2)
    Xp, Yp = _pad(X, d), _pad(Y, d)
    if transform_type == "affine":
        design = np.hstack([Xp, np.ones((len(Xp), 1))])
        solution = np.linalg.lstsq(design, Yp, rcond=None)[0]
        return (design @ solution)[:, :d2]
    R = np.linalg.lstsq(Xp, Yp, rcond=None)[0]
    if transform_type == "ortho":
        R = scipy.linalg.orthogonal_procrustes(Xp, Yp)[0]
    elif transform_type == "l-ortho":
        R = scipy.linalg.polar(R)[0]
    return (Xp @ R)[:, :d2]


@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho"])
def test_rotation_is_recovered(transform_type):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    R = ortho_group.rvs(10, random_state=1)
    result = fit_alignment(X, X @ R.T, transform_type)
    np.testing.assert_allclose(result.coef, R, atol=1e-8)
    np.testing.assert_allclose(result.intercept, 0.0, atol=1e-12)


def test_affine_map_is_recovered():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) * rng.uniform(0.5, 3, size=8) + 4.0
    W, b = rng.normal(size=(5, 8)), rng.normal(size=5)
    result = fit_alignment(X, X @ W.T + b, "affine")
    np.testing.assert_allclose(result.coef, W, atol=1e-8)
    np.testing.assert_allclose(result.intercept, b, atol=1e-8)


def test_linear_map_is_recovered():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8))
    W = rng.normal(size=(12, 8))
    result = fit_alignment(X, X @ W.T, "linear")
    np.testing.assert_allclose(result.coef, W, atol=1e-8)
    np.testing.assert_array_equal(result.intercept, np.zeros(12))


@pytest.mark.parametrize("d1, d2", DIMENSIONS)
@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_equals_padded_float64_reference(transform_type, d1, d2):
    rng = np.random.default_rng(d1 * 100 + d2)
    X = rng.normal(size=(60, d1))
    Y = X @ rng.normal(size=(d1, d2)) + 0.3 * rng.normal(size=(60, d2)) + 1.0
    result = fit_alignment(X, Y, transform_type)
    translated = X @ result.coef.T + result.intercept
    np.testing.assert_allclose(
        translated, _padded_reference(X, Y, transform_type), atol=1e-10
    )
    if transform_type in ("ortho", "l-ortho"):
        gram = result.coef @ result.coef.T if d2 <= d1 else result.coef.T @ result.coef
        np.testing.assert_allclose(gram, np.eye(min(d1, d2)), atol=1e-12)


@pytest.mark.parametrize("transform_type", ["linear", "affine"])
def test_underdetermined_gives_minimum_norm_interpolant(transform_type):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(20, 50)), rng.normal(size=(20, 30))
    result = fit_alignment(X, Y, transform_type)
    np.testing.assert_allclose(X @ result.coef.T + result.intercept, Y, atol=1e-9)
    Xc, Yc = (X - X.mean(0), Y - Y.mean(0)) if transform_type == "affine" else (X, Y)
    np.testing.assert_allclose(result.coef.T, np.linalg.pinv(Xc) @ Yc, atol=1e-10)


@pytest.mark.parametrize("d2", [32, 8])
@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho"])
def test_underdetermined_polar_maps_are_minimum_norm_partial_isometries(
    transform_type, d2
):
    rng = np.random.default_rng(4)
    n, d1 = 15, 40
    X, Y = rng.normal(size=(n, d1)), rng.normal(size=(n, d2))
    coef = fit_alignment(X, Y, transform_type).coef
    if transform_type == "ortho":
        # agrees with SciPy's (non-unique) square answer on the anchors' span
        R = scipy.linalg.orthogonal_procrustes(_pad(X, d1), _pad(Y, d1))[0]
        np.testing.assert_allclose(X @ coef.T, (X @ R)[:, :d2], atol=1e-10)
        target = X.T @ Y
    else:
        target = np.linalg.pinv(X) @ Y
    U, s, Vt = np.linalg.svd(target, full_matrices=False)
    rank = int(np.sum(s > s[0] * 1e-10))
    assert rank == min(n, d2)
    np.testing.assert_allclose(coef.T, U[:, :rank] @ Vt[:rank], atol=1e-10)
    projector = coef.T @ coef
    np.testing.assert_allclose(projector @ projector, projector, atol=1e-10)
    assert np.trace(projector) == pytest.approx(rank)


@pytest.mark.parametrize("transform_type", ["ortho", "l-ortho"])
def test_full_completion_is_orthogonal_and_the_span_map_on_the_span(transform_type):
    """Fewer anchors than features: "full" gives an exactly orthogonal matrix
    that equals SciPy's orthogonal_procrustes (ortho) or scipy.linalg.polar of
    the least-squares matrix (l-ortho) where those are unique, on the span;
    "span" gives the same map there and zero off the span."""
    rng = np.random.default_rng(5)
    n, d = 15, 40
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    full = fit_alignment(X, Y, transform_type, orthogonal_completion="full").coef
    span = fit_alignment(X, Y, transform_type).coef
    np.testing.assert_allclose(full.T @ full, np.eye(d), atol=1e-10)
    np.testing.assert_allclose(full @ full.T, np.eye(d), atol=1e-10)
    if transform_type == "ortho":
        reference = scipy.linalg.orthogonal_procrustes(X, Y)[0].T
    else:
        reference = scipy.linalg.polar(np.linalg.pinv(X) @ Y)[0].T
    # the anchors' span (the row space of X) is where both are determined
    on_span = np.linalg.pinv(X) @ X
    np.testing.assert_allclose(full @ on_span, reference @ on_span, atol=1e-10)
    np.testing.assert_allclose(span @ on_span, reference @ on_span, atol=1e-10)
    np.testing.assert_allclose(span @ (np.eye(d) - on_span), 0.0, atol=1e-10)
    assert np.abs(full @ (np.eye(d) - on_span)).max() > 0.1


@pytest.mark.parametrize("d1, d2", [(12, 7), (7, 12)])
def test_full_completion_is_semi_orthogonal_between_widths(d1, d2):
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(5, d1)), rng.normal(size=(5, d2))
    coef = fit_alignment(X, Y, "ortho", orthogonal_completion="full").coef
    small = min(d1, d2)
    gram = coef.T @ coef if d2 >= d1 else coef @ coef.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-10)
    span = fit_alignment(X, Y, "ortho").coef
    np.testing.assert_allclose(X @ coef.T, X @ span.T, atol=1e-10)


def test_completions_agree_when_the_anchors_determine_the_map():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(60, 9)), rng.normal(size=(60, 9))
    for transform_type in ("ortho", "l-ortho"):
        span = fit_alignment(X, Y, transform_type).coef
        full = fit_alignment(X, Y, transform_type, orthogonal_completion="full")
        np.testing.assert_allclose(full.coef, span, atol=1e-10)


def test_full_completion_reaches_the_adam_l_ortho_map():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    params = dict(solver="adam", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = fit_alignment(X, Y, "l-ortho", orthogonal_completion="full", **params)
        span = fit_alignment(X, Y, "l-ortho", **params)
    np.testing.assert_allclose(full.coef.T @ full.coef, np.eye(6), atol=1e-5)
    np.testing.assert_allclose(full.coef, span.coef, atol=1e-5)


def test_rank_deficient_overdetermined_falls_back_to_minimum_norm():
    """Duplicated and constant features make XᵀX singular with n > d: the Cholesky
    fast path must step aside for the minimum-norm eigendecomposition path."""
    rng = np.random.default_rng(13)
    base = rng.normal(size=(100, 6))
    X = np.hstack([base, base[:, :2], np.zeros((100, 1))])
    Y = rng.normal(size=(100, 3))
    for transform_type in ("linear", "affine"):
        result = fit_alignment(X, Y, transform_type)
        Xc, Yc = (
            (X - X.mean(0), Y - Y.mean(0)) if transform_type == "affine" else (X, Y)
        )
        np.testing.assert_allclose(result.coef.T, np.linalg.pinv(Xc) @ Yc, atol=1e-10)


@pytest.mark.parametrize("shape", [(80, 10), (10, 80)])
def test_ridge_equals_normal_equations(shape):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=shape), rng.normal(size=(shape[0], 4))
    coef, alpha = ridge_least_squares(X, Y, 2.5)
    expected = scipy.linalg.solve(X.T @ X + 2.5 * np.eye(shape[1]), X.T @ Y)
    np.testing.assert_allclose(coef.T, expected, atol=1e-10)
    assert alpha == 2.5


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("shape", [(60, 15), (25, 70)])
def test_cross_validated_error_matches_brute_force_folds(shape, fit_intercept):
    """The held-out error from fold statistics equals refitting on each fold."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=shape) + 2.0
    Y = X @ rng.normal(size=(shape[1], 3)) + 2.0 * rng.normal(size=(shape[0], 3))
    alphas = np.logspace(-2, 3, 11) * shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        chosen, grid, errors = cross_validated_alpha(
            accumulate_moments(X, Y, n_folds=5),
            fit_intercept=fit_intercept,
            alphas=alphas,
        )
    expected = np.zeros(alphas.size)
    for fold in range(5):
        held = np.arange(shape[0]) % 5 == fold
        Xt, Yt, Xv, Yv = X[~held], Y[~held], X[held], Y[held]
        if fit_intercept:
            mx, my = Xt.mean(0), Yt.mean(0)
            Xt, Yt, Xv, Yv = Xt - mx, Yt - my, Xv - mx, Yv - my
        for i, alpha in enumerate(alphas):
            W = np.linalg.pinv(Xt.T @ Xt + alpha * np.eye(shape[1])) @ Xt.T @ Yt
            expected[i] += np.sum((Yv - Xv @ W) ** 2)
    expected /= Y.size
    np.testing.assert_allclose(errors, expected, rtol=1e-8)
    np.testing.assert_array_equal(grid, alphas)
    assert chosen == alphas[np.argmin(expected)]


def test_auto_alpha_never_interpolates_where_gcv_did():
    """Issue 17's failure mode: n < d, where GCV's criterion can fall to zero as
    alpha -> 0. The held-out criterion stays away from the interpolating end."""
    rng = np.random.default_rng(17)
    n, d1, d2 = 80, 300, 40
    latent = rng.normal(size=(n, 10))
    X = latent @ rng.normal(size=(10, d1)) + rng.normal(size=(n, d1))
    Y = latent @ rng.normal(size=(10, d2)) + rng.normal(size=(n, d2))
    for _ in range(3):
        rows = rng.permutation(n)
        alpha, alphas, errors = cross_validated_alpha(
            accumulate_moments(X[rows], Y[rows], n_folds=5), fit_intercept=True
        )
        assert alpha > 1e-2 * np.sqrt(alphas[0] * alphas[-1])
        assert errors[0] > 1.1 * errors.min()


def test_edge_of_the_grid_warns():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 5)), rng.normal(size=(50, 2))  # pure noise
    with pytest.warns(UserWarning, match="the largest of the candidate alphas"):
        cross_validated_alpha(
            accumulate_moments(X, Y, n_folds=5),
            fit_intercept=True,
            alphas=[1e-3, 1e-2],
        )


def test_auto_alpha_is_near_the_oracle_when_underdetermined():
    rng = np.random.default_rng(7)
    n_train, n_total, d1, d2 = 60, 560, 200, 40
    latent = rng.normal(size=(n_total, 20))
    X = latent @ rng.normal(size=(20, d1)) + 0.5 * rng.normal(size=(n_total, d1))
    Y = latent @ rng.normal(size=(20, d2)) + 0.5 * rng.normal(size=(n_total, d2))

    def held_out_error(alpha):
        result = fit_alignment(X[:n_train], Y[:n_train], "affine", alpha=alpha)
        predicted = X[n_train:] @ result.coef.T + result.intercept
        return np.mean((predicted - Y[n_train:]) ** 2)

    oracle = min(held_out_error(a) for a in np.logspace(-3, 7, 41))
    assert held_out_error("auto") < 1.05 * oracle
    assert held_out_error("auto") < 0.85 * held_out_error(0.0)


@pytest.mark.parametrize("n_samples", [40, 5])  # primal and dual paths
def test_torch_tensors_stay_tensors_and_match_numpy(n_samples):
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(n_samples, 6)), rng.normal(size=(n_samples, 9))
    for transform_type in TRANSFORMS:
        expected = fit_alignment(X, Y, transform_type, alpha="auto")
        result = fit_alignment(
            torch.from_numpy(X), torch.from_numpy(Y), transform_type, alpha="auto"
        )
        assert isinstance(result.coef, torch.Tensor)
        assert result.coef.dtype == torch.float64
        np.testing.assert_allclose(result.coef.numpy(), expected.coef, atol=1e-10)
        np.testing.assert_allclose(
            result.intercept.numpy(), expected.intercept, atol=1e-10
        )
        assert result.alpha == pytest.approx(expected.alpha)


def test_float32_in_float32_out_and_accurate():
    rng = np.random.default_rng(9)
    X, Y = rng.normal(size=(100, 16)), rng.normal(size=(100, 8))
    for transform_type in TRANSFORMS:
        result32 = fit_alignment(
            X.astype(np.float32), Y.astype(np.float32), transform_type
        )
        result64 = fit_alignment(X, Y, transform_type)
        assert result32.coef.dtype == np.float32
        assert result32.intercept.dtype == np.float32
        np.testing.assert_allclose(result32.coef, result64.coef, atol=1e-5)


def test_adam_converges_to_the_exact_affine_map():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(300, 6))
    Y = X @ rng.normal(size=(6, 4)) * 0.3 + 0.5 + 0.05 * rng.normal(size=(300, 4))
    exact = fit_alignment(X, Y, "affine")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        adam = fit_alignment(
            X, Y, "affine", solver="adam", learning_rate=1e-2, random_state=0
        )
    np.testing.assert_allclose(adam.coef, exact.coef, atol=5e-3)
    np.testing.assert_allclose(adam.intercept, exact.intercept, atol=5e-3)
    assert 1 < adam.n_iter < 20_000
    again = fit_alignment(
        X, Y, "affine", solver="adam", learning_rate=1e-2, random_state=0
    )
    np.testing.assert_array_equal(adam.coef, again.coef)


def test_adam_warns_when_it_runs_out_of_steps():
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(50, 5)), rng.normal(size=(50, 3))
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=30"):
        result = fit_alignment(
            X, Y, "linear", solver="adam", max_iter=30, random_state=0
        )
    assert result.n_iter == 30


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(transform_type="ortho", solver="adam"), "'ortho' has an exact closed"),
        (dict(transform_type="affine", solver="adam", alpha=1.0), "Set alpha=0.0"),
        (dict(transform_type="procrustes"), "'transform_type' parameter"),
        (dict(alpha=-1.0), "'alpha' parameter"),
    ],
)
def test_bad_options_are_rejected(kwargs, match):
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match=match):
        fit_alignment(X, Y, **kwargs)


def test_rejected_cholesky_gives_the_gram_matrix_back_unchanged():
    """A Gram matrix too ill-conditioned for the Cholesky fast path is restored
    (triangle and diagonal) for the eigendecomposition, whose solution the
    ridge solver then returns."""
    from skalign._solvers import _cholesky_solve, _ridge_from_gram

    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(40, 40)))[0]
    gram = (basis * np.logspace(0, -13, 40)) @ basis.T
    gram = (gram + gram.T) / 2
    cross = rng.normal(size=(40, 7))
    working = gram.copy()
    assert _cholesky_solve(working, np.asfortranarray(cross), 0.0, 1e-11) is None
    np.testing.assert_array_equal(working, gram)
    solution = _ridge_from_gram(gram.copy(), cross.copy(), 0.0, eps=1e-16)
    eigenvalues, vectors = np.linalg.eigh(gram)
    keep = eigenvalues > eigenvalues.max() * 40 * 1e-16
    expected = vectors[:, keep] @ (
        (vectors[:, keep].T @ cross) / eigenvalues[keep, None]
    )
    np.testing.assert_allclose(solution, expected, rtol=1e-10)
