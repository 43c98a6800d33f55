"""The in-process embedding memo: each distinct input is embedded once per process."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skalign import LatentAligner
from skalign.extract import EmbeddingExtractor, _store, clear_model_cache
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _extractor(encoder, **params):
    return EmbeddingExtractor(encoder, preprocess=thumbnail, **params)


def test_grid_search_embeds_each_input_once_with_no_configuration(counting_encoder):
    images = random_images(24, seed=3)
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(24, 6))
    pipeline = Pipeline(
        [("embed", _extractor(counting_encoder)), ("align", LatentAligner())]
    )
    search = GridSearchCV(
        pipeline,
        {"align__transform_type": ["affine", "linear", "l-ortho", "ortho"]},
        cv=KFold(3),
    ).fit(images, targets)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # 4 transforms x 3 folds x (fit + score) + the refit, yet each input once:
    assert sum(CountingEncoder.calls) == len(images)


def test_memo_returns_what_the_model_returns(counting_encoder):
    images = random_images(5)
    fresh = _extractor(counting_encoder, memoize=False).transform(images)
    first = _extractor(counting_encoder).transform(images)
    again = _extractor(counting_encoder).transform(images[::-1])
    np.testing.assert_array_equal(first, fresh)
    np.testing.assert_array_equal(again, fresh[::-1])
    assert sum(CountingEncoder.calls) == 2 * len(images)


def test_memoize_false_embeds_every_call(counting_encoder):
    images = random_images(4)
    extractor = _extractor(counting_encoder, memoize=False)
    extractor.transform(images)
    extractor.transform(images)
    assert sum(CountingEncoder.calls) == 2 * len(images)


def test_memo_is_keyed_by_the_settings_that_change_the_output(counting_encoder):
    images = random_images(3)
    plain = _extractor(counting_encoder).transform(images)
    flipped = EmbeddingExtractor(
        counting_encoder, preprocess=_flipped_thumbnail
    ).transform(images)
    assert sum(CountingEncoder.calls) == 2 * len(images)
    assert not np.allclose(plain, flipped)
    # normalize is applied after the memo: no new embedding
    _extractor(counting_encoder, normalize=True).transform(images)
    assert sum(CountingEncoder.calls) == 2 * len(images)


def test_a_changed_module_is_embedded_again(counting_encoder):
    images = random_images(3)
    before = _extractor(counting_encoder).transform(images)
    counting_encoder.projection.data *= 2
    after = _extractor(counting_encoder).transform(images)
    np.testing.assert_allclose(after, 2 * before, rtol=1e-5)


def test_clear_model_cache_empties_the_memo(counting_encoder):
    images = random_images(3)
    _extractor(counting_encoder).transform(images)
    clear_model_cache()
    _extractor(counting_encoder).transform(images)
    assert sum(CountingEncoder.calls) == 2 * len(images)


def test_memo_is_bounded(monkeypatch, counting_encoder):
    row_bytes = 4 * _extractor(counting_encoder).transform(random_images(1)).shape[1]
    monkeypatch.setattr(_store._MEMORY, "limit_bytes", 3 * row_bytes)
    _extractor(counting_encoder).transform(random_images(10, seed=1))
    assert _store._MEMORY._bytes <= 3 * row_bytes
    assert len(_store._MEMORY._rows) == 3


def test_lambda_preprocess_is_memoized_by_its_code(counting_encoder):
    """A lambda cannot be pickled, but its code keys the memo like the disk
    cache; editing the code changes the key (test_cache_integrity.py)."""
    images = random_images(2)
    extractor = EmbeddingExtractor(
        counting_encoder, preprocess=lambda image: thumbnail(image)
    )
    extractor.transform(images)
    extractor.transform(images)
    assert sum(CountingEncoder.calls) == len(images)


def test_unreadable_file_is_still_reported_by_name(counting_encoder, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        _extractor(counting_encoder).transform([str(tmp_path / "missing.png")])


def _flipped_thumbnail(image):
    return thumbnail(image).flip(-1)
