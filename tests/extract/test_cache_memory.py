"""The one in-process embedding cache, in front of the on-disk store."""

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor, _store, clear_model_cache
from skalign.extract._store import _MemoryLayer
from tests.extract._modules import random_images, thumbnail

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


def test_rows_read_once_are_served_from_memory(tmp_path, monkeypatch, counting_encoder):
    images = random_images(3)
    EmbeddingExtractor(
        counting_encoder, preprocess=thumbnail, cache_dir=tmp_path, memoize=False
    ).transform(images[:2])
    _store.clear_memory()
    reads = []
    original = _store._read_file
    monkeypatch.setattr(
        _store, "_read_file", lambda path: reads.append(path) or original(path)
    )
    extractor = EmbeddingExtractor(
        counting_encoder, preprocess=thumbnail, cache_dir=tmp_path
    )
    first = extractor.transform(images)
    second = extractor.transform(images[:2])
    assert len(reads) == 1  # one shard holds both hits, then memory only
    np.testing.assert_array_equal(second, first[:2])


def test_one_cache_is_emptied_by_clear_model_cache(counting_encoder):
    extractor = EmbeddingExtractor(counting_encoder, preprocess=thumbnail)
    extractor.transform(random_images(2))
    assert len(_store._MEMORY._rows) == 2
    clear_model_cache()
    assert len(_store._MEMORY._rows) == 0
