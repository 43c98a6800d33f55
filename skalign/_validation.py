"""Stateless input checks for embeddings and paired anchors.

Every check here runs before an estimator touches its fitted state, and every
error names the problem and the fix. NumPy-like input goes through
:func:`sklearn.utils.check_array`; torch tensors are checked on their own device
so a CUDA batch is never copied to the host.
"""

import numpy as np
from sklearn.utils import check_array

from ._backend import is_torch_array, to_namespace_of

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
    ValueError: a is on device cpu but b is on device meta. Put them on one device first, e.g. b = b.to('cpu').
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
