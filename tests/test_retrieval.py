"""Cross-modal ranking and report suggestion through an aligned text space."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.utils._param_validation import InvalidParameterError

from skalign import LatentAligner
from skalign.retrieval import ReportRetriever, retrieve
from tests._toy_encoders import LookupTextEncoder


def test_retrieve_hand_made_ranking():
    queries = [[1.0, 0.0], [0.0, -1.0]]
    gallery = [[0.0, 2.0], [1.0, 1.0], [5.0, 0.0], [1.0, -1.0]]
    indices, similarities = retrieve(queries, gallery)
    s = 1 / np.sqrt(2)
    assert indices.tolist() == [[2, 1, 3, 0], [3, 2, 1, 0]]
    np.testing.assert_allclose(similarities, [[1, s, s, 0], [s, 0, -s, -1]], atol=1e-12)
    top, top_similarities = retrieve(queries, gallery, k=2)
    np.testing.assert_array_equal(top, indices[:, :2])
    np.testing.assert_allclose(top_similarities, similarities[:, :2])


def test_retrieve_matches_brute_force_in_small_chunks():
    rng = np.random.default_rng(0)
    queries, gallery = rng.normal(size=(300, 16)), rng.normal(size=(120, 16))
    reference = np.argsort(-cosine_similarity(queries, gallery), axis=1)[:, :7]
    with sklearn.config_context(working_memory=0.01):  # ~10 queries per chunk
        indices, similarities = retrieve(queries, gallery, k=7)
    np.testing.assert_array_equal(indices, reference)
    np.testing.assert_allclose(
        similarities,
        np.take_along_axis(cosine_similarity(queries, gallery), reference, axis=1),
        atol=1e-12,
    )


def test_retrieve_ties_in_gallery_order_and_zero_vectors():
    indices, similarities = retrieve([[1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0], [0.0, 3.0]])
    assert indices.tolist() == [[0, 1, 2]]
    np.testing.assert_allclose(similarities, [[0.0, 0.0, 0.0]], atol=1e-12)


def test_retrieve_errors():
    with pytest.raises(ValueError, match="same space"):
        retrieve(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="exceeds the gallery size 4"):
        retrieve(np.ones((2, 3)), np.ones((4, 3)), k=5)
    with pytest.raises(InvalidParameterError):
        retrieve(np.ones((2, 3)), np.ones((4, 3)), k=0)


# --- ReportRetriever -----------------------------------------------------------

_REPORTS = {
    "no acute findings": [1.0, 0.0, 0.0, 0.1],
    "right lower lobe pneumonia": [0.0, 1.0, 0.0, 0.1],
    "small left pleural effusion": [0.0, 0.0, 1.0, 0.1],
    "pneumonia and effusion": [0.0, 0.7, 0.7, 0.1],
}


def _anchor_pairs(seed=0, n=80):
    """Images in a hidden linear map of the report space, with their reports."""
    rng = np.random.default_rng(seed)
    names = list(_REPORTS)
    reports = [names[i] for i in rng.integers(0, len(names), size=n)]
    text = np.array([_REPORTS[r] for r in reports]) + 0.05 * rng.normal(size=(n, 4))
    images = text @ rng.normal(size=(4, 7)) + 2.0
    return images, reports


def test_report_retriever_suggests_the_anchor_reports_of_similar_images():
    images, reports = _anchor_pairs()
    encoder = LookupTextEncoder(_REPORTS)
    retriever = ReportRetriever(encoder, aligner=LatentAligner("affine"), n_reports=2)
    retriever.fit(images[:60], reports[:60])
    # the gallery holds each distinct report once
    assert sorted(retriever.reports_) == sorted(_REPORTS)
    assert retriever.report_embeddings_.shape == (4, 4)
    predicted = retriever.predict(images[60:])
    assert np.mean(predicted == np.array(reports[60:], dtype=object)) > 0.9
    suggestions, similarities = retriever.suggest(images[60:])
    assert suggestions.shape == similarities.shape == (20, 2)
    np.testing.assert_array_equal(suggestions[:, 0], predicted)
    assert np.all(np.diff(similarities, axis=1) <= 0)
    translated = retriever.aligner_.transform(images[60:])
    expected = cosine_similarity(translated, retriever.report_embeddings_).max(axis=1)
    np.testing.assert_allclose(similarities[:, 0], expected, atol=1e-12)
    assert retriever.suggest(images[:3], n_reports=4)[0].shape == (3, 4)
    # the user's estimators stay unfitted
    assert not hasattr(encoder, "n_fits_") and not hasattr(retriever.aligner, "coef_")


def test_report_retriever_without_aligner_and_with_frozen_aligner():
    images, reports = _anchor_pairs()
    text = LookupTextEncoder(_REPORTS).transform(reports)
    baseline = ReportRetriever(LookupTextEncoder(_REPORTS)).fit(text, reports)
    assert baseline.aligner_ is None
    np.testing.assert_array_equal(baseline.predict(text), np.array(reports, object))
    fitted = LatentAligner("affine").fit(images, text)
    frozen = FrozenEstimator(fitted)
    retriever = ReportRetriever(LookupTextEncoder(_REPORTS), aligner=frozen)
    retriever.fit(images[:5], reports[:5])  # too few anchors to refit: none needed
    assert retriever.aligner_ is frozen
    assert set(retriever.reports_) == set(reports[:5])
    restored = pickle.loads(pickle.dumps(clone(retriever).fit(images[:5], reports[:5])))
    np.testing.assert_array_equal(restored.predict(images), retriever.predict(images))


def test_report_retriever_errors():
    images, reports = _anchor_pairs()
    encoder = LookupTextEncoder(_REPORTS)
    with pytest.raises(NotFittedError):
        ReportRetriever(encoder).predict(images)
    with pytest.raises(TypeError, match=r"one report \(a string\) per anchor"):
        ReportRetriever(encoder, aligner=LatentAligner()).fit(images[:2], ["a", 3])
    with pytest.raises(ValueError, match="one report per image"):
        ReportRetriever(encoder, aligner=LatentAligner()).fit(images[:3], reports[:2])
    with pytest.raises(ValueError, match="report embeddings have 4"):
        ReportRetriever(encoder).fit(images, reports)
    retriever = ReportRetriever(encoder, aligner=LatentAligner()).fit(images, reports)
    with pytest.raises(ValueError, match=r"n_reports=5.*4 distinct anchor reports"):
        retriever.suggest(images, n_reports=5)
    with pytest.raises(ValueError, match="7 features"):
        retriever.predict(images[:, :3])
    with pytest.raises(InvalidParameterError, match="text_encoder"):
        ReportRetriever(None).fit(images, reports)


def test_retrieve_csls_equals_the_direct_formula():
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(0)
    queries, gallery = rng.normal(size=(12, 5)), rng.normal(size=(9, 5))
    cosine = normalize(queries) @ normalize(gallery).T
    k = 3
    r_q = np.sort(cosine, axis=1)[:, -k:].mean(axis=1)
    r_g = np.sort(cosine, axis=0)[-k:].mean(axis=0)
    expected = 2 * cosine - r_q[:, None] - r_g[None, :]
    indices, similarities = retrieve(
        queries, gallery, hubness="csls", hubness_neighbors=k
    )
    np.testing.assert_array_equal(indices, np.argsort(-expected, axis=1, kind="stable"))
    np.testing.assert_allclose(
        similarities, np.sort(expected, axis=1)[:, ::-1], atol=1e-12
    )


def test_csls_with_exclude_self_leaves_each_item_out_of_its_own_penalty():
    """With the gallery as its own query set, an item is not its own neighbour:
    the penalties of CSLS are the mean of the k largest off-diagonal cosines
    (a reference in float64)."""
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(1)
    items = rng.normal(size=(15, 6))
    cosine = normalize(items) @ normalize(items).T
    np.fill_diagonal(cosine, -np.inf)
    k = 4
    penalty = np.sort(cosine, axis=1)[:, -k:].mean(axis=1)
    expected = 2 * cosine - penalty[:, None] - penalty[None, :]
    indices, similarities = retrieve(
        items, items, k=14, hubness="csls", hubness_neighbors=k, exclude_self=True
    )
    np.testing.assert_array_equal(
        indices, np.argsort(-expected, axis=1, kind="stable")[:, :14]
    )
    np.testing.assert_allclose(
        similarities, np.sort(expected, axis=1)[:, ::-1][:, :14], atol=1e-12
    )


# -- self-exclusion and the report ----------------------------------------------------


def test_exclude_self_never_returns_the_querys_own_row():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(15, 4))
    indices, similarities = retrieve(images, images, k=14, exclude_self=True)
    assert not (indices == np.arange(15)[:, None]).any()
    full, full_similarities = retrieve(images, images)
    # the rest of the ranking is the full ranking without the query itself
    for row in range(15):
        expected = [j for j in full[row] if j != row]
        assert indices[row].tolist() == expected
    with pytest.raises(ValueError, match="the 14 gallery items left once"):
        retrieve(images, images, k=15, exclude_self=True)


def test_ids_exclude_every_item_of_the_same_study():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(12, 5))
    studies = np.repeat(np.arange(6), 2)  # a frontal and a lateral view each
    indices, _ = retrieve(images, images, query_ids=studies, gallery_ids=studies)
    assert indices.shape == (12, 10)
    assert not (studies[indices] == studies[:, None]).any()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"exclude_self": True, "query_ids": [0, 1]}, "not both"),
        ({"query_ids": [0, 1]}, "go together"),
        ({"query_ids": [0], "gallery_ids": [0, 1, 2]}, "query_ids has 1 ids for 2"),
    ],
)
def test_exclusion_errors_say_what_to_pass(kwargs, message):
    with pytest.raises(ValueError, match=message):
        retrieve(np.eye(2, 3), np.eye(3), **kwargs)


def test_exclude_self_needs_the_queries_to_be_the_gallery():
    with pytest.raises(ValueError, match="needs the queries to be the gallery"):
        retrieve(np.eye(2, 3), np.eye(3), exclude_self=True)


def _labelled_pairs(seed=0, n_per_class=6, n_classes=3, noise=0.6):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    centres = rng.normal(size=(n_classes, 8)) * 2
    images = centres[labels] + noise * rng.normal(size=(len(labels), 8))
    texts = centres[labels] + noise * rng.normal(size=(len(labels), 8))
    return images, texts, labels


def test_retrieval_report_equals_the_metrics_on_each_direction():
    from skalign.metrics import (
        mean_average_precision_at_k,
        precision_at_k,
        recall_at_k,
    )
    from skalign.retrieval import retrieval_report

    images, texts, labels = _labelled_pairs()
    report = retrieval_report(images, texts, labels, k=[1, 5])
    assert len(report) == 3 * 3 * 2
    same = labels[:, None] == labels[None, :]
    expected_inputs = {
        "image→text": (same, cosine_similarity(images, texts)),
        "text→image": (same, cosine_similarity(texts, images)),
    }
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    image_scores = cosine_similarity(images, images)
    # image→image: scored on the gallery without the query itself
    n = len(labels)
    expected_inputs["image→image"] = (
        same[off_diagonal].reshape(n, n - 1),
        image_scores[off_diagonal].reshape(n, n - 1),
    )
    functions = {
        "precision": precision_at_k,
        "recall": recall_at_k,
        "map": mean_average_precision_at_k,
    }
    for row in report.itertuples():
        relevance, scores = expected_inputs[row.direction]
        assert row.value == pytest.approx(
            functions[row.metric](relevance, scores, k=row.k)
        ), row
        assert row.n_queries == n


def test_retrieval_report_paired_relevance():
    from skalign.metrics import recall_at_k
    from skalign.retrieval import retrieval_report

    images, texts, _ = _labelled_pairs(noise=0.3)
    report = retrieval_report(images, texts, k=3, directions=["image→text"])
    recall = report.query("metric == 'recall'")["value"].item()
    expected = recall_at_k(np.eye(len(images)), cosine_similarity(images, texts), k=3)
    assert recall == pytest.approx(expected)
    with pytest.raises(ValueError, match="image→image retrieval needs labels"):
        retrieval_report(images, texts)


def test_retrieval_report_checks_its_inputs():
    from skalign.retrieval import retrieval_report

    images, texts, labels = _labelled_pairs()
    with pytest.raises(ValueError, match="row i of each must be a pair"):
        retrieval_report(images, texts[:-1], labels)
    with pytest.raises(ValueError, match="Unknown directions"):
        retrieval_report(images, texts, labels, directions=["image->text"])


# --- approximate index ---------------------------------------------------------


@pytest.mark.parametrize(
    "index, params",
    [("ivf", {"n_lists": 5, "n_probe": 5}), ("hnsw", {"ef_search": 400})],
)
def test_index_path_equals_the_exact_path_where_the_index_is_exact(index, params):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(11)
    gallery = rng.normal(size=(300, 12))
    gallery[7] = 0.0  # a zero row ranks as in the exact path
    queries = rng.normal(size=(40, 12))
    for k in (1, 10):
        exact = retrieve(queries, gallery, k=k)
        approximate = retrieve(queries, gallery, k=k, index=index, index_params=params)
        np.testing.assert_array_equal(approximate[0], exact[0])
        np.testing.assert_allclose(approximate[1], exact[1], atol=1e-12)
    images = gallery[10:70]  # not the zero row: it ties with every item
    np.testing.assert_array_equal(
        retrieve(
            images, images, k=3, exclude_self=True, index=index, index_params=params
        )[0],
        retrieve(images, images, k=3, exclude_self=True)[0],
    )


def test_index_finds_the_neighbours_of_clustered_data_and_falls_back_when_short():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(12)
    centers = rng.normal(size=(20, 16))
    gallery = centers[rng.integers(0, 20, 2000)] + 0.1 * rng.normal(size=(2000, 16))
    queries = centers[rng.integers(0, 20, 50)] + 0.1 * rng.normal(size=(50, 16))
    exact = retrieve(queries, gallery, k=10)[0]
    found = retrieve(queries, gallery, k=10, index="ivf")[0]
    recall = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)]
    )
    assert recall >= 0.95
    # one cell scanned out of many holds fewer than k items for some queries:
    # those are ranked exactly, never padded
    short = retrieve(
        queries, gallery, k=200, index="ivf", index_params={"n_lists": 40, "n_probe": 1}
    )
    assert (short[0] >= 0).all() and np.isfinite(short[1]).all()


def test_index_refusals_name_the_fix():
    pytest.importorskip("faiss")
    queries, gallery = np.ones((2, 3)), np.eye(3)
    with pytest.raises(ValueError, match="hubness='csls' cannot use an index"):
        retrieve(queries, gallery, k=1, hubness="csls", index="ivf")
    with pytest.raises(ValueError, match="pass an integer k"):
        retrieve(queries, gallery, index="ivf")
    with pytest.raises(ValueError, match=r"Unknown index_params \['ef'\]"):
        retrieve(queries, gallery, k=1, index="hnsw", index_params={"ef": 3})
    with pytest.raises(ValueError, match=r"n_probe'\]=9 is out of range; pass 1 to 1"):
        retrieve(queries, gallery, k=1, index="ivf", index_params={"n_probe": 9})
    from skalign._index import GalleryIndex

    other = GalleryIndex(np.eye(4), "ivf")
    with pytest.raises(ValueError, match="built on 4 items of 4 features"):
        retrieve(queries, gallery, k=1, index=other)


def test_missing_index_library_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faiss", None)  # import faiss fails
    with pytest.raises(ImportError, match=r"skalign\[index\]"):
        retrieve(np.ones((2, 3)), np.eye(3), k=1, index="ivf")


def test_gallery_index_survives_pickling():
    pytest.importorskip("faiss")
    from skalign._index import GalleryIndex

    gallery = np.random.default_rng(13).normal(size=(100, 6))
    index = GalleryIndex(gallery, "hnsw")
    copy = pickle.loads(pickle.dumps(index))
    np.testing.assert_array_equal(
        copy.search(gallery[:5], 3), index.search(gallery[:5], 3)
    )


# --- hubness and score in ReportRetriever and retrieval_report -------------------


def _direct_csls_rank(queries, gallery, query_penalty, gallery_penalty, k):
    cosine = cosine_similarity(queries, gallery)
    csls = 2 * cosine - query_penalty[:, None] - gallery_penalty[None, :]
    return np.argsort(-csls, axis=1, kind="stable")[:, :k], csls


def test_report_retriever_csls_uses_fit_time_report_penalties():
    images, reports = _anchor_pairs(seed=3)
    text = LookupTextEncoder(_REPORTS).transform(reports)
    retriever = ReportRetriever(
        LookupTextEncoder(_REPORTS), hubness="csls", hubness_neighbors=3, n_reports=3
    ).fit(text, reports)
    gallery = retriever.report_embeddings_
    # r(report): mean of its 3 largest cosines with the (translated) anchors
    anchor_cosine = np.sort(cosine_similarity(gallery, text), axis=1)[:, ::-1]
    np.testing.assert_allclose(
        retriever.report_hubness_, anchor_cosine[:, :3].mean(axis=1), atol=1e-12
    )
    queries = np.random.default_rng(4).normal(size=(15, 4))
    query_cosine = np.sort(cosine_similarity(queries, gallery), axis=1)[:, ::-1]
    expected, csls = _direct_csls_rank(
        queries, gallery, query_cosine[:, :3].mean(axis=1), retriever.report_hubness_, 3
    )
    suggestions, similarities = retriever.suggest(queries)
    np.testing.assert_array_equal(suggestions, retriever.reports_[expected])
    np.testing.assert_allclose(
        similarities, np.take_along_axis(csls, expected, axis=1), atol=1e-12
    )
    # a prediction does not depend on the batch it arrives in
    one_by_one = [retriever.predict(queries[i : i + 1])[0] for i in range(15)]
    np.testing.assert_array_equal(retriever.predict(queries), one_by_one)


def test_report_retriever_index_equals_exact_and_survives_pickling():
    pytest.importorskip("faiss")
    images, reports = _anchor_pairs(seed=5)
    exact = ReportRetriever(
        LookupTextEncoder(_REPORTS), aligner=LatentAligner("affine")
    )
    exact.fit(images, reports)
    indexed = clone(exact).set_params(
        index="ivf", index_params={"n_lists": 1, "n_probe": 1}
    )
    indexed.fit(images, reports)
    assert exact.index_ is None and indexed.index_ is not None
    np.testing.assert_array_equal(
        indexed.suggest(images, n_reports=3)[0], exact.suggest(images, n_reports=3)[0]
    )
    restored = pickle.loads(pickle.dumps(indexed))
    np.testing.assert_array_equal(restored.predict(images), exact.predict(images))
    with pytest.raises(ValueError, match="hubness='csls' cannot use an index"):
        clone(indexed).set_params(hubness="csls").fit(images, reports)


def test_report_retriever_score_is_the_accuracy_of_the_top_report():
    images, reports = _anchor_pairs(seed=6)
    retriever = ReportRetriever(
        LookupTextEncoder(_REPORTS), aligner=LatentAligner("affine")
    ).fit(images[:60], reports[:60])
    held_out = np.array(reports[60:], dtype=object)
    predicted = retriever.predict(images[60:])
    score = retriever.score(images[60:], reports[60:])
    assert score == pytest.approx(np.mean(predicted == held_out))
    assert 0.5 < score <= 1.0
    # equals the paired recall@1 when every image's report is in the gallery
    weights = np.arange(20.0)
    assert retriever.score(images[60:], reports[60:], sample_weight=weights) == (
        pytest.approx(np.average(predicted == held_out, weights=weights))
    )
    # a wrong report for every image scores 0
    wrong = [next(r for r in _REPORTS if r != p) for p in predicted]
    assert retriever.score(images[60:], wrong) == 0.0
    with pytest.raises(ValueError, match="None of the reports in y is among"):
        retriever.score(images[60:62], ["new report", "another one"])


def test_retrieval_report_csls_equals_the_metrics_on_csls_scores():
    from skalign._csls import csls_similarities
    from skalign.metrics import precision_at_k, recall_at_k
    from skalign.retrieval import retrieval_report

    images, texts, labels = _labelled_pairs(noise=3.0)
    report = retrieval_report(
        images, texts, labels, k=[1, 3], hubness="csls", hubness_neighbors=4
    )
    same = labels[:, None] == labels[None, :]
    scores = csls_similarities(images, texts, n_neighbors=4)
    for cutoff in (1, 3):
        row = report.query(
            f"direction == 'image→text' and metric == 'precision' and k == {cutoff}"
        )
        assert row["value"].item() == pytest.approx(
            precision_at_k(same, scores, k=cutoff)
        )
    # image → image: an image is neither in its own gallery nor neighbourhood
    n = len(labels)
    others = ~np.eye(n, dtype=bool)
    cosine = cosine_similarity(images, images)
    penalty = np.array(
        [
            np.sort(row[mask])[::-1][:4].mean()
            for row, mask in zip(cosine, others, strict=True)
        ]
    )
    csls = 2 * cosine - penalty[:, None] - penalty[None, :]
    expected = recall_at_k(
        same[others].reshape(n, n - 1), csls[others].reshape(n, n - 1), k=1
    )
    row = report.query("direction == 'image→image' and metric == 'recall' and k == 1")
    assert row["value"].item() == pytest.approx(expected)
    plain = retrieval_report(images, texts, labels, k=[1, 3])
    assert not np.allclose(plain["value"], report["value"])


def test_retrieval_report_warns_when_paired_rows_repeat():
    from skalign.retrieval import retrieval_report

    images, texts, _ = _labelled_pairs(noise=0.3)
    texts[5] = texts[2]  # the same report text for two images
    with pytest.warns(UserWarning, match="1 of the .* text embeddings repeat"):
        retrieval_report(images, texts, k=1, directions=["image→text"])
    labels = np.unique(texts, axis=0, return_inverse=True)[1]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        retrieval_report(images, texts, labels, k=1)


# --- odd inputs (issue 23 item 7) ------------------------------------------------


def test_empty_reports_are_refused_where_reports_are_given():
    images, reports = _anchor_pairs()
    reports = list(reports)
    reports[4] = "   "
    retriever = ReportRetriever(LookupTextEncoder({**_REPORTS, "   ": [0.0] * 4}))
    text = LookupTextEncoder(_REPORTS).transform(_anchor_pairs()[1])
    with pytest.raises(ValueError, match=r"1 empty report\(s\) \(first at row 4\)"):
        retriever.fit(text, reports)
    fitted = ReportRetriever(LookupTextEncoder(_REPORTS)).fit(text, _anchor_pairs()[1])
    with pytest.raises(ValueError, match="empty report"):
        fitted.score(text[:5], reports[:5])


def test_ids_of_different_types_are_refused_not_silently_unmatched():
    images = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(
        TypeError, match="query_ids are numbers but gallery_ids are text"
    ):
        retrieve(images, images, k=1, query_ids=[1, 2, 3, 4], gallery_ids=list("1234"))
    # numpy integers and Python ints are one kind: matched
    indices, _ = retrieve(
        images, images, k=3, query_ids=np.arange(4), gallery_ids=[0, 1, 2, 3]
    )
    assert not (indices == np.arange(4)[:, None]).any()


def test_nothing_left_to_rank_is_a_clear_error():
    with pytest.raises(ValueError, match="exclude_self needs at least 2 items"):
        retrieve([[1.0, 0.0]], [[1.0, 0.0]], exclude_self=True)
    with pytest.raises(ValueError, match="nothing to rank"):
        retrieve(np.eye(2), np.eye(2), query_ids=["a", "a"], gallery_ids=["a", "a"])


def test_a_prebuilt_index_of_another_gallery_of_the_same_shape_is_refused():
    pytest.importorskip("faiss")
    from skalign._index import GalleryIndex

    rng = np.random.default_rng(7)
    gallery, other = rng.normal(size=(2, 120, 6))
    index = GalleryIndex(gallery, "ivf", {"n_lists": 2, "n_probe": 2})
    queries = rng.normal(size=(4, 6))
    exact = retrieve(queries, gallery, k=3)
    found = retrieve(queries, gallery, k=3, index=index)
    np.testing.assert_array_equal(found[0], exact[0])
    with pytest.raises(ValueError, match="built on another gallery of the same shape"):
        retrieve(queries, other, k=3, index=index)
    loaded = pickle.loads(pickle.dumps(index))
    assert loaded.is_built_on(gallery) and not loaded.is_built_on(other)


def test_index_params_without_an_index_are_refused():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match="index_params=.*index=None.*ignored"):
        retrieve(rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), k=2,
                 index_params={"n_lists": 2})  # fmt: skip
    with pytest.raises(ValueError, match="index_params=.*index=None"):
        ReportRetriever(
            LookupTextEncoder(_REPORTS), aligner=LatentAligner("affine"),
            index_params={"n_lists": 2},
        ).fit(*_anchor_pairs())  # fmt: skip


def test_n_reports_beyond_the_distinct_reports_is_refused_at_fit():
    images, reports = _anchor_pairs()
    n_distinct = len(set(reports))
    retriever = ReportRetriever(
        LookupTextEncoder(_REPORTS),
        aligner=LatentAligner("affine"),
        n_reports=n_distinct + 1,
    )
    with pytest.raises(ValueError, match=f"fitted on {n_distinct} distinct"):
        retriever.fit(images, reports)
    assert not hasattr(retriever, "reports_")


def test_score_checks_rows_and_weights_before_the_reports():
    images, reports = _anchor_pairs()
    retriever = ReportRetriever(
        LookupTextEncoder(_REPORTS), aligner=LatentAligner("affine")
    ).fit(images, reports)
    with pytest.raises(ValueError, match="0 sample"):
        retriever.score(images[:0], [])
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        retriever.score(images, reports, sample_weight=np.zeros(len(reports)))
    weights = np.arange(len(reports), dtype=float)
    hits = retriever.predict(images) == np.asarray(reports, dtype=object)
    assert retriever.score(images, reports, sample_weight=weights) == pytest.approx(
        np.average(hits, weights=weights)
    )


def test_images_of_another_width_name_the_vision_encoder():
    images, reports = _anchor_pairs()
    retriever = ReportRetriever(
        LookupTextEncoder(_REPORTS), aligner=LatentAligner("affine")
    ).fit(images, reports)
    with pytest.raises(ValueError, match="expecting 7 features.*same vision encoder"):
        retriever.predict(images[:, :5])
