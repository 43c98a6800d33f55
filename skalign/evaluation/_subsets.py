"""Balanced test subsets and the paper's train / anchor / test split."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn.under_sampling import RandomUnderSampler
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .._sklearn_compat import Interval, validate_params

SPLIT_NAMES = ("train", "anchor", "test")


@validate_params(
    {
        "y": ["array-like"],
        "n_per_class": [None, Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def balanced_subset(y, n_per_class=None, *, random_state=None):
    """Indices of a class-balanced random subset: ``n_per_class`` rows per class.

    The paper scores every model on balanced test subsets (a binary task, or
    ``N × 200`` rows for an ``N``-class task) so that AUROC, accuracy and
    macro-F1 are comparable across tasks. Rows are drawn without replacement
    by imbalanced-learn's :class:`~imblearn.under_sampling.RandomUnderSampler`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    n_per_class : int >= 1 or None, default=None
        Rows kept per class. None keeps as many as the smallest class has.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    indices : ndarray of shape (n_classes * n_per_class,)
        Sorted positions into ``y``; index every array paired with ``y``
        (the embeddings of each encoder) with them.

    Examples
    --------
    >>> from skalign.evaluation import balanced_subset
    >>> y = ["a"] * 6 + ["b"] * 3
    >>> indices = balanced_subset(y, 2, random_state=0)
    >>> sorted(y[i] for i in indices)
    ['a', 'a', 'b', 'b']
    """
    y = _check_labels(y)
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"y holds a single class ({classes.tolist()!r}); a balanced subset "
            "needs at least two. Pass the labels of a classification task."
        )
    if n_per_class is None:
        n_per_class = int(counts.min())
    short = counts < n_per_class
    if short.any():
        raise ValueError(
            f"n_per_class={n_per_class} rows are requested per class but class "
            f"{classes[short].tolist()[0]!r} has only {counts[short][0]}. Lower "
            f"n_per_class to at most {counts.min()} (or None for the smallest class "
            "size), or add samples of that class."
        )
    sampler = RandomUnderSampler(
        sampling_strategy={label: n_per_class for label in classes.tolist()},
        random_state=random_state,
    )
    sampler.fit_resample(np.zeros((y.shape[0], 1)), y)
    return np.sort(sampler.sample_indices_)


@validate_params(
    {
        "y": ["array-like"],
        "anchor_size": [
            Interval(Real, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "test_size": [
            Interval(Real, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def protocol_split(y, *, anchor_size=0.25, test_size=0.25, random_state=None):
    """Assign each sample to ``"train"`` (the decoder), ``"anchor"`` or ``"test"``.

    The three parts are disjoint and stratified by ``y``, as the paper's
    protocol requires: the decoder is trained on ``"train"`` (in the target
    encoder's space), anchors are drawn from ``"anchor"`` to estimate the
    alignment, and stitching is scored on ``"test"``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    anchor_size : float in (0, 1) or int >= 1, default=0.25
        Size of the anchor pool, as a fraction of all samples or a count. It
        bounds the largest anchor count that can be evaluated.
    test_size : float in (0, 1) or int >= 1, default=0.25
        Size of the test part, as a fraction of all samples or a count.
    random_state : int, RandomState instance or None, default=None
        Seeds the split.

    Returns
    -------
    split : ndarray of str of shape (n_samples,)
        ``"train"``, ``"anchor"`` or ``"test"`` for each sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.evaluation import protocol_split
    >>> split = protocol_split(np.repeat([0, 1], 10), random_state=0)
    >>> {name: int((split == name).sum()) for name in ("train", "anchor", "test")}
    {'train': 10, 'anchor': 5, 'test': 5}
    """
    y = _check_labels(y)
    if isinstance(random_state, Integral) and random_state > 2**32 - 1:
        raise ValueError(
            f"random_state={random_state} is above 4294967295 (2**32 - 1), the "
            "largest seed NumPy takes; pass a smaller seed."
        )
    positions = np.arange(y.shape[0])
    n_anchor, n_test = (
        _as_count(size, y.shape[0], name)
        for size, name in ((anchor_size, "anchor_size"), (test_size, "test_size"))
    )
    if n_anchor + n_test >= y.shape[0]:
        raise ValueError(
            f"anchor_size={anchor_size} and test_size={test_size} take {n_anchor} "
            f"+ {n_test} of the {y.shape[0]} samples, leaving none to train the "
            "decoder. Lower them so that their sum stays below the number of "
            "samples."
        )
    n_classes = np.unique(y).size
    for count, size, name in ((n_anchor, anchor_size, "anchor_size"),
                              (n_test, test_size, "test_size")):  # fmt: skip
        if count < n_classes:
            raise ValueError(
                f"{name}={size} gives {count} row(s), fewer than the {n_classes} "
                "classes of y: a stratified split needs one row per class at least. "
                f"Raise {name}= to {n_classes} rows or more."
            )
    rest, test = train_test_split(
        positions, test_size=n_test, stratify=y, random_state=random_state
    )
    train, anchor = train_test_split(
        rest, test_size=n_anchor, stratify=y[rest], random_state=random_state
    )
    split = np.empty(y.shape[0], dtype=object)
    split[train], split[anchor], split[test] = SPLIT_NAMES
    return split.astype(str)


def _as_count(size, n_samples, name):
    count = (
        int(np.ceil(size * n_samples)) if isinstance(size, Real) and size < 1 else size
    )
    if isinstance(size, Integral) and size >= n_samples:
        raise ValueError(
            f"{name}={size} is not smaller than the number of samples "
            f"({n_samples}). Pass a count below {n_samples} or a fraction in (0, 1)."
        )
    return int(count)


def _is_missing(value):
    """None, NaN, or pandas' missing markers (pd.NA of a nullable column, NaT)."""
    if value is None or (isinstance(value, Real) and value != value):
        return True
    return value is pd.NA or value is pd.NaT


def _check_labels(y):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"y must be a 1-D array of class labels, got shape {y.shape}. Pass "
            "one label per sample (one task at a time)."
        )
    if y.dtype == object or y.dtype.kind == "f":
        missing = [i for i, value in enumerate(y) if _is_missing(value)]
        if missing:
            raise ValueError(
                f"y has {len(missing)} missing (None or NaN) label(s), first at row "
                f"{missing[0]}; drop those rows first (e.g. pair_files(..., "
                "labelled_only=True))."
            )
        kinds = {"string" if isinstance(v, str) else "number" for v in y.ravel()}
        if len(kinds) > 1:
            raise ValueError(
                "y mixes string and number labels (e.g. 0 and '0', which would "
                "count as different classes); give every label one type, e.g. "
                "y.astype(str)."
            )
    if y.size == 0:
        raise ValueError("y is empty; pass one class label per sample.")
    if type_of_target(y) == "continuous":
        raise ValueError(
            f"y holds continuous values (e.g. {y.ravel()[0]!r}), not class labels; "
            "pass the labels of a classification task (e.g. a label column)."
        )
    check_classification_targets(y)
    return y
