"""The evaluation result cache (JSON cells, decoders as .npz + JSON): edited,
truncated, swapped, symlinked, planted and half-written entries."""

import json
import os
import warnings

import numpy as np
from joblib import delayed
from sklearn.linear_model import LogisticRegression

from skalign.evaluation._cache import DamagedCellWarning, ResultCache, run_cached
from tests.catalogue._evaluation_data import run, same_table, stitching_config
from tests.catalogue._harness import Behaves, Case, Raises, Warns

SURFACE = "evaluation cache"
SCORES = {"roc_auc": 0.75, "accuracy": 0.5}


def _score(cell):
    return {"roc_auc": cell / 10, "accuracy": cell / 20}


def _cells(cache, cells=(1, 2)):
    """``run_cached`` of score cells keyed ``k<cell>``."""
    return run_cached(
        list(cells), lambda cell: delayed(_score)(cell), cache=cache, kind="cells",
        keys={cell: f"k{cell}" for cell in cells}, n_jobs=None, desc="cells",
        show_progress=False,
    )  # fmt: skip


def _after(damage):
    """Store cells 1 and 2, ``damage(folder)``, then run them again."""

    def call(tmp):
        cache = ResultCache(tmp / "cache")
        _cells(cache)
        damage(tmp / "cache" / "cells")
        return _cells(ResultCache(tmp / "cache"))

    return call


def _recomputed(result):
    results, cached = result
    assert results == {1: _score(1), 2: _score(2)}, results
    assert 1 not in cached, cached
    return True


def _edit_scores(folder):
    path = folder / "k1.json"
    stored = json.loads(path.read_text())
    stored["scores"]["roc_auc"] = 0.99
    path.write_text(json.dumps(stored))


def _truncate(folder):
    path = folder / "k1.json"
    path.write_bytes(path.read_bytes()[:40])


def _swap(folder):
    first, second = folder / "k1.json", folder / "k2.json"
    text = first.read_text()
    first.write_text(second.read_text())
    second.write_text(text)


def _not_an_object(folder):
    (folder / "k1.json").write_text("[1, 2, 3]")


def _empty(folder):
    (folder / "k1.json").write_text("")


def _bool_scores(folder):
    """A hand-made entry with a correct checksum whose scores are booleans."""
    from skalign.evaluation._cache import _cell_payload

    (folder / "k1.json").write_text(_cell_payload("k1", 1, {"roc_auc": True}))


def _symlink_outside(tmp):
    """A cell that links to a file outside the cache: rewriting the cell must
    replace the link, never write through it."""
    outside = tmp / "outside.json"
    outside.write_text("precious")
    folder = tmp / "cache" / "cells"
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "k1.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedCellWarning)
        result = _cells(ResultCache(tmp / "cache"))
    return result, outside.read_text(), (folder / "k1.json").is_symlink()


def _outside_untouched(outcome):
    result, outside, still_link = outcome
    assert outside == "precious", outside
    assert not still_link
    return _recomputed(result)


def _half_written(tmp):
    """A temporary file left by a run killed mid-write is never read."""
    folder = tmp / "cache" / "cells"
    folder.mkdir(parents=True)
    (folder / ".tmp-k1.json.partial").write_text('{"scores": {"roc_auc": 0.9')
    return _cells(ResultCache(tmp / "cache"))


def _fit(estimator, X, y):
    return estimator.fit(X, y)


X = np.random.default_rng(0).normal(size=(30, 3))
Y = (X[:, 0] > 0).astype(int)


def _decoders(cache, estimator):
    return run_cached(
        [0], lambda cell: delayed(_fit)(estimator, X, Y), cache=cache,
        kind="estimators", keys={0: "dec"}, n_jobs=None, desc="decoders",
        show_progress=False,
    )  # fmt: skip


def _decoder_after(damage, estimator=None):
    def call(tmp):
        _decoders(ResultCache(tmp / "cache"), LogisticRegression())
        damage(tmp / "cache" / "estimators" / "dec.npz", tmp)
        return _decoders(ResultCache(tmp / "cache"), estimator or LogisticRegression())

    return call


def _decoder_refitted(result):
    results, cached = result
    reference = LogisticRegression(C=getattr(results[0], "C", 1.0)).fit(X, Y)
    np.testing.assert_allclose(results[0].coef_, reference.coef_)
    assert 0 not in cached, cached
    return True


def _plant_pickle(path, tmp):
    marker = tmp / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.savez(path, meta=np.array([Payload()], dtype=object))
    return marker


def _planted_never_runs(tmp):
    _decoders(ResultCache(tmp / "cache"), LogisticRegression())
    _plant_pickle(tmp / "cache" / "estimators" / "dec.npz", tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedCellWarning)
        result = _decoders(ResultCache(tmp / "cache"), LogisticRegression())
    return result, (tmp / "ran").exists()


def _edit_coef(path, tmp):
    with np.load(path) as archive:
        arrays = dict(archive)
    name = next(k for k in arrays if k.endswith("coef_"))
    arrays[name] = arrays[name] * 0
    np.savez(path, **arrays)


def _bare_array(path):
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))


def _experiment_cells_edited(tmp):
    """Every stored cell of an experiment edited: the rerun recomputes them."""
    config = stitching_config(tmp / "data")
    run(config, tmp / "out")
    for path in (tmp / "out" / "cache" / "cells" / "cells").glob("*.json"):
        stored = json.loads(path.read_text())
        stored["scores"] = {k: 0.0 for k in stored["scores"]}
        path.write_text(json.dumps(stored))
    return run(config, tmp / "out"), run(config, tmp / "fresh")


def _recomputed_message(name):
    return rf"{name}.*(damaged|stale|foreign)"


CASES = [
    Case(
        SURFACE,
        "a cell's scores edited by hand",
        _after(_edit_scores),
        Warns(DamagedCellWarning, _recomputed_message("k1.json"), _recomputed),
    ),
    Case(
        SURFACE,
        "a cell truncated mid-file",
        _after(_truncate),
        Warns(DamagedCellWarning, _recomputed_message("k1.json"), _recomputed),
    ),
    Case(
        SURFACE,
        "two cells swapped between keys",
        _after(_swap),
        Warns(DamagedCellWarning, r"k1\.json.*stored for the key 'k2'", _recomputed),
    ),
    Case(
        SURFACE,
        "a cell holding a JSON list",
        _after(_not_an_object),
        Warns(DamagedCellWarning, _recomputed_message("k1.json"), _recomputed),
    ),
    Case(
        SURFACE,
        "an empty cell file",
        _after(_empty),
        Warns(DamagedCellWarning, _recomputed_message("k1.json"), _recomputed),
    ),
    Case(
        SURFACE,
        "a forged cell with a valid checksum but boolean scores",
        _after(_bool_scores),
        Warns(DamagedCellWarning, _recomputed_message("k1.json"), _recomputed),
    ),
    Case(
        SURFACE,
        "a cell symlinked to a file outside the cache",
        _symlink_outside,
        Behaves(_outside_untouched),
    ),
    Case(
        SURFACE,
        "a half-written temporary file of an interrupted run",
        _half_written,
        Behaves(lambda r: r[1] == set() and _recomputed(r)),
    ),
    Case(
        SURFACE,
        "cache folder is a file",
        lambda tmp: ResultCache((tmp / "file").write_text("x") and tmp / "file"),
        Raises(NotADirectoryError, r"cache_dir.*file.*must be a folder"),
    ),
    Case(
        SURFACE,
        "a decoder's coefficients edited",
        _decoder_after(_edit_coef),
        Warns(DamagedCellWarning, _recomputed_message(r"dec\.npz"), _decoder_refitted),
    ),
    Case(
        SURFACE,
        "a decoder stored for other parameters is not restored",
        _decoder_after(lambda path, tmp: None, LogisticRegression(C=0.5)),
        Warns(DamagedCellWarning, r"dec\.npz.*parameters changed", _decoder_refitted),
    ),
    Case(
        SURFACE,
        "a pickle planted as a decoder never runs",
        _planted_never_runs,
        Behaves(lambda r: not r[1] and _decoder_refitted(r[0])),
    ),
    Case(
        SURFACE,
        "a decoder file replaced by a bare .npy",
        _decoder_after(lambda path, tmp: _bare_array(path)),
        Warns(DamagedCellWarning, _recomputed_message(r"dec\.npz"), _decoder_refitted),
    ),
    Case(
        SURFACE,
        "an experiment's cells all edited",
        _experiment_cells_edited,
        Behaves(lambda r: same_table(*r)),
    ),
]
