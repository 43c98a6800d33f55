"""NaiveAligner: the paper's floor, zero-padding without any alignment."""

from sklearn.base import _fit_context
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from .._aligner import LatentAligner
from .._backend import get_namespace, solve_dtype
from .._preprocessing import anchor_statistics, compose_affine_map, normalize_rows
from .._validation import check_anchor_pair


class NaiveAligner(LatentAligner):
    """Feed source embeddings to the target side unaligned: the stitching floor.

    The paper's *naive* baseline: the source embedding is zero-padded (or
    truncated) to the target width and handed to the target's decoder as if
    the two encoders shared a space. It is a :class:`~skalign.LatentAligner`
    whose estimated map is replaced by the identity: the same anchor
    statistics, standardisation, padding and de-normalisation, the same
    ``transform``, ``inverse_transform`` and ``score``, so the gap between the
    two measures what the alignment itself contributes and nothing else.
    Switch ``center`` and ``std_scaling`` off for raw zero-padding.

    Parameters
    ----------
    center : bool, default=True
        Subtract the source anchors' mean before padding and add the target
        anchors' mean after, as :class:`~skalign.LatentAligner` does.
    std_scaling : bool, default=True
        Divide by the source anchors' per-feature standard deviation before
        padding and multiply by the target's after.
    l2_normalize : bool, default=False
        Scale every row to unit norm first, as :class:`~skalign.LatentAligner`
        does with the same parameter.

    Attributes
    ----------
    coef_ : ndarray of shape (n_target_features, n_features)
        The identity, padded with zero rows or truncated.
    intercept_ : ndarray of shape (n_target_features,)
        Zeros.
    x_mean_, x_scale_ : ndarray of shape (n_features,)
        Source anchor statistics.
    y_mean_, y_scale_ : ndarray of shape (n_target_features,)
        Target anchor statistics.
    l2_normalize_ : bool
        ``l2_normalize`` at fit time, used by :meth:`transform`.
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

    # The map is fixed: no solver, no penalty. ``inverse_transform`` treats it
    # as the isometry it is on the kept coordinates.
    transform_type = "ortho"
    # Nothing to accumulate: the identity map is known from the first batch's
    # widths, so LatentAligner's incremental fit does not apply.
    partial_fit = available_if(lambda _: False)(LatentAligner.partial_fit)

    _parameter_constraints: dict = {
        key: LatentAligner._parameter_constraints[key]
        for key in ("center", "std_scaling", "l2_normalize")
    }

    def __init__(self, *, center=True, std_scaling=True, l2_normalize=False):
        self.center = center
        self.std_scaling = std_scaling
        self.l2_normalize = l2_normalize

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Record the anchors' statistics and the target width.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Source anchor embeddings.
        y : array-like or torch.Tensor of shape (n_samples, n_target_features)
            Target anchor embeddings, row i paired with row i of ``X``.

        Returns
        -------
        self : NaiveAligner
            The fitted aligner.
        """
        X_checked, Y = check_anchor_pair(X, y, estimator=self)
        xp = get_namespace(X_checked, Y)
        dtype, work = X_checked.dtype, solve_dtype(xp, X_checked)
        Xw, Yw = xp.astype(X_checked, work), xp.astype(Y, work)
        if self.l2_normalize:
            Xw, Yw = normalize_rows(Xw), normalize_rows(Yw)
        stats = dict(center=self.center, std_scaling=self.std_scaling)
        x_mean, x_scale = anchor_statistics(Xw, **stats)
        y_mean, y_scale = anchor_statistics(Yw, **stats)
        coef = xp.eye(Yw.shape[1], Xw.shape[1], dtype=work)
        intercept = xp.zeros(Yw.shape[1], dtype=work)
        weights, bias = compose_affine_map(
            coef, intercept, x_mean, x_scale, y_mean, y_scale
        )
        validate_data(self, X, reset=True, skip_check_array=True)
        for name, value in {
            "coef_": coef,
            "intercept_": intercept,
            "x_mean_": x_mean,
            "x_scale_": x_scale,
            "y_mean_": y_mean,
            "y_scale_": y_scale,
            "_weights": weights,
            "_bias": bias,
        }.items():
            setattr(self, name, xp.astype(value, dtype))
        self.l2_normalize_ = bool(self.l2_normalize)
        self._isometry = True
        return self
