"""AnchorKernelAligner: translate through similarities to the anchors, no solve."""

from numbers import Integral, Real

import numpy as np

from ._backend import get_namespace, is_torch_array, take_rows, to_namespace_of
from ._base import BaseAligner
from ._preprocessing import normalize_rows, row_norms
from ._sklearn_compat import Interval
from ._topk import top_k


class AnchorKernelAligner(BaseAligner):
    """Translate each embedding into a weighted mean of target anchors.

    The relative-representation / ASIF idea: a source embedding is described
    by its cosine similarities to the source anchors, and its translation is
    the average of the paired target anchors, weighted by a softmax of its
    ``n_neighbors`` largest similarities divided by ``temperature``. Nothing
    is solved: fitting stores the anchors. A zero embedding, equally similar
    to every anchor, translates to the mean of all target anchors. A cheap
    nonlinear baseline for the linear maps of :class:`LatentAligner`.

    Weighted anchors (``fit(X, y, sample_weight=w)``) weigh each anchor's
    target in the average: anchor ``i`` among the ``n_neighbors`` gets
    ``w_i exp(s_i / temperature)`` before normalisation, and a zero
    embedding translates to the ``w``-weighted mean of the target anchors.
    An anchor of weight ``w_i`` thus counts as ``w_i`` copies of itself in
    the softmax, but as one anchor among the ``n_neighbors`` (copies of an
    anchor would take several of those places). So integer weights give the
    translation of the repeated anchors exactly (up to rounding) when every
    anchor is averaged (``n_neighbors=None``, or at least the number of
    anchors repeated), not otherwise. A zero weight removes the anchor, and
    uniform weights give the unweighted translation.

    Parameters
    ----------
    n_neighbors : int >= 1 or None, default=10
        Anchors each translation averages (the most similar ones, at most
        the number of anchors); None uses all anchors.
    temperature : float > 0, default=0.05
        Softmax temperature of the cosine similarities: small values approach
        the nearest anchor's target, large ones the plain mean of the
        ``n_neighbors`` targets.

    Attributes
    ----------
    source_anchors_ : ndarray or torch.Tensor of shape (n_anchors, n_features)
        The source anchors scaled to unit norm (zero rows stay zero).
    target_anchors_ : ndarray or torch.Tensor of shape (n_anchors, n_target_features)
        Their paired target anchors.
    anchor_weights_ : ndarray or torch.Tensor of shape (n_anchors,)
        Weight of each anchor, divided by the largest (all ones when fitted
        without ``sample_weight``). Anchors of zero weight are not stored.
    n_neighbors_ : int or None
        ``n_neighbors`` at fit time, used by :meth:`transform`.
    temperature_ : float
        ``temperature`` at fit time, used by :meth:`transform`.
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features,)
        Source width and, for ``X`` with string column names, feature names.

    See Also
    --------
    LatentAligner : Linear maps solved from the anchors.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign import AnchorKernelAligner
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> Y = np.array([[0.0, 0.0, 2.0], [4.0, 0.0, 0.0]])
    >>> aligner = AnchorKernelAligner(temperature=0.01).fit(X, Y)
    >>> aligner.transform([[0.9, 0.1]]).round(3).tolist()
    [[0.0, 0.0, 2.0]]
    >>> warm = aligner.set_params(temperature=100.0).fit(X, Y)
    >>> warm.transform([[0.9, 0.1]]).round(2).tolist()
    [[1.99, 0.0, 1.0]]
    """

    _parameter_constraints: dict = {
        "n_neighbors": [None, Interval(Integral, 1, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_neighbors=10, *, temperature=0.05):
        self.n_neighbors = n_neighbors
        self.temperature = temperature

    _checks_spread = True

    def _fit(self, X, Y, sample_weight=None):
        """Store the anchors (the source ones scaled to unit norm) and their
        weights relative to the largest (zero-weight anchors dropped)."""
        weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        kept = np.flatnonzero(weights > 0)
        if kept.size < X.shape[0]:
            X, Y = take_rows(X, kept), take_rows(Y, kept)
        weights = weights[kept] / weights.max()
        self.source_anchors_ = normalize_rows(X)
        self.target_anchors_ = Y
        self.anchor_weights_ = to_namespace_of(weights, Y)
        self.n_neighbors_, self.temperature_ = self.n_neighbors, float(self.temperature)

    def _transform(self, X):
        anchors = to_namespace_of(self.source_anchors_, X)
        targets = to_namespace_of(self.target_anchors_, X)
        similarities = normalize_rows(X) @ anchors.T
        k = anchors.shape[0] if self.n_neighbors_ is None else self.n_neighbors_
        values, indices = _top_k(similarities, min(k, anchors.shape[0]))
        xp = get_namespace(values)
        anchor_weights = to_namespace_of(self.anchor_weights_, X)
        with np.errstate(over="ignore"):  # -inf logits at tiny temperatures: weight 0
            weights = xp.exp((values - values[:, :1]) / self.temperature_)
        weights = weights * anchor_weights[indices]
        weights = weights / xp.sum(weights, axis=1, keepdims=True)
        translated = _spread(weights, indices, anchors.shape[0]) @ targets
        # a zero row has no direction: it is equally similar to every anchor,
        # so it translates to the (weighted) mean of all target anchors (not
        # to the first n_neighbors in storage order)
        zero = row_norms(X) == 0
        if bool(xp.any(zero)):
            mean = anchor_weights @ targets / xp.sum(anchor_weights)
            translated = xp.where(zero, mean, translated)
        return translated


def _spread(weights, indices, n_columns):
    """Dense (n_samples, n_columns) matrix holding ``weights`` at ``indices``."""
    if is_torch_array(weights):
        import torch

        dense = torch.zeros(
            (weights.shape[0], n_columns), dtype=weights.dtype, device=weights.device
        )
        return dense.scatter_(1, indices, weights)
    dense = np.zeros((weights.shape[0], n_columns), dtype=weights.dtype)
    np.put_along_axis(dense, indices, weights, axis=1)
    return dense


def _top_k(similarities, k):
    """The ``k`` largest values per row, descending, and their column indices."""
    if is_torch_array(similarities):
        return similarities.topk(k, dim=1)
    indices, values = top_k(similarities, k)  # partial selection, stable ties
    return values, indices
