"""Metrics for aligned embeddings."""

from ._backend import float_scalar, get_namespace
from ._validation import check_embeddings


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
    Y_true = check_embeddings(Y_true, input_name="Y_true")
    Y_pred = check_embeddings(Y_pred, input_name="Y_pred")
    if Y_true.shape != Y_pred.shape:
        raise ValueError(
            f"Y_true has shape {tuple(Y_true.shape)} but Y_pred has shape "
            f"{tuple(Y_pred.shape)}; pass rows paired one to one in the same space."
        )
    xp = get_namespace(Y_true, Y_pred)
    dot = xp.sum(Y_true * Y_pred, axis=1)
    norms = xp.sqrt(xp.sum(Y_true**2, axis=1) * xp.sum(Y_pred**2, axis=1))
    cosine = dot / xp.where(norms == 0, xp.ones_like(norms), norms)
    return float_scalar(xp.mean(cosine))
