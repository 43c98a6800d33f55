"""The backend table: how each kind of model spec is loaded and what it accepts.

One row per backend. ``loader`` is a ``"module:function"`` string imported only
when a model loads, so this module (like ``_catalogue``) imports nothing heavy.
A loader is called as ``load(source, runtime, *, output, trust_remote_code,
**options)`` (``options``: the load settings of backends that have some)
(``source``: the name after the prefix, or the ``torch.nn.Module``) and returns
an :class:`~skalign.extract.backends._base.Encoder`.
"""

import importlib
from dataclasses import dataclass

from ..._optional import import_optional

# The settings a backend may accept besides the common ones.
POOLING = "pooling"  # token pooling choice (hf:)
OUTPUT = "output"  # which graph tensor is the embedding (ONNX)
PRECISION = "precision"  # fp16 / bf16 weights and autocast (``dtype``, torch backends)
TEXT_PREPROCESS = "text_preprocess"  # ``preprocess`` may tokenize texts
# SentenceTransformer settings: ``model_kwargs`` and ``max_seq_length`` at load,
# ``prompt``, ``prompt_name`` and ``truncate_dim`` in ``encode``
SENTENCE_TRANSFORMERS = "sentence_transformers"


@dataclass(frozen=True)
class Backend:
    """One way of loading models.

    Attributes
    ----------
    name : str
        The spec prefix (``"hf"`` in ``"hf:NAME"``), or ``"packaged"`` and
        ``"module"`` for the specs without one.
    loader : str
        ``"module:function"`` building the encoder.
    distributions : tuple of str
        pip distributions whose versions shape the outputs (they key the cache).
    extra : str
        The skalign extra that installs it (``pip install "skalign[EXTRA]"``).
    modules : tuple of str
        The optional packages its loader imports; a missing one raises an
        ImportError naming ``extra`` before anything loads.
    modality : {"text", "image", "choose"} or None
        The modality of ``modality="auto"`` known without loading; "choose":
        the user must set one; None: the loaded model tells.
    options : frozenset of str
        Which of POOLING, OUTPUT, PRECISION, TEXT_PREPROCESS,
        SENTENCE_TRANSFORMERS apply.
    shared : bool
        Loaded models are shared process-wide (the registry); a module is not.
    checkpoint_after_slash : bool
        ``NAME`` may be ``ARCH/PATH`` with PATH a local checkpoint.
    prefixed : bool
        Specs name it with a ``"NAME:"`` prefix.
    """

    name: str
    loader: str
    distributions: tuple
    extra: str
    modules: tuple
    modality: str | None
    options: frozenset
    shared: bool = True
    checkpoint_after_slash: bool = False
    prefixed: bool = True

    def load(self, source, runtime, *, output=None, trust_remote_code=False, **options):
        """Load a model; ``options`` are the backend's own load settings."""
        self.check_installed()
        load = import_object(self.loader)
        return load(
            source,
            runtime,
            output=output,
            trust_remote_code=trust_remote_code,
            **options,
        )

    def check_installed(self):
        """Import the backend's optional packages, or raise an ImportError
        naming the extra that installs them."""
        for module in self.modules:
            import_optional(
                module, self.extra, purpose=f"The {self.name!r} model backend"
            )


def import_object(path):
    """The object named by a ``"module:attribute"`` string."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


_TORCH = frozenset({PRECISION})

BACKENDS = {
    backend.name: backend
    for backend in (
        Backend(
            "sentence-transformers",
            "skalign.extract.backends._sentence_transformers:load",
            ("sentence-transformers",),
            "sentence-transformers",
            ("torch", "sentence_transformers"),
            "text",
            _TORCH | {SENTENCE_TRANSFORMERS},
        ),
        Backend(
            "open_clip",
            "skalign.extract.backends._open_clip:load",
            ("open_clip_torch",),
            "open-clip",
            ("torch", "torchvision", "open_clip"),
            "choose",
            _TORCH,
            checkpoint_after_slash=True,
        ),
        Backend(
            "hf",
            "skalign.extract.backends._huggingface:load",
            ("transformers",),
            "hf",
            ("torch", "transformers"),
            None,
            _TORCH | {POOLING},
        ),
        Backend(
            "onnx",
            "skalign.extract.backends._onnx:load",
            ("onnxruntime",),
            "onnx",
            ("onnxruntime",),
            None,
            frozenset({OUTPUT, TEXT_PREPROCESS}),
        ),
        Backend(
            "module",
            "skalign.extract.backends._torch_module:load",
            ("torch",),
            "extract",
            ("torch",),
            "image",
            _TORCH | {TEXT_PREPROCESS},
            shared=False,
            prefixed=False,
        ),
        Backend(
            "packaged",
            "skalign.extract.backends._packaged:load",
            (),
            "models",
            (),
            None,
            frozenset(),
            prefixed=False,
        ),
    )
}
PREFIXES = tuple(name for name, backend in BACKENDS.items() if backend.prefixed)
