"""Helpers shared by the benchmark scripts."""

import statistics
import time

import numpy as np


def embeddings(n_samples, d1, d2, seed=0, noise=0.5):
    """Two encoders' views of shared content, standardised.

    A 256-d latent with a decaying spectrum is mixed into each space, and each
    encoder adds its own noise (``noise`` times the signal's per-feature
    standard deviation), so neither space is an exact map of the other.
    """
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, 256)) * np.linspace(3, 0.1, 256)

    def view(width):
        signal = _standardize(latent @ rng.normal(size=(256, width)))
        return _standardize(signal + noise * rng.normal(size=(n_samples, width)))

    return view(d1), view(d2)


def _standardize(A):
    return (A - A.mean(0)) / A.std(0)


def median_time(function, *args, repeats):
    """Median wall time of ``repeats`` calls (a fast first call is a warm-up)."""
    first = _elapsed(function, args)
    times = [] if first < 1.0 else [first]
    while len(times) < repeats:
        times.append(_elapsed(function, args))
    return statistics.median(times)


def _elapsed(function, args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start
