"""Cross-modal retrieval through an aligned text space.

Once image embeddings are translated into a text encoder's space (or come from
a CLIP-style model that shares one), images and texts are ranked against each
other by cosine similarity: :func:`retrieve` ranks a gallery for every query,
in either direction (image → text or text → image), and
:class:`ReportRetriever` suggests, for a new image, the reports of the anchor
images whose text embeddings are nearest to its translation. Score rankings
with :func:`skalign.metrics.precision_at_k` and
:func:`skalign.metrics.mean_average_precision_at_k`.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import pairwise_distances_chunked
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._backend import to_numpy
from ._csls import csls_from_cosine, neighborhood_similarity
from ._text_space import check_text_width, encode_texts, fit_aligner

__all__ = [
    "ReportRetriever",
    "retrieve",
]


@validate_params(
    {
        "queries": ["array-like"],
        "gallery": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "hubness": [StrOptions({"csls"}), None],
        "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def retrieve(queries, gallery, *, k=None, hubness=None, hubness_neighbors=10):
    """Rank the gallery by cosine similarity to each query.

    Memory stays bounded for large galleries: similarities are computed in
    chunks of queries sized by scikit-learn's ``working_memory``.

    In high dimensions a few gallery items (hubs) are near every query and
    crowd the top of every ranking. ``hubness="csls"`` ranks by cross-domain
    similarity local scaling instead, ``2 cos(q, g) - r(q) - r(g)``, where
    ``r(q)`` is the mean cosine similarity of the query to its
    ``hubness_neighbors`` nearest gallery items and ``r(g)`` that of the
    gallery item to its nearest queries: hubs are penalised. The penalties
    are computed among the queries and the gallery given, so a gallery
    item's score depends on the whole query batch.

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
        E.g. image embeddings translated into the text space (image → text),
        or text embeddings (text → image).
    gallery : array-like of shape (n_gallery, n_features)
        The items to rank, in the same space as ``queries``.
    k : int >= 1 or None, default=None
        Number of best items kept per query, at most ``n_gallery``; None keeps
        the whole ranking.
    hubness : {"csls"} or None, default=None
        None ranks by cosine similarity; ``"csls"`` by the hubness-aware
        CSLS similarity (see above).
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties (clipped to the number of
        queries or gallery items).

    Returns
    -------
    indices : ndarray of shape (n_queries, k)
        Gallery rows, most similar first; ties in gallery order.
    similarities : ndarray of shape (n_queries, k)
        Their cosine similarities (a zero vector has similarity 0), or their
        CSLS similarities (in ``[-4, 4]``) with ``hubness="csls"``.

    See Also
    --------
    skalign.metrics.precision_at_k : Score a ranking against relevance labels.

    Examples
    --------
    >>> from skalign.retrieval import retrieve
    >>> indices, similarities = retrieve([[1.0, 0.1]], [[0, 1], [1, 0], [1, 1]], k=2)
    >>> indices.tolist(), similarities.round(3).tolist()
    ([[1, 2]], [[0.995, 0.774]])

    The hub ``[1, 1]`` is both queries' cosine nearest item, not their CSLS
    nearest:

    >>> queries, gallery = [[1.0, 0.6], [0.6, 1.0]], [[1, 1], [1, 0], [0, 1]]
    >>> retrieve(queries, gallery, k=1)[0].ravel().tolist()
    [0, 0]
    >>> retrieve(queries, gallery, k=1, hubness="csls", hubness_neighbors=2)[0]
    array([[1],
           [2]])
    """
    # A NumPy ranking: tensors (on any device, even two different ones) are
    # copied to the host rather than refused.
    queries = check_array(
        to_numpy(queries), dtype=(np.float64, np.float32), input_name="queries"
    )
    gallery = check_array(
        to_numpy(gallery), dtype=(np.float64, np.float32), input_name="gallery"
    )
    if queries.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} features but the gallery has "
            f"{gallery.shape[1]}: both must live in the same space. Translate the "
            "images into the text space first (e.g. aligner.transform(images))."
        )
    n_gallery = gallery.shape[0]
    if k is None:
        k = n_gallery
    elif k > n_gallery:
        raise ValueError(
            f"k={k} exceeds the gallery size {n_gallery}. Pass k <= {n_gallery} "
            "(or k=None for the whole ranking)."
        )

    if hubness == "csls":
        query_penalty = neighborhood_similarity(queries, gallery, hubness_neighbors)
        gallery_penalty = neighborhood_similarity(gallery, queries, hubness_neighbors)

    def top_k(distances, start):
        similarities = 1.0 - distances
        if hubness == "csls":
            rows = slice(start, start + distances.shape[0])
            similarities = csls_from_cosine(
                similarities, query_penalty[rows], gallery_penalty
            )
        order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(similarities, order, axis=1)

    chunks = list(
        pairwise_distances_chunked(queries, gallery, metric="cosine", reduce_func=top_k)
    )
    indices = np.concatenate([chunk[0] for chunk in chunks])
    similarities = np.concatenate([chunk[1] for chunk in chunks])
    return indices, similarities


class ReportRetriever(BaseEstimator):
    """Suggest reports for images: the anchor reports nearest in the text space.

    Fitted on anchor pairs (images embedded by a vision encoder, each with its
    report), it embeds the distinct reports with ``text_encoder``, fits (a
    clone of) ``aligner`` from the images to their reports' embeddings, and
    keeps the reports as the gallery. A new image is translated into the text
    space and the most cosine-similar reports are suggested: retrieval-based
    report generation without training a decoder.

    Parameters
    ----------
    text_encoder : transformer
        Embeds the reports: anything with ``fit`` and ``transform(list of str)
        -> (n, n_text_features)``, e.g.
        ``EmbeddingExtractor("sentence-transformers:all-MiniLM-L6-v2")``. A
        clone is fitted.
    aligner : transformer or None, default=None
        Translates images into the text space. A clone is fitted on the
        anchors (a :class:`~sklearn.frozen.FrozenEstimator` is used as is).
        None when the images already live there (a CLIP-style model).
    n_reports : int >= 1, default=1
        Number of reports :meth:`suggest` returns per image by default.

    Attributes
    ----------
    reports_ : ndarray of shape (n_distinct_reports,), dtype=object
        The distinct anchor reports, the gallery suggestions come from.
    report_embeddings_ : ndarray of shape (n_distinct_reports, n_text_features)
        Their embeddings by ``text_encoder``.
    text_encoder_ : transformer
        The fitted clone of ``text_encoder``.
    aligner_ : transformer or None
        The fitted clone of ``aligner`` (``aligner`` itself when frozen).
    n_reports_ : int
        ``n_reports`` at fit time: how many reports :meth:`suggest` returns by
        default.
    n_features_in_ : int
        Number of image features seen during :meth:`fit`.

    See Also
    --------
    retrieve : The ranking behind :meth:`suggest`.
    ZeroShotTextSpaceClassifier : Classify in the same text space.

    Examples
    --------
    A toy text encoder (one feature per keyword) and images that already live
    in its space:

    >>> import numpy as np
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skalign.retrieval import ReportRetriever
    >>> keywords = CountVectorizer(vocabulary=["effusion", "pneumonia", "normal"])
    >>> encoder = make_pipeline(keywords, FunctionTransformer(lambda m: m.toarray()))
    >>> reports = ["small effusion", "lobar pneumonia", "normal chest"]
    >>> images = np.eye(3) + 0.1
    >>> retriever = ReportRetriever(encoder).fit(images, reports)
    >>> retriever.predict([[0.1, 0.9, 0.0]]).tolist()
    ['lobar pneumonia']
    >>> suggestions, similarities = retriever.suggest([[0.8, 0.0, 0.3]], n_reports=2)
    >>> suggestions.tolist()
    [['small effusion', 'normal chest']]
    """

    _parameter_constraints: dict = {
        "text_encoder": [HasMethods(["fit", "transform"])],
        "aligner": [None, HasMethods(["fit", "transform"])],
        "n_reports": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, text_encoder, *, aligner=None, n_reports=1):
        self.text_encoder = text_encoder
        self.aligner = aligner
        self.n_reports = n_reports

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Embed the anchor reports and fit the aligner on the anchor pairs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Anchor image embeddings.
        y : array-like of shape (n_samples,)
            The report of each anchor image (strings).

        Returns
        -------
        self : ReportRetriever
            The fitted retriever.
        """
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        reports = _check_reports(y, X.shape[0])
        distinct, inverse = np.unique(reports, return_inverse=True)
        text_encoder, embeddings = encode_texts(self.text_encoder, distinct.tolist())
        aligner = fit_aligner(self.aligner, X, embeddings[inverse])
        check_text_width(X, aligner, embeddings.shape[1], texts="report embeddings")
        self.reports_ = distinct.astype(object)
        self.report_embeddings_ = embeddings
        self.text_encoder_ = text_encoder
        self.aligner_ = aligner
        self.n_reports_ = self.n_reports
        return self

    def suggest(self, X, n_reports=None):
        """The anchor reports most similar to each image, best first.

        Parameters
        ----------
        X : array-like of shape (n_images, n_features)
            Image embeddings.
        n_reports : int or None, default=None
            Reports per image; None uses ``n_reports_`` (the ``n_reports``
            parameter at fit time). At most the number of distinct anchor
            reports.

        Returns
        -------
        reports : ndarray of shape (n_images, n_reports), dtype=object
        similarities : ndarray of shape (n_images, n_reports)
            Cosine similarity of each translated image with each report.
        """
        check_is_fitted(self)
        k = self.n_reports_ if n_reports is None else n_reports
        _check_n_reports(k, len(self.reports_), n_reports is not None)
        indices, similarities = retrieve(
            self._translate(X), self.report_embeddings_, k=k
        )
        return self.reports_[indices], similarities

    def predict(self, X):
        """The most similar anchor report of each image.

        Parameters
        ----------
        X : array-like of shape (n_images, n_features)

        Returns
        -------
        reports : ndarray of shape (n_images,), dtype=object
        """
        return self.suggest(X, n_reports=1)[0][:, 0]

    def _translate(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        if self.aligner_ is None:
            return X
        return to_numpy(self.aligner_.transform(X))


def _check_n_reports(n_reports, n_distinct, argument):
    """Reject asking for more reports than the gallery holds (or fewer than 1)."""
    if isinstance(n_reports, bool) or not isinstance(n_reports, Integral):
        raise TypeError(
            f"n_reports must be a whole number >= 1, got {n_reports!r} "
            f"({type(n_reports).__name__})."
        )
    if not 1 <= n_reports <= n_distinct:
        where = (
            f"suggest(n_reports={n_reports})"
            if argument
            else f"n_reports={n_reports} (set at fit)"
        )
        raise ValueError(
            f"{where} asks for {n_reports} reports per image, but the retriever "
            f"was fitted on {n_distinct} distinct anchor reports. Ask for 1 to "
            f"{n_distinct}, or fit on more reports."
        )


def _check_reports(y, n_samples):
    reports = column_or_1d(np.asarray(y, dtype=object))
    not_text = [report for report in reports if not isinstance(report, str)]
    if not_text:
        raise TypeError(
            f"y must hold one report (a string) per anchor image, but it holds "
            f"{not_text[0]!r} ({type(not_text[0]).__name__}). Pass the reports' "
            "text; the text encoder embeds them."
        )
    if reports.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} anchor images but y has {reports.shape[0]} "
            "reports; pass one report per image, in the same order."
        )
    return reports
