"""Retrieval metrics against hand-made rankings and scikit-learn's average precision."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score
from sklearn.utils._param_validation import InvalidParameterError

from skalign.metrics import (
    mean_average_precision_at_k,
    mean_cosine_similarity,
    precision_at_k,
)

# Three queries over six gallery items. Scores are chosen so that the rankings
# (best first) are:
#   query 0: items 0 1 2 3 4 5 with relevance 1 0 1 0 0 1  (R = 3)
#   query 1: items 5 4 3 2 1 0 with relevance 0 0 1 0 0 0  (R = 1)
#   query 2: items 2 0 4 1 3 5 with relevance 1 1 1 1 0 0  (R = 4)
RELEVANCE = np.array(
    [
        [1, 0, 1, 0, 0, 1],
        [0, 0, 0, 1, 0, 0],
        [1, 1, 1, 0, 1, 0],
    ]
)
SCORES = np.array(
    [
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        [0.8, 0.5, 0.9, 0.4, 0.6, 0.1],
    ]
)


@pytest.mark.parametrize(
    "k, expected",
    [
        (1, (1 + 0 + 1) / 3),
        (2, (1 / 2 + 0 + 2 / 2) / 3),
        (3, (2 / 3 + 1 / 3 + 3 / 3) / 3),
        (6, (3 / 6 + 1 / 6 + 4 / 6) / 3),
    ],
)
def test_precision_at_k_hand_made(k, expected):
    assert precision_at_k(RELEVANCE, SCORES, k=k) == pytest.approx(expected)


@pytest.mark.parametrize(
    "k, expected",
    [
        # AP@k = (1 / min(k, R)) * sum over relevant ranks i <= k of P@i
        (1, (1 / 1 + 0 / 1 + 1 / 1) / 3),
        (2, ((1) / 2 + 0 / 1 + (1 + 1) / 2) / 3),
        (3, ((1 + 2 / 3) / 3 + (1 / 3) / 1 + (1 + 1 + 1) / 3) / 3),
        (
            6,
            ((1 + 2 / 3 + 3 / 6) / 3 + (1 / 3) / 1 + (1 + 1 + 1 + 4 / 4) / 4) / 3,
        ),
    ],
)
def test_mean_average_precision_at_k_hand_made(k, expected):
    assert mean_average_precision_at_k(RELEVANCE, SCORES, k=k) == pytest.approx(
        expected
    )


def test_full_ranking_map_equals_sklearn_average_precision():
    rng = np.random.default_rng(0)
    labels_query = rng.integers(0, 4, size=25)
    labels_gallery = rng.integers(0, 4, size=40)
    relevance = labels_query[:, None] == labels_gallery[None, :]
    scores = rng.normal(size=relevance.shape)  # continuous: no ties
    reference = np.mean(
        [average_precision_score(r, s) for r, s in zip(relevance, scores, strict=True)]
    )
    assert mean_average_precision_at_k(relevance, scores, k=None) == pytest.approx(
        reference
    )
    assert mean_average_precision_at_k(relevance, scores, k=40) == pytest.approx(
        reference
    )


def test_perfect_and_worst_rankings():
    relevance = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=bool)
    perfect = relevance.astype(float)
    assert precision_at_k(relevance, perfect, k=2) == 1.0
    assert mean_average_precision_at_k(relevance, perfect, k=2) == 1.0
    # a perfect ranking scores 1 even when k exceeds the relevant count
    assert mean_average_precision_at_k(relevance, perfect, k=4) == 1.0
    assert precision_at_k(relevance, perfect, k=4) == 0.5
    worst = -perfect
    assert precision_at_k(relevance, worst, k=3) == 0.0
    assert mean_average_precision_at_k(relevance, worst, k=3) == 0.0


def test_ties_ranked_in_gallery_order():
    relevance = [[0, 1], [1, 0]]
    tied = [[0.5, 0.5], [0.5, 0.5]]
    # the first gallery item is ranked first for both queries
    assert precision_at_k(relevance, tied, k=1) == 0.5
    assert mean_average_precision_at_k(relevance, tied, k=2) == pytest.approx(
        (1 / 2 + 1) / 2
    )


def test_label_relevance_recipe_from_docstring():
    query_labels = np.array(["a", "b"])
    gallery_labels = np.array(["b", "a", "a"])
    relevance = query_labels[:, None] == gallery_labels[None, :]
    scores = [[0.1, 0.9, 0.2], [0.3, 0.2, 0.1]]
    assert precision_at_k(relevance, scores, k=1) == 1.0
    assert precision_at_k(relevance, scores, k=2) == pytest.approx((1 + 0.5) / 2)


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="no relevant gallery item.*Drop them"):
        mean_average_precision_at_k([[1, 0], [0, 0]], [[0.1, 0.2], [0.3, 0.4]], k=1)
    with pytest.raises(ValueError, match="exceeds the gallery size 2"):
        precision_at_k([[1, 0]], [[0.1, 0.2]], k=3)
    with pytest.raises(ValueError, match="same gallery items"):
        precision_at_k([[1, 0]], [[0.1, 0.2, 0.3]], k=1)
    with pytest.raises(ValueError, match="binary relevance"):
        precision_at_k([[2, 0]], [[0.1, 0.2]], k=1)
    with pytest.raises(ValueError, match="NaN"):
        precision_at_k([[1, 0]], [[np.nan, 0.2]], k=1)
    with pytest.raises(InvalidParameterError):
        precision_at_k([[1, 0]], [[0.1, 0.2]], k=0)
    with pytest.raises(InvalidParameterError):
        precision_at_k([[1, 0]], [[0.1, 0.2]], k=None)


def test_mean_cosine_similarity_kept():
    assert mean_cosine_similarity([[1.0, 0.0]], [[3.0, 0.0]]) == pytest.approx(1.0)


# -- recall@k ------------------------------------------------------------------------


def _random_ranking(seed, n_queries=7, n_gallery=12, p=0.3):
    rng = np.random.default_rng(seed)
    relevance = rng.random((n_queries, n_gallery)) < p
    relevance[np.arange(n_queries), rng.integers(0, n_gallery, n_queries)] = True
    scores = rng.normal(size=(n_queries, n_gallery))
    return relevance, scores


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 3, 12])
def test_recall_at_k_matches_the_direct_formula(seed, k):
    from skalign.metrics import recall_at_k

    relevance, scores = _random_ranking(seed)
    hits, fractions = [], []
    for rel, score in zip(relevance, scores, strict=True):
        top = sorted(range(len(score)), key=lambda j: -score[j])[:k]
        found = sum(bool(rel[j]) for j in top)
        hits.append(float(found > 0))
        fractions.append(found / rel.sum())
    assert recall_at_k(relevance, scores, k=k) == pytest.approx(np.mean(hits))
    assert recall_at_k(relevance, scores, k=k, kind="fraction") == pytest.approx(
        np.mean(fractions)
    )


@pytest.mark.parametrize("k", [1, 2, 5])
def test_recall_at_k_is_top_k_accuracy_with_one_relevant_item(k):
    from sklearn.metrics import top_k_accuracy_score

    from skalign.metrics import recall_at_k

    rng = np.random.default_rng(k)
    n_queries, n_gallery = 40, 8
    targets = rng.integers(0, n_gallery, n_queries)
    targets[:n_gallery] = np.arange(n_gallery)  # every class occurs
    relevance = np.eye(n_gallery, dtype=bool)[targets]
    scores = rng.normal(size=(n_queries, n_gallery))
    expected = top_k_accuracy_score(targets, scores, k=k, labels=range(n_gallery))
    assert recall_at_k(relevance, scores, k=k) == pytest.approx(expected)
    assert recall_at_k(relevance, scores, k=k, kind="fraction") == pytest.approx(
        expected
    )


def test_recall_at_k_needs_a_relevant_item_per_query():
    from skalign.metrics import recall_at_k

    with pytest.raises(ValueError, match="1 of 2 queries have no relevant"):
        recall_at_k([[1, 0], [0, 0]], [[0.1, 0.2], [0.3, 0.4]], k=1)


@pytest.mark.parametrize("metric", [precision_at_k, mean_average_precision_at_k])
def test_one_dimensional_relevance_names_the_single_query_reshape(metric):
    with pytest.raises(ValueError, match=r"y_true must be 2-D.*reshape\(1, -1\)"):
        metric(np.array([1, 0, 0]), np.array([[0.9, 0.1, 0.0]]), k=1)
    with pytest.raises(ValueError, match=r"y_score must be 2-D"):
        metric(np.array([[1, 0, 0]]), np.array([0.9, 0.1, 0.0]), k=1)


def test_non_finite_scores_and_empty_matrices_are_named():
    masked = np.array([[-np.inf, 0.5], [0.2, -np.inf]])
    with pytest.raises(ValueError, match=r"y_score holds 2 NaN or infinite.*query 0"):
        precision_at_k(1 - np.eye(2), masked, k=1)
    with pytest.raises(ValueError, match=r"y_true has shape \(0, 3\)"):
        precision_at_k(np.empty((0, 3)), np.empty((0, 3)), k=1)
    with pytest.raises(ValueError, match=r"Y_true must be 2-D"):
        mean_cosine_similarity(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
