"""Top-k selection by partial selection, in chunks of queries.

The one place where rankings are cut to their ``k`` best items: used by
:func:`skalign.retrieval.retrieve`, :class:`skalign.retrieval.ReportRetriever`
and the ranking metrics of :mod:`skalign.metrics`. The result equals the
first ``k`` columns of a full stable sort by decreasing score (ties in gallery
order), at the cost of an ``np.argpartition`` plus a sort of ``k`` items per
query, and the score blocks are produced and reduced a chunk of queries at a
time so that memory stays bounded whatever the gallery size.
"""

import numpy as np
from sklearn import get_config

# Bytes of temporaries per scored (query, gallery item) pair on top of the
# block of scores itself: argpartition's int64 indices (8), the tie mask (1),
# an exclusion mask (1), and room for one more score-sized temporary of the
# scoring (CSLS, 2 cos - r(q) - r(g), makes one in float32).
_WORKSPACE_BYTES = 16


def query_chunk_size(n_gallery, score_itemsize, working_memory=None):
    """How many queries to score at once within a memory budget.

    Parameters
    ----------
    n_gallery : int
        Gallery items scored per query.
    score_itemsize : int
        Bytes per score (4 for float32, 8 for float64).
    working_memory : float or None, default=None
        The budget in MiB; None uses scikit-learn's ``working_memory``
        setting (``sklearn.set_config``, 1024 MiB by default).

    Returns
    -------
    n_queries : int
        At least 1.

    Examples
    --------
    >>> from skalign._topk import query_chunk_size
    >>> query_chunk_size(1_000_000, 4, working_memory=1024)
    53
    """
    if working_memory is None:
        working_memory = get_config()["working_memory"]
    per_query = max(n_gallery, 1) * (score_itemsize + _WORKSPACE_BYTES)
    return max(1, int(working_memory * 2**20) // per_query)


def top_k(scores, k):
    """The ``k`` best-scored columns of each row, best first; ties in column order.

    Equals ``np.argsort(-scores, axis=1, kind="stable")[:, :k]`` (and the
    scores there) but selects with ``np.argpartition`` and sorts only the
    ``k`` selected items. Where the ``k``-th best score is tied with columns
    left out, the earliest tied columns are kept, as the stable sort does.

    Parameters
    ----------
    scores : ndarray of shape (n_rows, n_columns)
        Finite scores, or ``-inf`` for excluded items.
    k : int
        ``1 <= k <= n_columns``.

    Returns
    -------
    indices : ndarray of shape (n_rows, k), dtype=int64
    top_scores : ndarray of shape (n_rows, k)

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._topk import top_k
    >>> indices, values = top_k(np.array([[1.0, 3.0, 2.0, 3.0, 2.0]]), 3)
    >>> indices.tolist(), values.tolist()
    ([[1, 3, 2]], [[3.0, 3.0, 2.0]])
    """
    n_rows, n_columns = scores.shape
    if n_rows == 0:
        return np.empty((0, k), dtype=np.int64), np.empty((0, k), scores.dtype)
    if k >= n_columns:
        indices = np.argsort(-scores, axis=1, kind="stable")
        return indices, np.take_along_axis(scores, indices, axis=1)
    selected = np.argpartition(scores, n_columns - k, axis=1)[:, n_columns - k :]
    threshold = np.take_along_axis(scores, selected, axis=1).min(axis=1)
    # every column above the k-th best score is selected; among the columns
    # tied with it, argpartition may have kept later ones than a stable sort
    tied = scores == threshold[:, None]
    n_tied = tied.sum(axis=1)
    n_tied_selected = (
        np.take_along_axis(scores, selected, axis=1) == threshold[:, None]
    ).sum(axis=1)
    for row in np.flatnonzero(n_tied > n_tied_selected):  # row by row: no copies
        above = np.flatnonzero(scores[row] > threshold[row])
        first_tied = np.flatnonzero(tied[row])[: k - above.size]
        selected[row] = np.concatenate([above, first_tied])
    selected.sort(axis=1)  # gallery order, so the stable sort below breaks ties
    values = np.take_along_axis(scores, selected, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return (
        np.take_along_axis(selected, order, axis=1),
        np.take_along_axis(values, order, axis=1),
    )


def chunked_top_k(score_block, n_queries, n_gallery, k, score_itemsize):
    """Top ``k`` of every query, scoring a chunk of queries at a time.

    Parameters
    ----------
    score_block : callable
        ``score_block(start, stop)`` returns the scores of queries
        ``start:stop`` against the whole gallery, an ndarray of shape
        ``(stop - start, n_gallery)``.
    n_queries, n_gallery : int
    k : int
        ``1 <= k <= n_gallery``.
    score_itemsize : int
        Bytes per score, to size the chunks (see :func:`query_chunk_size`).

    Returns
    -------
    indices : ndarray of shape (n_queries, k), dtype=int64
    top_scores : ndarray of shape (n_queries, k)

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._topk import chunked_top_k
    >>> scores = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.7]])
    >>> chunked_top_k(lambda a, b: scores[a:b], 2, 3, 2, 8)[0].tolist()
    [[1, 2], [0, 2]]
    """
    chunk = query_chunk_size(n_gallery, score_itemsize)
    indices, values = [], []
    for start in range(0, n_queries, chunk):
        stop = min(start + chunk, n_queries)
        block_indices, block_values = top_k(score_block(start, stop), k)
        indices.append(block_indices)
        values.append(block_values)
    if not indices:
        return top_k(np.empty((0, n_gallery)), k)
    return np.concatenate(indices), np.concatenate(values)
