"""Tiny models, images and cache surgery shared by the extractor catalogue cases
(``tests/catalogue/cases_extract_*.py``). Nothing here downloads anything."""

import functools
import os
import sqlite3
from pathlib import Path

import numpy as np
import torch

from skalign.extract import EmbeddingExtractor, clear_model_cache
from skalign.extract._store import INDEX_NAME, SHARDS_NAME
from tests.extract._modules import CountingEncoder, random_images, thumbnail

IMAGES = random_images(4)


def counting(**params):
    """An extractor over a fresh CountingEncoder (6-d) with ``thumbnail``."""
    params.setdefault("preprocess", thumbnail)
    return EmbeddingExtractor(CountingEncoder(), **params)


def reference(images=IMAGES, **params):
    """The embeddings of ``images`` computed with no cache and no memo."""
    clear_model_cache()
    return counting(memoize=False, **params).transform(images)


def fresh_equal(result, images=IMAGES, **params):
    """``result`` equals a fresh, uncached computation (float32 exactly)."""
    np.testing.assert_allclose(result, reference(images, **params), rtol=1e-6)
    return True


def cached_once(cache_dir, images=IMAGES, **params):
    """Fill ``cache_dir`` with ``images``' embeddings, then forget the memo."""
    counting(cache_dir=cache_dir, **params).transform(images)
    clear_model_cache()


def shards(cache_dir):
    return sorted((Path(cache_dir) / SHARDS_NAME).glob("*.npy"))


def index_path(cache_dir):
    return Path(cache_dir) / INDEX_NAME


def sql(cache_dir, statement, *args):
    connection = sqlite3.connect(index_path(cache_dir))
    try:
        with connection:
            return connection.execute(statement, args).fetchall()
    finally:
        connection.close()


def rerun(cache_dir, images=IMAGES, **params):
    """Embed ``images`` again from ``cache_dir`` with an empty memo; returns
    the embeddings and how many inputs the model saw."""
    clear_model_cache()
    CountingEncoder.calls.clear()
    result = counting(cache_dir=cache_dir, **params).transform(images)
    return result, sum(CountingEncoder.calls)


def png(path, image):
    image.save(path)
    return os.fspath(path)


class Exploding:
    """Unpickling this writes a file: evidence that something was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "unpickled"))


def resize_to(image, size):
    """Grey ``size`` x ``size`` thumbnail, flattened to 64 values by pooling."""
    grey = image.convert("L").resize((size, size))
    values = torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)
    return torch.nn.functional.adaptive_avg_pool2d(values[None], (8, 8))[0]


def partial_size(size):
    return functools.partial(resize_to, size=size)


class WrongRows(torch.nn.Module):
    """Returns one row per batch, not per input."""

    def forward(self, x):
        return x.reshape(len(x), -1).mean(0, keepdim=True)


class NaNOutput(torch.nn.Module):
    def forward(self, x):
        return torch.full((len(x), 3), float("nan"))


class TupleOutput(torch.nn.Module):
    def forward(self, x):
        flat = x.reshape(len(x), -1)
        return flat[:, :3], flat[:, 3:6]


class TokenOutput(torch.nn.Module):
    """Returns (n, tokens, width) like an unpooled transformer."""

    def forward(self, x):
        return x.reshape(len(x), 8, 8)


class IntOutput(torch.nn.Module):
    def forward(self, x):
        return (x.reshape(len(x), -1)[:, :4] * 100).long()
