"""The aligner base: what every aligner does the same way, written once.

An aligner is a transformer fitted on paired anchors ``(X, y)`` (row ``i`` of
each side embeds the same item) that translates source embeddings into the
target space. It is scored by the mean cosine similarity of its translations
to the paired targets (higher is better), optionally weighted per pair.

:class:`BaseAligner` owns, once for every aligner: the fit prologue (the
optional ``target_encoder``, the anchor pair check, ``n_features_in_`` and
``feature_names_in_``), the check of every batch given to ``transform``,
``inverse_transform`` and ``score`` (NumPy, pandas, Dask and torch alike:
width, finiteness, floating dtype, a device that holds data), ``score`` with
``sample_weight``, ``get_feature_names_out`` / ``set_output`` and the tags.

Adding an aligner
-----------------
Derive from :class:`BaseAligner`, store the ``__init__`` parameters as they
are, declare ``_parameter_constraints`` and implement only what differs:

- ``_fit(self, X, Y)``: ``X`` (n, d1) and ``Y`` (n, d2) are checked anchors
  (2-D, floating, finite, as many rows, ``Y`` in ``X``'s namespace, device and
  dtype; Dask arrays only if the class sets ``_accepts_dask = True``).
  Compute everything first, then set the fitted attributes (names ending in
  ``_``), so that a failure leaves a fitted aligner as it was.
- ``_transform(self, X)``: ``X`` is a checked source batch (NumPy float32 or
  float64, or a floating tensor; finite; ``n_features_in_`` wide). Return the
  translations in ``X``'s namespace, device and dtype.
- ``_inverse_transform(self, Y)`` where the map can be undone: ``Y`` is a
  checked target batch. ``inverse_transform`` exists only then.
- Weighted anchors: give the class a ``fit(self, X, y, sample_weight=None)``
  that returns ``self._fit_anchors(X, y, sample_weight=sample_weight)`` (as
  :class:`~skalign._affine.AffineMapAligner` does); ``_fit`` then receives
  checked float64 weights as ``sample_weight``.

Set ``_checks_spread = True`` to refuse anchors that do not vary (see
:func:`~skalign._validation.check_anchor_spread`), and override
``_check_anchors`` only to accept other anchors (``SelfLearningAligner``'s
unpaired NaN rows): ``_fit`` receives what it returns, ``(X, Y, ...)``.
Then add the aligner to ``tests/test_beyond_common.py``: scikit-learn's
checks, the weighted score, and ``_every_aligner`` (the shared input checks).
"""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import is_dask_array, take_rows, to_namespace_of, to_numpy
from ._preprocessing import relative_weights
from ._sklearn_compat import _check_feature_names, _fit_context, _num_samples
from ._validation import (
    check_anchor_pair,
    check_anchor_spread,
    check_dask_anchor_pair,
    check_embeddings,
    check_pair_weights,
)
from .metrics import mean_cosine_similarity, paired_cosines

__doctest_requires__ = {("target_column_names",): ["pandas"]}


def _has_inverse(aligner):
    """Whether the aligner can undo its map: it implements
    ``_inverse_transform`` and (for aligners built on another, e.g. a base
    without an inverse) ``_inverse_available()`` says so."""
    if not hasattr(aligner, "_inverse_transform"):
        return False
    available = getattr(aligner, "_inverse_available", None)
    return available is None or available()


class BaseAligner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the aligners: fit prologue, input checks, score, tags.

    See the module's docstring for the contract of a subclass.
    """

    # Whether _fit accepts Dask anchors (statistics computed block by block).
    _accepts_dask = False
    # Whether fit refuses anchors whose rows are all the same vector.
    _checks_spread = False

    # weights reach fit only once asked for (set_fit_request(sample_weight=True)),
    # so routing weights to score alone (cross_val_score) keeps working
    __metadata_request__fit = {"sample_weight": False}

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the aligner on paired anchors, optionally weighted.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source anchor embeddings.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Target anchor embeddings, row i paired with row i of ``X`` (raw
            inputs when the aligner has a ``target_encoder``). Required: the
            None default lets ``fit_transform(X)`` refuse with a message
            naming ``y`` instead of a missing-argument error.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each pair. In the anchor statistics of
            :class:`~skalign.LatentAligner` and
            :class:`~skalign.evaluation.NaiveAligner` (means, spreads,
            cross-products), integer weights give exactly the fit on repeated
            rows; the other aligners' descriptions say what a weight means
            there. Weights beyond ``2**±256`` are first divided by a power of
            two (their sums would overflow or lose precision; a ridge
            ``alpha`` then applies to the rescaled weights). Routed by
            meta-estimators when requested with
            ``set_fit_request(sample_weight=True)``.

        Returns
        -------
        self : object
            The fitted aligner.
        """
        return self._fit_anchors(X, y, sample_weight=sample_weight)

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
        return self._transform(self._check_source(X))

    @available_if(_has_inverse)
    def inverse_transform(self, X):
        """Translate target-space embeddings back into the source space.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_target_features)

        Returns
        -------
        X_source : ndarray or torch.Tensor of shape (n_samples, n_features)
            Same namespace, device and floating dtype as ``X``.
        """
        check_is_fitted(self)
        return self._inverse_transform(self._check_target(X))

    def score(self, X, y, sample_weight=None):
        """Mean cosine similarity between translated ``X`` and ``y``.

        Higher is better, so :class:`~sklearn.model_selection.GridSearchCV`
        can compare aligners without a ``scoring`` argument. To choose by a
        downstream decoder's score instead, see
        :func:`~skalign.make_downstream_scorer`.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source embeddings.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Their paired target embeddings.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each pair: the score is then the weighted
            mean of the cosines (routed by ``cross_val_score`` and
            ``GridSearchCV`` when metadata routing is enabled and requested
            with ``set_score_request(sample_weight=True)``).

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        translated, Y, rows = self._scored_pairs(X, y)
        if sample_weight is None:
            return mean_cosine_similarity(Y, translated)
        weights = check_pair_weights(sample_weight, _num_samples(X))
        return weighted_mean_cosine(
            Y, translated, weights if rows is None else weights[rows]
        )

    def _fit_anchors(self, X, y, sample_weight=None):
        """The fit prologue, ``_fit`` and the bookkeeping every fit shares."""
        names = target_column_names(y)
        y, encoder = self._encode_target(y, refit=True)
        anchors = self._check_anchors(X, y)
        if sample_weight is None:
            self._fit(*anchors)
        else:
            weights = check_pair_weights(
                sample_weight, anchors[0].shape[0], min_positive=2
            )
            self._check_weighted_spread(anchors, weights)
            self._fit(*anchors, sample_weight=weights)
        self._record_fit(X, anchors[1], encoder, names)
        return self

    # -- the shared checks -----------------------------------------------------

    def _check_anchors(self, X, y):
        """Checked anchors ``(X, Y)``: see :func:`check_anchor_pair`."""
        if is_dask_array(X):
            if not self._accepts_dask:
                raise TypeError(
                    f"{type(self).__name__} fits in memory and got Dask anchors. "
                    "Compute them first (X.compute(), y.compute()), or fit a "
                    "LatentAligner, whose statistics are computed block by block."
                )
            return X, check_dask_anchor_pair(X, y, estimator=self)
        X, Y = check_anchor_pair(X, y, estimator=self)
        if self._checks_spread:
            check_anchor_spread(
                X,
                Y,
                transform_type=getattr(self, "transform_type", None),
                estimator=self,
            )
        return X, Y

    def _check_weighted_spread(self, anchors, weights):
        """:func:`check_anchor_spread` of the pairs of positive weight, when
        weights leave some out (zero weights could keep copies of one pair)."""
        X, Y = anchors[:2]
        if not self._checks_spread or is_dask_array(X) or np.all(weights > 0):
            return
        kept = np.flatnonzero(weights > 0)
        check_anchor_spread(
            take_rows(X, kept),
            take_rows(Y, kept),
            transform_type=getattr(self, "transform_type", None),
            estimator=self,
        )

    def _check_source(self, X):
        """A source batch: feature names as at fit, 2-D, floating, finite,
        ``n_features_in_`` wide (tensors stay on their device)."""
        _check_feature_names(self, X, reset=False)
        X = check_embeddings(X, input_name="X", estimator=self)
        self._check_width(X, self.n_features_in_, "source")
        return X

    def _check_target(self, Y, input_name="X"):
        """A target-space batch, as :meth:`_check_source` (no feature names)."""
        Y = check_embeddings(Y, input_name=input_name, estimator=self)
        self._check_width(Y, self._n_features_out, "target", input_name)
        return Y

    def _check_target_names(self, target_names):
        """Refuse a target DataFrame whose columns differ from those fitted on
        (renamed or reordered columns would be compared, or added up, as
        other features); ``target_names`` from :func:`target_column_names`."""
        fitted = getattr(self, "_target_names", None)
        if fitted is None or target_names is None:
            return
        if not np.array_equal(fitted, target_names):
            raise ValueError(
                f"The target columns of y ({list(target_names)[:5]}...) differ "
                f"from those the aligner was fitted on ({list(fitted)[:5]}...). "
                "Pass y with the same columns in the same order (e.g. "
                "y[aligner.get_feature_names_out()])."
            )

    def _check_width(self, X, expected, side, input_name="X"):
        if X.shape[1] != expected:
            raise ValueError(
                f"{input_name} has {X.shape[1]} features, but "
                f"{type(self).__name__} is expecting {expected} features as input "
                f"({side} space). Pass embeddings from the same {side} encoder the "
                "aligner was fitted on."
            )

    # -- the shared fit bookkeeping ---------------------------------------------

    def _encode_target(self, y, *, refit):
        """``y`` through the aligner's ``target_encoder`` (a clone fitted on it
        when ``refit``, else the fitted one), and that encoder (None if none)."""
        template = getattr(self, "target_encoder", None)
        if template is None or y is None:
            return y, None
        encoder = clone(template).fit(y) if refit else self.target_encoder_
        return encoder.transform(y), encoder

    def _record_fit(self, X, Y, encoder, target_names=None):
        """What every fit records: input features, target width and column
        names (``target_names`` from :func:`target_column_names`), encoder."""
        validate_data(self, X, reset=True, skip_check_array=True)
        self._n_targets = int(Y.shape[1])
        self._target_names = None if encoder is not None else target_names
        if encoder is not None:
            self.target_encoder_ = encoder

    def get_feature_names_out(self, input_features=None):
        """Names of the translated features: the target's column names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against ``feature_names_in_`` as scikit-learn does; the
            output names do not depend on them.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The columns of the DataFrame target given to :meth:`fit`, else
            ``"<classname>0"``, ``"<classname>1"``, ...
        """
        names = super().get_feature_names_out(input_features)
        target_names = getattr(self, "_target_names", None)
        return names if target_names is None else target_names.copy()

    def _scored_pairs(self, X, y):
        """``(translated X, y in its namespace, rows kept or None)``."""
        encoder = getattr(self, "target_encoder_", None)
        if encoder is not None:
            y = encoder.transform(y)
        self._check_target_names(target_column_names(y))
        translated = self.transform(X)
        Y = self._check_target(y, input_name="y")
        return translated, to_namespace_of(Y, translated), None

    @property
    def _n_features_out(self):
        return self._n_targets

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


def target_column_names(y):
    """The string column names of a DataFrame target, else None.

    Examples
    --------
    >>> import pandas as pd
    >>> target_column_names(pd.DataFrame({"t0": [1.0], "t1": [2.0]}))
    array(['t0', 't1'], dtype=object)
    >>> target_column_names([[1.0, 2.0]]) is None
    True
    """
    columns = getattr(y, "columns", None)
    if columns is None or not all(isinstance(name, str) for name in columns):
        return None
    return np.asarray(list(columns), dtype=object)


def weighted_mean_cosine(Y, translated, weights):
    """Weighted mean of the paired rows' cosine similarities (zero rows: 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._base import weighted_mean_cosine
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> weighted_mean_cosine(Y, np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([3, 1]))
    0.75
    """
    weights = relative_weights(weights)
    if weights.sum() == 0:
        raise ValueError("sample_weight sums to zero; give some pair a weight > 0.")
    return float(np.average(to_numpy(paired_cosines(Y, translated)), weights=weights))
