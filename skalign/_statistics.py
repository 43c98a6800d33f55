"""Sufficient statistics of paired anchors, accumulated chunk by chunk.

Every closed-form map needs only the anchors' per-feature means and spreads
(standardisation, centring), the scatter matrix ``XᵀX`` and the cross-product
``XᵀY``, all of size ``d``. :class:`AnchorMoments` holds them about the
running means, in float64, and two of them merge exactly (Chan, Golub and
LeVeque's pairwise update), so a fit streams over chunks, over
``partial_fit`` calls or over the blocks of a Dask array with memory
``O(d²)`` plus one chunk. The ``n``-sized products run in the input's
precision (a float32 chunk stays float32 in its GEMM); only their ``d``-sized
results are upcast, after each chunk is centred on its own mean so that no
large mean cancels in float32.

For ``alpha="auto"`` the rows are dealt into ``K`` interleaved folds (row
``i`` into fold ``i mod K``) and one set of moments is kept per fold: the
moments of every training complement follow by exact subtraction, so the
held-out error of each candidate ridge strength is computed from statistics
alone (:func:`skalign._solvers.cross_validated_alpha`).
"""

from typing import Any, NamedTuple

from ._backend import get_namespace, solve_dtype

# Rows of one chunk hold at most about this many bytes of X and Y together;
# it bounds the temporaries of a streaming fit.
_CHUNK_BYTES = 64 * 2**20
# A chunk has at least this many rows, so its GEMMs stay efficient.
_MIN_CHUNK_ROWS = 1024


class AnchorMoments(NamedTuple):
    """First and second moments of paired anchors, about their means.

    Attributes
    ----------
    n_samples : int
    x_mean : array of shape (n_features,)
    y_mean : array of shape (n_targets,)
    xx : array of shape (n_features, n_features) or (n_features,)
        ``Σ (x - x_mean)(x - x_mean)ᵀ``, or only its diagonal when the map
        needs no Gram matrix (``ortho``).
    xy : array of shape (n_features, n_targets)
        ``Σ (x - x_mean)(y - y_mean)ᵀ``.
    yy : array of shape (n_targets,)
        ``Σ (y - y_mean)²`` per target feature (the diagonal of Y's scatter).
    resolution : float
        Machine epsilon of the inputs the products were computed in; rank
        decisions on these moments cannot be finer.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._statistics import AnchorMoments
    >>> X, Y = np.arange(8.0).reshape(4, 2), np.ones((4, 1))
    >>> whole = AnchorMoments.of_chunk(X, Y)
    >>> halves = AnchorMoments.of_chunk(X[:2], Y[:2]).merge(
    ...     AnchorMoments.of_chunk(X[2:], Y[2:]))
    >>> bool(np.allclose(whole.xx, halves.xx)), whole.x_mean.tolist()
    (True, [3.0, 4.0])
    """

    n_samples: int
    x_mean: Any
    y_mean: Any
    xx: Any
    xy: Any
    yy: Any
    resolution: float

    @classmethod
    def of_chunk(cls, X, Y, *, gram=True):
        """Moments of one chunk.

        ``gram=False`` (Procrustes) keeps only the diagonal of ``XᵀX`` (half
        the work) and takes the products in the chunk's dtype; ``gram=True``
        (least squares) takes them in float64 (see below).
        """
        xp = get_namespace(X, Y)
        work = solve_dtype(xp, X)
        if gram:
            # Least squares squares the condition number of X: a float32 Gram
            # matrix loses the map when anchors barely outnumber features
            # (400 x 384 recovered the identity to 3e-3 only), so its chunk
            # products are taken in float64. Procrustes (gram=False) needs
            # only the cross-products and keeps the input's precision.
            X, Y = xp.astype(X, work), xp.astype(Y, work)
        n_samples = X.shape[0]
        x_mean = xp.sum(X, axis=0, dtype=work) / n_samples
        y_mean = xp.sum(Y, axis=0, dtype=work) / n_samples
        # Centre in the input dtype on the rounded mean, then remove the
        # rounding's (tiny) offset exactly in float64.
        x_shift = xp.astype(x_mean, X.dtype)
        y_shift = xp.astype(y_mean, Y.dtype)
        Xc, Yc = X - x_shift, Y - y_shift
        dx = x_mean - xp.astype(x_shift, work)
        dy = y_mean - xp.astype(y_shift, work)
        if gram:
            xx = xp.astype(Xc.T @ Xc, work) - n_samples * (dx[:, None] * dx[None, :])
        else:
            xx = xp.sum(Xc * Xc, axis=0, dtype=work) - n_samples * dx**2
        xy = xp.astype(Xc.T @ Yc, work) - n_samples * (dx[:, None] * dy[None, :])
        yy = xp.sum(Yc * Yc, axis=0, dtype=work) - n_samples * dy**2
        resolution = float(xp.finfo(X.dtype).eps)
        return cls(n_samples, x_mean, y_mean, xx, xy, yy, resolution)

    def merge(self, other):
        """Moments of the union of both row sets (exact, Chan et al.'s update)."""
        if other is None:
            return self
        n_samples = self.n_samples + other.n_samples
        weight = self.n_samples * other.n_samples / n_samples
        dx = other.x_mean - self.x_mean
        dy = other.y_mean - self.y_mean
        return AnchorMoments(
            n_samples,
            self.x_mean + dx * (other.n_samples / n_samples),
            self.y_mean + dy * (other.n_samples / n_samples),
            self.xx + other.xx + weight * _square(dx, self.xx),
            self.xy + other.xy + weight * (dx[:, None] * dy[None, :]),
            self.yy + other.yy + weight * dy**2,
            max(self.resolution, other.resolution),
        )

    def remove(self, part):
        """Moments of these rows without ``part`` (a subset of them)."""
        n_samples = self.n_samples - part.n_samples
        x_mean = (self.n_samples * self.x_mean - part.n_samples * part.x_mean) / (
            n_samples
        )
        y_mean = (self.n_samples * self.y_mean - part.n_samples * part.y_mean) / (
            n_samples
        )
        weight = part.n_samples * n_samples / self.n_samples
        dx, dy = part.x_mean - x_mean, part.y_mean - y_mean
        return AnchorMoments(
            n_samples,
            x_mean,
            y_mean,
            self.xx - part.xx - weight * _square(dx, self.xx),
            self.xy - part.xy - weight * (dx[:, None] * dy[None, :]),
            self.yy - part.yy - weight * dy**2,
            self.resolution,
        )

    def about(self, x_point, y_point):
        """Second moments about given points instead of the means.

        Returns ``(Σ (x-p)(x-p)ᵀ, Σ (x-p)(y-q)ᵀ, Σ (y-q)²)``.
        """
        dx, dy = self.x_mean - x_point, self.y_mean - y_point
        n_samples = self.n_samples
        return (
            self.xx + n_samples * _square(dx, self.xx),
            self.xy + n_samples * (dx[:, None] * dy[None, :]),
            self.yy + n_samples * dy**2,
        )


def _square(d, like):
    """``d dᵀ``, or its diagonal when ``like`` holds only a diagonal."""
    return d[:, None] * d[None, :] if like.ndim == 2 else d**2


def merge_all(moments):
    """Merge a sequence of moments (``None`` entries are empty)."""
    total = None
    for part in moments:
        if part is not None:
            total = part if total is None else total.merge(part)
    return total


def chunk_rows(X, Y):
    """Rows per chunk: about ``_CHUNK_BYTES`` of both sides, at least 1,024."""
    itemsize = X.dtype.itemsize if hasattr(X.dtype, "itemsize") else 8
    per_row = max(itemsize * (X.shape[1] + Y.shape[1]), 1)
    return max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // per_row)


def accumulate_moments(X, Y, *, n_folds=1, offset=0, transform_chunk=None, gram=True):
    """Moments of paired anchors per fold, streamed over row chunks.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, n_targets)
        NumPy arrays (memory-mapped ones included) or torch tensors; they are
        read chunk by chunk and never copied whole.
    n_folds : int, default=1
        Row ``offset + i`` goes to fold ``(offset + i) mod n_folds``.
    offset : int, default=0
        Global index of the first row (the rows already seen by
        ``partial_fit``).
    transform_chunk : callable or None, default=None
        Applied to each chunk pair before its moments are taken (e.g. row
        normalisation).
    gram : bool, default=True
        Keep the whole ``XᵀX``; False keeps its diagonal only.

    Returns
    -------
    folds : list of AnchorMoments or None, of length ``n_folds``
        ``None`` for a fold that received no row.
    """
    folds = [None] * n_folds
    step = chunk_rows(X, Y)
    for start in range(0, X.shape[0], step):
        X_chunk, Y_chunk = X[start : start + step], Y[start : start + step]
        if transform_chunk is not None:
            X_chunk, Y_chunk = transform_chunk(X_chunk, Y_chunk)
        for fold in range(n_folds):
            first = (fold - offset - start) % n_folds
            if first >= X_chunk.shape[0]:
                continue
            rows = slice(first, None, n_folds)
            part = AnchorMoments.of_chunk(X_chunk[rows], Y_chunk[rows], gram=gram)
            folds[fold] = part if folds[fold] is None else folds[fold].merge(part)
    return folds


def dask_moments(X, Y, *, n_folds=1, transform_chunk=None, gram=True):
    """Per-fold moments of two row-aligned Dask arrays, as one map-reduce.

    Each block pair's moments are computed where the block lives
    (:func:`accumulate_moments`, with the block's global row offset so the
    folds match an in-memory fit), and a single task merges them; only the
    ``d``-sized result reaches the caller.

    Returns
    -------
    folds : list of AnchorMoments or None, of length ``n_folds``
    """
    import dask

    X = X.rechunk({1: -1})
    Y = Y.rechunk({0: X.chunks[0], 1: -1})
    offsets = [0]
    for rows in X.chunks[0][:-1]:
        offsets.append(offsets[-1] + rows)
    parts = [
        dask.delayed(_block_moments)(
            x_block, y_block, n_folds, offset, transform_chunk, gram
        )
        for x_block, y_block, offset in zip(
            X.to_delayed().ravel(), Y.to_delayed().ravel(), offsets, strict=True
        )
    ]
    return dask.delayed(_merge_fold_lists)(parts).compute()


def _block_moments(X, Y, n_folds, offset, transform_chunk, gram):
    import numpy as np

    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError(
            f"The block of anchors starting at row {offset} contains NaN or "
            "infinity. Remove or impute those rows before aligning."
        )
    return accumulate_moments(
        X,
        Y,
        n_folds=n_folds,
        offset=offset,
        transform_chunk=transform_chunk,
        gram=gram,
    )


def _merge_fold_lists(parts):
    folds = None
    for part in parts:
        folds = merge_folds(folds, part)
    return folds


def merge_folds(old, new):
    """Fold-wise merge of two lists of per-fold moments."""
    if old is None:
        return new
    return [b if a is None else a.merge(b) for a, b in zip(old, new, strict=True)]
