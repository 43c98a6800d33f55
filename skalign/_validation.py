"""Stateless input checks for embeddings and paired anchors.

Every check here runs before an estimator touches its fitted state, and every
error names the problem and the fix. NumPy-like input goes through
:func:`sklearn.utils.check_array`; torch tensors are checked on their own device
so a CUDA batch is never copied to the host.
"""

import numpy as np
from sklearn.utils import check_array

from ._backend import is_dask_array, is_torch_array, to_namespace_of

_EMBED_FIRST = (
    "Embed raw inputs (texts, images) first, e.g. with "
    "skalign.extract.EmbeddingExtractor."
)


def check_embeddings(X, *, input_name="X", estimator=None, min_samples=1):
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
        return _check_tensor(X, input_name, estimator, min_samples)
    try:
        return check_array(
            X,
            dtype=(np.float64, np.float32),
            ensure_min_samples=min_samples,
            input_name=input_name,
            estimator=estimator,
        )
    except (TypeError, ValueError) as exc:
        if _holds_non_numbers(X):
            raise type(exc)(
                f"{input_name} must contain numeric embeddings of shape "
                "(n_samples, n_features), but it could not be read as numbers "
                f"({exc}). {_EMBED_FIRST}"
            ) from exc
        raise


def check_anchor_pair(X, Y, *, estimator=None):
    """Validate paired anchors: same row count, at least two rows, finite, 2-D.

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
    X = check_embeddings(X, input_name="X", estimator=estimator, min_samples=2)
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
    Y = check_embeddings(Y, input_name="y", estimator=estimator, min_samples=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {Y.shape[0]}: anchors must be "
            "paired row by row (row i of X and row i of y embed the same item). "
            "Pass the same anchors, in the same order, to both sides."
        )
    return X, to_namespace_of(Y, like=X)


def check_dask_anchor_pair(X, Y, *, estimator=None):
    """Check the shapes and dtypes of Dask anchors without computing them.

    Values (NaN, infinity) are checked block by block where the statistics
    are computed. Returns ``Y`` cast lazily to ``X``'s dtype.
    """
    name = _name(estimator)
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
        raise ValueError(f"{name} needs at least 2 anchors, got {X.shape[0]}.")
    return Y.astype(X.dtype)


def _check_tensor(X, input_name, estimator, min_samples):
    import torch

    suffix = f" required by {_name(estimator)}" if estimator is not None else ""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D tensor for {input_name}, got {X.ndim}-D with shape "
            f"{tuple(X.shape)}. Reshape it to (n_samples, n_features)."
        )
    if X.shape[0] < min_samples:
        raise ValueError(
            f"Found array with {X.shape[0]} sample(s) (shape={tuple(X.shape)}) "
            f"while a minimum of {min_samples} is required{suffix}."
        )
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
    if not bool(torch.isfinite(X).all()):
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
