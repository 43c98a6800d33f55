"""output_type="torch": embeddings stay torch tensors into the next pipeline steps."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skalign import LatentAligner
from skalign.extract import EmbeddingExtractor
from tests.extract._modules import random_images, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _extractor(encoder, device="cpu", **params):
    return EmbeddingExtractor(encoder, preprocess=thumbnail, device=device, **params)


def test_torch_output_equals_numpy_output(counting_encoder):
    images = random_images(5)
    as_numpy = _extractor(counting_encoder).transform(images)
    as_torch = _extractor(counting_encoder, output_type="torch").transform(images)
    assert isinstance(as_torch, torch.Tensor)
    assert as_torch.dtype == torch.float32 and as_torch.device.type == "cpu"
    np.testing.assert_array_equal(as_torch.numpy(), as_numpy)


def test_pipeline_with_an_aligner_stays_in_torch(counting_encoder):
    images = random_images(30, seed=1)
    rng = np.random.default_rng(0)
    targets = torch.from_numpy(rng.normal(size=(30, 6)).astype(np.float32))
    pipeline = make_pipeline(
        _extractor(counting_encoder, output_type="torch"), LatentAligner()
    ).fit(images, targets)
    translated = pipeline.transform(images)
    assert isinstance(translated, torch.Tensor)
    reference = make_pipeline(_extractor(counting_encoder), LatentAligner()).fit(
        images, targets.numpy()
    )
    np.testing.assert_allclose(
        translated.numpy(), reference.transform(images), rtol=1e-4, atol=1e-4
    )
    assert clone(pipeline).steps[0][1].output_type == "torch"


def test_text_model_returns_a_tensor():
    texts = ["a chest radiograph", "an MRI of the brain"]
    embeddings = EmbeddingExtractor(
        "all-minilm-l6-v2", device="cpu", output_type="torch"
    ).transform(texts)
    assert isinstance(embeddings, torch.Tensor) and embeddings.shape == (2, 384)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_pipeline_stays_on_the_gpu(counting_encoder):
    images = random_images(30, seed=2)
    rng = np.random.default_rng(0)
    targets = torch.from_numpy(rng.normal(size=(30, 6)).astype(np.float32)).cuda()
    extractor = _extractor(counting_encoder, device="cuda", output_type="torch")
    embeddings = extractor.transform(images)
    assert embeddings.device.type == "cuda"
    pipeline = make_pipeline(extractor, LatentAligner()).fit(images, targets)
    translated = pipeline.transform(images)
    assert isinstance(translated, torch.Tensor) and translated.device.type == "cuda"
    cpu = make_pipeline(_extractor(counting_encoder), LatentAligner()).fit(
        images, targets.cpu().numpy()
    )
    np.testing.assert_allclose(
        translated.cpu().numpy(), cpu.transform(images), rtol=1e-3, atol=1e-3
    )


def _refuse_host_copies(monkeypatch):
    """Make every copy of a backend's output to the host fail."""
    from skalign.extract import _extractor

    def no_copy(embeddings):
        raise AssertionError("the embeddings went through the host")

    monkeypatch.setattr(_extractor, "to_host", no_copy)


def test_torch_backends_return_tensors(counting_encoder):
    """The backends hand back tensors on the model's device; only a NumPy
    output or the caches copy them to the host."""
    extractor = _extractor(counting_encoder)
    extractor.transform(random_images(1))
    encoder = extractor.resolve().encoder
    batch = encoder.collate([thumbnail(image) for image in _pil(2)], "image")
    embedded = encoder.embed(batch, "image")
    assert isinstance(embedded, torch.Tensor) and embedded.dtype == torch.float32
    text = EmbeddingExtractor("all-minilm-l6-v2", device="cpu")
    text.transform(["warm up"])
    embedded = text.resolve().encoder.embed(["a radiograph"], "text")
    assert isinstance(embedded, torch.Tensor) and embedded.shape == (1, 384)


def _pil(n):
    from PIL import Image

    return [Image.fromarray(image) for image in random_images(n)]


@pytest.mark.parametrize("view_pooling", ["mean", "max"])
def test_torch_output_skips_the_host_and_equals_numpy(
    monkeypatch, counting_encoder, view_pooling
):
    images = random_images(6, seed=4)
    groups = [[images[0], images[1]], [images[2]], [images[3], images[4], images[0]]]
    params = dict(memoize=False, view_pooling=view_pooling, normalize=True)
    expected = _extractor(counting_encoder, **params).transform(groups)
    _refuse_host_copies(monkeypatch)
    as_torch = _extractor(counting_encoder, output_type="torch", **params)
    result = as_torch.transform(groups)
    assert isinstance(result, torch.Tensor) and result.is_contiguous()
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_torch_output_mixes_cached_and_new_rows(counting_encoder, tmp_path):
    images = random_images(4, seed=5)
    expected = _extractor(counting_encoder).transform(images)
    extractor = _extractor(counting_encoder, output_type="torch", cache_dir=tmp_path)
    extractor.transform(images[:2])  # two rows from the caches, two new
    result = extractor.transform(images)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_embeddings_never_visit_the_host(monkeypatch, counting_encoder):
    images = random_images(8, seed=6)
    expected = _extractor(counting_encoder).transform(images)
    _refuse_host_copies(monkeypatch)
    result = _extractor(
        counting_encoder, device="cuda", output_type="torch", memoize=False
    ).transform(images)
    assert result.device.type == "cuda"
    np.testing.assert_allclose(result.cpu().numpy(), expected, rtol=1e-4, atol=1e-4)
