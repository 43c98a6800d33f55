"""Pretrained encoders as scikit-learn transformers.

:class:`EmbeddingExtractor` turns texts and images (paths, PIL images, arrays,
DICOM files, multi-view groups) into embeddings with sentence-transformers,
open_clip, Hugging Face ``transformers``, ONNX or plain PyTorch models, so
encoders sit in a :class:`~sklearn.pipeline.Pipeline` in front of
:class:`~skalign.LatentAligner` and the classifiers that read its output.

Layout (for contributors)
-------------------------
``_extractor`` holds the estimator; ``_model`` parses, resolves and loads
(once per process) the model; ``_runtime`` runs it (device, precision,
batches, progress bars); ``_inputs`` and ``_images`` read what ``X`` holds;
``_code_identity`` and ``_store`` key and keep the embeddings (one in-process
cache, one on-disk store); ``_distributed`` spreads a transform over Dask
workers. ``backends/`` holds one module per model backend and the table that
lists them; its docstring says how to add one.
"""

from ._distributed import embed_distributed
from ._extractor import EmbeddingExtractor
from ._images import load_image
from ._model import ResolvedModel, clear_model_cache
from ._store import compact_embedding_cache
from .backends._efficientnet_lite import efficientnet_lite0, imagenet_preprocess

__all__ = [
    "EmbeddingExtractor",
    "ResolvedModel",
    "clear_model_cache",
    "compact_embedding_cache",
    "efficientnet_lite0",
    "embed_distributed",
    "imagenet_preprocess",
    "load_image",
]
