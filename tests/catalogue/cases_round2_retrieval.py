"""Round two on retrieval: ties and duplicated galleries, CSLS and k at the
gallery's edges, prebuilt indexes, ReportRetriever in scikit-learn's
machinery (clone, pickle, refit), the ranking metrics at their edges."""

import io
import pickle

import joblib
import numpy as np
from sklearn.base import clone

from skalign._index import GalleryIndex
from skalign.metrics import (
    mean_average_precision_at_k,
    precision_at_k,
    recall_at_k,
)
from skalign.retrieval import ReportRetriever, retrieval_report, retrieve
from tests._toy_encoders import LookupTextEncoder
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(41)
QUERIES = RNG.normal(size=(5, 4))
GALLERY = RNG.normal(size=(8, 4))
BIG_GALLERY = RNG.normal(size=(120, 6))
BIG_QUERIES = RNG.normal(size=(10, 6))
TABLE = {
    "a cat": [1.0, 0.1, 0.0, 0.0],
    "a dog": [0.1, 1.0, 0.0, 0.0],
    "a cow": [0.0, 0.1, 1.0, 0.0],
}
IMAGES = np.array(
    [[1.0, 0.1, 0.0, 0.0], [0.1, 1.0, 0.0, 0.0], [0.0, 0.1, 1.0, 0.0], [0.9, 0.2, 0, 0]]
)
REPORTS = ["a cat", "a dog", "a cow", "a cat"]


def _retriever(**params):
    return ReportRetriever(LookupTextEncoder(TABLE), **params).fit(IMAGES, REPORTS)


def _duplicated_gallery_ties_in_gallery_order():
    gallery = np.vstack([GALLERY[:3], GALLERY[:3], GALLERY[3:]])
    indices, similarities = retrieve(QUERIES, gallery, k=4)
    for row, sims in zip(indices, similarities, strict=True):
        # a duplicate ties with its original: the earlier row comes first
        for a, b in zip(row[:-1], row[1:], strict=True):
            if np.isclose(gallery[a] @ gallery[a], gallery[b] @ gallery[b]) and (
                np.allclose(gallery[a], gallery[b])
            ):
                assert a < b, row
        assert np.all(np.diff(sims) <= 1e-12), sims
    return True


def _all_tied_gallery():
    gallery = np.tile(GALLERY[:1], (6, 1))
    indices, _ = retrieve(QUERIES, gallery, k=6)
    return (indices == np.arange(6)).all()


def _k_equals_gallery_is_full_ranking():
    a, sa = retrieve(QUERIES, GALLERY, k=8)
    b, sb = retrieve(QUERIES, GALLERY)
    return np.array_equal(a, b) and np.array_equal(sa, sb)


def _csls_k_beyond_gallery():
    return retrieve(QUERIES, GALLERY, k=9, hubness="csls")


def _csls_one_neighbour():
    indices, similarities = retrieve(
        QUERIES, GALLERY, k=3, hubness="csls", hubness_neighbors=1
    )
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    cos = unit(QUERIES) @ unit(GALLERY).T
    reference = 2 * cos - cos.max(axis=1, keepdims=True) - cos.max(axis=0)
    order = np.argsort(-reference, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_allclose(
        similarities, np.take_along_axis(reference, order, axis=1), atol=1e-12
    )
    return True


def _csls_one_query():
    indices, similarities = retrieve(QUERIES[:1], GALLERY, k=2, hubness="csls")
    return indices.shape == (1, 2) and np.isfinite(similarities).all()


def _csls_neighbours_float():
    return retrieve(QUERIES, GALLERY, k=2, hubness="csls", hubness_neighbors=2.5)


def _stale_index():
    index = GalleryIndex(BIG_GALLERY, "ivf", {"n_lists": 2, "n_probe": 2})
    other = RNG.normal(size=BIG_GALLERY.shape)
    return retrieve(BIG_QUERIES, other, k=3, index=index)


def _same_gallery_index_reused():
    index = GalleryIndex(BIG_GALLERY, "ivf", {"n_lists": 2, "n_probe": 2})
    a = retrieve(BIG_QUERIES, BIG_GALLERY, k=3, index=index)
    b = retrieve(BIG_QUERIES, BIG_GALLERY, k=3)
    return np.array_equal(a[0], b[0])


def _pickled_index_searches_alike():
    index = GalleryIndex(BIG_GALLERY, "ivf", {"n_lists": 2, "n_probe": 2})
    loaded = pickle.loads(pickle.dumps(index))
    return np.array_equal(loaded.search(BIG_QUERIES, 3), index.search(BIG_QUERIES, 3))


def _hnsw_agrees_with_exact():
    a = retrieve(BIG_QUERIES, BIG_GALLERY, k=3, index="hnsw")
    b = retrieve(BIG_QUERIES, BIG_GALLERY, k=3)
    return np.array_equal(a[0], b[0])


def _index_k_equals_gallery():
    a = retrieve(
        BIG_QUERIES, BIG_GALLERY, k=120, index="ivf", index_params={"n_lists": 2}
    )
    b = retrieve(BIG_QUERIES, BIG_GALLERY, k=120)
    return np.array_equal(a[0], b[0])


def _index_with_exclude_self():
    a = retrieve(
        BIG_GALLERY[:40],
        BIG_GALLERY[:40],
        k=2,
        exclude_self=True,
        index="ivf",
        index_params={"n_lists": 1},
    )
    b = retrieve(BIG_GALLERY[:40], BIG_GALLERY[:40], k=2, exclude_self=True)
    return np.array_equal(a[0], b[0])


def _n_probe_zero():
    return retrieve(
        BIG_QUERIES,
        BIG_GALLERY,
        k=2,
        index="ivf",
        index_params={"n_lists": 2, "n_probe": 0},
    )


def _n_lists_beyond_gallery():
    return retrieve(
        BIG_QUERIES, BIG_GALLERY, k=2, index="ivf", index_params={"n_lists": 500}
    )


def _n_probe_float():
    return retrieve(
        BIG_QUERIES,
        BIG_GALLERY,
        k=2,
        index="ivf",
        index_params={"n_lists": 2, "n_probe": 2.0},
    )


def _index_params_without_index():
    return retrieve(QUERIES, GALLERY, k=2, index_params={"n_lists": 2})


def _ids_as_series():
    import pandas as pd

    ids = pd.Series([10, 11, 12, 13, 14], index=[5, 4, 3, 2, 1])
    indices, _ = retrieve(QUERIES, QUERIES, k=4, query_ids=ids, gallery_ids=ids)
    return not (indices == np.arange(5)[:, None]).any()


def _ids_with_none():
    return retrieve(
        QUERIES, QUERIES, query_ids=[1, 2, None, 4, 5], gallery_ids=[1, 2, 3, 4, 5]
    )


def _retriever_pickle():
    retriever = _retriever()
    buffer = io.BytesIO()
    joblib.dump(retriever, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    a = loaded.suggest(IMAGES, n_reports=2)
    b = retriever.suggest(IMAGES, n_reports=2)
    return np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def _retriever_pickle_with_index():
    retriever = _retriever(index="ivf", index_params={"n_lists": 1})
    loaded = pickle.loads(pickle.dumps(retriever))
    return np.array_equal(loaded.predict(IMAGES), retriever.predict(IMAGES))


def _retriever_clone_is_unfitted():
    copy = clone(_retriever())
    assert not hasattr(copy, "reports_")
    copy.fit(IMAGES, REPORTS)
    return list(copy.predict(IMAGES)) == list(_retriever().predict(IMAGES))


def _retriever_refit_forgets():
    retriever = _retriever()
    retriever.fit(IMAGES[:2], REPORTS[:2])
    return set(retriever.reports_) == {"a cat", "a dog"}


def _retriever_n_reports_beyond_anchors_predict():
    return _retriever(n_reports=5).fit(IMAGES, REPORTS)


def _retriever_suggest_beyond_anchors():
    return _retriever().suggest(IMAGES, n_reports=4)


def _retriever_predict_is_first_suggestion():
    retriever = _retriever(n_reports=2)
    predicted = retriever.predict(IMAGES)
    suggested, _ = retriever.suggest(IMAGES, n_reports=1)
    return np.array_equal(np.asarray(predicted).ravel(), suggested[:, 0])


def _retriever_score_all_right():
    return _retriever().score(IMAGES, REPORTS) == 1.0


def _retriever_score_zero_rows():
    return _retriever().score(IMAGES[:0], [])


def _retriever_set_params_n_reports_after_fit():
    retriever = _retriever(n_reports=1)
    retriever.set_params(n_reports=2)
    suggested, _ = retriever.suggest(IMAGES)
    return suggested.shape


def _retriever_score_weights_zero():
    return _retriever().score(IMAGES, REPORTS, sample_weight=np.zeros(4))


def _retriever_score_unknown_report():
    return _retriever().score(IMAGES, ["a cat", "a dog", "a cow", "a horse"])


def _retriever_csls_one_anchor_image():
    retriever = ReportRetriever(LookupTextEncoder(TABLE), hubness="csls")
    return retriever.fit(IMAGES[:2], REPORTS[:2]).predict(IMAGES[:1])


def _report_with_csls():
    labels = np.array(["a", "b", "a", "b", "c", "c"])
    images = RNG.normal(size=(6, 4))
    report = retrieval_report(images, images + 0.01, labels, k=(1,), hubness="csls")
    return report


def _report_k_as_int():
    images = RNG.normal(size=(6, 4))
    labels = np.array(["a", "b", "a", "b", "c", "c"])
    return retrieval_report(images, images, labels, k=1)


def _metric_k_zero():
    return precision_at_k(np.eye(3), np.eye(3), k=0)


def _metric_k_beyond():
    return mean_average_precision_at_k(np.eye(3), np.eye(3), k=4)


def _metric_k_float():
    return recall_at_k(np.eye(3), np.eye(3), k=1.5)


def _metric_ties_stable():
    y_true = np.array([[0, 1, 0]])
    y_score = np.array([[0.5, 0.5, 0.5]])
    return precision_at_k(y_true, y_score, k=1)


def _metric_1d():
    return precision_at_k(np.array([1, 0, 0]), np.array([0.9, 0.1, 0.0]), k=1)


def _metric_no_relevant_anywhere():
    return recall_at_k(np.zeros((2, 3)), RNG.normal(size=(2, 3)), k=1, kind="fraction")


def _metric_k_bool():
    return precision_at_k(np.eye(3), np.eye(3), k=True)


def _map_reference():
    y_true = np.array([[1, 0, 1, 0], [0, 0, 0, 1]])
    y_score = np.array([[0.9, 0.8, 0.7, 0.1], [0.4, 0.3, 0.2, 0.1]])
    value = mean_average_precision_at_k(y_true, y_score, k=3)
    # query 1: hits at 1 and 3: (1 + 2/3) / 2; query 2: no hit in the top 3 -> 0
    expected = ((1 + 2 / 3) / 2 + 0.0) / 2
    return np.isclose(value, expected) or value


CASES = [
    Case(
        "retrieval",
        "duplicated gallery rows rank in gallery order",
        lambda t: _duplicated_gallery_ties_in_gallery_order(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "a gallery of one row repeated ranks in row order",
        lambda t: _all_tied_gallery(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "k equal to the gallery is the whole ranking",
        lambda t: _k_equals_gallery_is_full_ranking(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "CSLS with k beyond the gallery",
        lambda t: _csls_k_beyond_gallery(),
        Raises(ValueError, r"k=9 exceeds the gallery size 8.*k <= 8"),
    ),
    Case(
        "retrieval",
        "CSLS with hubness_neighbors=1 agrees with its formula",
        lambda t: _csls_one_neighbour(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "CSLS with a single query",
        lambda t: _csls_one_query(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "CSLS with hubness_neighbors=2.5",
        lambda t: _csls_neighbours_float(),
        Raises((ValueError, TypeError), r"hubness_neighbors.*(int|whole)"),
    ),
    Case(
        "retrieval",
        "a prebuilt index of another gallery of the same shape",
        lambda t: _stale_index(),
        Raises(
            ValueError,
            r"index was built on (another|a different) gallery"
            r".*(Build it on this gallery|index='ivf')",
        ),
    ),
    Case(
        "retrieval",
        "a prebuilt index of the same gallery is reused",
        lambda t: _same_gallery_index_reused(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "a pickled index searches as the original",
        lambda t: _pickled_index_searches_alike(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "an HNSW index on a small gallery agrees with exact search",
        lambda t: _hnsw_agrees_with_exact(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "an index asked for the whole gallery",
        lambda t: _index_k_equals_gallery(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "an index with exclude_self agrees with exact search",
        lambda t: _index_with_exclude_self(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "index n_probe 0",
        lambda t: _n_probe_zero(),
        Raises(ValueError, r"n_probe.*out of range.*1 to 2"),
    ),
    Case(
        "retrieval",
        "index n_lists beyond the gallery",
        lambda t: _n_lists_beyond_gallery(),
        Raises(ValueError, r"n_lists.*500.*out of range.*1 to 120"),
    ),
    Case(
        "retrieval",
        "index n_probe 2.0",
        lambda t: _n_probe_float(),
        Raises(TypeError, r"n_probe.*whole number"),
    ),
    Case(
        "retrieval",
        "index_params without an index",
        lambda t: _index_params_without_index(),
        Raises(
            ValueError,
            r"index_params.*index=('ivf'|None)|index_params.*(ignored|no index)",
        ),
    ),
    Case(
        "retrieval",
        "ids as a pandas Series with a shuffled index",
        lambda t: _ids_as_series(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "a query id None",
        lambda t: _ids_with_none(),
        Raises(ValueError, r"query_ids.*(None|missing).*(id|every)"),
    ),
    Case(
        "retrieval",
        "retriever joblib round trip suggests alike",
        lambda t: _retriever_pickle(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever with an index survives pickling",
        lambda t: _retriever_pickle_with_index(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever clone is unfitted and refits alike",
        lambda t: _retriever_clone_is_unfitted(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever refit forgets the first reports",
        lambda t: _retriever_refit_forgets(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever n_reports beyond the distinct reports",
        lambda t: _retriever_n_reports_beyond_anchors_predict(),
        Raises(ValueError, r"n_reports.*5.*3 distinct"),
    ),
    Case(
        "retrieval",
        "retriever suggest n_reports beyond the distinct reports",
        lambda t: _retriever_suggest_beyond_anchors(),
        Raises(ValueError, r"n_reports.*4.*3 distinct"),
    ),
    Case(
        "retrieval",
        "retriever predict is the first suggestion",
        lambda t: _retriever_predict_is_first_suggestion(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever score on its own anchors",
        lambda t: _retriever_score_all_right(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever score on zero rows",
        lambda t: _retriever_score_zero_rows(),
        Raises(ValueError, r"0 sample.*minimum of 1"),
    ),
    Case(
        "retrieval",
        "retriever n_reports changed after fit",
        lambda t: _retriever_set_params_n_reports_after_fit(),
        Behaves(lambda shape: shape == (4, 1) or shape == (4, 2)),
    ),
    Case(
        "retrieval",
        "retriever score with all weights zero",
        lambda t: _retriever_score_weights_zero(),
        Raises(
            ValueError, r"sample_weight.*(zero|0).*weight > 0|sample_weight.*positive"
        ),
    ),
    Case(
        "retrieval",
        "retriever score on a report it never saw",
        lambda t: _retriever_score_unknown_report(),
        Behaves(lambda s: np.isclose(s, 0.75)),
    ),
    Case(
        "retrieval",
        "retriever with CSLS fitted on two anchors",
        lambda t: _retriever_csls_one_anchor_image(),
        Behaves(lambda r: list(r) == ["a cat"]),
    ),
    Case(
        "retrieval",
        "report with CSLS",
        lambda t: _report_with_csls(),
        Behaves(lambda r: len(r) > 0),
    ),
    Case(
        "retrieval",
        "report with k an int",
        lambda t: _report_k_as_int(),
        Behaves(lambda r: len(r) > 0),
    ),
    Case(
        "metrics",
        "precision_at_k with k=0",
        lambda t: _metric_k_zero(),
        Raises(ValueError, r"k.*(>= 1|range|at least 1)"),
    ),
    Case(
        "metrics",
        "mean_average_precision_at_k with k beyond the gallery",
        lambda t: _metric_k_beyond(),
        Raises(ValueError, r"k=4.*(3|gallery).*k <= 3|k.*at most.*3"),
    ),
    Case(
        "metrics",
        "recall_at_k with k=1.5",
        lambda t: _metric_k_float(),
        Raises((ValueError, TypeError), r"k.*(int|whole)"),
    ),
    Case(
        "metrics",
        "precision_at_k ties ranked in gallery order",
        lambda t: _metric_ties_stable(),
        Behaves(lambda v: v == 0.0),
    ),
    Case(
        "metrics",
        "precision_at_k of 1-D relevance",
        lambda t: _metric_1d(),
        Raises(
            ValueError,
            r"y_true must be 2-D.*\(n_queries, n_gallery\).*reshape\(1, -1\)",
        ),
    ),
    Case(
        "metrics",
        "recall fraction with no relevant item anywhere",
        lambda t: _metric_no_relevant_anywhere(),
        Raises(ValueError, r"queries have no relevant gallery item.*Drop them"),
    ),
    Case(
        "metrics",
        "precision_at_k with k=True",
        lambda t: _metric_k_bool(),
        Raises((ValueError, TypeError), r"k.*(int|whole|bool)"),
    ),
    Case(
        "metrics",
        "mean_average_precision_at_k agrees with a hand computation",
        lambda t: _map_reference(),
        Behaves(lambda v: v is True or v == np.True_),
    ),
]


# --- second batch: scores, shapes and the retriever in scikit-learn ---------

SIX = {f"r{i}": list(np.random.default_rng(i).normal(size=4)) for i in range(6)}
SIX_IMAGES = np.array([SIX[f"r{i % 6}"] for i in range(24)]) + 0.01 * RNG.normal(
    size=(24, 4)
)
SIX_REPORTS = [f"r{i % 6}" for i in range(24)]


def _minus_inf_scores():
    scores = np.array([[-np.inf, 0.5, 0.1], [0.2, -np.inf, 0.1], [0.3, 0.1, -np.inf]])
    return precision_at_k(1 - np.eye(3), scores, k=1)


def _no_queries():
    return precision_at_k(np.empty((0, 3)), np.empty((0, 3)), k=1)


def _no_gallery_items():
    return mean_average_precision_at_k(np.empty((3, 0)), np.empty((3, 0)), k=None)


def _cosine_3d():
    from skalign.metrics import mean_cosine_similarity

    return mean_cosine_similarity(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


def _retrieve_3d_gallery():
    return retrieve(QUERIES, np.ones((2, 2, 4)), k=1)


def _csls_one_neighbour_exclude_self():
    indices, _ = retrieve(
        GALLERY, GALLERY, k=2, hubness="csls", hubness_neighbors=1, exclude_self=True
    )
    return not (indices == np.arange(8)[:, None]).any()


def _hnsw_k_beyond_ef_search():
    a = retrieve(BIG_QUERIES, BIG_GALLERY, k=100, index="hnsw")
    b = retrieve(BIG_QUERIES, BIG_GALLERY, k=100)
    return np.array_equal(a[0], b[0])


def _index_with_ids_agrees():
    ids = dict(query_ids=np.arange(10), gallery_ids=np.arange(120) % 10)
    a = retrieve(BIG_QUERIES, BIG_GALLERY, k=3, index="ivf",
                 index_params={"n_lists": 2, "n_probe": 2}, **ids)  # fmt: skip
    b = retrieve(BIG_QUERIES, BIG_GALLERY, k=3, **ids)
    return np.array_equal(a[0], b[0])


def _retriever_cross_val_score():
    from sklearn.model_selection import KFold, cross_val_score

    scores = cross_val_score(
        ReportRetriever(LookupTextEncoder(SIX)), SIX_IMAGES, SIX_REPORTS, cv=KFold(3)
    )
    return np.array_equal(scores, np.ones(3))


def _retriever_grid_search_hubness():
    from sklearn.model_selection import GridSearchCV, KFold

    search = GridSearchCV(
        ReportRetriever(LookupTextEncoder(SIX)),
        {"hubness": [None, "csls"]},
        cv=KFold(3),
    ).fit(SIX_IMAGES, SIX_REPORTS)
    return search.best_score_ == 1.0


def _retriever_score_other_width():
    retriever = ReportRetriever(LookupTextEncoder(SIX)).fit(SIX_IMAGES, SIX_REPORTS)
    return retriever.score(RNG.normal(size=(3, 5)), SIX_REPORTS[:3])


def _retriever_reports_series():
    import pandas as pd

    reports = pd.Series(REPORTS, index=[9, 7, 5, 3])
    fitted = ReportRetriever(LookupTextEncoder(TABLE)).fit(IMAGES, reports)
    return list(fitted.predict(IMAGES)) == REPORTS


def _report_labels_series_shuffled():
    import pandas as pd

    images = RNG.normal(size=(6, 4))
    labels = list("aabbcc")
    shuffled = pd.Series(labels, index=[5, 4, 3, 2, 1, 0])
    a = retrieval_report(images, images + 0.1, shuffled, k=(1,))
    b = retrieval_report(images, images + 0.1, labels, k=(1,))
    return a.equals(b)


def _report_paired_image_to_image():
    return retrieval_report(GALLERY, GALLERY + 0.01, k=(1,))


CASES += [
    Case(
        "metrics",
        "precision_at_k with -inf scores masking items",
        lambda t: _minus_inf_scores(),
        Raises(ValueError, r"y_score.*infinite.*Pass finite scores.*exclude_self"),
    ),
    Case(
        "metrics",
        "precision_at_k with no queries",
        lambda t: _no_queries(),
        Raises(ValueError, r"y_true has shape \(0, 3\).*at least one query"),
    ),
    Case(
        "metrics",
        "mean_average_precision_at_k with no gallery items",
        lambda t: _no_gallery_items(),
        Raises(ValueError, r"y_true has shape \(3, 0\).*gallery item"),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity of 3-D arrays",
        lambda t: _cosine_3d(),
        Raises(ValueError, r"Y_true must be 2-D.*\(n_samples, n_features\)"),
    ),
    Case(
        "retrieval",
        "a 3-D gallery",
        lambda t: _retrieve_3d_gallery(),
        Raises(ValueError, r"gallery must be 2-D.*\(n_samples, n_features\)"),
    ),
    Case(
        "retrieval",
        "CSLS with one neighbour and exclude_self",
        lambda t: _csls_one_neighbour_exclude_self(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "HNSW asked for more candidates than ef_search",
        lambda t: _hnsw_k_beyond_ef_search(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "an exhaustive index with id exclusions agrees with exact",
        lambda t: _index_with_ids_agrees(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever in cross_val_score",
        lambda t: _retriever_cross_val_score(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever in GridSearchCV over hubness",
        lambda t: _retriever_grid_search_hubness(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever score on images of another width",
        lambda t: _retriever_score_other_width(),
        Raises(ValueError, r"X has 5 features.*expecting 4.*same vision encoder"),
    ),
    Case(
        "retrieval",
        "retriever fitted on a report Series with a shuffled index",
        lambda t: _retriever_reports_series(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "report labels as a Series with a shuffled index are positional",
        lambda t: _report_labels_series_shuffled(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "report image→image without labels",
        lambda t: _report_paired_image_to_image(),
        Raises(
            ValueError,
            r"image→image retrieval needs labels.*Pass labels, or directions",
        ),
    ),
]
