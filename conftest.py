"""Test-session settings shared by every test directory.

Under pytest-xdist each worker is one process per core already: BLAS and torch
threads on top of that oversubscribe the machine (on 2 cores a 1280 x 384 SVD
went from 0.07 s to several seconds), so each worker gets one thread.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.set_num_threads(1)
