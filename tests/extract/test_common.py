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
from tests.extract._modules import CountingEncoder, thumbnail

_TABLE = (
    "EmbeddingExtractor embeds raw images or texts and refuses the check's "
    "numeric (n_samples, n_features) table by design ('not a batch of images'); "
    "test_extractor.py checks the same property on images."
)
_SPARSE = (
    "EmbeddingExtractor refuses a sparse matrix as 'X[0] is a csr_matrix, which "
    "is not an image', not with the 'sparse' wording the check looks for."
)
EXPECTED_FAILED_CHECKS = {
    **dict.fromkeys(
        [
            "check_complex_data",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_empty_data_messages",
            "check_estimators_fit_returns_self",
            "check_estimators_nan_inf",
            "check_estimators_overwrite_params",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_pipeline_consistency",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformers_unfitted_stateless",
        ],
        _TABLE,
    ),
    **dict.fromkeys(
        [
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_estimator_sparse_tag",
        ],
        _SPARSE,
    ),
}


@parametrize_with_checks(
    [EmbeddingExtractor(CountingEncoder(), preprocess=thumbnail, n_workers=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
