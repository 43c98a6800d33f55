"""Batches whose items are prepared (decoded, preprocessed) ahead of the model.

Image decoding and resizing release the GIL (Pillow, libjpeg, torchvision), so
a few worker threads keep the next batches ready while the model runs on the
current one, without the start-up and pickling costs of worker processes. At
most ``prefetch`` batches are prepared ahead, which bounds memory.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor


def iter_batches(indices, prepare, *, batch_size, n_workers, prefetch=2):
    """Yield ``(batch_indices, prepared_items)`` in order.

    Parameters
    ----------
    indices : sequence of int
        Items to prepare, in the order batches are wanted.
    prepare : callable
        ``prepare(index)`` returns the prepared item.
    batch_size : int
    n_workers : int
        Worker threads; 0 prepares in the calling thread.
    prefetch : int, default=2
        Batches prepared ahead of the one being consumed.

    Examples
    --------
    >>> from skalign.extract._batching import iter_batches
    >>> batches = iter_batches([3, 1, 2], lambda i: 10 * i, batch_size=2, n_workers=2)
    >>> list(batches)
    [([3, 1], [30, 10]), ([2], [20])]
    """
    batches = [
        list(indices[s : s + batch_size]) for s in range(0, len(indices), batch_size)
    ]
    if n_workers == 0:
        for batch in batches:
            yield batch, [prepare(i) for i in batch]
        return
    pool = ThreadPoolExecutor(
        max_workers=n_workers, thread_name_prefix="skalign-decode"
    )
    try:
        pending = deque()
        upcoming = iter(batches)
        for batch in upcoming:
            pending.append((batch, [pool.submit(prepare, i) for i in batch]))
            if len(pending) > prefetch:
                break
        while pending:
            batch, futures = pending.popleft()
            prepared = [future.result() for future in futures]
            following = next(upcoming, None)
            if following is not None:
                pending.append(
                    (following, [pool.submit(prepare, i) for i in following])
                )
            yield batch, prepared
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
