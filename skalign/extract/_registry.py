"""Load each model once per process and share it between extractors.

``clone`` (GridSearchCV, cross_validate, ``LatentAligner(target_encoder=...)``)
makes fresh extractors with the same parameters; they all find the model here
instead of reloading it. The registry keeps the most recently used
``MAX_LOADED_MODELS`` models; :func:`clear_model_cache` drops them all.
"""

import json
import threading
from collections import OrderedDict

from ._cache import clear_memory
from ._memo import clear_memo

MAX_LOADED_MODELS = 4

_LOADED = OrderedDict()
_LOCK = threading.Lock()


def get_encoder(spec, runtime, *, output=None, trust_remote_code=False, options=None):
    """Return the loaded encoder for ``spec`` on ``runtime``, loading it once.

    Backends whose models are not shared (a user's module) load a fresh
    encoder on every call; the caller keeps it. ``options``: the backend's
    load settings (a dict of JSON-like values), part of the sharing key.
    """
    options = options or {}
    if not spec.table.shared:
        return _load(
            spec, runtime, output=output, trust_remote_code=trust_remote_code, **options
        )
    frozen = json.dumps(options, sort_keys=True, default=repr)
    key = (spec, runtime, output, trust_remote_code, frozen)
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        encoder = _load(
            spec, runtime, output=output, trust_remote_code=trust_remote_code, **options
        )
        _LOADED[key] = encoder
        while len(_LOADED) > MAX_LOADED_MODELS:
            _LOADED.popitem(last=False)
        return encoder


def clear_model_cache():
    """Forget every model loaded by :class:`~skalign.extract.EmbeddingExtractor`.

    Extractors load a model on first use and share it, process-wide, with
    every extractor that names the same model, device and precision (so the
    clones made by a grid search do not reload it). The four most recently
    used models stay in memory; call this to free them (and GPU memory) now.
    Extractors that used a model keep their own reference until they are
    deleted or their parameters change. The in-process embedding memo and the
    in-memory copy of the on-disk embedding cache (``cache_dir``) are dropped
    too; the files stay.

    Returns
    -------
    n_models : int
        How many models were dropped.

    Examples
    --------
    >>> from skalign.extract import clear_model_cache
    >>> clear_model_cache() >= 0
    True
    """
    with _LOCK:
        n_models = len(_LOADED)
        _LOADED.clear()
    clear_memory()
    clear_memo()
    return n_models


def _load(spec, runtime, *, output, trust_remote_code, **options):
    """The one place a model is loaded (tests count its calls)."""
    return spec.table.load(
        spec.source,
        runtime,
        output=output,
        trust_remote_code=trust_remote_code,
        **options,
    )
