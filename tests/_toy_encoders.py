"""Tiny deterministic text encoders for tests where the weights do not matter."""

import hashlib

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


class HashingTextEncoder(TransformerMixin, BaseEstimator):
    """Embed any text as a fixed random vector seeded by a hash of the text.

    Distinct texts get distinct (almost surely) vectors, equal texts equal ones,
    in every process: a stand-in text encoder for scikit-learn's estimator
    checks, which feed arbitrary labels.

    Examples
    --------
    >>> from tests._toy_encoders import HashingTextEncoder
    >>> vectors = HashingTextEncoder(3).fit_transform(["a", "b", "a"])
    >>> vectors.shape, bool((vectors[0] == vectors[2]).all())
    ((3, 3), True)
    """

    def __init__(self, n_features=4):
        self.n_features = n_features

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([self._vector(text) for text in X])

    def _vector(self, text):
        digest = hashlib.blake2b(str(text).encode(), digest_size=8).digest()
        seed = int.from_bytes(digest, "little")
        return np.random.default_rng(seed).normal(size=self.n_features)
