"""Evaluation sweeps fanned out on a local Dask cluster through joblib."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from scipy.stats import ortho_group
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from skalign.evaluation import anchor_curve

distributed = pytest.importorskip("distributed")


def test_anchor_curve_runs_on_dask_workers_and_resumes(tmp_path):
    X, y = load_digits(n_class=3, return_X_y=True)
    Y = X @ ortho_group.rvs(64, random_state=0) + 5.0
    settings = dict(
        transforms=["ortho", "affine"],
        n_repeats=2,
        decoder=LogisticRegression(max_iter=2000),
        return_runs=True,
    )
    expected, _ = anchor_curve(X, Y, y, n_anchors=[20, 60, 100], **settings)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            dashboard_address=":0",
            env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
    ):
        with distributed.get_task_stream(client) as first_tasks:
            _, first = anchor_curve(
                X, Y, y, n_anchors=[20, 60], n_jobs=-1, cache_dir=tmp_path, **settings
            )
        # Resume with one more anchor count: only its cells run.
        with distributed.get_task_stream(client) as second_tasks:
            curve, runs = anchor_curve(
                X,
                Y,
                y,
                n_anchors=[20, 60, 100],
                n_jobs=-1,
                cache_dir=tmp_path,
                **settings,
            )
        workers = set(client.scheduler_info()["workers"])
    pd.testing.assert_frame_equal(curve, expected)
    assert not first["cached"].any()
    counted = runs[runs["transform"].isin(["ortho", "affine", "naive"])]
    np.testing.assert_array_equal(counted["cached"], counted["n_anchors"] < 100)
    ran_on = {task["worker"] for task in first_tasks.data}
    assert ran_on and ran_on <= workers
    assert 0 < len(second_tasks.data) < len(first_tasks.data)
