"""On-disk embedding cache: one ``.npy`` file per (model, input content).

Layout: ``CACHE_DIR/<model fingerprint>/<2 hex>/<input digest>.npy`` plus a
``model.json`` describing the fingerprint. Files are written to a temporary
name and renamed into place, so concurrent processes (``GridSearchCV(n_jobs=…)``)
and interrupted runs never leave a partial entry, and an entry found is
complete. Keys are content digests, so any subset of inputs (a CV fold, a new
run) reuses what was embedded before.

Entries read or written in this process are also kept in memory (least
recently used first out, 256 MiB at most), so a grid search that asks for the
same rows in every fold reads each file once.
"""

import json
import threading
from collections import OrderedDict
from functools import partial
from pathlib import Path

import numpy as np

from .._files import atomic_write

MEMORY_LIMIT_BYTES = 256 * 2**20


class _MemoryLayer:
    """A process-wide LRU map (cache root, digest) -> embedding row."""

    def __init__(self, limit_bytes):
        self.limit_bytes = limit_bytes
        self._rows = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                self._rows.move_to_end(key)
            return row

    def put(self, key, row):
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return
            self._rows[key] = row
            self._bytes += row.nbytes
            while self._bytes > self.limit_bytes and self._rows:
                _, evicted = self._rows.popitem(last=False)
                self._bytes -= evicted.nbytes

    def clear(self):
        with self._lock:
            self._rows.clear()
            self._bytes = 0


_MEMORY = _MemoryLayer(MEMORY_LIMIT_BYTES)


def clear_memory():
    """Drop the in-memory copies of cached embeddings (the files stay)."""
    _MEMORY.clear()


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
            description = json.dumps(self.description, indent=2, sort_keys=True)
            atomic_write(
                self.root / "model.json",
                lambda handle: handle.write(description.encode()),
            )
        for digest, row in zip(digests, embeddings, strict=True):
            path = self._path(digest)
            path.parent.mkdir(exist_ok=True)
            row = np.array(row, dtype=np.float32)
            atomic_write(path, partial(np.save, arr=row, allow_pickle=False))
            _MEMORY.put((self.root, digest), row)

    def _load(self, digest):
        row = _MEMORY.get((self.root, digest))
        if row is not None:
            return row
        try:
            row = np.load(self._path(digest), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        _MEMORY.put((self.root, digest), row)
        return row

    def _path(self, digest):
        return self.root / digest[:2] / f"{digest}.npy"
