"""Metrics for aligned embeddings and cross-modal retrieval."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_array

from ._backend import (
    float_scalar,
    get_namespace,
    is_torch_array,
    on_host,
    to_namespace_of,
)
from ._preprocessing import normalize_rows
from ._sklearn_compat import Interval, StrOptions, validate_params
from ._topk import chunked_top_k
from ._validation import check_embeddings, check_same_device

__all__ = [
    "mean_average_precision_at_k",
    "mean_cosine_similarity",
    "precision_at_k",
    "recall_at_k",
]


def mean_cosine_similarity(Y_true, Y_pred):
    """Mean cosine similarity between paired rows; higher is better.

    A row of zeros has similarity 0 with anything (never NaN).

    Parameters
    ----------
    Y_true : array-like or torch.Tensor of shape (n_samples, n_features)
    Y_pred : array-like or torch.Tensor of shape (n_samples, n_features)

    Returns
    -------
    score : float
        In ``[-1, 1]``.

    Examples
    --------
    >>> from skalign.metrics import mean_cosine_similarity
    >>> mean_cosine_similarity([[1.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [1.0, 0.0]])
    0.5
    """
    check_same_device(Y_true=Y_true, Y_pred=Y_pred)
    Y_true = check_embeddings(Y_true, input_name="Y_true")
    Y_pred = check_embeddings(Y_pred, input_name="Y_pred")
    if Y_true.shape != Y_pred.shape:
        raise ValueError(
            f"Y_true has shape {tuple(Y_true.shape)} but Y_pred has shape "
            f"{tuple(Y_pred.shape)}; pass rows paired one to one in the same space."
        )
    if is_torch_array(Y_true) != is_torch_array(Y_pred):  # a tensor and an array
        tensor = Y_true if is_torch_array(Y_true) else Y_pred
        Y_true, Y_pred = (to_namespace_of(A, tensor) for A in (Y_true, Y_pred))
    xp = get_namespace(Y_true, Y_pred)
    return float_scalar(xp.mean(paired_cosines(Y_true, Y_pred)))


def paired_cosines(Y_true, Y_pred):
    """Cosine similarity of each row of ``Y_true`` with the same row of
    ``Y_pred`` (checked arrays of one namespace); a zero row gives 0."""
    xp = get_namespace(Y_true, Y_pred)
    # unit rows first: entries near 1e300 (or 1e-300) square out of range
    return xp.sum(normalize_rows(Y_true) * normalize_rows(Y_pred), axis=1)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def precision_at_k(y_true, y_score, *, k):
    """Mean fraction of relevant items among each query's ``k`` best-scored.

    For query ``q`` with gallery items ranked by decreasing ``y_score[q]``,
    ``P@k(q) = (1/k) Σ_{i≤k} rel_i``, where ``rel_i`` is the relevance of the
    item ranked ``i``; the result is the mean over queries. In the cross-modal
    retrieval tables of ClinVLA and MedUnifier (CheXpert 5×200, MIMIC-CXR 5×200)
    an item is relevant when it has the query's label.

    Parameters
    ----------
    y_true : array-like of shape (n_queries, n_gallery)
        Binary relevance (bool or 0/1) of every gallery item to every query.
        For label-based relevance:
        ``query_labels[:, None] == gallery_labels[None, :]``.
    y_score : array-like of shape (n_queries, n_gallery)
        Scores ranking the gallery for each query, higher first (e.g. cosine
        similarities, :func:`sklearn.metrics.pairwise.cosine_similarity`).
        Ties are ranked in gallery order (a stable sort).
    k : int >= 1
        Number of top-ranked items looked at; at most ``n_gallery``.

    Returns
    -------
    precision : float
        In ``[0, 1]``.

    See Also
    --------
    mean_average_precision_at_k : Rewards relevant items ranked earlier.

    Examples
    --------
    Two queries over four gallery items; the first ranks items 0, 2 (relevant)
    first, the second ranks items 3 (irrelevant), 1 (relevant) first:

    >>> from skalign.metrics import precision_at_k
    >>> relevance = [[1, 0, 1, 0], [0, 1, 0, 0]]
    >>> scores = [[0.9, 0.1, 0.8, 0.3], [0.2, 0.7, 0.1, 0.8]]
    >>> precision_at_k(relevance, scores, k=2)
    0.75
    """
    relevance = _ranked_relevance(y_true, y_score, k)
    return float(relevance.mean())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def mean_average_precision_at_k(y_true, y_score, *, k):
    """Mean over queries of the average precision of the ``k`` best-scored items.

    The standard information-retrieval definition: for query ``q`` with ``R``
    relevant gallery items and the gallery ranked by decreasing
    ``y_score[q]``,

    ``AP@k(q) = (1 / min(k, R)) Σ_{i≤k} P@i(q) · rel_i``,

    the precision at the rank of every relevant item among the first ``k``,
    averaged over the most relevant items the top ``k`` can hold. A perfect
    ranking scores 1 whatever ``R``; with ``k=None`` (the whole ranking) it is
    the usual (non-interpolated) average precision. ClinVLA and MedUnifier
    report mAP beside P@k without stating its normalisation; this is the
    common one (e.g. TensorFlow Similarity's ``MapAtK`` divides by ``R``,
    which equals ``min(k, R)`` whenever ``k >= R``).

    Parameters
    ----------
    y_true : array-like of shape (n_queries, n_gallery)
        Binary relevance (bool or 0/1) of every gallery item to every query.
        For label-based relevance:
        ``query_labels[:, None] == gallery_labels[None, :]``. Every query needs
        at least one relevant item (its AP is undefined otherwise).
    y_score : array-like of shape (n_queries, n_gallery)
        Scores ranking the gallery for each query, higher first. Ties are
        ranked in gallery order (a stable sort).
    k : int >= 1 or None
        Number of top-ranked items looked at, at most ``n_gallery``; None
        looks at the whole ranking.

    Returns
    -------
    map : float
        In ``[0, 1]``.

    See Also
    --------
    precision_at_k : Fraction of relevant items in the top ``k``.

    Examples
    --------
    The first query finds its two relevant items at ranks 1 and 3
    (``AP@3 = (1/1 + 2/3) / 2``), the second its only one at rank 2
    (``AP@3 = 1/2``):

    >>> from skalign.metrics import mean_average_precision_at_k
    >>> relevance = [[1, 0, 1, 0], [0, 1, 0, 0]]
    >>> scores = [[0.9, 0.8, 0.7, 0.1], [0.2, 0.7, 0.1, 0.8]]
    >>> round(mean_average_precision_at_k(relevance, scores, k=3), 4)
    0.6667
    """
    relevant_per_query = _relevant_per_query(
        y_true, y_score, "average precision", "mean_average_precision_at_k"
    )
    k = np.shape(y_true)[1] if k is None else k
    relevance = _ranked_relevance(y_true, y_score, k)
    precision_at_rank = np.cumsum(relevance, axis=1) / np.arange(1, k + 1)
    average_precision = (precision_at_rank * relevance).sum(axis=1) / np.minimum(
        k, relevant_per_query
    )
    return float(average_precision.mean())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions({"hit", "fraction"})],
    },
    prefer_skip_nested_validation=True,
)
def recall_at_k(y_true, y_score, *, k, kind="hit"):
    """Mean over queries of the recall of the ``k`` best-scored items.

    ``kind="hit"``, the R@k of cross-modal retrieval tables (image → text and
    text → image retrieval in MedUnifier, CLIP): the fraction of queries with
    at least one relevant item among their ``k`` best,
    ``R@k(q) = 1[Σ_{i≤k} rel_i > 0]``. ``kind="fraction"``, the
    information-retrieval recall: the fraction of each query's ``R`` relevant
    items found in its top ``k``, ``R@k(q) = (1/R) Σ_{i≤k} rel_i``. With one
    relevant item per query (paired data) the two agree and equal
    :func:`sklearn.metrics.top_k_accuracy_score` with the gallery items as
    classes.

    Parameters
    ----------
    y_true : array-like of shape (n_queries, n_gallery)
        Binary relevance (bool or 0/1) of every gallery item to every query,
        e.g. ``query_labels[:, None] == gallery_labels[None, :]``, or the
        identity for paired images and reports. Every query needs at least one
        relevant item.
    y_score : array-like of shape (n_queries, n_gallery)
        Scores ranking the gallery for each query, higher first. Ties are
        ranked in gallery order (a stable sort).
    k : int >= 1
        Number of top-ranked items looked at; at most ``n_gallery``.
    kind : {"hit", "fraction"}, default="hit"
        Which recall, see above.

    Returns
    -------
    recall : float
        In ``[0, 1]``.

    See Also
    --------
    precision_at_k : Fraction of the top ``k`` that is relevant.
    mean_average_precision_at_k : Rewards relevant items ranked earlier.

    Examples
    --------
    The first query has two relevant items and finds one in its top 2, the
    second finds none:

    >>> from skalign.metrics import recall_at_k
    >>> relevance = [[1, 0, 1, 0], [0, 1, 0, 0]]
    >>> scores = [[0.9, 0.8, 0.1, 0.3], [0.2, 0.1, 0.7, 0.8]]
    >>> recall_at_k(relevance, scores, k=2)
    0.5
    >>> recall_at_k(relevance, scores, k=2, kind="fraction")
    0.25
    """
    relevant_per_query = _relevant_per_query(y_true, y_score, "recall", "recall_at_k")
    found = _ranked_relevance(y_true, y_score, k).sum(axis=1)
    if kind == "hit":
        return float(np.mean(found > 0))
    return float(np.mean(found / relevant_per_query))


def _relevant_per_query(y_true, y_score, quantity, function):
    """Relevant gallery items of each query; raises when a query has none
    (``quantity`` is then undefined for it; ``function`` names the caller)."""
    relevant_per_query = _check_relevance(y_true, y_score)[0].sum(axis=1)
    if np.any(relevant_per_query == 0):
        raise ValueError(
            f"{int(np.sum(relevant_per_query == 0))} of {len(relevant_per_query)} "
            f"queries have no relevant gallery item, so their {quantity} is "
            "undefined. Drop them before scoring, e.g. keep = y_true.any(axis=1); "
            f"{function}(y_true[keep], y_score[keep], k=k)."
        )
    return relevant_per_query


def _ranked_relevance(y_true, y_score, k):
    """Relevance of each query's ``k`` best-scored items, in rank order."""
    relevance, scores = _check_relevance(y_true, y_score)
    if k > scores.shape[1]:
        raise ValueError(
            f"k={k} exceeds the gallery size {scores.shape[1]}. Pass k <= "
            f"{scores.shape[1]} (or k=None for mean_average_precision_at_k)."
        )
    order = chunked_top_k(
        lambda start, stop: scores[start:stop],
        *scores.shape,
        k,
        scores.dtype.itemsize,
    )[0]
    return np.take_along_axis(relevance, order, axis=1).astype(np.float64)


def _check_relevance(y_true, y_score):
    for name, value in (("y_true", y_true), ("y_score", y_score)):
        ndim = np.ndim(on_host(value))
        if ndim != 2:
            raise ValueError(
                f"{name} must be 2-D, of shape (n_queries, n_gallery), one row per "
                f"query, but it has {ndim} dimension(s). For a single query pass "
                f"{name}.reshape(1, -1)."
            )
    relevance = check_array(
        on_host(y_true),
        dtype=None,
        input_name="y_true",
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    scores = check_array(
        on_host(y_score),
        dtype=np.float64,
        input_name="y_score",
        ensure_all_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    if 0 in relevance.shape:
        raise ValueError(
            f"y_true has shape {relevance.shape}: no queries or no gallery items "
            "to rank. Pass at least one query (row) and one gallery item (column)."
        )
    bad = np.argwhere(~np.isfinite(scores))
    if bad.size:
        query, item = bad[0]
        raise ValueError(
            f"y_score holds {len(bad)} NaN or infinite score(s) (first "
            f"{scores[query, item]!r} for query {query}, item {item}), which rank "
            "nowhere. Pass finite scores; to leave items out of a query's "
            "ranking (e.g. the query itself), rank with skalign.retrieval.retrieve("
            "..., exclude_self=True) or its query_ids and gallery_ids."
        )
    if relevance.shape != scores.shape:
        raise ValueError(
            f"y_true has shape {relevance.shape} but y_score has shape "
            f"{scores.shape}; both must be (n_queries, n_gallery), row q scoring "
            "the same gallery items for query q."
        )
    if not np.isin(relevance, (0, 1)).all():
        raise ValueError(
            "y_true must hold binary relevance (bool or 0/1), got values "
            f"{np.unique(relevance)[:5].tolist()}. For label-based relevance pass "
            "query_labels[:, None] == gallery_labels[None, :]."
        )
    return relevance.astype(bool), scores
