"""Translate 1M x 768 embeddings in chunks: throughput and peak memory.

Streams a float32 memory-mapped file of 1,000,000 x 768 source embeddings
through a fitted :class:`skalign.LatentAligner` into a memory-mapped output,
chunk by chunk (:func:`sklearn.utils.gen_batches`), and compares it in the same
run with the floor: the bare ``np.matmul(chunk, W, out=...)`` plus bias on the
same chunks. Peak memory is traced with :mod:`tracemalloc` (NumPy reports its
allocations there) and must scale with the chunk, not with the 1M rows.

Run: ``python benchmarks/bench_transform.py`` (about 1-2 minutes on 2 cores and
3 GB of temporary disk); ``--rows 100000`` for a quicker run.
"""

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.utils import gen_batches

from skalign import LatentAligner

SOURCE_DIM, TARGET_DIM = 768, 384


def write_source(path, n_rows, chunk=100_000):
    """A float32 .npy memory map of n_rows x 768 standard-normal embeddings."""
    rng = np.random.default_rng(0)
    source = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_rows, SOURCE_DIM)
    )
    for batch in gen_batches(n_rows, chunk):
        source[batch] = rng.standard_normal(
            (batch.stop - batch.start, SOURCE_DIM), dtype=np.float32
        )
    source.flush()
    return np.load(path, mmap_mode="r")


def run_chunked(translate, source, out, chunk_size):
    """Return (seconds, peak traced bytes) of translating ``source`` into ``out``."""
    tracemalloc.start()
    start = time.perf_counter()
    for batch in gen_batches(len(source), chunk_size):
        out[batch] = translate(source[batch])
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, nargs="+", default=[16_384, 131_072])
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    anchors_x = rng.normal(size=(2500, SOURCE_DIM)).astype(np.float32)
    anchors_y = (anchors_x @ rng.normal(size=(SOURCE_DIM, TARGET_DIM))).astype(
        np.float32
    )
    aligner = LatentAligner("ortho").fit(anchors_x, anchors_y)
    weights = np.asarray(aligner._weights, dtype=np.float32)
    bias = np.asarray(aligner._bias, dtype=np.float32)

    def floor(chunk):
        result = np.matmul(chunk, weights)
        result += bias
        return result

    with tempfile.TemporaryDirectory() as tmp:
        source = write_source(Path(tmp) / "source.npy", args.rows)
        out = np.lib.format.open_memmap(
            Path(tmp) / "out.npy",
            mode="w+",
            dtype=np.float32,
            shape=(args.rows, TARGET_DIM),
        )
        np.testing.assert_allclose(
            aligner.transform(source[:1000]), floor(source[:1000]), rtol=1e-6
        )
        full_bytes = args.rows * TARGET_DIM * 4
        print(
            f"\n## Translate {args.rows:,} x {SOURCE_DIM} float32 -> {TARGET_DIM} "
            f"in chunks (output {full_bytes / 2**20:,.0f} MiB if held at once)"
        )
        header = (
            f"{'chunk rows':>10} {'skalign rows/s':>15} {'floor rows/s':>13} "
            f"{'skalign/floor time':>19} {'peak MiB':>9} {'chunk out MiB':>14}"
        )
        print(header)
        print("-" * len(header))
        run_chunked(aligner.transform, source, out, args.chunks[0])  # warm cache
        for chunk_size in args.chunks:
            ours, peak = run_chunked(aligner.transform, source, out, chunk_size)
            base, _ = run_chunked(floor, source, out, chunk_size)
            chunk_mib = chunk_size * TARGET_DIM * 4 / 2**20
            print(
                f"{chunk_size:>10,} {args.rows / ours:>15,.0f} "
                f"{args.rows / base:>13,.0f} {ours / base:>18.2f}x "
                f"{peak / 2**20:>9.1f} {chunk_mib:>14.1f}"
            )
        del out, source


if __name__ == "__main__":
    main()
