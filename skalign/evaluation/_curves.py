"""anchor_curve: stitching scores against the number of anchors (the paper's Fig. 3)."""

from numbers import Integral

from .._sklearn_compat import Interval, InvalidParameterError, validate_params
from ._protocol import PROTOCOL_CONSTRAINTS, Protocol
from ._stitching import ProtocolRun, anchor_counts, summarize_runs

# ``unpaired=`` of the functions stitching one (source, target) pair.
PAIR_POOL_CONSTRAINT = "no_validation"  # checked by pair_pools


def pair_pools(unpaired, function):
    """``unpaired=(source_pool, target_pool)`` of ``function`` as the
    protocol's mapping encoder name -> pool (None stays None)."""
    if unpaired is None:
        return None
    if not isinstance(unpaired, tuple | list):
        raise InvalidParameterError(
            f"The 'unpaired' parameter of {function} must be a pair "
            "(source_pool, target_pool) of the source encoder's and the target "
            f"encoder's unpaired embeddings, got a {type(unpaired).__name__}; "
            "pass unpaired=(source_pool, target_pool)."
        )
    if len(unpaired) != 2:
        raise ValueError(
            f"unpaired must be a pair (source_pool, target_pool): the source "
            f"encoder's and the target encoder's unpaired embeddings; got "
            f"{len(unpaired)} items."
        )
    return {"source": unpaired[0], "target": unpaired[1]}


@validate_params(
    {
        "source": ["array-like"],
        "target": ["array-like"],
        "n_anchors": [None, Interval(Integral, 2, None, closed="left"), "array-like"],
        "unpaired": PAIR_POOL_CONSTRAINT,
        "return_runs": ["boolean"],
        **PROTOCOL_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def anchor_curve(
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
    return_runs=False,
):
    """Stitching scores of every transform against the number of anchors.

    The paper's protocol for one (source encoder, target decoder) pair: a
    decoder is trained on the target encoder's embeddings of the ``"train"``
    rows; for each repeat (a fresh random draw of anchors from the
    ``"anchor"`` pool), each anchor count and each transform, an aligner
    fitted on the anchors sends the source embeddings of the ``"test"`` rows
    (a class-balanced subset) into the target space, where the decoder scores
    them. Two references frame the curve: the naive floor
    (:class:`NaiveAligner`, zero-padding without alignment) and the upper
    bound (the decoder on the target encoder's own test embeddings).

    Parameters
    ----------
    source : array-like of shape (n_samples, n_source_features)
        Every sample embedded by the source encoder.
    target : array-like of shape (n_samples, n_target_features)
        The same samples, in the same order, embedded by the target encoder.
    y : array-like of shape (n_samples,)
        Class labels (binary or multi-class).
    n_anchors : int, list of int or None, default=None
        Anchor counts to evaluate, each at least 2 and at most the size of the
        anchor pool. None: six log-spaced counts from 10 to the whole pool.
        Within one repeat the draws are nested (the 100 anchors contain the
        50).
    transforms : list of str or dict, or mapping, default=("affine", "linear", \
"l-ortho", "ortho")
        Values of the aligner's ``transform_type`` to compare, the preset
        ``"paper-affine"`` (the paper's affine: 300 Adam steps, latentis'
        defaults), specifications ``{"name": "adam-500", "transform_type":
        "affine", "solver": "adam", "max_iter": 500}`` (parameters set on a
        clone of ``aligner``; an Adam fit takes exactly ``max_iter`` steps,
        default 300; rows are labelled by ``name``), or a mapping
        display name → ``transform_type`` name or any aligner estimator
        (``fit(X_anchors, Y_anchors)`` then ``transform``), cloned for every
        cell, e.g. ``{"ortho": "ortho", "ridge": LatentAligner("affine",
        alpha="auto"), "mine": make_pipeline(PCA(64), LatentAligner())}``.
        The preset ``"self-learning"`` is a
        :class:`~skalign.SelfLearningAligner` refining ``"ortho"`` with the
        ``unpaired`` pool (a specification with ``"self_learning": True``, or
        ``{"matching": "many-to-one", ...}``, wraps any other). The naive
        floor and the upper bound are always evaluated.
    unpaired : tuple (source_pool, target_pool) or None, default=None
        The unpaired pool of self-learning: arrays of shape (n_source_pool,
        n_source_features) and (n_target_pool, n_target_features), embeddings
        by the source and the target encoder of items that are not the
        task's (no labels; the two pools need not hold the same items, nor as
        many). In every repeat and anchor count, a transform whose aligner
        takes NaN-marked unpaired rows (``input_tags.allow_nan``, e.g. a
        :class:`~skalign.SelfLearningAligner`) is fitted on the drawn anchors
        plus the whole pool (the pool's rows with an all-NaN other side);
        every other transform, the naive floor and the upper bound are fitted
        exactly as without it (the same scores and cache entries). The pool
        must never contain test items: a pool row identical to a test row's
        embedding is refused (arrays carry no ids; ``skalign experiment``
        refuses a pool data set sharing ids with the task's). Refused too: a
        pool of the wrong width, and a pool that no transform uses; a
        self-learning transform without a pool warns and is fitted on the
        anchors alone.
    n_repeats : int, default=3
        Random anchor draws per count (the paper's 3 repeats).
    decoder : classifier or None, default=None
        Trained (a clone) on the target's ``"train"`` embeddings. None is the
        paper's linear-kernel :class:`~sklearn.svm.SVC`.
    aligner : transformer or None, default=None
        Template cloned for each transform with ``transform_type`` set, e.g.
        ``LatentAligner(alpha="auto")``. None is ``LatentAligner()``.
    split : array-like of str of shape (n_samples,) or None, default=None
        ``"train"``, ``"anchor"`` or ``"test"`` for each sample (other values
        are left out), e.g. a dataset's official split. None draws a stratified
        split with ``anchor_size``, ``test_size`` and ``random_state`` (see
        :func:`protocol_split`).
    anchor_size : float in (0, 1) or int, default=0.25
        Size of the anchor pool when ``split`` is None.
    test_size : float in (0, 1) or int, default=0.25
        Size of the test part when ``split`` is None.
    anchors_from : {"pool", "train"}, default="pool"
        Where anchors are drawn: ``"pool"``, the anchor part, held apart from
        the decoder's training rows; ``"train"``, the decoder's training rows,
        as the paper draws them (the anchor part joins them).
    n_test_per_class : int or None, default=None
        Test rows per class kept in the balanced test subset (e.g. 200). None
        keeps as many as the rarest test class has.
    random_state : int, default=0
        Seeds the split, the balanced subset and the anchor draws. An int (not
        a generator) so that a resumed run draws the same cells.
    n_jobs : int or None, default=None
        Decoders and cells run in parallel with :class:`joblib.Parallel`;
        ``-1`` uses all cores. Inside ``joblib.parallel_config(backend="dask")``
        with a Dask client they run on the cluster's workers (``-1``: all of
        them), see :ref:`scale_out`.
    cache_dir : str, path-like or None, default=None
        Directory where every finished decoder and cell is stored. Running
        again with the same directory reuses them (resuming an interrupted
        run, or adding anchor counts or transforms without recomputing the
        others).
    show_progress : bool, default=False
        Show tqdm progress bars.
    return_runs : bool, default=False
        Also return the score of every single run.

    Returns
    -------
    curve : pandas.DataFrame
        Long table with columns ``transform`` (``"naive"``, the
        ``transforms``, ``"target_upper_bound"``), ``n_anchors`` (missing for
        the upper bound, which needs no anchors), ``metric`` (``"roc_auc"``,
        ``"accuracy"``, ``"f1_macro"``), ``mean``, ``std`` (over repeats,
        ``ddof=0``) and ``n_runs``.
    runs : pandas.DataFrame
        Only when ``return_runs=True``: one row per run with columns
        ``source``, ``target``, ``transform``, ``n_anchors``, ``seed``, one per
        metric and ``cached`` (True when the run was read from ``cache_dir``).

    See Also
    --------
    plot_anchor_curve : Draw the curve.
    stitching_report : All methods at one anchor count, with the source's own
        score.
    skalign.SelfLearningAligner : The aligner that learns from the pool.

    Notes
    -----
    AUROC is binary for two classes and one-vs-rest macro-averaged for more,
    computed from the decoder's ``decision_function`` (or ``predict_proba``).

    Examples
    --------
    Two "encoders" of the digits: raw pixels, and a rotated, shifted copy.

    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation import anchor_curve
    >>> X, y = load_digits(n_class=3, return_X_y=True)
    >>> Y = X @ ortho_group.rvs(64, random_state=0) + 5.0
    >>> curve = anchor_curve(X, Y, y, n_anchors=[20, 100], transforms=["ortho"],
    ...                      decoder=LogisticRegression(max_iter=2000))
    >>> auroc = curve[curve.metric == "roc_auc"].set_index(["transform", "n_anchors"])
    >>> bool(auroc.loc[("ortho", 100), "mean"] > auroc.loc[("naive", 100), "mean"])
    True

    Self-learning with an unpaired pool: other digits, embedded by both
    "encoders" (a pool holding test rows would be refused):

    >>> X_all, y_all = load_digits(return_X_y=True)
    >>> pool = X_all[y_all >= 3][:200]
    >>> Q = ortho_group.rvs(64, random_state=0)
    >>> curve = anchor_curve(X, Y, y, n_anchors=[20], n_repeats=1,
    ...                      transforms=["ortho", "self-learning"],
    ...                      unpaired=(pool, pool @ Q + 5.0),
    ...                      decoder=LogisticRegression(max_iter=2000))
    >>> curve["transform"].unique().tolist()
    ['naive', 'ortho', 'self-learning', 'target_upper_bound']
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
        pair_pools(unpaired, "anchor_curve"),
    )
    counts = anchor_counts(n_anchors, split.anchor_pool.size)
    runs = protocol.run(
        embeddings,
        y,
        split,
        [("source", "target")],
        n_anchors=counts,
        upper_bounds=["target"],
        pools=pools,
    )
    curve = summarize_runs(runs, ["transform", "n_anchors"], protocol.transforms)
    return (curve, runs) if return_runs else curve
