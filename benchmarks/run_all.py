"""Run the benchmark suite in one command and print every ratio table.

Each benchmark runs in its own process, one after the other (so they never
compete for the two cores), with the packaged models offline. Every table is
a set of ratios measured within one script's run, so the figures compare
like with like even on a noisy machine.

The default suite is sized to run in well under 10 minutes on 2 cores: the
solver table keeps d = 4,096 (where the targets are set) but drops the square
1,024 and 4,096 cases, the latentis table keeps one case per anchor count
(latentis' 300 Adam steps at 2,500 x 4,096 -> 768 alone ran past 4 minutes
here), the grid search embeds 300 sentences and the fewer-anchors table
(self-learning, adapter, kernel) runs 10 / 25 / 400 anchors with one seed.
``--full`` runs every script at its own default size (over half an hour:
latentis at d = 4,096 dominates).

Run::

    python benchmarks/run_all.py            # the suite
    python benchmarks/run_all.py --full     # every script at full size
    python benchmarks/run_all.py --only solvers latentis
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (name, script, arguments of the default suite)
SUITE = [
    (
        "solvers",
        "bench_solvers.py",
        ["--shapes", "384x384", "768x768", "384x1024", "4096x768"],
    ),
    (
        "latentis",
        "bench_latentis.py",
        ["--cases", "500x1024x384", "2500x384x768", "10000x384x384"],
    ),
    ("transform", "bench_transform.py", []),
    ("extraction", "bench_extraction.py", ["--quick"]),
    ("gridsearch", "bench_gridsearch.py", ["--per-topic", "60"]),
    ("distributed", "bench_distributed.py", ["--quick"]),
    ("gpu", "bench_gpu.py", []),
    ("beyond", "bench_beyond.py", ["--quick"]),
    ("store", "bench_store.py", ["--n", "500", "--skip-former"]),
    (
        "retrieval",
        "bench_retrieval.py",
        ["--gallery", "100000", "--topk-gallery", "50000", "--topk-queries", "500"],
    ),
]


def run(script, arguments):
    """Run one benchmark script, streaming its output; return (seconds, rc)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(HERE / script), *arguments], cwd=HERE, env=env
    )
    return time.perf_counter() - start, completed.returncode


def main():
    names = [name for name, _, _ in SUITE]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="every script at its full size"
    )
    parser.add_argument("--only", nargs="+", choices=names, default=names)
    args = parser.parse_args()
    timings = []
    for name, script, arguments in SUITE:
        if name not in args.only:
            continue
        arguments = [] if args.full else arguments
        print(f"\n# {name}: {script} {' '.join(arguments)}".rstrip(), flush=True)
        seconds, returncode = run(script, arguments)
        timings.append((name, seconds, returncode))
    print("\n# suite")
    for name, seconds, returncode in timings:
        status = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        print(f"{name:>12} {seconds:8.1f} s  {status}")
    total = sum(seconds for _, seconds, _ in timings)
    print(f"{'total':>12} {total:8.1f} s")
    sys.exit(max((returncode for _, _, returncode in timings), default=0))


if __name__ == "__main__":
    main()
