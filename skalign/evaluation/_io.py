"""Embedding files: read ``.npy`` / ``.npz`` / parquet, pair encoders by item id.

File format (one file per encoder):

- ``.npy``: a 2-D array of embeddings, nothing else; rows are paired with the
  other files (and a labels file) by position.
- ``.npz``: an array ``embeddings`` (or ``X``) of shape (n, d), and optionally
  ``ids`` (n,), ``labels`` (n,) and ``split`` (n,), with ``split`` one of
  ``"train"``, ``"anchor"``, ``"test"`` per row. Other arrays are ignored.
- ``.parquet``: optional columns ``id``, ``label`` and ``split``; the
  embeddings are either one column ``embedding`` holding a list (or array) per
  row, or every other column (all numeric, e.g. ``"0"`` … ``"767"``).

Labels files (``.csv`` or ``.parquet``) have an ``id`` column (or rows in the
embeddings' order when there is none) and one column per task. Prompts files
(JSON) map each task to its classes' prompts.
"""

import json
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._validation import check_embeddings

_EMBEDDING_KEYS = ("embeddings", "X")
_METADATA = {
    "ids": ("ids", "id"),
    "labels": ("labels", "label", "y"),
    "split": ("split",),
}
_SUFFIXES = (".npy", ".npz", ".parquet")


class EmbeddingFile(NamedTuple):
    """Contents of one embedding file, as returned by :func:`read_embeddings`.

    Attributes
    ----------
    embeddings : ndarray of shape (n_items, n_features)
        One row per item.
    ids : ndarray of str of shape (n_items,) or None
        Item ids, used to pair the rows of several files (and a labels file).
    labels : ndarray of shape (n_items,) or None
        Class labels.
    split : ndarray of str of shape (n_items,) or None
        ``"train"``, ``"anchor"`` or ``"test"`` per row.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skalign.evaluation import read_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "encoder.npy")
    >>> np.save(path, np.zeros((2, 3)))
    >>> embeddings, ids, labels, split = read_embeddings(path)
    >>> embeddings.shape, ids, labels, split
    ((2, 3), None, None, None)
    """

    embeddings: np.ndarray
    ids: np.ndarray | None
    labels: np.ndarray | None
    split: np.ndarray | None


def read_embeddings(path):
    """Read an embedding file written for the ``skalign`` command line.

    Parameters
    ----------
    path : str or path-like
        A ``.npy``, ``.npz`` or ``.parquet`` file:

        - ``.npy``: a 2-D array of embeddings, rows paired by position;
        - ``.npz``: ``embeddings`` (or ``X``), optional ``ids``, ``labels``
          and ``split`` (``"train"``, ``"anchor"`` or ``"test"`` per row);
        - ``.parquet``: optional ``id``, ``label`` and ``split`` columns, and
          either an ``embedding`` column holding one vector per row or only
          numeric columns besides those.

    Returns
    -------
    file : EmbeddingFile
        Named tuple ``(embeddings, ids, labels, split)``; fields absent from
        the file are None.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skalign.evaluation import read_embeddings
    >>> path = os.path.join(tempfile.mkdtemp(), "dinov2.npz")
    >>> np.savez(path, embeddings=np.ones((3, 4)), ids=["a", "b", "c"],
    ...          labels=[0, 1, 0])
    >>> file = read_embeddings(path)
    >>> file.embeddings.shape, file.ids.tolist(), file.split
    ((3, 4), ['a', 'b', 'c'], None)
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: it is a folder. Give the "
            "path of a .npy, .npz or .parquet file in it."
        )
    if path.suffix.lower() not in _SUFFIXES:
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: unknown file type "
            f"{path.suffix!r}. Save them as .npy, .npz or .parquet."
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"Embedding file {str(path)!r} does not exist. Check the path (it is "
            f"relative to {str(Path.cwd())!r})."
        )
    if path.suffix.lower() == ".npy":
        fields = {"embeddings": _load_numpy(path)}
    elif path.suffix.lower() == ".npz":
        fields = _read_npz(path)
    else:
        fields = _read_parquet(path)
    embeddings = check_embeddings(
        _check_array(fields.pop("embeddings"), path),
        input_name=f"the embeddings in {str(path)!r}",
    )
    metadata = {
        key: _check_column(fields.get(key), key, embeddings, path) for key in _METADATA
    }
    if metadata["ids"] is not None:
        _check_ids_present(fields.get("ids"), path)
        _check_unique_ids(metadata["ids"], path)
    return EmbeddingFile(embeddings, **metadata)


def read_labels(path):
    """Read a labels table: ``id`` and one column per task.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` file (read as text, so that ``1`` stays ``"1"`` beside a
        missing value) or a ``.parquet`` file. Without an ``id`` column its
        rows are paired with the embeddings by position.

    Returns
    -------
    labels : pandas.DataFrame
        ``id`` (as str) when present, and the label columns.

    Examples
    --------
    >>> import os, tempfile
    >>> from skalign.evaluation import read_labels
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.csv")
    >>> _ = open(path, "w").write("id,pneumonia\\na,1\\nb,\\n")
    >>> read_labels(path)["pneumonia"].tolist()
    ['1', nan]
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"The labels file {str(path)!r} is a folder; give the path of a .csv "
            "or .parquet file."
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"Labels file {str(path)!r} does not exist. Check the path (it is "
            f"relative to {str(Path.cwd())!r})."
        )
    if path.suffix == ".csv":
        table = _read_labels_csv(path)
    elif path.suffix == ".parquet":
        table = _read_parquet_table(path)
    else:
        raise ValueError(
            f"Cannot read labels from {str(path)!r}: unknown file type "
            f"{path.suffix!r}. Save them as .csv or .parquet."
        )
    if "id" in table.columns:
        missing = np.flatnonzero(table["id"].isna().to_numpy())
        if missing.size:
            raise ValueError(
                f"The labels file {str(path)!r} has {missing.size} row(s) without an "
                f"id, first at row {missing[0] + 1}; give every row an id (or drop "
                "those rows)."
            )
        table["id"] = table["id"].astype(str)
        _check_unique_ids(table["id"].to_numpy(), path)
    if len([c for c in table.columns if c != "id"]) == 0:
        raise ValueError(
            f"The labels file {str(path)!r} has no label column; add one column per "
            "task beside 'id'."
        )
    return table


def _read_labels_csv(path):
    """A labels CSV as text (a column with a missing value would otherwise turn
    1 into 1.0 and stop matching its class name), or a clear error."""
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"The labels file {str(path)!r} is empty; it needs a header row ('id' "
            "and one column per task) and one row per item."
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The labels file {str(path)!r} is not a text CSV ({exc}); save the "
            "labels as a UTF-8 .csv or a .parquet file."
        ) from None
    if "id" not in table.columns and table.shape[1] == 1:
        sep = next((s for s in (";", "\t") if s in table.columns[0]), None)
        if sep is not None:
            raise ValueError(
                f"The labels file {str(path)!r} has one column {table.columns[0]!r}"
                f": it looks separated by {sep!r}. Save it comma-separated."
            )
    return table


def read_prompts(path):
    """Read the class prompts of several tasks from a JSON file.

    Parameters
    ----------
    path : str or path-like
        A JSON object ``{"task": {"class": ["prompt", ...], ...}, ...}``; the
        classes are the task's labels as text.

    Returns
    -------
    prompts : dict
        Task → class → list of prompts (a single string becomes a list of one).

    Examples
    --------
    >>> import json, os, tempfile
    >>> from skalign.evaluation import read_prompts
    >>> path = os.path.join(tempfile.mkdtemp(), "prompts.json")
    >>> _ = open(path, "w").write(json.dumps(
    ...     {"pneumonia": {"1": ["pneumonia"], "0": ["no finding", "normal"]}}))
    >>> read_prompts(path)["pneumonia"]["0"]
    ['no finding', 'normal']
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"The prompts file {str(path)!r} is a folder; give the path of a JSON "
            f"file in it, holding {_PROMPTS_EXAMPLE}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Prompts file {str(path)!r} does not exist.")
    try:
        prompts = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"The prompts file {str(path)!r} is not valid JSON ({exc}). It must "
            f"hold {_PROMPTS_EXAMPLE}."
        ) from None
    if (
        not isinstance(prompts, dict)
        or not prompts
        or not all(isinstance(classes, dict) for classes in prompts.values())
    ):
        raise ValueError(
            f"The prompts file {str(path)!r} must hold a non-empty JSON object "
            f"task -> {{class -> [prompts]}}, e.g. {_PROMPTS_EXAMPLE}."
        )
    return {
        task: {
            str(label): _class_prompts(texts, task, label, path)
            for label, texts in classes.items()
        }
        for task, classes in prompts.items()
    }


_PROMPTS_EXAMPLE = '{"pneumonia": {"1": ["pneumonia"], "0": ["normal", "no finding"]}}'


def _class_prompts(texts, task, label, path):
    """One class's prompts as a list of strings; a single string is one prompt."""
    where = f"The prompts file {str(path)!r}: task {task!r}, class {label!r}"
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list):
        raise ValueError(
            f"{where} holds {json.dumps(texts)}, but a class needs a prompt (a "
            f"string) or a list of prompts, e.g. {_PROMPTS_EXAMPLE}."
        )
    if not texts:
        raise ValueError(
            f"{where} has an empty prompt list. Give every class at least one "
            "prompt, or remove the class from the file."
        )
    not_text = [text for text in texts if not isinstance(text, str) or not text.strip()]
    if not_text:
        raise ValueError(
            f"{where} holds {json.dumps(not_text[0])}, which is not a prompt: every "
            "prompt must be a non-empty string."
        )
    return texts


def pair_files(files, *, labels=None, task=None, labelled_only=False):
    """Pair the rows of several embedding files, and their labels and split.

    Files with ids are paired by id (the items every file embeds, in the first
    file's order); files without are paired by position.

    Parameters
    ----------
    files : dict of str to EmbeddingFile
        Encoder name → its file (see :func:`read_embeddings`).
    labels : pandas.DataFrame or None, default=None
        A table from :func:`read_labels`; else labels come from the files.
    task : str or None, default=None
        The labels column to use; required when ``labels`` has several.
    labelled_only : bool, default=False
        Keep only the rows with a label (a warning says how many are left
        out); labels are then required.

    Returns
    -------
    embeddings : dict of str to ndarray
        Rows in one common order.
    y : ndarray or None
        The labels, None when neither ``labels`` nor the files hold any.
    split : ndarray or None
        The files' split column, when they have one.
    ids : ndarray or None
        The paired ids, None when pairing by position.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.evaluation import EmbeddingFile, pair_files
    >>> a = EmbeddingFile(np.eye(3), np.array(["x", "y", "z"]), None, None)
    >>> b = EmbeddingFile(np.ones((3, 2)), np.array(["z", "x", "y"]),
    ...                   np.array([1, 0, 0]), None)
    >>> embeddings, y, split, ids = pair_files({"a": a, "b": b})
    >>> ids.tolist(), y.tolist(), embeddings["a"].shape
    (['x', 'y', 'z'], [0, 0, 1], (3, 3))
    """
    _check_files(files)
    with_ids = [name for name, file in files.items() if file.ids is not None]
    if with_ids and len(with_ids) != len(files):
        without = [name for name in files if name not in with_ids]
        raise ValueError(
            f"The files of {with_ids!r} have ids but those of {without!r} do not, so "
            "their rows cannot be paired. Give every file an ids array (or id "
            "column), or none (then rows are paired by position)."
        )
    if with_ids:
        ids, rows = _common_ids(files)
    else:
        _check_same_row_counts(files)
        ids, rows = None, {name: slice(None) for name in files}
    embeddings = {name: file.embeddings[rows[name]] for name, file in files.items()}
    n_rows = next(iter(embeddings.values())).shape[0]
    y = _agree(files, rows, "labels", ids)
    if labels is not None:
        y = _labels_from_table(labels, task, ids, n_rows)
    split = _agree(files, rows, "split", ids)
    if labelled_only:
        return _labelled_rows(embeddings, y, split, ids)
    return embeddings, y, split, ids


def _check_files(files):
    if not isinstance(files, dict) or not files:
        raise ValueError(
            f"files must be a non-empty dict encoder name -> EmbeddingFile, got "
            f"{files!r}; pass at least one file read with read_embeddings."
        )
    for name, file in files.items():
        if not isinstance(file, EmbeddingFile):
            raise TypeError(
                f"files[{name!r}] is a {type(file).__name__}, not an EmbeddingFile; "
                "read it with read_embeddings(path) (or build "
                "EmbeddingFile(embeddings, ids, labels, split))."
            )


def _labelled_rows(embeddings, y, split, ids):
    if y is None:
        raise ValueError(
            "No labels: the embedding files hold none and labels= was not given. "
            "Pass labels= (a table with 'id' and a label column) or save 'labels' "
            "in the files."
        )
    labelled = np.flatnonzero(~pd.isna(np.asarray(y, dtype=object)))
    if labelled.size < y.size:
        warnings.warn(
            f"{y.size - labelled.size} of {y.size} items have no label and are left "
            "out.",
            UserWarning,
            stacklevel=3,
        )
    return (
        {name: X[labelled] for name, X in embeddings.items()},
        y[labelled],
        None if split is None else split[labelled],
        None if ids is None else ids[labelled],
    )


def _load_numpy(path):
    """A ``.npy`` array, with the reason (never an unsafe load) when it fails."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        with open(path, "rb") as handle:
            is_npy = handle.read(6) == b"\x93NUMPY"
        reason = (
            "it holds Python objects (an object array), which skalign does not "
            "load. Save a numeric array instead: np.save(path, X.astype(np.float32))"
            if is_npy and "allow_pickle" in str(exc)
            else f"it is not a readable .npy array ({exc})"
            if is_npy
            else "it is not a .npy file (no NumPy header). Save the embeddings "
            "with np.save(path, X)"
        )
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: {reason}."
        ) from None


def _read_npz(path):
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: it is not a .npz archive "
            "(a .npz is a zip file; this one is damaged, truncated or of another "
            "format). Save it with np.savez(path, embeddings=X, ids=..., labels=...)."
        )
    try:
        return _read_npz_archive(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: the .npz archive is "
            f"damaged ({exc}). Write it again with np.savez."
        ) from None
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        raise ValueError(
            f"Cannot read embeddings from {str(path)!r}: an array in it holds "
            "Python objects, which skalign does not load. Save ids and labels as "
            "string or number arrays (e.g. np.asarray(ids, dtype=str))."
        ) from None


def _read_npz_archive(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        found = [key for key in _EMBEDDING_KEYS if key in keys]
        if not found:
            raise ValueError(
                f"{str(path)!r} holds no embeddings: expected an array named "
                f"'embeddings' (or 'X'), found {keys!r}. Save it with "
                "np.savez(path, embeddings=X, ids=..., labels=...)."
            )
        fields = {"embeddings": archive[found[0]]}
        for field, aliases in _METADATA.items():
            for alias in aliases:
                if alias in keys:
                    fields[field] = archive[alias]
                    break
    return fields


def _read_parquet_table(path):
    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise ImportError(
            f"Reading {str(path)!r} needs a parquet engine: pip install pyarrow "
            "(or save the embeddings as .npz)."
        ) from exc


def _read_parquet(path):
    table = _read_parquet_table(path)
    fields = {}
    for field, aliases in _METADATA.items():
        column = next((alias for alias in aliases if alias in table.columns), None)
        if column is not None:
            fields[field] = table.pop(column).to_numpy()
    if "embedding" in table.columns:
        fields["embeddings"] = _stack_vectors(table["embedding"].to_numpy(), path)
        return fields
    not_numeric = [
        str(c) for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
    ]
    if not_numeric or table.shape[1] == 0:
        raise ValueError(
            f"{str(path)!r}: embeddings must be one 'embedding' column (a vector "
            "per row) or numeric columns beside 'id', 'label' and 'split', but "
            f"found non-numeric columns {not_numeric!r}."
            if not_numeric
            else f"{str(path)!r} has no embedding columns."
        )
    fields["embeddings"] = table.to_numpy(dtype=np.float64)
    return fields


def _stack_vectors(rows, path):
    """The rows of an ``embedding`` column as one 2-D array, or a clear error."""
    missing = [i for i, row in enumerate(rows) if row is None or np.ndim(row) != 1]
    if missing:
        raise ValueError(
            f"{str(path)!r}: the 'embedding' column has {len(missing)} row(s) that "
            f"are not a vector (missing or not 1-D), first at row {missing[0]}. "
            "Every row needs one embedding of the same length; drop the others."
        )
    lengths = np.array([len(row) for row in rows])
    if len(set(lengths.tolist())) > 1:
        values, counts = np.unique(lengths, return_counts=True)
        odd = int(np.flatnonzero(lengths != values[np.argmax(counts)])[0])
        raise ValueError(
            f"{str(path)!r}: the 'embedding' column holds vectors of different "
            f"lengths {values.tolist()} (row {odd} has {lengths[odd]}). Every row "
            "must have one embedding of the same length (one encoder per file)."
        )
    return np.stack(rows)


def _check_array(array, path):
    """Refuse, naming the file, embeddings that are not a 2-D array of real
    numbers with at least one row and one column."""
    array = np.asarray(array)
    where = f"Cannot read embeddings from {str(path)!r}"
    if array.ndim != 2:
        raise ValueError(
            f"{where}: the array has shape {array.shape} ({array.ndim}-D), but it "
            "must be 2-D, one row per item (reshape it to (n_items, n_features))."
        )
    if 0 in array.shape:
        raise ValueError(
            f"{where}: the array has shape {array.shape}, empty; save at least one "
            "row and one column of embeddings."
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{where}: the array has the dtype {array.dtype}, but embeddings must "
            "be real numbers; save them as np.float32 or np.float64."
        )
    return array


SPLIT_VALUES = ("train", "anchor", "test")


def _check_column(values, key, embeddings, path):
    if values is None:
        return None
    values = np.asarray(values)
    if values.ndim != 1 or values.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"{str(path)!r}: '{key}' has shape {values.shape} but there are "
            f"{embeddings.shape[0]} embeddings; give one value per row."
        )
    if key == "labels":
        return values
    values = values.astype(str)
    if key == "split":
        odd = sorted(set(values.tolist()) - set(SPLIT_VALUES))
        if odd:
            raise ValueError(
                f"{str(path)!r}: 'split' holds {odd!r}; every row's split must be "
                f"one of {list(SPLIT_VALUES)}. Fix the values (or drop 'split' to "
                "draw one)."
            )
    return values


def _check_ids_present(ids, path):
    """Refuse NaN or empty ids: a missing id cannot pair a row."""
    ids = np.asarray(ids)
    if ids.dtype.kind == "f":
        missing = np.isnan(ids)
    elif ids.dtype.kind in "US":
        missing = np.char.str_len(ids) == 0
    else:
        return
    if missing.any():
        raise ValueError(
            f"{str(path)!r}: {int(missing.sum())} row(s) have no id (NaN or empty), "
            f"first at row {int(np.flatnonzero(missing)[0])}; give every row an id."
        )


def _check_unique_ids(ids, path):
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(
            f"{str(path)!r}: id {unique[counts > 1].tolist()[0]!r} appears "
            f"{counts[counts > 1][0]} times; ids must identify one item each."
        )


def _common_ids(files):
    """Ids present in every file (in the first file's order), and their rows."""
    first = next(iter(files.values())).ids
    common = first[np.isin(first, _intersect([f.ids for f in files.values()]))]
    if common.size == 0:
        raise ValueError(
            "The embedding files share no id, so no item is embedded by every "
            "encoder. Check that the ids of the same item match across files."
        )
    for name, file in files.items():
        if file.ids.size > common.size:
            warnings.warn(
                f"{file.ids.size - common.size} of the {file.ids.size} items of "
                f"{name!r} are not embedded by every encoder and are left out "
                f"({common.size} items remain).",
                UserWarning,
                stacklevel=3,
            )
    return common, {
        name: pd.Index(file.ids).get_indexer(common) for name, file in files.items()
    }


def _intersect(id_arrays):
    common = id_arrays[0]
    for ids in id_arrays[1:]:
        common = np.intersect1d(common, ids)
    return common


def _check_same_row_counts(files):
    counts = {name: file.embeddings.shape[0] for name, file in files.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(
            f"The embedding files have different numbers of rows: {counts}. Without "
            "ids rows are paired by position, so every file must embed the same "
            "items in the same order; or add an ids array to each file to pair "
            "them by id."
        )


def _agree(files, rows, field, ids):
    """The field (labels or split) from every file that has it; they must agree."""

    def where(i):
        return f"row {i}" if ids is None else f"id {ids[i : i + 1].tolist()[0]!r}"

    found = {
        name: getattr(file, field)[rows[name]]
        for name, file in files.items()
        if getattr(file, field) is not None
    }
    if not found:
        return None
    names = list(found)
    reference = found[names[0]]
    for name in names[1:]:
        differ = np.flatnonzero(found[name].astype(str) != reference.astype(str))
        if differ.size:
            i = differ[0]
            raise ValueError(
                f"The {field} of {names[0]!r} and {name!r} do not match: "
                f"{where(i)} is {reference[i : i + 1].tolist()[0]!r} in one and "
                f"{found[name][i : i + 1].tolist()[0]!r} in the other "
                f"({differ.size} rows differ). Fix the files so that every "
                f"encoder's {field} describe the same items, or keep the {field} "
                "in one file only."
            )
    return reference


def _labels_from_table(table, task, ids, n_rows):
    columns = [c for c in table.columns if c != "id"]
    if task is None:
        if len(columns) > 1:
            raise ValueError(
                f"The labels file has several label columns {columns!r}; choose "
                "one with task=."
            )
        task = columns[0]
    if task not in columns:
        raise ValueError(
            f"task={task!r} is not a column of the labels file; its label "
            f"columns are {columns!r}. Pass one of them as task=."
        )
    if "id" in table.columns and ids is None:
        raise ValueError(
            "The labels file has an 'id' column but the embedding files have no "
            "ids, so its rows cannot be matched to theirs. Save ids in the files, "
            "or drop the labels' 'id' column to pair rows by position."
        )
    if "id" not in table.columns:
        if len(table) != n_rows:
            raise ValueError(
                f"The labels file has {len(table)} rows but the embeddings have "
                f"{n_rows}. Without ids in both, rows are paired by position; add "
                "an 'id' column to the labels and ids to the embedding files."
            )
        return table[task].to_numpy()
    position = pd.Index(table["id"]).get_indexer(ids)
    if (position < 0).any():
        missing = ids[position < 0]
        raise ValueError(
            f"{missing.size} embedded items have no row in the labels file, e.g. "
            f"id {missing.tolist()[0]!r}. Add their labels (or leave them out of the "
            "embedding files)."
        )
    return table[task].to_numpy()[position]
