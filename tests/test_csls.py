"""CSLS against its direct formula."""

import numpy as np
from sklearn.preprocessing import normalize

from skalign._csls import csls_similarities, neighborhood_similarity


def _direct_csls(A, B, k):
    cosine = normalize(A) @ normalize(B).T
    r_a = np.array([np.sort(row)[::-1][:k].mean() for row in cosine])
    r_b = np.array([np.sort(col)[::-1][:k].mean() for col in cosine.T])
    return np.array(
        [
            [2 * cosine[i, j] - r_a[i] - r_b[j] for j in range(len(B))]
            for i in range(len(A))
        ]
    )


def test_csls_matches_the_direct_formula():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(30, 5)), rng.normal(size=(20, 5))
    for k in (1, 3, 50):
        np.testing.assert_allclose(
            csls_similarities(A, B, n_neighbors=k), _direct_csls(A, B, k), atol=1e-12
        )


def test_neighborhood_similarity_clips_k_and_uses_given_penalties():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    cosine = normalize(A) @ normalize(B).T
    np.testing.assert_allclose(neighborhood_similarity(A, B, 10), cosine.mean(axis=1))
    given = csls_similarities(A, B, penalty_a=np.zeros(4), penalty_b=np.ones(2))
    np.testing.assert_allclose(given, 2 * cosine - 1.0)
