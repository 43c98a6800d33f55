"""LatentAligner: translate embeddings from one encoder's space into another's."""

import functools
from numbers import Integral, Real

import numpy as np

from ._affine import AffineMapAligner
from ._alignment import solve_alignment, solve_alignment_on_samples
from ._alpha import N_FOLDS
from ._backend import get_namespace, host_view, is_dask_array, solve_dtype
from ._base import target_column_names
from ._preprocessing import normalize_rows, relative_weights
from ._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_feature_names,
    _fit_context,
)
from ._solvers import ORTHOGONAL_COMPLETIONS, SOLVERS, TRANSFORM_TYPES
from ._statistics import (
    accumulate_moments,
    check_batch_scale,
    dask_moments,
    merge_all,
    merge_folds,
)
from ._validation import check_anchor_pair, check_moment_spread, check_pair_weights


class LatentAligner(AffineMapAligner):
    """Translate embeddings of one encoder into the space of another.

    Fitted on paired anchors (the same items embedded by both encoders), it
    estimates a map ``T`` with ``Y ≈ T(X)`` following the paper's recipe [1]_:
    standardise each side with its anchors' statistics, solve for ``T`` (the
    smaller side implicitly zero-padded), translate, and de-normalise with the
    target anchors' statistics. ``transform`` then sends new source embeddings
    into the target space, where a decoder trained on the target encoder (an
    SVM, a prompt-based zero-shot classifier) can read them.

    Parameters
    ----------
    transform_type : {"ortho", "affine", "linear", "l-ortho"}, default="ortho"
        - ``"ortho"``: orthogonal Procrustes [2]_, an isometry (on the anchors'
          span when they are fewer than the features: see
          ``orthogonal_completion``).
        - ``"affine"``: least squares with intercept, ``R x + b``, exact.
        - ``"linear"``: least squares without intercept.
        - ``"l-ortho"``: the ``linear`` matrix made orthogonal (``U Vᵀ``).

        See :func:`~skalign.fit_alignment` for the formulas and what happens
        with fewer anchors than features.
    alpha : float >= 0 or "auto", default=0.0
        Ridge penalty for ``affine``, ``linear`` and ``l-ortho``; 0 gives the
        exact (minimum-norm) least-squares map of the paper. ``"auto"`` picks
        it among ``alphas`` by 5-fold cross-validation (row ``i`` in fold ``i
        mod 5``), computed from the folds' sufficient statistics, so it also
        works with :meth:`partial_fit`; prefer it when there are fewer anchors
        than features, where the unpenalised maps interpolate the anchors.
        ``l-ortho`` takes the strength that is best for its ridge matrix.
        Ignored by ``ortho``.
    alphas : array-like of shape (n_alphas,) or None, default=None
        Candidate strengths for ``alpha="auto"`` (in the standardised spaces,
        like ``alpha``). None scans 41 values log-spaced from 1e-6 to 1e4 times
        the mean eigenvalue of the anchors' Gram matrix. A warning is issued
        when the best one is at either end of the grid.
    center : bool, default=True
        Subtract the anchors' mean from each side before solving (and add the
        target mean back after translating).
    std_scaling : bool, default=True
        Divide each feature by its anchor standard deviation before solving
        and multiply the translation by the target's. Constant features keep
        scale 1. If False, the scale is 1, except for a side so large or
        small (beyond ``2**±256``) that its squares would overflow: that side
        is then divided by a power of two of its own (``alpha`` applies to
        the scaled anchors), which leaves the map unchanged (``ortho`` and
        ``l-ortho`` keep translating in the source's units). Fit, partial_fit
        and Dask arrays share this rule (it lives in the statistics).
    l2_normalize : bool, default=False
        Scale every row (source and target, anchors and new inputs) to unit
        norm before everything else, for encoders whose geometry is cosine.
        Translations then live among unit-norm target embeddings.
    solver : {"closed-form", "adam"}, default="closed-form"
        ``"adam"`` reproduces the paper's gradient-descent fit (seeded, run to
        convergence) for ``affine``, ``linear`` and ``l-ortho``.
    learning_rate : float, default=1e-3
        Adam's step size (``solver="adam"``).
    max_iter : int, default=20_000
        Most Adam steps (``solver="adam"``).
    tol : float or None, default=1e-6
        Adam's relative convergence tolerance (``solver="adam"``); None runs
        exactly ``max_iter`` steps, as latentis does.
    random_state : int, RandomState instance or None, default=None
        Seeds Adam's initialisation (``solver="adam"``).
    orthogonal_completion : {"span", "full"}, default="span"
        What ``ortho`` and ``l-ortho`` do outside the span of the anchors,
        which the anchors leave undetermined when they are fewer than the
        features; ignored by ``affine`` and ``linear``.

        - ``"span"``: an isometry on the anchors' span and zero on its
          orthogonal complement (the minimum-norm solution; translations of
          new inputs keep only their part in the span).
        - ``"full"``: the paper's map, the full (semi-)orthogonal ``U Vᵀ``
          of the SVD, as :func:`scipy.linalg.orthogonal_procrustes` and
          latentis compute it; off the span it pairs directions as the SVD
          happens to return them. One SVD of a ``d1 × d2`` matrix.

        Both agree on the span and whenever the anchors determine the map.
        ``"span"`` scored higher in our measurements (see the user guide).
    target_encoder : transformer or None, default=None
        Applied to ``y`` in :meth:`fit` and :meth:`score` (a clone is fitted),
        so raw paired inputs (images with their reports) can be aligned inside
        a :class:`~sklearn.pipeline.Pipeline`, e.g. an
        :class:`~skalign.extract.EmbeddingExtractor`.

    Attributes
    ----------
    coef_ : ndarray or torch.Tensor of shape (n_target_features, n_features)
        The map in the standardised spaces (the paper's R).
    intercept_ : ndarray or torch.Tensor of shape (n_target_features,)
        Its translation (the paper's b); zero unless ``transform_type="affine"``
        and the anchors were not centred.
    alpha_ : float
        Ridge strength used (the cross-validated choice when ``alpha="auto"``).
    alphas_ : ndarray of shape (n_alphas,)
        The candidates scanned (only when ``alpha="auto"``).
    cv_errors_ : ndarray of shape (n_alphas,)
        Held-out mean squared error of each candidate, per anchor and target
        feature in the standardised target space (only when ``alpha="auto"``);
        plot it against ``alphas_`` to see how flat the optimum is.
    n_samples_seen_ : int
        Number of anchor pairs the map was estimated from (summed over
        :meth:`partial_fit` calls).
    n_iter_ : int
        Adam steps taken; only set by ``solver="adam"`` (a closed form
        iterates nothing, and the attribute is absent).
    l2_normalize_ : bool
        Whether :meth:`transform` scales inputs to unit norm (``l2_normalize``
        at fit time: changing the parameter takes effect at the next fit).
    x_mean_, x_scale_ : ndarray or torch.Tensor of shape (n_features,)
        Source anchor statistics.
    y_mean_, y_scale_ : ndarray or torch.Tensor of shape (n_target_features,)
        Target anchor statistics, used to de-normalise translations.
    target_encoder_ : transformer
        The fitted clone of ``target_encoder`` (only when one is given).
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features,)
        Source width and, for ``X`` with string column names, feature names.

    See Also
    --------
    fit_alignment : The solvers without pre-processing.

    Notes
    -----
    :meth:`inverse_transform` applies the pseudo-inverse of the map: exact
    when the map is injective (e.g. ``ortho`` into a wider space, from more
    anchors than source features), the minimum-norm preimage otherwise, with
    a ``UserWarning``.

    Fitted attributes live where the anchors did: fitting on CUDA tensors
    keeps everything on the GPU, and NumPy or tensor inputs of either kind can
    be transformed afterwards (the map, not the data, is moved).

    References
    ----------
    .. [1] M. Di Folco, E. Chan, M. Hasny, C. I. Bercea and J. A. Schnabel,
       "Semantic Alignment of Unimodal Medical Text and Vision
       Representations", arXiv:2503.04478, 2025. The pre-processing and the
       four maps (``affine``, ``linear``, ``l-ortho``, ``ortho``).
    .. [2] P. H. Schönemann, "A generalized solution of the orthogonal
       Procrustes problem", Psychometrika 31(1), 1-10, 1966 (``ortho``).

    Examples
    --------
    Recover a hidden rotation between two "encoders" from 200 anchors (a
    rotation is an isometry of the raw spaces, so per-feature scaling is
    switched off):

    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skalign import LatentAligner
    >>> rng = np.random.default_rng(0)
    >>> source = rng.normal(size=(300, 8))
    >>> target = source @ ortho_group.rvs(8, random_state=0)
    >>> aligner = LatentAligner("ortho", std_scaling=False)
    >>> aligner = aligner.fit(source[:200], target[:200])
    >>> bool(np.allclose(aligner.transform(source[200:]), target[200:]))
    True
    >>> round(aligner.score(source[200:], target[200:]), 6)
    1.0
    """

    _accepts_dask = True
    _checks_spread = True
    # as for fit: weights reach partial_fit only once requested
    __metadata_request__partial_fit = {"sample_weight": False}

    _parameter_constraints: dict = {
        "transform_type": [StrOptions(set(TRANSFORM_TYPES))],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "alphas": ["array-like", None],
        "center": ["boolean"],
        "std_scaling": ["boolean"],
        "l2_normalize": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "orthogonal_completion": [StrOptions(set(ORTHOGONAL_COMPLETIONS))],
        "target_encoder": [None, HasMethods(["fit", "transform"])],
    }

    def __init__(
        self,
        transform_type="ortho",
        *,
        alpha=0.0,
        alphas=None,
        center=True,
        std_scaling=True,
        l2_normalize=False,
        solver="closed-form",
        learning_rate=1e-3,
        max_iter=20_000,
        tol=1e-6,
        random_state=None,
        orthogonal_completion="span",
        target_encoder=None,
    ):
        self.transform_type = transform_type
        self.alpha = alpha
        self.alphas = alphas
        self.center = center
        self.std_scaling = std_scaling
        self.l2_normalize = l2_normalize
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.orthogonal_completion = orthogonal_completion
        self.target_encoder = target_encoder

    def _fit(self, X, Y, sample_weight=None):
        """The map from checked anchors: from their sufficient statistics
        (streamed over row chunks, or over a Dask array's blocks), or from the
        samples when they are fewer than the features or ``solver="adam"``."""
        self._check_alphas()
        self._check_weights_supported(sample_weight)
        if sample_weight is not None:  # weights beyond 2**±256 rescaled
            sample_weight = relative_weights(sample_weight)
        if is_dask_array(X):
            if self.solver == "adam":
                raise ValueError(
                    "Dask anchors need solver='closed-form': the paper's gradient "
                    "descent (solver='adam') fits in memory only."
                )
            moments = dask_moments(
                X,
                Y,
                n_folds=self._n_folds(),
                transform_chunk=self._chunk_transform(),
                gram=self.transform_type != "ortho",
                weights=sample_weight,
            )
            check_moment_spread(
                merge_all(moments), transform_type=self.transform_type, estimator=self
            )
            fitted = self._solve(moments)
            like = np.empty(0, dtype=X.dtype)
        else:
            X_work, Y_work = self._working_arrays(X, Y)
            # weighted alpha="auto" cross-validates from weighted fold moments
            weighted_search = sample_weight is not None and self._n_folds() > 1
            if self._solves_on_samples(X_work) and not weighted_search:
                fitted = self._fit_on_samples(X_work, Y_work, sample_weight)
                moments = None
            else:
                moments = self._accumulate(
                    X_work, Y_work, offset=0, weights=sample_weight
                )
                fitted = self._solve(moments)
            like = X
        self._set_fitted(fitted, like=like)
        self._moments = moments
        self._statistics_params = self._current_statistics_params()
        self.n_samples_seen_ = int(X.shape[0])

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of anchors and re-estimate the map from all rows seen.

        The aligner keeps only sufficient statistics of the anchors (means,
        spreads, ``XᵀX``, ``XᵀY``; one set per fold with ``alpha="auto"``),
        so memory stays ``O(d²)`` whatever the number of batches, and after
        any sequence of calls the map equals :meth:`fit` on all rows seen (to
        float64 rounding for float64 batches; see the user guide for float32).
        All batches must come from the same namespace and device.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source anchor embeddings of this batch.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Their paired target embeddings (raw inputs when ``target_encoder``
            is set: the encoder is fitted on the first batch).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each pair of this batch (see :meth:`fit`).

        Returns
        -------
        self : LatentAligner
            The updated aligner.
        """
        if self.solver == "adam":
            raise ValueError(
                "partial_fit needs solver='closed-form': the paper's gradient "
                "descent (solver='adam') fits in memory only. Use fit, or set "
                "solver='closed-form'."
            )
        first = not hasattr(self, "n_samples_seen_")
        if not first:
            self._check_statistics_params_unchanged()
        if not first and self._moments is None:
            raise ValueError(
                "This aligner was fitted by fit on fewer anchors than features, "
                "which solves on the samples' side and keeps no statistics to "
                "add to. Call partial_fit from the start (on a fresh aligner) "
                "to accumulate batches."
            )
        target_names = target_column_names(y)
        y, encoder = self._encode_target(y, refit=first)
        X_checked, Y_checked = check_anchor_pair(X, y, estimator=self, min_samples=1)
        X_work, Y = self._working_arrays(X_checked, Y_checked)
        self._check_alphas()
        if sample_weight is not None:
            # a later batch may weigh nothing (it adds no statistics)
            sample_weight = check_pair_weights(
                sample_weight, X_work.shape[0], min_positive=int(first)
            )
            _check_streamed_weight_range(sample_weight)
        self._check_weights_supported(sample_weight)
        if not first:
            _check_feature_names(self, X, reset=False)
            self._check_target_names(target_names)
            self._check_width(X_work, self.n_features_in_, "source")
            self._check_width(Y, self._n_targets, "target", "y")
            if not self.l2_normalize:
                check_batch_scale(self._moments, X_work, Y)
        offset = 0 if first else self.n_samples_seen_
        moments = merge_folds(
            None if first else self._moments,
            self._accumulate(X_work, Y, offset=offset, weights=sample_weight),
        )
        fitted = self._solve(moments)
        self._set_fitted(fitted, like=X_checked)
        self._moments = moments
        self.n_samples_seen_ = offset + X_checked.shape[0]
        if first:
            self._statistics_params = self._current_statistics_params()
            self._record_fit(X, Y, encoder, target_names)
        return self

    def _current_statistics_params(self):
        """The parameters that shape the statistics or how they are solved."""
        params = {name: getattr(self, name) for name in _STATISTICS_PARAMS}
        if params["alphas"] is not None:  # a copy: a list may change in place
            params["alphas"] = np.array(params["alphas"], dtype=float)
        return params

    def _check_statistics_params_unchanged(self):
        """Refuse a partial_fit whose parameters differ from those the
        accumulated statistics were taken (and are solved) with."""
        for name, before in self._statistics_params.items():
            now = getattr(self, name)
            if not _same_setting(before, now):
                same_repr = repr(before) == repr(now)
                other = " (another object)" if same_repr else ""
                back = "the object the first batch used" if same_repr else before
                raise ValueError(
                    f"partial_fit adds to statistics accumulated with {name}="
                    f"{before!r}, but {name} is now {now!r}{other}: the batches "
                    f"would be mixed under two settings. Set {name} back to "
                    f"{back!s}, or call fit (or partial_fit on a fresh clone) "
                    f"to start again with {name}={now!r}."
                )

    def _working_arrays(self, X, Y):
        """The arrays the closed forms compute on: NumPy views of CPU tensors.

        A CPU tensor's statistics and factorisations run through NumPy and
        SciPy (zero-copy; 1.5-2x faster than torch's CPU kernels at 10,000 x
        768); the fitted attributes go back to the tensor's namespace. The
        paper's Adam fit keeps the tensors.
        """
        if self.solver != "closed-form":
            return X, Y
        return host_view(X), host_view(Y)

    def _solves_on_samples(self, X):
        """Whether fit solves from the samples (n × n side) instead of moments.

        The paper's gradient descent needs the samples; with fewer anchors
        than features the ``n × n`` kernels are the cheaper factorisations
        (``alpha="auto"`` included).
        """
        return self.solver == "adam" or X.shape[0] < X.shape[1]

    def _check_alphas(self):
        if self.alphas is None:
            return
        try:
            alphas = np.asarray(self.alphas, dtype=np.float64)
        except (TypeError, ValueError):
            alphas = np.asarray([np.nan])  # refused below, naming the value
        if (
            alphas.ndim != 1
            or alphas.size == 0
            or not np.all(alphas >= 0)
            or not np.all(np.isfinite(alphas))
        ):
            raise ValueError(
                f"alphas must be a non-empty 1-D sequence of finite ridge strengths "
                ">= 0 (numbers), "
                f"got {self.alphas!r}. Pass e.g. alphas=np.logspace(-2, 4, 25), or "
                "None for the default grid."
            )

    def _n_folds(self):
        auto = self.alpha == "auto" and self.transform_type != "ortho"
        return N_FOLDS if auto else 1

    def _check_weights_supported(self, sample_weight):
        if sample_weight is None:
            return
        if self.solver == "adam":
            raise ValueError(
                "sample_weight needs solver='closed-form': the paper's gradient "
                "descent (solver='adam') is unweighted. Set solver='closed-form'."
            )

    def _accumulate(self, X, Y, *, offset, weights=None):
        """Per-fold moments of a batch (rows normalised first if asked)."""
        return accumulate_moments(
            X,
            Y,
            n_folds=self._n_folds(),
            offset=offset,
            transform_chunk=self._chunk_transform(),
            gram=self.transform_type != "ortho",
            weights=weights,
        )

    def _chunk_transform(self):
        """What each chunk of anchors goes through before its moments.

        Rows scaled to unit norm (``l2_normalize``), and for ``ortho`` the
        chunk cast to the solver's precision first: the cross-products of
        float32 anchors are then exact (float32 values multiply exactly in
        float64). Float32 products of real embeddings carried rounding of
        1e-5 of the strongest direction, which the polar factor amplifies
        by ``1 / (s_i + s_j)`` among weak directions (15% output error on
        600 x 384 text anchors). Least squares casts inside its statistics.
        """
        if self.transform_type != "ortho":
            return _unit_rows if self.l2_normalize else None
        return functools.partial(_in_solve_dtype, unit_rows=self.l2_normalize)

    def _solve(self, folds):
        """The fitted map from per-fold moments."""
        return solve_alignment(
            folds,
            transform_type=self.transform_type,
            alpha=self.alpha,
            alphas=self.alphas,
            center=self.center,
            std_scaling=self.std_scaling,
            orthogonal_completion=self.orthogonal_completion,
        )

    def _fit_on_samples(self, X, Y, sample_weight=None):
        """The in-memory path: standardised copies, :func:`fit_alignment`."""
        return solve_alignment_on_samples(
            X,
            Y,
            transform_type=self.transform_type,
            alpha=self.alpha,
            alphas=self.alphas,
            center=self.center,
            std_scaling=self.std_scaling,
            l2_normalize=self.l2_normalize,
            sample_weight=sample_weight,
            solver=self.solver,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            orthogonal_completion=self.orthogonal_completion,
        )

    def _set_fitted(self, fitted, *, like):
        """Store a :class:`FittedMap`, arrays in the namespace, device and
        dtype of ``like``."""
        self._set_affine_map(
            fitted.coef, fitted.intercept, fitted.statistics, like=like
        )
        self.alpha_ = fitted.alpha
        if fitted.n_iter is None:
            self.__dict__.pop("n_iter_", None)  # a closed form, after an adam fit
        else:
            self.n_iter_ = fitted.n_iter
        if fitted.cv_alphas is None:
            self.__dict__.pop("alphas_", None)
            self.__dict__.pop("cv_errors_", None)
        else:
            self.alphas_, self.cv_errors_ = fitted.cv_alphas, fitted.cv_errors


# partial_fit refuses a change of these after fit or partial_fit: they decide
# what the statistics hold (Gram matrix or its diagonal, folds, unit rows, the
# encoded targets) or how they are standardised and solved.
_STATISTICS_PARAMS = (
    "transform_type",
    "alpha",
    "alphas",
    "center",
    "std_scaling",
    "l2_normalize",
    "solver",
    "target_encoder",
)


def _check_streamed_weight_range(weights):
    """Refuse batch weights whose sums over batches could overflow or lose
    precision: unlike one fit, the batches cannot be rescaled together."""
    positive = weights[weights > 0]
    in_range = 2.0**-256 <= positive.min(initial=1.0) <= 2.0**256
    if not in_range or positive.max(initial=1.0) > 2.0**256:
        raise ValueError(
            f"partial_fit got sample_weight from {positive.min():.3g} to "
            f"{positive.max():.3g}; the statistics it adds up across batches need "
            "positive weights between 2**-256 and 2**256. Divide every batch's "
            "weights by one constant (only their ratios matter), or fit all "
            "anchors at once."
        )


def _same_setting(before, now):
    """Whether two values of a parameter are the same setting (estimators:
    the same object; arrays: equal elements)."""
    if before is now:
        return True
    if before is None or now is None or hasattr(now, "fit") or hasattr(before, "fit"):
        return False
    if isinstance(before, str) or isinstance(now, str):
        return before == now
    return bool(np.array_equal(np.asarray(before), np.asarray(now)))


def _unit_rows(X_chunk, Y_chunk):
    return normalize_rows(X_chunk), normalize_rows(Y_chunk)


def _in_solve_dtype(X_chunk, Y_chunk, *, unit_rows):
    """A chunk pair in the solver's precision (float64 but on MPS), then
    scaled to unit rows if asked."""
    xp = get_namespace(X_chunk, Y_chunk)
    work = solve_dtype(xp, X_chunk)
    X_chunk = xp.astype(X_chunk, work, copy=False)
    Y_chunk = xp.astype(Y_chunk, work, copy=False)
    return _unit_rows(X_chunk, Y_chunk) if unit_rows else (X_chunk, Y_chunk)
