"""Fit time of each transform against the calls a user would write and the floor.

For paired anchors at the paper's scale (2,500 anchors; d in {384, 768, 1024,
4096}; d1 != d2 too) it prints, per transform, the median fit time of
:func:`skalign.fit_alignment` and two ratios measured in the same run:

* ``naive / skalign``: the padded calls a user would write,
  :func:`scipy.linalg.orthogonal_procrustes` on zero-padded matrices and
  :func:`numpy.linalg.lstsq` (with a bias column for ``affine``, followed by
  the polar factor for ``l-ortho``). Target: >= 5x at d = 4,096.
* ``skalign / floor``: the floor is one GEMM forming ``XᵀY`` plus its thin SVD
  (``ortho``), or one GEMM forming the Gram matrix plus its eigendecomposition
  (``linear``, ``affine``; ``l-ortho`` adds the thin SVD of the d1 x d2
  result); with fewer anchors than features, the ``n x n`` Gram matrix and its
  eigendecomposition for every map (see :func:`floor`). Target: <= 1.5x.

A second table compares the exact affine map with the paper's gradient-descent
fit (latentis 0.0.8's default, Adam for 300 steps at lr 1e-3, when latentis is
installed; and skalign's ``solver="adam"`` run to convergence): time ratio and
held-out mean squared error.

Run: ``python benchmarks/bench_solvers.py`` (about 5 minutes on 2 cores);
``--quick`` for a 30-second smoke run.
"""

import argparse
import time

import numpy as np
import scipy.linalg
from _common import embeddings, median_time

from skalign import fit_alignment

TRANSFORMS = ("ortho", "linear", "affine", "l-ortho")
SHAPES = [(384, 384), (768, 768), (1024, 1024), (384, 1024), (4096, 768), (4096, 4096)]


def parse_shape(text):
    """``"4096x768"`` -> ``(4096, 768)``."""
    d1, d2 = text.lower().split("x")
    return int(d1), int(d2)


def _pad(A, width):
    return np.hstack([A, np.zeros((A.shape[0], width - A.shape[1]))])


def naive(X, Y, transform_type):
    """What a user would write from the paper: pad, then SciPy / NumPy."""
    d = max(X.shape[1], Y.shape[1])
    Xp, Yp = _pad(X, d), _pad(Y, d)
    if transform_type == "ortho":
        return scipy.linalg.orthogonal_procrustes(Xp, Yp)[0]
    if transform_type == "affine":
        Xp = np.hstack([Xp, np.ones((len(Xp), 1))])
    R = np.linalg.lstsq(Xp, Yp, rcond=None)[0]
    if transform_type == "l-ortho":
        U, _, Vt = np.linalg.svd(R)
        return U @ Vt
    return R


def floor(X, Y, transform_type):
    """One GEMM plus one factorisation of the smallest side.

    With at least as many anchors as features: ``XᵀY`` and its thin SVD
    (``ortho``), or the Gram matrix ``XᵀX`` and its eigendecomposition (the
    least-squares maps; ``l-ortho`` adds the thin SVD of the d1 x d2 result).
    With fewer anchors than features the smallest side is the anchors': the
    ``n x n`` Gram matrix ``XXᵀ`` and its eigendecomposition, for every map.
    This floor leaves out the GEMMs that form the d1 x d2 map from the
    factorisation, which no solver can skip.
    """
    n, d = X.shape
    if n < min(d, Y.shape[1]) or (n < d and transform_type != "ortho"):
        return np.linalg.eigh(X @ X.T)
    if transform_type == "ortho":
        return np.linalg.svd(X.T @ Y, full_matrices=False)
    eigenvalues, basis = np.linalg.eigh(X.T @ X)
    if transform_type != "l-ortho":
        return eigenvalues, basis
    return np.linalg.svd(basis @ (basis.T @ (X.T @ Y)), full_matrices=False)


def solver_table(n_samples, shapes, repeats, naive_repeats):
    print(
        f"\n## Fit time, {n_samples} anchors (median of {repeats}; naive: "
        f"median of {naive_repeats} at d >= 4096)"
    )
    header = (
        f"{'d1 -> d2':>12} {'transform':>9} {'skalign s':>10} {'floor s':>9} "
        f"{'naive s':>9} {'skalign/floor':>14} {'naive/skalign':>14}"
    )
    print(header)
    print("-" * len(header))
    for d1, d2 in shapes:
        X, Y = embeddings(n_samples, d1, d2)
        for transform_type in TRANSFORMS:
            ours = median_time(fit_alignment, X, Y, transform_type, repeats=repeats)
            base = median_time(floor, X, Y, transform_type, repeats=repeats)
            slow = naive_repeats if max(d1, d2) >= 4096 else repeats
            user = median_time(naive, X, Y, transform_type, repeats=slow)
            print(
                f"{f'{d1} -> {d2}':>12} {transform_type:>9} {ours:10.3f} "
                f"{base:9.3f} {user:9.3f} {ours / base:13.2f}x {user / ours:13.1f}x"
            )


def latentis_affine(X, Y, seed):
    import torch
    from latentis.transform.translate.functional import sgd_affine_align_state

    translation = sgd_affine_align_state(
        torch.as_tensor(X, dtype=torch.float32),
        torch.as_tensor(Y, dtype=torch.float32),
        random_seed=seed,
    )["translation"]
    weight = translation.weight.detach().numpy().astype(np.float64)
    return weight, translation.bias.detach().numpy().astype(np.float64)


def gradient_descent_table(n_samples, d1, d2, repeats):
    print(
        f"\n## Exact affine vs the paper's gradient descent ({n_samples} anchors, "
        f"{d1} -> {d2}, held-out MSE on 2,000 points, standardised target)"
    )
    X, Y = embeddings(n_samples + 2000, d1, d2, seed=1)
    X_fit, Y_fit, X_out, Y_out = (
        X[:n_samples],
        Y[:n_samples],
        X[n_samples:],
        Y[n_samples:],
    )

    def mse(coef, intercept):
        return float(np.mean((X_out @ coef.T + intercept - Y_out) ** 2))

    exact_time = median_time(fit_alignment, X_fit, Y_fit, "affine", repeats=repeats)
    exact = fit_alignment(X_fit, Y_fit, "affine")
    rows = [
        (
            "skalign exact (closed form)",
            exact_time,
            mse(exact.coef, exact.intercept),
            "",
        )
    ]
    start = time.perf_counter()
    ridge = fit_alignment(X_fit, Y_fit, "affine", alpha="auto")
    rows.append(
        (
            "skalign exact, alpha='auto' (GCV ridge)",
            time.perf_counter() - start,
            mse(ridge.coef, ridge.intercept),
            f"alpha={ridge.alpha:.3g}",
        )
    )
    start = time.perf_counter()
    adam = fit_alignment(X_fit, Y_fit, "affine", solver="adam", random_state=0)
    rows.append(
        (
            "skalign solver='adam' (converged)",
            time.perf_counter() - start,
            mse(adam.coef, adam.intercept),
            f"{adam.n_iter} steps",
        )
    )
    try:
        start = time.perf_counter()
        weight, bias = latentis_affine(X_fit, Y_fit, seed=0)
        rows.append(
            (
                "latentis 0.0.8 default (Adam, 300 steps)",
                time.perf_counter() - start,
                mse(weight, bias),
                "300 steps",
            )
        )
    except ImportError:
        print("(latentis not installed: pip install -e '.[benchmarks]' to compare)")
    print(f"{'method':>42} {'fit s':>8} {'held-out MSE':>13} {'time / exact':>13}")
    for name, seconds, error, note in rows:
        print(
            f"{name:>42} {seconds:8.3f} {error:13.5f} {seconds / exact_time:12.1f}x "
            f"{note}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--shapes",
        nargs="+",
        type=parse_shape,
        default=SHAPES,
        metavar="D1xD2",
        help="feature widths to time (default: the paper's, up to 4096x4096)",
    )
    args = parser.parse_args()
    if args.quick:
        solver_table(500, [(384, 256), (256, 384)], repeats=1, naive_repeats=1)
        gradient_descent_table(500, 64, 32, repeats=1)
        return
    solver_table(2500, args.shapes, repeats=args.repeats, naive_repeats=1)
    gradient_descent_table(2500, 768, 384, repeats=args.repeats)


if __name__ == "__main__":
    main()
