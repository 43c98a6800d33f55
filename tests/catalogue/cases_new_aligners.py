"""The aligners beyond the paper: SelfLearningAligner (NaN-marked unpaired
pools, the matching guard), AdapterAligner and AnchorKernelAligner."""

import numpy as np
import torch
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns

RNG = np.random.default_rng(4)
X = RNG.normal(size=(40, 4))
Y = X @ np.linalg.qr(RNG.normal(size=(4, 4)))[0]


def _unpaired(n_pairs=8):
    """Rows 0..n_pairs-1 paired; the rest split into unpaired sources (y NaN)
    and unpaired targets (X NaN), shuffled."""
    X_u, Y_u = X.copy(), Y.copy()
    half = (len(X) + n_pairs) // 2
    Y_u[n_pairs:half] = np.nan
    X_u[half:] = np.nan
    return X_u, Y_u


def _self_learning_score_skips_unpaired():
    X_u, Y_u = _unpaired()
    aligner = SelfLearningAligner(n_folds=None).fit(X_u, Y_u)
    expected = aligner.aligner_.score(X[:8], Y[:8])
    assert abs(aligner.score(X_u, Y_u) - expected) < 1e-12
    return True


def _pool_of_one_each():
    X_u, Y_u = X[:6].copy(), Y[:6].copy()
    Y_u[4], X_u[5] = np.nan, np.nan
    aligner = SelfLearningAligner(n_folds=None).fit(X_u, Y_u)
    assert np.isfinite(aligner.transform(X[:3])).all()
    return aligner


def _neighbors_beyond_pool():
    X_u, Y_u = _unpaired()
    big = SelfLearningAligner(n_neighbors=500, n_folds=None).fit(X_u, Y_u)
    exact = SelfLearningAligner(n_neighbors=16, n_folds=None).fit(X_u, Y_u)
    np.testing.assert_array_equal(big.matches_, exact.matches_)
    return True


def _tensor_pool():
    X_u, Y_u = _unpaired()
    from_tensor = SelfLearningAligner(n_folds=None).fit(
        torch.from_numpy(X_u), torch.from_numpy(Y_u)
    )
    reference = SelfLearningAligner(n_folds=None).fit(X_u, Y_u)
    np.testing.assert_array_equal(from_tensor.matches_, reference.matches_)
    return True


def _duplicated_target_pool():
    X_u, Y_u = _unpaired()
    X_u[30:] = np.nan
    Y_u[30:] = Y[30]  # ten copies of one unpaired target
    aligner = SelfLearningAligner(n_folds=None).fit(X_u, Y_u)
    # one target can be matched once at most (mutual matching)
    assert len(set(aligner.matches_[:, 1].tolist())) == len(aligner.matches_)
    return True


def _kernel_one_neighbor_is_nearest():
    aligner = AnchorKernelAligner(n_neighbors=1).fit(X, Y)
    np.testing.assert_allclose(aligner.transform(X), Y, atol=1e-12)
    return True


def _kernel_neighbors_beyond_anchors():
    many = AnchorKernelAligner(n_neighbors=1000).fit(X, Y).transform(X[:5])
    every = AnchorKernelAligner(n_neighbors=None).fit(X, Y).transform(X[:5])
    np.testing.assert_allclose(many, every, atol=1e-12)
    return True


def _kernel_duplicated_anchors():
    """An anchor stored twice counts twice in the softmax, as its weight 2."""
    rows = np.r_[np.arange(40), 0]
    doubled = AnchorKernelAligner(n_neighbors=None, temperature=1.0).fit(
        X[rows], Y[rows]
    )
    weights = np.ones(40)
    weights[0] = 2.0
    weighted = AnchorKernelAligner(n_neighbors=None, temperature=1.0).fit(
        X, Y, sample_weight=weights
    )
    np.testing.assert_allclose(
        doubled.transform(X[:5]), weighted.transform(X[:5]), atol=1e-12
    )
    return True


def _adapter_inverse_round_trip():
    aligner = AdapterAligner(base="ortho", max_iter=5, random_state=0).fit(X, Y)
    np.testing.assert_allclose(
        aligner.inverse_transform(aligner.transform(X)), X, atol=1e-8
    )
    return True


def _adapter_two_anchors():
    aligner = AdapterAligner(base="affine", max_iter=3, random_state=0).fit(
        X[:2], Y[:2]
    )
    assert aligner.blocks_ == [] and np.isfinite(aligner.transform(X)).all()
    return True


def _score_one_pair():
    aligner = SelfLearningAligner(n_folds=None).fit(X, Y)
    rows = np.vstack([X[:1], np.full((2, 4), np.nan)])
    expected = aligner.aligner_.score(X[:1], Y[:1])
    assert abs(aligner.score(rows, Y[:3]) - expected) < 1e-12
    return True


CASES = [
    Case(
        "self-learning",
        "one pair, the rest unpaired",
        lambda tmp: SelfLearningAligner().fit(*_unpaired(n_pairs=1)),
        Raises(ValueError, r"1 pair\(s\).*at least 2 paired row"),
    ),
    Case(
        "self-learning",
        "a row partly NaN",
        lambda tmp: SelfLearningAligner().fit(
            np.vstack([X[:3], [[np.nan, 1.0, 2.0, 3.0]], X[4:]]), Y
        ),
        Raises(ValueError, r"Row 3 of X is partly NaN.*impute or drop"),
    ),
    Case(
        "self-learning",
        "a row NaN on both sides",
        lambda tmp: SelfLearningAligner().fit(
            np.vstack([X[:5], np.full((1, 4), np.nan)]),
            np.vstack([Y[:5], np.full((1, 4), np.nan)]),
        ),
        Raises(ValueError, r"Row 5.*NaN on both sides.*drop it"),
    ),
    Case(
        "self-learning",
        "infinity in the unpaired pool",
        lambda tmp: SelfLearningAligner().fit(
            np.vstack([X[:10], [[np.inf, 0, 0, 0]]]),
            np.vstack([Y[:10], np.full((1, 4), np.nan)]),
        ),
        Raises(ValueError, r"X.*infinity.*(Remove|NaN is allowed)"),
    ),
    Case(
        "self-learning",
        "1-D y",
        lambda tmp: SelfLearningAligner().fit(X, Y[:, 0]),
        Raises(ValueError, r"1-D array.*y\.reshape\(-1, 1\)"),
    ),
    Case(
        "self-learning",
        "aligner given as a string",
        lambda tmp: SelfLearningAligner(aligner="ortho").fit(X, Y),
        Raises(InvalidParameterError, r"aligner.*fit.*transform"),
    ),
    Case(
        "self-learning",
        "max_match_ratio infinite",
        lambda tmp: SelfLearningAligner(max_match_ratio=np.inf).fit(*_unpaired()),
        Raises(InvalidParameterError, r"max_match_ratio.*range"),
    ),
    Case(
        "self-learning",
        "n_iter True",
        lambda tmp: SelfLearningAligner(n_iter=True).fit(*_unpaired()),
        Raises(InvalidParameterError, r"n_iter.*True"),
    ),
    Case(
        "self-learning",
        "score leaves the unpaired rows out",
        lambda tmp: _self_learning_score_skips_unpaired(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "a pool of one unpaired source and one unpaired target",
        lambda tmp: _pool_of_one_each(),
        Behaves(lambda aligner: aligner.n_pairs_ == 4),
    ),
    Case(
        "self-learning",
        "n_neighbors beyond the pool is clipped",
        lambda tmp: _neighbors_beyond_pool(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "NaN-marked tensors give the NumPy matches",
        lambda tmp: _tensor_pool(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "a target pool of ten copies matches it once",
        lambda tmp: _duplicated_target_pool(),
        Behaves(bool),
    ),
    Case(
        "self-learning",
        "fewer pairs than n_folds: the guard checks leave-one-out",
        lambda tmp: SelfLearningAligner(n_folds=5).fit(*_unpaired(n_pairs=3)),
        Behaves(
            lambda aligner: aligner.cv_scores_ is not None and aligner.n_pairs_ == 3
        ),
    ),
    Case(
        "self-learning",
        "two pairs: too few to check the matches, which are refused",
        lambda tmp: SelfLearningAligner(n_folds=5).fit(*_unpaired(n_pairs=2)),
        Warns(
            UserWarning,
            r"2 pairs are too few to check.*refused.*pairs-only.*n_folds=None",
            check=lambda aligner: (
                aligner.n_matches_ == 0
                and np.allclose(
                    aligner.transform(X),
                    LatentAligner("ortho").fit(X[:2], Y[:2]).transform(X),
                )
            ),
        ),
    ),
    Case(
        "self-learning",
        "transform with NaN rows",
        lambda tmp: (
            SelfLearningAligner(n_folds=None)
            .fit(*_unpaired())
            .transform(np.vstack([X[:2], np.full((1, 4), np.nan)]))
        ),
        Raises(ValueError, r"NaN.*(Remove|impute)"),
    ),
    Case(
        "self-learning",
        "a base aligner that does not take weights",
        lambda tmp: SelfLearningAligner(aligner=FunctionTransformer()).fit(
            X, Y, sample_weight=np.ones(40)
        ),
        Raises(TypeError, r"FunctionTransformer.fit does not accept sample_weight"),
    ),
    Case(
        "self-learning",
        "a base that is not an aligner (a scaler)",
        lambda tmp: SelfLearningAligner(aligner=StandardScaler()).fit(
            _unpaired()[0], np.c_[_unpaired()[1][:, :3]]
        ),
        Raises(ValueError, r"aligner StandardScaler.*4 columns.*3.*LatentAligner"),
    ),
    Case(
        "adapter",
        "device that does not exist",
        lambda tmp: AdapterAligner(device="banana", max_iter=2).fit(X, Y),
        Raises(ValueError, r"device.*'banana'.*(cpu|cuda)"),
    ),
    Case(
        "adapter",
        "device='meta'",
        lambda tmp: AdapterAligner(device="meta", max_iter=2).fit(X, Y),
        Raises(ValueError, r"device.*meta.*(cpu|cuda)"),
    ),
    Case(
        "adapter",
        "base that is not an aligner (a scaler)",
        lambda tmp: AdapterAligner(base=StandardScaler(), max_iter=2).fit(X, Y[:, :3]),
        Raises(ValueError, r"base StandardScaler.*4 columns.*3.*LatentAligner"),
    ),
    Case(
        "adapter",
        "n_blocks True",
        lambda tmp: AdapterAligner(n_blocks=True).fit(X, Y),
        Raises(InvalidParameterError, r"n_blocks.*True"),
    ),
    Case(
        "adapter",
        "validation_fraction 1",
        lambda tmp: AdapterAligner(validation_fraction=1.0).fit(X, Y),
        Raises(InvalidParameterError, r"validation_fraction.*range"),
    ),
    Case(
        "adapter",
        "two anchors fit the base map only",
        lambda tmp: _adapter_two_anchors(),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "inverse_transform undoes transform",
        lambda tmp: _adapter_inverse_round_trip(),
        Behaves(bool),
    ),
    Case(
        "adapter",
        "transform of another width",
        lambda tmp: (
            AdapterAligner(max_iter=2, random_state=0).fit(X, Y).transform(X[:, :3])
        ),
        Raises(ValueError, r"3 features.*expecting 4"),
    ),
    Case(
        "adapter",
        "copies of one anchor pair",
        lambda tmp: AdapterAligner(max_iter=2).fit(np.repeat(X[:1], 10, 0), Y[:10]),
        Raises(ValueError, r"same vector.*(differ|cannot learn)"),
    ),
    Case(
        "kernel",
        "n_neighbors=1 returns the nearest anchor's target",
        lambda tmp: _kernel_one_neighbor_is_nearest(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "n_neighbors beyond the anchors is all of them",
        lambda tmp: _kernel_neighbors_beyond_anchors(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "a duplicated anchor counts as weight 2",
        lambda tmp: _kernel_duplicated_anchors(),
        Behaves(bool),
    ),
    Case(
        "kernel",
        "n_neighbors=0",
        lambda tmp: AnchorKernelAligner(n_neighbors=0).fit(X, Y),
        Raises(InvalidParameterError, r"n_neighbors.*range"),
    ),
    Case(
        "kernel",
        "n_neighbors=2.0",
        lambda tmp: AnchorKernelAligner(n_neighbors=2.0).fit(X, Y),
        Raises(InvalidParameterError, r"n_neighbors.*int"),
    ),
    Case(
        "kernel",
        "temperature 0",
        lambda tmp: AnchorKernelAligner(temperature=0.0).fit(X, Y),
        Raises(InvalidParameterError, r"temperature.*range"),
    ),
    Case(
        "kernel",
        "temperature 1e-300 picks the nearest anchor",
        lambda tmp: (
            AnchorKernelAligner(n_neighbors=None, temperature=1e-300)
            .fit(X, Y)
            .transform(X)
        ),
        Behaves(lambda out: np.allclose(out, Y, atol=1e-12)),
    ),
    Case(
        "kernel",
        "temperature 1e300 averages the neighbours",
        lambda tmp: (
            AnchorKernelAligner(n_neighbors=None, temperature=1e300)
            .fit(X, Y)
            .transform(X[:3])
        ),
        Behaves(lambda out: np.allclose(out, Y.mean(axis=0), atol=1e-12)),
    ),
    Case(
        "kernel",
        "inverse_transform is not offered",
        lambda tmp: AnchorKernelAligner().fit(X, Y).inverse_transform(Y),
        Raises(AttributeError, r"inverse_transform"),
    ),
]

CASES += [
    Case(
        "self-learning",
        "inverse_transform with a kernel base is not offered",
        lambda tmp: (
            SelfLearningAligner(AnchorKernelAligner(), n_folds=None)
            .fit(X, Y)
            .inverse_transform(Y)
        ),
        Raises(AttributeError, r"SelfLearningAligner.*inverse_transform"),
    ),
    Case(
        "adapter",
        "inverse_transform with a kernel base is not offered",
        lambda tmp: (
            AdapterAligner(base=AnchorKernelAligner(), max_iter=2)
            .fit(X, Y)
            .inverse_transform(Y)
        ),
        Raises(AttributeError, r"AdapterAligner.*inverse_transform"),
    ),
    Case(
        "self-learning",
        "score on rows none of which is a pair",
        lambda tmp: (
            SelfLearningAligner(n_folds=None)
            .fit(X, Y)
            .score(np.full((3, 4), np.nan), Y[:3])
        ),
        Raises(ValueError, r"scored rows has 0 pair.*score needs at least 1"),
    ),
    Case(
        "self-learning",
        "score on a single pair among unpaired rows",
        lambda tmp: _score_one_pair(),
        Behaves(bool),
    ),
]

CASES += [
    Case(
        "adapter",
        "alpha 1e300 (beyond float32)",
        lambda tmp: AdapterAligner(alpha=1e300, max_iter=2).fit(X, Y),
        Raises(ValueError, r"alpha=1e\+300.*float32.*smaller alpha"),
    ),
    Case(
        "adapter",
        "learning_rate 1e30 keeps the best (identity) blocks",
        lambda tmp: (
            AdapterAligner(learning_rate=1e30, max_iter=5, random_state=0)
            .fit(X, Y)
            .transform(X)
        ),
        Behaves(lambda out: np.isfinite(out).all()),
    ),
]
