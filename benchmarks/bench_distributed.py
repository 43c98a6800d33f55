"""Throughput of embed_distributed with 1 and 2 Dask workers on this machine.

Embeds real sentences (:func:`skalign.datasets.load_docstring_topics`) with
the packaged all-MiniLM-L6-v2 and reports items/s (median of repeats) for:

- the plain single-process ``EmbeddingExtractor.transform``, with torch's
  default thread count and with one thread (one worker's share);
- ``embed_distributed`` on a ``LocalCluster`` of 1 and of 2 worker processes
  with one thread each (``threads_per_worker=1``, one torch/BLAS thread).

Each distributed repeat writes into a fresh output folder, so every partition
is embedded (nothing is skipped); it includes scheduling, the parquet writes
and reading the result back. Workers load the model before the timing starts.
Ratios are against 1 worker, from the same run.

Run::

    HF_HUB_OFFLINE=1 python benchmarks/bench_distributed.py [--quick]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from skalign.datasets import load_docstring_topics  # noqa: E402
from skalign.extract import EmbeddingExtractor, embed_distributed  # noqa: E402

MODEL = "all-minilm-l6-v2"
ONE_THREAD = dict.fromkeys(
    ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"
)


def median_seconds(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain(extractor, texts, repeats, threads):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        extractor.transform(texts[:64])  # load the model
        return median_seconds(lambda: extractor.transform(texts), repeats)
    finally:
        torch.set_num_threads(previous)


def _load_model(extractor):
    extractor.transform(["warm up"])


def on_cluster(extractor, texts, repeats, n_workers, partition_size):
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=ONE_THREAD,
        ) as cluster,
        Client(cluster) as client,
        tempfile.TemporaryDirectory() as folder,
    ):
        client.wait_for_workers(n_workers)
        client.run(_load_model, extractor)  # untimed: on every worker
        runs = iter(range(repeats))
        return median_seconds(
            lambda: embed_distributed(
                extractor,
                texts,
                os.path.join(folder, f"run-{next(runs)}"),
                partition_size=partition_size,
            ),
            repeats,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts, repeats")
    parser.add_argument(
        "--partition-size",
        type=int,
        default=64,
        help="texts per task (a multiple of the batch size, 32, wastes no batch)",
    )
    args = parser.parse_args()
    n_per_topic, repeats = (60, 2) if args.quick else (200, 3)
    texts = list(load_docstring_topics(n_per_topic).texts)
    partition_size = args.partition_size
    extractor = EmbeddingExtractor(MODEL)
    print(
        f"{MODEL}: {len(texts)} texts, partitions of {partition_size}, "
        f"median of {repeats}, {os.cpu_count()} CPU cores"
    )
    default_threads = torch.get_num_threads()
    seconds = {
        f"single process, {default_threads} torch threads": plain(
            extractor, texts, repeats, default_threads
        ),
        "single process, 1 torch thread": plain(extractor, texts, repeats, 1),
    }
    for n_workers in (1, 2):
        seconds[f"dask, {n_workers} worker(s) x 1 thread"] = on_cluster(
            extractor, texts, repeats, n_workers, partition_size
        )
    one_worker = seconds["dask, 1 worker(s) x 1 thread"]
    print(f"{'configuration':<40} {'items/s':>9} {'vs 1 worker':>12}")
    for name, elapsed in seconds.items():
        print(f"{name:<40} {len(texts) / elapsed:9.1f} {one_worker / elapsed:11.2f}x")


if __name__ == "__main__":
    main()
