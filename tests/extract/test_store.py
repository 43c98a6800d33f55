"""The sharded embedding store: exact round trips, few files, memory maps,
compaction, and the migration of the former one-file-per-embedding layout."""

import sqlite3
import threading
import warnings

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor, _store, compact_embedding_cache
from skalign.extract._inputs import KIND_ARRAY, content_digest
from skalign.extract._store import (
    CacheEntryWarning,
    EmbeddingStore,
    OldCacheLayoutWarning,
    encode_entry,
)
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _digests(n, start=0):
    return [f"{i:032x}" for i in range(start, start + n)]


def test_the_store_returns_exactly_what_was_written(tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((1000, 24)).astype(np.float32)
    rows[3] = np.finfo(np.float32).max  # extremes survive bit for bit
    rows[4] = np.finfo(np.float32).tiny
    digests = _digests(1000)
    with EmbeddingStore(
        tmp_path, "f" * 32, {"model": "m"}, shard_bytes=24 * 4 * 300
    ) as store:
        for start in range(0, 1000, 64):  # batches of 64, a shard per 300 rows
            store.store_many(digests[start : start + 64], rows[start : start + 64])
    shards = sorted((tmp_path / "shards").glob("*.npy"))
    assert len(shards) == 4  # 320 + 320 + 320 + 40 rows
    with EmbeddingStore(tmp_path, "f" * 32, {"model": "m"}) as store:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            read = store.load_many(digests[::-1] + ["0" * 31 + "g"])
    assert read[-1] is None
    np.testing.assert_array_equal(np.stack(read[:-1]), rows[::-1])
    assert all(row.dtype == np.float32 for row in read[:-1])
    # another model's key finds nothing
    with EmbeddingStore(tmp_path, "e" * 32, {}) as store:
        assert store.load_many(digests[:3]) == [None] * 3


def test_shards_are_plain_npy_files_readable_by_memory_map(tmp_path):
    rows = np.arange(12, dtype=np.float32).reshape(4, 3)
    with EmbeddingStore(tmp_path, "f" * 32, {}) as store:
        store.store_many(_digests(4), rows)
    (shard,) = (tmp_path / "shards").glob("*.npy")
    mapped = np.load(shard, mmap_mode="r", allow_pickle=False)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, rows)


def test_20000_entries_make_few_files(tmp_path):
    rows = np.ones((500, 384), dtype=np.float32)
    with EmbeddingStore(tmp_path, "f" * 32, {}) as store:
        for start in range(0, 20000, 500):
            store.store_many(_digests(500, start), rows)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) <= 64, files
    with EmbeddingStore(tmp_path, "f" * 32, {}) as store:
        assert store.missing(_digests(20000)) == []


def test_compaction_keeps_every_entry_in_fewer_shards(tmp_path):
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((30, 5)).astype(np.float32)
    for start in range(0, 30, 3):  # ten calls, ten shards
        with EmbeddingStore(tmp_path, "f" * 32, {}) as store:
            store.store_many(_digests(3, start), rows[start : start + 3])
    with EmbeddingStore(tmp_path, "f" * 32, {}) as store:  # one rewritten entry
        store.store_many(_digests(1), rows[:1] + 1)
    summary = compact_embedding_cache(tmp_path)
    assert summary == {
        "entries": 30,
        "migrated": 0,
        "shards_before": 11,
        "shards_after": 1,
    }
    expected = rows.copy()
    expected[0] += 1
    with EmbeddingStore(tmp_path, "f" * 32, {}) as store:
        np.testing.assert_array_equal(np.stack(store.load_many(_digests(30))), expected)


def _old_layout(root, fingerprint, rows, digests=None):
    """A cache folder as skalign wrote it before the sharded store."""
    folder = root / fingerprint
    folder.mkdir(parents=True)
    (folder / "model.json").write_text('{"model": "old"}')
    digests = _digests(len(rows)) if digests is None else digests
    for digest, row in zip(digests, rows, strict=True):
        path = folder / digest[:2] / f"{digest}.emb"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(encode_entry(row, digest, fingerprint))
    return folder


def test_an_extractor_migrates_the_old_layout_on_first_use(counting_encoder, tmp_path):
    images = random_images(3)
    extractor = EmbeddingExtractor(
        counting_encoder, preprocess=thumbnail, cache_dir=tmp_path, memoize=False
    )
    fingerprint = extractor.resolve().cache_key()[0]
    digests = [content_digest(image, KIND_ARRAY) for image in images]
    written = np.arange(18, dtype=np.float32).reshape(3, 6)  # not what it computes
    folder = _old_layout(tmp_path, fingerprint, written, digests)
    with pytest.warns(OldCacheLayoutWarning, match=r"former layout.*3 sound entries"):
        migrated = extractor.transform(images)
    assert CountingEncoder.calls == []  # served from the migrated entries
    np.testing.assert_array_equal(migrated, written)
    assert not folder.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # migrated once
        np.testing.assert_array_equal(extractor.transform(images), written)


def test_the_old_layout_is_migrated_verified_and_removed(tmp_path):
    rows = np.arange(18, dtype=np.float32).reshape(3, 6)
    folder = _old_layout(tmp_path, "a" * 32, rows)
    damaged = sorted(folder.rglob("*.emb"))[1]
    damaged.write_bytes(damaged.read_bytes()[:-4])
    with (
        pytest.warns(OldCacheLayoutWarning, match="2 sound entries"),
        pytest.warns(CacheEntryWarning, match=damaged.name),
    ):
        summary = compact_embedding_cache(tmp_path)
    assert summary["migrated"] == 2 and summary["entries"] == 2
    assert not folder.exists()
    with EmbeddingStore(tmp_path, "a" * 32, {}) as store:
        first, lost, third = store.load_many(_digests(3))
    np.testing.assert_array_equal(first, rows[0])
    np.testing.assert_array_equal(third, rows[2])
    assert lost is None


def test_an_extractor_reads_back_what_it_stored_and_writes_few_files(
    counting_encoder, tmp_path
):
    images = random_images(40)
    extractor = EmbeddingExtractor(
        counting_encoder,
        preprocess=thumbnail,
        cache_dir=tmp_path,
        memoize=False,
        batch_size=4,
    )
    first = extractor.transform(images)
    assert len(list((tmp_path / "shards").glob("*.npy"))) == 1  # not one per batch
    CountingEncoder.calls.clear()
    np.testing.assert_array_equal(extractor.transform(images), first)
    assert CountingEncoder.calls == []


def test_processes_opening_one_new_index_at_once_all_get_it(tmp_path):
    # switching a new index to write-ahead logging takes a lock SQLite does not
    # wait for: before the retry, about 2 in 100 of these opens failed with
    # "database is locked"
    failures = []

    def open_index(path):
        try:
            _store._connect(path).close()
        except sqlite3.OperationalError as exc:
            failures.append(exc)

    for attempt in range(150):
        path = tmp_path / f"{attempt}.sqlite3"
        threads = [threading.Thread(target=open_index, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]
