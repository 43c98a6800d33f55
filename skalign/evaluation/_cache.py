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
from pathlib import Path

import joblib
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._files import atomic_write


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
        Created on first write.
    """

    def __init__(self, directory):
        self.directory = Path(directory)

    def load_scores(self, key):
        """Stored scores of cell ``key``, or None."""
        path = self._path("cells", key, ".json")
        if not path.exists():
            return None
        return json.loads(path.read_text())["scores"]

    def save_scores(self, key, scores, description):
        """Store ``scores`` (a dict of floats), with a readable ``description``."""
        payload = json.dumps({"cell": description, "scores": scores}, indent=1)
        self._write(
            self._path("cells", key, ".json"),
            lambda handle: handle.write(payload.encode()),
        )

    def load_estimator(self, key):
        """Stored fitted estimator ``key``, or None."""
        path = self._path("estimators", key, ".joblib")
        return joblib.load(path) if path.exists() else None

    def save_estimator(self, key, estimator):
        """Store a fitted estimator."""
        self._write(
            self._path("estimators", key, ".joblib"),
            lambda handle: joblib.dump(estimator, handle),
        )

    def _path(self, kind, key, suffix):
        return self.directory / kind / f"{key}{suffix}"

    @staticmethod
    def _write(path, dump):
        """Call ``dump(handle)`` on a temporary file, then move it to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, dump)


def run_cached(cells, job, *, load, save, n_jobs, desc, show_progress):
    """Results of every cell: stored ones loaded, the others run in parallel.

    Parameters
    ----------
    cells : list of hashable
        The cells, in any order.
    job : callable
        ``job(cell)`` returns the :func:`joblib.delayed` call computing the
        cell's result (built in the caller's process, run by a worker).
    load, save : callable or None
        ``load(cell)`` returns the stored result or None; ``save(cell,
        result)`` stores it as soon as it arrives, so an interrupted run keeps
        every finished cell. None for both: nothing is stored.
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
    >>> from joblib import delayed
    >>> from skalign.evaluation._cache import run_cached
    >>> results, cached = run_cached(
    ...     [2, 3], lambda cell: delayed(pow)(cell, 2), load=None, save=None,
    ...     n_jobs=None, desc="squares", show_progress=False)
    >>> dict(sorted(results.items())), cached
    ({2: 4, 3: 9}, set())
    """
    results = {}
    if load is not None:
        for cell in cells:
            stored = load(cell)
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
            if save is not None:
                save(cell, result)
            bar.update()
    return results, cached


def _keyed(cell, function, *args, **kwargs):
    return cell, function(*args, **kwargs)
