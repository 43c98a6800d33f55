"""Parse the ``model`` parameter of EmbeddingExtractor into a backend and a name.

Spec strings are ``"BACKEND:NAME"`` (a prefix of ``_backends.PREFIXES``) or
the bare name of a packaged model (``"efficientnet-lite0"``); an object with
``forward`` and ``state_dict`` is an already-built ``torch.nn.Module``.
Everything here is known without loading a model.
"""

import difflib
import hashlib
import importlib.metadata
import os
from dataclasses import dataclass, field

from ._backends import BACKENDS, PREFIXES
from ._catalogue import PACKAGED_MODELS

_EXAMPLES = (
    "'sentence-transformers:all-MiniLM-L6-v2', "
    "'open_clip:ViT-B-32/laion2b_s34b_b79k', 'hf:facebook/dinov2-base', "
    "'onnx:/path/to/model.onnx'"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec.

    ``backend`` is a key of ``BACKENDS``; ``name`` is what it loads (or
    describes a module); ``source`` is what its loader receives (the name, or
    the module itself); ``packaged`` is the catalogue entry of a packaged model.
    """

    backend: str
    name: str
    source: object = field(default=None, compare=False, repr=False)
    packaged: object = field(default=None, compare=False, repr=False)

    @property
    def table(self):
        """The backend row that loads this spec."""
        return BACKENDS[self.backend]

    @property
    def family(self):
        """The backend row that runs the model (a packaged model's own backend)."""
        if self.packaged is not None:
            return BACKENDS[self.packaged.backend]
        return self.table

    @property
    def label(self):
        if self.table.prefixed:
            return f"{self.backend}:{self.name}"
        return self.name

    @property
    def declared_modality(self):
        """What ``modality="auto"`` means, if known without loading (see Backend)."""
        if self.packaged is not None:
            return self.packaged.modality
        return self.table.modality

    @property
    def width(self):
        """The output width when the catalogue knows it, else None."""
        return None if self.packaged is None else self.packaged.width

    def local_paths(self):
        """Local files or folders the spec names (their changes change the model)."""
        if not self.table.prefixed:
            return []
        candidates = [self.name]
        if self.table.checkpoint_after_slash and "/" in self.name:
            candidates.append(self.name.split("/", 1)[1])
        return [path for path in candidates if os.path.exists(path)]

    def version_tag(self):
        """Versions of the libraries or packages that produce this model's outputs."""
        packages = self.family.distributions
        if self.packaged is not None:
            packages = self.packaged.packages + packages
        return ",".join(f"{p}=={_version(p)}" for p in packages)

    def source_state(self):
        """Digest of the weights' local state: file sizes and times, or a
        module's parameter values."""
        if isinstance(self.source, str):
            return local_state(self.local_paths())
        from ._torch_module import module_digest

        return module_digest(self.source)


def parse_model_spec(model):
    """Return the ModelSpec of ``model`` or raise a ValueError that says how to fix it.

    Examples
    --------
    >>> from skalign.extract._spec import parse_model_spec
    >>> parse_model_spec("open_clip:ViT-B-32/openai")
    ModelSpec(backend='open_clip', name='ViT-B-32/openai')
    >>> parse_model_spec("efficientnet-lite0")
    ModelSpec(backend='packaged', name='efficientnet-lite0')
    """
    if not isinstance(model, str):
        return ModelSpec("module", f"torch module {type(model).__name__}", model)
    if model in PACKAGED_MODELS:
        return ModelSpec("packaged", model, model, PACKAGED_MODELS[model])
    backend, sep, name = model.partition(":")
    if not sep:
        close = difflib.get_close_matches(model.lower(), list(PACKAGED_MODELS), n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown model {model!r}: it has no backend prefix and is not a "
            f"packaged model.{suggestion} Name a backend, e.g. {_EXAMPLES}, or "
            f"one of the packaged models {sorted(PACKAGED_MODELS)}."
        )
    if backend not in PREFIXES:
        close = difflib.get_close_matches(backend, PREFIXES, n=1)
        suggestion = f" Did you mean '{close[0]}:{name}'?" if close else ""
        raise ValueError(
            f"Unknown backend {backend!r} in model={model!r}.{suggestion} The "
            f"backends are {sorted(PREFIXES)}, e.g. {_EXAMPLES}."
        )
    if not name:
        raise ValueError(
            f"model={model!r} names no model after the backend; e.g. {_EXAMPLES}."
        )
    return ModelSpec(backend, name, name)


def local_state(paths):
    """Digest of the size and modification time of every file under ``paths``."""
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        files = [path]
        if os.path.isdir(path):
            files = sorted(
                os.path.join(root, name)
                for root, _, names in os.walk(path)
                for name in names
            )
        for file in files:
            stat = os.stat(file)
            digest.update(f"{file}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"
