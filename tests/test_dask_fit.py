"""LatentAligner.fit on Dask arrays: statistics as a map-reduce on a cluster."""

import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from skalign import LatentAligner  # noqa: E402

ONE_THREAD = dict.fromkeys(
    ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"
)


def _anchors(n=3000, d1=24, d2=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d1)) * rng.uniform(0.5, 3, size=d1) + 2.0
    Y = X @ rng.normal(size=(d1, d2)) + rng.normal(size=(n, d2)) - 1.0
    return X, Y


def test_two_worker_processes_equal_the_numpy_fit():
    X, Y = _anchors()
    X_dask = da.from_array(X, chunks=(700, 10))  # uneven rows, split columns
    Y_dask = da.from_array(Y, chunks=(500, 16))  # other row blocks
    variants = [
        dict(transform_type="ortho"),
        dict(transform_type="affine"),
        dict(transform_type="l-ortho", l2_normalize=True),
        dict(transform_type="linear", alpha="auto", alphas=np.logspace(-2, 5, 15)),
    ]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=ONE_THREAD,
        ) as cluster,
        distributed.Client(cluster),
    ):
        for params in variants:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                expected = LatentAligner(**params).fit(X, Y)
                aligner = LatentAligner(**params).fit(X_dask, Y_dask)
            assert aligner.n_samples_seen_ == 3000
            assert isinstance(aligner.coef_, np.ndarray)
            np.testing.assert_allclose(
                aligner.transform(X[:50]), expected.transform(X[:50]), rtol=1e-9
            )
            assert aligner.alpha_ == expected.alpha_


def test_dask_inputs_are_checked_without_computing():
    X, Y = _anchors(n=100)
    X_dask = da.from_array(X, chunks=50)
    with pytest.raises(TypeError, match="as a Dask array too"):
        LatentAligner().fit(X_dask, Y)
    with pytest.raises(ValueError, match="paired row by row"):
        LatentAligner().fit(X_dask, da.from_array(Y[:90], chunks=50))
    X[60, 3] = np.nan
    with pytest.raises(ValueError, match="starting at row 50 contains NaN"):
        LatentAligner().fit(da.from_array(X, chunks=50), da.from_array(Y, chunks=50))


def test_unknown_chunk_sizes_name_compute_chunk_sizes():
    X, Y = _anchors(n=100)
    X_dask, Y_dask = da.from_array(X, chunks=30), da.from_array(Y, chunks=30)
    keep = X_dask[:, 0] > 2.0
    with pytest.raises(ValueError, match=r"unknown chunk sizes.*compute_chunk_sizes"):
        LatentAligner().fit(X_dask[keep], Y_dask[keep])
    X_kept, Y_kept = X_dask[keep], Y_dask[keep]
    X_kept.compute_chunk_sizes()
    Y_kept.compute_chunk_sizes()
    rows = X[:, 0] > 2.0
    np.testing.assert_allclose(
        LatentAligner().fit(X_kept, Y_kept).transform(X[:5]),
        LatentAligner().fit(X[rows], Y[rows]).transform(X[:5]),
        rtol=1e-9,
    )
