"""Prompts embedded elsewhere: a text "encoder" that looks prompts up in a file.

A multimodal baseline that ships weights only (MedCLIP), or a text encoder
that runs on another machine, embeds its prompts once and saves them with the
prompt texts as ids. :class:`PromptEmbeddingFile` reads such a file and
answers ``transform(prompts)`` with the stored rows, so it stands wherever
the zero-shot code takes a text encoder.
"""

import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._io import read_embeddings


class PromptEmbeddingFile(TransformerMixin, BaseEstimator):
    """Embeddings of prompt texts read from a file whose ids are the prompts.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` or ``.parquet`` embedding file (see
        :func:`~skalign.evaluation.read_embeddings`) whose ``ids`` are the
        prompt texts, one row per prompt.

    Attributes
    ----------
    vectors_ : dict of str to ndarray
        Prompt text → its embedding.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from skalign.evaluation._prompt_embeddings import PromptEmbeddingFile
    >>> path = Path(tempfile.mkdtemp()) / "prompts.npz"
    >>> np.savez(path, embeddings=np.eye(2), ids=["a cat", "a dog"])
    >>> PromptEmbeddingFile(path).fit().transform(["a dog", "a cat"]).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """

    def __init__(self, path):
        self.path = path

    def fit(self, X=None, y=None):
        """Read the file; ``X`` and ``y`` are ignored."""
        file = read_embeddings(self.path)
        if file.ids is None:
            raise ValueError(
                f"{os.fspath(self.path)}: prompt embeddings need 'ids' holding the "
                "prompt texts (save them with np.savez(path, embeddings=..., "
                "ids=prompts))."
            )
        embeddings = np.asarray(file.embeddings)
        self.vectors_ = dict(zip(map(str, file.ids), embeddings, strict=True))
        return self

    def transform(self, X):
        """The stored embedding of every prompt in ``X`` (a list of str)."""
        check_is_fitted(self)
        if isinstance(X, str) or np.ndim(X) != 1 or len(X) == 0:
            raise ValueError(
                f"X must be a non-empty list of prompt texts, got {X!r}; pass e.g. "
                "['a chest x-ray with pneumonia'] (a single prompt in a list)."
            )
        texts = [str(text) for text in X]
        missing = [text for text in texts if text not in self.vectors_]
        if missing:
            raise ValueError(
                f"{os.fspath(self.path)} has no embedding for {len(missing)} of "
                f"the {len(texts)} prompts, e.g. {missing[0]!r}; embed every "
                "prompt of every task (ids: the prompt texts, exactly)."
            )
        return np.stack([self.vectors_[text] for text in texts])
