"""Weighted anchors (``sample_weight``) in fit, partial_fit and score of every
aligner: bad values and shapes, and what the edge weights mean."""

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
)
from skalign.evaluation import NaiveAligner
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(2)
X = RNG.normal(size=(40, 5))
Y = X @ RNG.normal(size=(5, 3)) + 0.05 * RNG.normal(size=(40, 3))
N = len(X)


def _weights(**at):
    weights = np.ones(N)
    for index, value in at.items():
        weights[int(index[1:])] = value
    return weights


def _one_nonzero():
    weights = np.zeros(N)
    weights[3] = 1.0
    return weights


def _mask_is_subset(aligner):
    mask = np.arange(N) % 3 != 0
    weighted = aligner.fit(X, Y, sample_weight=mask)
    reference = type(aligner)(**aligner.get_params()).fit(X[mask], Y[mask])
    np.testing.assert_allclose(weighted.transform(X), reference.transform(X), atol=1e-9)
    return True


def _scale_free_weights(scale):
    weights = np.linspace(0.5, 2.0, N)
    scaled = LatentAligner("affine").fit(X, Y, sample_weight=weights * scale)
    reference = LatentAligner("affine").fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(scaled.transform(X), reference.transform(X), atol=1e-9)
    return True


def _score_weights_as_repeats():
    aligner = LatentAligner("affine").fit(X, Y)
    weights = np.arange(N) % 3
    repeated = np.repeat(np.arange(N), weights)
    expected = aligner.score(X[repeated], Y[repeated])
    assert abs(aligner.score(X, Y, sample_weight=weights) - expected) < 1e-12
    return True


def _tensor_weights():
    weights = np.linspace(0.5, 2.0, N)
    from_tensor = LatentAligner("affine").fit(
        X, Y, sample_weight=torch.from_numpy(weights)
    )
    reference = LatentAligner("affine").fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(
        from_tensor.transform(X), reference.transform(X), atol=1e-12
    )
    return True


WEIGHT_MESSAGE = r"sample_weight.*{what}.*(Pass|give|one weight)"

CASES = [
    Case(
        "weights",
        "negative weight",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=_weights(w4=-1.0)),
        Raises(ValueError, r"sample_weight.*negative.*-1.*(row|pair) 4"),
    ),
    Case(
        "weights",
        "NaN weight",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=_weights(w7=np.nan)),
        Raises(ValueError, r"sample_weight.*NaN.*(row|pair) 7"),
    ),
    Case(
        "weights",
        "infinite weight",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=_weights(w1=np.inf)),
        Raises(ValueError, r"sample_weight.*infinity.*finite"),
    ),
    Case(
        "weights",
        "all weights zero",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=np.zeros(N)),
        Raises(ValueError, r"sample_weight sums to zero.*weight > 0"),
    ),
    Case(
        "weights",
        "weights of the wrong length",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=np.ones(N - 1)),
        Raises(ValueError, r"sample_weight.*\(40,\).*got shape \(39,\)"),
    ),
    Case(
        "weights",
        "2-D weights",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=np.ones((N, 1))),
        Raises(ValueError, r"sample_weight.*\(40,\).*\(40, 1\)"),
    ),
    Case(
        "weights",
        "weights as strings",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=["1"] * N),
        Raises((TypeError, ValueError), r"sample_weight.*(number|numeric)"),
    ),
    Case(
        "weights",
        "weights as words",
        lambda tmp: LatentAligner().fit(X, Y, sample_weight=["high"] * N),
        Raises((TypeError, ValueError), r"sample_weight.*(number|numeric)"),
    ),
    Case(
        "weights",
        "one non-zero weight, LatentAligner",
        lambda tmp: LatentAligner("affine").fit(X, Y, sample_weight=_one_nonzero()),
        Raises(ValueError, r"sample_weight is positive on 1 paired rows.*at least 2"),
    ),
    Case(
        "weights",
        "one non-zero weight, AnchorKernelAligner",
        lambda tmp: AnchorKernelAligner().fit(X, Y, sample_weight=_one_nonzero()),
        Raises(ValueError, r"sample_weight is positive on 1 paired rows.*at least 2"),
    ),
    Case(
        "weights",
        "one non-zero weight, AdapterAligner",
        lambda tmp: AdapterAligner(max_iter=2).fit(X, Y, sample_weight=_one_nonzero()),
        Raises(ValueError, r"sample_weight is positive on 1 paired rows.*at least 2"),
    ),
    Case(
        "weights",
        "one non-zero weight, NaiveAligner",
        lambda tmp: NaiveAligner().fit(X, Y, sample_weight=_one_nonzero()),
        Raises(ValueError, r"sample_weight is positive on 1 paired rows.*at least 2"),
    ),
    Case(
        "weights",
        "weights that keep only copies of one pair",
        lambda tmp: LatentAligner("affine").fit(
            np.vstack([X[:1]] * 3 + [X]),
            np.vstack([Y[:1]] * 3 + [Y]),
            sample_weight=np.r_[np.ones(3), np.zeros(N)],
        ),
        Raises(ValueError, r"(same vector|1 pair|distinct).*(at least 2|differ)"),
    ),
    Case(
        "weights",
        "one non-zero weight among the pairs, SelfLearningAligner",
        lambda tmp: SelfLearningAligner().fit(X, Y, sample_weight=_one_nonzero()),
        Raises(ValueError, r"sample_weight is positive on 1 paired rows.*at least 2"),
    ),
    Case(
        "weights",
        "a boolean mask is the fit on the kept rows",
        lambda tmp: _mask_is_subset(LatentAligner("affine")),
        Behaves(bool),
    ),
    Case(
        "weights",
        "a boolean mask, AnchorKernelAligner",
        lambda tmp: _mask_is_subset(AnchorKernelAligner(n_neighbors=None)),
        Behaves(bool),
    ),
    Case(
        "weights",
        "weights near 1e300 give the unscaled fit",
        lambda tmp: _scale_free_weights(1e300),
        Behaves(bool),
    ),
    Case(
        "weights",
        "weights near 1e-300 give the unscaled fit",
        lambda tmp: _scale_free_weights(1e-300),
        Behaves(bool),
    ),
    Case(
        "weights",
        "weights as a tensor",
        lambda tmp: _tensor_weights(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "score weights as repeated rows",
        lambda tmp: _score_weights_as_repeats(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "score with weights of the wrong length",
        lambda tmp: LatentAligner().fit(X, Y).score(X, Y, sample_weight=np.ones(3)),
        Raises(ValueError, r"sample_weight.*\(40,\).*\(3,\)"),
    ),
    Case(
        "weights",
        "score with all weights zero",
        lambda tmp: LatentAligner().fit(X, Y).score(X, Y, sample_weight=np.zeros(N)),
        Raises(ValueError, r"sample_weight sums to zero.*weight > 0"),
    ),
    Case(
        "weights",
        "partial_fit with weights of the wrong length",
        lambda tmp: LatentAligner().partial_fit(X, Y, sample_weight=np.ones(N + 2)),
        Raises(ValueError, r"sample_weight.*\(40,\).*\(42,\)"),
    ),
    Case(
        "weights",
        "weights with solver='adam'",
        lambda tmp: LatentAligner("affine", solver="adam", max_iter=5).fit(
            X, Y, sample_weight=np.ones(N)
        ),
        Raises(ValueError, r"sample_weight needs solver='closed-form'"),
    ),
    Case(
        "weights",
        "weights to an adapter whose base takes none",
        lambda tmp: AdapterAligner(base=make_pipeline(StandardScaler())).fit(
            X, Y, sample_weight=np.ones(N)
        ),
        Raises(TypeError, r"does not accept sample_weight.*LatentAligner"),
    ),
]


def _weights_scale_free(aligner, scale):
    # weights * scale, then back: the reference sees the same (rounded) ratios
    weights = (np.linspace(0.5, 2.0, N) * scale) / scale
    scaled = aligner.fit(X, Y, sample_weight=weights * scale).transform(X)
    reference = type(aligner)(**aligner.get_params()).fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(scaled, reference.transform(X), atol=1e-9)
    return True


def _score_weights_near_max():
    aligner = LatentAligner("affine").fit(X, Y)
    weights = np.linspace(0.5, 2.0, N)
    expected = aligner.score(X, Y, sample_weight=weights)
    got = aligner.score(X, Y, sample_weight=weights * (1e308 / 2))
    assert abs(got - expected) < 1e-12
    return True


CASES += [
    Case(
        "weights",
        "weights near 1e308 (their sum overflows)",
        lambda tmp: _weights_scale_free(LatentAligner("affine"), 1e308 / 2),
        Behaves(bool),
    ),
    Case(
        "weights",
        "subnormal weights",
        lambda tmp: _weights_scale_free(LatentAligner("affine"), 2.0**-1060),
        Behaves(bool),
    ),
    Case(
        "weights",
        "NaiveAligner with weights near 1e308",
        lambda tmp: _weights_scale_free(NaiveAligner(), 1e308 / 2),
        Behaves(bool),
    ),
    Case(
        "weights",
        "score with weights near 1e308",
        lambda tmp: _score_weights_near_max(),
        Behaves(bool),
    ),
    Case(
        "weights",
        "SelfLearningAligner with weights near 1e308",
        lambda tmp: (
            SelfLearningAligner(n_folds=None)
            .fit(X, Y, sample_weight=np.full(N, 1e308))
            .transform(X[:2])
        ),
        Behaves(lambda out: np.isfinite(out).all()),
    ),
    Case(
        "weights",
        "partial_fit with weights near 1e308",
        lambda tmp: LatentAligner("affine").partial_fit(
            X, Y, sample_weight=np.full(N, 1e308)
        ),
        Raises(ValueError, r"between 2\*\*-256 and 2\*\*256.*one constant"),
    ),
]
