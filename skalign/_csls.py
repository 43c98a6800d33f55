"""Cross-domain similarity local scaling (CSLS), the hubness-aware similarity.

In high-dimensional spaces some points (hubs) are the nearest neighbour of
many others, so plain cosine nearest neighbours keep returning them. CSLS
(Conneau et al., 2018, "Word translation without parallel data") discounts
each point by how close it sits to its own neighbourhood in the other set:

    CSLS(x, y) = 2 cos(x, y) - r_Y(x) - r_X(y),

where ``r_Y(x)`` is the mean cosine similarity of ``x`` to its ``k`` nearest
rows of ``Y`` and ``r_X(y)`` that of ``y`` to its ``k`` nearest rows of ``X``.
One implementation serves :func:`skalign.retrieval.retrieve`,
:class:`~skalign.ZeroShotTextSpaceClassifier` and
:class:`~skalign.SelfLearningAligner`.
"""

import numpy as np

from ._preprocessing import cosine_factors, normalize_rows
from ._topk import query_chunk_size


def neighborhood_similarity(A, B, n_neighbors, *, a_ids=None, b_ids=None):
    """Mean cosine similarity of each row of ``A`` to its nearest rows of ``B``.

    The hubness penalty ``r_B(a)`` of CSLS. Memory stays bounded: the
    similarities are computed in chunks of rows of ``A`` sized from
    scikit-learn's ``working_memory``, and neither ``A`` nor ``B`` is copied
    whole (``B``'s precision is kept).

    Parameters
    ----------
    A : ndarray of shape (n_a, n_features)
    B : ndarray of shape (n_b, n_features)
    n_neighbors : int >= 1
        Neighbourhood size ``k``, clipped to the rows of ``B`` a row of ``A``
        may see.
    a_ids, b_ids : ndarray of shape (n_a,) and (n_b,), or None
        Pairs with equal ids are not neighbours (a row is not its own
        neighbour when ``A`` is ``B``).

    Returns
    -------
    penalty : ndarray of shape (n_a,)

    Examples
    --------
    >>> from skalign._csls import neighborhood_similarity
    >>> neighborhood_similarity([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], 2)
    array([0.85355339])
    """
    A, B = np.asarray(A), np.asarray(B)
    k = min(n_neighbors, B.shape[0] - most_shared_ids(a_ids, b_ids))
    n_b = B.shape[0]
    # cosines as unit(A) @ B.T / |b|, in B's precision: B is not copied
    # (unless its squares overflow or underflow, see cosine_factors)
    B, b_scale = cosine_factors(B)
    chunk = query_chunk_size(n_b, B.dtype.itemsize)
    penalty = np.empty(A.shape[0])
    for start in range(0, A.shape[0], chunk):
        rows = slice(start, start + chunk)
        similarities = normalize_rows(A[rows]).astype(B.dtype, copy=False) @ B.T
        similarities *= b_scale
        if a_ids is not None:
            similarities[a_ids[rows, None] == b_ids[None, :]] = -np.inf
        nearest = np.partition(similarities, n_b - k, axis=1)[:, n_b - k :]
        penalty[rows] = nearest.mean(axis=1)
    return penalty


def most_shared_ids(a_ids, b_ids):
    """The largest number of rows of ``B`` sharing the id of one row of ``A``."""
    if a_ids is None:
        return 0
    counts = {}
    for identifier in b_ids:
        counts[identifier] = counts.get(identifier, 0) + 1
    return max((counts.get(identifier, 0) for identifier in a_ids), default=0)


def top_k_mean(similarities, n_neighbors, axis=1):
    """Mean of the ``n_neighbors`` largest similarities along ``axis``.

    The CSLS penalty read off a precomputed similarity matrix (rows against
    columns with ``axis=1``, columns against rows with ``axis=0``), for scores
    that are not plain cosines, such as the paper's mean prompt similarity.

    Parameters
    ----------
    similarities : ndarray of shape (n_a, n_b)
    n_neighbors : int >= 1
        Neighbourhood size, clipped to the length of ``axis``.
    axis : {0, 1}, default=1

    Returns
    -------
    penalty : ndarray of shape (n_a,) for ``axis=1``, (n_b,) for ``axis=0``

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._csls import top_k_mean
    >>> top_k_mean(np.array([[0.9, 0.1, 0.5]]), 2).tolist()
    [0.7]
    """
    similarities = np.asarray(similarities)
    k = min(n_neighbors, similarities.shape[axis])
    largest = -np.partition(-similarities, k - 1, axis=axis)
    return np.take(largest, np.arange(k), axis=axis).mean(axis=axis)


def csls_similarities(A, B, *, n_neighbors=10, penalty_a=None, penalty_b=None):
    """CSLS similarity of every row of ``A`` with every row of ``B``.

    ``2 cos(a, b) - r_B(a) - r_A(b)``. The penalties default to the
    neighbourhoods within the two sets given; pass precomputed ones to score
    against another population (e.g. statistics kept at fit time, so that a
    prediction does not depend on the batch it arrives in).

    Parameters
    ----------
    A : array-like of shape (n_a, n_features)
    B : array-like of shape (n_b, n_features)
    n_neighbors : int >= 1, default=10
        Neighbourhood size ``k`` of the penalties computed here.
    penalty_a : array-like of shape (n_a,) or None, default=None
        ``r_B(a)``; None computes it from ``B``.
    penalty_b : array-like of shape (n_b,) or None, default=None
        ``r_A(b)``; None computes it from ``A``.

    Returns
    -------
    similarities : ndarray of shape (n_a, n_b)
        In ``[-4, 4]``; 2 cos for points with empty neighbourhoods.

    Examples
    --------
    The hub ``[1, 1]`` is every query's cosine nearest neighbour, but not its
    CSLS nearest neighbour:

    >>> import numpy as np
    >>> from sklearn.preprocessing import normalize
    >>> from skalign._csls import csls_similarities
    >>> queries = np.array([[1.0, 0.6], [0.6, 1.0]])
    >>> gallery = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> (normalize(queries) @ normalize(gallery).T).argmax(axis=1).tolist()
    [0, 0]
    >>> csls_similarities(queries, gallery, n_neighbors=2).argmax(axis=1).tolist()
    [1, 2]
    """
    A, B = np.asarray(A), np.asarray(B)
    if penalty_a is None:
        penalty_a = neighborhood_similarity(A, B, n_neighbors)
    if penalty_b is None:
        penalty_b = neighborhood_similarity(B, A, n_neighbors)
    return csls_from_cosine(
        normalize_rows(A) @ normalize_rows(B).T, penalty_a, penalty_b
    )


def csls_from_cosine(cosine, penalty_a, penalty_b):
    """``2 cos(a, b) - r_B(a) - r_A(b)`` from a block of cosine similarities.

    Parameters
    ----------
    cosine : ndarray of shape (n_a, n_b)
    penalty_a : array-like of shape (n_a,)
    penalty_b : array-like of shape (n_b,)

    Returns
    -------
    similarities : ndarray of shape (n_a, n_b)

    Examples
    --------
    >>> from skalign._csls import csls_from_cosine
    >>> csls_from_cosine([[0.5, 0.9]], [0.8], [0.1, 0.6]).round(2).tolist()
    [[0.1, 0.4]]
    """
    cosine = np.asarray(cosine)
    return (
        2.0 * cosine - np.asarray(penalty_a)[:, None] - np.asarray(penalty_b)[None, :]
    )
