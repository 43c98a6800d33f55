"""Backend for an already-built ``torch.nn.Module`` (models that ship only weights).

Images: the user's ``preprocess`` maps each decoded PIL image to a tensor of a
fixed shape; batches are stacked and passed to ``module(batch)``. Texts: the
user's ``preprocess`` tokenizes a whole batch (list of str → tensor or dict of
tensors, passed as ``module(tensor)`` or ``module(**inputs)``). The module must
return a (n_samples, n_features) tensor.
"""

import contextlib
import hashlib
from collections.abc import Mapping

from ._base import TorchEncoder, check_output, forward_failed, weights_dtypes

__doctest_requires__ = {("module_digest",): ["torch"]}


def load(module, runtime, *, output=None, trust_remote_code=False):
    """The backend table's loader (see ``_backends``)."""
    return ModuleEncoder(module, runtime)


class ModuleEncoder(TorchEncoder):
    """Run a user's ``torch.nn.Module`` in eval mode on the runtime's device.

    Parameters
    ----------
    module : torch.nn.Module
        Moved to the device (in place) and run in eval mode.
    runtime : Runtime
    name : str, optional
        Shown in messages; defaults to the module's class name.
    image_preprocess : callable, optional
        The model's own image preprocessing (packaged models ship one).
    default_modality : {"image", "text"}, default="image"
    """

    def __init__(
        self,
        module,
        runtime,
        *,
        name=None,
        image_preprocess=None,
        default_modality="image",
    ):
        super().__init__(runtime)
        self.module = module.to(runtime.device)
        self.name = name or f"torch module {type(module).__name__}"
        self._image_preprocess = image_preprocess
        self.default_modality = default_modality

    def image_preprocessor(self):
        return self._image_preprocess

    def embed(self, batch, modality, *, pooling="auto", preprocess=None):
        import torch

        if modality == "text" and preprocess is None:
            raise ValueError(
                f"{self.name} cannot embed texts: it has no tokenizer. Pass "
                "preprocess=, a callable turning a list of strings into the "
                "module's input tensor, or set modality='image' for images."
            )
        inputs = batch if modality == "image" else preprocess(list(batch))
        inputs = self.runtime.to_device(inputs)
        with self.runtime.inference(), eval_mode(self.module):
            try:
                if isinstance(inputs, Mapping):
                    outputs = self.module(**inputs)
                else:
                    outputs = self.module(inputs)
            except (RuntimeError, TypeError) as exc:
                raise forward_failed(
                    self.name, inputs, exc, weights_dtypes(self.module)
                ) from exc
        if not isinstance(outputs, torch.Tensor):
            raise TypeError(
                f"{self.name} returned a {type(outputs).__name__}, not a tensor. "
                "Wrap the module so that forward returns the (n_samples, "
                "n_features) embedding tensor, e.g. "
                "`lambda x: model(x).pooler_output` inside a small nn.Module."
            )
        return check_output(outputs, len(batch), self.name)


@contextlib.contextmanager
def eval_mode(module):
    """Run ``module`` in eval mode, then restore every submodule's own mode.

    The user's module is a parameter of the extractor: leaving its ``training``
    flags as they were keeps its pickle, hence ``Pipeline(memory=...)``'s
    cache key, unchanged by a transform.
    """
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for submodule, training in modes:
            submodule.training = training


def module_digest(module):
    """Hash of a module's class, parameter and buffer values (its cache identity).

    The code of the module's own classes (``forward`` and the rest, for classes
    not from an installed package) and the plain attributes of each submodule
    (``self.scale = 2.0``: read by ``forward`` but not in ``state_dict``) are
    part of it, so editing either gives new embeddings.

    Examples
    --------
    >>> import torch
    >>> from skalign.extract.backends._torch_module import module_digest
    >>> torch.manual_seed(0) and None
    >>> a = torch.nn.Linear(2, 2)
    >>> module_digest(a) == module_digest(a), module_digest(a) == module_digest(
    ...     torch.nn.Linear(2, 2))
    (True, False)
    """
    import torch

    from .._code_identity import class_code_identity, is_setting, value_identity

    digest = hashlib.blake2b(digest_size=16)
    digest.update(type(module).__qualname__.encode())
    classes = {}
    for name, submodule in module.named_modules():
        kind = type(submodule)
        if kind not in classes:
            classes[kind] = class_code_identity(kind)
        digest.update(f"{name}|{kind.__qualname__}|{classes[kind]}".encode())
        for attribute, value in sorted(vars(submodule).items()):
            if (
                attribute.startswith("_")
                or attribute == "training"  # restored after every transform
                or not is_setting(value)  # torch's machinery, counters, caches
            ):
                continue
            digest.update(f"{attribute}={value_identity(value)}".encode())
    for key, tensor in module.state_dict().items():
        digest.update(key.encode())
        host = tensor.detach().cpu().contiguous()
        digest.update(str(host.dtype).encode())
        digest.update(str(tuple(host.shape)).encode())
        digest.update(host.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
