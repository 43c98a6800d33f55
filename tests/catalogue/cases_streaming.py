"""Streaming fits: ``partial_fit`` after ``fit``, batch shapes, parameter changes,
Dask arrays (known and unknown chunks)."""

import numpy as np
import pandas as pd
import torch

from skalign import AdapterAligner, LatentAligner
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 6))
Y = X @ RNG.normal(size=(6, 4)) + 0.01 * RNG.normal(size=(60, 4))


def _fit_then_partial(change, params=None):
    aligner = LatentAligner("affine", **(params or {})).fit(X, Y)
    aligner.set_params(**change)
    return aligner.partial_fit(X[:10], Y[:10])


def _one_row_batches(**params):
    aligner = LatentAligner("affine", **params)
    for row in range(len(X)):
        aligner.partial_fit(X[row : row + 1], Y[row : row + 1])
    return aligner


def _same_map_as_fit(aligner, X_all=X, Y_all=Y, atol=1e-8):
    reference = LatentAligner(**aligner.get_params()).fit(X_all, Y_all)
    np.testing.assert_allclose(
        np.asarray(aligner.transform(X_all)), reference.transform(X_all), atol=atol
    )
    return True


def _unchanged_after_refusal(second_batch):
    """A refused second batch leaves the aligner as after the first: the
    refusal is re-raised once that is checked."""
    aligner = LatentAligner("affine").partial_fit(X[:30], Y[:30])
    before = aligner.transform(X).copy()
    try:
        aligner.partial_fit(*second_batch)
    except (ValueError, TypeError):
        assert aligner.n_samples_seen_ == 30
        np.testing.assert_array_equal(aligner.transform(X), before)
        raise
    return aligner


def _dask(array, chunks=20):
    return _dask_array().from_array(array, chunks=(chunks, array.shape[1]))


def _dask_array():
    import dask.array

    return dask.array


def _unknown_chunks(array):
    dask_array = _dask(array)
    return dask_array[dask_array[:, 0] > -np.inf]


def _batches(*pairs, **params):
    aligner = LatentAligner("affine", **params)
    for X_batch, Y_batch in pairs:
        aligner.partial_fit(X_batch, Y_batch)
    return aligner


def _alphas_changed_in_place():
    alphas = [0.1, 1.0]
    aligner = LatentAligner("affine", alpha="auto", alphas=alphas).fit(X, Y)
    alphas.append(10.0)
    return aligner.partial_fit(X[:10], Y[:10])


def _completion_changed():
    wide = RNG.normal(size=(60, 8))
    aligner = LatentAligner("ortho").partial_fit(wide[:30], Y[:30])
    aligner.set_params(orthogonal_completion="full")
    aligner.partial_fit(wide[30:], Y[30:])
    reference = LatentAligner("ortho", orthogonal_completion="full").fit(wide, Y)
    np.testing.assert_allclose(
        aligner.transform(wide), reference.transform(wide), atol=1e-8
    )
    return True


def _weighted_batches():
    weights = RNG.integers(0, 4, size=60).astype(float)
    weights[:2] = 1.0
    aligner = LatentAligner("affine")
    aligner.partial_fit(X[:25], Y[:25], sample_weight=weights[:25])
    aligner.partial_fit(X[25:], Y[25:], sample_weight=weights[25:])
    repeated = np.repeat(np.arange(60), weights.astype(int))
    reference = LatentAligner("affine").fit(X[repeated], Y[repeated])
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-8)
    return True


def _dask_matches_numpy():
    aligner = LatentAligner("affine").fit(_dask(X), _dask(Y))
    reference = LatentAligner("affine").fit(X, Y)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-9)
    return True


def _dask_weighted_matches_numpy():
    weights = np.linspace(0.5, 2.0, 60)
    import dask.array as da

    aligner = LatentAligner("affine").fit(
        _dask(X), _dask(Y), sample_weight=da.from_array(weights, chunks=20)
    )
    reference = LatentAligner("affine").fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-9)
    return True


def _pandas_then_renamed():
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    aligner = LatentAligner("affine").partial_fit(frame[:30], Y[:30])
    renamed = frame.rename(columns={"f0": "g0"})
    return aligner.partial_fit(renamed[30:], Y[30:])


def _float32_then_float64():
    aligner = LatentAligner("affine")
    aligner.partial_fit(X[:30].astype(np.float32), Y[:30].astype(np.float32))
    aligner.partial_fit(X[30:], Y[30:])
    # float32 anchors enter the float64 statistics as their exact float32 values
    X_all = np.vstack([X[:30].astype(np.float32), X[30:]])
    Y_all = np.vstack([Y[:30].astype(np.float32), Y[30:]])
    reference = LatentAligner("affine").fit(X_all, Y_all)
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-5)
    return True


def _zero_weight_rows_in_one_row_batches():
    """Weighted one-row batches, some of weight 0, equal the fit on the rows
    of positive weight."""
    aligner = LatentAligner("affine").partial_fit(X[:1], Y[:1])
    for row in range(1, len(X)):
        weight = [0.0 if row % 7 == 0 else 1.0]
        aligner.partial_fit(X[row : row + 1], Y[row : row + 1], sample_weight=weight)
    kept = [row for row in range(len(X)) if row % 7]
    kept = [0] + kept
    reference = LatentAligner("affine").fit(X[kept], Y[kept])
    np.testing.assert_allclose(aligner.transform(X), reference.transform(X), atol=1e-9)
    return True


def _target_columns_reordered():
    columns = ["t0", "t1", "t2", "t3"]
    frame = pd.DataFrame(Y, columns=columns)
    aligner = LatentAligner("affine").partial_fit(X[:30], frame[:30])
    return aligner.partial_fit(X[30:], frame[columns[::-1]][30:])


CASES = [
    Case(
        "streaming",
        "partial_fit after fit with another transform_type",
        lambda tmp: _fit_then_partial({"transform_type": "ortho"}),
        Raises(ValueError, r"transform_type.*(fit|reset|new)"),
    ),
    Case(
        "streaming",
        "partial_fit after fit with another l2_normalize",
        lambda tmp: _fit_then_partial({"l2_normalize": True}),
        Raises(ValueError, r"l2_normalize.*(fit|reset|new)"),
    ),
    Case(
        "streaming",
        "one-row batches give the batch fit's map",
        lambda tmp: _one_row_batches(),
        Behaves(_same_map_as_fit),
    ),
    Case(
        "streaming",
        "partial_fit after fit with another alpha",
        lambda tmp: _fit_then_partial({"alpha": 3.0}),
        Raises(ValueError, r"alpha=0\.0.*alpha is now 3\.0.*(fit|fresh)"),
    ),
    Case(
        "streaming",
        "partial_fit after fit with another std_scaling",
        lambda tmp: _fit_then_partial({"std_scaling": False}),
        Raises(ValueError, r"std_scaling.*set std_scaling back|std_scaling.*fresh"),
    ),
    Case(
        "streaming",
        "partial_fit after fit with another center",
        lambda tmp: _fit_then_partial({"center": False}),
        Raises(ValueError, r"center=True.*center is now False.*(fit|fresh)"),
    ),
    Case(
        "streaming",
        "partial_fit after fit with alpha='auto' switched on",
        lambda tmp: _fit_then_partial({"alpha": "auto"}),
        Raises(ValueError, r"alpha.*'auto'.*(fit|fresh)"),
    ),
    Case(
        "streaming",
        "alphas list changed in place between calls",
        lambda tmp: _alphas_changed_in_place(),
        Raises(ValueError, r"alphas.*now.*(fit|fresh)"),
    ),
    Case(
        "streaming",
        "partial_fit switched to solver='adam'",
        lambda tmp: _fit_then_partial({"solver": "adam"}),
        Raises(ValueError, r"solver='adam'.*closed-form"),
    ),
    Case(
        "streaming",
        "orthogonal_completion changed between batches re-solves all rows",
        lambda tmp: _completion_changed(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "second batch of another source width, state unchanged",
        lambda tmp: _unchanged_after_refusal((X[30:, :5], Y[30:])),
        Raises(ValueError, r"5 features.*expecting 6.*same source encoder"),
    ),
    Case(
        "streaming",
        "second batch of another target width, state unchanged",
        lambda tmp: _unchanged_after_refusal((X[30:], Y[30:, :3])),
        Raises(ValueError, r"y has 3 features.*expecting 4.*target"),
    ),
    Case(
        "streaming",
        "second batch with NaN, state unchanged",
        lambda tmp: _unchanged_after_refusal(
            (np.where(X[30:] > 1, np.nan, X[30:]), Y[30:])
        ),
        Raises(ValueError, r"NaN"),
    ),
    Case(
        "streaming",
        "second batch with y None, state unchanged",
        lambda tmp: _unchanged_after_refusal((X[30:], None)),
        Raises(ValueError, r"requires y.*Pass the target"),
    ),
    Case(
        "streaming",
        "second batch with rows differing, state unchanged",
        lambda tmp: _unchanged_after_refusal((X[30:], Y[31:])),
        Raises(ValueError, r"30 rows but y has 29.*paired"),
    ),
    Case(
        "streaming",
        "second batch of zero rows",
        lambda tmp: _unchanged_after_refusal((X[:0], Y[:0])),
        Raises(ValueError, r"0 sample"),
    ),
    Case(
        "streaming",
        "second batch a million times larger, state unchanged",
        lambda tmp: _unchanged_after_refusal((X[30:] * 2.0**300, Y[30:] * 2.0**300)),
        Raises(ValueError, r"(scale|magnitude|power of two).*(fit|rescale|batch)"),
    ),
    Case(
        "streaming",
        "second batch with renamed DataFrame columns",
        lambda tmp: _pandas_then_renamed(),
        Raises(ValueError, r"feature names.*(g0|f0)"),
    ),
    Case(
        "streaming",
        "float32 batch then float64 batch",
        lambda tmp: _float32_then_float64(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "one-row batches with l2_normalize",
        lambda tmp: _one_row_batches(l2_normalize=True),
        Behaves(_same_map_as_fit),
    ),
    Case(
        "streaming",
        "one-row batches with alpha='auto'",
        lambda tmp: _one_row_batches(alpha="auto"),
        Behaves(_same_map_as_fit),
    ),
    Case(
        "streaming",
        "weighted batches equal the fit on repeated rows",
        lambda tmp: _weighted_batches(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "a first batch whose weights are all zero",
        lambda tmp: LatentAligner("affine").partial_fit(
            X[:30], Y[:30], sample_weight=np.zeros(30)
        ),
        Raises(ValueError, r"sample_weight.*zero.*weight > 0"),
    ),
    Case(
        "streaming",
        "partial_fit after fit on fewer anchors than features",
        lambda tmp: (
            LatentAligner("affine")
            .fit(RNG.normal(size=(5, 8)), Y[:5])
            .partial_fit(RNG.normal(size=(5, 8)), Y[5:10])
        ),
        Raises(ValueError, r"fewer anchors than features.*partial_fit from the start"),
    ),
    Case(
        "streaming",
        "tensor batch after a NumPy batch",
        lambda tmp: _batches(
            (X[:30], Y[:30]), (torch.from_numpy(X[30:]), torch.from_numpy(Y[30:]))
        ),
        Behaves(_same_map_as_fit),
    ),
    Case(
        "streaming",
        "Dask anchors give the NumPy fit",
        lambda tmp: _dask_matches_numpy(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "Dask anchors with Dask weights give the NumPy weighted fit",
        lambda tmp: _dask_weighted_matches_numpy(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "Dask anchors of unknown chunk sizes",
        lambda tmp: LatentAligner().fit(_unknown_chunks(X), _unknown_chunks(Y)),
        Raises(ValueError, r"unknown chunk sizes.*compute_chunk_sizes\(\)"),
    ),
    Case(
        "streaming",
        "Dask X with NumPy y",
        lambda tmp: LatentAligner().fit(_dask(X), Y),
        Raises(TypeError, r"Dask.*y of type ndarray.*from_array"),
    ),
    Case(
        "streaming",
        "Dask anchors with NaN",
        lambda tmp: LatentAligner("affine").fit(
            _dask(np.where(X > 2, np.nan, X)), _dask(Y)
        ),
        Raises(ValueError, r"NaN.*(remove|impute|drop)"),
    ),
    Case(
        "streaming",
        "Dask anchors with solver='adam'",
        lambda tmp: LatentAligner("affine", solver="adam").fit(_dask(X), _dask(Y)),
        Raises(ValueError, r"solver='closed-form'"),
    ),
    Case(
        "streaming",
        "Dask anchors to an in-memory aligner",
        lambda tmp: AdapterAligner().fit(_dask(X), _dask(Y)),
        Raises(TypeError, r"Dask.*compute\(\)"),
    ),
    Case(
        "streaming",
        "Dask anchors of integer dtype",
        lambda tmp: LatentAligner().fit(_dask(X.round().astype(int)), _dask(Y)),
        Raises((TypeError, ValueError), r"floating.*int.*float32 or float64"),
    ),
    Case(
        "streaming",
        "Dask anchors of one row",
        lambda tmp: LatentAligner().fit(_dask(X[:1]), _dask(Y[:1])),
        Raises(ValueError, r"at least 2 anchors.*got 1"),
    ),
    Case(
        "streaming",
        "Dask anchors with differently chunked sides",
        lambda tmp: LatentAligner("affine").fit(_dask(X, 7), _dask(Y, 13)),
        Behaves(_same_map_as_fit),
    ),
    Case(
        "streaming",
        "a later one-row batch of weight zero adds nothing",
        lambda tmp: _zero_weight_rows_in_one_row_batches(),
        Behaves(bool),
    ),
    Case(
        "streaming",
        "second batch with the target columns reordered",
        lambda tmp: _target_columns_reordered(),
        Raises(
            ValueError,
            r"target columns.*\['t3'.*differ.*same columns in the same order",
        ),
    ),
    Case(
        "streaming",
        "Dask source anchors all one vector",
        lambda tmp: LatentAligner("affine").fit(_dask(np.full_like(X, 0.1)), _dask(Y)),
        Raises(
            ValueError,
            r"Every source anchor \(X\) is the same vector.*anchors that differ",
        ),
    ),
    Case(
        "streaming",
        "Dask target anchors all one vector, near 1e300",
        lambda tmp: LatentAligner().fit(_dask(X), _dask(np.full_like(Y, 3e300))),
        Raises(
            ValueError,
            r"Every target anchor \(y\) is the same vector.*anchors that differ",
        ),
    ),
    Case(
        "streaming",
        "Dask anchors of zero rows",
        lambda tmp: LatentAligner().fit(_dask(X[:0]), _dask(Y[:0])),
        Raises(ValueError, r"at least 2 anchors, got 0.*Pass at least 2"),
    ),
    Case(
        "streaming",
        "Dask anchors chunked along the features too",
        lambda tmp: LatentAligner("affine").fit(
            _dask_array().from_array(X, chunks=(20, 2)), _dask(Y)
        ),
        Behaves(_same_map_as_fit),
    ),
]


def _target_encoder_replaced():
    from tests._toy_encoders import HashingTextEncoder

    aligner = LatentAligner(target_encoder=HashingTextEncoder(3))
    aligner.partial_fit(X[:3], ["a", "b", "c"])
    aligner.set_params(target_encoder=HashingTextEncoder(3))
    return aligner.partial_fit(X[3:6], ["d", "e", "f"])


CASES += [
    Case(
        "streaming",
        "target_encoder replaced by an equal-looking object between batches",
        lambda tmp: _target_encoder_replaced(),
        Raises(ValueError, r"target_encoder.*\(another object\).*back to the object"),
    ),
]
