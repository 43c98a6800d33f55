"""The protocol pooled over encoders and tasks: the paper's Fig. 3 and Table 1.

The paper does not report one encoder pair: Fig. 3 shows, per modality, the
mean and standard deviation across *all* encoder → decoder combinations and
runs; Table 1 groups the pairs by domain (general → general, general →
medical, …) and pools them over its tasks. Here every task runs the
protocol of :mod:`._stitching` on every ordered pair of its encoders, and
the single runs (one score per pair, task, transform, anchor count and
repeat) are pooled by group, so the standard deviation covers pairs, tasks
and anchor draws together.
"""

import dataclasses
import itertools
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from .._sklearn_compat import Interval, StrOptions, validate_params
from .._solvers import TRANSFORM_TYPES
from ._cache import ResultCache
from ._scoring import METRICS
from ._stitching import (
    NAIVE,
    PROTOCOL_CONSTRAINTS,
    SOURCE_UPPER_BOUND,
    TARGET_UPPER_BOUND,
    Protocol,
    ProtocolRun,
    anchor_counts,
    summarize_runs,
)

# ``split`` comes with each task; the other protocol settings are shared.
_POOLED_CONSTRAINTS = {
    key: value
    for key, value in PROTOCOL_CONSTRAINTS.items()
    if key not in ("y", "split")
}
# Task name -> encoder name -> its unpaired embeddings.
_POOLS = [None, Mapping]


@validate_params(
    {
        "tasks": [Mapping],
        "modalities": [None, Mapping],
        "n_anchors": [None, Interval(Integral, 2, None, closed="left"), "array-like"],
        "unpaired": _POOLS,
        "return_runs": ["boolean"],
        **_POOLED_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def pooled_anchor_curve(
    tasks,
    *,
    modalities=None,
    n_anchors=None,
    unpaired=None,
    transforms=TRANSFORM_TYPES,
    n_repeats=3,
    decoder=None,
    aligner=None,
    anchor_size=0.25,
    test_size=0.25,
    anchors_from="pool",
    n_test_per_class=None,
    random_state=0,
    n_jobs=None,
    cache_dir=None,
    show_progress=False,
    return_runs=False,
):
    """Anchor curves pooled over every encoder pair and task, per modality (Fig. 3).

    Each task is stitched as in :func:`anchor_curve` for every ordered pair
    of its encoders (source → target decoder). The score of each transform at
    each anchor count is then averaged over all pairs, tasks and repeats of a
    modality, with the standard deviation over the same runs: the paper's
    Fig. 3. The upper bound of a modality pools every target encoder's own
    decoder over the same pairs.

    Parameters
    ----------
    tasks : mapping of str to tuple
        Task name → ``(embeddings, y)`` or ``(embeddings, y, split)``:
        ``embeddings`` maps each encoder name to its embeddings of the task's
        samples (rows in the same order for every encoder, widths may
        differ), ``y`` holds the labels and ``split`` the optional per-row
        ``"train"`` / ``"anchor"`` / ``"test"`` names (see
        :func:`anchor_curve`). A task needs at least two encoders.
    modalities : mapping of str to str or None, default=None
        Encoder name → modality (e.g. ``"image"``, ``"text"``); the curves
        are pooled per modality, and the encoders of one task must share
        one. None pools everything under ``"all"``.
    n_anchors : int, list of int or None, default=None
        Anchor counts, the same for every task (at most the smallest anchor
        pool). None: six log-spaced counts up to the smallest pool.
    unpaired : mapping of str to mapping or None, default=None
        Task name → (encoder name → that encoder's unpaired embeddings), the
        pool of the self-learning transforms in that task (see
        :func:`anchor_curve`'s ``unpaired``: fitted on the anchors plus the
        pools of the pair's two encoders; the other methods never see them).
        A task given a pool needs one for each of its encoders; a task left
        out has none.
    transforms : list of str or mapping, default=("affine", "linear", \
"l-ortho", "ortho")
        ``transform_type`` names, or a mapping display name → name or any
        aligner estimator (see :func:`anchor_curve`).
    n_repeats, decoder, aligner, anchor_size, test_size, anchors_from, \
n_test_per_class, random_state, n_jobs, cache_dir, show_progress
        As in :func:`anchor_curve`; the split of a task without its own is
        drawn with ``anchor_size``, ``test_size`` and ``random_state``.
    return_runs : bool, default=False
        Also return every single run, with its task, pair and modality.

    Returns
    -------
    curve : pandas.DataFrame
        Columns ``modality``, ``transform``, ``n_anchors`` (missing for the
        upper bound), ``metric``, ``mean``, ``std`` (``ddof=0`` over pairs,
        tasks and repeats), ``n_runs`` and ``n_pairs`` (encoder pairs pooled,
        counted over tasks).
    runs : pandas.DataFrame
        Only when ``return_runs=True``: one row per run, columns ``task``,
        ``modality``, ``source``, ``target``, ``transform``, ``n_anchors``,
        ``seed``, the metrics and ``cached``.

    See Also
    --------
    anchor_curve : The curve of one pair.
    pooled_stitching_table : The pairs grouped by domain (Table 1).
    plot_anchor_curve : Draws one modality's curve (select its rows).

    Examples
    --------
    Three "encoders" of the digits (pixels, a rotation, a projection):

    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation import pooled_anchor_curve
    >>> X, y = load_digits(n_class=3, return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> Q, _ = np.linalg.qr(rng.normal(size=(64, 64)))
    >>> encoders = {"pixels": X, "rotated": X @ Q, "projected": X @ rng.normal(
    ...     size=(64, 32))}
    >>> curve = pooled_anchor_curve({"digits": (encoders, y)}, n_anchors=[30, 90],
    ...                             transforms=["ortho"], n_repeats=2,
    ...                             decoder=LogisticRegression(max_iter=3000))
    >>> auroc = curve[curve["metric"] == "roc_auc"]
    >>> row = auroc[auroc["transform"] == "ortho"]
    >>> row[["n_anchors", "n_runs", "n_pairs"]].to_numpy().tolist()
    [[30, 12, 6], [90, 12, 6]]
    """
    protocol = _protocol(
        Protocol(
            transforms=transforms,
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
        )
    )
    prepared = _prepare_tasks(protocol, tasks, modalities, unpaired)
    counts = anchor_counts(n_anchors, min(p.split.anchor_pool.size for p in prepared))
    runs = _run_tasks(protocol, prepared, counts)
    curve = _pool(
        _with_upper_bounds(runs),
        ["modality", "transform", "n_anchors"],
        protocol.transforms,
    )
    return (curve, runs) if return_runs else curve


@validate_params(
    {
        "tasks": [Mapping],
        "domains": [Mapping],
        "modalities": [None, Mapping],
        "n_anchors": [None, Interval(Integral, 2, None, closed="left")],
        "unpaired": _POOLS,
        "metric": [StrOptions(set(METRICS))],
        "change_transform": [str],
        "return_pairs": ["boolean"],
        **_POOLED_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def pooled_stitching_table(
    tasks,
    domains,
    *,
    modalities=None,
    n_anchors=None,
    unpaired=None,
    transforms=TRANSFORM_TYPES,
    metric="roc_auc",
    change_transform="ortho",
    n_repeats=3,
    decoder=None,
    aligner=None,
    anchor_size=0.25,
    test_size=0.25,
    anchors_from="pool",
    n_test_per_class=None,
    random_state=0,
    n_jobs=None,
    cache_dir=None,
    show_progress=False,
    return_pairs=False,
):
    """Stitching grouped by domain and pooled over tasks, with mean ± std (Table 1).

    Every ordered pair of each task's encoders is stitched at one anchor
    count as in :func:`stitching_report`; the runs are grouped by (source
    domain, target domain), e.g. general → medical, and pooled over pairs,
    tasks and repeats: mean ± standard deviation per method, the paper's
    Table 1.

    Parameters
    ----------
    tasks : mapping of str to tuple
        Task name → ``(embeddings, y)`` or ``(embeddings, y, split)``, as in
        :func:`pooled_anchor_curve`.
    domains : mapping of str to str
        Encoder name → domain (``{"dinov2": "general", "rad-dino":
        "medical"}``); every encoder needs one.
    modalities : mapping of str to str or None, default=None
        Encoder name → modality (``"text"``, ``"image"``): the table is then
        split by modality as the paper prints it (Text and Vision column
        groups), so a general → general row never pools text pairs with image
        pairs; the encoders of one task share one. None pools every task.
    n_anchors : int or None, default=None
        Anchors per draw, the same for every task; None: the smallest anchor
        pool.
    unpaired : mapping of str to mapping or None, default=None
        Task name → (encoder name → unpaired embeddings): the pools of the
        self-learning transforms, as in :func:`pooled_anchor_curve`.
    transforms : list of str or mapping, default=("affine", "linear", \
"l-ortho", "ortho")
        As in :func:`pooled_anchor_curve`.
    metric : {"roc_auc", "accuracy", "f1_macro"}, default="roc_auc"
        The metric of the table (the pairs table has all three).
    change_transform : str, default="ortho"
        The method whose ``change_pct`` is reported, fixed before seeing any
        score (choosing the best on the test scores would flatter it). One of
        the ``transforms`` display names.
    n_repeats, decoder, aligner, anchor_size, test_size, anchors_from, \
n_test_per_class, random_state, n_jobs, cache_dir, show_progress
        As in :func:`anchor_curve`.
    return_pairs : bool, default=False
        Also return the summary of every (task, source, target) pair.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (``source_domain``, ``target_domain``), preceded by
        ``modality`` when ``modalities`` is given. For each method
        (``source_upper_bound``: the source encoder with its own decoder,
        ``naive``, the transforms, ``target_upper_bound``: the paper's upper
        bound) the mean of ``metric`` and a ``<method>_std`` column (``ddof=0``
        over pairs, tasks and repeats); ``change_transform`` (the method
        named by that parameter) and ``change_pct``: its mean relative to the
        **source** upper bound, in percent, as the paper's Table 1 defines it
        (``100 * (score - SUB) / SUB``; negative: below the source on its own
        decoder); ``n_pairs`` (pairs pooled, counted over tasks) and
        ``n_tasks``.
    pairs : pandas.DataFrame
        Only when ``return_pairs=True``: columns ``task``, ``source``,
        ``target``, ``source_domain``, ``target_domain``, ``transform``,
        ``metric``, ``mean``, ``std`` and ``n_runs``.

    See Also
    --------
    stitching_table : The same for one task.
    plot_stitching_table : Bar chart with error bars.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation import pooled_stitching_table
    >>> X, y = load_digits(n_class=2, return_X_y=True)
    >>> rng = np.random.default_rng(0)
    >>> task = ({"a": X, "b": X @ rng.normal(size=(64, 16)),
    ...          "c": np.tanh(X @ rng.normal(size=(64, 24)) / 20)}, y)
    >>> table = pooled_stitching_table(
    ...     {"first": task, "second": task}, {"a": "raw", "b": "proj", "c": "proj"},
    ...     transforms=["ortho"], n_repeats=1,
    ...     decoder=LogisticRegression(max_iter=5000))
    >>> table.index.tolist()
    [('proj', 'proj'), ('proj', 'raw'), ('raw', 'proj')]
    >>> table[["n_pairs", "n_tasks"]].to_numpy().tolist()
    [[4, 2], [4, 2], [4, 2]]

    The paper's Text and Vision column groups: a task of text encoders
    beside the image task, never pooled with it.

    >>> texts = ({"t1": X @ rng.normal(size=(64, 12)), "t2": X[:, ::-1]}, y)
    >>> table = pooled_stitching_table(
    ...     {"images": task, "texts": texts},
    ...     {"a": "raw", "b": "proj", "c": "proj", "t1": "proj", "t2": "raw"},
    ...     modalities={"a": "image", "b": "image", "c": "image", "t1": "text",
    ...                 "t2": "text"},
    ...     transforms=["ortho"], n_repeats=1,
    ...     decoder=LogisticRegression(max_iter=5000))
    >>> table.index.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [('image', 'proj', 'proj'), ('image', 'proj', 'raw'), ('image', 'raw', 'proj'),
     ('text', 'proj', 'raw'), ('text', 'raw', 'proj')]
    """
    protocol = _protocol(
        Protocol(
            transforms=transforms,
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
        )
    )
    if change_transform not in protocol.transforms:
        raise ValueError(
            f"change_transform={change_transform!r} is not one of the transforms "
            f"{list(protocol.transforms)!r}; name the method whose change against "
            "the source upper bound the table reports."
        )
    prepared = _prepare_tasks(protocol, tasks, modalities, unpaired)
    domain_of = _check_domains(domains, prepared)
    pool = min(p.split.anchor_pool.size for p in prepared)
    counts = anchor_counts(pool if n_anchors is None else n_anchors, pool)
    runs = _run_tasks(protocol, prepared, counts)
    runs = _with_upper_bounds(runs, source_bound=True)
    runs.insert(3, "source_domain", runs["source"].map(domain_of))
    runs.insert(4, "target_domain", runs["target"].map(domain_of))
    by_modality = modalities is not None
    table = _domain_table(
        runs, metric, protocol.transforms, change_transform, by_modality=by_modality
    )
    if not return_pairs:
        return table
    pairs = summarize_runs(
        runs,
        [
            "task",
            *(["modality"] if by_modality else []),
            "source",
            "target",
            "source_domain",
            "target_domain",
            "transform",
        ],
        protocol.transforms,
    )
    return table, pairs


@dataclasses.dataclass(frozen=True)
class _Task:
    name: str
    embeddings: dict
    y: np.ndarray
    split: object
    modality: str
    pools: dict  # encoder name -> unpaired embeddings; empty: no pool


def _protocol(protocol):
    """The run of ``protocol``; each task brings its own split."""
    return ProtocolRun.of(dataclasses.replace(protocol, split=None))


def _prepare_tasks(protocol, tasks, modalities, unpaired=None):
    """Checked tasks, each with its embeddings, labels, split, modality and
    unpaired pools (``unpaired``: task name -> encoder name -> pool)."""
    if not tasks:
        raise ValueError(
            "tasks is empty; map at least one task name to (embeddings, y)."
        )
    unpaired = {} if unpaired is None else {str(k): v for k, v in unpaired.items()}
    unknown = [name for name in unpaired if name not in map(str, tasks)]
    if unknown:
        raise ValueError(
            f"unpaired names the tasks {unknown!r}, which are not in tasks "
            f"({list(tasks)!r}). Key the pools by task name, then encoder name."
        )
    prepared = []
    for name, value in tasks.items():
        if not isinstance(value, tuple | list) or len(value) not in (2, 3):
            raise TypeError(
                f"tasks[{name!r}] must be (embeddings, y) or (embeddings, y, "
                f"split), got {type(value).__name__}."
            )
        embeddings, y, split = (*value, None)[:3]
        if not isinstance(embeddings, Mapping) or len(embeddings) < 2:
            raise ValueError(
                f"Task {name!r} needs a mapping of at least two encoder names to "
                "their embeddings: stitching needs a source and a target."
            )
        pools = unpaired.get(str(name))
        if pools is not None and not isinstance(pools, Mapping):
            raise TypeError(
                f"unpaired[{name!r}] must map each encoder name of task {name!r} "
                f"to its unpaired embeddings, got {type(pools).__name__}; give a "
                "dict, e.g. {'e1': pool_1, 'e2': pool_2}."
            )
        task_protocol = dataclasses.replace(protocol, split=split)
        embeddings, y, split, pools = task_protocol.prepare(
            embeddings, y, unpaired.get(str(name))
        )
        prepared.append(
            _Task(
                str(name),
                embeddings,
                y,
                split,
                _modality(name, embeddings, modalities),
                pools,
            )
        )
    return prepared


def _modality(task, embeddings, modalities):
    if modalities is None:
        return "all"
    missing = [encoder for encoder in embeddings if encoder not in modalities]
    if missing:
        raise ValueError(
            f"modalities gives no modality for {missing!r} (task {task!r}); map "
            "every encoder to one, e.g. 'image' or 'text'."
        )
    found = sorted({str(modalities[encoder]) for encoder in embeddings})
    if len(found) > 1:
        raise ValueError(
            f"Task {task!r} mixes encoders of the modalities {found!r}; the "
            "encoders of one task embed the same samples, so they share one."
        )
    return found[0]


def _check_domains(domains, prepared):
    domains = {str(name): str(domain) for name, domain in domains.items()}
    encoders = dict.fromkeys(e for task in prepared for e in task.embeddings)
    missing = [name for name in encoders if name not in domains]
    if missing:
        raise ValueError(
            f"domains gives no domain for {missing!r}. Map every encoder to its "
            "domain, e.g. domains={'dinov2': 'general', 'rad-dino': 'medical'}."
        )
    return domains


def _run_tasks(protocol, prepared, counts):
    """Every pair of every task through the protocol; runs with task and modality."""
    frames = []
    for task in prepared:
        runs = protocol.run(
            task.embeddings,
            task.y,
            task.split,
            list(itertools.permutations(task.embeddings, 2)),
            n_anchors=counts,
            upper_bounds=list(task.embeddings),
            pools=task.pools,
        )
        runs.insert(0, "task", task.name)
        runs.insert(1, "modality", task.modality)
        frames.append(runs)
    return pd.concat(frames, ignore_index=True)


def _with_upper_bounds(runs, source_bound=False):
    """Stitching runs, plus the upper bounds repeated once per (source, target) pair.

    Each target's own-decoder run counts once per pair it decodes, so the
    upper bound is weighted as the pairs are; with ``source_bound`` the
    source's own run is added the same way, as ``source_upper_bound``.
    """
    is_bound = runs["transform"] == TARGET_UPPER_BOUND
    own = runs[is_bound].set_index(["task", "target"])
    stitched = runs[~is_bound]
    pairs = stitched[["task", "modality", "source", "target"]].drop_duplicates()
    frames = [stitched]
    bounds = [("target", TARGET_UPPER_BOUND)]
    if source_bound:
        bounds.append(("source", SOURCE_UPPER_BOUND))
    for side, method in bounds:
        keys = pd.MultiIndex.from_frame(pairs[["task", side]])
        bound = own.loc[keys].reset_index(drop=True)
        bound[["task", "modality", "source", "target"]] = pairs.to_numpy()
        bound["transform"] = method
        frames.append(bound)
    return pd.concat(frames, ignore_index=True)


def _pool(runs, by, transforms):
    """Mean ± std over every run of each group, and the pairs pooled."""
    summary = summarize_runs(runs, by, transforms)
    n_pairs = (
        runs.groupby(list(by), dropna=False)[["task", "source", "target"]]
        .apply(lambda g: len(g.drop_duplicates()))
        .rename("n_pairs")
        .reset_index()
    )
    return summary.merge(n_pairs, on=list(by), how="left")


def _domain_table(runs, metric, transforms, change_transform, *, by_modality=False):
    """Mean ± std of every method per (modality,) source and target domain."""
    methods = [SOURCE_UPPER_BOUND, NAIVE, *transforms, TARGET_UPPER_BOUND]
    by = ["source_domain", "target_domain"]
    if by_modality:
        by.insert(0, "modality")
    scores = runs.groupby([*by, "transform"])[metric]
    mean = scores.mean().unstack("transform")[methods]
    std = scores.std(ddof=0).unstack("transform")[methods]
    table = pd.concat([mean, std.add_suffix("_std")], axis=1)
    table = table[[c for m in methods for c in (m, f"{m}_std")]]
    table.columns.name = None
    table["change_transform"] = change_transform
    table["change_pct"] = change_against_source(
        table[change_transform], table[SOURCE_UPPER_BOUND]
    )
    groups = runs.groupby(by)
    table["n_pairs"] = groups[["task", "source", "target"]].apply(
        lambda g: len(g.drop_duplicates())
    )
    table["n_tasks"] = groups["task"].nunique()
    return table


def change_against_source(score, source_upper_bound):
    """Change of ``score`` against the source upper bound, in percent (Table 1).

    The paper's Table 1 caption: "▲x% corresponds to the percentage of change
    in performance compared to the SUB", the source domain's upper bound
    (the source encoder with its own decoder). Positive: stitching into the
    target's decoder does better than the source on its own.

    Examples
    --------
    >>> from skalign.evaluation._pooled import change_against_source
    >>> round(change_against_source(0.80, 0.75), 2)
    6.67
    """
    return 100 * (score - source_upper_bound) / source_upper_bound


def plan_pooled(tasks, *, modalities=None, n_anchors=None, unpaired=None, **settings):
    """What :func:`pooled_anchor_curve` would run, and how much is stored.

    ``settings`` are the other keyword parameters of
    :func:`pooled_anchor_curve`; ``unpaired`` is its pools, on which the
    keys of the self-learning cells depend. Returns one row per task: ``task``,
    ``modality``, ``n_pairs``, ``n_anchors`` (the counts), ``n_repeats``,
    ``n_methods`` (the naive floor and the transforms), ``n_cells`` and
    ``n_cached`` (cells already in ``cache_dir``).
    """
    protocol = _protocol(Protocol(**settings))
    prepared = _prepare_tasks(protocol, tasks, modalities, unpaired)
    counts = anchor_counts(n_anchors, min(p.split.anchor_pool.size for p in prepared))
    cache = None if protocol.cache_dir is None else ResultCache(protocol.cache_dir)
    rows = []
    for task in prepared:
        pairs = list(itertools.permutations(task.embeddings, 2))
        cells, keys, _ = protocol.plan(
            task.embeddings,
            task.y,
            task.split,
            pairs,
            n_anchors=counts,
            pools=task.pools,
        )
        stored = (
            0
            if cache is None
            else sum(cache.load("cells", keys[cell]) is not None for cell in cells)
        )
        rows.append(
            (
                task.name,
                task.modality,
                len(pairs),
                counts,
                protocol.n_repeats,
                1 + len(protocol.transforms),
                len(cells),
                stored,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "task",
            "modality",
            "n_pairs",
            "n_anchors",
            "n_repeats",
            "n_methods",
            "n_cells",
            "n_cached",
        ],
    )
