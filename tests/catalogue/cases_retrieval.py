"""Retrieval: retrieve (exact, CSLS, index), retrieval_report, ReportRetriever,
and the ranking metrics: k at its edges, ids, galleries, odd values."""

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skalign.metrics import (
    mean_average_precision_at_k,
    mean_cosine_similarity,
    precision_at_k,
    recall_at_k,
)
from skalign.retrieval import ReportRetriever, retrieval_report, retrieve
from tests._toy_encoders import HashingTextEncoder, LookupTextEncoder
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(5)
QUERIES = RNG.normal(size=(6, 4))
GALLERY = RNG.normal(size=(9, 4))
IMAGES = RNG.normal(size=(12, 4))
TEXTS = IMAGES + 0.1 * RNG.normal(size=(12, 4))
LABELS = np.repeat(["a", "b", "c"], 4)
TABLE = {"a cat": [1.0, 0.1, 0.0, 0.0], "a dog": [0.1, 1.0, 0.0, 0.0]}
REPORT_IMAGES = np.array(
    [[1.0, 0.1, 0.0, 0.0], [0.1, 1.0, 0.0, 0.0], [0.9, 0.2, 0.0, 0.0]]
)
REPORTS = ["a cat", "a dog", "a cat"]


def _cosine_order(queries, gallery):
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    return np.argsort(-(unit(queries) @ unit(gallery).T), axis=1, kind="stable")


def _mixed_ids_excluded():
    ids = [1, "b", 3, "d", 5, "f"]
    indices, _ = retrieve(QUERIES, QUERIES, query_ids=ids, gallery_ids=list(ids))
    assert not (indices == np.arange(6)[:, None]).any()
    return True


def _numpy_and_python_ids():
    query_ids = np.arange(6, dtype=np.int64)
    gallery_ids = [int(i) for i in range(6)]
    indices, _ = retrieve(
        QUERIES, QUERIES, query_ids=query_ids, gallery_ids=gallery_ids
    )
    assert not (indices == np.arange(6)[:, None]).any()
    return True


def _duplicated_gallery_ids():
    """Every gallery item of the query's id is excluded, not only the first."""
    gallery_ids = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    query_ids = np.array([0, 1, 2, 3, 4, 0])
    indices, _ = retrieve(
        QUERIES, GALLERY, query_ids=query_ids, gallery_ids=gallery_ids
    )
    assert indices.shape == (6, 7)
    assert not (gallery_ids[indices] == query_ids[:, None]).any()
    return True


def _neighbors_clipped():
    big = retrieve(QUERIES, GALLERY, hubness="csls", hubness_neighbors=10_000)
    exact = retrieve(QUERIES, GALLERY, hubness="csls", hubness_neighbors=9)
    np.testing.assert_array_equal(big[0], exact[0])
    np.testing.assert_allclose(big[1], exact[1])
    return True


def _zero_query():
    indices, similarities = retrieve(np.zeros((1, 4)), GALLERY, k=3)
    np.testing.assert_array_equal(indices, [[0, 1, 2]])
    np.testing.assert_array_equal(similarities, 0.0)
    return True


def _float32_gallery():
    indices, similarities = retrieve(QUERIES, GALLERY.astype(np.float32), k=3)
    assert similarities.dtype == np.float32
    np.testing.assert_array_equal(indices, _cosine_order(QUERIES, GALLERY)[:, :3])
    return True


def _bfloat16_queries():
    indices, _ = retrieve(torch.from_numpy(QUERIES).bfloat16(), GALLERY, k=1)
    rounded = torch.from_numpy(QUERIES).bfloat16().float().numpy()
    np.testing.assert_array_equal(indices[:, 0], _cosine_order(rounded, GALLERY)[:, 0])
    return True


def _ivf_agrees_with_exact():
    gallery = RNG.normal(size=(200, 8))
    queries = RNG.normal(size=(5, 8))
    approximate = retrieve(
        queries, gallery, k=3, index="ivf", index_params={"n_lists": 2, "n_probe": 2}
    )
    exact = retrieve(queries, gallery, k=3)
    np.testing.assert_array_equal(approximate[0], exact[0])
    return True


def _report_k_dedup():
    report = retrieval_report(IMAGES, TEXTS, LABELS, k=[1, 1, 2])
    assert sorted(set(report["k"])) == [1, 2]
    assert len(report) == 3 * 3 * 2
    return True


def _retriever(**params):
    return ReportRetriever(LookupTextEncoder(TABLE), **params).fit(
        REPORT_IMAGES, REPORTS
    )


def _csls_retriever_ranks_reports():
    reports, similarities = _retriever(hubness="csls", hubness_neighbors=50).suggest(
        REPORT_IMAGES, n_reports=2
    )
    assert reports.shape == (3, 2) and np.isfinite(similarities).all()
    assert reports[0, 0] == "a cat" and reports[1, 0] == "a dog"
    return True


CASES = [
    Case(
        "retrieval",
        "k=0",
        lambda tmp: retrieve(QUERIES, GALLERY, k=0),
        Raises((ValueError, InvalidParameterError), r"'k'.*range|k=0.*k >= 1"),
    ),
    Case(
        "retrieval",
        "k=True",
        lambda tmp: retrieve(QUERIES, GALLERY, k=True),
        Raises((TypeError, InvalidParameterError), r"'k'.*True"),
    ),
    Case(
        "retrieval",
        "k=2.0",
        lambda tmp: retrieve(QUERIES, GALLERY, k=2.0),
        Raises((TypeError, InvalidParameterError), r"'k'.*int"),
    ),
    Case(
        "retrieval",
        "k=numpy int64 is a whole number",
        lambda tmp: retrieve(QUERIES, GALLERY, k=np.int64(2)),
        Behaves(lambda out: out[0].shape == (6, 2)),
    ),
    Case(
        "retrieval",
        "k larger than the gallery with exclusions",
        lambda tmp: retrieve(QUERIES, QUERIES, k=6, exclude_self=True),
        Raises(ValueError, r"k=6 exceeds the 5 gallery items left.*k <= 5"),
    ),
    Case(
        "retrieval",
        "empty gallery",
        lambda tmp: retrieve(QUERIES, GALLERY[:0]),
        Raises(ValueError, r"gallery.*0 (sample|item|row).*(at least|minimum of) 1"),
    ),
    Case(
        "retrieval",
        "no queries",
        lambda tmp: retrieve(QUERIES[:0], GALLERY),
        Raises(ValueError, r"queries.*0 (sample|item|row).*(at least|minimum of) 1"),
    ),
    Case(
        "retrieval",
        "NaN query",
        lambda tmp: retrieve(np.where(QUERIES > 1.5, np.nan, QUERIES), GALLERY),
        Raises(ValueError, r"queries.*NaN"),
    ),
    Case(
        "retrieval",
        "infinite gallery value",
        lambda tmp: retrieve(QUERIES, np.where(GALLERY > 1.5, np.inf, GALLERY)),
        Raises(ValueError, r"gallery.*infinity.*(Remove|replace)"),
    ),
    Case(
        "retrieval",
        "1-D query",
        lambda tmp: retrieve(QUERIES[0], GALLERY),
        Raises(ValueError, r"1D.*reshape"),
    ),
    Case(
        "retrieval",
        "meta-device queries",
        lambda tmp: retrieve(torch.empty(2, 4, device="meta"), GALLERY),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "retrieval",
        "bfloat16 queries",
        lambda tmp: _bfloat16_queries(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "complex gallery",
        lambda tmp: retrieve(QUERIES, GALLERY + 1j),
        Raises((TypeError, ValueError), r"[Cc]omplex"),
    ),
    Case(
        "retrieval",
        "a zero query ranks the gallery in order with similarity 0",
        lambda tmp: _zero_query(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "float32 gallery stays float32",
        lambda tmp: _float32_gallery(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "exclude_self with one item",
        lambda tmp: retrieve(QUERIES[:1], QUERIES[:1], exclude_self=True),
        Raises(ValueError, r"nothing to rank.*exclude_self needs at least 2"),
    ),
    Case(
        "retrieval",
        "exclude_self with more queries than gallery items",
        lambda tmp: retrieve(QUERIES, GALLERY, exclude_self=True),
        Raises(ValueError, r"6 queries and 9 gallery items.*same embeddings"),
    ),
    Case(
        "retrieval",
        "exclude_self and ids together",
        lambda tmp: retrieve(
            QUERIES,
            QUERIES,
            exclude_self=True,
            query_ids=range(6),
            gallery_ids=range(6),
        ),
        Raises(ValueError, r"exclude_self=True or query_ids and gallery_ids, not both"),
    ),
    Case(
        "retrieval",
        "query ids without gallery ids",
        lambda tmp: retrieve(QUERIES, GALLERY, query_ids=range(6)),
        Raises(ValueError, r"query_ids and gallery_ids go together.*both"),
    ),
    Case(
        "retrieval",
        "integer query ids against string gallery ids",
        lambda tmp: retrieve(
            QUERIES, GALLERY, query_ids=range(6), gallery_ids=[str(i) for i in range(9)]
        ),
        Raises(TypeError, r"query_ids are numbers but gallery_ids are text.*one type"),
    ),
    Case(
        "retrieval",
        "ids of mixed types on both sides match by value",
        lambda tmp: _mixed_ids_excluded(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "NumPy int64 ids against Python ints",
        lambda tmp: _numpy_and_python_ids(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "duplicated gallery ids are all excluded",
        lambda tmp: _duplicated_gallery_ids(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "too few query ids",
        lambda tmp: retrieve(
            QUERIES, GALLERY, query_ids=range(5), gallery_ids=range(9)
        ),
        Raises(ValueError, r"query_ids has 5 ids for 6 rows.*one per row"),
    ),
    Case(
        "retrieval",
        "2-D ids",
        lambda tmp: retrieve(
            QUERIES,
            QUERIES,
            query_ids=np.arange(12).reshape(6, 2),
            gallery_ids=np.arange(12).reshape(6, 2),
        ),
        Raises(ValueError, r"(query_ids|ids).*(1-D|1d|shape|one per row)"),
    ),
    Case(
        "retrieval",
        "NaN ids",
        lambda tmp: retrieve(
            QUERIES, QUERIES, query_ids=[np.nan] * 6, gallery_ids=[np.nan] * 6
        ),
        Raises(ValueError, r"query_ids.*NaN.*(id|missing)"),
    ),
    Case(
        "retrieval",
        "hubness 'CSLS'",
        lambda tmp: retrieve(QUERIES, GALLERY, hubness="CSLS"),
        Raises(InvalidParameterError, r"hubness.*'csls'"),
    ),
    Case(
        "retrieval",
        "hubness True",
        lambda tmp: retrieve(QUERIES, GALLERY, hubness=True),
        Raises(InvalidParameterError, r"hubness.*'csls'"),
    ),
    Case(
        "retrieval",
        "hubness_neighbors 0",
        lambda tmp: retrieve(QUERIES, GALLERY, hubness="csls", hubness_neighbors=0),
        Raises(InvalidParameterError, r"hubness_neighbors.*range"),
    ),
    Case(
        "retrieval",
        "hubness_neighbors beyond the gallery is clipped",
        lambda tmp: _neighbors_clipped(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "an index without k",
        lambda tmp: retrieve(QUERIES, GALLERY, index="ivf"),
        Raises(ValueError, r"integer k.*index=None"),
    ),
    Case(
        "retrieval",
        "an index with CSLS",
        lambda tmp: retrieve(QUERIES, GALLERY, k=2, index="ivf", hubness="csls"),
        Raises(ValueError, r"hubness='csls' cannot use an index.*index=None"),
    ),
    Case(
        "retrieval",
        "an unknown index parameter",
        lambda tmp: retrieve(
            QUERIES, GALLERY, k=2, index="ivf", index_params={"nlist": 3}
        ),
        Raises(ValueError, r"Unknown index_params \['nlist'\].*n_lists"),
    ),
    Case(
        "retrieval",
        "index n_probe beyond n_lists",
        lambda tmp: retrieve(
            QUERIES,
            GALLERY,
            k=2,
            index="ivf",
            index_params={"n_lists": 2, "n_probe": 5},
        ),
        Raises(ValueError, r"n_probe.*=5.*1 to 2"),
    ),
    Case(
        "retrieval",
        "index 'flat'",
        lambda tmp: retrieve(QUERIES, GALLERY, k=2, index="flat"),
        Raises(InvalidParameterError, r"index.*'ivf'"),
    ),
    Case(
        "retrieval",
        "an exhaustive IVF index agrees with exact search",
        lambda tmp: _ivf_agrees_with_exact(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "report with k=0 among the cut-offs",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, k=[0, 1]),
        Raises((ValueError, InvalidParameterError), r"k.*0.*(>= 1|at least 1|1 to)"),
    ),
    Case(
        "retrieval",
        "report with a fractional cut-off",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, k=[1.5]),
        Raises((TypeError, ValueError), r"k.*1\.5.*whole number"),
    ),
    Case(
        "retrieval",
        "report with a cut-off beyond the gallery",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, k=[12]),
        Raises(ValueError, r"k=12.*(11|gallery).*k <="),
    ),
    Case(
        "retrieval",
        "report with a direction given as a string",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, directions="image→text"),
        Raises((InvalidParameterError, ValueError), r"directions.*(array-like|list)"),
    ),
    Case(
        "retrieval",
        "report with an unknown direction",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, directions=["image->text"]),
        Raises(ValueError, r"Unknown directions \['image->text'\].*use some of"),
    ),
    Case(
        "retrieval",
        "report with missing labels",
        lambda tmp: retrieval_report(IMAGES, TEXTS, np.r_[LABELS[:-1], None]),
        Raises(ValueError, r"labels.*(None|missing|NaN).*(row|pair) 11"),
    ),
    Case(
        "retrieval",
        "report with NaN labels",
        lambda tmp: retrieval_report(IMAGES, TEXTS, np.r_[np.zeros(11), np.nan]),
        Raises(ValueError, r"labels.*(None|missing|NaN).*(row|pair) 11"),
    ),
    Case(
        "retrieval",
        "report with too few labels",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS[:-2]),
        Raises(ValueError, r"labels has 10 entries for 12 pairs"),
    ),
    Case(
        "retrieval",
        "report on a single pair",
        lambda tmp: retrieval_report(
            IMAGES[:1], TEXTS[:1], k=1, directions=["image→text"]
        ),
        Behaves(lambda report: (report["value"] == 1.0).all()),
    ),
    Case(
        "retrieval",
        "report with repeated cut-offs",
        lambda tmp: _report_k_dedup(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "report of images and texts of other widths",
        lambda tmp: retrieval_report(IMAGES, TEXTS[:, :3], LABELS),
        Raises(ValueError, r"(4|3) features.*(same space|Translate)"),
    ),
    Case(
        "retrieval",
        "retriever with CSLS ranks the reports",
        lambda tmp: _csls_retriever_ranks_reports(),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "retriever with hubness 'cosine'",
        lambda tmp: _retriever(hubness="cosine"),
        Raises(InvalidParameterError, r"hubness.*'csls'"),
    ),
    Case(
        "retrieval",
        "retriever with an index and CSLS",
        lambda tmp: _retriever(hubness="csls", index="ivf"),
        Raises(ValueError, r"hubness='csls' cannot use an index.*index=None"),
    ),
    Case(
        "retrieval",
        "retriever fitted on one report string",
        lambda tmp: ReportRetriever(LookupTextEncoder(TABLE)).fit(
            REPORT_IMAGES[:1], "a cat"
        ),
        Raises((TypeError, ValueError), r"y must hold one report.*(list|per anchor)"),
    ),
    Case(
        "retrieval",
        "retriever score with sample_weight of the wrong length",
        lambda tmp: _retriever().score(REPORT_IMAGES, REPORTS, sample_weight=[1.0]),
        Raises(ValueError, r"sample_weight.*\(3,\).*\(1,\)|sample_weight.*shape"),
    ),
    Case(
        "retrieval",
        "retriever score on reports it never saw",
        lambda tmp: _retriever().score(REPORT_IMAGES, ["a bird"] * 3),
        Raises(ValueError, r"None of the reports in y is among.*retrieval_report"),
    ),
    Case(
        "retrieval",
        "retriever predict before fit",
        lambda tmp: ReportRetriever(LookupTextEncoder(TABLE)).predict(REPORT_IMAGES),
        Raises(NotFittedError, r"not fitted.*fit"),
    ),
    Case(
        "retrieval",
        "retriever suggest with images of another width",
        lambda tmp: _retriever().suggest(REPORT_IMAGES[:, :3]),
        Raises(ValueError, r"3 features.*expecting 4"),
    ),
    Case(
        "retrieval",
        "retriever with a text encoder of another width and no aligner",
        lambda tmp: ReportRetriever(HashingTextEncoder(6)).fit(REPORT_IMAGES, REPORTS),
        Raises(ValueError, r"4 features.*report embeddings have 6.*aligner"),
    ),
    Case(
        "retrieval",
        "retriever n_reports True",
        lambda tmp: _retriever(n_reports=True),
        Raises((TypeError, InvalidParameterError), r"n_reports.*(True|whole number)"),
    ),
    Case(
        "metrics",
        "precision_at_k with relevance of 2",
        lambda tmp: precision_at_k([[2, 0]], [[0.1, 0.2]], k=1),
        Raises(ValueError, r"binary relevance.*\[0, 2\]"),
    ),
    Case(
        "metrics",
        "precision_at_k with NaN scores",
        lambda tmp: precision_at_k([[1, 0]], [[np.nan, 0.2]], k=1),
        Raises(ValueError, r"y_score.*NaN"),
    ),
    Case(
        "metrics",
        "precision_at_k with shapes differing",
        lambda tmp: precision_at_k([[1, 0, 1]], [[0.1, 0.2]], k=1),
        Raises(ValueError, r"y_true has shape \(1, 3\) but y_score has shape \(1, 2\)"),
    ),
    Case(
        "metrics",
        "mean_average_precision_at_k with a query with no relevant item",
        lambda tmp: mean_average_precision_at_k(
            [[0, 0], [1, 0]], [[0.1, 0.2], [0.9, 0.1]], k=None
        ),
        Raises(ValueError, r"1 of 2 queries have no relevant gallery item.*Drop them"),
    ),
    Case(
        "metrics",
        "recall_at_k of an unknown kind",
        lambda tmp: recall_at_k([[1, 0]], [[0.1, 0.2]], k=1, kind="any"),
        Raises(InvalidParameterError, r"kind.*'hit'"),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity with NaN",
        lambda tmp: mean_cosine_similarity(
            np.array([[1.0, np.nan]]), np.array([[1.0, 0.0]])
        ),
        Raises(ValueError, r"NaN"),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity of arrays of other shapes",
        lambda tmp: mean_cosine_similarity(np.ones((3, 2)), np.ones((2, 2))),
        Raises(ValueError, r"shape.*\(3, 2\).*\(2, 2\)"),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity of a zero row is 0",
        lambda tmp: mean_cosine_similarity(
            np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]])
        ),
        Behaves(lambda value: value == 0.5),
    ),
    Case(
        "retrieval",
        "retriever fitted on meta-device images",
        lambda tmp: ReportRetriever(LookupTextEncoder(TABLE)).fit(
            torch.empty(3, 4, device="meta"), REPORTS
        ),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "retrieval",
        "retriever suggest for meta-device images",
        lambda tmp: _retriever().suggest(torch.empty(2, 4, device="meta")),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "retrieval",
        "retriever suggest for float32 tensors",
        lambda tmp: _retriever().suggest(
            torch.from_numpy(REPORT_IMAGES).float(), n_reports=1
        )[0],
        Behaves(
            lambda reports: reports.ravel().tolist() == ["a cat", "a dog", "a cat"]
        ),
    ),
    Case(
        "metrics",
        "precision_at_k of meta-device scores",
        lambda tmp: precision_at_k(np.eye(2), torch.empty(2, 2, device="meta"), k=1),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "metrics",
        "precision_at_k of tensors agrees with arrays",
        lambda tmp: precision_at_k(torch.eye(3), torch.eye(3) + 0.1, k=1),
        Behaves(lambda value: value == 1.0),
    ),
]


def _ranking_at_scale(gallery_scale, query_scale=1.0, **params):
    """retrieve on a rescaled gallery (queries) ranks as on the plain one."""
    queries, gallery = QUERIES * query_scale, GALLERY * gallery_scale
    # the reference: the same (possibly rounded) values, scaled back exactly
    plain = retrieve(queries / query_scale, gallery / gallery_scale, **params)
    scaled = retrieve(queries, gallery, **params)
    np.testing.assert_array_equal(scaled[0], plain[0])
    np.testing.assert_allclose(scaled[1], plain[1], rtol=1e-9, atol=1e-12)
    return True


def _mixed_magnitude_gallery():
    """One gallery row near 1e300 and one near 1e-300 among ordinary ones."""
    gallery = GALLERY.copy()
    gallery[2] *= 1e300
    gallery[5] *= 1e-300
    np.testing.assert_array_equal(
        retrieve(QUERIES, gallery)[0], retrieve(QUERIES, GALLERY)[0]
    )
    return True


CASES += [
    Case(
        "retrieval",
        "a gallery near 1e300 ranks as unscaled",
        lambda tmp: _ranking_at_scale(1e300),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "a subnormal gallery ranks as unscaled",
        lambda tmp: _ranking_at_scale(2.0**-1040),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "CSLS on a gallery near 1e300",
        lambda tmp: _ranking_at_scale(1e300, hubness="csls", hubness_neighbors=3),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "CSLS on queries near 1e-300",
        lambda tmp: _ranking_at_scale(1.0, 1e-300, hubness="csls", hubness_neighbors=3),
        Behaves(bool),
    ),
    Case(
        "retrieval",
        "gallery rows near 1e300 and 1e-300 among ordinary ones",
        lambda tmp: _mixed_magnitude_gallery(),
        Behaves(bool),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity of rows near 1e300",
        lambda tmp: mean_cosine_similarity(TEXTS * 1e300, TEXTS * 3e300),
        Behaves(lambda value: abs(value - 1.0) < 1e-12),
    ),
    Case(
        "metrics",
        "mean_cosine_similarity of rows near 1e-300",
        lambda tmp: mean_cosine_similarity(TEXTS * 1e-300, -TEXTS * 1e-300),
        Behaves(lambda value: abs(value + 1.0) < 1e-12),
    ),
]

CASES += [
    Case(
        "retrieval",
        "report labels mixing 1 and '1'",
        lambda tmp: retrieval_report(IMAGES, TEXTS, [1] * 6 + ["1"] * 6),
        Raises(TypeError, r"labels mix numbers and text.*one type"),
    ),
    Case(
        "retrieval",
        "ids 1 and '1' on both sides are not coerced to one",
        lambda tmp: retrieve(
            QUERIES[:2], QUERIES[:2], query_ids=[1, "x"], gallery_ids=["1", "y"]
        ),
        Behaves(lambda out: out[0].tolist() == [[0, 1], [1, 0]]),
    ),
]

CASES += [
    Case(
        "retrieval",
        "report with no directions",
        lambda tmp: retrieval_report(IMAGES, TEXTS, LABELS, directions=[]),
        Raises(ValueError, r"directions is empty.*pass some of"),
    ),
    Case(
        "retrieval",
        "report image→image with every label unique",
        lambda tmp: retrieval_report(IMAGES, TEXTS, [str(i) for i in range(12)], k=1),
        Raises(ValueError, r"No query of image→image has a relevant item.*Drop it"),
    ),
    Case(
        "retrieval",
        "retriever whose encoder embeds a report to zero",
        lambda tmp: ReportRetriever(
            LookupTextEncoder({"a cat": [0.0] * 4, "a dog": [0.1, 1.0, 0.0, 0.0]})
        ).fit(REPORT_IMAGES, REPORTS),
        Raises(
            ValueError, r"1 report\(s\) to the zero vector.*'a cat'.*Check the encoder"
        ),
    ),
]

CASES += [
    Case(
        "metrics",
        "mean_cosine_similarity of a tensor and an array",
        lambda tmp: mean_cosine_similarity(torch.from_numpy(TEXTS), IMAGES),
        Behaves(
            lambda value: abs(value - mean_cosine_similarity(TEXTS, IMAGES)) < 1e-12
        ),
    ),
]
