"""Solvers for the four alignment maps, and their public functional twin.

Each solver takes paired, already pre-processed anchors ``X`` (n, d1) and ``Y``
(n, d2) and returns ``coef`` of shape (d2, d1) with ``Y ≈ X @ coef.T +
intercept``. They work on NumPy arrays and torch tensors alike (CPU or CUDA)
through the array API, and never call a least-squares driver that assumes full
rank (CUDA's ``gels``): every closed form goes through one symmetric
eigendecomposition or one thin SVD.
"""

import functools
import math
import warnings
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController

from ._alpha import auto_alpha_in_memory
from ._backend import (
    array_device,
    get_namespace,
    is_torch_array,
    solve_dtype,
)
from ._linalg import nonzero_eigh
from ._optional import import_optional
from ._preprocessing import side_magnitude
from ._sklearn_compat import Interval, StrOptions, validate_params
from ._statistics import mirror_lower
from ._validation import check_anchor_pair, check_anchor_spread

TRANSFORM_TYPES = ("affine", "linear", "l-ortho", "ortho")
SOLVERS = ("closed-form", "adam")
ORTHOGONAL_COMPLETIONS = ("span", "full")

# The Cholesky fast path needs a reciprocal condition number this many times
# above the eigendecomposition's rank cut-off.
_WELL_CONDITIONED = 1e3
# Adam stops once the loss improved by less than `tol` (relative) over this
# many steps.
_ADAM_WINDOW = 20


@functools.cache
def _blas_controller():
    """The process's BLAS libraries (NumPy's and SciPy's OpenBLAS), found once."""
    return ThreadpoolController()


def one_blas_thread():
    """Context manager running BLAS and LAPACK on one thread, for SciPy's calls.

    NumPy and SciPy wheels each bundle an OpenBLAS. Threads that SciPy's pool
    leaves spinning after a call compete with NumPy's next GEMMs (measured
    2-3x slower on 2 cores), so SciPy's ``d``-sized factorisations (cheap
    next to the products) run on one thread. NumPy's own factorisations keep
    its thread pool (a 768 x 768 ``eigh`` takes 65 ms on 2 threads, 110 ms
    on one). The libraries are looked up once per process (a fresh
    ``threadpool_limits`` scans them on every call, ~4 ms).
    """
    return _blas_controller().limit(limits=1, user_api="blas")


class Alignment(NamedTuple):
    """Result of :func:`fit_alignment`: ``Y ≈ X @ coef.T + intercept``.

    Attributes
    ----------
    coef : array of shape (n_target_features, n_features)
        The linear part (the paper's R).
    intercept : array of shape (n_target_features,)
        The translation (the paper's b); zero for ``linear``, ``l-ortho`` and
        ``ortho``.
    alpha : float
        Ridge strength used (chosen by cross-validation when
        ``alpha="auto"``); 0.0 for
        ``ortho``, which has no penalty.
    n_iter : int or None
        Adam steps taken (``solver="adam"``), None for closed forms.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign import fit_alignment
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> alignment = fit_alignment(X, 2 * X + 1, "affine")
    >>> bool(np.allclose(alignment.coef, 2 * np.eye(2)))
    True
    >>> alignment.intercept.round(6).tolist()
    [1.0, 1.0]
    >>> coef, intercept, alpha, n_iter = alignment
    >>> alpha, n_iter
    (0.0, None)
    """

    coef: Any
    intercept: Any
    alpha: float
    n_iter: int | None


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like"],
        "transform_type": [StrOptions(set(TRANSFORM_TYPES))],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "orthogonal_completion": [StrOptions(set(ORTHOGONAL_COMPLETIONS))],
        "check_input": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def fit_alignment(
    X,
    Y,
    transform_type="ortho",
    *,
    alpha=0.0,
    solver="closed-form",
    learning_rate=1e-3,
    max_iter=20_000,
    tol=1e-6,
    random_state=None,
    orthogonal_completion="span",
    check_input=True,
):
    """Estimate the map ``T`` with ``Y ≈ T(X)`` from paired anchors.

    The functional twin of :class:`~skalign.LatentAligner`, without its
    pre-processing (as :func:`sklearn.linear_model.ridge_regression` is to
    :class:`~sklearn.linear_model.Ridge`).

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
        Source anchors.
    Y : array-like or torch.Tensor of shape (n_samples, n_target_features)
        Target anchors, row i paired with row i of ``X``.
    transform_type : {"affine", "linear", "l-ortho", "ortho"}, default="ortho"
        - ``"ortho"``: orthogonal Procrustes, ``coef = (U Vᵀ)ᵀ`` from the thin
          SVD ``XᵀY = U S Vᵀ``.
        - ``"linear"``: least squares without intercept (minimum norm when the
          anchors do not determine it, i.e. ``n_samples < n_features``).
        - ``"affine"``: least squares with an intercept, exact (it is the
          optimum the paper's gradient descent approaches).
        - ``"l-ortho"``: the ``linear`` matrix replaced by its orthogonal polar
          factor ``U Vᵀ`` (thin SVD).
    alpha : float >= 0 or "auto", default=0.0
        Ridge penalty ``alpha * ||coef||²`` for ``linear``, ``affine`` and
        ``l-ortho``. ``"auto"`` picks it by 5-fold cross-validation (row
        ``i`` in fold ``i mod 5``) over 41 strengths log-spaced around the
        mean eigenvalue of the Gram matrix, from per-fold statistics (see
        the user guide). Ignored by ``ortho``.
    solver : {"closed-form", "adam"}, default="closed-form"
        ``"adam"`` reproduces the paper's gradient-descent fit (Adam on the
        mean squared error, float32, PyTorch's ``nn.Linear`` initialisation),
        seeded and run until converged; for ``affine``, ``linear`` and
        ``l-ortho`` with ``alpha=0``.
    learning_rate : float, default=1e-3
        Adam's step size (``solver="adam"``; the paper's value).
    max_iter : int, default=20_000
        Most Adam steps (``solver="adam"``). A ``ConvergenceWarning`` is
        issued if they run out first.
    tol : float or None, default=1e-6
        Adam stops when the loss improves by less than ``tol`` (relative) over
        20 steps; None runs exactly ``max_iter`` steps (latentis' fixed-step
        fit, no warning).
    random_state : int, RandomState instance or None, default=None
        Seeds Adam's initialisation.
    orthogonal_completion : {"span", "full"}, default="span"
        What ``ortho`` and ``l-ortho`` do outside the span of the anchors,
        where the data do not determine the map (fewer anchors than
        features); ignored by ``affine`` and ``linear``.

        - ``"span"``: the minimum-norm polar factor, an isometry on the
          anchors' span and zero on its orthogonal complement.
        - ``"full"``: the paper's map, ``U Vᵀ`` of the SVD with every
          singular direction kept (as :func:`scipy.linalg.orthogonal_procrustes`
          and latentis compute it): a (semi-)orthogonal matrix whose action
          off the span is the SVD's arbitrary completion. Costs one SVD of
          the ``d1 × d2`` matrix.

        Both agree on the span, and when the anchors determine the map.
    check_input : bool, default=True
        Validate ``X`` and ``Y``; pass False only for arrays already checked.

    Returns
    -------
    alignment : Alignment
        Named tuple ``(coef, intercept, alpha, n_iter)`` in the namespace,
        device and dtype of ``X``.

    Notes
    -----
    The paper zero-pads the smaller side to ``d = max(d1, d2)`` and solves a
    square problem. That is the same map as the thin problem solved here: for
    least squares the padded columns of ``X`` are zero, so the minimum-norm
    solution has zero rows there, and padded columns of ``Y`` are fitted by
    zero and dropped; for Procrustes ``[XᵀY, 0]`` (or its transpose) has the
    same singular vectors as ``XᵀY`` on its non-zero part, so the block that
    survives the final truncation is ``U Vᵀ`` of the thin SVD. Solving the
    thin problem skips an SVD of a ``d × d`` matrix.

    When ``n_samples`` is smaller than the feature counts, ``XᵀY`` and the
    least-squares matrix have rank at most ``n_samples``: the ``ortho`` and
    ``l-ortho`` maps are still exact isometries (all singular values one) but
    their action outside the span of the anchors is not determined by the
    data. The minimum-norm ``linear`` matrix divides by the anchors' smallest
    singular values, so its polar factor (``l-ortho``) follows noise and can
    fall to chance on real embeddings; a ridge penalty (``alpha="auto"``)
    weights directions by their variance instead and, as ``alpha`` grows,
    ``l-ortho`` tends to ``ortho``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skalign import fit_alignment
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> R = ortho_group.rvs(4, random_state=0)
    >>> result = fit_alignment(X, X @ R.T, "ortho")
    >>> bool(np.allclose(result.coef, R))
    True
    """
    if check_input:
        X, Y = check_anchor_pair(X, Y, estimator="fit_alignment")
        check_anchor_spread(
            X, Y, transform_type=transform_type, estimator="fit_alignment"
        )
        magnitudes = (side_magnitude(X), side_magnitude(Y))
        if magnitudes != (1.0, 1.0):
            # squares of each side would overflow or underflow: solved on
            # the sides divided by their powers of two, then brought back
            alignment = fit_alignment(
                X / magnitudes[0],
                Y / magnitudes[1],
                transform_type,
                alpha=alpha,
                solver=solver,
                learning_rate=learning_rate,
                max_iter=max_iter,
                tol=tol,
                random_state=random_state,
                orthogonal_completion=orthogonal_completion,
                check_input=False,
            )
            return _in_anchor_units(alignment, transform_type, magnitudes)
    full = orthogonal_completion == "full"
    if solver == "adam":
        return _fit_by_adam(
            X,
            Y,
            transform_type,
            alpha=alpha,
            learning_rate=learning_rate,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
            full=full,
        )
    xp = get_namespace(X, Y)
    if alpha == "auto" and transform_type != "ortho":
        alpha, _, _ = auto_alpha_in_memory(
            X, Y, fit_intercept=transform_type == "affine"
        )
    out_dtype = X.dtype
    work = solve_dtype(xp, X)
    X, Y = xp.astype(X, work, copy=False), xp.astype(Y, work, copy=False)
    intercept = xp.zeros(Y.shape[1], dtype=work, device=array_device(X))
    alpha_used = 0.0
    if transform_type == "ortho":
        coef = orthogonal_procrustes(X, Y, full=full)
    elif transform_type == "affine":
        x_mean, y_mean = xp.mean(X, axis=0), xp.mean(Y, axis=0)
        coef, alpha_used = ridge_least_squares(X - x_mean, Y - y_mean, alpha)
        intercept = y_mean - x_mean @ coef.T
    elif transform_type == "linear":
        coef, alpha_used = ridge_least_squares(X, Y, alpha)
    else:
        coef, alpha_used = orthogonalized_least_squares(X, Y, alpha, full=full)
    return Alignment(
        xp.astype(coef, out_dtype, copy=False),
        xp.astype(intercept, out_dtype, copy=False),
        alpha_used,
        None,
    )


def _in_anchor_units(alignment, transform_type, magnitudes):
    """An :class:`Alignment` solved on ``X / m_x`` and ``Y / m_y`` (powers of
    two), as the map between the anchors themselves.

    Least squares scale by ``m_y / m_x`` (the intercept by ``m_y``); the
    isometries (``ortho``, ``l-ortho``) are the polar factor of the same
    matrix up to a positive factor, so they stay as they are.
    """
    if transform_type in ("ortho", "l-ortho"):
        return alignment
    x_magnitude, y_magnitude = magnitudes
    exponent = math.frexp(y_magnitude)[1] - math.frexp(x_magnitude)[1]
    coef = None
    if abs(exponent) <= 1020:
        with np.errstate(over="ignore"):
            coef = alignment.coef * math.ldexp(1.0, exponent)
        xp = get_namespace(coef)
        coef = coef if bool(xp.all(xp.isfinite(coef))) else None
    if coef is None:
        raise ValueError(
            f"The anchors' scales differ by a factor of about 2**{exponent} between "
            "the source and the target, beyond what a float64 map between them "
            "can hold. Divide one side by a power of two (e.g. both to about 1) "
            "before aligning."
        )
    return alignment._replace(coef=coef, intercept=alignment.intercept * y_magnitude)


def solve_from_moments(
    moments,
    transform_type,
    alpha,
    *,
    x_center,
    x_scale,
    y_center,
    y_scale,
    orthogonal_completion="span",
):
    """The map in the standardised spaces from the anchors' moments alone.

    The anchors are standardised as ``(x - x_center) / x_scale`` and ``(y -
    y_center) / y_scale``; the matrices the solvers need are the moments
    about those centres, scaled, so the standardised anchors are never formed.
    ``affine`` uses the moments about the means (its intercept absorbs any
    offset). Rank decisions use ``moments.resolution``: with products taken
    in float32 a direction weaker than ``d · 1.2e-7`` of the strongest counts
    as absent (:class:`~skalign.LatentAligner` takes them in float64).

    Parameters
    ----------
    moments : AnchorMoments
    transform_type : {"affine", "linear", "l-ortho", "ortho"}
    alpha : float >= 0
    x_center, x_scale : array of shape (n_features,)
    y_center, y_scale : array of shape (n_targets,)
    orthogonal_completion : {"span", "full"}, default="span"
        As in :func:`fit_alignment`.

    Returns
    -------
    coef : array of shape (n_targets, n_features)
    intercept : array of shape (n_targets,)

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._solvers import solve_from_moments
    >>> from skalign._statistics import AnchorMoments
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> moments = AnchorMoments.of_chunk(X, 2 * X + 1)
    >>> zero, one = np.zeros(2), np.ones(2)
    >>> coef, intercept = solve_from_moments(moments, "affine", 0.0, x_center=zero,
    ...     x_scale=one, y_center=zero, y_scale=one)
    >>> bool(np.allclose(coef, 2 * np.eye(2))), intercept.round(8).tolist()
    (True, [1.0, 1.0])
    """
    xp = get_namespace(moments.xx)
    fit_intercept = transform_type == "affine"
    about = (moments.x_mean, moments.y_mean) if fit_intercept else (x_center, y_center)
    least_squares = transform_type != "ortho"
    gram, cross = moments.scaled(*about, x_scale, y_scale, gram=least_squares)
    eps = moments.resolution
    full = orthogonal_completion == "full"
    if transform_type == "ortho" and full:
        coef = orthogonal_polar_factor(cross).T
    elif transform_type == "ortho":
        coef = _polar_by_gram(cross, _rcond(cross, eps)).T
    else:
        # both working matrices are overwritten: the solution takes cross's place
        coef = _ridge_from_gram(gram, cross, alpha, eps=eps).T
        del gram, cross
        if transform_type == "l-ortho" and full:
            coef = orthogonal_polar_factor(coef)
        elif transform_type == "l-ortho":
            coef = _polar_by_gram(coef, _rcond(coef, eps))
    intercept = xp.zeros_like(y_center)
    if fit_intercept:
        x_offset = (moments.x_mean - x_center) / x_scale
        intercept = (moments.y_mean - y_center) / y_scale - x_offset @ coef.T
    return coef, intercept


def _rcond(W, eps):
    """Relative singular-value cut-off at resolution ``eps``, never below what
    the squared spectrum of a float64 Gram matrix resolves."""
    return max(max(W.shape) * eps, (min(W.shape) * np.finfo(np.float64).eps) ** 0.5)


def _ridge_from_gram(gram, cross, alpha, *, eps):
    """``(G + αI)⁺ B``: Cholesky when clearly well conditioned, else eigh.

    Works in place on NumPy input (``cross``, in Fortran order, receives the
    solution; ``gram`` is left as it was on the eigendecomposition path and
    overwritten by its factor otherwise).
    """
    # Cholesky wherever the Gram matrix is clearly non-singular at float64
    # precision and at the resolution of the data it was accumulated from.
    min_rcond = max(
        _WELL_CONDITIONED * gram.shape[0] * np.finfo(np.float64).eps, 10 * eps
    )
    if isinstance(gram, np.ndarray):
        solution = _cholesky_solve(gram, np.asfortranarray(cross), alpha, min_rcond)
        if solution is not None:
            return solution
    eigenvalues, basis = nonzero_eigh(gram, gram.shape[0], eps)
    return basis @ ((basis.T @ cross) / (eigenvalues + alpha)[:, None])


def orthogonal_procrustes(X, Y, *, full=False):
    """Orthogonal Procrustes: the polar factor of ``XᵀY``.

    Returns ``coef`` of shape (d2, d1) maximising ``trace(coef @ XᵀY)`` among
    maps with singular values at most one, i.e. minimising
    ``||X @ coef.T - Y||`` over isometries. When ``XᵀY`` has full rank
    ``min(d1, d2)`` (enough anchors) this is the semi-orthogonal map
    :func:`scipy.linalg.orthogonal_procrustes` returns for square inputs,
    transposed. When fewer anchors than features leave it rank-deficient,
    the optimum is not unique and the minimum-norm one is returned: an
    isometry on the span of the anchors and zero on its orthogonal
    complement, computed through the ``n × n`` Gram matrices (no factorisation
    of a ``d × d`` matrix). ``full=True`` returns the paper's map instead,
    :func:`orthogonal_polar_factor` of ``XᵀY``: every singular direction
    kept, so a (semi-)orthogonal matrix whatever the rank.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._solvers import orthogonal_procrustes
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> orthogonal_procrustes(X, X[:, ::-1]).round(6).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    if full:
        return orthogonal_polar_factor(X.T @ Y).T
    n_samples, n_features = X.shape
    if n_samples < min(n_features, Y.shape[1]):
        spectrum = _GramSpectrum.of(X, Y)
        return _polar_through_samples(X, spectrum, spectrum.projections).T
    return polar_factor(X.T @ Y).T


def orthogonalized_least_squares(X, Y, alpha, *, full=False):
    """The ``l-ortho`` map: polar factor of the (ridge) least-squares matrix.

    When ``n_samples < n_features`` the least-squares matrix ``Xᵀ A`` has rank
    at most ``n_samples``; its polar factor is then taken through the
    samples, as in :func:`orthogonal_procrustes`, reusing the Gram
    eigendecomposition of the least-squares step. ``full=True`` returns
    :func:`orthogonal_polar_factor` of the least-squares matrix instead (the
    paper's map: every singular direction kept).

    Returns
    -------
    coef : array of shape (n_targets, n_features)
    alpha : float
    """
    spectrum = _GramSpectrum.of(X, Y)
    if full:
        solution = spectrum.ridge_solution(X, alpha)
        return orthogonal_polar_factor(solution).T, float(alpha)
    if spectrum.primal:
        return polar_factor(spectrum.ridge_solution(X, alpha)).T, float(alpha)
    shrunk = spectrum.shrunk_projections(alpha)
    return _polar_through_samples(X, spectrum, shrunk).T, float(alpha)


def polar_factor(W, eps=None):
    """Nearest partial isometry: ``U Vᵀ`` over the non-zero singular values of ``W``.

    Singular values below ``max(W.shape) · eps · s_max`` count as zero (``eps``
    defaults to the machine epsilon of ``W``'s dtype), so a rank-deficient
    ``W`` gives the minimum-norm polar factor rather than an arbitrary
    completion.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._solvers import polar_factor
    >>> polar_factor(np.diag([3.0, 0.5])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> polar_factor(np.diag([3.0, 0.0])).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    xp = get_namespace(W)
    eps = xp.finfo(W.dtype).eps if eps is None else eps
    U, s, Vt = xp.linalg.svd(W, full_matrices=False)
    keep = s > s[0] * max(W.shape) * eps
    return U[:, keep] @ Vt[keep, :]


def orthogonal_polar_factor(W):
    """``U Vᵀ`` of the thin SVD of ``W``, every singular direction kept.

    The orthogonal factor of the polar decomposition as
    :func:`scipy.linalg.orthogonal_procrustes` computes it: orthonormal
    columns (``d1 >= d2``) or rows, whatever the rank of ``W``. Where ``W``
    is rank-deficient the directions of its zero singular values are paired
    as the SVD happens to return them (not determined by ``W``); see
    :func:`polar_factor` for the minimum-norm alternative.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._solvers import orthogonal_polar_factor
    >>> Q = orthogonal_polar_factor(np.diag([3.0, 0.0]))
    >>> bool(np.allclose(Q.T @ Q, np.eye(2))), Q[0].tolist()
    (True, [1.0, 0.0])
    """
    xp = get_namespace(W)
    U, _, Vt = xp.linalg.svd(W, full_matrices=False)
    return U @ Vt


def ridge_least_squares(X, Y, alpha):
    """Ridge (or minimum-norm) least squares without intercept, via one eigh.

    Factorises the smaller Gram matrix, ``XᵀX`` when ``n_samples >=
    n_features`` and ``XXᵀ`` otherwise, and reuses it for every ridge
    strength. Eigenvalues below ``max(n, d) · eps · λ_max`` are treated as
    zero, so ``alpha=0`` returns the minimum-norm solution (the
    pseudo-inverse), never an amplification of rounding noise.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_targets)
    alpha : float >= 0
        Resolve ``"auto"`` first with :func:`cross_validated_alpha`.

    Returns
    -------
    coef : array of shape (n_targets, n_features)
    alpha : float
        The strength used.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._solvers import ridge_least_squares
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> coef, _ = ridge_least_squares(X, X @ np.array([[2.0], [3.0]]), 0.0)
    >>> coef.round(8).tolist()
    [[2.0, 3.0]]
    """
    solution = _solve_normal_equations(X, Y, alpha)
    if solution is not None:
        return solution.T, float(alpha)
    spectrum = _GramSpectrum.of(X, Y)
    return spectrum.ridge_solution(X, alpha).T, float(alpha)


def _solve_normal_equations(X, Y, alpha):
    """Cholesky solve of ``(XᵀX + αI) W = XᵀY`` when that is safe, else None.

    The fast path for NumPy input with at least as many anchors as features:
    a Cholesky factorisation costs a fraction of an eigendecomposition. It is
    taken only when LAPACK's condition estimate shows that no eigenvalue is
    anywhere near the rank cut-off of the eigendecomposition path, so both
    paths give the same (unique) solution.
    """
    n_samples, n_features = X.shape
    if is_torch_array(X) or n_samples < n_features:
        return None
    # (Yᵀ X)ᵀ is XᵀY laid out in Fortran order, which LAPACK solves in place.
    min_rcond = _WELL_CONDITIONED * max(n_samples, n_features) * np.finfo(X.dtype).eps
    return _cholesky_solve(X.T @ X, (Y.T @ X).T, alpha, min_rcond)


def _cholesky_solve(gram, rhs, alpha, min_rcond):
    """Solve ``(gram + αI) W = rhs`` by Cholesky, or None when not clearly safe.

    Safe means LAPACK's reciprocal condition estimate is at least
    ``min_rcond``: far above the relative rank cut-off of the
    eigendecomposition path, so both paths give the same (unique) solution.
    Works in place: ``rhs`` (Fortran order) receives the solution and
    ``gram`` the factor; when None is returned, ``gram`` holds its input again.
    """
    if is_torch_array(gram):
        return None
    diagonal = np.diagonal(gram).copy()
    gram[np.diag_indices_from(gram)] += alpha
    norm = _one_norm(gram)
    # a symmetric matrix is its own transpose: hand LAPACK the Fortran-ordered
    # view so that it factorises in place, without a copy
    square = gram if gram.flags.f_contiguous else gram.T
    # SciPy's thread pool on one thread: see one_blas_thread
    with one_blas_thread():
        try:
            factor = scipy.linalg.cho_factor(
                square, overwrite_a=True, check_finite=False
            )
        except np.linalg.LinAlgError:
            factor = None
        if factor is not None:
            (pocon,) = scipy.linalg.get_lapack_funcs(("pocon",), (square,))
            rcond, info = pocon(factor[0], norm, uplo="L" if factor[1] else "U")
            if info == 0 and rcond >= min_rcond:
                return scipy.linalg.cho_solve(
                    factor, rhs, overwrite_b=True, check_finite=False
                )
    # not clearly safe: give the caller back its matrix (the factor overwrote
    # the upper triangle of `square` and the diagonal)
    mirror_lower(square)
    np.fill_diagonal(square, diagonal)
    return None


def _one_norm(matrix):
    """``max_j Σ_i |a_ij|`` in row blocks (no temporary of the matrix's size)."""
    step = max(1, 2**21 // max(matrix.shape[1], 1))
    column_sums = np.zeros(matrix.shape[1])
    for start in range(0, matrix.shape[0], step):
        column_sums += np.abs(matrix[start : start + step]).sum(axis=0)
    return float(column_sums.max())


class _GramSpectrum(NamedTuple):
    """Non-zero eigenpairs of the smaller Gram matrix of ``X``, with ``Y`` projected.

    ``primal``: eigenpairs of ``XᵀX`` (``basis`` is d × r) and ``projections =
    Vᵀ XᵀY``; otherwise eigenpairs of ``XXᵀ`` (``basis`` is n × r) and
    ``projections = Uᵀ Y``. Both are r × n_targets.
    """

    primal: bool
    eigenvalues: Any
    basis: Any
    projections: Any

    @classmethod
    def of(cls, X, Y):
        n_samples, n_features = X.shape
        primal = n_samples >= n_features
        gram = X.T @ X if primal else X @ X.T
        eigenvalues, basis = nonzero_eigh(gram, max(n_samples, n_features))
        projections = basis.T @ (X.T @ Y) if primal else basis.T @ Y
        return cls(primal, eigenvalues, basis, projections)

    def shrunk_projections(self, alpha):
        return self.projections / (self.eigenvalues + alpha)[:, None]

    def ridge_solution(self, X, alpha):
        """``(XᵀX + αI)⁺ XᵀY`` of shape (n_features, n_targets)."""
        shrunk = self.shrunk_projections(alpha)
        return self.basis @ shrunk if self.primal else X.T @ (self.basis @ shrunk)


def _polar_through_samples(X, spectrum, weighted_projections):
    """Polar factor of ``Xᵀ U C`` (d1 × d2) from ``XXᵀ = U Λ Uᵀ``, in O(n²d).

    With ``W = Xᵀ U Λ^(-1/2)`` (orthonormal columns), ``Xᵀ U C = W B`` where
    ``B = Λ^(1/2) C`` is only r × d2, so the polar factor is ``W polar(B)``
    and needs a factorisation of ``B``'s smaller Gram matrix only.
    """
    root = spectrum.eigenvalues**0.5
    polar_B = _polar_by_gram(root[:, None] * weighted_projections)
    return X.T @ ((spectrum.basis / root[None, :]) @ polar_B)


def _polar_by_gram(B, rcond=None):
    """Polar factor of a matrix through the eigh of its smaller Gram matrix.

    Two to three times cheaper than an SVD. Singular values below ``rcond ·
    s_max`` count as zero (by default, and at least, those the squared
    spectrum cannot resolve: ``sqrt(size · eps)``).
    """
    size = min(B.shape)
    eps = None if rcond is None else rcond**2 / size
    if B.shape[0] <= B.shape[1]:
        squared, P = nonzero_eigh(B @ B.T, size, eps)
        return P @ ((P.T @ B) / (squared**0.5)[:, None])
    squared, Q = nonzero_eigh(B.T @ B, size, eps)
    return ((B @ Q) / (squared**0.5)[None, :]) @ Q.T


def _fit_by_adam(
    X, Y, transform_type, *, alpha, learning_rate, max_iter, tol, random_state, full
):
    if transform_type == "ortho":
        raise ValueError(
            "solver='adam' fits 'affine', 'linear' and 'l-ortho' maps; 'ortho' "
            "has an exact closed form. Use solver='closed-form'."
        )
    if alpha != 0:
        raise ValueError(
            f"alpha={alpha!r} needs solver='closed-form'; solver='adam' reproduces "
            "the paper's unregularised gradient-descent fit. Set alpha=0.0."
        )
    xp = get_namespace(X, Y)
    coef, intercept, n_iter = adam_least_squares(
        X,
        Y,
        fit_intercept=transform_type == "affine",
        learning_rate=learning_rate,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
    )
    if transform_type == "l-ortho":
        coef = orthogonal_polar_factor(coef) if full else polar_factor(coef)
    return Alignment(
        xp.astype(coef, X.dtype), xp.astype(intercept, X.dtype), 0.0, n_iter
    )


def _check_adam_descended(history, learning_rate):
    """Raise when Adam's loss ended non-finite or above where it started: a
    step size too large for the anchors, whose map would be garbage."""
    first, last = history[0], history[-1]
    if not math.isfinite(last) or last > first:
        raise ValueError(
            f"Adam diverged with learning_rate={learning_rate!r}: the loss went "
            f"from {first:.3g} to {last:.3g}. Lower learning_rate (the paper's "
            "is 1e-3), or use solver='closed-form', which is exact."
        )


def adam_least_squares(
    X, Y, *, fit_intercept, learning_rate, max_iter, tol, random_state
):
    """The paper's gradient-descent fit, run until converged.

    Minimises ``mean((X W + b - Y)²)`` with full-batch Adam in float32 from
    ``torch.nn.Linear``'s initialisation (uniform in ``±1/sqrt(n_features)``),
    as latentis does, but seeded and stopped on a relative tolerance instead of
    after a fixed 300 steps.

    Returns
    -------
    coef : array of shape (n_targets, n_features)
    intercept : array of shape (n_targets,)
    n_iter : int
    """
    torch = import_optional("torch", purpose='solver="adam"')

    if is_torch_array(X):
        device = X.device
        X_t, Y_t = X.to(torch.float32), Y.to(torch.float32)
    else:
        device = torch.device("cpu")
        X_t = torch.from_numpy(np.asarray(X, dtype=np.float32))
        Y_t = torch.from_numpy(np.asarray(Y, dtype=np.float32))
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    generator = torch.Generator(device=device).manual_seed(seed)
    bound = 1.0 / math.sqrt(X_t.shape[1])

    def uniform(*shape):
        draw = torch.rand(*shape, generator=generator, device=device)
        return (2 * draw - 1) * bound

    weight = uniform(X_t.shape[1], Y_t.shape[1]).requires_grad_()
    if fit_intercept:
        bias = uniform(Y_t.shape[1]).requires_grad_()
    else:
        bias = torch.zeros(Y_t.shape[1], device=device)
    params = [weight, bias] if fit_intercept else [weight]
    optimizer = torch.optim.Adam(params, lr=learning_rate)
    history = []
    with torch.enable_grad():
        for step in range(1, max_iter + 1):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(X_t @ weight + bias, Y_t)
            loss.backward()
            optimizer.step()
            history.append(loss.item())
            if tol is not None and step > _ADAM_WINDOW:
                before = history[step - 1 - _ADAM_WINDOW]
                if before - history[-1] <= tol * before:
                    break
        else:
            if tol is not None:  # None: a fixed number of steps, as latentis runs
                warnings.warn(
                    f"Adam did not converge in max_iter={max_iter} steps (loss "
                    f"still improving by more than tol={tol} over {_ADAM_WINDOW} "
                    "steps). Increase max_iter or learning_rate, or use "
                    "solver='closed-form', which is exact.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
    _check_adam_descended(history, learning_rate)
    coef = weight.detach().T.contiguous()
    intercept = bias.detach()
    if is_torch_array(X):
        return coef, intercept, step
    return coef.cpu().numpy(), intercept.cpu().numpy(), step
