"""From anchors, or their sufficient statistics, to a fitted map: one call each.

:func:`solve_alignment` turns per-fold :class:`~skalign._statistics.AnchorMoments`
(of a fit, of ``partial_fit`` calls, of a Dask array's blocks) into a
:class:`FittedMap`: the anchor statistics that standardise each side, the ridge
strength (cross-validated from the folds for ``alpha="auto"``) and the map in
the standardised spaces. :func:`solve_alignment_on_samples` returns the same
record from in-memory anchors (fewer anchors than features, or the paper's
gradient descent). :class:`~skalign.LatentAligner` stores the record and
nothing else.
"""

from dataclasses import dataclass
from typing import Any

from ._alpha import cross_validated_alpha, cross_validated_alpha_on_samples
from ._backend import array_device, get_namespace, solve_dtype
from ._preprocessing import (
    anchor_statistics,
    moment_statistics,
    normalize_rows,
    side_magnitude,
    standardize,
)
from ._solvers import fit_alignment, solve_from_moments
from ._statistics import in_anchor_units, merge_all


@dataclass(frozen=True)
class FittedMap:
    """A map fitted between standardised spaces, with what it was fitted with.

    ``y ≈ ((x - x_mean) / x_scale @ coef.T + intercept) * y_scale + y_mean``.

    Attributes
    ----------
    coef : array of shape (n_targets, n_features)
        The map in the standardised spaces (the paper's R).
    intercept : array of shape (n_targets,)
        Its translation (the paper's b).
    statistics : tuple of 4 arrays
        ``(x_mean, x_scale, y_mean, y_scale)``, in the anchors' units.
    alpha : float
        Ridge strength used (0.0 for ``ortho``).
    n_iter : int or None
        Adam steps (``solver="adam"``), None for a closed form.
    cv_alphas, cv_errors : ndarray of shape (n_alphas,) or None
        The candidates and their held-out errors when ``alpha="auto"``.
    """

    coef: Any
    intercept: Any
    statistics: tuple
    alpha: float
    n_iter: int | None = None
    cv_alphas: Any = None
    cv_errors: Any = None


def solve_alignment(
    folds,
    *,
    transform_type,
    alpha=0.0,
    alphas=None,
    center=True,
    std_scaling=True,
    orthogonal_completion="span",
):
    """The fitted map from per-fold anchor moments.

    Parameters
    ----------
    folds : list of AnchorMoments or None
        One entry per fold (``None``: a fold without rows); more than one
        only for ``alpha="auto"``.
    transform_type : {"affine", "linear", "l-ortho", "ortho"}
    alpha : float >= 0 or "auto", default=0.0
        ``"auto"`` picks it from ``alphas`` by cross-validation over the folds.
    alphas : array-like or None, default=None
        Candidates for ``alpha="auto"`` (None: the default grid).
    center, std_scaling : bool, default=True
        How each side is standardised (see :func:`moment_statistics`). The
        moments may hold anchors divided by a power of two per side
        (``AnchorMoments.magnitudes``): the map is solved at that scale and
        the statistics are returned in the anchors' units.
    orthogonal_completion : {"span", "full"}, default="span"
        What ``ortho`` and ``l-ortho`` do off the anchors' span (see
        :func:`~skalign.fit_alignment`).

    Returns
    -------
    fitted : FittedMap

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._alignment import solve_alignment
    >>> from skalign._statistics import accumulate_moments
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    >>> fitted = solve_alignment(accumulate_moments(X, 2 * X + 1),
    ...                          transform_type="affine", std_scaling=False)
    >>> bool(np.allclose(fitted.coef, 2 * np.eye(2))), fitted.alpha
    (True, 0.0)
    """
    total = merge_all(folds)
    x_mean, x_scale, y_mean, y_scale = moment_statistics(
        total, center=center, std_scaling=std_scaling
    )
    standardization = dict(
        x_center=x_mean, x_scale=x_scale, y_center=y_mean, y_scale=y_scale
    )
    cv_alphas = cv_errors = None
    if transform_type == "ortho":
        alpha = 0.0
    elif alpha == "auto" and sum(fold is not None for fold in folds) < 2:
        # one anchor so far (partial_fit's first one-row batch): nothing to
        # hold out, and nothing to penalise once centred; solved unpenalised
        # until a second row arrives
        alpha = 0.0
    elif alpha == "auto":
        alpha, cv_alphas, cv_errors = cross_validated_alpha(
            folds,
            fit_intercept=transform_type == "affine",
            alphas=alphas,
            **standardization,
        )
    coef, intercept = solve_from_moments(
        total,
        transform_type,
        alpha,
        orthogonal_completion=orthogonal_completion,
        **standardization,
    )
    statistics = in_anchor_units(
        (x_mean, x_scale, y_mean, y_scale),
        total.magnitudes,
        same_scale=_keeps_source_units(transform_type, std_scaling),
    )
    return FittedMap(
        coef, intercept, statistics, float(alpha), None, cv_alphas, cv_errors
    )


def solve_alignment_on_samples(
    X,
    Y,
    *,
    transform_type,
    alpha=0.0,
    alphas=None,
    center=True,
    std_scaling=True,
    l2_normalize=False,
    sample_weight=None,
    **solver_params,
):
    """The fitted map from in-memory anchors: standardised copies, solved.

    The samples' side (``n × n`` kernels) is the cheaper one when anchors are
    fewer than features, and the paper's gradient descent needs the samples.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_targets)
        Checked anchors.
    transform_type, alpha, alphas, center, std_scaling
        As in :func:`solve_alignment`.
    l2_normalize : bool, default=False
        Scale every row to unit norm first.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Non-negative weight of each pair (closed forms and a fixed ``alpha``
        only): weighted statistics, means and squared errors, so integer
        weights give the map of repeated rows.
    **solver_params
        ``solver``, ``learning_rate``, ``max_iter``, ``tol``,
        ``random_state``, ``orthogonal_completion`` of
        :func:`~skalign.fit_alignment`.

    Returns
    -------
    fitted : FittedMap
    """
    xp = get_namespace(X, Y)
    X = xp.astype(X, solve_dtype(xp, X), copy=False)
    Y = xp.astype(Y, X.dtype, copy=False)
    if l2_normalize:
        X, Y = normalize_rows(X), normalize_rows(Y)
    stats = dict(center=center, std_scaling=std_scaling, weights=sample_weight)
    x_mean, x_scale = anchor_statistics(X, **stats)
    y_mean, y_scale = anchor_statistics(Y, **stats)
    # without std_scaling, each side divided by its power of two (if any)
    # keeps the solver's squares finite
    magnitudes = (side_magnitude(X), side_magnitude(Y)) if not std_scaling else None
    if magnitudes is not None:
        x_scale, y_scale = x_scale * magnitudes[0], y_scale * magnitudes[1]
    Xs, Ys = standardize(X, x_mean, x_scale), standardize(Y, y_mean, y_scale)
    cv_alphas = cv_errors = None
    searched = alpha == "auto" and transform_type != "ortho"
    if searched and solver_params.get("solver", "closed-form") == "closed-form":
        alpha, cv_alphas, cv_errors = cross_validated_alpha_on_samples(
            Xs, Ys, fit_intercept=transform_type == "affine", alphas=alphas
        )
    if sample_weight is None:
        alignment = fit_alignment(
            Xs, Ys, transform_type, alpha=alpha, check_input=False, **solver_params
        )
    else:
        alignment = _weighted_alignment(Xs, Ys, sample_weight, transform_type, alpha)
    if magnitudes is not None and _keeps_source_units(transform_type, std_scaling):
        y_scale = y_scale / magnitudes[1] * magnitudes[0]
    return FittedMap(
        alignment.coef,
        alignment.intercept,
        (x_mean, x_scale, y_mean, y_scale),
        alignment.alpha,
        alignment.n_iter,
        cv_alphas,
        cv_errors,
    )


def _keeps_source_units(transform_type, std_scaling):
    """An isometry between unscaled spaces translates in the source's units:
    the target's de-normalising scale is the source's, whatever each side was
    divided by to solve."""
    return not std_scaling and transform_type in ("ortho", "l-ortho")


def _weighted_alignment(X, Y, weights, transform_type, alpha):
    """:func:`fit_alignment` on rows weighted by ``weights``: each row scaled by
    the square root of its weight (after centring on the weighted means for
    ``affine``, whose intercept then follows from those means)."""
    xp = get_namespace(X, Y)
    w = xp.asarray(weights, dtype=X.dtype, device=array_device(X))
    root = xp.sqrt(w)[:, None]
    if transform_type != "affine":
        return fit_alignment(
            X * root, Y * root, transform_type, alpha=alpha, check_input=False
        )
    x_mean, y_mean = (w @ X) / xp.sum(w), (w @ Y) / xp.sum(w)
    centred = (X - x_mean) * root, (Y - y_mean) * root
    linear = fit_alignment(*centred, "linear", alpha=alpha, check_input=False)
    return linear._replace(intercept=y_mean - x_mean @ linear.coef.T)
