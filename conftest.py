"""Test-session settings shared by every test directory.

Under pytest-xdist each worker is one process per core already: BLAS and torch
threads on top of that oversubscribe the machine (on 2 cores a 1280 x 384 SVD
went from 0.07 s to several seconds), so each worker gets one thread unless
the caller set a thread count.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    import numpy  # noqa: F401  (load the BLAS now, so the limit reaches it)
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(os.environ["OMP_NUM_THREADS"]))
    try:
        import torch
    except ImportError:
        pass
    else:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
