"""LatentAligner, fit_alignment and NaiveAligner: shapes, dtypes, parameters at
their edges, calls in the wrong order, pandas inputs and extreme values."""

import warnings

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skalign import LatentAligner, fit_alignment
from skalign.evaluation import NaiveAligner
from tests.catalogue._harness import Behaves, Case, Raises, Warns

RNG = np.random.default_rng(1)
X = RNG.normal(size=(50, 5))
Y = X @ RNG.normal(size=(5, 4)) + 0.01 * RNG.normal(size=(50, 4))
NAMES = [f"f{i}" for i in range(5)]


def _fitted(**params):
    return LatentAligner("affine", **params).fit(X, Y)


def _reference_affine(X_in, Y_in):
    """Least squares with an intercept, by numpy's lstsq."""
    design = np.c_[X_in, np.ones(len(X_in))]
    return design @ np.linalg.lstsq(design, Y_in, rcond=None)[0]


def _constant_target_column():
    Y_const = Y.copy()
    Y_const[:, 2] = 7.25
    translated = LatentAligner("affine").fit(X, Y_const).transform(X[:5])
    np.testing.assert_array_equal(translated[:, 2], 7.25)
    return True


def _constant_source_column():
    X_const = X.copy()
    X_const[:, 1] = -3.0
    translated = LatentAligner("affine").fit(X_const, Y).transform(X_const)
    np.testing.assert_allclose(translated, _reference_affine(X_const, Y), atol=1e-9)
    return True


def _rank_deficient_source():
    X_def = np.c_[X[:, :3], X[:, 0] + X[:, 1], 2 * X[:, 2]]
    translated = LatentAligner("affine").fit(X_def, Y).transform(X_def)
    np.testing.assert_allclose(translated, _reference_affine(X_def, Y), atol=1e-8)
    return True


def _every_anchor_twice():
    doubled = LatentAligner("affine").fit(np.vstack([X, X]), np.vstack([Y, Y]))
    np.testing.assert_allclose(doubled.transform(X), _fitted().transform(X), atol=1e-9)
    return True


def _subnormal_anchors():
    scale = 2.0**-1060  # every value subnormal (about 14 significant bits)
    X_sub, Y_sub = X * scale, Y * scale
    aligner = LatentAligner("affine").fit(X_sub, Y_sub)
    translated = aligner.transform(X_sub) / scale
    # the reference: the same (rounded) values, scaled back up exactly
    reference = LatentAligner("affine").fit(X_sub / scale, Y_sub / scale)
    # the translations are subnormal too: 14 bits, spacing 2**-1074 / scale
    spacing = 2.0**-1074 / scale
    np.testing.assert_allclose(
        translated, reference.transform(X_sub / scale), rtol=0, atol=16 * spacing
    )
    return True


def _huge_and_ordinary_rows():
    """One anchor 1e250 times the others is an outlier, not an overflow."""
    X_out, Y_out = X.copy(), Y.copy()
    X_out[0] *= 1e250
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        translated = LatentAligner("affine").fit(X_out, Y_out).transform(X_out[1:])
    assert np.isfinite(translated).all()
    return True


def _score_differs(aligner):
    assert np.isfinite(aligner.score(X, Y))
    return True


def _fit_alignment_matches_lstsq():
    alignment = fit_alignment(X, Y, "linear")
    coef = np.linalg.lstsq(X, Y, rcond=None)[0]
    np.testing.assert_allclose(
        X @ alignment.coef.T + alignment.intercept, X @ coef, atol=1e-9
    )
    return True


def _target_column_names_out():
    frame = pd.DataFrame(Y, columns=["t0", "t1", "t2", "t3"])
    aligner = LatentAligner("affine").fit(X, frame).set_output(transform="pandas")
    out = aligner.transform(X)
    assert list(out.columns) == ["t0", "t1", "t2", "t3"]
    np.testing.assert_allclose(out.to_numpy(), _fitted().transform(X))
    return True


def _float16_input():
    aligner = _fitted()
    half = X[:5].astype(np.float16)
    out = aligner.transform(half)
    assert out.dtype in (np.float32, np.float64)
    np.testing.assert_allclose(
        out, aligner.transform(half.astype(np.float64)), atol=1e-12
    )
    return True


def _fit_alignment_scaled(transform_type, x_scale, y_scale):
    """fit_alignment on sides scaled by x_scale, y_scale predicts the unscaled
    map's translations in the target's units (the source's for isometries)."""
    plain = fit_alignment(X, Y, transform_type)
    scaled = fit_alignment(X * x_scale, Y * y_scale, transform_type)
    unit = x_scale if transform_type in ("ortho", "l-ortho") else y_scale
    expected = X @ plain.coef.T + plain.intercept
    got = ((X * x_scale) @ scaled.coef.T + scaled.intercept) / unit
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    return True


CASES = [
    Case(
        "aligners",
        "3-D source anchors",
        lambda tmp: LatentAligner().fit(X.reshape(10, 5, 5), Y[:10]),
        Raises(ValueError, r"dim 3.*(2|reshape)|3-D.*reshape"),
    ),
    Case(
        "aligners",
        "anchors with zero features",
        lambda tmp: LatentAligner().fit(X[:, :0], Y),
        Raises(ValueError, r"0 feature.*minimum of 1"),
    ),
    Case(
        "aligners",
        "ragged nested lists",
        lambda tmp: LatentAligner().fit([[1.0, 2.0], [3.0]], Y[:2]),
        Raises(ValueError, r"(inhomogeneous|sequence|numeric embeddings)"),
    ),
    Case(
        "aligners",
        "complex anchors",
        lambda tmp: LatentAligner().fit(X + 1j, Y),
        Raises((TypeError, ValueError), r"[Cc]omplex"),
    ),
    Case(
        "aligners",
        "object array holding None",
        lambda tmp: LatentAligner().fit(np.where(X > 2, None, X).astype(object), Y),
        Raises((TypeError, ValueError), r"(NaN|numeric embeddings|None)"),
    ),
    Case(
        "aligners",
        "DataFrame with a text column",
        lambda tmp: LatentAligner().fit(
            pd.DataFrame(X, columns=NAMES).assign(f4="x"), Y
        ),
        Raises((TypeError, ValueError), r"numeric embeddings.*EmbeddingExtractor"),
    ),
    Case(
        "aligners",
        "transform with DataFrame columns renamed",
        lambda tmp: (
            LatentAligner("affine")
            .fit(pd.DataFrame(X, columns=NAMES), Y)
            .transform(pd.DataFrame(X, columns=[n.upper() for n in NAMES]))
        ),
        Raises(ValueError, r"feature names.*(F0|f0)"),
    ),
    Case(
        "aligners",
        "transform with DataFrame columns reordered",
        lambda tmp: (
            LatentAligner("affine")
            .fit(pd.DataFrame(X, columns=NAMES), Y)
            .transform(pd.DataFrame(X[:, ::-1], columns=NAMES[::-1]))
        ),
        Raises(ValueError, r"feature names.*order"),
    ),
    Case(
        "aligners",
        "fit on DataFrame, transform a bare array",
        lambda tmp: (
            LatentAligner("affine").fit(pd.DataFrame(X, columns=NAMES), Y).transform(X)
        ),
        Warns(UserWarning, r"does not have valid feature names"),
    ),
    Case(
        "aligners",
        "target DataFrame names the output columns",
        lambda tmp: _target_column_names_out(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "get_feature_names_out with wrong input_features",
        lambda tmp: (
            LatentAligner("affine")
            .fit(pd.DataFrame(X, columns=NAMES), Y)
            .get_feature_names_out(["a", "b", "c", "d", "e"])
        ),
        Raises(ValueError, r"input_features.*feature_names_in_"),
    ),
    Case(
        "aligners",
        "score before fit",
        lambda tmp: LatentAligner().score(X, Y),
        Raises(NotFittedError, r"not fitted.*fit"),
    ),
    Case(
        "aligners",
        "inverse_transform before fit",
        lambda tmp: LatentAligner().inverse_transform(Y),
        Raises(NotFittedError, r"not fitted.*fit"),
    ),
    Case(
        "aligners",
        "score with y of fewer rows than X",
        lambda tmp: _fitted().score(X, Y[:-3]),
        Raises(ValueError, r"50 rows.*47|47.*50.*(paired|row)"),
    ),
    Case(
        "aligners",
        "score with NaN in y",
        lambda tmp: _fitted().score(X, np.where(Y > 1, np.nan, Y)),
        Raises(ValueError, r"y.*NaN"),
    ),
    Case(
        "aligners",
        "transform_type in capitals",
        lambda tmp: LatentAligner("Ortho").fit(X, Y),
        Raises(InvalidParameterError, r"transform_type.*'ortho'"),
    ),
    Case(
        "aligners",
        "alpha NaN",
        lambda tmp: LatentAligner("affine", alpha=np.nan).fit(X, Y),
        Raises(InvalidParameterError, r"alpha"),
    ),
    Case(
        "aligners",
        "alpha infinite",
        lambda tmp: LatentAligner("affine", alpha=np.inf).fit(X, Y),
        Raises((ValueError, InvalidParameterError), r"alpha.*(finite|inf)"),
    ),
    Case(
        "aligners",
        "alpha True",
        lambda tmp: LatentAligner("affine", alpha=True).fit(X, Y),
        Raises(InvalidParameterError, r"alpha.*(bool|True)"),
    ),
    Case(
        "aligners",
        "alpha 'Auto'",
        lambda tmp: LatentAligner("affine", alpha="Auto").fit(X, Y),
        Raises(InvalidParameterError, r"alpha.*'auto'"),
    ),
    Case(
        "aligners",
        "empty alphas grid",
        lambda tmp: LatentAligner("affine", alpha="auto", alphas=[]).fit(X, Y),
        Raises(ValueError, r"alphas must be a non-empty.*logspace"),
    ),
    Case(
        "aligners",
        "alphas grid with NaN",
        lambda tmp: LatentAligner("affine", alpha="auto", alphas=[1.0, np.nan]).fit(
            X, Y
        ),
        Raises(ValueError, r"alphas.*nan.*(Pass|None)"),
    ),
    Case(
        "aligners",
        "alphas grid with infinity",
        lambda tmp: LatentAligner("affine", alpha="auto", alphas=[1.0, np.inf]).fit(
            X, Y
        ),
        Raises(ValueError, r"alphas.*inf.*(finite|Pass)"),
    ),
    Case(
        "aligners",
        "alphas grid of strings",
        lambda tmp: LatentAligner("affine", alpha="auto", alphas=["a", "b"]).fit(X, Y),
        Raises((TypeError, ValueError), r"alphas.*(number|ridge strengths)"),
    ),
    Case(
        "aligners",
        "a constant target column is reproduced exactly",
        lambda tmp: _constant_target_column(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "a constant source column agrees with lstsq",
        lambda tmp: _constant_source_column(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "rank-deficient source anchors agree with lstsq",
        lambda tmp: _rank_deficient_source(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "every anchor pair twice gives the same map",
        lambda tmp: _every_anchor_twice(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "subnormal anchors",
        lambda tmp: _subnormal_anchors(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "one anchor 1e250 times the others",
        lambda tmp: _huge_and_ordinary_rows(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "float16 input is translated as its float64 values",
        lambda tmp: _float16_input(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "fit_alignment agrees with lstsq",
        lambda tmp: _fit_alignment_matches_lstsq(),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "fit_alignment with rows differing",
        lambda tmp: fit_alignment(X, Y[:-1], "affine"),
        Raises(ValueError, r"50 rows but y has 49.*paired"),
    ),
    Case(
        "aligners",
        "fit_alignment with a transform_type typo",
        lambda tmp: fit_alignment(X, Y, "afine"),
        Raises((ValueError, InvalidParameterError), r"transform_type.*'affine'"),
    ),
    Case(
        "aligners",
        "fit_alignment with NaN",
        lambda tmp: fit_alignment(np.where(X > 2, np.nan, X), Y, "ortho"),
        Raises(ValueError, r"NaN"),
    ),
    Case(
        "aligners",
        "fit_alignment with 1-D y",
        lambda tmp: fit_alignment(X, Y[:, 0], "ortho"),
        Raises(ValueError, r"1-D.*reshape\(-1, 1\)"),
    ),
    Case(
        "aligners",
        "NaiveAligner transform before fit",
        lambda tmp: NaiveAligner().transform(X),
        Raises(NotFittedError, r"not fitted.*fit"),
    ),
    Case(
        "aligners",
        "NaiveAligner transform of another width",
        lambda tmp: NaiveAligner().fit(X, Y).transform(X[:, :2]),
        Raises(ValueError, r"2 features.*expecting 5"),
    ),
    Case(
        "aligners",
        "NaiveAligner with NaN target",
        lambda tmp: NaiveAligner().fit(X, np.where(Y > 1, np.nan, Y)),
        Raises(ValueError, r"y.*NaN"),
    ),
    Case(
        "aligners",
        "NaiveAligner on all-zero source",
        lambda tmp: NaiveAligner().fit(np.zeros_like(X), Y).transform(X),
        Behaves(lambda out: np.isfinite(out).all()),
    ),
    Case(
        "aligners",
        "fit_alignment affine on anchors near 1e300",
        lambda tmp: _fit_alignment_scaled("affine", 1e300, 1e300),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "fit_alignment ortho on a source near 1e-300",
        lambda tmp: _fit_alignment_scaled("ortho", 1e-300, 1.0),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "fit_alignment linear with a target near 1e300",
        lambda tmp: _fit_alignment_scaled("linear", 1.0, 1e300),
        Behaves(bool),
    ),
    Case(
        "aligners",
        "fit_alignment with sides 2**1058 apart",
        lambda tmp: fit_alignment(X * 2.0**-1060, Y, "affine"),
        Raises(ValueError, r"factor of about 2\*\*1058.*power of two"),
    ),
    Case(
        "aligners",
        "a DataFrame with missing values (pandas NA)",
        lambda tmp: LatentAligner().fit(
            pd.DataFrame(X, columns=NAMES)
            .astype("Float64")
            .mask(pd.DataFrame(X, columns=NAMES) > 2),
            Y,
        ),
        Raises(ValueError, r"Input X contains NaN.*(impute|drop|remove)"),
    ),
    Case(
        "aligners",
        "a sparse matrix",
        lambda tmp: LatentAligner().fit(scipy.sparse.csr_matrix(X), Y),
        Raises(TypeError, r"[Ss]parse.*toarray"),
    ),
    Case(
        "aligners",
        "a target Series (one column) is 1-D",
        lambda tmp: LatentAligner().fit(X, pd.Series(Y[:, 0])),
        Raises(ValueError, r"1-D array.*reshape\(-1, 1\)"),
    ),
    Case(
        "aligners",
        "fit_transform without y",
        lambda tmp: LatentAligner().fit_transform(X),
        Raises((TypeError, ValueError), r"requires y.*Pass the target"),
    ),
]

CASES += [
    Case(
        "aligners",
        "score with the target columns reordered",
        lambda tmp: (
            LatentAligner("affine")
            .fit(X, pd.DataFrame(Y, columns=["t0", "t1", "t2", "t3"]))
            .score(X, pd.DataFrame(Y[:, ::-1], columns=["t3", "t2", "t1", "t0"]))
        ),
        Raises(
            ValueError,
            r"target columns.*\['t3'.*differ.*same columns in the same order",
        ),
    ),
    Case(
        "aligners",
        "score with the target columns in the fitted order",
        lambda tmp: (
            LatentAligner("affine")
            .fit(X, pd.DataFrame(Y, columns=["t0", "t1", "t2", "t3"]))
            .score(X, pd.DataFrame(Y, columns=["t0", "t1", "t2", "t3"]))
        ),
        Behaves(lambda value: abs(value - _fitted().score(X, Y)) < 1e-12),
    ),
]

CASES += [
    Case(
        "aligners",
        "Adam with learning_rate=1e30 (NaN map)",
        lambda tmp: LatentAligner(
            "affine", solver="adam", learning_rate=1e30, max_iter=200, random_state=0
        ).fit(X, Y),
        Raises(
            ValueError, r"Adam diverged with learning_rate=1e\+30.*Lower learning_rate"
        ),
    ),
    Case(
        "aligners",
        "Adam with learning_rate=1e10 (loss grows)",
        lambda tmp: LatentAligner(
            "affine", solver="adam", learning_rate=1e10, max_iter=200, random_state=0
        ).fit(X, Y),
        Raises(ValueError, r"Adam diverged with learning_rate=1.*Lower learning_rate"),
    ),
]
