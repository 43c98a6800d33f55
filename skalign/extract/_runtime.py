"""How a model runs: device choice, precision, inference context, the batches
prepared ahead of it, and the progress bars.

Image decoding and resizing release the GIL (Pillow, libjpeg, torchvision), so
a few worker threads keep the next batches ready while the model runs on the
current one (:func:`iter_batches`), without the start-up and pickling costs of
worker processes. The batch is assembled (stacked, pinned for CUDA) in a worker
too. At most ``prefetch`` batches are prepared ahead, which bounds memory.
"""

import contextlib
import importlib.util
import sys
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

import numpy as np

from .._optional import import_optional

PRECISIONS = {"fp32": None, "fp16": "float16", "bf16": "bfloat16"}

__doctest_requires__ = {("resolve_device",): ["torch"]}


class _TorchDeviceType(type):
    """``isinstance(x, TorchDevice)`` is true for a ``torch.device``, without
    importing torch (an optional dependency) to ask."""

    def __instancecheck__(cls, instance):
        kind = type(instance)
        return kind.__module__ == "torch" and kind.__name__ == "device"


class TorchDevice(metaclass=_TorchDeviceType):
    """A ``torch.device`` (for parameter constraints)."""


def resolve_device(device):
    """Return the torch device string for ``device`` ("auto": cuda, mps, cpu).

    ``device`` is a string or a ``torch.device``.

    Examples
    --------
    >>> from skalign.extract._runtime import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if isinstance(device, TorchDevice):
        device = str(device)
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
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ValueError(
            f"device={device!r} was requested but this machine has only {count} "
            f"CUDA device(s), cuda:0 to cuda:{count - 1}. Use one of those, or "
            "device='auto'."
        )
    if parsed.type == "meta":
        raise ValueError(
            f"device={device!r}: tensors on the meta device have shapes but no "
            "values, so a model there cannot compute embeddings. Use 'cpu', "
            "'cuda' or 'auto'."
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


def to_host(embeddings):
    """A float32 NumPy array of a backend's output (a tensor is copied to the
    host; an array is returned as is)."""
    if isinstance(embeddings, np.ndarray):
        return embeddings
    return embeddings.detach().cpu().numpy()


# -- batches prepared ahead ----------------------------------------------------


def iter_batches(indices, prepare, *, batch_size, n_workers, collate=list, prefetch=2):
    """Yield ``(batch_indices, collate(prepared_items))`` in order.

    Parameters
    ----------
    indices : sequence of int
        Items to prepare, in the order batches are wanted.
    prepare : callable
        ``prepare(index)`` returns the prepared item.
    batch_size : int
    n_workers : int
        Worker threads; 0 prepares in the calling thread.
    collate : callable, default=list
        Assembles a batch from its prepared items.
    prefetch : int, default=2
        Batches prepared ahead of the one being consumed.

    Examples
    --------
    >>> from skalign.extract._runtime import iter_batches
    >>> batches = iter_batches([3, 1, 2], lambda i: 10 * i, batch_size=2, n_workers=2)
    >>> list(batches)
    [([3, 1], [30, 10]), ([2], [20])]
    """
    batches = [
        list(indices[s : s + batch_size]) for s in range(0, len(indices), batch_size)
    ]
    if n_workers == 0:
        for batch in batches:
            yield batch, collate([prepare(i) for i in batch])
        return
    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="skalign")

    def submit(batch):
        # FIFO: the collate task starts after every item task it waits on has
        # started, so waiting inside the pool cannot deadlock.
        futures = [pool.submit(prepare, i) for i in batch]
        return batch, pool.submit(lambda: collate([f.result() for f in futures]))

    try:
        upcoming = iter(batches)
        pending = deque(submit(batch) for batch in islice(upcoming, prefetch + 1))
        while pending:
            batch, collated = pending.popleft()
            following = next(upcoming, None)
            if following is not None:
                pending.append(submit(following))
            yield batch, collated.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- progress bars -----------------------------------------------------------

AUTO_PROGRESS_MIN_INPUTS = 1000
"""``show_progress="auto"`` shows a bar from this many inputs to embed on."""


def shows_bar(show_progress, n_inputs):
    """Whether the extractor shows its bar for ``n_inputs`` inputs to embed.

    Examples
    --------
    >>> from skalign.extract._runtime import shows_bar
    >>> shows_bar("auto", 10), shows_bar("auto", 5000), shows_bar(True, 1)
    (False, True, True)
    """
    if show_progress == "auto":
        return n_inputs >= AUTO_PROGRESS_MIN_INPUTS
    return bool(show_progress)


@contextlib.contextmanager
def library_bars(enabled):
    """Within the block, ``transformers``' and ``huggingface_hub``'s progress
    bars (e.g. "Loading weights") are shown only when ``enabled``.

    Only libraries already imported are touched (a backend's packages are
    imported before its model loads); their own settings come back after.
    """
    restore = []
    if not enabled:
        if "huggingface_hub" in sys.modules:
            from huggingface_hub import utils as hub_utils

            if not hub_utils.are_progress_bars_disabled():
                hub_utils.disable_progress_bars()
                restore.append(hub_utils.enable_progress_bars)
        if "transformers" in sys.modules:
            from transformers.utils import logging as transformers_logging

            if transformers_logging.is_progress_bar_enabled():
                transformers_logging.disable_progress_bar()
                restore.append(transformers_logging.enable_progress_bar)
    try:
        yield
    finally:
        for undo in restore:
            undo()
