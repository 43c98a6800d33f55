"""Fit time and peak memory against the number of anchors (issue 18).

Synthetic float32 anchors (``_common.embeddings``-like: shared latent, own
noise) are written once to ``.npy`` files; every case runs in its own process
so that peak memory is that case's alone. Inputs are loaded whole for the
in-memory rows, memory-mapped (``np.load(mmap_mode="r")``) for the ``mmap``
rows, and read block by block by two Dask worker processes for the ``dask``
row. Printed per case: fit time, its ratio to the BLAS floor (one chunked
float32 pass computing ``XᵀX`` and ``XᵀY``, over the same arrays, in the same
process), the peak of Python-traced allocations during the fit
(``tracemalloc``: NumPy's buffers, not the memory map's pages) and the
process's peak RSS, both against the inputs' size and the target bound
"inputs + 2 d² float64 + one chunk".

Targets: peak allocations of the fit at most 2 d² float64 + one chunk (so
100k x 768 fits in well under 1 GiB beside its inputs); 1M x 768 fitted from
memory-mapped files on 2 cores / 24 GB; time linear in n; ratio to the floor
near 1.

Run: ``python benchmarks/bench_scaling.py`` (quick: ``--quick``, 10k and
100k only). Files go to ``--data-dir`` (default ``.skalign-cache/scaling``;
1M x 768 needs 6 GB of disk).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    # (n, d, mode, transform)
    (10_000, 768, "memory", "ortho"),
    (10_000, 768, "memory", "affine"),
    (100_000, 768, "memory", "ortho"),
    (100_000, 768, "memory", "affine"),
    (100_000, 768, "memory", "affine-auto"),
    (10_000, 4096, "memory", "affine"),
    (100_000, 4096, "mmap", "affine"),
    (100_000, 768, "dask", "affine"),
    (1_000_000, 768, "mmap", "ortho"),
    (1_000_000, 768, "mmap", "affine"),
]
QUICK = {(10_000, 768), (100_000, 768), (10_000, 4096)}
GIB = 2**30


def write_anchors(path_x, path_y, n, d, seed=0, block=50_000):
    """Two float32 views of one latent, written block by block to .npy files."""
    rng = np.random.default_rng(seed)
    mix_x = rng.normal(size=(64, d)).astype(np.float32)
    mix_y = rng.normal(size=(64, d)).astype(np.float32)
    weights = np.linspace(3, 0.1, 64, dtype=np.float32)
    X = np.lib.format.open_memmap(path_x, mode="w+", dtype=np.float32, shape=(n, d))
    Y = np.lib.format.open_memmap(path_y, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, block):
        rows = min(block, n - start)
        latent = rng.normal(size=(rows, 64)).astype(np.float32) * weights
        X[start : start + rows] = latent @ mix_x + rng.normal(size=(rows, d))
        Y[start : start + rows] = latent @ mix_y + rng.normal(size=(rows, d)) + 1.0
    X.flush()
    Y.flush()
    del X, Y


def data_files(data_dir, n, d):
    path_x = data_dir / f"x_{n}_{d}.npy"
    path_y = data_dir / f"y_{n}_{d}.npy"
    if not (path_x.exists() and path_y.exists()):
        write_anchors(path_x, path_y, n, d)
    return path_x, path_y


def blas_floor(X, Y, rows=65_536):
    """One chunked float32 pass of ``XᵀX`` and ``XᵀY`` (the products a fit needs)."""
    start = time.perf_counter()
    for begin in range(0, X.shape[0], rows):
        Xc, Yc = (
            np.asarray(X[begin : begin + rows]),
            np.asarray(Y[begin : begin + rows]),
        )
        Xc.T @ Xc
        Xc.T @ Yc
    return time.perf_counter() - start


def load_block(path, start, stop):
    return np.asarray(np.load(path, mmap_mode="r")[start:stop])


def run_case(n, d, mode, transform, data_dir):
    """One case, in this process: returns a dict of measurements."""
    from skalign import LatentAligner

    path_x, path_y = data_files(data_dir, n, d)
    transform_type, _, alpha = transform.partition("-")
    aligner = LatentAligner(transform_type, alpha=alpha or 0.0)
    if mode == "dask":
        import dask
        import dask.array as da
        import distributed

        block = 20_000
        starts = range(0, n, block)

        def lazy(path):
            return da.concatenate(
                [
                    da.from_delayed(
                        dask.delayed(load_block)(str(path), s, min(s + block, n)),
                        shape=(min(s + block, n) - s, d),
                        dtype=np.float32,
                    )
                    for s in starts
                ]
            )

        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster),
        ):
            X, Y = lazy(path_x), lazy(path_y)
            aligner.fit(X[:block], Y[:block])  # warm the workers
            start = time.perf_counter()
            aligner.fit(X, Y)
            seconds = time.perf_counter() - start
        return dict(
            seconds=seconds,
            floor=float("nan"),
            traced=float("nan"),
            maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )
    mmap_mode = "r" if mode == "mmap" else None
    X, Y = np.load(path_x, mmap_mode=mmap_mode), np.load(path_y, mmap_mode=mmap_mode)
    floor = blas_floor(X, Y)
    tracemalloc.start()
    start = time.perf_counter()
    aligner.fit(X, Y)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(seconds=seconds, floor=floor, traced=traced, maxrss=maxrss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".skalign-cache" / "scaling"
    )
    parser.add_argument("--n", type=int, nargs="+", help="only these anchor counts")
    parser.add_argument("--transform", nargs="+", help="only these transforms")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        n, d, mode, transform = json.loads(args.case)
        print(json.dumps(run_case(n, d, mode, transform, args.data_dir)))
        return
    args.data_dir.mkdir(parents=True, exist_ok=True)
    cases = [
        c
        for c in CASES
        if (not args.quick or (c[0], c[1]) in QUICK)
        and (args.n is None or c[0] in args.n)
        and (args.transform is None or c[3] in args.transform)
    ]
    print("\n## Fit time and memory vs anchors (float32, d -> d, one process per case)")
    header = (
        f"{'n':>9} {'d':>5} {'input':>7} {'transform':>12} {'fit s':>7} "
        f"{'floor s':>7} {'/floor':>6} {'traced GiB':>10} {'bound GiB':>9} "
        f"{'inputs GiB':>10} {'peak RSS GiB':>12}"
    )
    print(header)
    print("-" * len(header))
    for n, d, mode, transform in cases:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--data-dir",
                str(args.data_dir),
                "--case",
                json.dumps([n, d, mode, transform]),
            ],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
        if out.returncode != 0:
            print(
                f"{n:>9} {d:>5} {mode:>7} {transform:>12}  failed: {out.stderr[-300:]}"
            )
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        inputs = 2 * n * d * 4
        chunk = max(1024, 64 * 2**20 // (8 * d)) * 2 * d * 4
        bound = 2 * d * d * 8 + chunk
        print(
            f"{n:>9} {d:>5} {mode:>7} {transform:>12} {row['seconds']:7.2f} "
            f"{row['floor']:7.2f} {row['seconds'] / row['floor']:5.2f}x "
            f"{row['traced'] / GIB:10.3f} {bound / GIB:9.3f} {inputs / GIB:10.2f} "
            f"{row['maxrss'] / GIB:12.2f}"
        )


if __name__ == "__main__":
    main()
