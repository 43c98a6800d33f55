"""Tiny deterministic text encoders for tests where the weights do not matter."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class LookupTextEncoder(TransformerMixin, BaseEstimator):
    """Embed each string by looking it up in ``table`` (str -> vector).

    Records how many times it was fitted so tests can tell a clone from the
    original.

    Examples
    --------
    >>> from tests._toy_encoders import LookupTextEncoder
    >>> LookupTextEncoder({"a": [1.0, 0.0]}).fit(["a"]).transform(["a", "a"]).shape
    (2, 2)
    """

    def __init__(self, table):
        self.table = table

    def fit(self, X, y=None):
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return self

    def transform(self, X):
        if not all(isinstance(text, str) for text in X):
            raise TypeError("LookupTextEncoder embeds strings only.")
        return np.array([self.table[text] for text in X], dtype=np.float64)
