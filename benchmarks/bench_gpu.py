"""The GPU path: fitting and translating torch tensors on CUDA, no host copies.

Runs only where ``torch.cuda.is_available()``; elsewhere it says so and exits.
Printed, each measured in the same run with CUDA synchronisation:

1. fit time of every transform on CUDA tensors (float32 anchors, float64
   factorisations) against the floor on the same device (one GEMM plus
   ``torch.linalg.svd`` / ``torch.linalg.eigh`` in float64) and against the
   call users reach for, ``torch.linalg.lstsq`` on padded float32 matrices
   (CUDA's ``gels`` driver, which assumes full rank: with fewer anchors than
   features its answer is wrong, shown by the held-out cosine column);
2. translation throughput of 1M x 768 float32 rows already on the GPU, in
   chunks, against a bare ``torch.addmm`` on the same chunks.

Run on a GPU machine: ``python benchmarks/bench_gpu.py``.
"""

import statistics
import time

import numpy as np
from _common import embeddings

from skalign import LatentAligner, fit_alignment
from skalign.metrics import mean_cosine_similarity

TRANSFORMS = ("ortho", "linear", "affine", "l-ortho")
CASES = [(2500, 768, 768), (2500, 4096, 768), (2500, 4096, 4096), (10000, 1024, 1024)]


def cuda_time(function, *args, repeats=5):
    import torch

    function(*args)
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floor(X, Y, transform_type):
    import torch

    X, Y = X.double(), Y.double()
    if transform_type == "ortho":
        return torch.linalg.svd(X.T @ Y, full_matrices=False)
    gram = X.T @ X if X.shape[0] >= X.shape[1] else X @ X.T
    return torch.linalg.eigh(gram)


def padded_lstsq(X, Y):
    import torch

    d = max(X.shape[1], Y.shape[1])
    Xp = torch.nn.functional.pad(X, (0, d - X.shape[1]))
    Yp = torch.nn.functional.pad(Y, (0, d - Y.shape[1]))
    return torch.linalg.lstsq(Xp, Yp).solution[: X.shape[1], : Y.shape[1]]


def fit_table(device):
    import torch

    print("\n## Fit on CUDA tensors (float32 in, float64 factorisations)")
    header = (
        f"{'anchors':>7} {'d1 -> d2':>12} {'transform':>9} {'skalign ms':>11} "
        f"{'floor ms':>9} {'skalign/floor':>14} {'lstsq(gels) ms':>15} "
        f"{'cos skalign':>12} {'cos gels':>9}"
    )
    print(header)
    print("-" * len(header))
    for n, d1, d2 in CASES:
        X, Y = (
            torch.as_tensor(a, dtype=torch.float32, device=device)
            for a in embeddings(n + 2000, d1, d2)
        )
        X_fit, Y_fit, X_out, Y_out = X[:n], Y[:n], X[n:], Y[n:]
        for transform_type in TRANSFORMS:
            ours = cuda_time(fit_alignment, X_fit, Y_fit, transform_type)
            base = cuda_time(floor, X_fit, Y_fit, transform_type)
            coef = fit_alignment(X_fit, Y_fit, transform_type).coef
            cosine = mean_cosine_similarity(Y_out, X_out @ coef.T)
            gels, gels_cosine = "", ""
            if transform_type == "linear":
                gels_ms = cuda_time(padded_lstsq, X_fit, Y_fit) * 1e3
                solution = padded_lstsq(X_fit, Y_fit)
                gels = f"{gels_ms:15.1f}"
                bad = torch.nan_to_num(X_out @ solution)
                gels_cosine = f"{mean_cosine_similarity(Y_out, bad):9.3f}"
            print(
                f"{n:>7} {f'{d1} -> {d2}':>12} {transform_type:>9} "
                f"{ours * 1e3:11.1f} {base * 1e3:9.1f} {ours / base:13.2f}x "
                f"{gels:>15} {cosine:12.3f} {gels_cosine:>9}"
            )


def transform_table(device, n_rows=1_000_000, chunk=131_072):
    import torch

    print(
        f"\n## Translate {n_rows:,} x 768 float32 rows on the GPU, chunks of {chunk:,}"
    )
    rng = np.random.default_rng(0)
    anchors = torch.as_tensor(rng.normal(size=(2500, 768)), device=device)
    aligner = LatentAligner().fit(anchors.float(), anchors[:, :384].float())
    weights = aligner._weights.float()
    bias = aligner._bias.float()
    rows = torch.randn(n_rows, 768, device=device)

    def ours():
        for start in range(0, n_rows, chunk):
            aligner.transform(rows[start : start + chunk])

    def bare():
        for start in range(0, n_rows, chunk):
            torch.addmm(bias, rows[start : start + chunk], weights)

    torch.cuda.reset_peak_memory_stats()
    seconds = cuda_time(ours)
    peak = torch.cuda.max_memory_allocated() / 2**20
    base = cuda_time(bare)
    print(
        f"skalign {n_rows / seconds:,.0f} rows/s, bare addmm {n_rows / base:,.0f} "
        f"rows/s, ratio {seconds / base:.2f}x, peak GPU memory {peak:,.0f} MiB "
        f"(input {rows.numel() * 4 / 2**20:,.0f} MiB)"
    )


def main():
    import torch

    if not torch.cuda.is_available():
        print("No CUDA device: the GPU benchmark needs one (nothing was run).")
        return
    device = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}")
    fit_table(device)
    transform_table(device)


if __name__ == "__main__":
    main()
