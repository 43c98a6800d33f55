"""Backend for sentence-transformers text models (``"sentence-transformers:NAME"``).

``SentenceTransformer(NAME)`` also wraps any plain Hugging Face text model
(RoBERTa, BioLORD, Llama-2, Meditron, …) with mean pooling, so this is the
usual route for text encoders. Batches go through ``SentenceTransformer.encode``
unchanged: the extractor only chooses them (sorted by length, as ``encode``
itself does), so embeddings equal ``encode``'s.
"""

from ._base import (
    TorchEncoder,
    check_model_folder,
    check_output,
    weights_unavailable,
)
from ._catalogue import packaged_equivalent
from ._huggingface import dtype_argument


def load(
    name_or_path,
    runtime,
    *,
    output=None,
    trust_remote_code=False,
    model_kwargs=None,
    max_seq_length=None,
):
    """The backend table's loader (see ``_backends``)."""
    return SentenceTransformerEncoder(
        name_or_path,
        runtime,
        trust_remote_code=trust_remote_code,
        model_kwargs=model_kwargs,
        max_seq_length=max_seq_length,
    )


class SentenceTransformerEncoder(TorchEncoder):
    """A loaded ``SentenceTransformer`` on the runtime's device.

    Parameters
    ----------
    name_or_path : str
        Hub name or local folder, as ``SentenceTransformer`` accepts.
    runtime : Runtime
    name : str, optional
        Shown in messages; defaults to ``name_or_path``.
    trust_remote_code : bool, default=False
    model_kwargs : dict, default=None
        Passed to ``SentenceTransformer(model_kwargs=...)`` (to the
        ``transformers`` model's ``from_pretrained``), on top of the weights
        dtype of ``runtime``.
    max_seq_length : int, default=None
        Truncate inputs to this many tokens; None: the model's own limit.
    """

    modalities = ("text",)
    default_modality = "text"

    def __init__(
        self,
        name_or_path,
        runtime,
        *,
        name=None,
        trust_remote_code=False,
        model_kwargs=None,
        max_seq_length=None,
    ):
        from sentence_transformers import SentenceTransformer

        super().__init__(runtime)
        self.name = name or name_or_path
        check_model_folder("sentence-transformers", name_or_path)
        try:
            self.model = SentenceTransformer(
                name_or_path,
                device=runtime.device,
                trust_remote_code=trust_remote_code,
                model_kwargs={
                    **dtype_argument(runtime.weights_dtype),
                    **(model_kwargs or {}),
                },
            )
        except OSError as exc:
            raise weights_unavailable(
                "sentence-transformers",
                name_or_path,
                exc,
                packaged=packaged_equivalent(name_or_path),
            ) from exc
        if max_seq_length is not None:
            limit = _position_limit(self.model)
            if limit is not None and max_seq_length > limit:
                raise ValueError(
                    f"max_seq_length={max_seq_length} is more tokens than "
                    f"{self.name} has positions for ({limit}): longer inputs "
                    f"would fail. Use max_seq_length at most {limit}, or None "
                    "for the model's own limit."
                )
            self.model.max_seq_length = max_seq_length
        self.model.eval()
        width = getattr(self.model, "get_embedding_dimension", None)  # >= 6
        self.width = (width or self.model.get_sentence_embedding_dimension)()

    def embed(
        self,
        batch,
        modality,
        *,
        pooling="auto",
        preprocess=None,
        prompt=None,
        prompt_name=None,
        truncate_dim=None,
    ):
        prompts = getattr(self.model, "prompts", None) or {}
        if prompt is None and prompt_name is not None and prompt_name not in prompts:
            raise ValueError(
                f"prompt_name={prompt_name!r} is not one of the prompts of "
                f"{self.name} (it has {sorted(prompts) or 'none'}). Pick one of "
                "those, or pass the text itself as prompt=, e.g. "
                "prompt='query: '."
            )
        with self.runtime.inference():
            embeddings = self.model.encode(
                list(batch),
                prompt_name=prompt_name,
                prompt=prompt,
                batch_size=len(batch),
                show_progress_bar=False,
                convert_to_tensor=True,
                truncate_dim=truncate_dim,
            )
        return check_output(embeddings, len(batch), self.name)


def _position_limit(model):
    """The most tokens the model's transformer has position embeddings for,
    or None when it does not say (e.g. rotary positions)."""
    first = model[0] if len(model) else None
    config = getattr(getattr(first, "auto_model", None), "config", None)
    limit = getattr(config, "max_position_embeddings", None)
    return limit if isinstance(limit, int) and limit > 0 else None
