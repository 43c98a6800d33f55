"""The ridge strength chosen by K-fold cross-validation (``alpha="auto"``).

Two computations of the same held-out errors (rows dealt into ``N_FOLDS``
interleaved folds, row ``i`` into fold ``i mod N_FOLDS``): from per-fold
sufficient statistics (:func:`cross_validated_alpha`, ``d × d``; it also
serves ``partial_fit`` and Dask), and from in-memory anchors on the samples'
side (:func:`cross_validated_alpha_on_samples`, ``n × n``, the cheaper one
when anchors are fewer than features). Each needs one symmetric
eigendecomposition per fold for the whole grid of candidates.
"""

import warnings

import numpy as np

from ._backend import array_device, get_namespace, solve_dtype, to_numpy
from ._linalg import nonzero_eigh
from ._statistics import accumulate_moments

# alpha="auto" scans these multiples of the mean eigenvalue of the anchors'
# Gram matrix (trace / rank), unless the caller gives its own ``alphas``.
_ALPHA_GRID = np.logspace(-6, 4, 41)
# alpha="auto" deals the anchors into this many interleaved folds.
N_FOLDS = 5


def cross_validated_alpha(
    folds,
    *,
    fit_intercept,
    alphas=None,
    x_center=None,
    x_scale=None,
    y_center=None,
    y_scale=None,
):
    """Ridge strength with the least K-fold held-out error, from moments alone.

    Each fold's training complement is the total minus the fold (exact), so
    every held-out error is a function of ``d``-sized statistics: with
    ``G = V Λ Vᵀ`` the training Gram matrix, ``Q = Vᵀ B`` its projected
    cross-product, and ``A = Vᵀ G_v V``, ``C = Vᵀ B_v`` the held-out fold's,
    the held-out squared error of ``W(α) = V (Λ + α)⁻¹ Q`` is

    ``||Y_v||² − 2 Σ_j s_j (C ⊙ Q)_j· + sᵀ (A ⊙ Q Qᵀ) s``, ``s_j = 1/(λ_j + α)``,

    so one eigendecomposition per fold serves every candidate at ``O(rank²)``
    each. Unlike generalised cross-validation, a held-out error cannot reward
    a map that interpolates its training rows: the rows it is measured on
    were not fitted.

    Parameters
    ----------
    folds : list of AnchorMoments
        One per fold (at least two non-empty).
    fit_intercept : bool
        Centre each training complement on its own means (the ``affine``
        map); otherwise on ``x_center`` / ``y_center``.
    alphas : array-like of shape (n_alphas,) or None, default=None
        Candidate strengths; None scans 41 values log-spaced from 1e-6 to 1e4
        times the mean eigenvalue of the whole Gram matrix (trace / rank).
    x_center, x_scale, y_center, y_scale : arrays or None
        The standardisation (None: zero centre, unit scale).

    Returns
    -------
    alpha : float
        The candidate with the least held-out error.
    alphas : ndarray of shape (n_alphas,)
        The candidates.
    errors : ndarray of shape (n_alphas,)
        Held-out mean squared error per candidate (per anchor and target
        feature, in the standardised target space).

    Warns
    -----
    UserWarning
        When the best candidate is the smallest or the largest of the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._alpha import cross_validated_alpha
    >>> from skalign._statistics import accumulate_moments
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 30))
    >>> Y = X[:, :3] + rng.normal(size=(40, 3))
    >>> alpha, alphas, errors = cross_validated_alpha(
    ...     accumulate_moments(X, Y, n_folds=5), fit_intercept=True,
    ...     alphas=np.logspace(-3, 4, 15))
    >>> bool(alphas[0] < alpha < alphas[-1]), errors.shape
    (True, (15,))
    """
    present = [fold for fold in folds if fold is not None]
    if len(present) < 2:
        raise ValueError(
            f"alpha='auto' cross-validates over {len(folds)} folds and needs at "
            f"least 2 anchors, got {sum(f.n_samples for f in present)}. Pass more "
            "anchors or a fixed alpha."
        )
    total = present[0]
    for fold in present[1:]:
        total = total.merge(fold)
    xp = get_namespace(total.xx)
    x_center = xp.zeros_like(total.x_mean) if x_center is None else x_center
    y_center = xp.zeros_like(total.y_mean) if y_center is None else y_center
    x_scale = xp.ones_like(total.x_mean) if x_scale is None else x_scale
    y_scale = xp.ones_like(total.y_mean) if y_scale is None else y_scale
    x_outer = x_scale[:, None] * x_scale[None, :]
    xy_outer = x_scale[:, None] * y_scale[None, :]
    if alphas is None:
        about = (total.x_mean, total.y_mean) if fit_intercept else (x_center, y_center)
        trace = float(xp.sum(xp.linalg.diagonal(total.about(*about)[0] / x_outer)))
        rank = min(total.n_samples, total.xx.shape[0])
        alphas = trace / rank * _ALPHA_GRID
    alphas = np.asarray(alphas, dtype=np.float64)
    grid = xp.asarray(alphas, dtype=total.xx.dtype, device=array_device(total.xx))
    errors = xp.zeros_like(grid)
    for fold in present:
        rest = total.remove(fold)
        about = (rest.x_mean, rest.y_mean) if fit_intercept else (x_center, y_center)
        gram, cross, _ = rest.about(*about)
        held_gram, held_cross, held_yy = fold.about(*about)
        eigenvalues, basis = nonzero_eigh(
            gram / x_outer, gram.shape[0], total.resolution
        )
        errors += _held_out_errors(
            grid,
            eigenvalues,
            held_gram=basis.T @ ((held_gram / x_outer) @ basis),
            projections=basis.T @ (cross / xy_outer),
            held_cross=basis.T @ (held_cross / xy_outer),
            held_energy=xp.sum(held_yy / y_scale**2),
        )
    errors = to_numpy(errors) / (total.n_samples * total.yy.shape[0])
    return _best_alpha(alphas, errors)


def auto_alpha_in_memory(X, Y, *, fit_intercept, alphas=None):
    """:func:`cross_validated_alpha` of in-memory anchors on the cheaper side.

    Fold statistics (``d × d``) when anchors are at least as many as
    features, the samples' kernels (``n × n``) otherwise; same result.
    """
    if X.shape[0] < X.shape[1]:
        xp = get_namespace(X, Y)
        work = solve_dtype(xp, X)
        return cross_validated_alpha_on_samples(
            xp.astype(X, work, copy=False),
            xp.astype(Y, work, copy=False),
            fit_intercept=fit_intercept,
            alphas=alphas,
        )
    return cross_validated_alpha(
        accumulate_moments(X, Y, n_folds=N_FOLDS),
        fit_intercept=fit_intercept,
        alphas=alphas,
    )


def cross_validated_alpha_on_samples(X, Y, *, fit_intercept, alphas=None):
    """:func:`cross_validated_alpha` from in-memory anchors, on the samples' side.

    The same folds (row ``i`` in fold ``i mod 5``), centring and held-out
    errors, computed from each training fold's ``n × n`` kernel ``X_t X_tᵀ =
    U Λ Uᵀ`` instead of its ``d × d`` Gram matrix (the cheaper side when
    anchors are fewer than features): predictions on the held-out rows are
    ``K_vt U (Λ + α)⁻¹ Uᵀ Y_t``, so with ``Z = K_vt U`` the scan needs
    ``ZᵀZ``, ``Uᵀ Y_t`` and ``Zᵀ Y_v`` only.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_targets)
        Already standardised anchors (float64 work dtype).
    fit_intercept : bool
        Centre each training fold on its own means; otherwise use ``X`` and
        ``Y`` as they are.
    alphas : array-like or None, default=None

    Returns
    -------
    alpha, alphas, errors
        As :func:`cross_validated_alpha`.
    """
    xp = get_namespace(X, Y)
    n_samples = X.shape[0]
    if n_samples < 2:
        raise ValueError(
            f"alpha='auto' cross-validates over {N_FOLDS} folds and needs at "
            f"least 2 anchors, got {n_samples}. Pass more anchors or a fixed alpha."
        )
    if alphas is None:
        centred = X - xp.mean(X, axis=0) if fit_intercept else X
        trace = float(xp.sum(centred * centred))
        alphas = trace / min(n_samples, X.shape[1]) * _ALPHA_GRID
    alphas = np.asarray(alphas, dtype=np.float64)
    grid = xp.asarray(alphas, dtype=X.dtype, device=array_device(X))
    errors = xp.zeros_like(grid)
    rows = np.arange(n_samples)
    # one kernel for every fold: each fold's blocks are slices of it, centred
    # on the training rows' mean by O(n²) corrections
    kernel = X @ X.T
    for fold in range(min(N_FOLDS, n_samples)):
        held = xp.asarray(rows[rows % N_FOLDS == fold], device=array_device(X))
        kept = xp.asarray(rows[rows % N_FOLDS != fold], device=array_device(X))
        Y_t, Y_v = xp.take(Y, kept, axis=0), xp.take(Y, held, axis=0)
        K_t = xp.take(xp.take(kernel, kept, axis=0), kept, axis=1)
        K_vt = xp.take(xp.take(kernel, held, axis=0), kept, axis=1)
        if fit_intercept:
            K_t, K_vt = _centred_kernels(K_t, K_vt)
            y_mean = xp.mean(Y_t, axis=0)
            Y_t, Y_v = Y_t - y_mean, Y_v - y_mean
        eigenvalues, basis = nonzero_eigh(K_t, max(K_t.shape[0], X.shape[1]))
        Z = K_vt @ basis
        errors += _held_out_errors(
            grid,
            eigenvalues,
            held_gram=Z.T @ Z,
            projections=basis.T @ Y_t,
            held_cross=Z.T @ Y_v,
            held_energy=xp.sum(Y_v * Y_v),
        )
    errors = to_numpy(errors) / (n_samples * Y.shape[1])
    return _best_alpha(alphas, errors)


def _centred_kernels(K_t, K_vt):
    """Kernels of training rows ``t`` and held-out rows ``v`` after centring
    both on the training rows' mean ``m``: ``(x_i - m)·(x_j - m) = K_ij - a_i -
    a_j + c`` with ``a_i = x_i·m`` (a row mean of ``K_·t``) and ``c = m·m``."""
    xp = get_namespace(K_t)
    a_t = xp.mean(K_t, axis=1)
    a_v = xp.mean(K_vt, axis=1)
    c = xp.mean(a_t)
    return (
        K_t - a_t[:, None] - a_t[None, :] + c,
        K_vt - a_v[:, None] - a_t[None, :] + c,
    )


def _held_out_errors(
    grid, eigenvalues, *, held_gram, projections, held_cross, held_energy
):
    """Held-out squared error of ``W(α) = V (Λ + α)⁻¹ Q`` for every ``α`` of ``grid``.

    ``||Y_v||² − 2 Σ_j s_j (C ⊙ Q)_j· + sᵀ (A ⊙ Q Qᵀ) s`` with ``s_j = 1/(λ_j +
    α)``, ``A`` the held-out Gram matrix and ``C`` the held-out cross-product
    in the eigenbasis.
    """
    xp = get_namespace(held_gram)
    Q = projections
    shrink = 1.0 / (eigenvalues[None, :] + grid[:, None])
    return (
        held_energy
        - 2.0 * (shrink @ xp.sum(held_cross * Q, axis=1))
        + xp.sum((shrink @ (held_gram * (Q @ Q.T))) * shrink, axis=1)
    )


def _best_alpha(alphas, errors):
    best = int(np.argmin(errors))
    if alphas.size > 1 and best in (0, alphas.size - 1):
        side = "smallest" if best == 0 else "largest"
        warnings.warn(
            f"alpha='auto' chose alpha={alphas[best]:.3g}, the {side} of the "
            f"candidate alphas ({alphas[0]:.3g} to {alphas[-1]:.3g}): the "
            "held-out error may fall further outside the grid. Pass alphas= "
            "reaching beyond it.",
            UserWarning,
            stacklevel=3,
        )
    return float(alphas[best]), alphas, errors
