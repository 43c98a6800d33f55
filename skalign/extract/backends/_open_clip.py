"""Backend for open_clip image-text models (``"open_clip:ARCH/PRETRAINED"``).

``ARCH`` is an open_clip architecture (``open_clip.list_models()``, including
configs registered with ``open_clip.add_model_config``) and ``PRETRAINED`` a tag
(``open_clip.list_pretrained_tags_by_model(ARCH)``) or a checkpoint path;
``"open_clip:hf-hub:ORG/REPO"`` and ``"open_clip:local-dir:PATH"`` load
open_clip's own hub and folder formats (BiomedCLIP, for instance). Images get the
model's own validation transform, texts its own tokenizer; the embedding is
``encode_image`` / ``encode_text`` (unnormalised).
"""

import difflib
import os

from ._base import (
    TorchEncoder,
    check_output,
    forward_failed,
    weights_dtypes,
    weights_unavailable,
)

_SCHEMAS = ("hf-hub:", "local-dir:")

__doctest_requires__ = {("parse_open_clip_name",): ["open_clip"]}


def load(spec_name, runtime, *, output=None, trust_remote_code=False):
    """The backend table's loader (see ``_backends``)."""
    return OpenClipEncoder(spec_name, runtime)


class OpenClipEncoder(TorchEncoder):
    """A loaded open_clip model with its preprocessing and tokenizer.

    Parameters
    ----------
    spec_name : str
        ``"ARCH"``, ``"ARCH/PRETRAINED"`` (tag or checkpoint path),
        ``"hf-hub:ORG/REPO"`` or ``"local-dir:PATH"``.
    runtime : Runtime
    """

    modalities = ("image", "text")
    default_modality = None

    def __init__(self, spec_name, runtime):
        import open_clip

        super().__init__(runtime)
        self.name = f"open_clip:{spec_name}"
        arch, pretrained = parse_open_clip_name(spec_name)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                arch,
                pretrained=pretrained,
                device=runtime.device,
                precision=runtime.precision,
            )
            self.tokenizer = open_clip.get_tokenizer(arch)
        except Exception as exc:  # torch.load and load_state_dict raise many types
            if pretrained is not None and os.path.isfile(pretrained):
                raise _unloadable_checkpoint(arch, pretrained, exc) from exc
            if not isinstance(exc, OSError | RuntimeError) or not _is_download_failure(
                exc
            ):
                raise
            raise weights_unavailable(
                "open_clip",
                spec_name,
                exc,
                download_hint=(
                    f"`open_clip.create_model_and_transforms({arch!r}, "
                    f"pretrained={pretrained!r})`"
                ),
            ) from exc
        self.model = model.eval()
        self._preprocess = preprocess

    def image_preprocessor(self):
        return self._preprocess

    def embed(self, batch, modality, *, pooling="auto", preprocess=None):
        if modality == "image":
            inputs = self.runtime.to_device(batch)
            with self.runtime.inference():
                try:
                    embeddings = self.model.encode_image(inputs)
                except (RuntimeError, TypeError, ValueError) as exc:
                    raise forward_failed(
                        self.name, inputs, exc, weights_dtypes(self.model)
                    ) from exc
        else:
            tokens = self.runtime.to_device(self.tokenizer(list(batch)))
            with self.runtime.inference():
                embeddings = self.model.encode_text(tokens)
        return check_output(embeddings, len(batch), self.name)


def parse_open_clip_name(spec_name):
    """Split ``"ARCH/PRETRAINED"`` and check both against open_clip's registries.

    Examples
    --------
    >>> from skalign.extract.backends._open_clip import parse_open_clip_name
    >>> parse_open_clip_name("ViT-B-32/laion2b_s34b_b79k")
    ('ViT-B-32', 'laion2b_s34b_b79k')
    >>> parse_open_clip_name("hf-hub:timm/ViT-B-16-SigLIP")
    ('hf-hub:timm/ViT-B-16-SigLIP', None)
    """
    import open_clip

    if spec_name.startswith(_SCHEMAS):
        return spec_name, None
    arch, _, pretrained = spec_name.partition("/")
    pretrained = pretrained or None
    architectures = open_clip.list_models()
    if arch not in architectures:
        close = difflib.get_close_matches(arch, architectures, n=5)
        raise ValueError(
            f"Unknown open_clip architecture {arch!r}. Closest: {close}. See "
            "open_clip.list_models(), or register a config file with "
            "open_clip.add_model_config(path)."
        )
    tags = open_clip.list_pretrained_tags_by_model(arch)
    if pretrained is None and tags:
        raise ValueError(
            f"Name the pretrained weights of open_clip:{arch}, e.g. "
            f"'open_clip:{arch}/{tags[0]}' (tags: {tags}), or a checkpoint path "
            f"'open_clip:{arch}//path/to/checkpoint.pt'. Without them the model "
            "would be randomly initialised."
        )
    if (
        pretrained is not None
        and not os.path.isfile(pretrained)
        and not open_clip.is_pretrained_cfg(arch, pretrained)
    ):
        raise ValueError(
            f"{pretrained!r} is neither a pretrained tag of open_clip:{arch} "
            f"(tags: {tags}) nor an existing checkpoint file."
        )
    return arch, pretrained


def _unloadable_checkpoint(arch, path, exc):
    """The error for a checkpoint file open_clip cannot load into ``arch``."""
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ValueError(
        f"Cannot load the checkpoint {path!r} into open_clip:{arch} "
        f"({type(exc).__name__}: {first_line[:300]}). It must be a complete "
        f"state_dict of a {arch} model saved with torch.save (plain tensors: "
        "pickled objects are refused, never run); a file that is empty, "
        "truncated or of another architecture is not. Re-export it, or name "
        "the architecture it was trained with."
    )


def _is_download_failure(exc):
    message = str(exc).lower()
    return isinstance(exc, OSError) or "download" in message or "hub" in message
