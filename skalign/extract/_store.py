"""Where embeddings are kept: one bounded in-process cache, and the on-disk store.

The in-process cache (on by default, ``memoize``) keeps every embedding an
extractor computes or reads from its ``cache_dir`` under the model's cache key
and the input's content digest, so a clone that embeds the same input again,
as each fold of a grid search does, finds it here. It is shared by the whole
process, holds at most ``MEMORY_LIMIT_BYTES`` of embeddings (least recently
used first out) and is emptied by :func:`~skalign.extract.clear_model_cache`.

The on-disk store: one verified file per (model, input content).

Layout: ``CACHE_DIR/<model fingerprint>/<2 hex>/<input digest>.emb`` plus a
``model.json`` describing the fingerprint. Files are written to a temporary
name and renamed into place, so concurrent processes (``GridSearchCV(n_jobs=…)``)
and interrupted runs never leave a partial entry. Keys are content digests, so
any subset of inputs (a CV fold, a new run) reuses what was embedded before.

Every entry carries what is needed to verify it: the key and model fingerprint
it was written for, its shape and dtype, and a checksum of its payload. An
entry that fails verification (damaged bytes, truncated, of another shape,
non-finite, moved from another key) is a miss: it is embedded again and
rewritten, with a :class:`CacheEntryWarning` naming the file.
"""

import hashlib
import json
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .._files import atomic_write

MEMORY_LIMIT_BYTES = 2**30
"""At most 1 GiB of embeddings in memory (about 700,000 384-d float32 rows)."""
_MAGIC = b"SKALEMB1"


class _MemoryLayer:
    """A thread-safe LRU map (fingerprint, digest) -> embedding row, bounded
    in bytes."""

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


def recall(fingerprint, digests):
    """The in-memory rows of ``digests`` (None where absent or not digested)."""
    return [
        None if digest is None else _MEMORY.get((fingerprint, digest))
        for digest in digests
    ]


def remember(fingerprint, digests, rows):
    """Keep one float32 row per digest in memory (copied, so batches are not
    kept alive)."""
    for digest, row in zip(digests, rows, strict=True):
        _MEMORY.put((fingerprint, digest), np.array(row, dtype=np.float32))


def clear_memory():
    """Forget every embedding kept in memory (the files of ``cache_dir`` stay)."""
    _MEMORY.clear()


class CacheEntryWarning(UserWarning):
    """A cache entry failed verification and is being recomputed."""


def encode_entry(row, key, fingerprint):
    """The bytes of one verified entry: a JSON header, then the raw payload.

    The header records the key and model fingerprint the entry was written
    for, the payload's shape and dtype, and a BLAKE2b checksum of its bytes, so
    :func:`decode_entry` can tell a sound entry from a damaged, truncated or
    misplaced one.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.extract._store import decode_entry, encode_entry
    >>> data = encode_entry(np.ones(3, dtype=np.float32), "ff00", "abc")
    >>> decode_entry(data, "ff00", "abc")
    array([1., 1., 1.], dtype=float32)
    """
    payload = np.ascontiguousarray(row, dtype=np.float32).tobytes()
    header = json.dumps(
        {
            "key": key,
            "fingerprint": fingerprint,
            "shape": list(np.shape(row)),
            "dtype": "float32",
            "blake2b": hashlib.blake2b(payload, digest_size=16).hexdigest(),
        },
        sort_keys=True,
    ).encode()
    return _MAGIC + len(header).to_bytes(4, "little") + header + payload


def decode_entry(data, key, fingerprint):
    """The row stored in ``data``; raises ``ValueError`` saying why it is unsound.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.extract._store import decode_entry, encode_entry
    >>> data = encode_entry(np.ones(3, dtype=np.float32), "ff00", "abc")
    >>> decode_entry(data, "ee11", "abc")
    Traceback (most recent call last):
    ...
    ValueError: written for key 'ff00' of model 'abc', not key 'ee11' of model 'abc'
    """
    start = len(_MAGIC) + 4
    if len(data) < start or not data.startswith(_MAGIC):
        raise ValueError("not a skalign cache entry (unknown format or truncated)")
    length = int.from_bytes(data[len(_MAGIC) : start], "little")
    try:
        header = json.loads(data[start : start + length])
        written_for = (header["key"], header["fingerprint"])
        shape, dtype = tuple(header["shape"]), np.dtype(header["dtype"])
        checksum = header["blake2b"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable header ({exc})") from None
    if written_for != (key, fingerprint):
        raise ValueError(
            f"written for key {written_for[0]!r} of model {written_for[1]!r}, "
            f"not key {key!r} of model {fingerprint!r}"
        )
    payload = data[start + length :]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(shape) != 1 or dtype != np.float32 or len(payload) != expected:
        raise ValueError(
            f"holds {len(payload)} payload bytes for shape {shape} and dtype "
            f"{dtype} (expected one float32 row of {expected} bytes)"
        )
    if hashlib.blake2b(payload, digest_size=16).hexdigest() != checksum:
        raise ValueError("its payload does not match its checksum (damaged bytes)")
    row = np.frombuffer(payload, dtype=np.float32).copy()
    if not np.isfinite(row).all():
        raise ValueError("it holds NaN or infinite values")
    return row


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
    >>> from skalign.extract._store import EmbeddingCache
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), "abc123", {"model": "demo"})
    >>> cache.load_many(["ff00"])
    [None]
    >>> cache.store_many(["ff00"], np.ones((1, 3), dtype=np.float32))
    >>> cache.load_many(["ff00"])[0]
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, directory, fingerprint, description):
        self.root = Path(directory) / fingerprint
        self.fingerprint = fingerprint
        self.description = description

    def load_many(self, digests):
        """Cached embeddings for ``digests``, None where absent or unsound
        (an unsound entry also warns with its path)."""
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
            data = encode_entry(row, digest, self.fingerprint)
            atomic_write(path, lambda handle, data=data: handle.write(data))

    def _load(self, digest):
        path = self._path(digest)
        try:
            data = _read_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            data = exc
        try:
            if isinstance(data, OSError):
                raise ValueError(f"unreadable ({data})")
            row = decode_entry(data, digest, self.fingerprint)
        except ValueError as exc:
            warnings.warn(
                f"Ignoring the damaged embedding cache entry {str(path)!r}: {exc}. "
                "Its input is embedded again and the entry rewritten.",
                CacheEntryWarning,
                stacklevel=4,
            )
            return None
        return row

    def _path(self, digest):
        return self.root / digest[:2] / f"{digest}.emb"


def _read_file(path):
    with open(path, "rb") as handle:
        return handle.read()
