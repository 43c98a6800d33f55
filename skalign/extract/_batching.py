"""Batches whose items are prepared (decoded, preprocessed, stacked) ahead of the model.

Image decoding and resizing release the GIL (Pillow, libjpeg, torchvision), so
a few worker threads keep the next batches ready while the model runs on the
current one, without the start-up and pickling costs of worker processes. The
batch is assembled (stacked, pinned for CUDA) in a worker too. At most
``prefetch`` batches are prepared ahead, which bounds memory.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice


def iter_batches(indices, prepare, *, batch_size, n_workers, collate=list, prefetch=2):
    """Yield ``(batch_indices, collate(prepared_items))`` in order.

    Parameters
    ----------
    indices : sequence of int
        Items to prepare, in the order batches are wanted.
    prepare : callable
        ``prepare(index)`` returns the prepared item.
    batch_size : int
    n_workers : int
        Worker threads; 0 prepares in the calling thread.
    collate : callable, default=list
        Assembles a batch from its prepared items.
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
            yield batch, collate([prepare(i) for i in batch])
        return
    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="skalign")

    def submit(batch):
        # FIFO: the collate task starts after every item task it waits on has
        # started, so waiting inside the pool cannot deadlock.
        futures = [pool.submit(prepare, i) for i in batch]
        return batch, pool.submit(lambda: collate([f.result() for f in futures]))

    try:
        upcoming = iter(batches)
        pending = deque(submit(batch) for batch in islice(upcoming, prefetch + 1))
        while pending:
            batch, collated = pending.popleft()
            following = next(upcoming, None)
            if following is not None:
                pending.append(submit(following))
            yield batch, collated.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
