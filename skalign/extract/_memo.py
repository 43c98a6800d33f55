"""The in-process embedding memo, on by default.

Every embedding an extractor computes (or reads from its ``cache_dir``) is
kept in memory under the model's cache key and the input's content digest,
the key of the on-disk cache, so a clone that embeds the same input again, as
each fold of a grid search does, finds it here. The memo is shared by the
whole process, holds at most ``MEMO_BUDGET_BYTES`` of embeddings (least
recently used first out) and is emptied by
:func:`~skalign.extract.clear_model_cache`.
"""

from ._cache import _MemoryLayer

MEMO_BUDGET_BYTES = 2**30
"""At most 1 GiB of memoised embeddings (about 700,000 384-d float32 rows)."""

_MEMO = _MemoryLayer(MEMO_BUDGET_BYTES)


def recall(fingerprint, digests):
    """The memoised rows of ``digests`` (None where absent or not digested)."""
    return [
        None if digest is None else _MEMO.get((fingerprint, digest))
        for digest in digests
    ]


def remember(fingerprint, digests, rows):
    """Memoise one float32 row per digest (copied, so batches are not kept)."""
    for digest, row in zip(digests, rows, strict=True):
        _MEMO.put((fingerprint, digest), row.copy())


def clear_memo():
    """Forget every memoised embedding."""
    _MEMO.clear()
