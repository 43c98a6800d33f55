"""EmbeddingExtractor backends given odd model specs: open_clip checkpoints
that are damaged or planted pickles, ``hf:`` and ``sentence-transformers:``
folders that are empty, files or of another kind. No hub is reached."""

import functools
import json
import pickle

import numpy as np

from skalign.extract import EmbeddingExtractor
from tests.catalogue._harness import Behaves, Case, Raises
from tests.extract._catalogue_helpers import IMAGES, Exploding

S = "extractor backends"
TINY_CLIP = "skalign-catalogue-tiny-clip"


@functools.cache
def _tiny_clip_registered():
    """Register a 1-layer open_clip architecture (once per process)."""
    import tempfile

    import open_clip

    folder = tempfile.mkdtemp(prefix="catalogue-open-clip-")
    config = {
        "embed_dim": 8,
        "vision_cfg": {
            "image_size": 32,
            "layers": 1,
            "width": 16,
            "head_width": 8,
            "patch_size": 16,
        },
        "text_cfg": {
            "context_length": 8,
            "vocab_size": 49408,
            "width": 16,
            "heads": 2,
            "layers": 1,
        },
    }
    with open(f"{folder}/{TINY_CLIP}.json", "w") as handle:
        json.dump(config, handle)
    open_clip.add_model_config(folder)
    return TINY_CLIP


def _open_clip_checkpoint(tmp, write):
    arch = _tiny_clip_registered()
    checkpoint = tmp / "weights.pt"
    write(checkpoint)
    return EmbeddingExtractor(
        f"open_clip:{arch}/{checkpoint}", modality="image", memoize=False
    ).transform(IMAGES)


def _planted(tmp):
    marker = tmp / "unpickled.txt"
    try:
        _open_clip_checkpoint(
            tmp,
            lambda path: path.write_bytes(
                pickle.dumps({"state_dict": Exploding(marker)})
            ),
        )
    finally:
        if marker.exists():
            raise AssertionError("the checkpoint's pickle ran code")


def _hf_folder(tmp, fill, modality="image"):
    folder = tmp / "model"
    folder.mkdir()
    fill(folder)
    X = IMAGES if modality == "image" else ["a"]
    return EmbeddingExtractor(f"hf:{folder}", modality=modality).transform(X)


@functools.cache
def _tiny_vit():
    """A saved 1-layer ViT with its image processor (once per process)."""
    import tempfile

    import torch
    import transformers

    folder = tempfile.mkdtemp(prefix="catalogue-tiny-vit-")
    torch.manual_seed(1)
    config = transformers.ViTConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        image_size=32,
        patch_size=8,
    )
    transformers.ViTModel(config).save_pretrained(folder)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(
        folder
    )
    return folder


def _small_tensor(image):
    import torch

    return torch.zeros(3, 8, 8)


def _remote_code(tmp):
    """A folder whose config asks for its own modeling code, which writes a
    marker file when imported; trust_remote_code is left False."""
    folder = tmp / "custom"
    folder.mkdir()
    marker = tmp / "ran.txt"
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "catalogue-custom",
                "auto_map": {
                    "AutoConfig": "modeling.CustomConfig",
                    "AutoModel": "modeling.CustomModel",
                },
            }
        )
    )
    (folder / "modeling.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import PretrainedConfig, PreTrainedModel\n"
        "class CustomConfig(PretrainedConfig):\n    model_type = 'catalogue-custom'\n"
        "class CustomModel(PreTrainedModel):\n    config_class = CustomConfig\n"
    )
    try:
        EmbeddingExtractor(f"hf:{folder}", modality="image").transform(IMAGES)
    finally:
        if marker.exists():
            raise AssertionError("the model's own code ran without trust_remote_code")


def _onnx(path, **params):
    from tests.extract._modules import thumbnail

    params.setdefault("preprocess", thumbnail)
    return EmbeddingExtractor(f"onnx:{path}", **params).transform(IMAGES)


CASES = [
    Case(
        S,
        "onnx: a text file named .onnx",
        lambda tmp: (
            (tmp / "model.onnx").write_text("not a model"),
            _onnx(tmp / "model.onnx"),
        ),
        Raises(
            (ValueError, OSError),
            r"model\.onnx.*(ONNX|protobuf|damaged).*(export|path)",
        ),
    ),
    Case(
        S,
        "onnx: a folder",
        lambda tmp: _onnx(tmp),
        Raises((ValueError, OSError), r"(folder|directory).*\.onnx"),
    ),
    Case(
        S,
        "hf: an image-only ViT asked for texts",
        lambda tmp: EmbeddingExtractor(f"hf:{_tiny_vit()}", modality="text").transform(
            ["a"]
        ),
        Raises(ValueError, r"(cannot embed texts|tokenizer).*(modality|model)"),
    ),
    Case(
        S,
        "hf: a preprocess giving 8x8 inputs to a 32x32 ViT",
        lambda tmp: EmbeddingExtractor(
            f"hf:{_tiny_vit()}", preprocess=_small_tensor, memoize=False
        ).transform(IMAGES),
        Raises(ValueError, r"(8|size).*32.*(preprocess|resize|size)"),
    ),
    Case(
        S,
        "hf: dtype='bf16' on the CPU returns float32 close to fp32",
        lambda tmp: (
            EmbeddingExtractor(
                f"hf:{_tiny_vit()}", dtype="bf16", memoize=False
            ).transform(IMAGES),
            EmbeddingExtractor(f"hf:{_tiny_vit()}", memoize=False).transform(IMAGES),
        ),
        Behaves(
            lambda out: (
                out[0].dtype == np.float32
                and np.allclose(out[0], out[1], atol=0.1, rtol=0.1)
            )
        ),
    ),
    Case(
        S,
        "hf: pooling='pooler' on a ViT gives its pooler output",
        lambda tmp: (
            EmbeddingExtractor(f"hf:{_tiny_vit()}", pooling="pooler").transform(IMAGES),
            EmbeddingExtractor(f"hf:{_tiny_vit()}", pooling="cls").transform(IMAGES),
        ),
        Behaves(
            lambda out: (
                out[0].shape == out[1].shape == (4, 16)
                and not np.allclose(out[0], out[1])
            )
        ),
    ),
    Case(
        S,
        "hf: a folder shipping its own code, trust_remote_code=False",
        lambda tmp: _remote_code(tmp),
        Raises((ValueError, OSError), r"custom.*trust_remote_code=True"),
    ),
    Case(
        S,
        "open_clip checkpoint of 0 bytes",
        lambda tmp: _open_clip_checkpoint(tmp, lambda path: path.write_bytes(b"")),
        Raises((ValueError, OSError), r"weights\.pt.*(empty|damaged|checkpoint)"),
    ),
    Case(
        S,
        "open_clip checkpoint that is a planted pickle",
        lambda tmp: _planted(tmp),
        Raises((ValueError, OSError), r"weights\.pt.*(pickle|weights_only|checkpoint)"),
    ),
    Case(
        S,
        "open_clip checkpoint of another architecture's weights",
        lambda tmp: _open_clip_checkpoint(
            tmp,
            lambda path: __import__("torch").save(
                {"visual.proj": __import__("torch").zeros(3, 3)}, path
            ),
        ),
        Raises(
            (ValueError, RuntimeError, OSError),
            r"weights\.pt.*(match|architecture|keys)",
        ),
    ),
    Case(
        S,
        "open_clip unknown architecture",
        lambda tmp: EmbeddingExtractor(
            "open_clip:ViT-B-33/openai", modality="image"
        ).transform(IMAGES),
        Raises(ValueError, r"Unknown open_clip architecture 'ViT-B-33'.*list_models"),
    ),
    Case(
        S,
        "open_clip unknown pretrained tag",
        lambda tmp: EmbeddingExtractor(
            "open_clip:ViT-B-32/no_such_tag", modality="image"
        ).transform(IMAGES),
        Raises(ValueError, r"'no_such_tag' is neither a pretrained tag.*tags"),
    ),
    Case(
        S,
        "hf: an empty folder",
        lambda tmp: _hf_folder(tmp, lambda folder: None),
        Raises(FileNotFoundError, r"model' holds no config\.json.*save_pretrained"),
    ),
    Case(
        S,
        "hf: a folder whose config.json is not JSON",
        lambda tmp: _hf_folder(
            tmp, lambda folder: (folder / "config.json").write_text("{nope")
        ),
        Raises(
            OSError, r"config\.json.*not a valid JSON.*damaged.*save the model again"
        ),
    ),
    Case(
        S,
        "hf: a path that is a file, not a folder",
        lambda tmp: (
            (tmp / "weights.bin").write_bytes(b"x"),
            EmbeddingExtractor(f"hf:{tmp / 'weights.bin'}").transform(IMAGES),
        ),
        Raises((OSError, ValueError), r"weights\.bin.*(folder|directory)"),
    ),
    Case(
        S,
        "sentence-transformers: an empty folder",
        lambda tmp: (
            (tmp / "st").mkdir(),
            EmbeddingExtractor(f"sentence-transformers:{tmp / 'st'}").transform(["a"]),
        ),
        Raises(
            FileNotFoundError, r"st' holds no config\.json.*SentenceTransformer\.save"
        ),
    ),
]
