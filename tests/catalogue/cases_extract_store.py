"""EmbeddingExtractor's on-disk store: damaged or foreign shards, a damaged,
missing or foreign index, odd cache folders, concurrent writers, the former
one-file-per-embedding layout."""

import os
import threading

import numpy as np

from skalign.extract import compact_embedding_cache
from skalign.extract._store import (
    CacheEntryWarning,
    OldCacheLayoutWarning,
    encode_entry,
    entry_checksum,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns
from tests.extract._catalogue_helpers import (
    IMAGES,
    Exploding,
    cached_once,
    counting,
    index_path,
    reference,
    rerun,
    shards,
    sql,
)

S = "extractor store"


def _recomputed(out):
    """``rerun``'s result: right values, and the model ran again."""
    result, n_embedded = out
    np.testing.assert_allclose(result, reference(), rtol=1e-6)
    assert n_embedded > 0, "nothing was embedded again"
    return True


def _served(out):
    """``rerun``'s result: right values, all from the store."""
    result, n_embedded = out
    np.testing.assert_allclose(result, reference(), rtol=1e-6)
    assert n_embedded == 0, f"{n_embedded} inputs embedded again"
    return True


def _damage_shard(tmp, damage):
    cached_once(tmp)
    (shard,) = shards(tmp)
    damage(shard)
    return rerun(tmp)


def _flip_bytes(shard):
    data = bytearray(shard.read_bytes())
    data[-10:-6] = bytes(b ^ 0x55 for b in data[-10:-6])
    shard.write_bytes(bytes(data))


def _truncate_header(shard):
    shard.write_bytes(shard.read_bytes()[:40])


def _planted_pickle(tmp):
    cached_once(tmp)
    (shard,) = shards(tmp)
    marker = tmp / "unpickled.txt"
    planted = np.empty((len(IMAGES), 6), dtype=object)
    planted[:] = Exploding(marker)
    with open(shard, "wb") as handle:
        np.save(handle, planted, allow_pickle=True)
    result = rerun(tmp)
    return result, marker.exists()


def _replace_with(array):
    def replace(shard):
        with open(shard, "wb") as handle:
            np.save(handle, array)

    return replace


def _matching_checksum_nan(tmp):
    """A shard rewritten with NaN rows and index checksums forged to match."""
    cached_once(tmp)
    (shard,) = shards(tmp)
    rows = np.full((len(IMAGES), 6), np.nan, dtype=np.float32)
    with open(shard, "wb") as handle:
        np.save(handle, rows)
    for digest, row in sql(tmp, "SELECT digest, row FROM entries"):
        sql(
            tmp,
            "UPDATE entries SET checksum = ? WHERE digest = ?",
            entry_checksum(digest, rows[row]),
            digest,
        )
    return rerun(tmp)


def _index_points_outside(tmp):
    cached_once(tmp)
    outside = tmp.parent / f"{tmp.name}-outside.npy"
    np.save(outside, np.zeros((len(IMAGES), 6), dtype=np.float32))
    sql(tmp, "UPDATE entries SET shard = ?", f"../../{outside.name}")
    return rerun(tmp)


def _index_row_out_of_range(tmp):
    cached_once(tmp)
    sql(tmp, "UPDATE entries SET row = row + 1000")
    return rerun(tmp)


def _index_deleted(tmp):
    cached_once(tmp)
    index_path(tmp).unlink()
    return rerun(tmp)


def _index_garbage(tmp):
    cached_once(tmp)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{index_path(tmp)}{suffix}"):
            os.remove(f"{index_path(tmp)}{suffix}")
    index_path(tmp).write_bytes(b"not a database" * 100)
    return rerun(tmp)


def _index_other_version(tmp):
    cached_once(tmp)
    sql(tmp, "UPDATE meta SET value = 'skalign-embedding-store-0' WHERE key='format'")
    return rerun(tmp)


def _index_missing_table(tmp):
    cached_once(tmp)
    sql(tmp, "DROP TABLE entries")
    return rerun(tmp)


def _index_is_a_folder(tmp):
    index_path(tmp).mkdir(parents=True)
    return counting(cache_dir=tmp).transform(IMAGES)


def _shards_is_a_file(tmp):
    tmp.mkdir(exist_ok=True)
    (tmp / "shards").write_text("not a folder")
    return counting(cache_dir=tmp).transform(IMAGES)


def _shard_deleted(tmp):
    cached_once(tmp)
    (shard,) = shards(tmp)
    shard.unlink()
    return rerun(tmp)


def _other_model_width(tmp):
    """Another model (8-d) writes the same folder: each gets its own rows."""
    from skalign.extract import EmbeddingExtractor
    from tests.extract._modules import CountingEncoder, thumbnail

    def wide():
        return EmbeddingExtractor(
            CountingEncoder(width=8), preprocess=thumbnail, cache_dir=tmp
        ).transform(IMAGES)

    first = wide()
    narrow = rerun(tmp)
    CountingEncoder.calls.clear()
    again = wide()
    return first, narrow, again, sum(CountingEncoder.calls)


def _concurrent_writers(tmp):
    results, errors = [None, None], []

    def run(slot):
        try:
            results[slot] = counting(cache_dir=tmp, memoize=False).transform(IMAGES)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results, rerun(tmp)


def _old_layout(tmp, damage=False):
    """A folder of the former layout: the extractor's key, one file per input."""
    extractor = counting()
    fingerprint, description = extractor.resolve().cache_key()
    from skalign.extract._inputs import KIND_ARRAY, content_digest

    folder = tmp / fingerprint
    (folder / "ab").mkdir(parents=True)
    (folder / "model.json").write_text("{}")
    rows = reference()
    for image, row in zip(IMAGES, rows, strict=True):
        digest = content_digest(image, KIND_ARRAY)
        data = encode_entry(row, digest, fingerprint)
        if damage:
            data = data[:-4]
        (folder / "ab" / f"{digest}.emb").write_bytes(data)
    return rerun(tmp)


def _old_layout_pickle(tmp):
    from tests.extract._catalogue_helpers import counting as make

    fingerprint, _ = make().resolve().cache_key()
    folder = tmp / fingerprint
    (folder / "ab").mkdir(parents=True)
    (folder / "model.json").write_text("{}")
    marker = tmp.parent / f"{tmp.name}-unpickled.txt"
    import pickle

    (folder / "ab" / ("0" * 40 + ".emb")).write_bytes(pickle.dumps(Exploding(marker)))
    result = rerun(tmp)
    return result, marker.exists()


def _home_cache(tmp):
    """cache_dir='~/emb-cache' with HOME=tmp: the store lands under HOME, not
    in a folder named '~' of the working directory."""
    home, cwd = tmp / "home", tmp / "cwd"
    home.mkdir()
    cwd.mkdir()
    saved_home, saved_cwd = os.environ.get("HOME"), os.getcwd()
    os.environ["HOME"] = str(home)
    os.chdir(cwd)
    try:
        counting(cache_dir="~/emb-cache").transform(IMAGES)
    finally:
        os.chdir(saved_cwd)
        if saved_home is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = saved_home
    return (home / "emb-cache" / "index.sqlite3").exists(), sorted(os.listdir(cwd))


def _compact_twice(tmp):
    for image in IMAGES:
        counting(cache_dir=tmp).transform([image])
    first = compact_embedding_cache(tmp)
    second = compact_embedding_cache(tmp)
    return first, second, rerun(tmp)


CASES = [
    Case(
        S,
        "a shard with flipped bytes",
        lambda tmp: _damage_shard(tmp, _flip_bytes),
        Warns(
            CacheEntryWarning, r"shards/.*\.npy.*checksum.*embedded again", _recomputed
        ),
    ),
    Case(
        S,
        "a shard truncated inside its .npy header",
        lambda tmp: _damage_shard(tmp, _truncate_header),
        Warns(
            CacheEntryWarning,
            r"shards/.*\.npy.*unreadable.*embedded again",
            _recomputed,
        ),
    ),
    Case(
        S,
        "a shard of 0 bytes",
        lambda tmp: _damage_shard(tmp, lambda shard: shard.write_bytes(b"")),
        Warns(
            CacheEntryWarning,
            r"shards/.*\.npy.*unreadable.*embedded again",
            _recomputed,
        ),
    ),
    Case(
        S,
        "a pickle planted as an object .npy shard is never unpickled",
        lambda tmp: _planted_pickle(tmp),
        Warns(
            CacheEntryWarning,
            r"shards/.*\.npy.*(pickle|object).*embedded again",
            lambda out: _recomputed(out[0]) and out[1] is False,
        ),
    ),
    Case(
        S,
        "a shard replaced by float64 rows of the same shape",
        lambda tmp: _damage_shard(
            tmp, _replace_with(np.zeros((len(IMAGES), 6), dtype=np.float64))
        ),
        Warns(
            CacheEntryWarning, r"shards/.*\.npy.*float64.*embedded again", _recomputed
        ),
    ),
    Case(
        S,
        "a shard replaced by float32 rows of another width",
        lambda tmp: _damage_shard(
            tmp, _replace_with(np.zeros((len(IMAGES), 9), dtype=np.float32))
        ),
        Warns(
            CacheEntryWarning, r"shards/.*\.npy.*checksum.*embedded again", _recomputed
        ),
    ),
    Case(
        S,
        "a shard replaced by 1-D float32 values",
        lambda tmp: _damage_shard(
            tmp, _replace_with(np.zeros(len(IMAGES) * 6, dtype=np.float32))
        ),
        Warns(CacheEntryWarning, r"shards/.*\.npy.*shape.*embedded again", _recomputed),
    ),
    Case(
        S,
        "NaN rows with forged matching checksums",
        lambda tmp: _matching_checksum_nan(tmp),
        Warns(CacheEntryWarning, r"shards/.*\.npy.*NaN.*embedded again", _recomputed),
    ),
    Case(
        S,
        "the index names a shard outside the store (../../x.npy)",
        lambda tmp: _index_points_outside(tmp),
        Warns(CacheEntryWarning, r"not a shard.*embedded again", _recomputed),
    ),
    Case(
        S,
        "index entries point at rows past the shard's end",
        lambda tmp: _index_row_out_of_range(tmp),
        Warns(
            CacheEntryWarning,
            r"shards/.*\.npy.*row 100\d of 4.*embedded again",
            _recomputed,
        ),
    ),
    Case(
        S,
        "index rows edited to text ('x') where a row number belongs",
        lambda tmp: (
            cached_once(tmp),
            sql(tmp, "UPDATE entries SET row = 'x'"),
            rerun(tmp),
        )[2],
        Warns(
            CacheEntryWarning, r"shards/.*\.npy.*row 'x'.*embedded again", _recomputed
        ),
    ),
    Case(
        S,
        "index shard names edited to a number",
        lambda tmp: (
            cached_once(tmp),
            sql(tmp, "UPDATE entries SET shard = 7"),
            rerun(tmp),
        )[2],
        Warns(CacheEntryWarning, r"not a shard.*embedded again", _recomputed),
    ),
    Case(
        S,
        "a shard deleted while the index names it",
        lambda tmp: _shard_deleted(tmp),
        Warns(
            CacheEntryWarning,
            r"shards/.*\.npy.*(No such file|unreadable).*embedded again",
            _recomputed,
        ),
    ),
    Case(
        S,
        "the index deleted, the shards left",
        lambda tmp: _index_deleted(tmp),
        Behaves(_recomputed),
    ),
    Case(
        S,
        "the index overwritten with garbage",
        lambda tmp: _index_garbage(tmp),
        Warns(
            CacheEntryWarning,
            r"damaged embedding store index .*index\.sqlite3.*moved",
            _recomputed,
        ),
    ),
    Case(
        S,
        "an index of another format version",
        lambda tmp: _index_other_version(tmp),
        Warns(
            CacheEntryWarning, r"index\.sqlite3.*(format|version).*moved", _recomputed
        ),
    ),
    Case(
        S,
        "an index whose entries table was dropped",
        lambda tmp: _index_missing_table(tmp),
        Warns(CacheEntryWarning, r"index\.sqlite3.*entries.*moved", _recomputed),
    ),
    Case(
        S,
        "index.sqlite3 is a folder",
        lambda tmp: _index_is_a_folder(tmp),
        Raises(
            (IsADirectoryError, ValueError),
            r"index\.sqlite3.*folder.*(remove|move|delete)",
        ),
    ),
    Case(
        S,
        "cache_dir/shards is a file",
        lambda tmp: _shards_is_a_file(tmp),
        Raises((NotADirectoryError, FileExistsError), r"shards.*file.*(remove|move)"),
    ),
    Case(
        S,
        "two models of different widths share one folder",
        lambda tmp: _other_model_width(tmp),
        Behaves(
            lambda out: (
                out[0].shape == (4, 8)
                and _recomputed(out[1])
                and np.array_equal(out[2], out[0])
                and out[3] == 0
            )
        ),
    ),
    Case(
        S,
        "two extractors write the same cache at once (threads)",
        lambda tmp: _concurrent_writers(tmp),
        Behaves(
            lambda out: (
                np.allclose(out[0][0], reference())
                and np.allclose(out[0][1], reference())
                and _served(out[1])
            )
        ),
    ),
    Case(
        S,
        "a folder of the former layout is migrated",
        lambda tmp: _old_layout(tmp),
        Warns(OldCacheLayoutWarning, r"former layout.*4 sound entries.*moved", _served),
    ),
    Case(
        S,
        "a folder of the former layout with truncated entries",
        lambda tmp: _old_layout(tmp, damage=True),
        Warns(CacheEntryWarning, r"\.emb.*(payload bytes|truncated)", _recomputed),
    ),
    Case(
        S,
        "a pickle planted as a former-layout entry is never unpickled",
        lambda tmp: _old_layout_pickle(tmp),
        Warns(
            CacheEntryWarning,
            r"\.emb.*not a skalign cache entry",
            lambda out: _recomputed(out[0]) and out[1] is False,
        ),
    ),
    Case(
        S,
        "compact_embedding_cache twice keeps every entry",
        lambda tmp: _compact_twice(tmp),
        Behaves(
            lambda out: (
                out[0]["entries"] == 4
                and out[1]
                == {"entries": 4, "migrated": 0, "shards_before": 1, "shards_after": 1}
                and _served(out[2])
            )
        ),
    ),
    Case(
        S,
        "cache_dir='~/emb-cache' expands to the home folder",
        lambda tmp: _home_cache(tmp),
        Behaves(lambda out: out == (True, [])),
    ),
    Case(
        S,
        "compact_embedding_cache on a damaged index",
        lambda tmp: (
            cached_once(tmp),
            index_path(tmp).write_bytes(b"garbage" * 50),
            compact_embedding_cache(tmp),
        )[2],
        Warns(
            CacheEntryWarning,
            r"damaged embedding store index.*index\.sqlite3.*moved",
            lambda summary: summary["entries"] == 0,
        ),
    ),
    Case(
        S,
        "compact_embedding_cache on a file",
        lambda tmp: (
            (tmp / "notes.txt").write_text("x"),
            compact_embedding_cache(tmp / "notes.txt"),
        ),
        Raises(NotADirectoryError, r"notes\.txt.*not a folder.*Pass the cache_dir"),
    ),
    Case(
        S,
        "compact_embedding_cache on a missing folder",
        lambda tmp: compact_embedding_cache(tmp / "nowhere"),
        Raises(NotADirectoryError, r"nowhere.*not a folder.*Pass the cache_dir"),
    ),
]
