"""Nothing the evaluation cache reads is unpickled: a pickle planted in every
cache file never runs, and the result is recomputed with a warning naming the
file; every entry carries its key and a checksum."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import delayed
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skalign.evaluation import anchor_curve, run_experiment
from skalign.evaluation._cache import DamagedCellWarning, ResultCache, run_cached


class _Planted:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _payload(marker):
    payload = pickle.dumps(_Planted(marker))
    # the payload is live: unpickling it does create the marker
    pickle.loads(payload).close()
    assert marker.exists()
    marker.unlink()
    return payload


def _plant_everywhere(cache_dir, marker):
    """Overwrite every cache file with the pickle (and plant old-style
    ``.joblib`` decoders beside the new ones); return the files overwritten."""
    files = sorted(p for p in cache_dir.rglob("*") if p.is_file())
    assert files, "the first run stored nothing"
    payload = _payload(marker)
    for path in files:
        path.write_bytes(payload)
        if path.suffix == ".npz":
            path.with_suffix(".joblib").write_bytes(payload)
    return files


def _warned_files(record):
    messages = [str(w.message) for w in record if w.category is DamagedCellWarning]
    return messages


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(n_class=3, return_X_y=True)
    rng = np.random.default_rng(0)
    return X, X @ rng.normal(size=(64, 20)), y


def test_a_planted_pickle_in_every_anchor_curve_cache_file_never_runs(digits, tmp_path):
    X, Y, y = digits
    marker = tmp_path / "pwned"
    cache_dir = tmp_path / "cache"
    options = dict(
        n_anchors=[20, 60],
        transforms=["ortho", "affine"],
        n_repeats=2,
        cache_dir=cache_dir,
        return_runs=True,
    )
    curve, runs = anchor_curve(X, Y, y, **options)  # the paper's SVC decoder
    kinds = {p.parent.name: p.suffix for p in cache_dir.rglob("*") if p.is_file()}
    assert kinds == {"cells": ".json", "estimators": ".npz"}
    planted = _plant_everywhere(cache_dir, marker)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        again_curve, again = anchor_curve(X, Y, y, **options)
    assert not marker.exists()
    messages = _warned_files(record)
    for path in planted:
        assert any(repr(str(path)) in m for m in messages), path
    assert not again["cached"].any()
    pd.testing.assert_frame_equal(curve, again_curve)
    # the files were rewritten: a third run reads them all, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error", DamagedCellWarning)
        _, third = anchor_curve(X, Y, y, **options)
    assert third["cached"].all()
    pd.testing.assert_frame_equal(
        runs.drop(columns="cached"), third.drop(columns="cached")
    )


def test_a_planted_pickle_in_the_experiments_cache_never_runs(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat(["yes", "no"], 40)
    ids = np.array([f"s{i}" for i in range(len(y))])
    pd.DataFrame({"id": ids, "finding": y}).to_csv(tmp_path / "labels.csv", index=False)
    base = np.eye(2)[(y == "yes").astype(int)] * 3
    encoders = {}
    for name, width in (("a", 6), ("b", 9)):
        X = base @ rng.normal(size=(2, width)) + 0.5 * rng.normal(size=(len(y), width))
        np.savez(tmp_path / f"{name}.npz", embeddings=X, ids=ids)
        encoders[name] = {
            "modality": "image",
            "domain": "general",
            "embeddings": {"cxr": str(tmp_path / f"{name}.npz")},
        }
    config = {
        "protocol": {"n_anchors": [8], "n_repeats": 1, "transforms": ["ortho"]},
        "datasets": {"cxr": {"labels": str(tmp_path / "labels.csv")}},
        "encoders": encoders,
        "stitching": {"cxr": {"dataset": "cxr"}},
    }
    out = tmp_path / "out"
    first = run_experiment(config, out, show_progress=False)
    marker = tmp_path / "pwned"
    planted = _plant_everywhere(out / "cache", marker)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        again = run_experiment(config, out, show_progress=False)
    assert not marker.exists()
    messages = _warned_files(record)
    for path in planted:
        assert any(repr(str(path)) in m for m in messages), path
    pd.testing.assert_frame_equal(first["table"], again["table"])


# --- what an entry carries -------------------------------------------------------


def _fit(estimator, X, y):
    return estimator.fit(X, y)


@pytest.mark.parametrize(
    "decoder", [SVC(kernel="linear"), LogisticRegression(max_iter=2000)]
)
def test_a_decoder_comes_back_from_arrays_and_json_exactly(decoder, digits, tmp_path):
    X, _, y = digits
    labels = np.array([f"class {v}" for v in y], dtype=object)
    fitted = _fit(decoder, X, labels)
    cache = ResultCache(tmp_path)
    assert cache.save("estimators", "k", fitted)
    (path,) = (tmp_path / "estimators").iterdir()
    with np.load(path, allow_pickle=False) as stored:  # readable without pickle
        meta = json.loads(str(stored["meta"][()]))
    assert meta["key"] == "k" and len(meta["checksum"]) == 64
    restored = cache.load("estimators", "k", template=decoder)
    assert restored is not decoder and type(restored) is type(decoder)
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(
        restored.decision_function(X), fitted.decision_function(X)
    )
    assert restored.classes_.dtype == object


def test_stale_foreign_and_edited_entries_are_recomputed_with_the_file_named(
    digits, tmp_path
):
    X, _, y = digits
    cache = ResultCache(tmp_path)
    decoder = LogisticRegression(max_iter=2000)
    cache.save("estimators", "k", _fit(decoder, X, y))
    path = tmp_path / "estimators" / "k.npz"
    # stale: the caller's decoder has other parameters
    with pytest.warns(DamagedCellWarning, match="k.npz.*parameters changed"):
        assert cache.load("estimators", "k", template=decoder.set_params(C=2.0)) is None
    with pytest.warns(DamagedCellWarning, match="k.npz.*not a sklearn.svm"):
        assert cache.load("estimators", "k", template=SVC()) is None
    # foreign: the file copied under another key
    (tmp_path / "estimators" / "other.npz").write_bytes(path.read_bytes())
    with pytest.warns(DamagedCellWarning, match="other.npz.*stored for the key 'k'"):
        assert cache.load("estimators", "other", template=decoder) is None
    # edited: a cell's scores changed by hand
    cache.save("cells", "c", {"roc_auc": 0.71}, description=["a", "b", "ortho"])
    cell = tmp_path / "cells" / "c.json"
    stored = json.loads(cell.read_text())
    assert stored["key"] == "c" and len(stored["checksum"]) == 64
    stored["scores"]["roc_auc"] = 0.99
    cell.write_text(json.dumps(stored))
    with pytest.warns(DamagedCellWarning, match="c.json.*checksum does not match"):
        assert cache.load("cells", "c") is None


def test_a_meta_estimator_is_refit_not_stored(digits, tmp_path):
    X, _, y = digits
    cache = ResultCache(tmp_path)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    options = dict(
        cache=cache,
        kind="estimators",
        keys={"p": "p"},
        n_jobs=None,
        desc="fit",
        show_progress=False,
    )
    results, cached = run_cached(
        ["p"], lambda cell: delayed(_fit)(pipeline, X, y), **options
    )
    assert not (tmp_path / "estimators").exists()
    again, cached = run_cached(
        ["p"], lambda cell: delayed(_fit)(pipeline, X, y), **options
    )
    assert cached == set()
    np.testing.assert_array_equal(again["p"].predict(X), results["p"].predict(X))
