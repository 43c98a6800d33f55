"""Stitching at one anchor count: a report for one pair, a table over encoder groups.

The table is the paper's Table 1: encoders are grouped (general, medical,
…), every ordered pair of distinct encoders is stitched, and the scores are
averaged per (source group, target group), next to the source's own score
(its decoder on its own embeddings) and the target's (the upper bound).
"""

from collections.abc import Mapping
from numbers import Integral

from .._sklearn_compat import Interval, StrOptions, validate_params
from ._curves import PAIR_POOL_CONSTRAINT, pair_pools
from ._pooled import pooled_stitching_table
from ._protocol import (
    NAIVE,
    PROTOCOL_CONSTRAINTS,
    SOURCE_UPPER_BOUND,
    TARGET_UPPER_BOUND,
    Protocol,
)
from ._scoring import METRICS
from ._stitching import ProtocolRun, anchor_counts, summarize_runs


@validate_params(
    {
        "source": ["array-like"],
        "target": ["array-like"],
        "n_anchors": [None, Interval(Integral, 2, None, closed="left")],
        "unpaired": PAIR_POOL_CONSTRAINT,
        **PROTOCOL_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def stitching_report(
    source,
    target,
    y,
    *,
    n_anchors=None,
    unpaired=None,
    transforms=Protocol.transforms,
    n_repeats=Protocol.n_repeats,
    decoder=Protocol.decoder,
    aligner=Protocol.aligner,
    split=Protocol.split,
    anchor_size=Protocol.anchor_size,
    test_size=Protocol.test_size,
    anchors_from=Protocol.anchors_from,
    n_test_per_class=Protocol.n_test_per_class,
    random_state=Protocol.random_state,
    n_jobs=Protocol.n_jobs,
    cache_dir=Protocol.cache_dir,
    show_progress=Protocol.show_progress,
):
    """Stitch one source encoder into one target decoder, at one anchor count.

    Runs the protocol of :func:`anchor_curve` at a single anchor count and
    adds the source upper bound: a decoder trained and tested on the source
    encoder itself, i.e. what the source achieves without stitching.

    Parameters
    ----------
    source : array-like of shape (n_samples, n_source_features)
        Every sample embedded by the source encoder.
    target : array-like of shape (n_samples, n_target_features)
        The same samples, in the same order, embedded by the target encoder.
    y : array-like of shape (n_samples,)
        Class labels.
    n_anchors : int or None, default=None
        Anchors per draw; None uses the whole anchor pool (every repeat then
        draws the same anchors).
    unpaired : tuple (source_pool, target_pool) or None, default=None
        The unpaired pool of the self-learning transforms (e.g. the preset
        ``"self-learning"``), fitted on the anchors plus the pool; the other
        methods never see it. As in :func:`anchor_curve`.
    transforms, n_repeats, decoder, aligner, split, anchor_size, test_size, \
anchors_from, n_test_per_class, random_state, n_jobs, cache_dir, show_progress
        As in :func:`anchor_curve`.

    Returns
    -------
    report : pandas.DataFrame
        Indexed by ``method``: ``"source_upper_bound"``, ``"naive"``, the
        ``transforms`` and ``"target_upper_bound"``. For each metric
        (``roc_auc``, ``accuracy``, ``f1_macro``) a column with the mean over
        repeats and a ``<metric>_std`` column (``ddof=0``).

    See Also
    --------
    anchor_curve : The same protocol over several anchor counts.
    stitching_table : Every pair of a set of encoders, grouped.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation import stitching_report
    >>> X, y = load_digits(n_class=2, return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> Y = X @ rng.normal(size=(64, 32))
    >>> report = stitching_report(X, Y, y, transforms=["affine", "ortho"],
    ...                           decoder=LogisticRegression(max_iter=5000))
    >>> report.index.tolist()
    ['source_upper_bound', 'naive', 'affine', 'ortho', 'target_upper_bound']
    >>> bool(report.loc["affine", "roc_auc"] > report.loc["naive", "roc_auc"])
    True
    """
    protocol = ProtocolRun.of(
        Protocol(
            transforms=transforms,
            n_repeats=n_repeats,
            decoder=decoder,
            aligner=aligner,
            split=split,
            anchor_size=anchor_size,
            test_size=test_size,
            anchors_from=anchors_from,
            n_test_per_class=n_test_per_class,
            random_state=random_state,
            n_jobs=n_jobs,
            cache_dir=cache_dir,
            show_progress=show_progress,
        )
    )
    embeddings, y, split, pools = protocol.prepare(
        {"source": source, "target": target},
        y,
        pair_pools(unpaired, "stitching_report"),
    )
    runs = protocol.run(
        embeddings,
        y,
        split,
        [("source", "target")],
        n_anchors=_single_count(n_anchors, split.anchor_pool.size),
        upper_bounds=["source", "target"],
        pools=pools,
    )
    transforms = protocol.transforms
    runs = _name_upper_bounds(runs)
    summary = summarize_runs(runs, ["transform"], transforms)
    report = summary.pivot(index="transform", columns="metric", values=["mean", "std"])
    report.columns = [
        metric if stat == "mean" else f"{metric}_std" for stat, metric in report.columns
    ]
    methods = [SOURCE_UPPER_BOUND, NAIVE, *transforms, TARGET_UPPER_BOUND]
    columns = [c for m in METRICS for c in (m, f"{m}_std")]
    return report.loc[methods, columns].rename_axis("method").rename_axis(columns=None)


@validate_params(
    {
        "embeddings": [Mapping],
        "groups": [None, Mapping],
        "n_anchors": [None, Interval(Integral, 2, None, closed="left")],
        "unpaired": "no_validation",  # checked by check_pools
        "metric": [StrOptions(set(METRICS))],
        "change_transform": [str],
        "return_pairs": ["boolean"],
        **PROTOCOL_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def stitching_table(
    embeddings,
    y,
    *,
    groups=None,
    n_anchors=None,
    unpaired=None,
    transforms=Protocol.transforms,
    metric="roc_auc",
    change_transform="ortho",
    n_repeats=Protocol.n_repeats,
    decoder=Protocol.decoder,
    aligner=Protocol.aligner,
    split=Protocol.split,
    anchor_size=Protocol.anchor_size,
    test_size=Protocol.test_size,
    anchors_from=Protocol.anchors_from,
    n_test_per_class=Protocol.n_test_per_class,
    random_state=Protocol.random_state,
    n_jobs=Protocol.n_jobs,
    cache_dir=Protocol.cache_dir,
    show_progress=Protocol.show_progress,
    return_pairs=False,
):
    """Stitch every pair of encoders and average by group (the paper's Table 1).

    Every ordered pair of distinct encoders (source, target) is evaluated as
    in :func:`stitching_report`, sharing one split, one balanced test subset
    and one decoder per encoder. Pairs are then averaged per (source group,
    target group), e.g. general → medical.

    Parameters
    ----------
    embeddings : mapping of str to array-like of shape (n_samples, n_features)
        Encoder name → embeddings of the same samples, in the same order.
        Widths may differ.
    y : array-like of shape (n_samples,)
        Class labels.
    groups : mapping of str to str or None, default=None
        Encoder name → group name (``{"dinov2": "general", "rad-dino":
        "medical"}``). None puts each encoder in its own group.
    n_anchors : int or None, default=None
        Anchors per draw; None uses the whole anchor pool.
    unpaired : mapping of str to array-like or None, default=None
        Encoder name → its unpaired embeddings, of shape (n_pool, n_features),
        for every encoder: the pool of the self-learning transforms, each
        pair (source, target) fitted on its anchors plus the source's and the
        target's pools; the other methods never see them. The checks of
        :func:`anchor_curve`'s ``unpaired`` apply to each encoder.
    transforms : list of str or dict, or mapping, default=("affine", "linear", \
"l-ortho", "ortho")
        Transforms to compare: names, presets or specifications (see
        :func:`anchor_curve`).
    metric : {"roc_auc", "accuracy", "f1_macro"}, default="roc_auc"
        The metric shown in the table (the pairs table has all three).
    change_transform : str, default="ortho"
        The transform whose ``change_pct`` is reported, fixed a priori (see
        :func:`pooled_stitching_table`).
    n_repeats, decoder, aligner, split, anchor_size, test_size, anchors_from, \
n_test_per_class, random_state, n_jobs, cache_dir, show_progress
        As in :func:`anchor_curve`.
    return_pairs : bool, default=False
        Also return the long per-pair summary.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (``source_group``, ``target_group``): for
        ``source_upper_bound``, ``naive``, each transform and
        ``target_upper_bound`` the mean of ``metric`` over pairs and repeats
        and its ``<method>_std`` (``ddof=0``); ``change_pct``, the score of
        ``change_transform`` relative to the source upper bound in percent; and
        ``n_pairs``. :func:`pooled_stitching_table` with one task.
    pairs : pandas.DataFrame
        Only when ``return_pairs=True``: columns ``source``, ``target``,
        ``source_group``, ``target_group``, ``transform``, ``metric``,
        ``mean``, ``std`` and ``n_runs`` for every pair.

    See Also
    --------
    pooled_stitching_table : The same table pooled over several tasks.
    plot_stitching_table : Bar chart of the table.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation import stitching_table
    >>> X, y = load_digits(n_class=2, return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> embeddings = {"a": X, "b": X @ rng.normal(size=(64, 16)),
    ...               "c": np.tanh(X @ rng.normal(size=(64, 24)) / 20)}
    >>> table = stitching_table(embeddings, y, groups={"a": "raw", "b": "proj",
    ...                         "c": "proj"}, transforms=["ortho"], n_repeats=1,
    ...                         decoder=LogisticRegression(max_iter=5000))
    >>> table.index.tolist()
    [('proj', 'proj'), ('proj', 'raw'), ('raw', 'proj')]
    >>> table["n_pairs"].tolist()
    [2, 2, 2]
    """
    if not isinstance(embeddings, Mapping) or len(embeddings) < 2:
        raise ValueError(
            f"stitching_table needs at least two encoders, got {len(embeddings)} "
            f"({list(embeddings)!r}). For one pair use stitching_report."
        )
    if unpaired is not None and not isinstance(unpaired, Mapping):
        raise TypeError(
            f"stitching_table's unpaired must map each encoder name to its "
            f"unpaired embeddings, got a {type(unpaired).__name__}; give a dict, "
            f"e.g. {{{', '.join(f'{n!r}: pool' for n in embeddings)}}} (a "
            "(source_pool, target_pool) pair is stitching_report's form)."
        )
    table, pairs = pooled_stitching_table(
        {"task": (embeddings, y, split)},
        _check_groups(groups, embeddings),
        n_anchors=n_anchors,
        unpaired=None if unpaired is None else {"task": unpaired},
        transforms=transforms,
        metric=metric,
        change_transform=change_transform,
        n_repeats=n_repeats,
        decoder=decoder,
        aligner=aligner,
        anchor_size=anchor_size,
        test_size=test_size,
        anchors_from=anchors_from,
        n_test_per_class=n_test_per_class,
        random_state=random_state,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        show_progress=show_progress,
        return_pairs=True,
    )
    table = table.drop(columns="n_tasks").rename_axis(["source_group", "target_group"])
    if not return_pairs:
        return table
    pairs = pairs.drop(columns="task").rename(
        columns={"source_domain": "source_group", "target_domain": "target_group"}
    )
    return table, pairs


def _single_count(n_anchors, pool_size):
    return anchor_counts(pool_size if n_anchors is None else n_anchors, pool_size)


def _name_upper_bounds(runs):
    """Label the source's own decoder run as the source upper bound."""
    runs = runs.copy()
    is_source = (runs["transform"] == TARGET_UPPER_BOUND) & (runs["source"] == "source")
    runs.loc[is_source, "transform"] = SOURCE_UPPER_BOUND
    return runs


def _check_groups(groups, embeddings):
    if groups is None:
        return {str(name): str(name) for name in embeddings}
    groups = {str(name): str(group) for name, group in groups.items()}
    missing = [str(name) for name in embeddings if str(name) not in groups]
    if missing:
        raise ValueError(
            f"groups= gives no group for {missing!r}. Map every encoder name "
            f"({list(embeddings)!r}) to a group, e.g. 'general' or 'medical'."
        )
    return groups
