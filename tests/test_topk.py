"""Top-k by partial selection equals the first k columns of a full stable sort."""

import numpy as np
import pytest
import sklearn

from skalign._topk import chunked_top_k, query_chunk_size, top_k
from skalign.metrics import (
    mean_average_precision_at_k,
    precision_at_k,
    recall_at_k,
)
from skalign.retrieval import retrieve


def _stable_top_k(scores, k):
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def _tied_scores(seed, n_rows=40, n_columns=57):
    """Integer-valued scores: most rows tie at their k-th best score."""
    return np.random.default_rng(seed).integers(0, 4, size=(n_rows, n_columns)) * 1.0


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 2, 5, 56, 57])
def test_top_k_equals_the_stable_sort_with_ties(seed, k):
    scores = _tied_scores(seed)
    scores[0] = 1.0  # a row that is one big tie
    indices, values = top_k(scores, k)
    expected_indices, expected_values = _stable_top_k(scores, k)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(values, expected_values)


def test_top_k_with_excluded_items_and_continuous_scores():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(30, 25))
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    for k in (1, 4, 17):
        np.testing.assert_array_equal(top_k(scores, k)[0], _stable_top_k(scores, k)[0])


def test_chunks_do_not_change_the_result():
    scores = _tied_scores(4, n_rows=101)
    with sklearn.config_context(working_memory=0.001):  # a few rows per chunk
        assert query_chunk_size(scores.shape[1], 8) < 10
        indices, values = chunked_top_k(
            lambda start, stop: scores[start:stop], *scores.shape, 6, 8
        )
    np.testing.assert_array_equal(indices, _stable_top_k(scores, 6)[0])
    np.testing.assert_array_equal(values, _stable_top_k(scores, 6)[1])


def test_chunk_size_fits_the_issue_budget():
    # 10^4 queries x 10^6 float32 gallery items: chunks within the default
    # 1 GiB working memory, so far below 2 GiB beyond the inputs
    chunk = query_chunk_size(10**6, 4, working_memory=1024)
    assert chunk * 10**6 * (4 + 16) <= 1024 * 2**20
    assert query_chunk_size(10**9, 8, working_memory=1) == 1


@pytest.mark.parametrize("k", [1, 3, 12])
def test_retrieve_equals_the_stable_sort_on_duplicated_gallery_rows(k):
    rng = np.random.default_rng(5)
    base = rng.normal(size=(4, 6))
    gallery = base[rng.integers(0, 4, size=12)]  # exact duplicates tie exactly
    queries = rng.normal(size=(20, 6))
    with sklearn.config_context(working_memory=0.001):
        indices, similarities = retrieve(queries, gallery, k=k)
    unit = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    cosine = queries / np.linalg.norm(queries, axis=1, keepdims=True) @ unit.T
    np.testing.assert_array_equal(indices, _stable_top_k(cosine, k)[0])
    # duplicates come out adjacent, in gallery order
    for row, similarity in zip(indices, similarities, strict=True):
        for a, b, sa, sb in zip(
            row[:-1], row[1:], similarity[:-1], similarity[1:], strict=True
        ):
            if sa == sb:
                assert a < b


def test_ranking_metrics_on_integer_scores_equal_the_stable_sort():
    rng = np.random.default_rng(6)
    scores = _tied_scores(7, n_rows=30, n_columns=20)
    relevance = rng.random(scores.shape) < 0.3
    relevance[:, 0] = True
    for k in (1, 3, 20):
        ranked = np.take_along_axis(relevance, _stable_top_k(scores, k)[0], axis=1)
        assert precision_at_k(relevance, scores, k=k) == pytest.approx(ranked.mean())
        assert recall_at_k(relevance, scores, k=k) == pytest.approx(
            ranked.any(axis=1).mean()
        )
        precision_at_rank = np.cumsum(ranked, axis=1) / np.arange(1, k + 1)
        expected_map = np.mean(
            (precision_at_rank * ranked).sum(axis=1)
            / np.minimum(k, relevance.sum(axis=1))
        )
        assert mean_average_precision_at_k(relevance, scores, k=k) == pytest.approx(
            expected_map
        )


def test_retrieve_works_in_the_gallerys_precision():
    rng = np.random.default_rng(8)
    queries, gallery = rng.normal(size=(9, 5)), rng.normal(size=(30, 5))
    indices, similarities = retrieve(queries, gallery.astype(np.float32), k=4)
    assert similarities.dtype == np.float32
    np.testing.assert_array_equal(indices, retrieve(queries, gallery, k=4)[0])


def test_retrieve_and_csls_penalties_stay_within_the_working_memory():
    import tracemalloc

    from skalign._csls import neighborhood_similarity

    rng = np.random.default_rng(9)
    queries, gallery = rng.normal(size=(400, 8)), rng.normal(size=(6000, 8))
    all_scores = 400 * 6000 * 8 / 2**20  # 18 MiB at once
    with sklearn.config_context(working_memory=1):
        for function in (
            lambda: retrieve(queries, gallery, k=5),
            lambda: retrieve(queries, gallery, k=5, hubness="csls"),
            lambda: neighborhood_similarity(gallery, queries, 10),
        ):
            tracemalloc.start()
            function()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            # the 1 MiB chunk budget plus row-sized vectors, far below all scores
            assert peak < 2.5, peak
            assert peak < all_scores / 5
