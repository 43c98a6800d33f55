"""Backend for Hugging Face ``transformers`` models (``"hf:NAME_OR_PATH"``).

``AutoModel`` with ``AutoImageProcessor`` (vision: ViT, DINOv2, RAD-DINO, Swin,
ConvNeXt, …) or ``AutoTokenizer`` (text: RoBERTa, BioLORD, Llama-2, …). Dual
encoders with ``get_image_features`` / ``get_text_features`` (CLIP, SigLIP)
use those. Token pooling:

- ``"cls"``: the first token of ``last_hidden_state``;
- ``"mean"``: images: the mean of the patch tokens (class and register tokens
  excluded) or of a CNN's feature map; texts: the attention-masked mean of all
  tokens (as sentence-transformers does);
- ``"pooler"``: the model's ``pooler_output``;
- ``"auto"``: texts ``"mean"``; images ``"pooler"`` when the model's pooler has
  no dense layer (DINOv2 and RAD-DINO, whose pooler output is the normalised
  class token, Swin, ConvNeXt, CLIP's vision tower), else ``"cls"`` (ViT,
  whose dense-tanh pooler is often untrained).
"""

from ._base import (
    TorchEncoder,
    check_model_folder,
    check_output,
    forward_failed,
    weights_dtypes,
    weights_unavailable,
)

_UNBOUNDED_LENGTH = 100_000
_FALLBACK_MAX_LENGTH = 512
_MODALITY_OF_INPUT = {"pixel_values": "image", "input_ids": "text"}


def load(name_or_path, runtime, *, output=None, trust_remote_code=False):
    """The backend table's loader (see ``_backends``)."""
    return HuggingFaceEncoder(
        name_or_path, runtime, trust_remote_code=trust_remote_code
    )


class HuggingFaceEncoder(TorchEncoder):
    """A loaded ``transformers`` model; its processor or tokenizer loads lazily.

    Parameters
    ----------
    name_or_path : str
    runtime : Runtime
    trust_remote_code : bool, default=False
    """

    def __init__(self, name_or_path, runtime, *, trust_remote_code=False):
        from transformers import AutoModel

        super().__init__(runtime)
        self.name = f"hf:{name_or_path}"
        self.name_or_path = name_or_path
        self.trust_remote_code = trust_remote_code
        check_model_folder("hf", name_or_path)
        try:
            model = AutoModel.from_pretrained(
                name_or_path,
                trust_remote_code=trust_remote_code,
                **dtype_argument(runtime.weights_dtype),
            )
        except OSError as exc:
            raise weights_unavailable("hf", name_or_path, exc) from exc
        except ValueError as exc:
            raise ValueError(
                f"transformers cannot build {name_or_path!r}: {exc}\nIf the model "
                "ships its own code and you trust it, pass trust_remote_code=True."
            ) from exc
        self.model = model.to(runtime.device).eval()
        self.dual = hasattr(model, "get_image_features") and hasattr(
            model, "get_text_features"
        )
        self.default_modality = None
        self.modalities = ("image", "text")
        if not self.dual:
            main_input = getattr(model, "main_input_name", None)
            self.default_modality = _MODALITY_OF_INPUT.get(main_input)
            if self.default_modality is None:
                raise ValueError(
                    f"{self.name} takes {main_input!r} inputs; EmbeddingExtractor "
                    "embeds texts (input_ids) and images (pixel_values)."
                )
            self.modalities = (self.default_modality,)
        self._tokenizer = None
        self._image_processor = None

    def image_preprocessor(self):
        if self._image_processor is None:
            from transformers import AutoImageProcessor

            try:
                processor = AutoImageProcessor.from_pretrained(
                    self.name_or_path, trust_remote_code=self.trust_remote_code
                )
            except OSError as exc:
                raise weights_unavailable("hf", self.name_or_path, exc) from exc
            self._image_processor = _ImageProcessorCall(processor)
        return self._image_processor

    def embed(self, batch, modality, *, pooling="auto", preprocess=None):
        if modality == "image":
            embeddings = self._embed_images(batch, pooling)
        else:
            embeddings = self._embed_texts(batch, pooling)
        return check_output(embeddings, len(batch), self.name)

    def _embed_images(self, batch, pooling):
        pixel_values = self.runtime.to_device(batch)
        with self.runtime.inference():
            try:
                if self.dual:
                    return _features(
                        self.model.get_image_features(pixel_values=pixel_values)
                    )
                outputs = self.model(pixel_values=pixel_values)
            except (RuntimeError, TypeError, ValueError) as exc:
                raise forward_failed(
                    self.name, pixel_values, exc, weights_dtypes(self.model)
                ) from exc
        return self._pool_image(outputs, pooling)

    def _embed_texts(self, batch, pooling):
        tokenizer = self._text_tokenizer()
        encoded = tokenizer(
            list(batch),
            padding=True,
            truncation=True,
            max_length=self._max_length(tokenizer),
            return_tensors="pt",
        )
        encoded = self.runtime.to_device(encoded)
        with self.runtime.inference():
            if self.dual:
                return _features(self.model.get_text_features(**encoded))
            outputs = self.model(**encoded)
        if pooling == "pooler":
            return outputs.pooler_output
        hidden = outputs.last_hidden_state
        if pooling == "cls":
            return hidden[:, 0]
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)

    def _pool_image(self, outputs, pooling):
        if pooling == "auto":
            pooling = "pooler" if self._has_parameter_free_pooler(outputs) else "cls"
        hidden = outputs.last_hidden_state
        if pooling == "pooler":
            return outputs.pooler_output.flatten(1)
        if hidden.ndim == 4:  # CNN feature map (n, C, H, W)
            if pooling == "cls":
                raise ValueError(
                    f"{self.name} is convolutional and has no class token; use "
                    "pooling='mean' or 'pooler'."
                )
            return hidden.mean(dim=(2, 3))
        if pooling == "cls":
            return hidden[:, 0]
        prefix = 1 + int(getattr(self.model.config, "num_register_tokens", 0) or 0)
        return hidden[:, prefix:].mean(1)

    def _has_parameter_free_pooler(self, outputs):
        if getattr(outputs, "pooler_output", None) is None:
            return False
        return not any(
            name.startswith("pooler.dense") for name, _ in self.model.named_parameters()
        )

    def _text_tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(
                    self.name_or_path, trust_remote_code=self.trust_remote_code
                )
            except OSError as exc:
                raise weights_unavailable("hf", self.name_or_path, exc) from exc
            if tokenizer.pad_token is None:  # decoder-only models (Llama, …)
                tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
            self._tokenizer = tokenizer
        return self._tokenizer

    def _max_length(self, tokenizer):
        if tokenizer.model_max_length < _UNBOUNDED_LENGTH:
            return tokenizer.model_max_length
        config = self.model.config
        return getattr(config, "max_position_embeddings", None) or _FALLBACK_MAX_LENGTH


def dtype_argument(dtype):
    """``from_pretrained``'s weights-dtype keyword: ``dtype`` since transformers
    4.56, ``torch_dtype`` before (now deprecated)."""
    import transformers
    from packaging.version import Version

    modern = Version(transformers.__version__) >= Version("4.56")
    return {"dtype" if modern else "torch_dtype": dtype}


class _ImageProcessorCall:
    """Apply a Hugging Face image processor to one PIL image (in a worker)."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, image):
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]


def _features(output):
    """``get_*_features`` return a tensor (transformers 4) or an output object."""
    return output if hasattr(output, "ndim") else output.pooler_output
