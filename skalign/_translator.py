"""What every aligner shares: its score and its scikit-learn tags.

An aligner is a transformer fitted on paired anchors ``(X, y)`` that
translates source embeddings into the target space; it is scored by the mean
cosine similarity of its translations to the paired targets (higher is
better), optionally weighted per pair.
"""

import numpy as np
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._backend import to_namespace_of, to_numpy
from ._validation import check_embeddings
from .metrics import mean_cosine_similarity, paired_cosines


class TranslatorMixin:
    """Mixin for aligners: ``score`` (weighted mean cosine) and target tags.

    Place it before scikit-learn's mixins and ``BaseEstimator``. Subclasses
    may override :meth:`_scored_pairs` to prepare the targets (an encoder,
    unpaired rows).
    """

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
        weights = _check_pair_weights(sample_weight, _num_samples(X))
        return weighted_mean_cosine(
            Y, translated, weights if rows is None else weights[rows]
        )

    def _scored_pairs(self, X, y):
        """``(translated X, y in its namespace, rows kept or None)``."""
        translated = self.transform(X)
        Y = check_embeddings(y, input_name="y", estimator=self)
        return translated, to_namespace_of(Y, translated), None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _check_pair_weights(sample_weight, n_pairs):
    weights = np.asarray(to_numpy(sample_weight), dtype=np.float64)
    if weights.shape != (n_pairs,) or not np.all(weights >= 0):
        raise ValueError(
            f"sample_weight must be non-negative of shape ({n_pairs},), one "
            f"weight per pair, got shape {weights.shape}. Pass one weight per row "
            "of X."
        )
    return weights


def weighted_mean_cosine(Y, translated, weights):
    """Weighted mean of the paired rows' cosine similarities (zero rows: 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._translator import weighted_mean_cosine
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> weighted_mean_cosine(Y, np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([3, 1]))
    0.75
    """
    if weights.sum() == 0:
        raise ValueError("sample_weight sums to zero; give some pair a weight > 0.")
    return float(np.average(to_numpy(paired_cosines(Y, translated)), weights=weights))
