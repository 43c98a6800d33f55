"""Anchor statistics, standardisation and its inverse.

The paper standardises each side with statistics of the anchors only, aligns,
and de-normalises the translation with the target anchors' statistics. These
small pure functions do each step; :class:`~skalign.LatentAligner` composes
them. Zero-padding of the smaller side needs no function: it is exactly
equivalent to solving with the thin (unpadded) matrices (see
:func:`skalign.fit_alignment`).
"""

import math

import numpy as np

from ._backend import array_device, get_namespace

# A feature whose spread is below this multiple of the dtype's resolution is
# constant for all practical purposes; scaling by it would blow noise up.
_CONSTANT_FEATURE_TOLERANCE = 10


def anchor_statistics(X, *, center=True, std_scaling=True, weights=None):
    """Per-feature mean and scale of the anchors, safe for constant features.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Anchor embeddings of one side (NumPy array or torch tensor).
    center : bool, default=True
        Estimate the mean; if False the mean is zero.
    std_scaling : bool, default=True
        Estimate the standard deviation (``ddof=0``); if False the scale is one.
        A constant feature gets scale one, so it stays constant instead of
        becoming NaN.
    weights : array of shape (n_samples,) or None, default=None
        Non-negative row weights: weighted mean and spread (integer weights
        give the statistics of repeated rows).

    Both are computed on the data divided by a power of two per feature (its
    magnitude), so any finite input works without overflow (values near
    ``1e300`` square to infinity otherwise) and the statistics of ``c * X``
    are exactly ``c`` times those of ``X`` for a power of two ``c``.

    Returns
    -------
    mean : array of shape (n_features,)
    scale : array of shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import anchor_statistics
    >>> mean, scale = anchor_statistics(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> mean.tolist(), scale.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    xp = get_namespace(X)
    n_features = X.shape[1]
    magnitude = power_of_two_magnitude(xp.max(xp.abs(X), axis=0))
    scaled = X / magnitude
    if weights is not None:
        weights = xp.asarray(
            relative_weights(np.asarray(weights)), dtype=X.dtype, device=array_device(X)
        )
        weights = weights / xp.sum(weights)
    if center:
        scaled_mean = _mean(scaled, weights)
    else:
        scaled_mean = xp.zeros(n_features, dtype=X.dtype, device=array_device(X))
    mean = scaled_mean * magnitude
    if not std_scaling:
        return mean, xp.ones(n_features, dtype=X.dtype, device=array_device(X))
    scaled_scale = xp.sqrt(_mean((scaled - scaled_mean) ** 2, weights))
    scale = scaled_scale * magnitude
    # Constant relative to the largest feature's magnitude: a spread below the
    # data's resolution at the embedding's own scale is rounding noise (e.g.
    # features an encoder leaves at 1e-33 beside others at 0.1), whatever
    # that scale is.
    tiny = _CONSTANT_FEATURE_TOLERANCE * xp.finfo(X.dtype).eps
    constant = scale <= tiny * xp.max(magnitude)
    return mean, xp.where(constant, xp.ones_like(scale), scale)


def _mean(X, weights):
    """Column means, weighted by ``weights`` (summing to one) when given."""
    if weights is None:
        return get_namespace(X).mean(X, axis=0)
    return weights @ X


def power_of_two_magnitude(values):
    """The smallest power of two >= each of ``values`` (>= 0); one for zeros.

    Dividing by it is exact, brings ``values`` into ``[0, 1]`` (``[0, 2]`` at
    the very top of the dtype's range, where the power is capped) and cannot
    overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import power_of_two_magnitude
    >>> power_of_two_magnitude(np.array([0.0, 3.0, 1e300])).tolist()[:2]
    [1.0, 4.0]
    """
    xp = get_namespace(values)
    positive = values > 0
    safe = xp.where(positive, values, xp.ones_like(values))
    largest = math.frexp(float(xp.finfo(values.dtype).max))[1] - 1
    exponent = xp.clip(xp.ceil(xp.log2(safe)), None, largest)
    return xp.where(positive, 2.0**exponent, xp.ones_like(values))


def relative_weights(weights):
    """Non-negative NumPy ``weights``, divided by the power of two at or above
    their largest (exact) when that is beyond ``2**±256``, so that their sums
    neither overflow (weights near ``1e308``) nor lose precision (subnormal
    weights); weights in that range (and all-zero ones) are returned as
    they are.

    A weighted mean or spread does not change when every weight is multiplied
    by ``c``; a ridge penalty weighs against the weights' sums, so ``alpha``
    then applies to the rescaled weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import relative_weights
    >>> relative_weights(np.array([1e300, 5e299])).tolist()
    [0.7466108948025751, 0.37330544740128757]
    >>> relative_weights(np.array([3.0, 1.0])).tolist()
    [3.0, 1.0]
    """
    weights = np.asarray(weights, dtype=np.float64)
    largest = weights.max(initial=0.0)
    if in_square_range(largest):
        return weights
    return weights / float(power_of_two_magnitude(np.asarray([largest]))[0])


def moment_statistics(moments, *, center=True, std_scaling=True):
    """:func:`anchor_statistics` of both sides from their moments alone.

    Parameters
    ----------
    moments : AnchorMoments
    center, std_scaling : bool
        As in :func:`anchor_statistics`.

    Returns
    -------
    x_mean, x_scale : arrays of shape (n_features,)
    y_mean, y_scale : arrays of shape (n_targets,)

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import moment_statistics
    >>> from skalign._statistics import AnchorMoments
    >>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
    >>> x_mean, x_scale, _, _ = moment_statistics(AnchorMoments.of_chunk(X, X))
    >>> x_mean.tolist(), x_scale.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    xp = get_namespace(moments.xx)
    x_square = moments.xx if moments.xx.ndim == 1 else xp.linalg.diagonal(moments.xx)
    return (
        *_moment_scale(xp, moments.x_mean, x_square, moments, center, std_scaling),
        *_moment_scale(xp, moments.y_mean, moments.yy, moments, center, std_scaling),
    )


def _moment_scale(xp, mean, scatter, moments, center, std_scaling):
    centre = mean if center else xp.zeros_like(mean)
    if not std_scaling:
        return centre, xp.ones_like(mean)
    n_samples = moments.n_samples
    # rounding in the merged float32 chunk products can leave a (near-)constant
    # feature's scatter a hair below zero: clip before the square root
    second_moment = (scatter + n_samples * (mean - centre) ** 2) / n_samples
    scale = xp.sqrt(xp.clip(second_moment, 0.0, None))
    # constant relative to the largest feature's magnitude (root mean square
    # about zero), as in anchor_statistics: anchors of any overall scale keep
    # their spread, and a spread below the data's resolution at that scale is
    # rounding noise
    magnitude = xp.abs(centre) + xp.sqrt(
        xp.clip(scatter / n_samples + mean**2, 0.0, None)
    )
    tiny = _CONSTANT_FEATURE_TOLERANCE * moments.resolution * xp.max(magnitude)
    return centre, xp.where(scale <= tiny, xp.ones_like(scale), scale)


def standardize(X, mean, scale):
    """Return ``(X - mean) / scale``."""
    return (X - mean) / scale


def normalize_rows(X):
    """Scale each row to unit Euclidean norm; zero rows stay zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import normalize_rows
    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    xp = get_namespace(X)
    norms = row_norms(X)
    return X / xp.where(norms == 0, xp.ones_like(norms), norms)


def row_norms(X):
    """Euclidean norm of each row, shape (n_samples, 1), for any finite input.

    The plain formula squares the entries; where that overflows (entries near
    ``1e300``) or underflows (near ``1e-300``) the norms are computed again on
    rows divided by their largest magnitude.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import row_norms
    >>> row_norms(np.array([[3e300, 4e300], [3e-300, 4e-300]])).ravel().tolist()
    [5e+300, 5e-300]
    """
    xp = get_namespace(X)
    with np.errstate(over="ignore", under="ignore"):  # handled just below
        norms = xp.sqrt(xp.sum(X * X, axis=1, keepdims=True))
    if bool(xp.all(xp.isfinite(norms) & (norms > xp.finfo(X.dtype).tiny))):
        return norms
    magnitude = xp.max(xp.abs(X), axis=1, keepdims=True)
    magnitude = xp.where(magnitude == 0, xp.ones_like(magnitude), magnitude)
    scaled = X / magnitude
    return xp.sqrt(xp.sum(scaled * scaled, axis=1, keepdims=True)) * magnitude


def cosine_factors(rows):
    """``rows`` and per-row factors turning ``unit_queries @ rows.T`` into cosines.

    Without a copy where every nonzero row's squared norm is a normal float:
    ``rows`` itself and ``1 / ||row||`` (1 for a zero row, whose cosines are
    then 0). Where some row's squares overflow or underflow (entries near
    ``1e300``, or below ``1e-154``, whose products lose their precision too),
    unit rows (:func:`normalize_rows`, a copy) and factors of one.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import cosine_factors
    >>> rows, factors = cosine_factors(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> factors.tolist()
    [0.2, 1.0]
    >>> rows, factors = cosine_factors(np.array([[3e300, 4e300]]))
    >>> rows.tolist(), factors.tolist()
    ([[0.6, 0.8]], [1.0])
    """
    rows = np.asarray(rows)
    with np.errstate(over="ignore", under="ignore"):  # handled just below
        squares = np.einsum("ij,ij->i", rows, rows)
    plain = np.isfinite(squares) & (squares >= np.finfo(rows.dtype).tiny)
    if not plain.all() and np.any(rows[~plain] != 0):
        return normalize_rows(rows), np.ones(rows.shape[0], dtype=rows.dtype)
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    return rows, (1.0 / norms).astype(rows.dtype, copy=False)


def side_magnitude(A):
    """The power of two to divide ``A`` by before squaring it, or 1.0.

    1.0 unless ``A``'s largest magnitude is beyond ``2**±256``, where its
    squares would overflow or underflow in float64; then the smallest power
    of two at least that magnitude (dividing by it is exact). Each side of
    the anchors gets its own: a source near ``1e300`` beside a target near 1
    must not push the target's squares to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import side_magnitude
    >>> side_magnitude(np.ones((2, 2)))
    1.0
    >>> side_magnitude(np.full((2, 2), 1e300))
    1.3393857589828342e+300
    """
    largest = largest_magnitude(A)
    if in_square_range(largest):
        return 1.0
    return float(power_of_two_magnitude(np.asarray([largest]))[0])


def largest_magnitude(A):
    """``max |value|`` of an array (max and min reduce without the
    input-sized copy that ``abs`` would make)."""
    xp = get_namespace(A)
    if A.shape[0] == 0:
        return 0.0
    return max(abs(float(xp.max(A))), abs(float(xp.min(A))))


def in_square_range(largest):
    """Whether values up to ``largest`` square and sum safely in float64."""
    return largest == 0 or 2.0**-256 <= largest <= 2.0**256


def apply_affine_map(X, weights, bias, *, unit_rows=False):
    """Return ``X @ weights + bias`` with no temporary the size of the input or output.

    With ``unit_rows=True`` each row of ``X`` is first scaled to unit norm
    (zero rows stay zero), folded into the output instead of copying ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import apply_affine_map
    >>> apply_affine_map(np.array([[3.0, 4.0]]), np.eye(2), np.ones(2),
    ...                  unit_rows=True).tolist()
    [[1.6, 1.8]]
    """
    xp = get_namespace(X, weights)
    out = X @ weights
    if unit_rows:
        norms = row_norms(X)
        out /= xp.where(norms == 0, xp.ones_like(norms), norms)
    out += bias
    return out


def compose_affine_map(coef, intercept, x_mean, x_scale, y_mean, y_scale):
    """Fold standardisation, the aligned map and de-normalisation into one map.

    ``(standardize(X, x_mean, x_scale) @ coef.T + intercept) * y_scale +
    y_mean`` equals ``X @ weights + bias`` with the returned
    ``weights`` of shape (n_features, n_targets), so translating a batch costs
    one matrix product.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import compose_affine_map
    >>> w, b = compose_affine_map(np.eye(2), np.zeros(2), np.ones(2),
    ...                           2 * np.ones(2), np.zeros(2), np.ones(2))
    >>> (np.array([[3.0, 5.0]]) @ w + b).tolist()
    [[1.0, 2.0]]
    """
    x_unit, y_unit, ratio = _split_scales(x_scale, y_scale)
    weights = coef.T / x_unit[:, None]
    weights *= (y_unit * ratio)[None, :]  # in place: one (n_features, n_targets)
    bias = y_mean + intercept * y_scale - (x_mean / x_scale) @ coef.T * y_scale
    return weights, bias


def _split_scales(from_scale, to_scale):
    """``from_scale = from_unit · 2^a``, ``to_scale = to_unit · 2^b`` with units
    in ``(0, 1]``, and ``ratio = 2^(b - a)``: a map's ``to_scale / from_scale``
    as ``to_unit / from_unit · ratio``, so anchors of very different (or
    subnormal) magnitudes never form ``1 / from_scale`` on its own.

    Raises when the ratio itself leaves float64's range: no affine map in
    float64 can then carry one side's units into the other's.
    """
    from_power = power_of_two_magnitude(get_namespace(from_scale).max(from_scale))
    to_power = power_of_two_magnitude(get_namespace(to_scale).max(to_scale))
    exponent = math.frexp(float(to_power))[1] - math.frexp(float(from_power))[1]
    if abs(exponent) > 1020:
        raise ValueError(
            f"The anchors' scales differ by a factor of about 2**{exponent} between "
            "the source and the target, beyond what a float64 map between them "
            "can hold. Divide one side by a power of two (e.g. both to about 1) "
            "before aligning."
        )
    return from_scale / from_power, to_scale / to_power, math.ldexp(1.0, exponent)


def invert_affine_map(coef, intercept, x_mean, x_scale, y_mean, y_scale, *, eps):
    """Fold the inverse translation (target space back to source) into one map.

    Uses ``coef``'s Moore-Penrose pseudo-inverse over its singular values
    above ``max(coef.shape) · eps · s_max`` (``eps``: the resolution the map
    was fitted in), so directions the anchors did not determine are dropped
    instead of amplified. The round trip is exact when ``coef`` is injective
    (its rank equals ``n_features``, which needs ``n_features <=
    n_target_features`` and more anchors than source features); otherwise it
    returns the minimum-norm preimage, as
    :meth:`sklearn.decomposition.PCA.inverse_transform` does.

    Returns
    -------
    weights : array of shape (n_target_features, n_features)
    bias : array of shape (n_features,)
    rank : int
        Rank of ``coef``.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._preprocessing import invert_affine_map
    >>> zero, one = np.zeros(2), np.ones(2)
    >>> w, b, rank = invert_affine_map(np.diag([2.0, 0.0]), zero, zero, one,
    ...                                zero, one, eps=1e-16)
    >>> w.tolist(), rank
    ([[0.5, 0.0], [0.0, 0.0]], 1)
    """
    xp = get_namespace(coef)
    U, s, Vt = xp.linalg.svd(coef, full_matrices=False)
    keep = s > s[0] * max(coef.shape) * eps
    inverse = (U[:, keep] / s[keep][None, :]) @ Vt[keep, :]
    y_unit, x_unit, ratio = _split_scales(y_scale, x_scale)
    weights = (inverse / y_unit[:, None]) * (x_unit * ratio)[None, :]
    bias = x_mean - ((y_mean / y_scale) + intercept) @ inverse * x_scale
    return weights, bias, int(xp.sum(xp.astype(keep, xp.int64)))
