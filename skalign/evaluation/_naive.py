"""NaiveAligner: the paper's floor, zero-padding without any alignment."""

from .._affine import AffineMapAligner
from .._backend import get_namespace, solve_dtype
from .._preprocessing import anchor_statistics, normalize_rows


class NaiveAligner(AffineMapAligner):
    """Feed source embeddings to the target side unaligned: the stitching floor.

    The paper's *naive* baseline: the source embedding is zero-padded (or
    truncated) to the target width and handed to the target's decoder as if
    the two encoders shared a space. It is :class:`~skalign.LatentAligner`'s
    pipeline with the estimated map replaced by the identity: the same anchor
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
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features,)
        Source width and, for ``X`` with string column names, feature names.

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
        "l2_normalize": ["boolean"],
    }

    def __init__(self, *, center=True, std_scaling=True, l2_normalize=False):
        self.center = center
        self.std_scaling = std_scaling
        self.l2_normalize = l2_normalize

    def _fit(self, X, Y, sample_weight=None):
        """Record the anchors' statistics and the identity between the widths."""
        xp = get_namespace(X, Y)
        work = solve_dtype(xp, X)
        Xw, Yw = xp.astype(X, work), xp.astype(Y, work)
        if self.l2_normalize:
            Xw, Yw = normalize_rows(Xw), normalize_rows(Yw)
        stats = dict(
            center=self.center, std_scaling=self.std_scaling, weights=sample_weight
        )
        statistics = (*anchor_statistics(Xw, **stats), *anchor_statistics(Yw, **stats))
        coef = xp.eye(Yw.shape[1], Xw.shape[1], dtype=work)
        intercept = xp.zeros(Yw.shape[1], dtype=work)
        self._set_affine_map(coef, intercept, statistics, like=X)
