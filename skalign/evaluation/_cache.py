"""On-disk store of finished evaluation cells, so an interrupted run resumes.

Every cell (a fitted decoder, or the scores of one stitching run) is stored
under a key that hashes everything its result depends on: the embeddings, the
labels, the split, the estimators' parameters and the cell's own coordinates.
Changing any of them changes the key, so a stale result is never reused.

Nothing read back can run code: scores are JSON, fitted decoders are their
fitted attributes (arrays in an ``.npz`` read with ``allow_pickle=False``,
scalars in JSON) set on a fresh clone of the decoder the caller asks for.
Every entry carries the key it was stored under and a SHA-256 checksum of
its content; a damaged, edited, stale or foreign entry is computed again,
with a warning that names the file. Files are written to a temporary name
and renamed, so a run killed mid-write leaves no half file behind.
:func:`run_cached` is the one loop that skips the stored cells, runs the
others in parallel and stores each as it finishes.
"""

import hashlib
import json
import keyword
import math
import warnings
import zipfile
from numbers import Integral, Real
from pathlib import Path

import joblib
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from tqdm.auto import tqdm

from .._files import atomic_write, check_directory

# Bumped when the layout of an entry changes: older entries are recomputed.
FORMAT = "skalign-result-cache-2"
_SUFFIXES = {"cells": ".json", "estimators": ".npz"}
_META = "meta"


class DamagedCellWarning(UserWarning):
    """A stored evaluation cell could not be used and is computed again."""


class _Unusable(Exception):
    """A stored entry that must not be used (the message says why)."""


def fingerprint(*objects):
    """Hash of ``objects`` (arrays, estimators, plain values) for cache keys.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.evaluation._cache import fingerprint
    >>> fingerprint(np.arange(3)) == fingerprint(np.arange(3))
    True
    >>> fingerprint(np.arange(3)) == fingerprint(np.arange(4))
    False
    """
    return joblib.hash(objects)


class ResultCache:
    """Finished cells under ``directory``: JSON scores and decoders as arrays.

    Parameters
    ----------
    directory : str or path-like
        Created on first write; a file there raises ``NotADirectoryError``
        before anything is computed.
    parameter : str, default="cache_dir"
        How the caller names ``directory`` in error messages.
    """

    def __init__(self, directory, *, parameter="cache_dir"):
        check_directory(directory, parameter=parameter)
        self.directory = Path(directory)

    def load(self, kind, key, template=None):
        """Stored result ``key`` of ``kind`` (``"cells"`` or ``"estimators"``), or None.

        Cells are scores (dicts of floats) stored as JSON. Estimators are
        stored as their fitted attributes and restored on a clone of
        ``template`` (the unfitted estimator the caller would fit), which
        must be of the stored class with the stored parameters; other
        results (plain values, arrays) need no template. An entry that is
        damaged (truncated, unreadable, checksum mismatch), stale (another
        format, class or parameters) or foreign (stored under another key)
        warns with its path and counts as absent, so the result is computed
        again and the file rewritten. Nothing is unpickled.
        """
        path = self._path(kind, key)
        if not path.exists():
            return None
        try:
            if kind == "cells":
                return _read_cell(path, key)
            return _read_value(path, key, template)
        except (_Unusable, OSError, ValueError, KeyError, TypeError, EOFError,
                zipfile.BadZipFile) as exc:  # fmt: skip
            warnings.warn(
                f"Recomputing the evaluation result stored in {str(path)!r}: the "
                f"file is damaged, stale or foreign ({type(exc).__name__}: {exc}).",
                DamagedCellWarning,
                stacklevel=2,
            )
            return None

    def save(self, kind, key, value, description=None):
        """Store ``value`` as result ``key`` of ``kind``; return whether it was.

        A cell is stored with its readable ``description`` (its
        coordinates). A value that cannot be stored without pickling (an
        estimator holding another estimator or a function) is not stored:
        it is computed again next time.
        """
        path = self._path(kind, key)
        if kind == "cells":
            payload = _cell_payload(key, description, value)
            self._write(path, lambda h: h.write(payload.encode()))
            return True
        try:
            arrays = _value_arrays(key, value)
        except _Unusable:
            return False
        self._write(path, lambda h: np.savez(h, **arrays))
        return True

    def _path(self, kind, key):
        return self.directory / kind / f"{key}{_SUFFIXES[kind]}"

    @staticmethod
    def _write(path, dump):
        """Call ``dump(handle)`` on a temporary file, then move it to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dump)


# --- cells: JSON with the key and a checksum -----------------------------------------


def _checksum(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _canonical(data):
    return json.dumps(data, sort_keys=True, allow_nan=True)


def _cell_payload(key, description, scores):
    body = {"format": FORMAT, "key": key, "cell": description, "scores": scores}
    return json.dumps({**body, "checksum": _checksum(_canonical(body))}, indent=1)


def _read_cell(path, key):
    stored = json.loads(path.read_text())
    if not isinstance(stored, dict):
        raise _Unusable(f"a {type(stored).__name__}, not a cache entry")
    body = {name: stored.get(name) for name in ("format", "key", "cell", "scores")}
    _check_entry(body["format"], body["key"], key)
    if stored.get("checksum") != _checksum(_canonical(body)):
        raise _Unusable("its checksum does not match its content")
    scores = body["scores"]
    if not isinstance(scores, dict) or not all(
        isinstance(v, Real) and not isinstance(v, bool) for v in scores.values()
    ):
        raise TypeError("'scores' is not a dict of numbers")
    return scores


def _check_entry(stored_format, stored_key, key):
    if stored_format != FORMAT:
        raise _Unusable(f"format {stored_format!r}, not {FORMAT!r}")
    if stored_key != key:
        raise _Unusable(f"it was stored for the key {stored_key!r}, not {key!r}")


# --- estimators and other values: arrays + JSON, no pickle ---------------------------


def _value_arrays(key, value):
    """The ``.npz`` members of ``value``: its arrays and a JSON description."""
    arrays = {}
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        held = [k for k, v in params.items() if not _is_plain(v)]
        if held:
            # a meta-estimator's fitted state lives in the estimators it holds
            raise _Unusable(f"the parameters {held!r} are not plain values")
        state = {k: v for k, v in vars(value).items() if k not in params}
        odd = [k for k in state if not _is_state_name(type(value), k)]
        if odd:
            raise _Unusable(f"the attributes {odd!r} are not plain fitted attributes")
        record = {
            "estimator": _class_name(value),
            "params": _params_text(value),
            "state": {k: _encode(v, f"state.{k}", arrays) for k, v in state.items()},
        }
    else:
        record = {"value": _encode(value, "value", arrays)}
    meta = {"format": FORMAT, "key": key, **record}
    meta["checksum"] = _checksum(_canonical(meta), *_array_digests(arrays))
    return {_META: np.array(json.dumps(meta)), **arrays}


def _read_value(path, key, template):
    stored = np.load(path, allow_pickle=False)
    if not isinstance(stored, np.lib.npyio.NpzFile):
        raise _Unusable("a bare array, not an .npz archive of an entry")
    with stored:
        arrays = {name: stored[name] for name in stored.files}
    if _META not in arrays:
        raise _Unusable("no description of the entry")
    meta = json.loads(str(arrays.pop(_META)[()]))
    if not isinstance(meta, dict):
        raise _Unusable("no description of the entry")
    checksum = meta.pop("checksum", None)
    _check_entry(meta.get("format"), meta.get("key"), key)
    if checksum != _checksum(_canonical(meta), *_array_digests(arrays)):
        raise _Unusable("its checksum does not match its content")
    if "estimator" not in meta:
        return _decode(meta["value"], arrays)
    if template is None or not isinstance(template, BaseEstimator):
        raise _Unusable("a stored estimator, but no unfitted estimator to restore")
    if meta["estimator"] != _class_name(template):
        raise _Unusable(f"a {meta['estimator']}, not a {_class_name(template)}")
    if meta["params"] != _params_text(template):
        raise _Unusable("the estimator's parameters changed")
    estimator = clone(template)
    for name, encoded in meta["state"].items():
        if not _is_state_name(type(estimator), name):
            raise _Unusable(f"{name!r} is not a fitted attribute")
        setattr(estimator, name, _decode(encoded, arrays))
    return estimator


def _is_plain(value):
    """None, a number, a string, or a list / tuple / dict of those."""
    if value is None or isinstance(value, bool | str | Real | np.generic):
        return True
    if isinstance(value, list | tuple):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _is_state_name(cls, name):
    """A plain instance attribute: an identifier, no dunder, nothing of the class."""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("__")
        and not hasattr(cls, name)
    )


def _class_name(estimator):
    cls = type(estimator)
    return f"{cls.__module__}.{cls.__qualname__}"


def _params_text(estimator):
    return _canonical({k: repr(v) for k, v in estimator.get_params(deep=False).items()})


def _array_digests(arrays):
    return [
        _checksum(name, array.dtype.str, array.shape, np.ascontiguousarray(array))
        for name, array in sorted(arrays.items())
    ]


def _encode(value, name, arrays):
    """JSON for ``value``; arrays and NumPy scalars go to ``arrays[name]``."""
    if value is None or isinstance(value, bool | str):
        return {"json": value}
    if isinstance(value, Integral | Real) and not isinstance(value, np.generic):
        if isinstance(value, float) and not math.isfinite(value):
            return {"float": repr(value)}
        return {"json": value}
    if isinstance(value, np.generic | np.ndarray):
        array = np.asarray(value)
        as_object = array.dtype == object
        if as_object:
            if not all(isinstance(item, str) for item in array.ravel()):
                raise _Unusable(f"{name} is an object array of non-strings")
            array = array.astype(str)
        if array.dtype.kind not in "biufcU":
            raise _Unusable(f"{name} has the dtype {array.dtype}")
        arrays[name] = array
        return {
            "array": name,
            "object": as_object,
            "scalar": isinstance(value, np.generic),
        }
    if isinstance(value, tuple | list):
        items = [_encode(item, f"{name}.{i}", arrays) for i, item in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {
            "dict": {k: _encode(v, f"{name}.{k}", arrays) for k, v in value.items()}
        }
    raise _Unusable(f"{name} is a {type(value).__name__}")


def _decode(encoded, arrays):
    if not isinstance(encoded, dict) or len(encoded) == 0:
        raise _Unusable("an unreadable value")
    if "json" in encoded:
        value = encoded["json"]
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise _Unusable("an unreadable value")
        return value
    if "float" in encoded:
        return float(encoded["float"])
    if "array" in encoded:
        array = arrays[encoded["array"]]
        if encoded.get("object"):
            array = array.astype(object)
        return array[()] if encoded.get("scalar") else array
    if "tuple" in encoded:
        return tuple(_decode(item, arrays) for item in encoded["tuple"])
    if "list" in encoded:
        return [_decode(item, arrays) for item in encoded["list"]]
    if "dict" in encoded:
        return {k: _decode(v, arrays) for k, v in encoded["dict"].items()}
    raise _Unusable("an unreadable value")


def run_cached(cells, job, *, cache, kind, keys, n_jobs, desc, show_progress):
    """Results of every cell: stored ones loaded, the others run in parallel.

    Parameters
    ----------
    cells : list of hashable
        The cells, in any order.
    job : callable
        ``job(cell)`` returns the :func:`joblib.delayed` call computing the
        cell's result (built in the caller's process, run by a worker).
    cache : ResultCache or None
        Where results are loaded from and stored as soon as they arrive, so
        an interrupted run keeps every finished cell. None: nothing is stored.
    kind : {"cells", "estimators"}
        What the results are (see :meth:`ResultCache.load`); a cell's
        coordinates describe its stored scores. For ``"estimators"`` whose
        results are fitted estimators, ``job(cell)`` is the delayed fit of
        the unfitted estimator passed as its first argument: a stored result
        is restored on a clone of it.
    keys : mapping
        Cell -> cache key.
    n_jobs : int or None
        Passed to :class:`joblib.Parallel` (whose backend may be Dask).
    desc : str
        Label of the progress bar.
    show_progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    results : dict
        Cell -> result.
    cached : set
        The cells whose result was loaded rather than computed.

    Examples
    --------
    >>> import tempfile
    >>> from joblib import delayed
    >>> from skalign.evaluation._cache import ResultCache, run_cached
    >>> cache = ResultCache(tempfile.mkdtemp())
    >>> options = dict(cache=cache, kind="estimators", keys={2: "two", 3: "three"},
    ...                n_jobs=None, desc="squares", show_progress=False)
    >>> run_cached([2], lambda cell: delayed(pow)(cell, 2), **options)
    ({2: 4}, set())
    >>> results, cached = run_cached([2, 3], lambda cell: delayed(pow)(cell, 2),
    ...                              **options)
    >>> dict(sorted(results.items())), cached
    ({2: 4, 3: 9}, {2})
    """
    results = {}
    if cache is not None:
        for cell in cells:
            template = _unfitted(job(cell)) if kind == "estimators" else None
            stored = cache.load(kind, keys[cell], template)
            if stored is not None:
                results[cell] = stored
    cached = set(results)

    def jobs():
        for cell in cells:
            if cell not in cached:
                function, args, kwargs = job(cell)
                yield delayed(_keyed)(cell, function, *args, **kwargs)

    with tqdm(
        total=len(cells), initial=len(cached), desc=desc, disable=not show_progress
    ) as bar:
        for cell, result in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            jobs()
        ):
            results[cell] = result
            if cache is not None:
                cache.save(kind, keys[cell], result, description=cell)
            bar.update()
    return results, cached


def _unfitted(call):
    """The unfitted estimator a delayed fit receives first, if any."""
    _, args, _ = call
    return args[0] if args and isinstance(args[0], BaseEstimator) else None


def _keyed(cell, function, *args, **kwargs):
    return cell, function(*args, **kwargs)
