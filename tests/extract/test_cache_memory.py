"""The in-memory layer over the on-disk embedding cache."""

import numpy as np
import pytest

from skalign.extract import _cache
from skalign.extract._cache import EmbeddingCache, _MemoryLayer

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def test_memory_layer_evicts_least_recently_used_rows_beyond_its_limit():
    layer = _MemoryLayer(limit_bytes=3 * 40)  # three rows of 10 float32
    rows = {k: np.full(10, k, dtype=np.float32) for k in range(4)}
    for k in range(3):
        layer.put(k, rows[k])
    assert layer.get(0) is rows[0]  # 0 becomes the most recently used
    layer.put(3, rows[3])
    assert layer.get(1) is None  # the least recently used went out
    assert all(layer.get(k) is rows[k] for k in (0, 2, 3))


def test_rows_read_once_are_served_from_memory(tmp_path, monkeypatch):
    _cache.clear_memory()
    store = EmbeddingCache(tmp_path, "fingerprint", {"model": "test"})
    store.store_many(["aa01", "bb02"], np.eye(2, dtype=np.float32))
    _cache.clear_memory()
    reads = []
    original = _cache._read_file
    monkeypatch.setattr(
        _cache, "_read_file", lambda path: reads.append(path) or original(path)
    )
    first = store.load_many(["aa01", "bb02", "cc03"])
    second = store.load_many(["aa01", "bb02"])
    assert len(reads) == 3  # two hits and one miss on disk, then memory only
    assert first[2] is None
    np.testing.assert_array_equal(np.stack(second), np.eye(2))
