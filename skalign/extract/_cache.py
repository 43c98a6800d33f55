"""On-disk embedding cache: one ``.npy`` file per (model, input content).

Layout: ``CACHE_DIR/<model fingerprint>/<2 hex>/<input digest>.npy`` plus a
``model.json`` describing the fingerprint. Files are written to a temporary
name and renamed into place, so concurrent processes (``GridSearchCV(n_jobs=…)``)
and interrupted runs never leave a partial entry, and an entry found is
complete. Keys are content digests, so any subset of inputs (a CV fold, a new
run) reuses what was embedded before.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """Embeddings of one model configuration, keyed by input digest.

    Parameters
    ----------
    directory : str or os.PathLike
        The cache root, shared by all models.
    fingerprint : str
        Hex digest of the model configuration (see
        ``EmbeddingExtractor._fingerprint``).
    description : dict
        JSON-serialisable description of the configuration, stored beside it.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skalign.extract._cache import EmbeddingCache
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), "abc123", {"model": "demo"})
    >>> cache.load_many(["ff00"])
    [None]
    >>> cache.store_many(["ff00"], np.ones((1, 3), dtype=np.float32))
    >>> cache.load_many(["ff00"])[0]
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, directory, fingerprint, description):
        self.root = Path(directory) / fingerprint
        self.description = description

    def load_many(self, digests):
        """Cached embeddings for ``digests``, None where absent or unreadable."""
        return [self._load(digest) for digest in digests]

    def store_many(self, digests, embeddings):
        """Store one row of ``embeddings`` per digest (atomic per entry)."""
        if not self.root.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            _atomic_write(
                self.root / "model.json",
                json.dumps(self.description, indent=2, sort_keys=True).encode(),
            )
        for digest, row in zip(digests, embeddings, strict=True):
            path = self._path(digest)
            path.parent.mkdir(exist_ok=True)
            _atomic_save(path, np.asarray(row, dtype=np.float32))

    def _load(self, digest):
        try:
            return np.load(self._path(digest), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None

    def _path(self, digest):
        return self.root / digest[:2] / f"{digest}.npy"


def _atomic_save(path, array):
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".tmp-", suffix=".npy", delete=False
    ) as f:
        np.save(f, array, allow_pickle=False)
    os.replace(f.name, path)


def _atomic_write(path, data):
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".tmp-", delete=False
    ) as f:
        f.write(data)
    os.replace(f.name, path)
