"""Tiny torch modules for the extractor tests (importable by Dask workers)."""

import numpy as np
import torch


class CountingEncoder(torch.nn.Module):
    """A fixed random projection of 8x8 grey thumbnails that counts inputs.

    The count lives in a module-level list, outside the module's state, so it
    changes neither pickles nor joblib hashes of the module.
    """

    calls = []

    def __init__(self, width=6):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("projection", torch.randn(64, width, generator=generator))

    def forward(self, x):
        CountingEncoder.calls.append(len(x))
        return x.reshape(len(x), -1) @ self.projection


def thumbnail(image):
    """Preprocess for CountingEncoder: 8x8 grey in [0, 1]."""
    grey = image.convert("L").resize((8, 8))
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)


class Thumbnail:
    """``thumbnail`` as an object whose repr is the same in every process, so
    test ids that print it agree across pytest-xdist workers."""

    def __call__(self, image):
        return thumbnail(image)

    def __repr__(self):
        return "Thumbnail()"


def random_images(n, seed=0):
    """``n`` random 12x10 RGB uint8 images (arrays), the same for a seed."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8) for _ in range(n)]
