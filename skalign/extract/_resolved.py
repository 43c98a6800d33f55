"""ResolvedModel: a model spec with the settings that shape its embeddings.

Everything a caller needs before embedding is known here without loading
weights: the parsed spec, the modality (unless only the loaded model can tell),
the output width of catalogued models, and the cache key. The encoder loads on
first access, through the process-wide registry.
"""

import hashlib
import json
from functools import cached_property

from ._backends import (
    OUTPUT,
    POOLING,
    PRECISION,
    SENTENCE_TRANSFORMERS,
    TEXT_PREPROCESS,
)
from ._code_identity import callable_identity
from ._registry import get_encoder
from ._runtime import Runtime, resolve_device
from ._spec import parse_model_spec

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
        if pooling != "auto" and POOLING not in options:
            raise ValueError(
                f"pooling={pooling!r} applies to 'hf:' models only; "
                f"{label} pools as its model defines. Leave pooling='auto'."
            )
        if output is not None and OUTPUT not in options:
            raise ValueError(
                f"output={output!r} applies to ONNX models only; {label} "
                "is not one. For a torch module, wrap it so forward returns the "
                "layer you want."
            )
        if dtype != "fp32" and PRECISION not in options:
            raise ValueError(
                f"dtype={dtype!r} needs a torch model; the ONNX "
                f"model {label} runs in its exported precision. Use 'fp32'."
            )
        if SENTENCE_TRANSFORMERS not in options:
            for name, value in self._options(_LOAD_OPTIONS + _ENCODE_OPTIONS).items():
                raise ValueError(
                    f"{name}={value!r} applies to sentence-transformers models "
                    f"only; {label} is not one. Leave {name}=None, or use a "
                    "'sentence-transformers:NAME' model."
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
            and TEXT_PREPROCESS not in self.spec.family.options
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
