"""scikit-learn's estimator checks for the aligners beyond the paper."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skalign import AdapterAligner, AnchorKernelAligner, SelfLearningAligner
from tests._expected_failures import expected_failed_checks

pytest.importorskip("torch")


@parametrize_with_checks(
    [
        SelfLearningAligner(),
        AdapterAligner(max_iter=5, random_state=0),
        AnchorKernelAligner(),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
