"""On-disk store of finished evaluation cells, so an interrupted run resumes.

Every cell (a fitted decoder, or the scores of one stitching run) is stored
under a key that hashes everything its result depends on: the embeddings, the
labels, the split, the estimators' parameters and the cell's own coordinates.
Changing any of them changes the key, so a stale result is never reused.
Files are written to a temporary name and renamed, so a run killed mid-write
leaves no half file behind. :func:`run_cached` is the one loop that skips the
stored cells, runs the others in parallel and stores each as it finishes.
"""

import json
import pickle
import warnings
from pathlib import Path

import joblib
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._files import atomic_write, check_directory


class DamagedCellWarning(UserWarning):
    """A stored evaluation cell could not be read and is computed again."""


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
    """Finished cells under ``directory``: JSON scores and joblib-pickled decoders.

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

    def load(self, kind, key):
        """Stored result ``key`` of ``kind`` (``"cells"`` or ``"estimators"``), or None.

        Cells are scores (dicts of floats) stored as JSON; estimators are
        fitted estimators stored with joblib. A damaged file (truncated,
        unreadable) warns with its path and counts as absent, so the cell is
        computed again and the file rewritten.
        """
        path = self._path(kind, key)
        if not path.exists():
            return None
        try:
            if kind == "cells":
                return _scores(json.loads(path.read_text()))
            return joblib.load(path)
        except (OSError, ValueError, KeyError, TypeError, EOFError,
                pickle.UnpicklingError) as exc:  # fmt: skip
            warnings.warn(
                f"Recomputing the evaluation cell stored in {str(path)!r}: the "
                f"file is damaged ({type(exc).__name__}: {exc}).",
                DamagedCellWarning,
                stacklevel=2,
            )
            return None

    def save(self, kind, key, value, description=None):
        """Store ``value`` as result ``key`` of ``kind``.

        A cell is stored with its readable ``description`` (its coordinates).
        """
        if kind == "cells":
            payload = json.dumps({"cell": description, "scores": value}, indent=1)
            self._write(self._path(kind, key), lambda h: h.write(payload.encode()))
        else:
            self._write(self._path(kind, key), lambda h: joblib.dump(value, h))

    def _path(self, kind, key):
        suffix = ".json" if kind == "cells" else ".joblib"
        return self.directory / kind / f"{key}{suffix}"

    @staticmethod
    def _write(path, dump):
        """Call ``dump(handle)`` on a temporary file, then move it to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dump)


def _scores(stored):
    scores = stored["scores"]
    if not isinstance(scores, dict):
        raise TypeError(f"'scores' is a {type(scores).__name__}, not a dict")
    return scores


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
        coordinates describe its stored scores.
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
            stored = cache.load(kind, keys[cell])
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


def _keyed(cell, function, *args, **kwargs):
    return cell, function(*args, **kwargs)
