"""Where and how a torch model runs: device choice, precision, inference context."""

import contextlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass

from .._optional import import_optional

PRECISIONS = {"fp32": None, "fp16": "float16", "bf16": "bfloat16"}

__doctest_requires__ = {("resolve_device",): ["torch"]}


def resolve_device(device):
    """Return the torch device string for ``device`` ("auto": cuda, mps, cpu).

    Examples
    --------
    >>> from skalign.extract._runtime import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device in ("auto", "cpu") and importlib.util.find_spec("torch") is None:
        return "cpu"  # an ONNX model on a machine without torch
    torch = import_optional("torch", purpose=f"device={device!r}")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device. Use 'auto', 'cpu', "
            "'cuda', 'cuda:1' or 'mps'."
        ) from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine. Use device='auto' to fall back to the CPU."
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} was requested but MPS is not available on this "
            "machine. Use device='auto' to fall back to the CPU."
        )
    return str(parsed)


@dataclass(frozen=True)
class Runtime:
    """A resolved device and precision for a torch model.

    ``precision`` other than ``"fp32"`` runs the forward under
    :class:`torch.autocast` in that dtype, and models loaded by the extractor
    itself get their weights in it (:attr:`weights_dtype`); every forward runs
    under :class:`torch.inference_mode`.
    """

    device: str
    precision: str = "fp32"

    @property
    def device_type(self):
        return self.device.split(":")[0]

    @property
    def weights_dtype(self):
        """The torch dtype to load weights in: float32, float16 or bfloat16."""
        import torch

        return getattr(torch, PRECISIONS[self.precision] or "float32")

    def inference(self):
        """Context manager for a forward pass: inference mode and autocast."""
        import torch

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        dtype_name = PRECISIONS[self.precision]
        if dtype_name is not None:
            stack.enter_context(
                torch.autocast(self.device_type, dtype=getattr(torch, dtype_name))
            )
        return stack

    def stack(self, tensors):
        """Stack tensors into a batch, in page-locked memory when bound for CUDA."""
        import torch

        batch = torch.stack(list(tensors))
        return batch.pin_memory() if self.device_type == "cuda" else batch

    def to_device(self, batch):
        """Move a tensor (or a dict of tensors) to the device; pinned tensors
        are copied asynchronously."""
        if isinstance(batch, Mapping):
            return {key: self.to_device(value) for key, value in batch.items()}
        if not hasattr(batch, "to"):
            return batch
        return batch.to(self.device, non_blocking=batch.is_pinned())


def to_float32_numpy(tensor):
    """Copy a (n, d) tensor to the host as a float32 NumPy array."""
    import torch

    return tensor.detach().to(device="cpu", dtype=torch.float32).numpy()
