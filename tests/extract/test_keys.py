"""Embedding keys cover content: the preprocessing's full identity (partials,
module settings), the in-process cache and the store agree, weights travel
with ``keep_weights_on_pickle``, and ``truncate_dim`` is checked."""

import functools
import importlib
import pickle
import sys

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor, clear_model_cache
from tests.extract._loads import count_loads
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

# memo: the in-process cache alone; disk: the store alone
WHERE = {"memo": {}, "disk": {"memoize": False}}


def _scaled_thumbnail(image, *, factor):
    return thumbnail(image) * factor


def _where(where, tmp_path):
    return {**WHERE[where], "cache_dir": tmp_path if where == "disk" else None}


@pytest.mark.parametrize("where", WHERE)
def test_partials_with_other_arguments_get_other_keys(
    where, counting_encoder, tmp_path
):
    images = random_images(3)

    def embed(factor):
        preprocess = functools.partial(_scaled_thumbnail, factor=factor)
        return EmbeddingExtractor(
            counting_encoder, preprocess=preprocess, **_where(where, tmp_path)
        ).transform(images)

    one = embed(1.0)
    three = embed(3.0)
    np.testing.assert_allclose(three, 3 * one, rtol=1e-5)
    CountingEncoder.calls.clear()
    np.testing.assert_array_equal(embed(3.0), three)  # an equal partial hits
    assert CountingEncoder.calls == []


SETTINGS = "FACTOR = 1.0\n"
PREPROCESS = """
import user_settings
from tests.extract._modules import thumbnail

OWN_FACTOR = 1.0

def through_module(image):
    return thumbnail(image) * user_settings.FACTOR

def through_global(image):
    return thumbnail(image) * OWN_FACTOR
"""


@pytest.fixture
def user_modules(tmp_path):
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "user_settings.py").write_text(SETTINGS)
    (folder / "user_preprocess.py").write_text(PREPROCESS)
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield (
            importlib.import_module("user_settings"),
            importlib.import_module("user_preprocess"),
        )
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("user_settings", None)
        sys.modules.pop("user_preprocess", None)


@pytest.mark.parametrize("where", WHERE)
def test_a_changed_module_setting_is_not_served_stale(
    where, counting_encoder, tmp_path, user_modules
):
    settings, code = user_modules
    images = random_images(3)

    def embed(preprocess):
        return EmbeddingExtractor(
            counting_encoder, preprocess=preprocess, **_where(where, tmp_path / "c")
        ).transform(images)

    before = embed(code.through_module)
    settings.FACTOR = 2.0  # a setting read as ``user_settings.FACTOR``
    np.testing.assert_allclose(embed(code.through_module), 2 * before, rtol=1e-5)
    own = embed(code.through_global)
    code.OWN_FACTOR = 3.0  # a global of the preprocess's own module
    np.testing.assert_allclose(embed(code.through_global), 3 * own, rtol=1e-5)


def test_inputs_found_in_memory_are_written_to_a_new_cache_dir(
    counting_encoder, tmp_path
):
    images = random_images(4)
    expected = EmbeddingExtractor(counting_encoder, preprocess=thumbnail).transform(
        images
    )
    CountingEncoder.calls.clear()
    EmbeddingExtractor(
        counting_encoder, preprocess=thumbnail, cache_dir=tmp_path
    ).transform(images)
    assert CountingEncoder.calls == []  # from memory...
    clear_model_cache()  # ...and on disk now: a fresh process would find them
    from_disk = EmbeddingExtractor(
        counting_encoder, preprocess=thumbnail, cache_dir=tmp_path, memoize=False
    ).transform(images)
    assert CountingEncoder.calls == []
    np.testing.assert_array_equal(from_disk, expected)


def test_weights_travel_with_the_pickle_after_a_cache_hit(monkeypatch):
    texts = ["a pleural effusion", "no acute findings", "the heart is enlarged"]
    EmbeddingExtractor("paraphrase-minilm-l3").transform(texts)
    shipped = EmbeddingExtractor("paraphrase-minilm-l3", keep_weights_on_pickle=True)
    shipped.transform(texts)  # served from memory: the model is not loaded
    assert not shipped.resolve().is_loaded
    data = pickle.dumps(shipped)
    clear_model_cache()  # as on the machine the pickle is sent to
    loads = count_loads(monkeypatch)
    received = pickle.loads(data)
    assert received.resolve().is_loaded
    received.transform(["a new sentence"])
    assert loads == []  # the weights came with the pickle


def test_truncate_dim_wider_than_the_model_is_refused(minilm_path):
    with pytest.raises(ValueError, match=r"truncate_dim=385 is larger than the 384-d"):
        EmbeddingExtractor("all-minilm-l6-v2", truncate_dim=385).fit(["a"])
    wide = EmbeddingExtractor(f"sentence-transformers:{minilm_path}", truncate_dim=500)
    with pytest.raises(ValueError, match=r"truncate_dim=500 .* at most 384"):
        wide.transform(["a"])
    exact = EmbeddingExtractor(f"sentence-transformers:{minilm_path}", truncate_dim=384)
    assert exact.transform(["a"]).shape == (1, 384)
