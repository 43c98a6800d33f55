"""Parse the ``model`` parameter of EmbeddingExtractor into a backend and a name.

Spec strings are ``"BACKEND:NAME"`` (``sentence-transformers:``, ``open_clip:``,
``hf:``, ``onnx:``) or the bare name of a packaged model
(``"efficientnet-lite0"``); an object with ``forward`` and ``state_dict`` is an
already-built ``torch.nn.Module``.
"""

import difflib
import hashlib
import importlib.metadata
import os
from dataclasses import dataclass

from ._packaged import PACKAGED_MODELS

BACKENDS = {
    "sentence-transformers": "sentence-transformers",
    "open_clip": "open_clip_torch",
    "hf": "transformers",
    "onnx": "onnxruntime",
}
_EXAMPLES = (
    "'sentence-transformers:all-MiniLM-L6-v2', "
    "'open_clip:ViT-B-32/laion2b_s34b_b79k', 'hf:facebook/dinov2-base', "
    "'onnx:/path/to/model.onnx'"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: ``backend`` is a key of BACKENDS, "packaged" or
    "module"; ``name`` is what the backend loads."""

    backend: str
    name: str

    @property
    def label(self):
        if self.backend in ("packaged", "module"):
            return self.name
        return f"{self.backend}:{self.name}"

    def local_paths(self):
        """Local files or folders the spec names (their changes change the model)."""
        if self.backend in ("packaged", "module"):
            return []
        candidates = [self.name]
        if self.backend == "open_clip" and "/" in self.name:
            candidates.append(self.name.split("/", 1)[1])
        return [path for path in candidates if os.path.exists(path)]

    def version_tag(self):
        """Versions of the libraries or packages that produce this model's outputs."""
        if self.backend == "packaged":
            packages = PACKAGED_MODELS[self.name].packages
        elif self.backend == "module":
            packages = ("torch",)
        else:
            packages = (BACKENDS[self.backend],)
        return ",".join(f"{p}=={_version(p)}" for p in packages)


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
        return ModelSpec("module", f"torch module {type(model).__name__}")
    if model in PACKAGED_MODELS:
        return ModelSpec("packaged", model)
    backend, sep, name = model.partition(":")
    if not sep:
        close = difflib.get_close_matches(model.lower(), list(PACKAGED_MODELS), n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown model {model!r}: it has no backend prefix and is not a "
            f"packaged model.{suggestion} Name a backend, e.g. {_EXAMPLES}, or "
            f"one of the packaged models {sorted(PACKAGED_MODELS)}."
        )
    if backend not in BACKENDS:
        close = difflib.get_close_matches(backend, list(BACKENDS), n=1)
        suggestion = f" Did you mean '{close[0]}:{name}'?" if close else ""
        raise ValueError(
            f"Unknown backend {backend!r} in model={model!r}.{suggestion} The "
            f"backends are {sorted(BACKENDS)}, e.g. {_EXAMPLES}."
        )
    if not name:
        raise ValueError(
            f"model={model!r} names no model after the backend; e.g. {_EXAMPLES}."
        )
    return ModelSpec(backend, name)


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
