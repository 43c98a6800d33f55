"""NaiveAligner: the paper's floor, zero-padding without any alignment."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .._preprocessing import anchor_statistics, compose_affine_map
from .._validation import check_anchor_pair


class NaiveAligner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Feed source embeddings to the target side unaligned: the stitching floor.

    The paper's *naive* baseline: the source embedding is zero-padded (or
    truncated) to the target width and handed to the target's decoder as if
    the two encoders shared a space. It runs the same pipeline as
    :class:`~skalign.LatentAligner` (standardise each side with its anchors'
    statistics, map, de-normalise with the target's) with the estimated map
    replaced by the identity, so the gap between the two measures what the
    alignment itself contributes and nothing else. Switch ``center`` and
    ``std_scaling`` off for raw zero-padding.

    Parameters
    ----------
    center : bool, default=True
        Subtract the source anchors' mean before padding and add the target
        anchors' mean after, as :class:`~skalign.LatentAligner` does.
    std_scaling : bool, default=True
        Divide by the source anchors' per-feature standard deviation before
        padding and multiply by the target's after.

    Attributes
    ----------
    x_mean_, x_scale_ : ndarray of shape (n_features,)
        Source anchor statistics.
    y_mean_, y_scale_ : ndarray of shape (n_target_features,)
        Target anchor statistics.
    n_features_in_ : int
        Number of source features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features,)
        Source feature names, when ``X`` has string column names.

    See Also
    --------
    skalign.LatentAligner : The same pipeline with an estimated map.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.evaluation import NaiveAligner
    >>> X, Y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 3))
    >>> NaiveAligner(center=False, std_scaling=False).fit(X, Y).transform(X)
    array([[1., 2., 0.],
           [3., 4., 0.]])
    """

    _parameter_constraints: dict = {
        "center": ["boolean"],
        "std_scaling": ["boolean"],
    }

    def __init__(self, *, center=True, std_scaling=True):
        self.center = center
        self.std_scaling = std_scaling

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Record the anchors' statistics and the target width.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source anchor embeddings.
        y : array-like of shape (n_samples, n_target_features)
            Target anchor embeddings, row i paired with row i of ``X``.

        Returns
        -------
        self : NaiveAligner
            The fitted aligner.
        """
        X_checked, Y = check_anchor_pair(X, y, estimator=self)
        stats = dict(center=self.center, std_scaling=self.std_scaling)
        x_mean, x_scale = anchor_statistics(np.asarray(X_checked, np.float64), **stats)
        y_mean, y_scale = anchor_statistics(np.asarray(Y, np.float64), **stats)
        validate_data(self, X, reset=True, skip_check_array=True)
        self.x_mean_, self.x_scale_ = x_mean, x_scale
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        identity = np.eye(Y.shape[1], X_checked.shape[1])
        self._weights, self._bias = compose_affine_map(
            identity, np.zeros(Y.shape[1]), x_mean, x_scale, y_mean, y_scale
        )
        return self

    def transform(self, X):
        """Zero-pad (or truncate) standardised ``X`` to the target width.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_padded : ndarray of shape (n_samples, n_target_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return X @ self._weights.astype(X.dtype) + self._bias.astype(X.dtype)

    @property
    def _n_features_out(self):
        return self.y_mean_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
