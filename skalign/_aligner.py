"""LatentAligner: translate embeddings from one encoder's space into another's."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import get_namespace, is_torch_array, solve_dtype, to_namespace_of
from ._preprocessing import (
    anchor_statistics,
    apply_affine_map,
    compose_affine_map,
    invert_affine_map,
    normalize_rows,
    standardize,
)
from ._solvers import SOLVERS, TRANSFORM_TYPES, fit_alignment
from ._validation import check_anchor_pair, check_embeddings
from .metrics import mean_cosine_similarity


class LatentAligner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Translate embeddings of one encoder into the space of another.

    Fitted on paired anchors (the same items embedded by both encoders), it
    estimates a map ``T`` with ``Y ≈ T(X)`` following the paper's recipe:
    standardise each side with its anchors' statistics, solve for ``T`` (the
    smaller side implicitly zero-padded), translate, and de-normalise with the
    target anchors' statistics. ``transform`` then sends new source embeddings
    into the target space, where a decoder trained on the target encoder (an
    SVM, a prompt-based zero-shot classifier) can read them.

    Parameters
    ----------
    transform_type : {"ortho", "affine", "linear", "l-ortho"}, default="ortho"
        - ``"ortho"``: orthogonal Procrustes, an isometry.
        - ``"affine"``: least squares with intercept, ``R x + b``, exact.
        - ``"linear"``: least squares without intercept.
        - ``"l-ortho"``: the ``linear`` matrix made orthogonal (``U Vᵀ``).

        See :func:`~skalign.fit_alignment` for the formulas and what happens
        with fewer anchors than features.
    alpha : float >= 0 or "auto", default=0.0
        Ridge penalty for ``affine``, ``linear`` and ``l-ortho``; 0 gives the
        exact (minimum-norm) least-squares map of the paper. ``"auto"`` picks it
        by generalised cross-validation from the same factorisation; prefer it
        when there are fewer anchors than features, where the unpenalised
        maps interpolate the anchors. Ignored by ``ortho``.
    center : bool, default=True
        Subtract the anchors' mean from each side before solving (and add the
        target mean back after translating).
    std_scaling : bool, default=True
        Divide each feature by its anchor standard deviation before solving
        and multiply the translation by the target's. Constant features keep
        scale 1.
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
    tol : float, default=1e-6
        Adam's relative convergence tolerance (``solver="adam"``).
    random_state : int, RandomState instance or None, default=None
        Seeds Adam's initialisation (``solver="adam"``).
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
        Ridge strength used (the GCV choice when ``alpha="auto"``).
    n_iter_ : int
        Adam steps taken; only set by ``solver="adam"`` (a closed form
        iterates nothing, and the attribute is absent).
    x_mean_, x_scale_ : ndarray or torch.Tensor of shape (n_features,)
        Source anchor statistics.
    y_mean_, y_scale_ : ndarray or torch.Tensor of shape (n_target_features,)
        Target anchor statistics, used to de-normalise translations.
    target_encoder_ : transformer
        The fitted clone of ``target_encoder`` (only when one is given).
    n_features_in_ : int
        Number of source features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features,)
        Source feature names, when ``X`` has string column names.

    See Also
    --------
    fit_alignment : The solvers without pre-processing.

    Notes
    -----
    Fitted attributes live where the anchors did: fitting on CUDA tensors
    keeps everything on the GPU, and NumPy or tensor inputs of either kind can
    be transformed afterwards (the map, not the data, is moved).

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

    _parameter_constraints: dict = {
        "transform_type": [StrOptions(set(TRANSFORM_TYPES))],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "center": ["boolean"],
        "std_scaling": ["boolean"],
        "l2_normalize": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "target_encoder": [None, HasMethods(["fit", "transform"])],
    }

    def __init__(
        self,
        transform_type="ortho",
        *,
        alpha=0.0,
        center=True,
        std_scaling=True,
        l2_normalize=False,
        solver="closed-form",
        learning_rate=1e-3,
        max_iter=20_000,
        tol=1e-6,
        random_state=None,
        target_encoder=None,
    ):
        self.transform_type = transform_type
        self.alpha = alpha
        self.center = center
        self.std_scaling = std_scaling
        self.l2_normalize = l2_normalize
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.target_encoder = target_encoder

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Estimate the map from paired anchors.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source anchor embeddings.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Target anchor embeddings, row i paired with row i of ``X``; or raw
            inputs when ``target_encoder`` is set.

        Returns
        -------
        self : LatentAligner
            The fitted aligner.
        """
        target_encoder = None
        if self.target_encoder is not None and y is not None:
            target_encoder = clone(self.target_encoder).fit(y)
            y = target_encoder.transform(y)
        X_checked, Y = check_anchor_pair(X, y, estimator=self)
        xp = get_namespace(X_checked, Y)
        dtype = X_checked.dtype
        Xw = xp.astype(X_checked, solve_dtype(xp, X_checked), copy=False)
        Yw = xp.astype(Y, Xw.dtype, copy=False)
        if self.l2_normalize:
            Xw, Yw = normalize_rows(Xw), normalize_rows(Yw)
        stats = dict(center=self.center, std_scaling=self.std_scaling)
        x_mean, x_scale = anchor_statistics(Xw, **stats)
        y_mean, y_scale = anchor_statistics(Yw, **stats)
        alignment = fit_alignment(
            standardize(Xw, x_mean, x_scale),
            standardize(Yw, y_mean, y_scale),
            self.transform_type,
            alpha=self.alpha,
            solver=self.solver,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            check_input=False,
        )
        weights, bias = compose_affine_map(
            alignment.coef, alignment.intercept, x_mean, x_scale, y_mean, y_scale
        )
        validate_data(self, X, reset=True, skip_check_array=True)
        self.coef_ = xp.astype(alignment.coef, dtype)
        self.intercept_ = xp.astype(alignment.intercept, dtype)
        self.alpha_ = alignment.alpha
        if alignment.n_iter is None:
            self.__dict__.pop("n_iter_", None)  # a closed form, after an adam fit
        else:
            self.n_iter_ = alignment.n_iter
        self.x_mean_, self.x_scale_ = (
            xp.astype(x_mean, dtype),
            xp.astype(x_scale, dtype),
        )
        self.y_mean_, self.y_scale_ = (
            xp.astype(y_mean, dtype),
            xp.astype(y_scale, dtype),
        )
        self._weights, self._bias = xp.astype(weights, dtype), xp.astype(bias, dtype)
        if target_encoder is not None:
            self.target_encoder_ = target_encoder
        return self

    def transform(self, X):
        """Translate source embeddings into the target space.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        X_translated : ndarray or torch.Tensor of shape (n_samples, n_target_features)
            Same namespace, device and floating dtype as ``X``.
        """
        check_is_fitted(self)
        X = self._check_source(X)
        return apply_affine_map(
            X,
            to_namespace_of(self._weights, X),
            to_namespace_of(self._bias, X),
            unit_rows=self.l2_normalize,
        )

    def inverse_transform(self, X):
        """Translate target-space embeddings back into the source space.

        Uses the pseudo-inverse of the map (its transpose for ``ortho`` and
        ``l-ortho``): exact for ``n_features_in_ <= n_target_features``, the
        minimum-norm preimage otherwise. With ``l2_normalize=True`` the result
        lives among unit-norm source embeddings.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_target_features)

        Returns
        -------
        X_source : ndarray or torch.Tensor of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Y = check_embeddings(X, input_name="X", estimator=self)
        self._check_width(Y, self.coef_.shape[0], "target")
        xp = get_namespace(self.coef_)
        work = solve_dtype(xp, self.coef_)
        weights, bias = invert_affine_map(
            *(
                xp.astype(a, work)
                for a in (
                    self.coef_,
                    self.intercept_,
                    self.x_mean_,
                    self.x_scale_,
                    self.y_mean_,
                    self.y_scale_,
                )
            ),
            isometry=self.transform_type in ("ortho", "l-ortho"),
        )
        return apply_affine_map(
            Y,
            to_namespace_of(weights, Y),
            to_namespace_of(bias, Y),
            unit_rows=self.l2_normalize,
        )

    def score(self, X, y):
        """Mean cosine similarity between translated ``X`` and ``y``.

        Higher is better, so :class:`~sklearn.model_selection.GridSearchCV`
        can compare transforms without a ``scoring`` argument.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source embeddings.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Their paired target embeddings (raw inputs when ``target_encoder``
            is set).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if hasattr(self, "target_encoder_"):
            y = self.target_encoder_.transform(y)
        translated = self.transform(X)
        Y = check_embeddings(y, input_name="y", estimator=self)
        self._check_width(Y, self.coef_.shape[0], "target")
        return mean_cosine_similarity(to_namespace_of(Y, translated), translated)

    @property
    def _n_features_out(self):
        return self.coef_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # array_api_support stays False: NumPy arrays and torch tensors are
        # supported (sklearn's check_array_api_input passes for torch, see
        # tests/test_array_api.py) but not every namespace: array_api_strict
        # arrays fail, and the tag would make parametrize_with_checks run them.
        return tags

    def _check_source(self, X):
        if is_torch_array(X):
            X = check_embeddings(X, input_name="X", estimator=self)
            self._check_width(X, self.n_features_in_, "source")
            return X
        return validate_data(self, X, reset=False, dtype=(np.float64, np.float32))

    def _check_width(self, X, expected, side):
        if X.shape[1] != expected:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {expected} features as input ({side} space). Pass "
                f"embeddings from the same {side} encoder the aligner was fitted on."
            )
