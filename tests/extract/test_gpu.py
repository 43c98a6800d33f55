"""CUDA: device choice, autocast precisions, agreement with the CPU."""

import numpy as np
import pytest
import torch

from skalign.extract import EmbeddingExtractor
from tests.extract._modules import CountingEncoder, thumbnail

pytestmark = [
    pytest.mark.usefixtures("fresh_model_registry"),
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

TEXTS = ["a small left pleural effusion", "no acute findings", "cardiomegaly"]


def _cosine(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_auto_device_picks_cuda(photos):
    extractor = EmbeddingExtractor("efficientnet-lite0")
    extractor.transform([photos["chelsea"]])
    encoder = extractor.resolve().encoder
    assert encoder.runtime.device == "cuda"
    assert next(encoder.module.parameters()).is_cuda


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_autocast_is_close_to_fp32(photos, precision):
    images = [photos["chelsea"], photos["coffee"], photos["rocket"]]
    full = EmbeddingExtractor("efficientnet-lite0").transform(images)
    reduced = EmbeddingExtractor("efficientnet-lite0", dtype=precision)
    reduced = reduced.transform(images)
    assert reduced.dtype == np.float32
    assert (_cosine(full, reduced) > 0.99).all()


def test_cuda_matches_cpu_for_every_torch_backend(tiny_clip, tiny_dinov2, photos):
    images = [photos["chelsea"], photos["coffee"]]
    for model, modality, X in [
        ("all-minilm-l6-v2", "text", TEXTS),
        (f"open_clip:{tiny_clip}", "image", images),
        (f"open_clip:{tiny_clip}", "text", TEXTS),
        (f"hf:{tiny_dinov2}", "image", images),
        ("efficientnet-lite0", "image", images),
    ]:
        torch.manual_seed(0)
        cpu = EmbeddingExtractor(model, modality=modality, device="cpu").transform(X)
        torch.manual_seed(0)
        gpu = EmbeddingExtractor(model, modality=modality, device="cuda").transform(X)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-3, err_msg=model)


def test_sentence_transformers_on_cuda_equals_encode(minilm_path):
    from sentence_transformers import SentenceTransformer

    ours = EmbeddingExtractor(f"sentence-transformers:{minilm_path}", device="cuda")
    reference = SentenceTransformer(minilm_path, device="cuda").encode(TEXTS)
    np.testing.assert_allclose(ours.transform(TEXTS), reference, atol=1e-5)


def test_registry_keeps_devices_apart():
    cpu = EmbeddingExtractor("all-minilm-l6-v2", device="cpu")
    gpu = EmbeddingExtractor("all-minilm-l6-v2", device="cuda")
    cpu.transform(TEXTS)
    gpu.transform(TEXTS)
    assert cpu.resolve().encoder is not gpu.resolve().encoder


def test_module_runs_on_cuda_with_pinned_batches(photos):
    CountingEncoder.calls.clear()
    module = CountingEncoder()
    images = [photos["chelsea"]] * 5 + [photos["coffee"]]
    embeddings = EmbeddingExtractor(
        module, preprocess=thumbnail, device="cuda", batch_size=1
    ).transform(images)
    assert module.projection.is_cuda
    assert sum(CountingEncoder.calls) == 2  # duplicates embedded once
    np.testing.assert_allclose(embeddings[0], embeddings[4])
