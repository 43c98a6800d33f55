"""On-disk store of finished evaluation cells, so an interrupted run resumes.

Every cell (a fitted decoder, or the scores of one stitching run) is stored
under a key that hashes everything its result depends on: the embeddings, the
labels, the split, the estimators' parameters and the cell's own coordinates.
Changing any of them changes the key, so a stale result is never reused.
Files are written to a temporary name and renamed, so a run killed mid-write
leaves no half file behind.
"""

import json
from pathlib import Path

import joblib

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
