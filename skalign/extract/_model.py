"""The model of an EmbeddingExtractor: its spec, its resolution, its loading.

One concept in three steps, all known without loading weights until the last:

- :func:`parse_model_spec` reads the ``model`` parameter: ``"BACKEND:NAME"``
  (a prefix of ``backends.PREFIXES``), the bare name of a packaged model
  (``"efficientnet-lite0"``), or an object with ``forward`` and ``state_dict``
  (an already-built ``torch.nn.Module``);
- :class:`ResolvedModel` adds the settings that shape the embeddings: the
  modality (unless only the loaded model can tell), the output width of
  catalogued models, the cache key, and the checks of settings that cannot
  apply to the backend;
- :func:`get_encoder` loads each model once per process and shares it between
  extractors: ``clone`` (GridSearchCV, cross_validate,
  ``LatentAligner(target_encoder=...)``) makes fresh extractors with the same
  parameters, and they all find the model here. The registry keeps the most
  recently used ``MAX_LOADED_MODELS`` models; :func:`clear_model_cache` drops
  them all, and empties the in-process embedding cache.
"""

import difflib
import hashlib
import importlib.metadata
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

from . import backends
from ._code_identity import callable_identity
from ._runtime import Runtime, resolve_device
from ._store import clear_memory
from .backends._catalogue import PACKAGED_MODELS

_EXAMPLES = (
    "'sentence-transformers:all-MiniLM-L6-v2', "
    "'open_clip:ViT-B-32/laion2b_s34b_b79k', 'hf:facebook/dinov2-base', "
    "'onnx:/path/to/model.onnx'"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec.

    ``backend`` is a key of ``backends.BACKENDS``; ``name`` is what it loads (or
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
        return backends.BACKENDS[self.backend]

    @property
    def family(self):
        """The backend row that runs the model (a packaged model's own backend)."""
        if self.packaged is not None:
            return backends.BACKENDS[self.packaged.backend]
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
        from .backends._torch_module import module_digest

        return module_digest(self.source)


def parse_model_spec(model):
    """Return the ModelSpec of ``model`` or raise a ValueError that says how to fix it.

    Examples
    --------
    >>> from skalign.extract._model import parse_model_spec
    >>> parse_model_spec("open_clip:ViT-B-32/openai")
    ModelSpec(backend='open_clip', name='ViT-B-32/openai')
    >>> parse_model_spec("efficientnet-lite0")
    ModelSpec(backend='packaged', name='efficientnet-lite0')
    """
    if isinstance(model, type):
        raise TypeError(
            f"model={model.__qualname__} is a class, not a model: pass an instance "
            f"(e.g. model={model.__qualname__}(...) with its weights loaded), or a "
            f"spec string such as {_EXAMPLES}."
        )
    if not isinstance(model, str):
        _refuse_meta_module(model)
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
    if backend not in backends.PREFIXES:
        close = difflib.get_close_matches(backend, backends.PREFIXES, n=1)
        suggestion = f" Did you mean '{close[0]}:{name}'?" if close else ""
        raise ValueError(
            f"Unknown backend {backend!r} in model={model!r}.{suggestion} The "
            f"backends are {sorted(backends.PREFIXES)}, e.g. {_EXAMPLES}."
        )
    if not name:
        raise ValueError(
            f"model={model!r} names no model after the backend; e.g. {_EXAMPLES}."
        )
    return ModelSpec(backend, name, name)


def _refuse_meta_module(module):
    """A module on the meta device has shapes and no values: say so."""
    tensors = [*module.state_dict().values()] if hasattr(module, "state_dict") else []
    if any(getattr(tensor, "is_meta", False) for tensor in tensors):
        raise ValueError(
            f"model is a torch module {type(module).__name__} whose weights are on "
            "the meta device: they have shapes but no values. Load its weights "
            "first, e.g. module.to_empty(device='cpu') then "
            "module.load_state_dict(weights), or build it without device='meta'."
        )


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


# -- loading, once per process -----------------------------------------------

MAX_LOADED_MODELS = 4

_LOADED = OrderedDict()
_LOCK = threading.Lock()


def get_encoder(spec, runtime, *, output=None, trust_remote_code=False, options=None):
    """Return the loaded encoder for ``spec`` on ``runtime``, loading it once.

    Backends whose models are not shared (a user's module) load a fresh
    encoder on every call; the caller keeps it. ``options``: the backend's
    load settings (a dict of JSON-like values), part of the sharing key.
    """
    options = options or {}
    if not spec.table.shared:
        return _load(
            spec, runtime, output=output, trust_remote_code=trust_remote_code, **options
        )
    frozen = json.dumps(options, sort_keys=True, default=repr)
    key = (spec, runtime, output, trust_remote_code, frozen)
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        encoder = _load(
            spec, runtime, output=output, trust_remote_code=trust_remote_code, **options
        )
        _LOADED[key] = encoder
        while len(_LOADED) > MAX_LOADED_MODELS:
            _LOADED.popitem(last=False)
        return encoder


def clear_model_cache():
    """Forget every model loaded by :class:`~skalign.extract.EmbeddingExtractor`.

    Extractors load a model on first use and share it, process-wide, with
    every extractor that names the same model, device and precision (so the
    clones made by a grid search do not reload it). The four most recently
    used models stay in memory; call this to free them (and GPU memory) now.
    Extractors that used a model keep their own reference until they are
    deleted or their parameters change. The in-process embedding memo and the
    in-memory copy of the on-disk embedding cache (``cache_dir``) are dropped
    too; the files stay.

    Returns
    -------
    n_models : int
        How many models were dropped.

    Examples
    --------
    >>> from skalign.extract import clear_model_cache
    >>> clear_model_cache() >= 0
    True
    """
    with _LOCK:
        n_models = len(_LOADED)
        _LOADED.clear()
    clear_memory()
    return n_models


def _load(spec, runtime, *, output, trust_remote_code, **options):
    """The one place a model is loaded (tests count its calls)."""
    return spec.table.load(
        spec.source,
        runtime,
        output=output,
        trust_remote_code=trust_remote_code,
        **options,
    )


# -- resolution --------------------------------------------------------------

# sentence-transformers settings read when the model loads, and in ``encode``
_LOAD_OPTIONS = ("model_kwargs", "max_seq_length")
_ENCODE_OPTIONS = ("prompt", "prompt_name", "truncate_dim")
_SETTINGS = (
    "model",
    "modality",
    "preprocess",
    "pooling",
    "output",
    "device",
    "dtype",
    "trust_remote_code",
    *_LOAD_OPTIONS,
    *_ENCODE_OPTIONS,
)


class ResolvedModel:
    """A model spec resolved with its settings; loads weights only when asked.

    :meth:`EmbeddingExtractor.resolve` builds one, and :class:`EmbeddingExtractor`
    and :func:`embed_distributed` use it. Creating it parses ``model`` and
    rejects settings that cannot apply to it; :attr:`encoder` loads the model
    (once per process, shared with every resolution of the same spec, device,
    dtype and load options).

    Parameters
    ----------
    params : mapping
        The extractor's parameters (``get_params()``); only ``model``,
        ``modality``, ``preprocess``, ``pooling``, ``output``, ``device``,
        ``dtype``, ``trust_remote_code`` and the sentence-transformers settings
        (``model_kwargs``, ``max_seq_length``, ``prompt``, ``prompt_name``,
        ``truncate_dim``) are read.

    Attributes
    ----------
    spec : ModelSpec
        The parsed ``model``: ``backend``, ``name`` and ``label``.
    settings : dict
        The parameters above.

    Examples
    --------
    >>> from skalign.extract import EmbeddingExtractor
    >>> resolved = EmbeddingExtractor("paraphrase-minilm-l3").resolve()
    >>> resolved.spec.label, resolved.modality, resolved.n_features
    ('paraphrase-minilm-l3', 'text', 384)
    >>> fingerprint, description = resolved.cache_key()
    >>> description["model"], len(fingerprint)
    ('paraphrase-minilm-l3', 32)
    >>> resolved.is_loaded
    False
    """

    def __init__(self, params):
        self.settings = {name: params[name] for name in _SETTINGS}
        self.spec = parse_model_spec(self.settings["model"])
        self._check_options()
        self._measured_width = None

    def matches(self, params):
        """Whether ``params`` hold the same settings (objects compared by identity)."""
        return all(
            self.settings[name] is params[name]
            or (
                isinstance(params[name], str | int | float)
                and self.settings[name] == params[name]
            )
            for name in _SETTINGS
        )

    @property
    def declared_modality(self):
        """The modality known without loading the model, or None."""
        modality = self.settings["modality"]
        declared = self.spec.declared_modality
        if modality == "auto":
            modality = declared
        elif self.spec.packaged is not None and declared not in (None, modality):
            if declared != "choose":
                raise ValueError(
                    f"{self.spec.label} cannot embed {modality}s (modality="
                    f"{modality!r}): it embeds {declared}s only. Leave "
                    "modality='auto', or pick "
                    f"a {modality} model (the packaged models are listed in the "
                    "EmbeddingExtractor docstring)."
                )
        if modality == "choose":
            raise ValueError(
                f"{self.spec.label} has an image and a text tower: set "
                "modality='image' or modality='text'."
            )
        if modality is not None:
            self._check_text_preprocess(modality)
        return modality

    @cached_property
    def modality(self):
        """``"image"`` or ``"text"``; loads the model only when neither the
        ``modality`` setting nor the backend tells."""
        declared = self.declared_modality
        if declared is not None:
            return declared
        modality = self.encoder.default_modality
        self._check_text_preprocess(modality)
        return modality

    @cached_property
    def runtime(self):
        """The resolved device and dtype (imports torch)."""
        return Runtime(resolve_device(self.settings["device"]), self.settings["dtype"])

    @cached_property
    def encoder(self):
        """The loaded model (see ``_base.Encoder``)."""
        self.spec.family.check_installed()
        encoder = get_encoder(
            self.spec,
            self.runtime,
            output=self.settings["output"],
            trust_remote_code=self.settings["trust_remote_code"],
            options=self._options(_LOAD_OPTIONS),
        )
        modality = self.declared_modality or encoder.default_modality
        if modality is None:
            raise ValueError(
                f"{encoder.name} embeds both images and texts: set "
                "modality='image' or modality='text'."
            )
        if modality not in encoder.modalities:
            raise ValueError(
                f"{encoder.name} cannot embed {modality}s; it embeds "
                f"{' and '.join(m + 's' for m in encoder.modalities)}. Set "
                "modality accordingly or pick another model."
            )
        self._check_truncate_dim(encoder.width)
        return encoder

    @property
    def encode_options(self):
        """Keyword arguments of the encoder's ``embed`` beyond the common ones
        (the sentence-transformers ``encode`` settings that are set)."""
        return self._options(_ENCODE_OPTIONS)

    @property
    def is_loaded(self):
        """Whether :attr:`encoder` was loaded (or shipped in a pickle)."""
        return "encoder" in self.__dict__

    @property
    def n_features(self):
        """The output width: measured by a transform, or the catalogue's for a
        packaged model at its default output; None when not known yet."""
        if self._measured_width is not None:
            return self._measured_width
        if self.settings["output"] is None:
            return self.spec.width
        return None

    def record_width(self, width):
        """Remember the width of the embeddings this model produced."""
        self._measured_width = width

    def cache_key(self):
        """``(fingerprint, description)`` of everything that shapes one
        input's embedding: the spec, the versions of the packages that run it,
        the state of its local files (or a module's parameters), the modality
        and the settings. Loads no weights (unless the modality is only known
        from the loaded model)."""
        description = {
            "model": self.spec.label,
            "versions": self.spec.version_tag(),
            "weights": self.spec.source_state(),
            "modality": self.modality,
            "pooling": self.settings["pooling"],
            "output": self.settings["output"],
            # the dtype keeps the key of its former name, ``precision``
            "precision": self.settings["dtype"],
            "preprocess": self._preprocess_identity(),
        }
        # only when set, so the keys (and disk caches) of earlier versions stay
        options = self._options(_LOAD_OPTIONS + _ENCODE_OPTIONS)
        if options:
            description["sentence_transformers"] = json.loads(
                json.dumps(options, sort_keys=True, default=repr)
            )
        fingerprint = hashlib.blake2b(
            json.dumps(description, sort_keys=True).encode(), digest_size=16
        ).hexdigest()
        return fingerprint, description

    def __repr__(self):
        return f"ResolvedModel({self.spec.label!r}, loaded={self.is_loaded})"

    def _check_options(self):
        """Reject settings the model's backend does not accept."""
        options, label = self.spec.family.options, self.spec.label
        pooling, output = self.settings["pooling"], self.settings["output"]
        dtype = self.settings["dtype"]
        if pooling != "auto" and backends.POOLING not in options:
            raise ValueError(
                f"pooling={pooling!r} applies to 'hf:' models only; "
                f"{label} pools as its model defines. Leave pooling='auto'."
            )
        if output is not None and backends.OUTPUT not in options:
            raise ValueError(
                f"output={output!r} applies to ONNX models only; {label} "
                "is not one. For a torch module, wrap it so forward returns the "
                "layer you want."
            )
        if dtype != "fp32" and backends.PRECISION not in options:
            raise ValueError(
                f"dtype={dtype!r} needs a torch model; the ONNX "
                f"model {label} runs in its exported precision. Use 'fp32'."
            )
        self._check_truncate_dim(self.spec.width)
        model_kwargs = self.settings["model_kwargs"] or {}
        if "trust_remote_code" in model_kwargs:
            raise ValueError(
                "model_kwargs holds 'trust_remote_code', which would let the "
                "model run its own code behind the extractor's trust_remote_code="
                f"{self.settings['trust_remote_code']!r}. Remove it from model_kwargs "
                "and set the trust_remote_code parameter instead (only for models "
                "you trust)."
            )
        if backends.SENTENCE_TRANSFORMERS not in options:
            for name, value in self._options(_LOAD_OPTIONS + _ENCODE_OPTIONS).items():
                raise ValueError(
                    f"{name}={value!r} applies to sentence-transformers models "
                    f"only; {label} is not one. Leave {name}=None, or use a "
                    "'sentence-transformers:NAME' model."
                )

    def _check_truncate_dim(self, width):
        truncate_dim = self.settings["truncate_dim"]
        if truncate_dim is not None and width is not None and truncate_dim > width:
            raise ValueError(
                f"truncate_dim={truncate_dim} is larger than the {width}-d "
                f"embeddings of {self.spec.label}: it keeps the first "
                f"truncate_dim dimensions, so it must be at most {width}. Use "
                f"truncate_dim <= {width}, or None for the full width."
            )

    def _options(self, names):
        """The settings among ``names`` that are set (not None)."""
        return {
            name: self.settings[name]
            for name in names
            if self.settings[name] is not None
        }

    def _check_text_preprocess(self, modality):
        if (
            modality == "text"
            and self.settings["preprocess"] is not None
            and backends.TEXT_PREPROCESS not in self.spec.family.options
        ):
            raise ValueError(
                f"{self.spec.label} tokenizes texts itself; preprocess applies to "
                "images only. Remove preprocess, or use modality='image'."
            )

    def _preprocess_identity(self):
        preprocess = self.settings["preprocess"]
        if preprocess is None:
            return None
        return callable_identity(preprocess, parameter="preprocess")
