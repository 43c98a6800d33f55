"""The embedding cache never hands back a damaged, stale or misplaced entry.

Every damaged entry (a shard's bytes, an index entry, the index itself) is a
miss: embedded again, rewritten, and reported by a warning naming its file.
Also: writers killed mid-write, and two processes sharing one cache folder.
"""

import contextlib
import importlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import warnings

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor
from skalign.extract._store import CacheEntryWarning, EmbeddingStore, entry_checksum
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _extractor(encoder, cache_dir, preprocess=thumbnail):
    # memoize=False: these tests read the disk cache, not the in-process memo
    return EmbeddingExtractor(
        encoder, preprocess=preprocess, cache_dir=cache_dir, memoize=False
    )


def _shards(cache_dir):
    return sorted((cache_dir / "shards").glob("*.npy"))


def _index(cache_dir):
    return sqlite3.connect(cache_dir / "index.sqlite3", isolation_level=None)


def _entries(cache_dir):
    """Index rows ``(digest, shard, row, checksum)``, in row order."""
    with contextlib.closing(_index(cache_dir)) as index:
        return index.execute(
            "SELECT digest, shard, row, checksum FROM entries ORDER BY shard, row"
        ).fetchall()


def _update_entry(cache_dir, digest, **values):
    assignments = ", ".join(f"{name} = ?" for name in values)
    with contextlib.closing(_index(cache_dir)) as index:
        index.execute(
            f"UPDATE entries SET {assignments} WHERE digest = ?",
            (*values.values(), digest),
        )


def _flip_payload_byte(cache_dir, shard):
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0xFF  # in the last row
    shard.write_bytes(bytes(data))
    return 1


def _truncate(cache_dir, shard):
    shard.write_bytes(shard.read_bytes()[:-5])
    return 3


def _empty(cache_dir, shard):
    shard.write_bytes(b"")
    return 3


def _npy_of_wrong_shape(cache_dir, shard):
    with open(shard, "wb") as handle:
        np.save(handle, np.ones((1, 10), dtype=np.float32))
    return 3


def _float64_shard(cache_dir, shard):
    rows = np.load(shard).astype(np.float64)
    with open(shard, "wb") as handle:
        np.save(handle, rows)
    return 3


def _nan_payload(cache_dir, shard):
    rows = np.load(shard)
    rows[0] = np.nan
    with open(shard, "wb") as handle:
        np.save(handle, rows)
    digest = _entries(cache_dir)[0][0]  # a checksum that matches the NaN row
    _update_entry(cache_dir, digest, checksum=entry_checksum(digest, rows[0]))
    return 1


def _entry_of_another_key(cache_dir, shard):
    (first, *_), (_, _, row, checksum) = _entries(cache_dir)[:2]
    _update_entry(cache_dir, first, row=row, checksum=checksum)
    return 1


def _row_out_of_range(cache_dir, shard):
    _update_entry(cache_dir, _entries(cache_dir)[0][0], row=7)
    return 1


def _entry_naming_another_file(cache_dir, shard):
    _update_entry(cache_dir, _entries(cache_dir)[0][0], shard="../../outside.npy")
    return 1


def _garbage_header(cache_dir, shard):
    data = bytearray(shard.read_bytes())
    data[14:20] = b"\xff" * 6
    shard.write_bytes(bytes(data))
    return 3


# damage -> (how, what the warning says); ``how`` returns the entries it spoils
DAMAGE = {
    "flipped payload bytes": (_flip_payload_byte, r"checksum"),
    "truncated": (_truncate, r"unreadable"),
    "empty": (_empty, r"unreadable"),
    "an .npy array of the wrong shape": (_npy_of_wrong_shape, r"checksum|names row"),
    "float64 rows": (_float64_shard, r"float64"),
    "NaN values": (_nan_payload, r"NaN"),
    "the entry of another input": (_entry_of_another_key, r"checksum"),
    "an index entry past the shard's end": (_row_out_of_range, r"names row 7"),
    "an index entry naming another file": (
        _entry_naming_another_file,
        r"not a shard",
    ),
    "a garbled header": (_garbage_header, r"unreadable"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_entry_is_reembedded_rewritten_and_named(
    damage, counting_encoder, tmp_path
):
    images = random_images(3)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    (shard,) = _shards(tmp_path)
    spoil, reason = DAMAGE[damage]
    n_spoiled = spoil(tmp_path, shard)
    named = "outside.npy" if "another file" in damage else shard.name
    CountingEncoder.calls.clear()
    with pytest.warns(CacheEntryWarning, match=rf"{named}.*({reason})"):
        again = _extractor(counting_encoder, tmp_path).transform(images)
    # Re-embedded alone rather than in a batch of 3: equal up to float32 rounding.
    np.testing.assert_allclose(again, expected, rtol=1e-6, atol=1e-6)
    assert sum(CountingEncoder.calls) == n_spoiled  # only the damaged entries
    CountingEncoder.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)  # rewritten: sound now
        np.testing.assert_array_equal(
            _extractor(counting_encoder, tmp_path).transform(images), again
        )
    assert CountingEncoder.calls == []


def test_an_unreadable_shard_is_a_miss(counting_encoder, tmp_path):
    images = random_images(2)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    (target,) = _shards(tmp_path)
    target.unlink()
    target.mkdir()  # reading a folder fails with an OSError
    digests = [entry[0] for entry in _entries(tmp_path)]
    with EmbeddingStore(tmp_path, "unused", {}) as store:
        store.fingerprint = _fingerprint(tmp_path)
        with pytest.warns(CacheEntryWarning, match="unreadable"):
            assert store.load_many(digests) == [None, None]
    target.rmdir()
    with pytest.warns(CacheEntryWarning, match="No such file"):
        again = _extractor(counting_encoder, tmp_path).transform(images)
    np.testing.assert_allclose(
        again,
        expected,
        rtol=1e-6,
        atol=1e-6,
    )


def _fingerprint(cache_dir):
    with contextlib.closing(_index(cache_dir)) as index:
        ((fingerprint,),) = index.execute("SELECT DISTINCT fingerprint FROM entries")
    return fingerprint


def test_a_damaged_index_is_moved_aside_named_and_rebuilt(counting_encoder, tmp_path):
    images = random_images(3)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    (tmp_path / "index.sqlite3").write_bytes(b"not a database" * 100)
    CountingEncoder.calls.clear()
    with pytest.warns(CacheEntryWarning, match=r"index\.sqlite3.*moved to"):
        again = _extractor(counting_encoder, tmp_path).transform(images)
    np.testing.assert_allclose(again, expected, rtol=1e-6, atol=1e-6)
    assert sum(CountingEncoder.calls) == 3
    assert list(tmp_path.glob("index.sqlite3.damaged-*"))
    CountingEncoder.calls.clear()
    _extractor(counting_encoder, tmp_path).transform(images)
    assert CountingEncoder.calls == []


PREPROCESS_V1 = """
import numpy as np, torch
def prepare(image):
    grey = image.convert("L").resize((8, 8))
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)
"""
PREPROCESS_V2 = PREPROCESS_V1.replace("/ 255.0)", "/ 255.0 * 2.0)")


def test_editing_the_preprocess_code_changes_the_key(counting_encoder, tmp_path):
    """The old key hashed a function by module and name only: an edited body
    brought the old embeddings back."""
    module_dir = tmp_path / "user_code"
    module_dir.mkdir()
    (module_dir / "user_preprocess.py").write_text(PREPROCESS_V1)
    sys.path.insert(0, str(module_dir))
    try:
        import user_preprocess

        images = random_images(3)
        cache = tmp_path / "cache"
        first = _extractor(counting_encoder, cache, user_preprocess.prepare).transform(
            images
        )
        (module_dir / "user_preprocess.py").write_text(PREPROCESS_V2)
        importlib.invalidate_caches()
        importlib.reload(user_preprocess)
        CountingEncoder.calls.clear()
        second = _extractor(counting_encoder, cache, user_preprocess.prepare).transform(
            images
        )
    finally:
        sys.path.remove(str(module_dir))
        sys.modules.pop("user_preprocess", None)
    assert sum(CountingEncoder.calls) == 3
    np.testing.assert_allclose(second, 2 * first, rtol=1e-5)


def test_a_closure_value_is_part_of_the_key(counting_encoder, tmp_path):
    def scaled(factor):
        return lambda image: thumbnail(image) * factor

    images = random_images(2)
    one = _extractor(counting_encoder, tmp_path, scaled(1.0)).transform(images)
    three = _extractor(counting_encoder, tmp_path, scaled(3.0)).transform(images)
    np.testing.assert_allclose(three, 3 * one, rtol=1e-5)


def test_a_transform_object_is_keyed_by_its_parameters(counting_encoder, tmp_path):
    transforms = pytest.importorskip("torchvision.transforms")

    def pipeline(interpolation):
        return transforms.Compose(
            [
                transforms.Grayscale(),
                transforms.Resize((8, 8), interpolation=interpolation),
                transforms.ToTensor(),
            ]
        )

    modes = transforms.InterpolationMode

    images = random_images(2)
    _extractor(counting_encoder, tmp_path, pipeline(modes.BILINEAR)).transform(images)
    CountingEncoder.calls.clear()
    _extractor(counting_encoder, tmp_path, pipeline(modes.BILINEAR)).transform(images)
    assert CountingEncoder.calls == []  # an equal pipeline hits
    _extractor(counting_encoder, tmp_path, pipeline(modes.NEAREST)).transform(images)
    assert sum(CountingEncoder.calls) == 2  # another parameter misses


def test_a_file_as_cache_dir_is_refused_before_embedding(counting_encoder, tmp_path):
    file = tmp_path / "cache.txt"
    file.write_text("not a folder")
    for cache_dir in (file, file / "sub"):
        with pytest.raises(NotADirectoryError, match=r"cache_dir .*cache.txt.*folder"):
            _extractor(counting_encoder, cache_dir).transform(random_images(1))
    assert CountingEncoder.calls == []


# --- faults: killed writers, concurrent processes -------------------------------

KILLED_WRITER = """
import sys, numpy as np
from skalign.extract._store import EmbeddingStore
from skalign import _files

def dump_half_then_hang(handle, _original=None):
    handle.write(b"\\x93NUMPY" + b"x" * 10)
    handle.flush()
    print("writing", flush=True)
    import time
    time.sleep(60)

with EmbeddingStore(sys.argv[1], "model", {"model": "m"}) as store:
    store.store_many(["aa00"], np.ones((1, 4), np.float32))  # one sound entry
_files_write = _files.atomic_write
import skalign.extract._store as module
module.atomic_write = lambda path, dump: _files_write(path, dump_half_then_hang)
with EmbeddingStore(sys.argv[1], "model", {"model": "m"}) as store:
    store.store_many(["bb11"], np.ones((1, 4), np.float32))
"""


def test_a_writer_killed_mid_write_leaves_no_entry(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "writing"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partials = list(tmp_path.rglob(".tmp-*"))
    assert partials  # the killed writer's temporary file is left behind...
    with EmbeddingStore(tmp_path, "model", {"model": "m"}) as store:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheEntryWarning)
            sound, missing = store.load_many(["aa00", "bb11"])
        np.testing.assert_array_equal(sound, np.ones(4, np.float32))
        assert missing is None  # ...but never read as an entry
        store.store_many(["bb11"], np.full((1, 4), 2.0, np.float32))
    with EmbeddingStore(tmp_path, "model", {"model": "m"}) as store:
        np.testing.assert_array_equal(store.load_many(["bb11"])[0], np.full(4, 2.0))


def test_a_partial_temporary_file_is_ignored(counting_encoder, tmp_path):
    images = random_images(2)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    (shard,) = _shards(tmp_path)
    (shard.parent / ".tmp-abc.partial").write_bytes(shard.read_bytes()[:7])
    CountingEncoder.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        again = _extractor(counting_encoder, tmp_path).transform(images)
    np.testing.assert_array_equal(again, expected)
    assert CountingEncoder.calls == []


def _embed_in_process(cache_dir, seed, queue, shard_bytes=None):
    if shard_bytes is not None:
        from skalign.extract import _store

        _store.SHARD_BYTES = shard_bytes
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        extractor = _extractor(CountingEncoder(), cache_dir)
        result = extractor.set_params(batch_size=2).transform(
            random_images(12, seed=seed)
        )
    queue.put(result)


def test_two_processes_sharing_one_cache_folder(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_embed_in_process, args=(tmp_path, 0, queue))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    np.testing.assert_array_equal(results[0], results[1])
    assert not list(tmp_path.rglob(".tmp-*"))
    assert len(_entries(tmp_path)) == 12
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)  # every entry is sound
        again = _extractor(CountingEncoder(), tmp_path).transform(
            random_images(12, seed=0)
        )
    np.testing.assert_array_equal(again, results[0])


def test_two_processes_writing_different_inputs_at_once_both_land(tmp_path):
    """Each process writes a shard per batch of 2 (6 index transactions each,
    interleaved); every row of both lands, sound."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_embed_in_process, args=(tmp_path, seed, queue, 1))
        for seed in (0, 1)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(_entries(tmp_path)) == 24
    assert len(_shards(tmp_path)) == 12
    CountingEncoder.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        both = _extractor(CountingEncoder(), tmp_path).transform(
            random_images(12, seed=0) + random_images(12, seed=1)
        )
    assert CountingEncoder.calls == []  # nothing re-embedded
    expected = {
        seed: _extractor(CountingEncoder(), None).transform(
            random_images(12, seed=seed)
        )
        for seed in (0, 1)
    }
    np.testing.assert_allclose(
        both, np.vstack([expected[0], expected[1]]), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_array_equal(
        np.sort(both, axis=0), np.sort(np.vstack(results), axis=0)
    )
