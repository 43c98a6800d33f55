"""Score an aligner by what the user cares about: a decoder's metric downstream.

:meth:`LatentAligner.score` (mean cosine in the target space) is a proxy; the
number a user reports is the accuracy of the decoder that reads the
translations (a classifier trained on the target encoder, or a zero-shot
classifier in a text space). Anchors often carry labels (the class of each
anchor image): the scorer built here receives them through scikit-learn's
metadata routing, so ``GridSearchCV(LatentAligner(), grid, scoring=scorer)``
chooses the transform and ``alpha`` by held-out downstream score.
"""

from sklearn.metrics import accuracy_score
from sklearn.utils.metadata_routing import MetadataRequest

from ._sklearn_compat import HasMethods, StrOptions, validate_params


class DownstreamScorer:
    """Callable scorer: ``metric(labels, response)`` of a decoder on translations.

    ``response`` is ``decoder.<response_method>(aligner.transform(X))``.

    Build it with :func:`make_downstream_scorer`.
    """

    def __init__(self, decoder, metric, response_method):
        self.decoder = decoder
        self.metric = metric
        self.response_method = response_method

    def __call__(self, estimator, X, y_true=None, labels=None):
        if labels is None:
            raise ValueError(
                "The downstream scorer needs the anchors' labels. Enable "
                "metadata routing (sklearn.set_config(enable_metadata_routing="
                "True)) and pass them to the search or cross-validation, e.g. "
                "GridSearchCV(...).fit(X, Y, labels=labels) or "
                "cross_val_score(..., params={'labels': labels})."
            )
        response = getattr(self.decoder, self.response_method)(estimator.transform(X))
        return float(self.metric(labels, response))

    def get_metadata_routing(self):
        """The scorer requests ``labels`` (routed to its ``score``)."""
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="labels", alias=True)
        return request

    def __repr__(self):
        return (
            f"make_downstream_scorer({self.decoder!r}, metric="
            f"{getattr(self.metric, '__name__', self.metric)}, "
            f"response_method={self.response_method!r})"
        )


@validate_params(
    {
        "decoder": [
            HasMethods(["predict"]),
            HasMethods(["decision_function"]),
            HasMethods(["predict_proba"]),
        ],
        "metric": [callable],
        "response_method": [
            StrOptions({"predict", "decision_function", "predict_proba"})
        ],
    },
    prefer_skip_nested_validation=True,
)
def make_downstream_scorer(
    decoder, *, metric=accuracy_score, response_method="predict"
):
    """Scorer that rates an aligner by a fitted decoder's score on its translations.

    For model selection of :class:`~skalign.LatentAligner` (transform, ridge
    strength, pre-processing) by the quantity that matters downstream rather
    than by mean cosine: each candidate aligner translates the held-out
    anchors, the fixed ``decoder`` reads them, and ``metric`` compares its
    output with the anchors' labels. The labels reach the scorer through
    metadata routing, so enable it (``sklearn.set_config(
    enable_metadata_routing=True)``) and pass ``labels=`` to ``fit`` of the
    search.

    Parameters
    ----------
    decoder : fitted estimator
        Reads target-space embeddings: a classifier trained on the target
        encoder's embeddings (stitching), or a
        :class:`~skalign.ZeroShotTextSpaceClassifier` with ``aligner=None``
        fitted on the text space (zero-shot).
    metric : callable, default=accuracy_score
        ``metric(labels, response)``, higher is better (e.g.
        :func:`~sklearn.metrics.roc_auc_score` with
        ``response_method="decision_function"``).
    response_method : {"predict", "decision_function", "predict_proba"}, \
            default="predict"
        The decoder's method whose output ``metric`` scores.

    Returns
    -------
    scorer : callable
        ``scorer(aligner, X, Y, labels=labels)``, usable as ``scoring=`` of
        :class:`~sklearn.model_selection.GridSearchCV` or
        :func:`~sklearn.model_selection.cross_val_score`.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skalign import LatentAligner, make_downstream_scorer
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, size=200)
    >>> Y = rng.normal(size=(200, 6)) + 2.0 * labels[:, None]
    >>> X = Y @ rng.normal(size=(6, 8)) + rng.normal(size=(200, 8))
    >>> decoder = LogisticRegression().fit(Y, labels)
    >>> scorer = make_downstream_scorer(decoder)
    >>> grid = {"transform_type": ["ortho", "affine"]}
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = GridSearchCV(LatentAligner(), grid, scoring=scorer, cv=3)
    ...     search = search.fit(X, Y, labels=labels)
    >>> search.best_params_
    {'transform_type': 'affine'}
    >>> bool(search.best_score_ > 0.9)
    True
    """
    return DownstreamScorer(decoder, metric, response_method)
