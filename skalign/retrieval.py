"""Cross-modal retrieval through an aligned text space.

Once image embeddings are translated into a text encoder's space (or come from
a CLIP-style model that shares one), images and texts are ranked against each
other by cosine similarity: :func:`retrieve` ranks a gallery for every query,
in either direction (image → text or text → image), and
:class:`ReportRetriever` suggests, for a new image, the reports of the anchor
images whose text embeddings are nearest to its translation. Score rankings
with :func:`skalign.metrics.precision_at_k`, :func:`skalign.metrics.recall_at_k`
and :func:`skalign.metrics.mean_average_precision_at_k`, or all of them in
every direction at once with :func:`retrieval_report`.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._backend import to_numpy
from ._csls import csls_from_cosine, most_shared_ids, neighborhood_similarity
from ._index import INDEX_KINDS, GalleryIndex
from ._optional import import_optional
from ._preprocessing import normalize_rows
from ._text_space import check_text_width, encode_texts, fit_aligner
from ._topk import chunked_top_k, query_chunk_size, top_k
from .metrics import mean_average_precision_at_k, precision_at_k, recall_at_k

__all__ = [
    "ReportRetriever",
    "retrieval_report",
    "retrieve",
]

# pytest-doctestplus: the report is a pandas table
__doctest_requires__ = {("retrieval_report",): ["pandas"]}

DIRECTIONS = ("image→text", "text→image", "image→image")


@validate_params(
    {
        "queries": ["array-like"],
        "gallery": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "hubness": [StrOptions({"csls"}), None],
        "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
        "exclude_self": ["boolean"],
        "query_ids": ["array-like", None],
        "gallery_ids": ["array-like", None],
        "index": [StrOptions(set(INDEX_KINDS)), HasMethods(["search"]), None],
        "index_params": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def retrieve(
    queries,
    gallery,
    *,
    k=None,
    hubness=None,
    hubness_neighbors=10,
    exclude_self=False,
    query_ids=None,
    gallery_ids=None,
    index=None,
    index_params=None,
):
    """Rank the gallery by cosine similarity to each query.

    Memory stays bounded for any gallery size: similarities are computed in
    chunks of queries sized by scikit-learn's ``working_memory`` (1 GiB by
    default, see :func:`sklearn.set_config`), and each chunk keeps its ``k``
    best items by partial selection (``np.argpartition``) rather than a full
    sort, with the same result as a stable sort.

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
    exclude_self : bool, default=False
        The queries are the gallery (image → image retrieval): query ``i`` never
        retrieves gallery row ``i``, its own item. Shorthand for
        ``query_ids = gallery_ids = range(n)``.
    query_ids, gallery_ids : array-like of shape (n_queries,) and (n_gallery,), \
            default=None
        Identifiers (e.g. study ids): a gallery item whose id equals the
        query's is never retrieved, so other views of the same study do not
        count as hits. Give both or neither. Excluded items are left out of
        the ranking before ``k`` is applied (CSLS penalties still see them).
    index : {"ivf", "hnsw"} or None, default=None
        None: exact search. Otherwise an approximate nearest-neighbour index
        (FAISS, ``pip install "skalign[index]"``) built on the gallery
        proposes each query's candidates, which are then scored and ranked
        exactly as without it: for galleries beyond brute force (about 10^6
        items). ``"ivf"`` builds fast; ``"hnsw"`` queries faster but builds
        far slower. Needs an integer ``k``; ``hubness="csls"`` is refused
        (its gallery penalties need every query's similarity to every item,
        the brute-force pass the index avoids). Exclusions work: the index is
        asked for enough extra candidates. A query for which the index finds
        fewer than ``k`` rankable items is ranked exactly. Ties are broken in
        gallery order among the candidates found (a tie at the ``k``-th
        similarity may keep a later item than the exact path).
    index_params : dict or None, default=None
        Parameters of the index: ``"ivf"``: ``n_lists`` (default
        ``4 sqrt(n_gallery)``), ``n_probe`` (cells scanned per query,
        default 32; ``n_probe=n_lists`` is exact), ``random_state``;
        ``"hnsw"``: ``n_links`` (32), ``ef_construction`` (80),
        ``ef_search`` (64).

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

    Image → image retrieval, each image's own row left out:

    >>> images = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]
    >>> retrieve(images, images, k=1, exclude_self=True)[0].ravel().tolist()
    [1, 0, 1]
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
    query_ids, gallery_ids = _exclusion_ids(
        exclude_self, query_ids, gallery_ids, queries.shape[0], gallery.shape[0]
    )
    n_gallery = gallery.shape[0]
    if index is not None:
        _check_index_request(index, k, hubness, n_gallery, gallery.shape[1])
    n_rankable = n_gallery - most_shared_ids(query_ids, gallery_ids)
    if k is None:
        k = n_rankable
    elif k > n_rankable:
        size = f"the gallery size {n_gallery}"
        if n_rankable < n_gallery:
            size = (
                f"the {n_rankable} gallery items left once each query's own "
                "items are excluded"
            )
        raise ValueError(
            f"k={k} exceeds {size}. Pass k <= {n_rankable} (or k=None for the "
            "whole ranking)."
        )
    if hubness == "csls":
        # excluded pairs are no one's neighbours, in the penalties either
        query_penalty = neighborhood_similarity(
            queries, gallery, hubness_neighbors, a_ids=query_ids, b_ids=gallery_ids
        )
        gallery_penalty = neighborhood_similarity(
            gallery, queries, hubness_neighbors, a_ids=gallery_ids, b_ids=query_ids
        )
    unit_queries = normalize_rows(queries)
    gallery_scale = _inverse_norms(gallery)

    def score_block(start, stop):
        scores = unit_queries[start:stop] @ gallery.T
        scores *= gallery_scale
        if hubness == "csls":
            scores = csls_from_cosine(
                scores, query_penalty[start:stop], gallery_penalty
            )
        if query_ids is not None:
            scores[query_ids[start:stop, None] == gallery_ids[None, :]] = -np.inf
        return scores

    itemsize = np.result_type(queries, gallery).itemsize
    if index is None:
        return chunked_top_k(score_block, queries.shape[0], n_gallery, k, itemsize)
    if isinstance(index, str):
        index = GalleryIndex(gallery, index, index_params)
    n_candidates = min(n_gallery, k + most_shared_ids(query_ids, gallery_ids))
    candidates = index.search(queries, n_candidates)
    indices, similarities = _rank_candidates(
        candidates, unit_queries, gallery, gallery_scale, query_ids, gallery_ids, k
    )
    # the index found fewer than k rankable items: rank those queries exactly
    for row in np.flatnonzero(similarities[:, -1] == -np.inf):
        indices[row], similarities[row] = chunked_top_k(
            lambda start, stop, row=row: score_block(row, row + 1),
            1,
            n_gallery,
            k,
            itemsize,
        )
    return indices, similarities


def _check_index_request(index, k, hubness, n_gallery, n_features):
    """Refuse what an approximate index cannot serve, or a prebuilt index of
    another gallery."""
    if k is None:
        raise ValueError(
            "An index finds each query's k nearest items, not the whole ranking: "
            "pass an integer k, or index=None to rank the whole gallery."
        )
    if hubness == "csls":
        raise ValueError(
            "hubness='csls' cannot use an index: its gallery penalties need the "
            "similarity of every gallery item to every query, the brute-force "
            "pass the index avoids. Pass index=None (exact CSLS) or hubness=None."
        )
    if not isinstance(index, str) and (
        index.n_items != n_gallery or index.n_features != n_features
    ):
        raise ValueError(
            f"The index was built on {index.n_items} items of {index.n_features} "
            f"features, but the gallery has {n_gallery} of {n_features}. Build it "
            "on this gallery, or pass index='ivf' or 'hnsw' to build one here."
        )


def _rank_candidates(
    candidates, unit_queries, gallery, gallery_scale, query_ids, gallery_ids, k
):
    """Exact cosine scores of each query's candidates, ranked as the exact path
    ranks (ties in gallery order, excluded items and missing candidates
    ``-inf``), a memory-bounded chunk of queries at a time."""
    n_queries, n_candidates = candidates.shape
    itemsize = np.result_type(unit_queries, gallery).itemsize
    chunk = query_chunk_size(n_candidates * gallery.shape[1], itemsize)
    indices = np.empty((n_queries, k), dtype=np.int64)
    similarities = np.empty((n_queries, k), dtype=np.result_type(unit_queries, gallery))
    for start in range(0, n_queries, chunk):
        rows = slice(start, min(start + chunk, n_queries))
        # gallery order first, so that top_k breaks ties by gallery row
        found = np.sort(candidates[rows], axis=1)
        missing = found < 0
        found[missing] = 0
        scores = np.einsum("qd,qmd->qm", unit_queries[rows], gallery[found])
        scores *= gallery_scale[found]
        scores[missing] = -np.inf
        if query_ids is not None:
            scores[query_ids[rows, None] == gallery_ids[found]] = -np.inf
        order, similarities[rows] = top_k(scores, k)
        indices[rows] = np.take_along_axis(found, order, axis=1)
    return indices, similarities


def _inverse_norms(rows):
    """1 / the Euclidean norm of each row (1 for a zero row, whose cosine
    similarities are then 0), computed without a copy of ``rows``."""
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    norms[norms == 0] = 1.0
    return 1.0 / norms


def _exclusion_ids(exclude_self, query_ids, gallery_ids, n_queries, n_gallery):
    """The ids of ``retrieve``'s exclusion (None when nothing is excluded)."""
    if exclude_self:
        if query_ids is not None or gallery_ids is not None:
            raise ValueError(
                "Pass exclude_self=True or query_ids and gallery_ids, not both."
            )
        if n_queries != n_gallery:
            raise ValueError(
                f"exclude_self=True needs the queries to be the gallery, but there "
                f"are {n_queries} queries and {n_gallery} gallery items. Pass the "
                "same embeddings twice, or query_ids and gallery_ids."
            )
        ids = np.arange(n_queries)
        return ids, ids
    if (query_ids is None) != (gallery_ids is None):
        raise ValueError(
            "query_ids and gallery_ids go together: pass both (each query's "
            "items are those of the gallery with its id) or neither."
        )
    if query_ids is None:
        return None, None
    query_ids = column_or_1d(np.asarray(query_ids, dtype=object))
    gallery_ids = column_or_1d(np.asarray(gallery_ids, dtype=object))
    for name, ids, n in (
        ("query_ids", query_ids, n_queries),
        ("gallery_ids", gallery_ids, n_gallery),
    ):
        if ids.shape[0] != n:
            raise ValueError(
                f"{name} has {ids.shape[0]} ids for {n} rows; pass one per row."
            )
    return query_ids, gallery_ids


@validate_params(
    {
        "image_embeddings": ["array-like"],
        "text_embeddings": ["array-like"],
        "labels": ["array-like", None],
        "k": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "directions": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def retrieval_report(
    image_embeddings,
    text_embeddings,
    labels=None,
    *,
    k=(1, 5, 10),
    directions=DIRECTIONS,
):
    """P@k, R@k and mAP@k of image → text, text → image and image → image
    retrieval, in one table.

    Images (translated into the text space, or from a CLIP-style model) and
    texts are ranked against each other by cosine similarity
    (:func:`retrieve`). With ``labels``, an item is relevant to a query when
    it has the query's label (the CheXpert / MIMIC-CXR 5×200 protocol of
    ClinVLA and MedUnifier); without, row ``i`` of the images and row ``i`` of
    the texts are a pair and only the pair is relevant (paired image-report
    retrieval). Image → image retrieval leaves each query's own image out of
    the ranking and needs ``labels``.

    Parameters
    ----------
    image_embeddings : array-like of shape (n_samples, n_features)
        The images, in the texts' space.
    text_embeddings : array-like of shape (n_samples, n_features)
        The texts (reports, or one description per image), row ``i`` paired
        with image ``i``.
    labels : array-like of shape (n_samples,), default=None
        The label of each pair; None: paired relevance.
    k : int or array-like of int, default=(1, 5, 10)
        The cut-offs, each at most the gallery size.
    directions : array-like of str, default=("image→text", "text→image", \
            "image→image")
        Which retrievals to score.

    Returns
    -------
    report : pandas.DataFrame
        One row per direction, metric and cut-off: columns ``direction``,
        ``metric`` (``"precision"``, ``"recall"`` (the hit rate of
        :func:`~skalign.metrics.recall_at_k`), ``"map"``), ``k``, ``value``,
        and ``n_queries``.

    See Also
    --------
    skalign.metrics.precision_at_k, skalign.metrics.recall_at_k,
    skalign.metrics.mean_average_precision_at_k : The metrics.
    skalign.evaluation.zero_shot_report : The same for zero-shot classification.

    Examples
    --------
    Two labels, each with two image-text pairs:

    >>> import numpy as np
    >>> from skalign.retrieval import retrieval_report
    >>> images = np.array([[1.0, 0.1], [0.9, 0.0], [0.1, 1.0], [0.0, 0.8]])
    >>> texts = np.array([[1.0, 0.0], [0.8, 0.3], [0.0, 1.0], [0.2, 0.9]])
    >>> report = retrieval_report(images, texts, ["a", "a", "b", "b"], k=[1, 2])
    >>> print(report.pivot_table(
    ...     index=["direction", "k"], columns="metric", values="value", sort=False))
    metric         precision  recall  map
    direction   k
    image→text  1        1.0     1.0  1.0
                2        1.0     1.0  1.0
    text→image  1        1.0     1.0  1.0
                2        1.0     1.0  1.0
    image→image 1        1.0     1.0  1.0
                2        0.5     1.0  1.0

    Each image has one other image of its label, so image → image P@2 is 0.5.
    """
    pd = import_optional("pandas", purpose="retrieval_report")
    images = check_array(
        image_embeddings, dtype=(np.float64, np.float32), input_name="image_embeddings"
    )
    texts = check_array(
        text_embeddings, dtype=(np.float64, np.float32), input_name="text_embeddings"
    )
    if images.shape[0] != texts.shape[0]:
        raise ValueError(
            f"image_embeddings has {images.shape[0]} rows but text_embeddings has "
            f"{texts.shape[0]}; row i of each must be a pair (an image and its "
            "text)."
        )
    n_samples = images.shape[0]
    if labels is not None:
        labels = column_or_1d(np.asarray(labels, dtype=object))
        if labels.shape[0] != n_samples:
            raise ValueError(
                f"labels has {labels.shape[0]} entries for {n_samples} pairs; "
                "pass one label per pair."
            )
    cutoffs = sorted({int(value) for value in np.atleast_1d(k)})
    unknown = sorted(set(directions) - set(DIRECTIONS))
    if unknown:
        raise ValueError(
            f"Unknown directions {unknown}; use some of {list(DIRECTIONS)}."
        )
    if labels is None and "image→image" in directions:
        raise ValueError(
            "image→image retrieval needs labels (with paired relevance an image's "
            "only relevant item is itself, which is left out). Pass labels, or "
            "directions=('image→text', 'text→image')."
        )
    rows = []
    for direction in (d for d in DIRECTIONS if d in directions):
        relevance, scores = _relevance_and_scores(direction, images, texts, labels)
        keep = relevance.any(axis=1)
        relevance, scores = relevance[keep], scores[keep]
        for cutoff in cutoffs:
            for metric, function in (
                ("precision", precision_at_k),
                ("recall", recall_at_k),
                ("map", mean_average_precision_at_k),
            ):
                rows.append(
                    {
                        "direction": direction,
                        "metric": metric,
                        "k": cutoff,
                        "value": function(relevance, scores, k=cutoff),
                        "n_queries": int(keep.sum()),
                    }
                )
    return pd.DataFrame(
        rows, columns=["direction", "metric", "k", "value", "n_queries"]
    )


def _relevance_and_scores(direction, images, texts, labels):
    """Relevance and cosine scores of one direction; in image → image the
    query's own image is not in its gallery."""
    queries, gallery = {
        "image→text": (images, texts),
        "text→image": (texts, images),
        "image→image": (images, images),
    }[direction]
    n = queries.shape[0]
    if labels is None:
        relevance = np.eye(n, dtype=bool)
    else:
        relevance = labels[:, None] == labels[None, :]
    scores = _cosine(queries, gallery)
    if direction == "image→image":  # the query's own image leaves the gallery
        others = ~np.eye(n, dtype=bool)
        relevance = relevance[others].reshape(n, n - 1)
        scores = scores[others].reshape(n, n - 1)
    return relevance, scores


def _cosine(A, B):
    """Cosine similarities of the rows of A and B (a zero row scores 0)."""
    return normalize_rows(A) @ normalize_rows(B).T


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
