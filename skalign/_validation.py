"""Stateless input checks for embeddings and paired anchors.

Every check here runs before an estimator touches its fitted state, and every
error names the problem and the fix. NumPy-like input goes through
:func:`sklearn.utils.check_array`; torch tensors are checked on their own device
so a CUDA batch is never copied to the host.
"""

import math
import warnings

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import has_fit_parameter

from ._backend import (
    get_namespace,
    host_view,
    is_dask_array,
    is_torch_array,
    refuse_meta_tensor,
    take_rows,
    to_namespace_of,
    to_numpy,
)

_EMBED_FIRST = (
    "Embed raw inputs (texts, images) first, e.g. with "
    "skalign.extract.EmbeddingExtractor."
)


def check_embeddings(
    X, *, input_name="X", estimator=None, min_samples=1, allow_nan=False
):
    """Validate a 2-D floating array of embeddings without copying tensors.

    Parameters
    ----------
    X : array-like or torch.Tensor of shape (n_samples, n_features)
    input_name : str, default="X"
        Name used in error messages.
    estimator : estimator instance or str, default=None
        Named in error messages.
    min_samples : int, default=1
        Fewer rows raise a ``ValueError``.
    allow_nan : bool, default=False
        Accept NaN (infinity is always refused).

    Returns
    -------
    X : ndarray or torch.Tensor
        float64 or float32 (NumPy), floating tensor (torch), 2-D, finite.

    Examples
    --------
    >>> from skalign._validation import check_embeddings
    >>> check_embeddings([[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    if is_torch_array(X):
        return _check_tensor(X, input_name, estimator, min_samples, allow_nan)
    try:
        checked = check_array(
            X,
            dtype=(np.float64, np.float32),
            ensure_all_finite="allow-nan" if allow_nan else True,
            ensure_min_samples=0,
            input_name=input_name,
            estimator=estimator,
        )
    except (TypeError, ValueError) as exc:
        missing = "NaN" in str(exc) or "infinity" in str(exc)
        if _holds_non_numbers(X) and not missing:
            raise type(exc)(
                f"{input_name} must contain numeric embeddings of shape "
                "(n_samples, n_features), but it could not be read as numbers "
                f"({exc}). {_EMBED_FIRST}"
            ) from exc
        if "infinity" in str(exc):
            nan_rule = " (NaN marks an unpaired row here)" if allow_nan else ""
            raise ValueError(
                f"{exc} Remove or replace the infinite values of {input_name} "
                f"before aligning{nan_rule}: one would spread to every output."
            ) from exc
        if "Found array with dim" in str(exc):
            raise ValueError(
                f"{exc} {input_name} must be 2-D, one embedding per row: pass an "
                "array of shape (n_samples, n_features) (e.g. reshape it to "
                f"(len({input_name}), -1), or embed each item into one vector first)."
            ) from exc
        raise
    _check_enough_rows(checked.shape, input_name, estimator, min_samples)
    return checked


def _check_enough_rows(shape, input_name, estimator, min_samples):
    """Raise naming ``input_name`` when it has fewer than ``min_samples`` rows."""
    if shape[0] < min_samples:
        needs = f" by {_name(estimator)}" if estimator is not None else ""
        raise ValueError(
            f"Found array with {shape[0]} sample(s) (shape={tuple(shape)}) while "
            f"a minimum of {min_samples} is required{needs}: {input_name} has "
            f"{shape[0]} row(s). Pass at least {min_samples} row(s) of "
            f"{input_name} (one embedding per row)."
        )


def check_anchor_pair(X, Y, *, estimator=None, min_samples=2):
    """Validate paired anchors: same row count, ``min_samples`` rows, finite, 2-D.

    ``Y`` is returned in the namespace, device and dtype of ``X`` so that
    float32 input stays float32 end to end.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._validation import check_anchor_pair
    >>> X, Y = check_anchor_pair(np.ones((3, 2)), np.ones((3, 4)))
    >>> X.shape, Y.shape
    ((3, 2), (3, 4))
    """
    name = _name(estimator)
    X = check_embeddings(
        X, input_name="X", estimator=estimator, min_samples=min_samples
    )
    if Y is None:
        raise ValueError(
            f"This {name} estimator requires y to be passed, but the target y is "
            "None. Pass the target-space anchor embeddings Y of shape "
            "(n_samples, n_target_features), row i paired with row i of X."
        )
    if _ndim(Y) == 1:
        raise ValueError(
            f"y must be 2-D target embeddings of shape (n_samples, "
            f"n_target_features); got a 1-D array of shape {np.shape(Y)}. If the "
            "target space really has one feature, pass y.reshape(-1, 1)."
        )
    Y = check_embeddings(
        Y, input_name="y", estimator=estimator, min_samples=min_samples
    )
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {Y.shape[0]}: anchors must be "
            "paired row by row (row i of X and row i of y embed the same item). "
            "Pass the same anchors, in the same order, to both sides."
        )
    # anchors are data: a fitted map never holds (or extends) the caller's
    # autograd graph
    X, Y = (A.detach() if is_torch_array(A) else A for A in (X, Y))
    return X, to_namespace_of(Y, like=X)


def check_dask_anchor_pair(X, Y, *, estimator=None):
    """Check the shapes and dtypes of Dask anchors without computing them.

    Values (NaN, infinity) are checked block by block where the statistics
    are computed. Returns ``Y`` cast lazily to ``X``'s dtype.
    """
    name = _name(estimator)
    for label, A in (("X", X), ("y", Y)):
        if is_dask_array(A) and any(math.isnan(size) for size in A.shape):
            raise ValueError(
                f"The Dask array {label} has unknown chunk sizes (shape "
                f"{A.shape}), e.g. after boolean indexing, so its rows cannot be "
                f"paired with the other side's. Call {label}.compute_chunk_sizes() "
                "first (on both arrays)."
            )
    if not is_dask_array(Y):
        raise TypeError(
            f"{name} got Dask source anchors X but y of type {type(Y).__name__}. "
            "Pass the target anchors as a Dask array too (e.g. "
            "dask.array.from_array(Y, chunks=X.chunks[0]))."
        )
    for label, A in (("X", X), ("y", Y)):
        if A.ndim != 2 or np.dtype(A.dtype).kind != "f":
            raise ValueError(
                f"{label} must be a 2-D floating Dask array of embeddings, got "
                f"{A.ndim}-D of dtype {A.dtype}. Embed raw inputs first and "
                "pass float32 or float64 embeddings."
            )
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {Y.shape[0]}: anchors must be "
            "paired row by row. Pass the same anchors, in the same order, to "
            "both sides."
        )
    if X.shape[0] < 2:
        raise ValueError(
            f"{name} needs at least 2 anchors, got {X.shape[0]}. Pass at least 2 "
            "anchor pairs (rows of X and y)."
        )
    return Y.astype(X.dtype)


def check_same_device(**arrays):
    """Raise if the given torch tensors live on different devices.

    NumPy arrays are ignored (they go wherever the tensors are). The error
    names each tensor's device and how to move one.

    Examples
    --------
    >>> import torch
    >>> from skalign._validation import check_same_device
    >>> check_same_device(a=torch.zeros(1), b=torch.zeros(1, device="meta"))
    Traceback (most recent call last):
    ...
    ValueError: a is on device cpu but b is on device meta. Put them on one ...
    """
    tensors = {name: a for name, a in arrays.items() if is_torch_array(a)}
    devices = {name: str(a.device) for name, a in tensors.items()}
    if len(set(devices.values())) > 1:
        (first, device), *others = devices.items()
        other, other_device = next((n, d) for n, d in others if d != device)
        raise ValueError(
            f"{first} is on device {device} but {other} is on device "
            f"{other_device}. Put them on one device first, e.g. "
            f"{other} = {other}.to({device!r})."
        )


def check_pair_weights(sample_weight, n_pairs, *, min_positive=1):
    """One finite, non-negative weight per pair (float64 NumPy), not all zero.

    Parameters
    ----------
    sample_weight : array-like or torch.Tensor of shape (n_pairs,)
        Numbers (booleans count as 0 and 1); text, even numeric text, is
        refused rather than read as numbers.
    n_pairs : int
        The rows the weights go with.
    min_positive : int, default=1
        Fewest pairs of positive weight: a fit needs 2 (one weighted pair
        determines no map), a score 1; 0 accepts all-zero weights (a
        ``partial_fit`` batch that adds nothing).

    Examples
    --------
    >>> from skalign._validation import check_pair_weights
    >>> check_pair_weights([1, 2], 2).tolist()
    [1.0, 2.0]
    >>> check_pair_weights([0, -1], 2)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight must be non-negative, but it holds 1 negative ...
    """
    if is_dask_array(sample_weight):
        sample_weight = sample_weight.compute()
    raw = np.asarray(to_numpy(sample_weight))
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"sample_weight must hold numbers, one weight per pair, but it has "
            f"dtype {raw.dtype} (e.g. {raw.ravel()[:1].tolist()}). Pass a numeric "
            "array of non-negative weights, e.g. np.asarray(weights, dtype=float)."
        )
    weights = raw.astype(np.float64)
    if weights.shape != (n_pairs,):
        raise ValueError(
            f"sample_weight must be of shape ({n_pairs},), one weight per pair, "
            f"got shape {weights.shape}. Pass one weight per row of X (a 1-D "
            "array; ravel a column)."
        )
    nan = np.flatnonzero(np.isnan(weights))
    if nan.size:
        raise ValueError(
            f"sample_weight holds {nan.size} NaN weight(s) (first at pair "
            f"{int(nan[0])}). Give every pair a finite weight >= 0 (0 leaves a "
            "pair out)."
        )
    negative = np.flatnonzero(weights < 0)
    if negative.size:
        raise ValueError(
            f"sample_weight must be non-negative, but it holds {negative.size} "
            f"negative weight(s) (first {weights[negative[0]]!r} at pair "
            f"{int(negative[0])}). Pass weights >= 0 (0 leaves a pair out)."
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains infinity; pass finite weights.")
    if min_positive and not np.any(weights > 0):
        raise ValueError("sample_weight sums to zero; give some pair a weight > 0.")
    n_positive = int(np.count_nonzero(weights))
    if n_positive < min_positive:
        raise ValueError(
            f"sample_weight is positive on {n_positive} paired rows only, but fitting "
            f"needs at least {min_positive} weighted pairs: one pair determines "
            "no map. Give more pairs a weight > 0."
        )
    return weights


def check_fit_takes_weights(aligner, owner):
    """Raise ``TypeError`` unless ``aligner.fit`` accepts ``sample_weight``.

    ``owner`` is the estimator that would route the weights to ``aligner``.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skalign._validation import check_fit_takes_weights
    >>> check_fit_takes_weights(PCA(), object())
    Traceback (most recent call last):
    ...
    TypeError: object got sample_weight, but PCA.fit does not accept ...
    """
    if not has_fit_parameter(aligner, "sample_weight"):
        raise TypeError(
            f"{type(owner).__name__} got sample_weight, but "
            f"{type(aligner).__name__}.fit does not accept sample_weight. Use an "
            "aligner whose fit takes weights (e.g. LatentAligner), or fit "
            "without sample_weight."
        )


def check_translation_width(aligner, X, n_targets, *, owner, param):
    """Raise unless the fitted ``aligner`` translates ``X`` into ``n_targets`` columns.

    ``owner``'s parameter ``param`` holds the aligner: a transformer that
    keeps the source's width (a scaler, a PCA) is not an aligner into the
    target space, and its output would meet the targets' statistics only
    in a broadcasting error.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skalign._validation import check_translation_width
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> check_translation_width(StandardScaler().fit(X), X, 3, owner="A", param="base")
    Traceback (most recent call last):
    ...
    ValueError: A's base StandardScaler translates X into 2 columns, but the ...
    """
    width = to_numpy(aligner.transform(X[:1])).shape[-1]
    if width != n_targets:
        raise ValueError(
            f"{_name(owner)}'s {param} {type(aligner).__name__} translates X into "
            f"{width} columns, but the target anchors y have {n_targets}: it does "
            "not map into the target space. Pass an aligner fitted on (X, y) "
            "pairs, e.g. LatentAligner()."
        )


class DegenerateAnchorsWarning(UserWarning):
    """The anchors determine the requested map only in few directions."""


def check_anchor_spread(X, Y, *, transform_type=None, estimator=None):
    """Diagnose anchors that cannot determine a map, before anything is fitted.

    - Raise ``ValueError`` when a side does not vary at all (every anchor the
      same vector, e.g. all zeros, or copies of a single anchor pair): every
      map is then constant (``affine``) or arbitrary (``ortho``).
    - Warn (:class:`DegenerateAnchorsWarning`) when most anchor pairs are
      copies of others (fewer distinct pairs than half the rows): the map is
      defined (the solvers return the minimum-norm one, as with fewer anchors
      than features) but only the span of the distinct anchors determines it,
      which usually means a data error (repeated rows).

    Messages give the numbers: rows, distinct pairs and the rank of the
    distinct (centred) anchors.

    Parameters
    ----------
    X, Y : ndarray or torch.Tensor of shape (n_samples, n_features / n_targets)
        Checked anchors (see :func:`check_anchor_pair`), same namespace.
    transform_type : str or None
        Named in the messages.
    estimator : estimator instance or str, default=None
        Named in the messages.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._validation import check_anchor_spread
    >>> rng = np.random.default_rng(0)
    >>> check_anchor_spread(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> check_anchor_spread(np.zeros((5, 3)), rng.normal(size=(5, 2)))
    Traceback (most recent call last):
    ...
    ValueError: Every source anchor (X) is the same vector ...
    """
    what = f"{_name(estimator)}" + (
        f" (transform_type={transform_type!r})" if transform_type else ""
    )
    n_rows = X.shape[0]
    for side, A in (("source anchor (X)", X), ("target anchor (y)", Y)):
        if not _varies(A):
            raise ValueError(
                f"Every {side} is the same vector (all {n_rows} rows equal, every "
                f"feature constant), so {what} cannot learn a map from them: every "
                "input would be sent to one point. Pass anchors that differ (check "
                "that the embeddings were computed and not filled with a constant)."
            )
    first = _distinct_pairs(X, Y)
    n_distinct = first.size
    if n_distinct < n_rows / 2:
        distinct = np.concatenate(
            [to_numpy(take_rows(A, first)).astype(np.float64) for A in (X, Y)], axis=1
        )
        centred = distinct - distinct.mean(axis=0)
        rank = int(np.linalg.matrix_rank(centred))
        warnings.warn(
            f"Only {n_distinct} of the {n_rows} anchor pairs are distinct (the "
            f"others are copies; rank of the distinct centred pairs: {rank}), so "
            f"{what} is determined by {rank} direction(s) only. Check the anchors "
            "for repeated rows, or pass more distinct pairs.",
            DegenerateAnchorsWarning,
            stacklevel=3,
        )


def check_moment_spread(moments, *, transform_type=None, estimator=None):
    """:func:`check_anchor_spread`'s refusal of a side that does not vary,
    from the anchors' moments (Dask anchors, whose rows are not in memory).

    A side counts as constant when every feature's scatter about its mean is
    within the rounding of the mean itself (``n · (4 ε |mean|)²``).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._statistics import AnchorMoments
    >>> from skalign._validation import check_moment_spread
    >>> X = np.ones((4, 2))
    >>> check_moment_spread(AnchorMoments.of_chunk(X, np.eye(4)[:, :2]))
    Traceback (most recent call last):
    ...
    ValueError: Every source anchor (X) is the same vector ...
    """
    what = f"{_name(estimator)}" + (
        f" (transform_type={transform_type!r})" if transform_type else ""
    )
    n_rows = moments.n_samples
    x_scatter = moments.xx if moments.xx.ndim == 1 else np.diagonal(moments.xx)
    for side, scatter, mean, resolution in (
        ("source anchor (X)", x_scatter, moments.x_mean, moments.resolution),
        ("target anchor (y)", moments.yy, moments.y_mean, moments.resolution),
    ):
        scatter, mean = to_numpy(scatter), to_numpy(mean)
        rounding = n_rows * (4 * resolution * np.abs(mean)) ** 2
        if np.all(scatter <= rounding):
            raise ValueError(
                f"Every {side} is the same vector (all {n_rows:g} rows equal, "
                f"every feature constant), so {what} cannot learn a map from "
                "them: every input would be sent to one point. Pass anchors that "
                "differ (check that the embeddings were computed and not filled "
                "with a constant)."
            )


# _varies compares this many leading rows with the first before scanning all
_HEAD_ROWS = 1024


def _varies(A):
    """Whether any row of ``A`` differs from its first row.

    Real anchors differ within their first rows, so only a constant (or
    nearly constant) ``A`` is scanned whole.
    """
    xp = get_namespace(A)
    head = A[:_HEAD_ROWS]
    if bool(xp.any(head != head[:1])):
        return True
    return bool(xp.any(xp.max(A, axis=0) != xp.min(A, axis=0)))


def _distinct_pairs(X, Y):
    """Row indices of the first occurrence of each distinct pair ``(X[i], Y[i])``.

    Each pair is keyed by one number, the sum of a fixed random projection of
    each side (one matrix-vector product per side, on the data's device):
    equal pairs always get equal keys, distinct ones collide with probability
    zero, and the check holds ``O(n)`` scalars whatever the width.
    """
    keys = None
    for A in (X, Y):
        rng = np.random.default_rng(A.shape[1])
        # in A's dtype: float32 anchors are projected by a float32 GEMV (a
        # float64 direction would cast the whole of A)
        direction = to_namespace_of(rng.standard_normal((A.shape[1], 1)), like=A)
        projection = to_numpy(A @ direction)[:, 0].astype(np.float64)
        keys = projection if keys is None else keys + np.pi * projection
    return np.unique(keys, return_index=True)[1]


def _check_tensor(X, input_name, estimator, min_samples, allow_nan=False):
    import torch

    refuse_meta_tensor(X, input_name)
    suffix = f" required by {_name(estimator)}" if estimator is not None else ""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D tensor for {input_name}, got {X.ndim}-D with shape "
            f"{tuple(X.shape)}. Reshape it to (n_samples, n_features)."
        )
    _check_enough_rows(tuple(X.shape), input_name, estimator, min_samples)
    if X.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={tuple(X.shape)}) while a "
            f"minimum of 1 is required{suffix}."
        )
    if X.dtype.is_complex or X.dtype == torch.bool:
        raise TypeError(
            f"{input_name} must be a real floating tensor, got dtype {X.dtype}. "
            f"{_EMBED_FIRST}"
        )
    if not X.dtype.is_floating_point:
        X = X.to(torch.get_default_dtype())
    if allow_nan:
        if bool(torch.isinf(X).any()):
            raise ValueError(
                f"Input {input_name} contains infinity. Remove the infinite values "
                "(NaN is allowed here)."
            )
        return X
    if not _all_finite(X):
        raise ValueError(
            f"Input {input_name} contains NaN or infinity. Remove or impute those "
            "rows before aligning: a single NaN would spread to every output."
        )
    return X


def _holds_non_numbers(X):
    try:
        if np.asarray(X).dtype.kind in "biufc":
            return False
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    return False


def _ndim(Y):
    return Y.ndim if hasattr(Y, "ndim") else np.ndim(Y)


def _name(estimator):
    if estimator is None:
        return "skalign"
    return estimator if isinstance(estimator, str) else type(estimator).__name__


def _all_finite(X):
    """Whether a float tensor holds no NaN or infinity, cheaply.

    The sum is finite for every finite input short of overflow (one pass, no
    boolean temporary); only a non-finite sum needs the element-wise check. A
    CPU tensor is checked through its NumPy view (torch's reductions compete
    with OpenBLAS's spinning threads on a small machine).
    """
    import torch

    view = host_view(X)
    if not is_torch_array(view):
        return bool(np.isfinite(view.sum())) or bool(np.isfinite(view).all())
    return bool(torch.isfinite(X.sum())) or bool(torch.isfinite(X).all())
