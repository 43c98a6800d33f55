"""Where embeddings are kept: one bounded in-process cache, and the on-disk store.

The in-process cache (on by default, ``memoize``) keeps every embedding an
extractor computes or reads from its ``cache_dir`` under the model's cache key
and the input's content digest, so a clone that embeds the same input again,
as each fold of a grid search does, finds it here. It is shared by the whole
process, holds at most ``MEMORY_LIMIT_BYTES`` of embeddings (least recently
used first out) and is emptied by :func:`~skalign.extract.clear_model_cache`.

The on-disk store (``cache_dir``) keeps the embeddings of every model in a few
files::

    CACHE_DIR/index.sqlite3            (model fingerprint, input digest)
                                       -> (shard, row, checksum); models; shards
    CACHE_DIR/shards/<model>-<id>.npy  float32 (n_rows, width), written once

Rows are buffered and written as one ``.npy`` shard per ``SHARD_BYTES`` (or
per call, whichever comes first), to a temporary name renamed into place, and
only then entered in the index, in one SQLite transaction. SQLite's
write-ahead log and busy timeout let processes sharing the folder
(``GridSearchCV(n_jobs=…)``, two runs) read and write at once: a shard is
never seen before it is complete, and two writers of one input both land (the
last entry wins; both hold the same embedding). Shards are read by memory
map, with ``allow_pickle=False``: nothing read from the store is unpickled.

Every entry is checksummed (BLAKE2b of its key and its row's bytes), so a
damaged shard, a truncated one, or an index entry pointing at the wrong row is
a miss: the input is embedded again and its entry rewritten, with a
:class:`CacheEntryWarning` naming the file. :func:`compact_embedding_cache`
rewrites the live rows into few full shards and deletes the unreferenced ones.
A folder of the former layout (one ``.emb`` file per embedding) is moved into
the store when first opened: every entry verified, the sound ones kept, the old
files deleted, with an :class:`OldCacheLayoutWarning` saying so.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .._files import atomic_write

MEMORY_LIMIT_BYTES = 2**30
"""At most 1 GiB of embeddings in memory (about 700,000 384-d float32 rows)."""
SHARD_BYTES = 16 * 2**20
"""A shard is written once this many bytes of rows are buffered (or at the
end of a call): 20,000 rows of 384 float32 make 2 shards."""
INDEX_NAME = "index.sqlite3"
SHARDS_NAME = "shards"
_FORMAT = "skalign-embedding-store-1"
_BUSY_TIMEOUT_S = 120.0
_QUERY_CHUNK = 500  # digests per SELECT (SQLite's bound on parameters is 999+)
_ORPHAN_AGE_S = 3600.0  # a shard no index names is deleted by compact once this old
_SHARD_NAME = re.compile(r"^[0-9a-f]{16}-[0-9a-f]{32}\.npy$")
_OLD_LAYOUT_DIR = re.compile(r"^[0-9a-f]{32}$")
_MAGIC = b"SKALEMB1"  # the entries of the former one-file-per-embedding layout


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


class OldCacheLayoutWarning(UserWarning):
    """A ``cache_dir`` of the former layout was moved into the sharded store."""


def entry_checksum(digest, row):
    """BLAKE2b of an entry's key and its float32 bytes (hex, 32 characters)."""
    checksum = hashlib.blake2b(digest.encode(), digest_size=16)
    checksum.update(np.ascontiguousarray(row, dtype=np.float32).tobytes())
    return checksum.hexdigest()


class EmbeddingStore:
    """The embeddings of one model configuration in a sharded, indexed folder.

    Parameters
    ----------
    directory : str or os.PathLike
        The store's folder (``cache_dir``), shared by all models.
    fingerprint : str
        Hex digest of the model configuration
        (:meth:`~skalign.extract.ResolvedModel.cache_key`).
    description : dict
        JSON-serialisable description of the configuration, kept in the index.
    shard_bytes : int, default=None
        Buffered bytes that make a shard; None: ``SHARD_BYTES``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skalign.extract._store import EmbeddingStore
    >>> with EmbeddingStore(tempfile.mkdtemp(), "abc123", {"model": "demo"}) as store:
    ...     store.store_many(["ff00"], np.ones((1, 3), dtype=np.float32))
    ...     store.flush()
    ...     store.load_many(["ff00", "ee11"])
    [array([1., 1., 1.], dtype=float32), None]
    """

    def __init__(self, directory, fingerprint, description, *, shard_bytes=None):
        self.root = Path(os.path.expanduser(os.fspath(directory)))
        self.fingerprint = fingerprint
        self.description = description
        self.shard_bytes = SHARD_BYTES if shard_bytes is None else shard_bytes
        self._pending_digests, self._pending_rows = [], []
        self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Write the buffered rows and close the index."""
        try:
            self.flush()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def index_path(self):
        return self.root / INDEX_NAME

    def load_many(self, digests):
        """Stored rows for ``digests``, None where absent or unsound (an unsound
        entry also warns with the file it names)."""
        rows = dict.fromkeys(digests)
        by_shard = {}
        for digest, shard, row, checksum in self._entries(digests):
            by_shard.setdefault(shard, []).append((digest, row, checksum))
        for shard, entries in by_shard.items():
            for digest, row in _read_entries(self.root / SHARDS_NAME, shard, entries):
                rows[digest] = row
        return [rows[digest] for digest in digests]

    def missing(self, digests):
        """The ``digests`` the index has no entry for."""
        present = {entry[0] for entry in self._entries(digests)}
        return [digest for digest in digests if digest not in present]

    def store_many(self, digests, embeddings):
        """Buffer one row of ``embeddings`` per digest; a shard is written
        when ``shard_bytes`` are buffered (and by :meth:`flush`)."""
        rows = np.asarray(embeddings, dtype=np.float32)
        self._pending_digests.extend(digests)
        self._pending_rows.append(rows)
        if sum(block.nbytes for block in self._pending_rows) >= self.shard_bytes:
            self.flush()

    def flush(self):
        """Write the buffered rows as one shard and enter them in the index."""
        if not self._pending_digests:
            return
        digests, rows = self._pending_digests, np.concatenate(self._pending_rows)
        self._pending_digests, self._pending_rows = [], []
        unique = dict(zip(digests, range(len(digests)), strict=True))  # last wins
        if len(unique) < len(digests):
            digests, rows = list(unique), rows[list(unique.values())]
        connection = self._index()
        connection.execute(
            "INSERT OR IGNORE INTO models VALUES (?, ?)",
            (self.fingerprint, json.dumps(self.description, sort_keys=True)),
        )
        write_shard(connection, self.root, self.fingerprint, digests, rows)

    def _index(self):
        if self._connection is None:
            self._connection = open_index(self.root)
            migrate_old_layout(self._connection, self.root)
        return self._connection

    def _entries(self, digests):
        """Index rows ``(digest, shard, row, checksum)`` of ``digests``."""
        wanted = [digest for digest in dict.fromkeys(digests) if digest is not None]
        if not wanted:
            return []
        if (
            self._connection is None
            and not self.index_path.exists()
            and not _old_layout_folders(self.root)
        ):
            return []  # nothing stored yet: create no files to read nothing
        found = []
        for start in range(0, len(wanted), _QUERY_CHUNK):
            chunk = wanted[start : start + _QUERY_CHUNK]
            found += (
                self._index()
                .execute(
                    "SELECT digest, shard, row, checksum FROM entries WHERE "
                    f"fingerprint = ? AND digest IN ({','.join('?' * len(chunk))})",
                    (self.fingerprint, *chunk),
                )
                .fetchall()
            )
        return found


def open_index(root):
    """A connection to the store's SQLite index (created if missing), in WAL
    mode with a busy timeout so that processes can share it. A file that is
    not a sound index is moved aside with a warning naming it."""
    path = root / INDEX_NAME
    for part, kind in ((root / SHARDS_NAME, "folder"), (path, "file")):
        if part.exists() and part.is_dir() != (kind == "folder"):
            found = "a folder" if part.is_dir() else "a file"
            raise (IsADirectoryError if part.is_dir() else NotADirectoryError)(
                f"The embedding store in cache_dir {str(root)!r} needs "
                f"{str(part)!r} to be a {kind}, but it is {found}. Move or "
                "remove it, or pass another cache_dir."
            )
    (root / SHARDS_NAME).mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.OperationalError as exc:  # locked, read-only, disk full
        raise OSError(
            f"Cannot use the embedding store index {str(path)!r} ({exc}). "
            "cache_dir must be a writable folder on a local disk (SQLite locks "
            "are unreliable on network shares): fix its permissions, or pass "
            "another cache_dir."
        ) from exc
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{INDEX_NAME}.damaged-{uuid.uuid4().hex[:8]}")
        warnings.warn(
            f"Ignoring the damaged embedding store index {str(path)!r} ({exc}); "
            f"it is moved to {aside.name!r} and its inputs are embedded again. "
            "compact_embedding_cache deletes the shards it named.",
            CacheEntryWarning,
            stacklevel=5,
        )
        for suffix in ("", "-wal", "-shm"):
            try:
                os.replace(f"{path}{suffix}", f"{aside}{suffix}")
            except FileNotFoundError:
                pass
        return _connect(path)


def _connect(path):
    connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _write_ahead_log(connection)
        connection.execute("PRAGMA synchronous=NORMAL")
        found = _format(connection)
        if found is None:  # a new index (readers of a sound one take no lock)
            with transaction(connection):
                for statement in _SCHEMA:
                    connection.execute(statement)
                connection.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format', ?)", (_FORMAT,)
                )
            found = _format(connection)
        if found != _FORMAT:
            raise sqlite3.DatabaseError(f"format {found!r}, expected {_FORMAT!r}")
        _check_tables(connection)
    except BaseException:
        connection.close()
        raise
    return connection


_TABLES = {
    "meta": ["key", "value"],
    "models": ["fingerprint", "description"],
    "shards": ["shard", "fingerprint", "n_rows", "width"],
    "entries": ["fingerprint", "digest", "shard", "row", "checksum"],
}


def _check_tables(connection):
    """Raise ``sqlite3.DatabaseError`` naming a table that is missing or has
    other columns than the store's (an index edited, or of another tool)."""
    for table, columns in _TABLES.items():
        found = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        if found != columns:
            raise sqlite3.DatabaseError(
                f"its table {table!r} "
                + (f"has columns {found}, not {columns}" if found else "is missing")
            )


def _write_ahead_log(connection):
    """Switch the index to write-ahead logging (a setting kept in the file).

    The switch of a new index takes an exclusive lock that SQLite does not
    wait for (its busy timeout does not apply): when other processes open the
    same new index at that moment it fails with "database is locked" (about 2
    in 100 opens by four threads at once). It is retried until the busy
    timeout.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _format(connection):
    """The index's format tag, or None when it has none yet."""
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'format'")
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    found = row.fetchone()
    return None if found is None else found[0]


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS models "
    "(fingerprint TEXT PRIMARY KEY, description TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS shards (shard TEXT PRIMARY KEY, "
    "fingerprint TEXT NOT NULL, n_rows INTEGER NOT NULL, width INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (fingerprint TEXT NOT NULL, "
    "digest TEXT NOT NULL, shard TEXT NOT NULL, row INTEGER NOT NULL, "
    "checksum TEXT NOT NULL, PRIMARY KEY (fingerprint, digest)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS entries_by_shard ON entries (shard)",
)


class transaction:
    """``with transaction(connection):`` one immediate (write-locking) SQLite
    transaction, committed on success and rolled back on error."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, exc_type, *_):
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")


def write_shard(connection, root, fingerprint, digests, rows):
    """Write ``rows`` as a new shard, then enter each row under its digest."""
    model = hashlib.blake2b(fingerprint.encode(), digest_size=8).hexdigest()
    name = f"{model}-{uuid.uuid4().hex}.npy"
    atomic_write(
        root / SHARDS_NAME / name,
        lambda handle: np.save(handle, np.ascontiguousarray(rows), allow_pickle=False),
    )
    with transaction(connection):
        connection.execute(
            "INSERT INTO shards VALUES (?, ?, ?, ?)",
            (name, fingerprint, rows.shape[0], rows.shape[1]),
        )
        connection.executemany(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
            (
                (fingerprint, digest, name, position, entry_checksum(digest, row))
                for position, (digest, row) in enumerate(
                    zip(digests, rows, strict=True)
                )
            ),
        )
    return name


def _read_entries(folder, shard, entries):
    """Yield ``(digest, row)`` for each sound entry of one shard; warn (naming
    the file) for the others."""
    path = folder / shard
    try:
        if not _SHARD_NAME.match(shard):
            raise ValueError("the index names a file that is not a shard")
        rows = _read_file(path)
        if rows.dtype != np.float32 or rows.ndim != 2:
            raise ValueError(
                f"it holds {rows.dtype} of shape {rows.shape}, not float32 rows"
            )
    except (OSError, ValueError, EOFError) as exc:
        _warn_damaged(path, f"unreadable ({exc or type(exc).__name__})", len(entries))
        return
    for digest, row, checksum in entries:
        try:
            if not isinstance(row, int) or not 0 <= row < rows.shape[0]:
                raise ValueError(
                    f"its index entry names row {row!r} of {rows.shape[0]}"
                )
            values = np.array(rows[row])
            if entry_checksum(digest, values) != checksum:
                raise ValueError(
                    f"row {row} does not match its checksum (damaged bytes or "
                    "index entry)"
                )
            if not np.isfinite(values).all():
                raise ValueError(f"row {row} holds NaN or infinite values")
        except ValueError as exc:
            _warn_damaged(path, str(exc), 1)
            continue
        yield digest, values


def _read_file(path):
    """A shard, memory-mapped (never unpickled)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _warn_damaged(path, reason, n_entries):
    warnings.warn(
        f"Ignoring the damaged embedding cache entry {str(path)!r}: {reason}. "
        f"Its input{'s are' if n_entries > 1 else ' is'} embedded again and "
        "the entries rewritten.",
        CacheEntryWarning,
        stacklevel=6,
    )


# -- the former layout, compaction --------------------------------------------


def _old_layout_folders(root):
    """The model folders of the one-file-per-embedding layout in ``root``."""
    if not root.is_dir():
        return []
    return sorted(
        folder
        for folder in root.iterdir()
        if _OLD_LAYOUT_DIR.match(folder.name) and (folder / "model.json").is_file()
    )


def migrate_old_layout(connection, root):
    """Move the model folders of the former layout in ``root`` into the store
    (each entry verified, the sound ones kept, the old files deleted), with an
    :class:`OldCacheLayoutWarning` saying so. Returns the entries moved."""
    old = _old_layout_folders(root)
    if not old:
        return 0
    moved = sum(_migrate(connection, root, folder) for folder in old)
    warnings.warn(
        f"cache_dir {str(root)!r} held embeddings in the former layout of one "
        f"file per embedding ({len(old)} model folder(s)); {moved} sound "
        f"entries were moved into the sharded store ({INDEX_NAME} and "
        f"{SHARDS_NAME}/) and the old files deleted.",
        OldCacheLayoutWarning,
        stacklevel=6,
    )
    return moved


def compact_embedding_cache(cache_dir):
    """Rewrite an embedding cache folder into few full shards.

    :class:`~skalign.extract.EmbeddingExtractor` writes one shard per call (or
    per 16 MiB of rows), so many small calls make many small files. This
    rewrites every sound entry into shards of up to 16 MiB, drops damaged
    entries (with a warning naming their file) and deletes the shards no entry
    uses any more. A folder of the former layout (one ``.emb`` file per
    embedding) is moved into the store first, as the extractor does on first
    use: each entry is verified, the sound ones kept, and the old files
    deleted. Run it while no other process writes to the folder.

    Parameters
    ----------
    cache_dir : str or os.PathLike
        The ``cache_dir`` of the extractors that wrote it.

    Returns
    -------
    summary : dict
        ``entries`` (kept), ``migrated`` (from the former layout),
        ``shards_before`` and ``shards_after``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skalign.extract import compact_embedding_cache
    >>> from skalign.extract._store import EmbeddingStore
    >>> folder = tempfile.mkdtemp()
    >>> for digest in ["aa", "bb", "cc"]:  # three calls, three shards
    ...     with EmbeddingStore(folder, "f00d", {}) as store:
    ...         store.store_many([digest], np.ones((1, 4), np.float32))
    >>> compact_embedding_cache(folder)
    {'entries': 3, 'migrated': 0, 'shards_before': 3, 'shards_after': 1}
    """
    root = Path(os.path.expanduser(os.fspath(cache_dir)))
    if not root.is_dir():
        raise NotADirectoryError(
            f"cache_dir {str(root)!r} is not a folder (it is missing or a file). "
            "Pass the cache_dir folder of the extractors that wrote the cache."
        )
    connection = open_index(root)
    try:
        migrated = migrate_old_layout(connection, root)
        shards_before = _count_shard_files(root)
        fingerprints = [
            fp
            for (fp,) in connection.execute("SELECT DISTINCT fingerprint FROM entries")
        ]
        n_entries = sum(_compact_model(connection, root, fp) for fp in fingerprints)
        _delete_unused_shards(connection, root)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
    finally:
        connection.close()
    return {
        "entries": n_entries,
        "migrated": migrated,
        "shards_before": shards_before,
        "shards_after": _count_shard_files(root),
    }


def _count_shard_files(root):
    return sum(1 for _ in (root / SHARDS_NAME).glob("*.npy"))


def _compact_model(connection, root, fingerprint):
    entries = connection.execute(
        "SELECT digest, shard, row, checksum FROM entries WHERE fingerprint = ? "
        "ORDER BY shard, row",
        (fingerprint,),
    ).fetchall()
    by_shard = {}
    for digest, shard, row, checksum in entries:
        by_shard.setdefault(shard, []).append((digest, row, checksum))
    digests, rows = [], []
    for shard, shard_entries in by_shard.items():
        for digest, row in _read_entries(root / SHARDS_NAME, shard, shard_entries):
            digests.append(digest)
            rows.append(row)
    widths = {row.shape[0] for row in rows}
    if len(widths) > 1:  # a model whose width changed: keep each width apart
        width = max(widths, key=[row.shape[0] for row in rows].count)
        kept = [i for i, row in enumerate(rows) if row.shape[0] == width]
        digests, rows = [digests[i] for i in kept], [rows[i] for i in kept]
    with transaction(connection):
        connection.execute("DELETE FROM entries WHERE fingerprint = ?", (fingerprint,))
    if not rows:
        return 0
    block = np.stack(rows)
    per_shard = max(1, SHARD_BYTES // block[0].nbytes)
    for start in range(0, len(digests), per_shard):
        write_shard(
            connection,
            root,
            fingerprint,
            digests[start : start + per_shard],
            block[start : start + per_shard],
        )
    return len(digests)


def _delete_unused_shards(connection, root):
    used = {
        shard for (shard,) in connection.execute("SELECT DISTINCT shard FROM entries")
    }
    known = {shard for (shard,) in connection.execute("SELECT shard FROM shards")}
    now = time.time()
    for path in (root / SHARDS_NAME).iterdir():
        if path.name in used:
            continue
        finished = path.name in known  # entered, then superseded
        stale = now - path.stat().st_mtime > _ORPHAN_AGE_S  # a writer that died
        if finished or stale:
            path.unlink(missing_ok=True)
    with transaction(connection):
        connection.execute(
            "DELETE FROM shards WHERE shard NOT IN (SELECT DISTINCT shard FROM entries)"
        )


def _migrate(connection, root, folder):
    """Move one model folder of the former layout into the store."""
    fingerprint = folder.name
    try:
        description = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError):
        description = {}
    connection.execute(
        "INSERT OR IGNORE INTO models VALUES (?, ?)",
        (fingerprint, json.dumps(description, sort_keys=True)),
    )
    digests, rows = [], []
    for path in sorted(folder.glob("*/*.emb")):
        try:
            rows.append(decode_entry(path.read_bytes(), path.stem, fingerprint))
            digests.append(path.stem)
        except FileNotFoundError:
            continue  # another process migrates the same folder
        except (OSError, ValueError) as exc:
            _warn_damaged(path, str(exc), 1)
    widths = [row.shape[0] for row in rows]
    if widths:  # a model whose width changed keeps its most common width
        width = max(set(widths), key=widths.count)
        kept = [i for i, w in enumerate(widths) if w == width]
        digests = [digests[i] for i in kept]
        write_shard(
            connection, root, fingerprint, digests, np.stack([rows[i] for i in kept])
        )
    shutil.rmtree(folder, ignore_errors=True)
    return len(digests)


def encode_entry(row, key, fingerprint):
    """The bytes of one entry of the former layout: a JSON header, then the
    raw payload (kept to write test fixtures and read old caches).

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
    """The row stored in an entry of the former layout; raises ``ValueError``
    saying why it is unsound.

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
