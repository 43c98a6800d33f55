"""scikit-learn's estimator checks."""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skalign import LatentAligner
from skalign.retrieval import ReportRetriever
from tests._expected_failures import expected_failed_checks
from tests._toy_encoders import HashingTextEncoder


@parametrize_with_checks(
    [
        LatentAligner(),
        LatentAligner("affine", alpha="auto"),
        LatentAligner("linear", center=False, std_scaling=False),
        LatentAligner("l-ortho", l2_normalize=True),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_expected_failures_fail_only_because_of_1d_labels():
    """The excluded checks pass once y is the 2-D target they should have been."""
    from sklearn.datasets import make_blobs

    X, labels = make_blobs(n_samples=30, n_features=2, centers=2, random_state=0)
    Y = np.c_[labels, 2.0 * labels + X[:, :1]]
    for dtype in (np.float64, np.float32):
        aligner = LatentAligner("affine")
        first = aligner.fit_transform(X.astype(dtype), Y)
        second = aligner.fit(X.astype(dtype), Y).transform(X.astype(dtype))
        assert first.dtype == second.dtype == dtype
        np.testing.assert_allclose(first, second)
        from_lists = LatentAligner("affine").fit(X.tolist(), Y.tolist())
        np.testing.assert_allclose(
            from_lists.transform(X.tolist()), second, rtol=1e-4, atol=1e-6
        )


class _ReportRetrieverOnLabels(ReportRetriever):
    """ReportRetriever seen through the checks' numeric labels.

    The checks pass numbers as y; ReportRetriever rejects anything but report
    strings on purpose (test_retrieval.py covers that error). This subclass
    turns each label into the report "report <label>" before fitting and
    scoring, and each predicted report back into its label, so every other
    property of the retriever (validation, pickling, invariances, idempotence)
    is checked.
    """

    def fit(self, X, y):
        labels = np.asarray(y).ravel() if y is not None else y
        reports = None if labels is None else [f"report {label}" for label in labels]
        self.label_of_report_ = (
            {} if labels is None else dict(zip(reports, labels, strict=True))
        )
        return super().fit(X, reports)

    def predict(self, X):
        reports = super().predict(X)
        return np.array([self.label_of_report_[report] for report in reports])

    def score(self, X, y, sample_weight=None):
        reports = [f"report {label}" for label in np.asarray(y).ravel()]
        return super().score(X, reports, sample_weight)


@parametrize_with_checks(
    [
        _ReportRetrieverOnLabels(HashingTextEncoder(), aligner=LatentAligner("ortho")),
        _ReportRetrieverOnLabels(
            HashingTextEncoder(5), aligner=LatentAligner("affine", alpha="auto")
        ),
        _ReportRetrieverOnLabels(
            HashingTextEncoder(3), aligner=LatentAligner("l-ortho"), n_reports=2
        ),
    ]
)
def test_report_retriever_sklearn_compatible(estimator, check):
    check(estimator)
