"""Helpers that Dask workers import by name in the distributed tests.

Objects defined in a test module would be pickled by reference to it; this
module holds them instead, so workers import nothing test-specific but it.
"""

import hashlib
import os
import uuid
from pathlib import Path

import numpy as np
import torch

LOADS = []


def count_loads():
    """Wrap the model registry's loader so the worker counts the models it loads."""
    from skalign.extract import _model

    if not getattr(_model._load, "counting", False):
        original = _model._load

        def counting(spec, *args, **kwargs):
            LOADS.append(spec)
            return original(spec, *args, **kwargs)

        counting.counting = True
        _model._load = counting


def n_loads():
    return len(LOADS)


class KillOnceEncoder(torch.nn.Module):
    """A fixed random projection of 8x8 grey images that logs every forward.

    Each forward leaves a file ``<batch digest>.<random>`` in ``log_dir``; the
    first forward that finds more than ``kill_after`` files there and no
    ``killed`` marker writes the marker (holding its batch digest) and ends
    its own process, as a crashing or pre-empted worker would.
    """

    def __init__(self, log_dir=None, kill_after=None):
        super().__init__()
        self.log_dir = log_dir
        self.kill_after = kill_after
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("projection", torch.randn(64, 5, generator=generator))

    def forward(self, x):
        if self.log_dir is not None:
            log_dir = Path(self.log_dir)
            digest = batch_digest(x)
            (log_dir / f"{digest}.{uuid.uuid4().hex}").touch()
            started = sum(1 for p in log_dir.iterdir() if p.name != "killed")
            marker = log_dir / "killed"
            if started > self.kill_after and not marker.exists():
                marker.write_text(digest)
                os._exit(1)
        return x.reshape(len(x), -1) @ self.projection


def batch_digest(x):
    return hashlib.blake2b(x.numpy().tobytes(), digest_size=8).hexdigest()


def thumbnail(image):
    """8x8 grey in [0, 1]."""
    grey = image.convert("L").resize((8, 8))
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)
