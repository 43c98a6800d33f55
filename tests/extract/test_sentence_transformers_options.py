"""sentence-transformers parity: prompts, truncation, model_kwargs, dtype, progress."""

import json
import os

import numpy as np
import pytest

from skalign.extract import EmbeddingExtractor, _runtime
from tests.extract._loads import count_loads

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

TEXTS = [
    "Mild cardiomegaly without pulmonary oedema.",
    "No acute cardiopulmonary process.",
    "Right lower lobe consolidation, consistent with pneumonia.",
]


@pytest.fixture(scope="module")
def reference_model(minilm_path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(minilm_path, device="cpu")


@pytest.fixture(scope="module")
def prompted_model_path(minilm_path, tmp_path_factory):
    """all-MiniLM-L6-v2 with a configured "query" prompt (files linked, one
    config rewritten)."""
    folder = tmp_path_factory.mktemp("prompted-minilm")
    for name in os.listdir(minilm_path):
        if name != "config_sentence_transformers.json":
            os.symlink(os.path.join(minilm_path, name), folder / name)
    config = {"prompts": {"query": "query: ", "passage": "passage: "}}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
    return str(folder)


def _st(path, **params):
    return EmbeddingExtractor(f"sentence-transformers:{path}", device="cpu", **params)


def test_prompt_equals_encode(minilm_path, reference_model):
    ours = _st(minilm_path, prompt="query: ").transform(TEXTS)
    np.testing.assert_allclose(
        ours, reference_model.encode(TEXTS, prompt="query: "), atol=1e-5
    )
    assert not np.allclose(ours, reference_model.encode(TEXTS), atol=1e-3)


def test_prompt_name_uses_the_models_prompt(prompted_model_path, reference_model):
    ours = _st(prompted_model_path, prompt_name="query").transform(TEXTS)
    np.testing.assert_allclose(
        ours, reference_model.encode(TEXTS, prompt="query: "), atol=1e-5
    )


def test_truncate_dim_keeps_the_first_dimensions(minilm_path, reference_model):
    extractor = _st(minilm_path, truncate_dim=32, normalize=True)
    ours = extractor.transform(TEXTS)
    full = reference_model.encode(TEXTS)[:, :32]
    np.testing.assert_allclose(
        ours, full / np.linalg.norm(full, axis=1, keepdims=True), atol=1e-5
    )
    assert extractor.get_feature_names_out().shape == (32,)


def test_max_seq_length_truncates_the_tokens(minilm_path, reference_model):
    from sentence_transformers import SentenceTransformer

    short = SentenceTransformer(minilm_path, device="cpu")
    short.max_seq_length = 5
    ours = _st(minilm_path, max_seq_length=5).transform(TEXTS)
    np.testing.assert_allclose(ours, short.encode(TEXTS), atol=1e-5)
    assert not np.allclose(ours, reference_model.encode(TEXTS), atol=1e-3)


def test_model_kwargs_reach_from_pretrained(monkeypatch, minilm_path, reference_model):
    loads = count_loads(monkeypatch)
    eager = _st(minilm_path, model_kwargs={"attn_implementation": "eager"})
    np.testing.assert_allclose(
        eager.transform(TEXTS), reference_model.encode(TEXTS), atol=1e-5
    )
    model = eager.resolve().encoder.model
    assert model[0].auto_model.config._attn_implementation == "eager"
    _st(minilm_path).transform(TEXTS)
    assert len(loads) == 2  # other load settings, another model


def test_encode_settings_share_the_loaded_model(monkeypatch, minilm_path):
    loads = count_loads(monkeypatch)
    _st(minilm_path, prompt="query: ").transform(TEXTS)
    _st(minilm_path, truncate_dim=8).transform(TEXTS)
    assert len(loads) == 1


def test_the_settings_key_the_cache(minilm_path):
    key = _st(minilm_path).resolve().cache_key()[0]
    keys = {
        _st(minilm_path, **{name: value}).resolve().cache_key()[0]
        for name, value in [
            ("prompt", "query: "),
            ("prompt_name", "query"),
            ("truncate_dim", 8),
            ("max_seq_length", 16),
            ("model_kwargs", {"attn_implementation": "eager"}),
        ]
    }
    assert key not in keys and len(keys) == 5


def test_packaged_sentence_transformers_model_takes_a_prompt(reference_model):
    ours = EmbeddingExtractor("all-minilm-l6-v2", prompt="query: ").transform(TEXTS)
    np.testing.assert_allclose(
        ours, reference_model.encode(TEXTS, prompt="query: "), atol=1e-5
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("prompt", "query: "),
        ("prompt_name", "query"),
        ("truncate_dim", 8),
        ("max_seq_length", 16),
        ("model_kwargs", {}),
    ],
)
def test_the_settings_are_refused_elsewhere(name, value):
    with pytest.raises(ValueError, match=f"{name}=.* applies to sentence-transformers"):
        EmbeddingExtractor("paraphrase-minilm-l3", **{name: value}).fit(["a"])


def test_precision_is_not_a_parameter_dtype_is():
    # ``precision`` (the former name of ``dtype``) was removed before any release
    assert "precision" not in EmbeddingExtractor("paraphrase-minilm-l3").get_params()
    with pytest.raises(TypeError, match="precision"):
        EmbeddingExtractor("paraphrase-minilm-l3", precision="bf16")


def test_progress_auto_shows_a_bar_for_large_inputs(monkeypatch, capsys, minilm_path):
    monkeypatch.setattr(_runtime, "AUTO_PROGRESS_MIN_INPUTS", 3)
    _st(minilm_path).transform(TEXTS[:2])
    assert "Embedding texts" not in capsys.readouterr().err
    _st(minilm_path, memoize=False).transform(TEXTS)
    assert "Embedding texts" in capsys.readouterr().err
    _st(minilm_path, show_progress=False, memoize=False).transform(TEXTS)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "show_progress, shown", [(False, False), ("auto", False), (True, True)]
)
def test_library_loading_bars_follow_show_progress(
    monkeypatch, minilm_path, show_progress, shown
):
    from huggingface_hub.utils import are_progress_bars_disabled
    from transformers.utils import logging

    from skalign.extract import _model

    seen, original = [], _model._load

    def spy(spec, runtime, **kwargs):
        seen.append(
            (logging.is_progress_bar_enabled(), not are_progress_bars_disabled())
        )
        return original(spec, runtime, **kwargs)

    monkeypatch.setattr(_model, "_load", spy)
    _st(minilm_path, show_progress=show_progress).transform(TEXTS)
    assert seen == [(shown, shown)]
    assert logging.is_progress_bar_enabled() and not are_progress_bars_disabled()
