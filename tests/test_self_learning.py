"""SelfLearningAligner: exact recovery from few pairs, guards, NaN convention."""

import numpy as np
import pytest
from scipy.stats import ortho_group
from sklearn.model_selection import GridSearchCV, KFold

from skalign import LatentAligner, SelfLearningAligner


def _rotated_cloud(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(n, d)) * np.linspace(3.0, 1.0, d)
    return rng, source, source @ ortho_group.rvs(d, random_state=seed)


def _semi_paired(source, target, n_pairs, rng, target_rows=None):
    d = source.shape[1]
    rest = np.arange(n_pairs, len(source))
    target_rows = rest if target_rows is None else target_rows
    X = np.vstack(
        [source[:n_pairs], source[rest], np.full((len(target_rows), d), np.nan)]
    )
    Y = np.vstack(
        [
            target[:n_pairs],
            np.full((len(rest), d), np.nan),
            target[rng.permutation(target_rows)],
        ]
    )
    return X, Y


def test_recovers_a_rotation_from_few_pairs_and_unpaired_rows():
    rng, source, target = _rotated_cloud()
    plain = LatentAligner("ortho", std_scaling=False)
    X, Y = _semi_paired(source, target, 4, rng)
    pairs_only = plain.fit(source[:4], target[:4])
    assert not np.allclose(pairs_only.transform(source), target, atol=1e-3)
    # 4 pairs leave too few per fold for the guard's held-out check: skip it
    aligner = SelfLearningAligner(plain, max_match_ratio=100, n_folds=None)
    aligner.fit(X, Y)
    np.testing.assert_allclose(aligner.transform(source), target, atol=1e-10)
    # every match is a true pair: unpaired source row i <-> its rotated copy
    matched_source = X[aligner.matches_[:, 0]]
    matched_target = Y[aligner.matches_[:, 1]]
    np.testing.assert_allclose(
        pairs_only.fit(source, target).transform(matched_source),
        matched_target,
        atol=1e-10,
    )
    assert len(aligner.matches_) >= 0.95 * (len(source) - 4)
    assert aligner.n_iter_ == len(aligner.n_matches_per_round_) >= 2


def test_match_cap_and_float32():
    rng, source, target = _rotated_cloud()
    X, Y = _semi_paired(source, target, 5, rng)
    aligner = SelfLearningAligner(max_match_ratio=2).fit(X.astype(np.float32), Y)
    assert len(aligner.matches_) <= 10
    assert aligner.transform(source.astype(np.float32)).dtype == np.float32


def test_disjoint_pools_fall_back_to_pairs_only():
    """No true pair among unrelated unpaired rows: the held-out check refuses them."""
    rng, source, target = _rotated_cloud(n=400, d=8, seed=3)
    # unpaired targets are unrelated points, not rotations of the unpaired sources
    X = np.vstack([source[:30], source[30:], np.full((200, 8), np.nan)])
    Y = np.vstack(
        [target[:30], np.full((370, 8), np.nan), rng.normal(size=(200, 8)) * 5]
    )
    aligner = SelfLearningAligner(LatentAligner("ortho", std_scaling=False)).fit(X, Y)
    pairs_only = LatentAligner("ortho", std_scaling=False).fit(source[:30], target[:30])
    assert len(aligner.matches_) == 0
    assert aligner.cv_scores_["pairs+matches"] <= aligner.cv_scores_["pairs"]
    np.testing.assert_allclose(aligner.transform(source), pairs_only.transform(source))


def test_many_to_one_matches_a_deduplicated_target_pool():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 5)) * 4
    labels = rng.integers(4, size=200)
    source = centres[labels] + 0.1 * rng.normal(size=(200, 5))
    rotation = ortho_group.rvs(5, random_state=0)
    X = np.vstack([source, np.full((100, 5), np.nan)])
    Y = np.vstack(
        [
            centres[labels[:8]] @ rotation,
            np.full((192, 5), np.nan),
            (centres @ rotation)[rng.integers(4, size=100)],
        ]
    )
    aligner = SelfLearningAligner(
        LatentAligner("ortho", std_scaling=False), matching="many-to-one"
    ).fit(X, Y)
    matched = Y[aligner.matches_[:, 1]]
    assert len(np.unique(aligner.matches_[:, 1])) <= 4  # duplicates count once
    np.testing.assert_allclose(
        matched, (centres @ rotation)[labels[aligner.matches_[:, 0]]]
    )


def test_many_to_one_refuses_a_pool_of_other_classes():
    """Unpaired images of classes 0-1, descriptions of classes 2-3 only: every
    many-to-one match is wrong, and the held-out ranks refuse them all."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 6)) * 3
    rotation = ortho_group.rvs(6, random_state=1)
    pair_labels = np.repeat(np.arange(4), 3)
    source_labels = rng.integers(2, size=150)
    target_labels = 2 + rng.integers(2, size=150)
    noise = 0.3 * rng.normal(size=(162, 6))
    source = centres[np.concatenate([pair_labels, source_labels])] + noise
    X = np.vstack([source, np.full((150, 6), np.nan)])
    Y = np.vstack(
        [
            (centres @ rotation)[pair_labels],
            np.full((150, 6), np.nan),
            (centres @ rotation)[target_labels],
        ]
    )
    plain = LatentAligner("ortho", std_scaling=False)
    aligner = SelfLearningAligner(plain, matching="many-to-one", n_folds=3)
    aligner.fit(X, Y)
    assert aligner.n_matches_per_round_[0] > 0  # matches were found, then refused
    assert len(aligner.matches_) == 0
    pairs_only = plain.fit(source[:12], Y[:12])
    np.testing.assert_allclose(aligner.transform(source), pairs_only.transform(source))


def test_retrieval_ranks_against_a_loop():
    from skalign._matching_guard import retrieval_ranks as _retrieval_ranks

    rng = np.random.default_rng(0)
    translated, targets = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    pool = np.vstack([rng.normal(size=(5, 3)), targets[:2]])  # duplicates count once
    candidates = np.unique(np.vstack([targets, pool]), axis=0)

    def cosine(a, b):
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    expected = [
        sum(cosine(t, c) < cosine(t, own) for c in candidates) / (len(candidates) - 1)
        for t, own in zip(translated, targets, strict=True)
    ]
    np.testing.assert_allclose(_retrieval_ranks(translated, targets, pool), expected)
    assert np.all(_retrieval_ranks(targets, targets, pool) == 1.0)


@pytest.mark.parametrize(
    "X, Y, message",
    [
        ([[0.0, 1], [1, 0], [np.nan, np.nan]], [[1.0], [0], [np.nan]], "both X and y"),
        ([[0.0, 1], [1, 0], [np.nan, 1]], [[1.0], [0], [np.nan]], "partly NaN"),
        (
            [[0.0, 1], [1, 0], [np.nan, np.nan]],
            [[1.0], [np.nan], [1.0]],
            "at least 2 paired",
        ),
        ([[0.0, 1], [1, np.inf]], [[1.0], [0]], "infinity"),
    ],
)
def test_bad_nan_rows_are_clear_errors(X, Y, message):
    with pytest.raises(ValueError, match=message):
        SelfLearningAligner().fit(np.array(X), np.array(Y))


def test_grid_search_with_unpaired_rows():
    rng, source, target = _rotated_cloud()
    X, Y = _semi_paired(source, target, 30, rng)
    search = GridSearchCV(
        SelfLearningAligner(LatentAligner("ortho", std_scaling=False)),
        {"n_neighbors": [1, 5]},
        cv=KFold(3, shuffle=True, random_state=0),
        error_score="raise",
    )
    search.fit(X, Y)  # test folds hold unpaired rows: score() uses the pairs
    assert search.best_score_ > 0.999
    assert search.best_estimator_.score(X, Y) == pytest.approx(1.0)


def test_torch_inputs():
    torch = pytest.importorskip("torch")
    rng, source, target = _rotated_cloud()
    X, Y = _semi_paired(source, target, 4, rng)
    plain = LatentAligner("ortho", std_scaling=False)
    # 4 pairs: the guard's leave-one-out check is off, to test the torch path
    aligner = SelfLearningAligner(plain, max_match_ratio=100, n_folds=None).fit(
        torch.from_numpy(X), torch.from_numpy(Y)
    )
    out = aligner.transform(torch.from_numpy(source))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), target, atol=1e-8)


def test_beats_pairs_only_on_real_sentence_encoders(tmp_path):
    """all-MiniLM-L6 -> paraphrase-MiniLM-L3 from 10 pairs plus unpaired texts."""
    from skalign.datasets import load_docstring_topics
    from skalign.extract import EmbeddingExtractor

    texts = list(load_docstring_topics(100, random_state=0).texts)
    embed = {
        name: EmbeddingExtractor(name, device="cpu", show_progress=False).fit_transform(
            texts
        )
        for name in ("all-minilm-l6-v2", "paraphrase-minilm-l3")
    }
    S, T = embed["all-minilm-l6-v2"], embed["paraphrase-minilm-l3"]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    pairs, unpaired, test = order[:25], order[25:400], order[400:]
    X = np.vstack([S[pairs], S[unpaired], np.full((len(unpaired), S.shape[1]), np.nan)])
    Y = np.vstack(
        [
            T[pairs],
            np.full((len(unpaired), T.shape[1]), np.nan),
            T[rng.permutation(unpaired)],
        ]
    )
    pairs_only = LatentAligner("ortho").fit(S[pairs], T[pairs])
    reference = LatentAligner("ortho").fit(S[order[:400]], T[order[:400]])
    aligner = SelfLearningAligner().fit(X, Y)
    assert len(aligner.matches_) > 0
    score, floor = aligner.score(S[test], T[test]), pairs_only.score(S[test], T[test])
    assert score > floor + 0.05
    # more than half-way from the 25 pairs to the map that knows all 400 pairings
    assert score > (floor + reference.score(S[test], T[test])) / 2


def _class_pools(shared, seed=0, n_pairs=30, d=12):
    """Pairs of 10 classes (a rotation plus noise); unpaired source rows of
    classes 0-4, unpaired target rows of classes 0-4 (``shared``) or 5-9."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, d)) * 2
    rotation = ortho_group.rvs(d, random_state=seed)
    pair_labels = np.arange(n_pairs) % 10
    source_labels = rng.integers(5, size=300)
    target_labels = rng.integers(5, size=300) + (0 if shared else 5)
    labels = np.concatenate([pair_labels, source_labels, target_labels])
    source = centres[labels] + 0.7 * rng.normal(size=(len(labels), d))
    target = source @ rotation
    n_source = n_pairs + 300
    X = np.vstack([source[:n_source], np.full((300, d), np.nan)])
    Y = np.vstack([target[:n_pairs], np.full((300, d), np.nan), target[n_source:]])
    test = centres[np.arange(200) % 10] + 0.7 * rng.normal(size=(200, d))
    return X, Y, test, test @ rotation


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_guard_refuses_pools_that_share_no_class(seed):
    """Unpaired images of classes 0-4, targets of classes 5-9: no true pair
    exists. Unguarded, the matches move the map; guarded, the map is the
    pairs-only map."""
    X, Y, test, test_target = _class_pools(shared=False, seed=seed)
    plain = LatentAligner("ortho", std_scaling=False)
    pairs_only = plain.fit(X[:30], Y[:30])
    unguarded = SelfLearningAligner(plain, n_folds=None).fit(X, Y)
    assert unguarded.n_matches_ > 0
    assert not np.allclose(unguarded.transform(test), pairs_only.transform(test))
    guarded = SelfLearningAligner(plain).fit(X, Y)
    assert guarded.n_matches_per_round_[0] > 0  # matches were found ...
    assert guarded.n_matches_ == 0  # ... and refused
    assert not guarded.cv_scores_["accepted"]
    assert guarded.cv_scores_["gain"] <= guarded.cv_scores_["threshold"]
    np.testing.assert_allclose(guarded.transform(test), pairs_only.transform(test))


def test_guard_accepts_pools_that_correspond():
    """Noisy rotation, 25 pairs, the unpaired rows are the same points on both
    sides: the held-out pairs gain from the matches, which are kept."""
    rng = np.random.default_rng(0)
    source = rng.normal(size=(500, 20)) * np.linspace(3.0, 1.0, 20)
    target = source @ ortho_group.rvs(20, random_state=0)
    target += 2.0 * rng.normal(size=target.shape)
    X, Y = _semi_paired(source[:400], target[:400], 25, rng)
    plain = LatentAligner("ortho", std_scaling=False)
    pairs_only = plain.fit(X[:25], Y[:25]).score(source[400:], target[400:])
    aligner = SelfLearningAligner(plain).fit(X, Y)
    assert aligner.n_matches_ == len(aligner.matches_) > 250
    scores = aligner.cv_scores_
    assert scores["accepted"]
    assert scores["gain"] > scores["threshold"] >= 0.01
    assert scores["pairs+matches"] - scores["pairs"] == pytest.approx(scores["gain"])
    assert aligner.score(source[400:], target[400:]) > pairs_only + 0.1


def test_guard_learns_each_fold_without_its_held_out_pairs():
    """The matches a fold is judged with come from the other folds' pairs."""
    from skalign._matching_guard import guard_matches

    rng, source, target = _rotated_cloud(n=60, d=3)
    pairs = np.arange(20)
    seen = []

    def learn(rows):
        seen.append(rows)
        return np.empty((0, 2), dtype=np.intp), LatentAligner("ortho").fit(
            source[rows], target[rows]
        )

    def fit_on(rows, matches):
        return LatentAligner("ortho").fit(source[rows], target[rows])

    scores = guard_matches(learn, fit_on, source, target, pairs, target[20:], 4)
    assert len(seen) == 4
    for k, rows in enumerate(seen):
        held_out = pairs[k::4]
        assert np.intersect1d(rows, held_out).size == 0
        assert np.union1d(rows, held_out).size == pairs.size
    # the same map with and without (no) matches: no gain, refused
    assert scores["gain"] == 0.0 and not scores["accepted"]
