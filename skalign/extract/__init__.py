"""Pretrained encoders as scikit-learn transformers.

:class:`EmbeddingExtractor` turns texts and images (paths, PIL images, arrays,
DICOM files, multi-view groups) into embeddings with sentence-transformers,
open_clip, Hugging Face ``transformers``, ONNX or plain PyTorch models, so
encoders sit in a :class:`~sklearn.pipeline.Pipeline` in front of
:class:`~skalign.LatentAligner` and the classifiers that read its output.
"""

from ._distributed import embed_distributed
from ._efficientnet_lite import efficientnet_lite0
from ._extractor import EmbeddingExtractor
from ._images import load_image
from ._registry import clear_model_cache

__all__ = [
    "EmbeddingExtractor",
    "clear_model_cache",
    "efficientnet_lite0",
    "embed_distributed",
    "load_image",
]
