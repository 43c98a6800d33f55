"""EmbeddingExtractor through scikit-learn's estimator checks, with a tiny module.

The checks feed numeric tables of shape (n_samples, n_features); the extractor
embeds raw images and texts and refuses such tables on purpose ("not a batch
of images ... Already embedded? Then the extractor is not needed"). The checks
that need a table to fit or transform are expected to fail for that reason;
test_extractor.py and test_resolved.py cover the same properties (clone,
pickling, parameters left untouched, statelessness, sample order) on images.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skalign.extract import EmbeddingExtractor
from tests._expected_failures import expected_failed_checks
from tests.extract._modules import CountingEncoder, Thumbnail


@parametrize_with_checks(
    [EmbeddingExtractor(CountingEncoder(), preprocess=Thumbnail(), n_workers=0)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
