"""Sufficient statistics of paired anchors, accumulated chunk by chunk.

Every closed-form map needs only the anchors' per-feature means and spreads
(standardisation, centring), the scatter matrix ``XᵀX`` and the cross-product
``XᵀY``, all of size ``d``. :class:`AnchorMoments` holds them about the
running means, in float64, and two of them merge exactly (Chan, Golub and
LeVeque's pairwise update), so a fit streams over chunks, over
``partial_fit`` calls or over the blocks of a Dask array with memory
``O(d²)`` plus one chunk. NumPy chunks are added in place
(:func:`absorb_chunk`): each chunk is centred on its own mean, its products
are added to the float64 accumulators in column blocks (the Gram matrix's
lower triangle only, half the work), and no ``d × d`` array is allocated per
chunk. Least squares takes its chunk products in float64 (it squares the
anchors' condition number); Procrustes keeps float32 chunks in float32 and
upcasts only the ``d``-sized result. Tensors (e.g. on CUDA) are merged with
:meth:`AnchorMoments.merge`.

For ``alpha="auto"`` the rows are dealt into ``K`` interleaved folds (row
``i`` into fold ``i mod K``) and one set of moments is kept per fold: the
moments of every training complement follow by exact subtraction, so the
held-out error of each candidate ridge strength is computed from statistics
alone (:func:`skalign._alpha.cross_validated_alpha`).
"""

from typing import Any, NamedTuple

import numpy as np

from ._backend import array_device, get_namespace, solve_dtype
from ._preprocessing import in_square_range, largest_magnitude, side_magnitude

# Rows of one chunk hold at most about this many bytes of X and Y together,
# counted in float64 (the width of the centred copies least squares works
# on); it bounds the temporaries of a streaming fit.
_CHUNK_BYTES = 64 * 2**20
# A chunk has at least this many rows, so its GEMMs stay efficient.
_MIN_CHUNK_ROWS = 1024
# A chunk's d x d products are added to the accumulators in column blocks
# whose temporary holds at most this many bytes.
_BLOCK_BYTES = 16 * 2**20


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
    magnitudes : tuple of two floats
        The powers of two the source and the target rows were divided by
        before their moments were taken (1.0 unless their squares would
        overflow or underflow, see :func:`~skalign._preprocessing.side_magnitude`);
        moments at other magnitudes are brought to these, exactly, when merged.

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
    magnitudes: tuple = (1.0, 1.0)

    @classmethod
    def of_chunk(cls, X, Y, *, gram=True, weights=None):
        """Moments of one chunk.

        ``gram=False`` (Procrustes) keeps only the diagonal of ``XᵀX`` (half
        the work) and takes the products in the chunk's dtype; ``gram=True``
        (least squares) takes them in float64 (see below). ``weights`` (one
        per row, NumPy) weight every mean and product, so integer weights
        give the moments of repeated rows; ``n_samples`` is then their sum.
        """
        xp = get_namespace(X, Y)
        work = solve_dtype(xp, X)
        if weights is not None:
            X, Y = xp.astype(X, work), xp.astype(Y, work)
            return cls._of_weighted_chunk(X, Y, weights, gram)
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

    @classmethod
    def _of_weighted_chunk(cls, X, Y, weights, gram):
        """:meth:`of_chunk` with row weights, in the work dtype of ``X``."""
        xp = get_namespace(X, Y)
        w = xp.asarray(np.asarray(weights), dtype=X.dtype, device=array_device(X))
        total = float(xp.sum(w))
        x_mean, y_mean = (w @ X) / total, (w @ Y) / total
        root = xp.sqrt(w)[:, None]
        Xc, Yc = (X - x_mean) * root, (Y - y_mean) * root
        xx = Xc.T @ Xc if gram else xp.sum(Xc * Xc, axis=0)
        resolution = float(xp.finfo(X.dtype).eps)
        yy = xp.sum(Yc * Yc, axis=0)
        return cls(total, x_mean, y_mean, xx, Xc.T @ Yc, yy, resolution)

    def at_magnitudes(self, magnitudes):
        """The same moments of rows divided by ``magnitudes`` (powers of two at
        least this record's): exact, short of values that fall below the
        smallest float, which count for nothing beside the others."""
        if tuple(magnitudes) == tuple(self.magnitudes):
            return self
        fx = self.magnitudes[0] / magnitudes[0]
        fy = self.magnitudes[1] / magnitudes[1]
        return AnchorMoments(
            self.n_samples,
            self.x_mean * fx,
            self.y_mean * fy,
            self.xx * fx * fx,
            self.xy * fx * fy,
            self.yy * fy * fy,
            self.resolution,
            tuple(magnitudes),
        )

    def merge(self, other):
        """Moments of the union of both row sets (exact, Chan et al.'s update)."""
        if other is None:
            return self
        if tuple(other.magnitudes) != tuple(self.magnitudes):
            common = _larger_magnitudes(self.magnitudes, other.magnitudes)
            return self.at_magnitudes(common).merge(other.at_magnitudes(common))
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
            self.magnitudes,
        )

    def remove(self, part):
        """Moments of these rows without ``part`` (a subset of them)."""
        part = part.at_magnitudes(self.magnitudes)
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
            self.magnitudes,
        )

    def scaled(self, x_point, y_point, x_scale, y_scale, *, gram=True):
        """Moments about given points, divided by the scales: the matrices the
        solvers factorise, as one new array each.

        Returns ``(Σ (x-p)(x-p)ᵀ / (sₓ sₓᵀ), Σ (x-p)(y-q)ᵀ / (sₓ s_yᵀ))``;
        the first is None with ``gram=False``. NumPy results are in Fortran
        order, which LAPACK factorises and solves in place.
        """
        dx, dy = self.x_mean - x_point, self.y_mean - y_point
        cross = _scaled_copy(self.xy, self.n_samples, dx, dy, x_scale, y_scale)
        if not gram:
            return None, cross
        square = _scaled_copy(self.xx, self.n_samples, dx, dx, x_scale, x_scale)
        return square, cross

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


def _larger_magnitudes(first, second):
    return tuple(max(a, b) for a, b in zip(first, second, strict=True))


def in_anchor_units(statistics, magnitudes, *, same_scale=False):
    """Anchor statistics computed from moments at ``magnitudes``, in the
    anchors' own units.

    Parameters
    ----------
    statistics : tuple
        ``(x_mean, x_scale, y_mean, y_scale)`` of the divided rows.
    magnitudes : tuple of two floats
        The powers of two each side was divided by.
    same_scale : bool, default=False
        Give the target the source's scale: for an isometry between unscaled
        spaces (``ortho`` and ``l-ortho`` without ``std_scaling``), whose
        translation must keep the source's units whatever the target's.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._statistics import in_anchor_units
    >>> ones = np.ones(1)
    >>> [a.tolist() for a in in_anchor_units((ones, ones, ones, ones), (4.0, 2.0))]
    [[4.0], [4.0], [2.0], [2.0]]
    """
    x_magnitude, y_magnitude = magnitudes
    x_mean, x_scale, y_mean, y_scale = statistics
    target_scale = x_magnitude if same_scale else y_magnitude
    return (
        x_mean * x_magnitude,
        x_scale * x_magnitude,
        y_mean * y_magnitude,
        y_scale * target_scale,
    )


def check_batch_scale(folds, X, Y):
    """Refuse a batch whose squares would overflow or underflow beside the
    accumulated moments (``partial_fit``: every batch at about one scale).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._statistics import accumulate_moments, check_batch_scale
    >>> folds = accumulate_moments(np.ones((2, 1)) * 1e300, np.ones((2, 1)))
    >>> check_batch_scale(folds, np.ones((1, 1)) * 3e300, np.ones((1, 1)))
    >>> check_batch_scale(folds, np.ones((1, 1)), np.ones((1, 1)))
    Traceback (most recent call last):
    ...
    ValueError: This batch's largest |value| in X is 1, while the statistics ...
    """
    magnitudes = merge_all(folds).magnitudes
    for name, A, magnitude in zip("Xy", (X, Y), magnitudes, strict=True):
        largest = largest_magnitude(A)
        if not in_square_range(largest / magnitude):
            scale = "about 1" if magnitude == 1.0 else f"{magnitude:.3g}"
            raise ValueError(
                f"This batch's largest |value| in {name} is {largest:.3g}, while "
                f"the statistics accumulated so far hold {name} at a scale of "
                f"{scale}: its squares would overflow or underflow beside the "
                "accumulated ones. Scale every batch the same way (e.g. divide "
                "all of them by one power of two), or fit on all anchors at once."
            )


def _scaled_copy(matrix, n_samples, u, v, row_scale, col_scale):
    """``(matrix + n · u vᵀ) / (row_scale col_scaleᵀ)`` with no other temporary
    of its size."""
    if isinstance(matrix, np.ndarray):
        out = np.array(matrix, order="F")
    else:
        out = get_namespace(matrix).asarray(matrix, copy=True)
    _add_outer(out, n_samples, u, v)
    out /= row_scale[:, None]
    out /= col_scale[None, :]
    return out


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
    """Rows per chunk: about ``_CHUNK_BYTES`` of both sides (in float64), >= 1,024."""
    per_row = max(8 * (X.shape[1] + Y.shape[1]), 1)
    return max(_MIN_CHUNK_ROWS, _CHUNK_BYTES // per_row)


def absorb_chunk(moments, X, Y, *, gram=True, weights=None):
    """Add a NumPy chunk's moments to ``moments`` in place (Chan et al.'s update).

    The accumulators of ``moments`` are updated in place and returned in a
    new :class:`AnchorMoments` (``None`` starts from zero), so a stream of
    chunks allocates no ``d × d`` array beyond them: the chunk's products are
    added in column blocks of at most ``_BLOCK_BYTES``. With ``gram=True``
    only the lower triangle of ``xx`` (and whole diagonal blocks) is kept up
    to date; call :func:`mirror_lower` once the stream ends.

    The chunk is centred on its own mean before its products: in float64 for
    least squares (``gram=True``, or float64 input), in the input's precision
    for Procrustes on float32 anchors, whose rounding of the mean is then
    removed exactly in float64. With ``weights`` (one per row) every mean
    and product is weighted (centred in float64, rows scaled by the weights'
    square roots), so integer weights give the moments of repeated rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._statistics import AnchorMoments, absorb_chunk, mirror_lower
    >>> X, Y = np.arange(12.0).reshape(6, 2) ** 1.5, np.arange(6.0)[:, None]
    >>> streamed = absorb_chunk(absorb_chunk(None, X[:2], Y[:2]), X[2:], Y[2:])
    >>> mirror_lower(streamed.xx)
    >>> whole = AnchorMoments.of_chunk(X, Y)
    >>> bool(np.allclose(streamed.xx, whole.xx) and np.allclose(streamed.xy, whole.xy))
    True
    """
    if weights is None:
        n_chunk = X.shape[0]
        x_mean = np.sum(X, axis=0, dtype=np.float64) / n_chunk
        y_mean = np.sum(Y, axis=0, dtype=np.float64) / n_chunk
    else:
        n_chunk = float(weights.sum())
        x_mean, y_mean = (weights @ X) / n_chunk, (weights @ Y) / n_chunk
    wide = gram or X.dtype == np.float64 or weights is not None
    Xc, dx = _centred(X, x_mean, wide)
    Yc, dy = _centred(Y, y_mean, wide)
    if weights is not None:
        root = np.sqrt(weights)[:, None]
        Xc *= root
        Yc *= root
    x_squares = np.einsum("ij,ij->j", Xc, Xc, dtype=np.float64)
    y_squares = np.einsum("ij,ij->j", Yc, Yc, dtype=np.float64)
    if not (wide or _float32_products_safe(x_squares, y_squares, n_chunk)):
        Xc, dx = _centred(X, x_mean, True)
        Yc, dy = _centred(Y, y_mean, True)
        x_squares = np.einsum("ij,ij->j", Xc, Xc)
        y_squares = np.einsum("ij,ij->j", Yc, Yc)
    if moments is None:
        moments = _zero_moments(X, Y, gram)
    xx, xy, yy = moments.xx, moments.xy, moments.yy
    if gram:
        _add_lower_gram(xx, Xc)
    else:
        xx += x_squares
    _add_cross(xy, Xc, Yc)
    yy += y_squares
    if dx is not None:  # remove the float32 mean's rounding (diagonal xx here)
        xx -= n_chunk * dx**2
        _add_outer(xy, -n_chunk, dx, dy)
        yy -= n_chunk * dy**2
    n_samples = moments.n_samples + n_chunk
    weight = moments.n_samples * n_chunk / n_samples
    shift_x, shift_y = x_mean - moments.x_mean, y_mean - moments.y_mean
    if weight:
        if gram:
            _add_outer(xx, weight, shift_x, shift_x)
        else:
            xx += weight * shift_x**2
        _add_outer(xy, weight, shift_x, shift_y)
        yy += weight * shift_y**2
    return AnchorMoments(
        n_samples,
        moments.x_mean + shift_x * (n_chunk / n_samples),
        moments.y_mean + shift_y * (n_chunk / n_samples),
        xx,
        xy,
        yy,
        # the precision the products were taken in (float32 data squared in
        # float64 are exact: their Gram matrix resolves float64's epsilon)
        max(moments.resolution, float(np.finfo(Xc.dtype).eps)),
    )


def _centred(A, mean, wide):
    """``A`` minus its mean, and the rounding of the mean it was centred on.

    ``wide``: centre in float64 (exact mean, no rounding: ``None``);
    otherwise in ``A``'s dtype on the rounded mean, whose offset from the
    exact one is returned (float64).
    """
    if wide:
        return np.subtract(A, mean, dtype=np.float64), None
    shift = mean.astype(A.dtype)
    return A - shift, mean - shift


def _float32_products_safe(x_squares, y_squares, n_samples):
    """Whether float32 cross-products of columns with these sums of squares
    neither overflow (Cauchy-Schwarz bounds every partial sum by
    ``sqrt(Σx² Σy²)``) nor fall towards float32's subnormals."""
    largest = float(np.sqrt(x_squares.max() * y_squares.max()))
    typical = largest / n_samples
    return largest < 2.0**100 and (typical == 0 or typical > 2.0**-90)


def _zero_moments(X, Y, gram):
    d1, d2 = X.shape[1], Y.shape[1]
    return AnchorMoments(
        0,
        np.zeros(d1),
        np.zeros(d2),
        np.zeros((d1, d1) if gram else d1),
        np.zeros((d1, d2)),
        np.zeros(d2),
        0.0,
    )


def _block_columns(acc):
    """Columns per block so that an ``acc.shape[0] × block`` float64 temporary
    holds at most ``_BLOCK_BYTES``."""
    return max(64, _BLOCK_BYTES // (8 * max(acc.shape[0], 1)))


def _add_cross(acc, A, B):
    """``acc += Aᵀ B`` in column blocks."""
    step = _block_columns(acc)
    for start in range(0, B.shape[1], step):
        columns = slice(start, start + step)
        acc[:, columns] += A.T @ B[:, columns]


def _add_lower_gram(acc, A):
    """``acc += Aᵀ A`` on the lower triangle, by column blocks (diagonal
    blocks whole): half the products of the full matrix."""
    step = _block_columns(acc)
    for start in range(0, A.shape[1], step):
        columns = slice(start, start + step)
        acc[start:, columns] += A[:, start:].T @ A[:, columns]


def _add_outer(acc, scale, u, v):
    """``acc += scale · u vᵀ`` in column blocks."""
    step = _block_columns(acc)
    for start in range(0, acc.shape[1], step):
        columns = slice(start, start + step)
        acc[:, columns] += (scale * u)[:, None] * v[None, columns]


def mirror_lower(acc):
    """Copy the lower triangle of a square NumPy array onto its upper one, in
    place (by the column blocks :func:`_add_lower_gram` updates)."""
    step = _block_columns(acc)
    for start in range(0, acc.shape[1], step):
        stop = start + step
        block = acc[start:stop, start:stop]
        upper = np.triu_indices(block.shape[0], 1)
        block[upper] = block.T[upper]
        acc[start:stop, stop:] = acc[stop:, start:stop].T


def accumulate_moments(
    X, Y, *, n_folds=1, offset=0, transform_chunk=None, gram=True, weights=None
):
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
    weights : ndarray of shape (n_samples,) or None, default=None
        Non-negative weight of each pair (NumPy): integer weights give the
        moments of repeated rows.

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
        magnitudes = (side_magnitude(X_chunk), side_magnitude(Y_chunk))
        w_chunk = None if weights is None else weights[start : start + step]
        for fold in range(n_folds):
            first = (fold - offset - start) % n_folds
            if first >= X_chunk.shape[0]:
                continue
            rows = slice(first, None, n_folds)
            folds[fold] = _add_chunk(
                folds[fold],
                X_chunk[rows],
                Y_chunk[rows],
                gram,
                magnitudes,
                None if w_chunk is None else w_chunk[rows],
            )
    if gram:
        for fold in folds:
            if fold is not None and isinstance(fold.xx, np.ndarray):
                mirror_lower(fold.xx)
    return folds


def _add_chunk(moments, X, Y, gram, magnitudes, weights=None):
    """NumPy chunks in place (:func:`absorb_chunk`); tensors by merging.

    The chunk is divided by the larger of its own ``magnitudes`` and those of
    the accumulated ``moments`` (brought to them first), per side. Rows of
    zero total weight add nothing.
    """
    if weights is not None and not weights.sum() > 0:
        return moments
    if moments is not None:
        magnitudes = _larger_magnitudes(moments.magnitudes, magnitudes)
        moments = moments.at_magnitudes(magnitudes)
    x_magnitude, y_magnitude = magnitudes
    if x_magnitude != 1.0:
        X = X / x_magnitude
    if y_magnitude != 1.0:
        Y = Y / y_magnitude
    if isinstance(X, np.ndarray) and isinstance(Y, np.ndarray):
        absorbed = absorb_chunk(moments, X, Y, gram=gram, weights=weights)
        return absorbed._replace(magnitudes=magnitudes)
    part = AnchorMoments.of_chunk(X, Y, gram=gram, weights=weights)
    part = part._replace(magnitudes=magnitudes)
    return part if moments is None else moments.merge(part)


def dask_moments(X, Y, *, n_folds=1, transform_chunk=None, gram=True, weights=None):
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
    import dask.array as da

    X = X.rechunk({1: -1})
    Y = Y.rechunk({0: X.chunks[0], 1: -1})
    offsets = [0]
    for rows in X.chunks[0][:-1]:
        offsets.append(offsets[-1] + rows)
    weight_blocks = [None] * len(offsets)
    if weights is not None:
        weight_blocks = da.from_array(weights, chunks=(X.chunks[0],)).to_delayed()
    parts = [
        dask.delayed(_block_moments)(
            x_block, y_block, n_folds, offset, transform_chunk, gram, w_block
        )
        for x_block, y_block, offset, w_block in zip(
            X.to_delayed().ravel(),
            Y.to_delayed().ravel(),
            offsets,
            weight_blocks,
            strict=True,
        )
    ]
    return dask.delayed(_merge_fold_lists)(parts).compute()


def _block_moments(X, Y, n_folds, offset, transform_chunk, gram, weights=None):
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
        weights=weights,
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
