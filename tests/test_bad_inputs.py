"""Bad inputs to the estimators: each raises (or warns) naming the problem.

One table per component; every case asserts the error type and that the
message names the problem and the fix (a regex on its key words). The
parametrised refit test checks that a failed refit never changes a fitted
estimator's output. The extractor's, the evaluation's and the command line's
catalogues live in tests/extract/, tests/evaluation/ and test_cli_bad_inputs.py.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import InvalidParameterError

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
    ZeroShotTextSpaceClassifier,
    fit_alignment,
)
from skalign._validation import DegenerateAnchorsWarning, check_same_device
from skalign.evaluation import NaiveAligner
from skalign.metrics import mean_cosine_similarity
from skalign.retrieval import ReportRetriever, retrieve
from tests._toy_encoders import LookupTextEncoder

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 6))
Y = X @ RNG.normal(size=(6, 4)) + 0.01 * RNG.normal(size=(40, 4))
ONE = RNG.normal(size=(1, 6))
ONE_Y = RNG.normal(size=(1, 4))


def _fitted_aligner():
    return LatentAligner("affine").fit(X, Y)


# --- LatentAligner (and the functional twin) ---------------------------------

ALIGNER_CASES = {
    "y missing": (
        lambda: LatentAligner().fit(X, None),
        ValueError,
        r"requires y.*Pass the target-space anchor",
    ),
    "y 1-D": (
        lambda: LatentAligner().fit(X, Y[:, 0]),
        ValueError,
        r"1-D array.*reshape\(-1, 1\)",
    ),
    "rows differ": (
        lambda: LatentAligner().fit(X, Y[:-1]),
        ValueError,
        r"X has 40 rows but y has 39.*paired row by row",
    ),
    "one anchor": (
        lambda: LatentAligner().fit(X[:1], Y[:1]),
        ValueError,
        r"1 sample.*minimum of 2",
    ),
    "NaN in X": (
        lambda: LatentAligner().fit(np.where(X > 2, np.nan, X), Y),
        ValueError,
        r"NaN",
    ),
    "inf in y": (
        lambda: LatentAligner().fit(X, np.where(Y > 2, np.inf, Y)),
        ValueError,
        r"infinity",
    ),
    "strings as X": (
        lambda: LatentAligner().fit([["a", "b"], ["c", "d"]], Y[:2]),
        ValueError,
        r"numeric embeddings.*EmbeddingExtractor",
    ),
    "all-zero source anchors": (
        lambda: LatentAligner().fit(np.zeros_like(X), Y),
        ValueError,
        r"Every source anchor \(X\) is the same vector \(all 40 rows",
    ),
    "constant target anchors": (
        lambda: LatentAligner("affine").fit(X, np.ones_like(Y)),
        ValueError,
        r"Every target anchor \(y\) is the same vector",
    ),
    "60 copies of one pair, affine": (
        lambda: LatentAligner("affine").fit(
            np.repeat(ONE, 60, 0), np.repeat(ONE_Y, 60, 0)
        ),
        ValueError,
        r"same vector \(all 60 rows equal.*transform_type='affine'",
    ),
    "60 copies of one pair, ortho": (
        lambda: LatentAligner("ortho").fit(
            np.repeat(ONE, 60, 0), np.repeat(ONE_Y, 60, 0)
        ),
        ValueError,
        r"transform_type='ortho'\) cannot learn a map",
    ),
    "copies of one pair, fit_alignment": (
        lambda: fit_alignment(np.repeat(ONE, 5, 0), np.repeat(ONE_Y, 5, 0), "linear"),
        ValueError,
        r"fit_alignment.*cannot learn a map",
    ),
    "copies of one pair, kernel": (
        lambda: AnchorKernelAligner().fit(np.repeat(ONE, 5, 0), Y[:5]),
        ValueError,
        r"same vector.*AnchorKernelAligner cannot learn",
    ),
    "bad transform_type": (
        lambda: LatentAligner("rotation").fit(X, Y),
        InvalidParameterError,
        r"transform_type.*'affine'",
    ),
    "negative alpha": (
        lambda: LatentAligner(alpha=-1.0).fit(X, Y),
        InvalidParameterError,
        r"'alpha' parameter.*range \[0.0, inf\)",
    ),
    "transform width": (
        lambda: _fitted_aligner().transform(X[:, :3]),
        ValueError,
        r"3 features.*expecting 6",
    ),
    "inverse_transform width": (
        lambda: _fitted_aligner().inverse_transform(X),
        ValueError,
        r"6 features.*expecting 4 features.*target",
    ),
    "score width": (
        lambda: _fitted_aligner().score(X, X),
        ValueError,
        r"expecting 4 features.*target",
    ),
    "transform before fit": (
        lambda: LatentAligner().transform(X),
        Exception,
        r"not fitted",
    ),
    "tensors on two devices": (
        lambda: mean_cosine_similarity(
            torch.zeros(2, 2), torch.zeros(2, 2, device="meta")
        ),
        ValueError,
        r"Y_true is on device cpu but Y_pred is on device meta.*\.to\('cpu'\)",
    ),
    "check_same_device, 3 tensors": (
        lambda: check_same_device(
            a=torch.zeros(1), b=np.zeros(1), c=torch.zeros(1, device="meta")
        ),
        ValueError,
        r"a is on device cpu but c is on device meta",
    ),
    "naive: y missing": (
        lambda: NaiveAligner().fit(X, None),
        ValueError,
        r"requires y",
    ),
    "adapter: rows differ": (
        lambda: AdapterAligner().fit(X, Y[:10]),
        ValueError,
        r"X has 40 rows but y has 10",
    ),
    "self-learning: bad matching": (
        lambda: SelfLearningAligner(matching="best").fit(X, Y),
        InvalidParameterError,
        r"matching.*'mutual'",
    ),
}


@pytest.mark.parametrize("case", ALIGNER_CASES, ids=list(ALIGNER_CASES))
def test_aligner_bad_input_is_named(case):
    call, error, pattern = ALIGNER_CASES[case]
    with pytest.raises(error, match=pattern):
        call()


def test_mostly_repeated_anchor_pairs_warn_with_the_numbers():
    X_rep = np.vstack([np.repeat(ONE, 57, 0), X[:3]])
    Y_rep = np.vstack([np.repeat(ONE_Y, 57, 0), Y[:3]])
    with pytest.warns(DegenerateAnchorsWarning, match=r"Only 4 of the 60.*rank.*: 3"):
        LatentAligner("ortho").fit(X_rep, Y_rep)


def test_distinct_anchors_fewer_than_features_do_not_warn():
    wide = RNG.normal(size=(10, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateAnchorsWarning)
        LatentAligner("ortho").fit(wide, wide[:, :20])


@pytest.mark.parametrize("transform_type", ["affine", "linear", "ortho", "l-ortho"])
@pytest.mark.parametrize("std_scaling", [True, False])
@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_extreme_magnitudes_give_the_scaled_result(transform_type, std_scaling, scale):
    """Anchors near 1e300 (or 1e-300) are solved without overflow: the map
    equals the one on the same data scaled down, times the scale."""
    params = dict(transform_type=transform_type, std_scaling=std_scaling)
    reference = LatentAligner(**params).fit(X, Y).transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow warning
        big = LatentAligner(**params).fit(X * scale, Y * scale).transform(X * scale)
    assert np.isfinite(big).all()
    np.testing.assert_allclose(big / scale, reference, rtol=1e-7, atol=1e-9)


def test_extreme_magnitudes_with_unit_rows():
    reference = LatentAligner(l2_normalize=True).fit(X, Y).transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = LatentAligner(l2_normalize=True).fit(X * 1e300, Y * 1e300)
        translated = big.transform(X * 1e300)
    np.testing.assert_allclose(translated, reference, rtol=1e-7, atol=1e-12)


# --- ZeroShotTextSpaceClassifier -----------------------------------------------

PROMPT_TABLE = {"cat": [1.0, 0.0, 0.0, 0.0], "dog": [0.0, 1.0, 0.0, 0.0]}
TEXTS = {"a cat": [1.0, 0.1, 0.0, 0.0], "a dog": [0.1, 1.0, 0.0, 0.0]}
IMAGES = RNG.normal(size=(20, 4))


def _zero_shot(class_prompts, **params):
    return ZeroShotTextSpaceClassifier(class_prompts, **params)


ZERO_SHOT_CASES = {
    "one class": (
        lambda: _zero_shot({"cat": [[1.0, 0.0]]}).fit(IMAGES[:, :2]),
        ValueError,
        r"at least two classes",
    ),
    "class prompts None": (
        lambda: _zero_shot({"cat": None, "dog": [[0.0, 1.0]]}).fit(IMAGES[:, :2]),
        ValueError,
        r"class_prompts\['cat'\] is None",
    ),
    "text prompts, no encoder": (
        lambda: _zero_shot({"cat": ["a cat"], "dog": ["a dog"]}).fit(IMAGES),
        TypeError,
        r"holds text.*text_encoder",
    ),
    "empty prompt list": (
        lambda: _zero_shot(
            {"cat": [], "dog": ["a dog"]}, text_encoder=LookupTextEncoder(TEXTS)
        ).fit(IMAGES),
        ValueError,
        r"Class 'cat' has no prompts",
    ),
    "prompt not a string": (
        lambda: _zero_shot(
            {"cat": ["a cat", 3], "dog": ["a dog"]},
            text_encoder=LookupTextEncoder(TEXTS),
        ).fit(IMAGES),
        TypeError,
        r"class_prompts\['cat'\] holds 3",
    ),
    "prompt embeddings of two widths": (
        lambda: _zero_shot({"cat": [[1.0, 0.0]], "dog": [[0.0, 1.0, 0.0]]}).fit(IMAGES),
        ValueError,
        r"width|features",
    ),
    "identical prompt embeddings": (
        lambda: _zero_shot({"cat": [[1.0, 0.0]], "dog": [[1.0, 0.0]]}).fit(
            IMAGES[:, :2]
        ),
        ValueError,
        r"identical|same",
    ),
    "temperature 1e-310": (
        lambda: _zero_shot(PROMPT_TABLE, temperature=1e-310).fit(IMAGES),
        InvalidParameterError,
        r"temperature",
    ),
    "image width != text width": (
        lambda: _zero_shot({"cat": [[1.0, 0.0]], "dog": [[0.0, 1.0]]}).fit(IMAGES),
        ValueError,
        r"4 features|width|2",
    ),
    "unfitted aligner, no labels": (
        lambda: _zero_shot(
            {c: [v] for c, v in PROMPT_TABLE.items()}, aligner=LatentAligner()
        ).fit(IMAGES),
        Exception,
        r"fitted|labels",
    ),
    "labels without prompts": (
        lambda: _zero_shot(
            {c: [v] for c, v in PROMPT_TABLE.items()}, y_kind="labels"
        ).fit(IMAGES, ["cat"] * 10 + ["bird"] * 10),
        ValueError,
        r"bird",
    ),
    "NaN image": (
        lambda: _zero_shot({c: [v] for c, v in PROMPT_TABLE.items()}).fit(
            np.where(IMAGES > 1.5, np.nan, IMAGES)
        ),
        ValueError,
        r"NaN",
    ),
}


@pytest.mark.parametrize("case", ZERO_SHOT_CASES, ids=list(ZERO_SHOT_CASES))
def test_zero_shot_bad_input_is_named(case):
    call, error, pattern = ZERO_SHOT_CASES[case]
    with pytest.raises(error, match=pattern):
        call()


def test_a_string_prompt_is_one_prompt_not_characters():
    encoder = LookupTextEncoder(TEXTS)
    as_string = _zero_shot({"cat": "a cat", "dog": "a dog"}, text_encoder=encoder)
    as_list = _zero_shot({"cat": ["a cat"], "dog": ["a dog"]}, text_encoder=encoder)
    np.testing.assert_array_equal(
        as_string.fit(IMAGES).decision_function(IMAGES),
        as_list.fit(IMAGES).decision_function(IMAGES),
    )


# --- retrieval -----------------------------------------------------------------

REPORTS = ["a cat", "a dog", "a cat"]
REPORT_IMAGES = np.array(
    [[1.0, 0.1, 0.0, 0.0], [0.1, 1.0, 0.0, 0.0], [0.9, 0.2, 0.0, 0.0]]
)


def _retriever(**params):
    return ReportRetriever(LookupTextEncoder(TEXTS), **params).fit(
        REPORT_IMAGES, REPORTS
    )


RETRIEVAL_CASES = {
    "suggest more reports than distinct": (
        lambda: _retriever().suggest(REPORT_IMAGES, n_reports=5),
        ValueError,
        r"suggest\(n_reports=5\).*fitted on 2 distinct.*Ask for 1 to 2",
    ),
    "n_reports at fit too large": (
        lambda: _retriever(n_reports=3).suggest(REPORT_IMAGES),
        ValueError,
        r"n_reports=3 \(set at fit\).*2 distinct",
    ),
    "n_reports zero": (
        lambda: _retriever().suggest(REPORT_IMAGES, n_reports=0),
        ValueError,
        r"n_reports=0.*Ask for 1 to 2",
    ),
    "n_reports float": (
        lambda: _retriever().suggest(REPORT_IMAGES, n_reports=1.5),
        TypeError,
        r"n_reports must be a whole number",
    ),
    "reports not strings": (
        lambda: ReportRetriever(LookupTextEncoder(TEXTS)).fit(REPORT_IMAGES, [1, 2, 3]),
        TypeError,
        r"one report \(a string\)",
    ),
    "reports count": (
        lambda: ReportRetriever(LookupTextEncoder(TEXTS)).fit(
            REPORT_IMAGES, REPORTS[:2]
        ),
        ValueError,
        r"3 anchor images but y has 2 reports",
    ),
    "retrieve k too large": (
        lambda: retrieve(REPORT_IMAGES, REPORT_IMAGES, k=9),
        ValueError,
        r"k=9 exceeds the gallery size 3",
    ),
    "retrieve widths": (
        lambda: retrieve(REPORT_IMAGES, REPORT_IMAGES[:, :2]),
        ValueError,
        r"4 features but the gallery has 2",
    ),
}


@pytest.mark.parametrize("case", RETRIEVAL_CASES, ids=list(RETRIEVAL_CASES))
def test_retrieval_bad_input_is_named(case):
    call, error, pattern = RETRIEVAL_CASES[case]
    with pytest.raises(error, match=pattern):
        call()


def test_retrieve_accepts_tensors_on_any_device_by_copying_to_host():
    queries = torch.tensor(REPORT_IMAGES)
    indices, _ = retrieve(queries, REPORT_IMAGES, k=1)
    np.testing.assert_array_equal(indices.ravel(), [0, 1, 2])


# --- fitted state is fixed at fit ----------------------------------------------

PROMPTS_2D = {c: [v] for c, v in PROMPT_TABLE.items()}


def _outputs(estimator, X_in):
    if isinstance(estimator, ZeroShotTextSpaceClassifier):
        return [estimator.predict_proba(X_in), estimator.decision_function(X_in)]
    if isinstance(estimator, ReportRetriever):
        return list(estimator.suggest(X_in))
    outputs = [estimator.transform(X_in)]
    if hasattr(estimator, "inverse_transform"):
        outputs.append(estimator.inverse_transform(outputs[0]))
    return outputs


# (estimator, fit arguments, input, a valid change that would alter the
# output if read at transform time, an invalid value that fails the refit)
REFIT_CASES = {
    "LatentAligner ortho": (
        LatentAligner("ortho"),
        (X, Y),
        X,
        {"l2_normalize": True, "transform_type": "affine"},
        {"alpha": -1.0},
    ),
    "LatentAligner affine": (
        LatentAligner("affine", alpha=0.1),
        (X, Y),
        X,
        {"l2_normalize": True, "alpha": 10.0},
        {"center": "yes"},
    ),
    "LatentAligner l-ortho": (
        LatentAligner("l-ortho"),
        (X, Y),
        X,
        {"l2_normalize": True, "transform_type": "ortho"},
        {"solver": "sgd"},
    ),
    "NaiveAligner": (
        NaiveAligner(),
        (X, Y),
        X,
        {"l2_normalize": True},
        {"std_scaling": "no"},
    ),
    "AnchorKernelAligner": (
        AnchorKernelAligner(n_neighbors=3, temperature=0.05),
        (X, Y),
        X,
        {"temperature": 5.0},
        {"n_neighbors": 0},
    ),
    "SelfLearningAligner": (
        SelfLearningAligner(n_iter=2),
        (X, Y),
        X,
        {"aligner": LatentAligner("affine", l2_normalize=True)},
        {"n_iter": 0},
    ),
    "AdapterAligner": (
        AdapterAligner(n_blocks=1, max_iter=5, random_state=0),
        (X, Y),
        X,
        {"base": "affine"},
        {"n_blocks": -1},
    ),
    "ZeroShotTextSpaceClassifier": (
        ZeroShotTextSpaceClassifier(PROMPTS_2D, temperature=0.05),
        (IMAGES,),
        IMAGES,
        {"temperature": 1.0, "prompt_pooling": "similarity", "hubness": "csls"},
        {"hubness_neighbors": 0},
    ),
    "ReportRetriever": (
        ReportRetriever(LookupTextEncoder(TEXTS), n_reports=1),
        (REPORT_IMAGES, REPORTS),
        REPORT_IMAGES,
        {"n_reports": 2},
        {"aligner": "not an estimator"},
    ),
}


@pytest.mark.parametrize("case", REFIT_CASES, ids=list(REFIT_CASES))
@pytest.mark.parametrize("failure", ["invalid parameter", "invalid data"])
def test_a_failed_refit_leaves_the_fitted_output_unchanged(case, failure):
    template, fit_args, X_in, change, invalid = REFIT_CASES[case]
    estimator = clone(template).fit(*fit_args)
    before = _outputs(estimator, X_in)
    if failure == "invalid parameter":
        estimator.set_params(**change, **invalid)
        bad_args = fit_args
    else:
        estimator.set_params(**change)
        bad_args = (np.full_like(fit_args[0], np.nan), *fit_args[1:])
    with pytest.raises((ValueError, TypeError)):
        estimator.fit(*bad_args)
    for after, expected in zip(_outputs(estimator, X_in), before, strict=True):
        np.testing.assert_array_equal(after, expected)


def test_frozen_aligner_in_a_classifier_keeps_its_state():
    aligner = LatentAligner("affine").fit(IMAGES, IMAGES)
    clf = ZeroShotTextSpaceClassifier(PROMPTS_2D, aligner=FrozenEstimator(aligner))
    before = clf.fit(IMAGES).predict_proba(IMAGES)
    aligner.set_params(l2_normalize=True)
    np.testing.assert_array_equal(clf.predict_proba(IMAGES), before)


# --- scale invariance of every aligner (issue 23 item 6) -----------------------


@pytest.mark.parametrize("transform_type", ["ortho", "affine", "linear", "l-ortho"])
@pytest.mark.parametrize("std_scaling", [True, False])
@pytest.mark.parametrize(
    "x_scale, y_scale",
    [(1e300, 1e300), (1e300, 1.0), (1.0, 1e300), (1e-300, 1.0), (1e-310, 1e-310)],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit", "dask"])
def test_latent_aligner_is_scale_invariant_per_side(
    transform_type, std_scaling, x_scale, y_scale, method
):
    """Each side multiplied by its own c (near 1e300, 1e-300, subnormal) gives
    the unscaled translation times the target's c (an unscaled isometry keeps
    the source's units): never every input sent to one vector, never NaN."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4))
    Y = X @ rng.normal(size=(4, 3)) + 0.1 * rng.normal(size=(60, 3))
    params = dict(transform_type=transform_type, std_scaling=std_scaling)
    isometry = not std_scaling and transform_type in ("ortho", "l-ortho")
    if isometry and x_scale != y_scale:
        params["center"] = False  # the target's mean is in the target's units
    reference = LatentAligner(**params).fit(X, Y).transform(X[:10])
    X_c, Y_c = X * x_scale, Y * y_scale
    aligner = LatentAligner(**params)
    if method == "fit":
        aligner.fit(X_c, Y_c)
    elif method == "partial_fit":
        aligner.partial_fit(X_c[:30], Y_c[:30]).partial_fit(X_c[30:], Y_c[30:])
    else:
        da = pytest.importorskip("dask.array")
        aligner.fit(da.from_array(X_c, chunks=25), da.from_array(Y_c, chunks=25))
    translated = aligner.transform(X_c[:10]) / (x_scale if isometry else y_scale)
    np.testing.assert_allclose(translated, reference, rtol=1e-9, atol=1e-9)


def test_sides_too_far_apart_for_one_float64_map_are_refused_before_any_change():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    aligner = LatentAligner("affine").fit(X, Y)
    coef = aligner.coef_.copy()
    with pytest.raises(ValueError, match=r"factor of about 2\*\*-13.*power of two"):
        aligner.fit(X * 1e200, Y * 1e-200)
    np.testing.assert_array_equal(aligner.coef_, coef)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300])
def test_adapter_aligner_is_scale_invariant(scale):
    """No NaN at 1e200 and the same learned blocks at 1e-200 as at 1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    Y = np.c_[X[:, :2], X[:, 2:] + np.tanh(X[:, :2])]
    reference = AdapterAligner(random_state=0, max_iter=40).fit(X, Y)
    scaled = AdapterAligner(random_state=0, max_iter=40).fit(X * scale, Y * scale)
    assert reference.best_iter_ > 0 and scaled.best_iter_ == reference.best_iter_
    np.testing.assert_allclose(
        scaled.transform(X * scale) / scale, reference.transform(X), atol=1e-9
    )


@pytest.mark.parametrize(
    "aligner",
    [NaiveAligner(), AnchorKernelAligner(), SelfLearningAligner()],
    ids=lambda aligner: type(aligner).__name__,
)
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_other_aligners_are_scale_invariant(aligner, scale):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 4)) + 1.0
    Y = X @ rng.normal(size=(4, 3))
    reference = clone(aligner).fit(X, Y).transform(X)
    scaled = clone(aligner).fit(X * scale, Y * scale).transform(X * scale) / scale
    np.testing.assert_allclose(scaled, reference, rtol=1e-9, atol=1e-9)


def test_a_zero_row_translates_to_the_target_mean_whatever_the_anchor_order():
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    zero = np.zeros((2, 3))
    for order in (np.arange(30), rng.permutation(30), rng.permutation(30)):
        for n_neighbors in (1, 5, None):
            aligner = AnchorKernelAligner(n_neighbors).fit(X[order], Y[order])
            np.testing.assert_allclose(aligner.transform(zero), [Y.mean(0)] * 2)
            zero_tensor = torch.zeros(2, 3, dtype=torch.float64)
            np.testing.assert_allclose(
                aligner.transform(zero_tensor).numpy(), [Y.mean(0)] * 2
            )
