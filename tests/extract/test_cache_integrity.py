"""The embedding cache never hands back a damaged, stale or misplaced entry.

Every damaged entry is a miss: embedded again, rewritten, and reported by a
warning naming its file. Also: writers killed mid-write, and two processes
sharing one cache folder.
"""

import importlib
import multiprocessing
import os
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor, _store
from skalign.extract._store import CacheEntryWarning, EmbeddingCache, encode_entry
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _extractor(encoder, cache_dir, preprocess=thumbnail):
    # memoize=False: these tests read the disk cache, not the in-process memo
    return EmbeddingExtractor(
        encoder, preprocess=preprocess, cache_dir=cache_dir, memoize=False
    )


def _entries(cache_dir):
    return sorted(cache_dir.rglob("*.emb"))


def _flip_payload_byte(path):
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-5])


def _empty(path):
    path.write_bytes(b"")


def _npy_of_wrong_shape(path):
    with open(path, "wb") as handle:
        np.save(handle, np.ones((1, 10), dtype=np.float32))


def _nan_payload(path):
    digest, fingerprint = path.stem, path.parent.parent.name
    path.write_bytes(encode_entry(np.full(6, np.nan, np.float32), digest, fingerprint))


def _entry_of_another_key(path):
    other = next(p for p in _entries(path.parents[2]) if p != path)
    path.write_bytes(other.read_bytes())


def _wrong_shape_in_header(path):
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"shape": [6]', b'"shape": [5]'))


def _garbage_header(path):
    data = bytearray(path.read_bytes())
    data[14:20] = b"\xff" * 6
    path.write_bytes(bytes(data))


DAMAGE = {
    "flipped payload bytes": (_flip_payload_byte, r"checksum"),
    "truncated": (_truncate, r"payload bytes|checksum"),
    "empty": (_empty, r"unknown format or truncated"),
    "an .npy array of the wrong shape": (_npy_of_wrong_shape, r"not a skalign cache"),
    "NaN values": (_nan_payload, r"NaN"),
    "the entry of another input": (_entry_of_another_key, r"written for key"),
    "a shape that does not match the payload": (_wrong_shape_in_header, r"shape"),
    "a garbled header": (_garbage_header, r"header|written for|payload"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_entry_is_reembedded_rewritten_and_named(
    damage, counting_encoder, tmp_path
):
    images = random_images(3)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    _store.clear_memory()
    target = _entries(tmp_path)[0]
    spoil, reason = DAMAGE[damage]
    spoil(target)
    CountingEncoder.calls.clear()
    with pytest.warns(CacheEntryWarning, match=rf"{target.name}.*({reason})"):
        again = _extractor(counting_encoder, tmp_path).transform(images)
    # Re-embedded alone rather than in a batch of 3: equal up to float32 rounding.
    np.testing.assert_allclose(again, expected, rtol=1e-6, atol=1e-6)
    assert sum(CountingEncoder.calls) == 1  # only the damaged entry
    _store.clear_memory()
    CountingEncoder.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)  # rewritten: sound now
        np.testing.assert_array_equal(
            _extractor(counting_encoder, tmp_path).transform(images), again
        )
    assert CountingEncoder.calls == []


def test_an_unreadable_entry_is_a_miss(counting_encoder, tmp_path):
    images = random_images(2)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    _store.clear_memory()
    target = _entries(tmp_path)[0]
    target.unlink()
    target.mkdir()  # reading a folder fails with an OSError
    store = EmbeddingCache(tmp_path, target.parent.parent.name, {})
    with pytest.warns(CacheEntryWarning, match="unreadable"):
        assert store.load_many([target.stem]) == [None]
    target.rmdir()
    np.testing.assert_allclose(
        _extractor(counting_encoder, tmp_path).transform(images),
        expected,
        rtol=1e-6,
        atol=1e-6,
    )


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
import os, sys, numpy as np
from skalign.extract._store import EmbeddingCache
from skalign import _files

def dump_half_then_hang(handle, _original=None):
    handle.write(b"SKALEMB1" + b"x" * 10)
    handle.flush()
    print("writing", flush=True)
    import time
    time.sleep(60)

cache = EmbeddingCache(sys.argv[1], "model", {"model": "m"})
cache.store_many(["aa00"], np.ones((1, 4), np.float32))  # one sound entry
_files_write = _files.atomic_write
import skalign.extract._store as module
module.atomic_write = lambda path, dump: _files_write(path, dump_half_then_hang)
cache.store_many(["bb11"], np.ones((1, 4), np.float32))
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
    _store.clear_memory()
    store = EmbeddingCache(tmp_path, "model", {"model": "m"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        sound, missing = store.load_many(["aa00", "bb11"])
    np.testing.assert_array_equal(sound, np.ones(4, np.float32))
    assert missing is None  # ...but never read as an entry
    store.store_many(["bb11"], np.full((1, 4), 2.0, np.float32))
    _store.clear_memory()
    np.testing.assert_array_equal(store.load_many(["bb11"])[0], np.full(4, 2.0))


def test_a_partial_temporary_file_is_ignored(counting_encoder, tmp_path):
    images = random_images(2)
    expected = _extractor(counting_encoder, tmp_path).transform(images)
    entry = _entries(tmp_path)[0]
    (entry.parent / ".tmp-abc.partial").write_bytes(entry.read_bytes()[:7])
    _store.clear_memory()
    CountingEncoder.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        again = _extractor(counting_encoder, tmp_path).transform(images)
    np.testing.assert_array_equal(again, expected)
    assert CountingEncoder.calls == []


def _embed_in_process(cache_dir, seed, queue):
    from skalign.extract._store import clear_memory

    clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)
        extractor = _extractor(CountingEncoder(), cache_dir)
        result = extractor.set_params(batch_size=2).transform(random_images(12, seed=seed))
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
    _store.clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)  # every entry is sound
        again = _extractor(CountingEncoder(), tmp_path).transform(random_images(12, seed=0))
    np.testing.assert_array_equal(again, results[0])
