"""The embedding store (``EmbeddingExtractor(cache_dir=...)``): cost and files.

Part 1, a real packaged model (``paraphrase-minilm-l3``, ONNX, 384-d, CPU):
the same extraction of ``--n`` distinct sentences without a cache, into an
empty cache (cold) and from a filled one (warm), interleaved ``--repeats``
times in one process, ``memoize=False`` so that the disk is read. Reports the
medians and the ratios against the extraction without a cache.

Part 2, the storage candidates at ``--entries`` x 384 float32 rows written in
batches of 32 (what the extractor hands the store) and read back in one call:

- ``npy shards + sqlite index`` (the store skalign uses);
- ``sqlite blobs``: every row a BLOB in one SQLite table (one file, no memory
  map);
- ``one file per entry``: the former layout (header + payload per file).

Targets (issue 25): cold <= 1.3x, warm <= 1.0x the extraction without a cache,
<= 64 files per 20,000 entries.

Run::

    HF_HUB_OFFLINE=1 python benchmarks/bench_store.py [--n 2000] [--entries 20000]
"""

import argparse
import contextlib
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from skalign._files import atomic_write  # noqa: E402
from skalign.extract import EmbeddingExtractor  # noqa: E402
from skalign.extract._store import (  # noqa: E402
    EmbeddingStore,
    decode_entry,
    encode_entry,
)

WIDTH = 384
BATCH = 32


def sentences(n, seed=0):
    """``n`` distinct short sentences of common words."""
    words = (
        "the a patient image shows no mild severe left right lung heart chest "
        "effusion opacity normal size stable since prior study with without "
        "small large new old lower upper lobe zone clear sharp border signs"
    ).split()
    rng = np.random.default_rng(seed)
    out = set()
    while len(out) < n:
        out.add(" ".join(rng.choice(words, size=rng.integers(6, 14))) + ".")
    return sorted(out)


def part_extraction(n, repeats):
    texts = sentences(n)
    plain = EmbeddingExtractor(
        "paraphrase-minilm-l3", memoize=False, show_progress=False
    )
    plain.transform(texts[:8])  # load the model once
    times = {"no cache": [], "cold": [], "warm": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            cached = EmbeddingExtractor(
                "paraphrase-minilm-l3",
                memoize=False,
                show_progress=False,
                cache_dir=folder,
            )
            start = time.perf_counter()
            reference = plain.transform(texts)
            times["no cache"].append(time.perf_counter() - start)
            start = time.perf_counter()
            cold = cached.transform(texts)
            times["cold"].append(time.perf_counter() - start)
            start = time.perf_counter()
            warm = cached.transform(texts)
            times["warm"].append(time.perf_counter() - start)
            n_files = sum(1 for p in Path(folder).rglob("*") if p.is_file())
        np.testing.assert_array_equal(cold, reference)
        np.testing.assert_array_equal(warm, reference)
    base = statistics.median(times["no cache"])
    print(f"\n## Extraction of {n} sentences, paraphrase-minilm-l3 (ONNX, CPU)\n")
    print("| run | median s | x no cache | target |")
    print("|---|---|---|---|")
    targets = {"no cache": "", "cold": "<= 1.3x", "warm": "<= 1.0x"}
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {median / base:.2f}x | {targets[name]} |")
    print(f"\n({n_files} files in the cache folder after {n} entries)")


def write_shards(folder, digests, rows):
    with EmbeddingStore(folder, "f" * 32, {"model": "bench"}) as store:
        for start in range(0, len(digests), BATCH):
            store.store_many(
                digests[start : start + BATCH], rows[start : start + BATCH]
            )


def read_shards(folder, digests):
    with EmbeddingStore(folder, "f" * 32, {"model": "bench"}) as store:
        return np.stack(store.load_many(digests))


def write_blobs(folder, digests, rows):
    path = Path(folder) / "blobs.sqlite3"
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS rows (digest TEXT PRIMARY KEY, row BLOB) "
            "WITHOUT ROWID"
        )
        for start in range(0, len(digests), BATCH):
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO rows VALUES (?, ?)",
                    zip(
                        digests[start : start + BATCH],
                        (row.tobytes() for row in rows[start : start + BATCH]),
                        strict=True,
                    ),
                )


def read_blobs(folder, digests):
    path = Path(folder) / "blobs.sqlite3"
    found = {}
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            found.update(
                db.execute(
                    f"SELECT digest, row FROM rows WHERE digest IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
    return np.stack([np.frombuffer(found[d], dtype=np.float32) for d in digests])


def write_files(folder, digests, rows):
    root = Path(folder) / "f"
    for digest, row in zip(digests, rows, strict=True):
        path = root / digest[:2] / f"{digest}.emb"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = encode_entry(row, digest, "f")
        atomic_write(path, lambda handle, data=data: handle.write(data))


def read_files(folder, digests):
    root = Path(folder) / "f"
    return np.stack(
        [
            decode_entry((root / d[:2] / f"{d}.emb").read_bytes(), d, "f")
            for d in digests
        ]
    )


CANDIDATES = {
    "npy shards + sqlite index": (write_shards, read_shards),
    "sqlite blobs": (write_blobs, read_blobs),
    "one file per entry (former)": (write_files, read_files),
}


def part_candidates(n_entries, skip_former):
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((n_entries, WIDTH)).astype(np.float32)
    digests = [f"{i:032x}" for i in range(n_entries)]
    print(
        f"\n## Storage candidates, {n_entries} x {WIDTH} float32, batches of {BATCH}\n"
    )
    print("| candidate | write s | read s | files | MB on disk |")
    print("|---|---|---|---|---|")
    for name, (write, read) in CANDIDATES.items():
        if skip_former and "former" in name:
            continue
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            write(folder, digests, rows)
            written = time.perf_counter() - start
            start = time.perf_counter()
            back = read(folder, digests)
            elapsed = time.perf_counter() - start
            np.testing.assert_array_equal(back, rows)
            files = [p for p in Path(folder).rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files) / 2**20
            row = f"{written:.2f} | {elapsed:.2f} | {len(files)} | {size:.1f}"
            print(f"| {name} | {row} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences to embed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument(
        "--skip-former", action="store_true", help="skip the one-file-per-entry row"
    )
    args = parser.parse_args()
    part_extraction(args.n, args.repeats)
    part_candidates(args.entries, args.skip_former)


if __name__ == "__main__":
    main()
