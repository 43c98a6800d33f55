"""Approximate nearest-neighbour indexes of a gallery, for retrieval at scale.

Exact retrieval scores every gallery item for every query (a GEMM); beyond a
few hundred thousand items an index answers a query by looking at a small
part of the gallery. :class:`GalleryIndex` wraps a FAISS index (``faiss-cpu``,
the ``index`` extra) over the unit-normalised gallery, searched by inner
product (cosine similarity):

- ``"ivf"`` (``IndexIVFFlat``, the default choice): k-means cells; a query
  scans the ``n_probe`` cells nearest to it. Cheap to build (a k-means on a
  sample, then one assignment GEMM), exact when ``n_probe == n_lists``.
- ``"hnsw"`` (``IndexHNSWFlat``): a navigable small-world graph; faster
  queries at equal recall, but a build that is one to two orders of magnitude
  slower (see ``benchmarks/README.md``).

The index proposes candidates only: :func:`skalign.retrieval.retrieve`
re-scores them exactly and ranks them with the exact path's rules.
"""

import hashlib

import numpy as np

from ._optional import import_optional
from ._preprocessing import normalize_rows

__all__ = ["GalleryIndex"]

INDEX_KINDS = ("ivf", "hnsw")

_PARAMETERS = {
    "ivf": ("n_lists", "n_probe", "random_state"),
    "hnsw": ("n_links", "ef_construction", "ef_search"),
}

# k-means sample per cell (FAISS needs >= 39, caps itself at 256).
_TRAINING_POINTS_PER_LIST = 100

# Rows normalised and added to the index at a time (bounds the float32 copy).
_ADD_BATCH = 65_536


def _faiss():
    return import_optional(
        "faiss", extra="index", purpose="An approximate retrieval index (index=)"
    )


def default_n_lists(n_items):
    """``sqrt(n)`` cells, with at least 39 training points per cell (fewer
    make k-means warn and degrade). FAISS suggests 4 to 16 ``sqrt(n)`` for
    the fastest queries; ``sqrt(n)`` keeps the k-means of the build to a few
    minutes for 10^6 items on a 2-core CPU, at the cost of scanning more
    items per query.

    Examples
    --------
    >>> from skalign._index import default_n_lists
    >>> default_n_lists(1_000_000), default_n_lists(100)
    (1000, 2)
    """
    return max(1, min(int(np.sqrt(n_items)), n_items // 39))


class GalleryIndex:
    """A FAISS index over the unit-normalised rows of a gallery.

    Parameters
    ----------
    gallery : ndarray of shape (n_items, n_features)
        Finite rows; zero rows are indexed as zero vectors (similarity 0).
    kind : {"ivf", "hnsw"}
        The index structure, see the module docstring.
    params : dict or None, default=None
        ``"ivf"``: ``n_lists`` (cells, default :func:`default_n_lists`),
        ``n_probe`` (cells scanned per query, default ``min(16, n_lists)``),
        ``random_state`` (int seed of the k-means sample, default 0).
        ``"hnsw"``: ``n_links`` (graph degree M, default 32),
        ``ef_construction`` (default 80), ``ef_search`` (default 64, raised
        to the number of candidates asked for).

    Attributes
    ----------
    kind : str
    params : dict
        The parameters in use, defaults filled in.
    n_items, n_features : int
        The gallery's shape.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._index import GalleryIndex
    >>> gallery = np.random.default_rng(0).normal(size=(200, 8))
    >>> index = GalleryIndex(gallery, "ivf", {"n_lists": 4, "n_probe": 4})
    >>> index.search(gallery[:2], 1).tolist()
    [[0], [1]]
    """

    def __init__(self, gallery, kind, params=None):
        faiss = _faiss()
        self.kind = kind
        self.n_items, self.n_features = gallery.shape
        self.params = _check_params(kind, params, self.n_items)
        if kind == "ivf":
            quantizer = faiss.IndexFlatIP(self.n_features)
            index = faiss.IndexIVFFlat(
                quantizer,
                self.n_features,
                self.params["n_lists"],
                faiss.METRIC_INNER_PRODUCT,
            )
            rng = np.random.default_rng(self.params["random_state"])
            n_train = min(
                self.n_items, _TRAINING_POINTS_PER_LIST * self.params["n_lists"]
            )
            sample = np.sort(rng.choice(self.n_items, n_train, replace=False))
            index.train(_unit_float32(gallery[sample]))
        else:
            index = faiss.IndexHNSWFlat(
                self.n_features, self.params["n_links"], faiss.METRIC_INNER_PRODUCT
            )
            index.hnsw.efConstruction = self.params["ef_construction"]
        for start in range(0, self.n_items, _ADD_BATCH):
            index.add(_unit_float32(gallery[start : start + _ADD_BATCH]))
        self._index = index
        self.gallery_digest = gallery_digest(gallery)

    def is_built_on(self, gallery):
        """Whether ``gallery`` holds the rows this index was built on.

        Parameters
        ----------
        gallery : ndarray of shape (n_items, n_features)

        Returns
        -------
        bool
            True when its shape and the digest of its rows (as indexed:
            unit-normalised float32) equal the index's.
        """
        return gallery.shape == (self.n_items, self.n_features) and (
            gallery_digest(gallery) == self.gallery_digest
        )

    def search(self, queries, n_candidates):
        """The ``n_candidates`` gallery rows the index finds nearest each query.

        Parameters
        ----------
        queries : ndarray of shape (n_queries, n_features)
        n_candidates : int

        Returns
        -------
        candidates : ndarray of shape (n_queries, n_candidates), dtype=int64
            Gallery rows, ``-1`` where the index found fewer.
        """
        if self.kind == "ivf":
            self._index.nprobe = self.params["n_probe"]
        else:
            self._index.hnsw.efSearch = max(self.params["ef_search"], n_candidates)
        return self._index.search(_unit_float32(queries), n_candidates)[1]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_index"] = _faiss().serialize_index(self._index)
        return state

    def __setstate__(self, state):
        state = dict(state)
        state["_index"] = _faiss().deserialize_index(state["_index"])
        self.__dict__.update(state)


def _check_params(kind, params, n_items):
    """The index parameters with defaults filled in; unknown names refused."""
    params = {} if params is None else dict(params)
    unknown = sorted(set(params) - set(_PARAMETERS[kind]))
    if unknown:
        raise ValueError(
            f"Unknown index_params {unknown} for index={kind!r}; use some of "
            f"{list(_PARAMETERS[kind])}."
        )
    if kind == "ivf":
        params.setdefault("n_lists", default_n_lists(n_items))
        params.setdefault("n_probe", min(16, params["n_lists"]))
        params.setdefault("random_state", 0)
        bounds = {"n_lists": n_items, "n_probe": params["n_lists"]}
    else:
        params.setdefault("n_links", 32)
        params.setdefault("ef_construction", 80)
        params.setdefault("ef_search", 64)
        bounds = {}
    for name, value in params.items():
        if name == "random_state":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(
                f"index_params[{name!r}] must be a whole number, got {value!r}."
            )
        upper = bounds.get(name)
        if value < 1 or (upper is not None and value > upper):
            limit = f"1 to {upper}" if upper is not None else ">= 1"
            raise ValueError(
                f"index_params[{name!r}]={value} is out of range; pass {limit}."
            )
    return params


def gallery_digest(gallery):
    """A BLAKE2 digest of the gallery's rows as the index holds them
    (unit-normalised float32), hashed a batch at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._index import gallery_digest
    >>> rows = np.array([[3.0, 4.0], [1.0, 0.0]])
    >>> gallery_digest(rows) == gallery_digest(2 * rows)
    True
    >>> gallery_digest(rows) == gallery_digest(rows[::-1])
    False
    """
    digest = hashlib.blake2b(digest_size=16)
    for start in range(0, gallery.shape[0], _ADD_BATCH):
        digest.update(_unit_float32(gallery[start : start + _ADD_BATCH]).tobytes())
    return digest.hexdigest()


def _unit_float32(rows):
    """Rows scaled to unit norm (zero rows stay zero), as contiguous float32."""
    # normalised in the rows' precision: a float64 row near 1e300 would be
    # infinite in float32, and its squares overflow
    return np.ascontiguousarray(normalize_rows(np.asarray(rows)), dtype=np.float32)
