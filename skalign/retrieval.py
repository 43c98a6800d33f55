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

import warnings
from numbers import Integral, Number

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import on_host, to_numpy
from ._csls import csls_from_cosine, most_shared_ids, neighborhood_similarity
from ._index import INDEX_KINDS, GalleryIndex
from ._optional import import_optional
from ._preprocessing import cosine_factors, normalize_rows
from ._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    validate_params,
)
from ._text_space import check_text_width, encode_texts, fit_aligner
from ._topk import chunked_top_k, query_chunk_size, top_k
from ._validation import check_embeddings, check_pair_weights
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
    index : {"ivf", "hnsw"}, index object or None, default=None
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
        similarity may keep a later item than the exact path). An index
        built earlier on the same gallery (e.g. a fitted
        ``ReportRetriever.index_``) is reused as is; one built on another
        gallery (even of the same shape: a digest of its rows is compared)
        is refused.
    index_params : dict or None, default=None
        Parameters of the index: ``"ivf"``: ``n_lists`` (default
        ``sqrt(n_gallery)``), ``n_probe`` (cells scanned per query,
        default 16; ``n_probe=n_lists`` is exact), ``random_state``;
        ``"hnsw"``: ``n_links`` (32), ``ef_construction`` (80),
        ``ef_search`` (64). Refused with ``index=None`` (they would be
        ignored).

    Returns
    -------
    indices : ndarray of shape (n_queries, k)
        Gallery rows, most similar first; ties in gallery order.
    similarities : ndarray of shape (n_queries, k)
        Their cosine similarities (a zero vector has similarity 0), or their
        CSLS similarities (in ``[-4, 4]``) with ``hubness="csls"``, in the
        gallery's precision (a float32 gallery is not copied to float64).

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
    queries = check_embeddings(to_numpy(queries), input_name="queries")
    gallery = check_embeddings(to_numpy(gallery), input_name="gallery")
    _check_same_space(queries, gallery, ("queries", "the gallery"))
    query_ids, gallery_ids = _exclusion_ids(
        exclude_self, query_ids, gallery_ids, queries.shape[0], gallery.shape[0]
    )
    n_gallery = gallery.shape[0]
    _check_index_params_used(index, index_params)
    if index is not None:
        _check_index_request(index, k, hubness, gallery)
    n_rankable = n_gallery - most_shared_ids(query_ids, gallery_ids)
    if n_rankable == 0:
        raise ValueError(
            f"Every one of the {n_gallery} gallery items is excluded for some "
            "query (its own item, or an item with its id), so there is nothing "
            "to rank. exclude_self needs at least 2 items; with ids, give each "
            "query at least one gallery item of another id."
        )
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
    penalties = None
    if hubness == "csls":
        penalties = query_penalty, gallery_penalty
    return _top_k_search(
        queries,
        gallery,
        k,
        penalties=penalties,
        query_ids=query_ids,
        gallery_ids=gallery_ids,
        index=index,
        index_params=index_params,
    )


def _check_same_space(A, B, names):
    """Raise unless the rows of ``A`` and ``B`` (named ``names``) are as wide."""
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{names[0]} have {A.shape[1]} features but {names[1]} "
            f"{'has' if names[1].startswith('the') else 'have'} {B.shape[1]}: "
            "both must live in the same space. Translate the images into the "
            "text space first (e.g. aligner.transform(images))."
        )


def _top_k_search(
    queries,
    gallery,
    k,
    *,
    penalties=None,
    query_ids=None,
    gallery_ids=None,
    index=None,
    index_params=None,
):
    """``retrieve``'s ranking of checked arrays: cosine, or CSLS with the
    ``(query, gallery)`` penalties given; exactly, or from an index's
    candidates."""
    n_gallery = gallery.shape[0]
    # in the gallery's precision: a float32 gallery is never upcast (copied)
    unit_queries = normalize_rows(queries).astype(gallery.dtype, copy=False)
    gallery, gallery_scale = cosine_factors(gallery)

    def score_block(start, stop):
        scores = unit_queries[start:stop] @ gallery.T
        scores *= gallery_scale
        if penalties is not None:
            scores = csls_from_cosine(scores, penalties[0][start:stop], penalties[1])
        if query_ids is not None:
            scores[query_ids[start:stop, None] == gallery_ids[None, :]] = -np.inf
        return scores

    itemsize = gallery.dtype.itemsize
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


def _check_index_params_used(index, index_params):
    """Refuse index parameters given without an index to build: they would be
    ignored (the search exact, not the index the caller tuned)."""
    if index is None and index_params is not None:
        raise ValueError(
            f"index_params={index_params!r} was given but index=None, so no index "
            "is built and they would be ignored. Pass index='ivf' or 'hnsw' to use "
            "them, or drop index_params for exact search."
        )


def _check_index_request(index, k, hubness, gallery):
    """Refuse what an approximate index cannot serve, or a prebuilt index of
    another gallery."""
    n_gallery, n_features = gallery.shape
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
    if not isinstance(index, str) and not index.is_built_on(gallery):
        raise ValueError(
            f"The index was built on another gallery of the same shape ({n_gallery} "
            f"items of {n_features} features): its candidates would be rows of "
            "that gallery, not of this one. Build it on this gallery, or pass "
            "index='ivf' or 'hnsw' to build one here."
        )


def _rank_candidates(
    candidates, unit_queries, gallery, gallery_scale, query_ids, gallery_ids, k
):
    """Exact cosine scores of each query's candidates, ranked as the exact path
    ranks (ties in gallery order, excluded items and missing candidates
    ``-inf``), a memory-bounded chunk of queries at a time."""
    n_queries, n_candidates = candidates.shape
    chunk = query_chunk_size(n_candidates * gallery.shape[1], gallery.dtype.itemsize)
    indices = np.empty((n_queries, k), dtype=np.int64)
    similarities = np.empty((n_queries, k), dtype=gallery.dtype)
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
    query_ids = _check_ids(query_ids, "query_ids")
    gallery_ids = _check_ids(gallery_ids, "gallery_ids")
    query_kinds, gallery_kinds = _id_kinds(query_ids), _id_kinds(gallery_ids)
    if query_kinds and gallery_kinds and not query_kinds & gallery_kinds:
        raise TypeError(
            f"query_ids are {' and '.join(sorted(query_kinds))} but gallery_ids "
            f"are {' and '.join(sorted(gallery_kinds))}: no id can match, so "
            "nothing would be excluded. Pass ids of one type on both sides "
            "(e.g. the study ids as strings)."
        )
    for name, ids, n in (
        ("query_ids", query_ids, n_queries),
        ("gallery_ids", gallery_ids, n_gallery),
    ):
        if ids.shape[0] != n:
            raise ValueError(
                f"{name} has {ids.shape[0]} ids for {n} rows; pass one per row."
            )
    return query_ids, gallery_ids


def _check_ids(ids, name):
    """``ids`` as a 1-D object array; no missing (None or NaN) id."""
    if isinstance(ids, str | bytes):
        raise TypeError(
            f"{name} is one string ({ids!r}); pass one id per row, e.g. a list "
            "of study ids."
        )
    # straight to objects: a list [1, "1"] through NumPy would become strings
    ids = np.asarray(on_host(ids), dtype=object)
    if ids.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, one id per row, got an array of shape "
            f"{ids.shape}. Pass a flat sequence of ids."
        )
    missing = [i for i, value in enumerate(ids) if _is_missing(value)]
    if missing:
        raise ValueError(
            f"{name} holds {len(missing)} missing id(s) (None or NaN; first at "
            f"row {missing[0]}): a missing id matches nothing, or every other "
            "missing one. Give every row its id."
        )
    return ids


def _is_missing(value):
    """Whether an id is None or a floating NaN."""
    return value is None or (isinstance(value, Number) and value != value)


def _id_kinds(ids):
    """The kinds of identifiers present: numbers, text, or other types' names
    (ids of different kinds never compare equal)."""
    kinds = set()
    for identifier in ids:
        if isinstance(identifier, (str, bytes)):
            kinds.add("text")
        elif isinstance(identifier, Number):
            kinds.add("numbers")
        else:
            kinds.add(type(identifier).__name__)
    return kinds


@validate_params(
    {
        "image_embeddings": ["array-like"],
        "text_embeddings": ["array-like"],
        "labels": ["array-like", None],
        "k": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "directions": ["array-like"],
        "hubness": [StrOptions({"csls"}), None],
        "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
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
    hubness=None,
    hubness_neighbors=10,
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
    the ranking and needs ``labels``. Paired relevance counts an identical
    text (or image) at another row as irrelevant: a warning says so when rows
    repeat, and ``labels`` = the index of each distinct text fixes it.

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
    hubness : {"csls"} or None, default=None
        None ranks by cosine similarity; ``"csls"`` by CSLS (see
        :func:`retrieve`), the penalties taken within the images and texts
        given (in image → image, an image is not its own neighbour).
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties.

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
    images = check_embeddings(to_numpy(image_embeddings), input_name="image_embeddings")
    texts = check_embeddings(to_numpy(text_embeddings), input_name="text_embeddings")
    _check_same_space(images, texts, ("image_embeddings", "text_embeddings"))
    if images.shape[0] != texts.shape[0]:
        raise ValueError(
            f"image_embeddings has {images.shape[0]} rows but text_embeddings has "
            f"{texts.shape[0]}; row i of each must be a pair (an image and its "
            "text)."
        )
    n_samples = images.shape[0]
    if labels is not None:
        labels = _check_ids(labels, "labels")
        kinds = _id_kinds(labels)
        if len(kinds) > 1:
            raise TypeError(
                f"labels mix {' and '.join(sorted(kinds))} (e.g. 1 and '1'), which "
                "never compare equal, so such items would not count as relevant "
                "to each other. Pass labels of one type (e.g. all strings)."
            )
        if labels.shape[0] != n_samples:
            raise ValueError(
                f"labels has {labels.shape[0]} entries for {n_samples} pairs; "
                "pass one label per pair."
            )
    cutoffs = _check_cutoffs(k)
    if len(directions) == 0:
        raise ValueError(
            f"directions is empty, so there is nothing to score; pass some of "
            f"{list(DIRECTIONS)}."
        )
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
    if labels is None:
        _warn_repeated_rows(images, texts)
    rows = []
    for direction in (d for d in DIRECTIONS if d in directions):
        relevance, scores = _relevance_and_scores(
            direction, images, texts, labels, hubness, hubness_neighbors
        )
        keep = relevance.any(axis=1)
        if not keep.any():
            raise ValueError(
                f"No query of {direction} has a relevant item (every label is "
                "held by a single pair, and an image is not its own neighbour), "
                f"so {direction} cannot be scored. Drop it from directions, or "
                "pass labels that two or more pairs share."
            )
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


def _check_cutoffs(k):
    """The distinct cut-offs of ``k``, sorted: whole numbers >= 1, nothing coerced."""
    values = np.atleast_1d(np.asarray(k, dtype=object))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"k must be a whole number >= 1 or a flat, non-empty list of them, got "
            f"{k!r}. Pass e.g. k=(1, 5, 10)."
        )
    for value in values:
        if isinstance(value, bool | np.bool_) or not isinstance(value, Integral):
            raise TypeError(
                f"k holds {value!r} ({type(value).__name__}); each cut-off must "
                "be a whole number >= 1 (e.g. k=(1, 5, 10))."
            )
        if value < 1:
            raise ValueError(
                f"k holds the cut-off {value}; each cut-off must be >= 1 (the "
                "number of best-ranked items looked at). Pass e.g. k=(1, 5, 10)."
            )
    return sorted({int(value) for value in values})


def _warn_repeated_rows(images, texts):
    """Warn that paired relevance scores identical rows as irrelevant."""
    for name, rows in (("text", texts), ("image", images)):
        n_distinct = np.unique(rows, axis=0).shape[0]
        if n_distinct < rows.shape[0]:
            warnings.warn(
                f"{rows.shape[0] - n_distinct} of the {rows.shape[0]} {name} "
                f"embeddings repeat another row (e.g. identical report texts). "
                f"With labels=None only row i is relevant to row i, so an "
                f"identical {name} at another row counts as a miss and the paired "
                "metrics are meaningless for those rows. Pass labels=np.unique("
                f"{name}_embeddings, axis=0, return_inverse=True)[1] to count "
                f"every identical {name} as relevant, or drop the repeats.",
                UserWarning,
                stacklevel=4,
            )


def _relevance_and_scores(direction, images, texts, labels, hubness, n_neighbors):
    """Relevance and (cosine or CSLS) scores of one direction; in image →
    image the query's own image is not in its gallery, nor its neighbourhood."""
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
    if hubness == "csls":
        ids = np.arange(n) if direction == "image→image" else None
        scores = csls_from_cosine(
            scores,
            neighborhood_similarity(
                queries, gallery, n_neighbors, a_ids=ids, b_ids=ids
            ),
            neighborhood_similarity(
                gallery, queries, n_neighbors, a_ids=ids, b_ids=ids
            ),
        )
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
        Number of reports :meth:`suggest` returns per image by default; at
        most the number of distinct anchor reports (checked by :meth:`fit`).
    hubness : {"csls"} or None, default=None
        None ranks reports by cosine similarity. ``"csls"`` by CSLS (see
        :func:`retrieve`), with penalties that do not depend on the batch
        predicted: a report's, ``r(report)``, is its mean similarity to its
        ``hubness_neighbors`` nearest translated anchor images (kept at fit
        time); an image's, ``r(image)``, its mean similarity to its nearest
        reports. Reports that are near every image stop crowding the top.
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties.
    index : {"ivf", "hnsw"} or None, default=None
        None: exact search. Otherwise an approximate index built on the
        report embeddings at fit time (see :func:`retrieve`; needs
        ``pip install "skalign[index]"``), for millions of reports. Not
        combined with ``hubness="csls"``.
    index_params : dict or None, default=None
        Parameters of the index, see :func:`retrieve`; refused without an
        ``index`` (they would be ignored).

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
    report_hubness_ : ndarray of shape (n_distinct_reports,) or None
        Each report's CSLS penalty ``r(report)`` among the translated anchor
        images; None unless ``hubness="csls"``.
    index_ : object or None
        The approximate index over ``report_embeddings_``; None unless
        ``index`` is set.
    n_features_in_ : int
        Number of image features seen during :meth:`fit`.

    See Also
    --------
    retrieve : The ranking behind :meth:`suggest`.
    skalign.ZeroShotTextSpaceClassifier : Classify in the same text space.

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
        "hubness": [StrOptions({"csls"}), None],
        "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
        "index": [StrOptions(set(INDEX_KINDS)), None],
        "index_params": [dict, None],
    }

    def __init__(
        self,
        text_encoder,
        *,
        aligner=None,
        n_reports=1,
        hubness=None,
        hubness_neighbors=10,
        index=None,
        index_params=None,
    ):
        self.text_encoder = text_encoder
        self.aligner = aligner
        self.n_reports = n_reports
        self.hubness = hubness
        self.hubness_neighbors = hubness_neighbors
        self.index = index
        self.index_params = index_params

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
        if self.index is not None and self.hubness == "csls":
            raise ValueError(
                "hubness='csls' cannot use an index: its penalties need every "
                "report's similarity to every anchor image and every image's to "
                "every report. Pass index=None (exact CSLS) or hubness=None."
            )
        X = validate_data(self, on_host(X), dtype=(np.float64, np.float32))
        reports = _check_reports(y, X.shape[0])
        distinct, inverse = np.unique(reports, return_inverse=True)
        _check_index_params_used(self.index, self.index_params)
        text_encoder, embeddings = encode_texts(self.text_encoder, distinct.tolist())
        _check_no_zero_report(embeddings, distinct)
        aligner = fit_aligner(self.aligner, X, embeddings[inverse])
        # after the aligner's own checks (too few anchors is the first problem)
        _check_n_reports(self.n_reports, len(distinct), argument=False)
        check_text_width(X, aligner, embeddings.shape[1], texts="report embeddings")
        embeddings = check_array(
            to_numpy(embeddings),
            dtype=(np.float64, np.float32),
            input_name="report embeddings",
        )
        report_hubness = None
        if self.hubness == "csls":
            translated = X if aligner is None else to_numpy(aligner.transform(X))
            report_hubness = neighborhood_similarity(
                embeddings, translated, self.hubness_neighbors
            )
        index = None
        if self.index is not None:
            index = GalleryIndex(embeddings, self.index, self.index_params)
        self.reports_ = distinct.astype(object)
        self.report_embeddings_ = embeddings
        self.text_encoder_ = text_encoder
        self.aligner_ = aligner
        self.n_reports_ = self.n_reports
        self.report_hubness_ = report_hubness
        self.index_ = index
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
            Cosine similarity of each translated image with each report (CSLS
            similarity with ``hubness="csls"``).
        """
        check_is_fitted(self)
        k = self.n_reports_ if n_reports is None else n_reports
        _check_n_reports(k, len(self.reports_), n_reports is not None)
        return self._suggest_translated(self._translate(X), k)

    def _suggest_translated(self, translated, k):
        """:meth:`suggest` for images already in the text space."""
        penalties = None
        if self.report_hubness_ is not None:
            image_hubness = neighborhood_similarity(
                translated, self.report_embeddings_, self.hubness_neighbors
            )
            penalties = image_hubness, self.report_hubness_
        indices, similarities = _top_k_search(
            translated,
            self.report_embeddings_,
            k,
            penalties=penalties,
            index=self.index_,
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

    def score(self, X, y, sample_weight=None):
        """Accuracy of the top suggestion: the fraction of images whose
        :meth:`predict` is their own report.

        As :meth:`sklearn.base.ClassifierMixin.score` with the reports as
        classes, and the paired recall@1 (R@1) of image → report retrieval
        over the fitted gallery, so that higher is better and
        :class:`~sklearn.model_selection.GridSearchCV` works without a
        ``scoring=``. A report that is not among ``reports_`` cannot be
        suggested and counts as a miss; when none of ``y`` is among them the
        score would say nothing about the images, so it is refused.

        Parameters
        ----------
        X : array-like of shape (n_images, n_features)
            Image embeddings.
        y : array-like of shape (n_images,)
            The report of each image (strings).
        sample_weight : array-like of shape (n_images,), default=None
            Weights of the images.

        Returns
        -------
        score : float
            In ``[0, 1]``.
        """
        check_is_fitted(self)
        translated = self._translate(X)
        reports = _check_reports(y, translated.shape[0])
        if sample_weight is not None:
            sample_weight = check_pair_weights(sample_weight, translated.shape[0])
        known = np.isin(reports, self.reports_)
        if not known.any():
            raise ValueError(
                "None of the reports in y is among the retriever's fitted "
                f"reports ({len(self.reports_)} distinct), so every image would "
                "score 0 whatever its suggestion. Score on images whose reports "
                "the retriever was fitted on (paired recall@1), or use "
                "retrieval_report on embeddings for held-out pairs."
            )
        hits = self._suggest_translated(translated, 1)[0][:, 0] == reports
        return float(np.average(hits, weights=sample_weight))

    def _translate(self, X):
        check_is_fitted(self)
        try:
            X = validate_data(
                self, on_host(X), reset=False, dtype=(np.float64, np.float32)
            )
        except ValueError as exc:
            if "is expecting" not in str(exc):
                raise
            raise ValueError(
                f"{exc} Pass image embeddings from the same vision encoder the "
                "retriever was fitted on."
            ) from exc
        if self.aligner_ is None:
            return X
        return to_numpy(self.aligner_.transform(X))


def _check_no_zero_report(embeddings, reports):
    """Refuse reports embedded to the zero vector: cosine-similar to nothing,
    they could never be suggested."""
    zero = np.flatnonzero(~np.any(embeddings != 0, axis=1))
    if zero.size:
        raise ValueError(
            f"The text encoder embedded {zero.size} report(s) to the zero vector "
            f"(first {reports[zero[0]]!r}), which no image can be similar to, so "
            "it could never be suggested. Check the encoder and those reports "
            "(e.g. text made only of out-of-vocabulary words)."
        )


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
    if isinstance(y, str):
        raise TypeError(
            f"y must hold one report (a string) per anchor image, but it is a "
            f"single string ({y[:40]!r}). Pass a list of reports, one per image, "
            "e.g. y=[report]."
        )
    reports = np.asarray(y, dtype=object)
    if reports.ndim != 1:
        raise ValueError(
            f"y must hold one report (a string) per anchor image, a 1-D list, "
            f"but it has shape {reports.shape}. Pass a flat list of reports."
        )
    not_text = [report for report in reports if not isinstance(report, str)]
    if not_text:
        raise TypeError(
            f"y must hold one report (a string) per anchor image, but it holds "
            f"{not_text[0]!r} ({type(not_text[0]).__name__}). Pass the reports' "
            "text; the text encoder embeds them."
        )
    empty = [i for i, report in enumerate(reports) if not report.strip()]
    if empty:
        raise ValueError(
            f"y holds {len(empty)} empty report(s) (first at row {empty[0]}): an "
            "empty text embeds to an arbitrary vector and would be suggested as "
            "a report. Drop those images or give their report text."
        )
    if reports.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} anchor images but y has {reports.shape[0]} "
            "reports; pass one report per image, in the same order."
        )
    return reports
