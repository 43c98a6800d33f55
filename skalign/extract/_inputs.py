"""Check what ``EmbeddingExtractor.transform`` receives and flatten it to items.

``X`` is one sample per row: a text, an image (path, PIL image, array), or a
group of them (a list or tuple of views of one study, pooled into one
embedding). Containers: lists, tuples, pandas Series, 1-D object arrays,
single-column DataFrames or 2-D arrays, ``(n, H, W[, C])`` numeric arrays
(n images); a DataFrame or 2-D object array with several columns is read row
by row as groups (e.g. a ``frontal`` and a ``lateral`` column). Inside groups,
``None`` and NaN mark missing views and are skipped.
"""

import hashlib
import os
from collections.abc import Mapping, Set
from dataclasses import dataclass
from numbers import Real

import numpy as np

KIND_TEXT = "text"
KIND_PATH = "image path"
KIND_PIL = "PIL image"
KIND_ARRAY = "image array"


@dataclass
class Inputs:
    """Items flattened from ``X`` and how they group back into samples.

    Attributes
    ----------
    items : list
        Every text or image, views of a group consecutive.
    positions : list of str
        Where each item sits in ``X`` (``"X[3]"``, ``"X[3][1]"``), for messages.
    sample_of_item : ndarray of int or None
        The sample each item belongs to; None when no sample is a group.
    n_samples : int
    kind : str
        The one kind of every item (text, image path, PIL image, image array).
    """

    items: list
    positions: list
    sample_of_item: object
    n_samples: int
    kind: str


def parse_inputs(X, modality):
    """Flatten ``X`` into :class:`Inputs` for ``modality`` ("text" or "image").

    Examples
    --------
    >>> from skalign.extract._inputs import parse_inputs
    >>> inputs = parse_inputs([["a", "b"], ["c"]], "text")
    >>> inputs.items, inputs.sample_of_item.tolist(), inputs.kind
    (['a', 'b', 'c'], [0, 0, 1], 'text')
    """
    samples, from_columns = _samples(X, modality)
    if not samples:
        raise ValueError(
            f"X is empty: pass at least one {modality} (a list with one item "
            "per sample)."
        )
    is_group = [from_columns or isinstance(s, (list, tuple)) for s in samples]
    if any(is_group) and not all(is_group):
        first_plain = is_group.index(False)
        first_group = is_group.index(True)
        raise TypeError(
            f"X mixes groups of views (X[{first_group}] is a "
            f"{type(samples[first_group]).__name__}) and single items "
            f"(X[{first_plain}] is a {type(samples[first_plain]).__name__}). "
            "Make every sample a group, e.g. [item] for a study with one view."
        )
    items, positions, sample_of_item = [], [], []
    for i, sample in enumerate(samples):
        if not is_group[i]:
            items.append(_check_item(sample, f"X[{i}]", modality))
            positions.append(f"X[{i}]")
            continue
        views = [(j, v) for j, v in enumerate(sample) if not _is_missing(v)]
        if not views:
            raise ValueError(
                f"X[{i}] is a group with no views (empty, or all None/NaN). Drop "
                "that sample or give it at least one view."
            )
        for j, view in views:
            items.append(_check_item(view, f"X[{i}][{j}]", modality))
            positions.append(f"X[{i}][{j}]")
            sample_of_item.append(i)
    kind = _single_kind(items, positions, modality)
    grouped = np.asarray(sample_of_item, dtype=np.intp) if all(is_group) else None
    return Inputs(items, positions, grouped, len(samples), kind)


def dedup_key(item, kind):
    """A cheap key equal for repeated items (the text, the path, the pixels)."""
    if kind == KIND_TEXT:
        return item
    if kind == KIND_PATH:
        return os.fspath(item)
    return content_digest(item, kind)


def content_digest(item, kind):
    """Hex digest of an item's content: text, file bytes or pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.extract._inputs import content_digest
    >>> image = np.zeros((4, 4), dtype=np.uint8)
    >>> digest = content_digest(image, "image array")
    >>> digest == content_digest(image.copy(), "image array")
    True
    >>> digest == content_digest(image[:2], "image array")
    False
    """
    digest = hashlib.blake2b(digest_size=20)
    digest.update(kind.encode())
    if kind == KIND_TEXT:
        digest.update(item.encode("utf-8", errors="surrogatepass"))
    elif kind == KIND_PATH:
        if not os.path.isfile(item):  # a device or pipe would be read forever
            raise FileNotFoundError(f"{os.fspath(item)!r} is not a regular file")
        with open(item, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    elif kind == KIND_PIL:
        digest.update(f"{item.mode}|{item.size}".encode())
        digest.update(item.tobytes())
    else:
        array = np.ascontiguousarray(item)
        digest.update(f"{array.dtype.str}|{array.shape}".encode())
        digest.update(array.view(np.uint8).reshape(-1).data)
    return digest.hexdigest()


def _samples(X, modality):
    """Return (list of samples, whether rows of a table are groups)."""
    if isinstance(X, (str, bytes)) or _is_pil(X):
        raise TypeError(
            f"X must be a collection of samples, got a single {type(X).__name__}. "
            "Wrap it in a list: [x]."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        if X.shape[1] == 1:
            return list(X.iloc[:, 0]), False
        return [list(row) for row in X.itertuples(index=False)], True
    if hasattr(X, "detach") and hasattr(X, "numpy"):  # torch tensor
        _refuse_meta_tensor(X, "X")
        raise TypeError(
            "X is a torch tensor. Pass images as a list of PIL images, file paths "
            "or (H, W, C) numpy arrays (e.g. list(tensor.permute(0, 2, 3, 1)"
            ".cpu().numpy())), and texts as a list of strings."
        )
    if isinstance(X, np.ndarray):
        return _array_samples(X, modality)
    if isinstance(X, Set | Mapping):
        kind = "dict" if isinstance(X, Mapping) else "set"
        fix = (
            "list(X.values()) for the values, in the order of their keys"
            if kind == "dict"
            else "a list (e.g. sorted(X)) whose order is the rows you want back"
        )
        raise TypeError(
            f"X is a {type(X).__name__}: a {kind} has no row order (or gives only "
            f"its keys), so the embeddings could not be matched to samples. Pass "
            f"{fix}."
        )
    if not hasattr(X, "__iter__"):
        raise TypeError(
            f"X must be a list of {modality}s (or groups of them), got a "
            f"{type(X).__name__}."
        )
    return list(X), False


def _array_samples(X, modality):
    if X.ndim == 0:
        raise TypeError(
            f"X is a 0-d array holding a single value, not a collection of "
            f"{modality}s. Wrap it in a list: [x.item()]."
        )
    if X.dtype.kind in "OUS":
        if X.ndim == 1:
            return list(X), False
        if X.ndim == 2:
            if X.shape[1] == 1:
                return list(X[:, 0]), False
            return [list(row) for row in X], True
        raise ValueError(
            f"An array of {modality}s must be 1-D (or 2-D, one row per sample); "
            f"got shape {X.shape}."
        )
    if modality == "image" and X.ndim in (3, 4):
        return list(X), False
    raise ValueError(
        f"A numeric array of shape {X.shape} is not a batch of "
        f"{modality}s. Pass images as an (n, H, W) or (n, H, W, C) array or a "
        "list of arrays; texts as a list of strings. Already embedded? Then the "
        "extractor is not needed."
    )


def _check_item(item, position, modality):
    if modality == "text":
        if isinstance(item, str):
            return _check_unicode(item, position)
        if isinstance(item, bytes | bytearray):
            raise TypeError(
                f"{position} is a {type(item).__name__}, not a string; every text "
                "must be a str. Decode it first (e.g. text.decode('utf-8')), or "
                "read the file in text mode."
            )
        raise TypeError(
            f"{position} is a {type(item).__name__}, not a string; every text "
            "must be a str. Fill missing texts first (e.g. X.fillna('')), or set "
            "modality='image' if these are images."
        )
    if isinstance(item, (str, os.PathLike)) or _is_pil(item):
        return item
    if isinstance(item, np.ndarray):
        if item.dtype.kind not in "biuf":
            from ._images import ImageReadError

            raise ImageReadError(
                f"{position} is an image array of dtype {item.dtype}, which holds "
                "no pixel values. Convert it to uint8 (0-255) or float (0-1), "
                "e.g. np.asarray(image, dtype=np.float32)."
            )
        return item
    _refuse_meta_tensor(item, position)
    raise TypeError(
        f"{position} is a {type(item).__name__}, which is not an image. Pass file "
        "paths (str or pathlib.Path), PIL images or numpy arrays of shape "
        "(H, W) or (H, W, C)."
    )


def _check_unicode(text, position):
    """``text`` if it is valid Unicode (no lone surrogates, which tokenizers
    reject and UTF-8 cannot encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{position} is not valid Unicode text: it holds a lone surrogate "
            f"{text[exc.start]!r} at character {exc.start} (bytes decoded with "
            "errors='surrogateescape', or a broken emoji). Decode the source "
            "with errors='replace', or clean it with text.encode('utf-8', "
            "'replace').decode('utf-8')."
        ) from None
    return text


def item_kind(item):
    """The kind of one item already checked by :func:`parse_inputs`."""
    if _is_pil(item):
        return KIND_PIL
    if isinstance(item, np.ndarray):
        return KIND_ARRAY
    return KIND_PATH


def _single_kind(items, positions, modality):
    if modality == "text":
        return KIND_TEXT
    first = {}
    for item, position in zip(items, positions, strict=True):
        first.setdefault(item_kind(item), position)
    if len(first) > 1:
        found = ", ".join(f"{kind} (first at {pos})" for kind, pos in first.items())
        raise TypeError(
            f"X mixes input types: {found}. Pass one type per call, e.g. read "
            "every image with skalign.extract.load_image first."
        )
    return next(iter(first))


def _refuse_meta_tensor(value, where):
    """A tensor on the meta device holds shapes, no values: say so."""
    device = getattr(value, "device", None)
    if getattr(device, "type", None) == "meta":
        raise TypeError(
            f"{where} is a torch tensor on the meta device: it has a shape but no "
            "values, so there is nothing to embed. Materialise it first (load "
            "or compute its values on 'cpu' or 'cuda'), then pass images as PIL "
            "images, file paths or (H, W, C) numpy arrays."
        )


def _is_missing(value):
    return value is None or (isinstance(value, Real) and np.isnan(value))


def _is_pil(obj):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with torchvision
        return False
    return isinstance(obj, Image.Image)
