"""The paper's stitching protocol, shared by anchor curves, reports and tables.

For every (source, target) encoder pair:

1. a decoder (default: linear-kernel SVM) is trained on the target encoder's
   embeddings of the ``"train"`` rows;
2. for every repeat (a fresh random order of the ``"anchor"`` pool), anchor
   count and transform, an aligner is fitted on the first ``n`` anchors of
   that order (source → target) and the decoder scores the aligned source
   embeddings of the balanced ``"test"`` rows;
3. the naive floor (:class:`NaiveAligner`) runs through the same cells, and the
   upper bounds are each encoder's own decoder on its own test embeddings.

An unpaired pool (``unpaired=``: each encoder's embeddings of items that are
not the task's) enters every repeat and anchor count of the transforms whose
aligner takes NaN-marked unpaired rows (a :class:`~skalign.SelfLearningAligner`):
they are fitted on the drawn anchors plus the pool, rows of the source pool
with an all-NaN target side and rows of the target pool with an all-NaN
source side, as :func:`~skalign.evaluation.zero_shot_report` fits them. Every
other transform, the naive floor and the upper bounds never see the pool:
their cells, and their cache keys, are those of a run without it.

The settings are one :class:`~._protocol.Protocol` record, checked once and
run as a :class:`ProtocolRun`. Decoders and cells are
independent jobs run by :func:`~skalign.evaluation._cache.run_cached`; with a
cache directory each finished one is stored and a resumed run skips it.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import clone

from .._validation import check_embeddings
from ._cache import ResultCache, fingerprint, run_cached
from ._naive import NaiveAligner
from ._protocol import (  # noqa: F401  (PROTOCOL_CONSTRAINTS: for _pooled)
    NAIVE,
    PROTOCOL_CONSTRAINTS,
    SOURCE_UPPER_BOUND,
    TARGET_UPPER_BOUND,
    Protocol,
    takes_unpaired,
)
from ._scoring import METRICS, classifier_scores
from ._subsets import SPLIT_NAMES, _check_labels, balanced_subset, protocol_split

RUN_COLUMNS = ("source", "target", "transform", "n_anchors", "seed", *METRICS, "cached")


class Split(NamedTuple):
    """Row positions of the protocol's three disjoint parts."""

    train: np.ndarray
    anchor_pool: np.ndarray
    test: np.ndarray


def check_encoders(embeddings, y):
    """Validate a name → embeddings mapping against the labels ``y``.

    Returns the embeddings as a dict of float arrays and ``y`` as an array.
    """
    if not isinstance(embeddings, Mapping) or not embeddings:
        raise ValueError(
            "embeddings must be a non-empty mapping of encoder name -> array of "
            "shape (n_samples, n_features), e.g. {'dinov2': X_dino, 'rad-dino': "
            "X_rad}."
        )
    _check_index_order({**{f"embeddings[{n!r}]": X for n, X in embeddings.items()},
                        "y": y})  # fmt: skip
    y = _check_labels(y)
    checked = {}
    for name, X in embeddings.items():
        X = check_embeddings(X, input_name=f"embeddings[{name!r}]")
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"The embeddings of {name!r} have {X.shape[0]} rows but y has "
                f"{y.shape[0]} labels. Every encoder must embed the same items in "
                "the same order as y (pair files by their ids first, e.g. with "
                "skalign.evaluation.read_embeddings)."
            )
        checked[str(name)] = np.asarray(X)
    return checked, y


def _check_index_order(inputs):
    """Refuse pandas inputs whose indexes hold the same labels in another
    order: rows are paired by position (as in scikit-learn), so those would
    pair each item with another one."""
    indexed = {
        name: value.index
        for name, value in inputs.items()
        if hasattr(value, "index") and hasattr(value, "iloc")
    }
    first = next(iter(indexed.items()), None)
    for name, index in indexed.items():
        reference_name, reference = first
        if (
            len(index) == len(reference)
            and not index.equals(reference)
            and index.sort_values().equals(reference.sort_values())
        ):
            raise ValueError(
                f"{name} and {reference_name} hold the same index labels in "
                "another order; rows are paired by position, not by index, so "
                f"the items would be mismatched. Reorder one, e.g. "
                f"X.loc[{reference_name}.index], or pass arrays in one order."
            )


def check_pools(unpaired, embeddings, test_rows, pool_methods):
    """Validate the unpaired pools of a task; return encoder name -> array.

    ``unpaired`` maps encoder names to their unpaired embeddings (None: no
    pool). Every encoder of the task needs one (self-learning matches a
    source pool to a target pool), of its width, and no pool row may be one
    of the encoder's ``test_rows`` (identical embeddings: the test item
    itself, or an item that no map can tell from it). ``pool_methods`` are
    the transforms that take the pool: a pool without them is refused, and
    they run on the anchors alone, with a warning, without a pool.
    """
    if unpaired is None:
        if pool_methods:
            warnings.warn(
                f"The transforms {pool_methods!r} learn from an unpaired pool, and "
                "none is given: they are fitted on the anchors alone (the "
                "pairs-only map of their base aligner). Pass unpaired= to "
                "evaluate them with their pool.",
                UserWarning,
                stacklevel=4,
            )
        return {}
    if not isinstance(unpaired, Mapping):
        raise TypeError(
            f"unpaired must map each encoder name to its unpaired embeddings, got "
            f"{type(unpaired).__name__}; give a dict, e.g. {{'e1': pool_1, "
            "'e2': pool_2} (a (source_pool, target_pool) pair is the form of "
            "anchor_curve and stitching_report)."
        )
    if not pool_methods:
        raise ValueError(
            "unpaired= gives an unpaired pool, but no transform learns from one "
            "(an aligner that takes NaN-marked unpaired rows, e.g. the preset "
            "'self-learning'); every method would ignore it. Add 'self-learning' "
            "to transforms, or drop unpaired=."
        )
    pools = {str(name): value for name, value in unpaired.items()}
    unknown = [name for name in pools if name not in embeddings]
    missing = [name for name in embeddings if name not in pools]
    if unknown or missing:
        problem = (
            f"names {unknown!r}, which are not encoders of the task"
            if unknown
            else f"gives no pool for {missing!r}"
        )
        raise ValueError(
            f"unpaired {problem} (encoders: {list(embeddings)!r}). Give each "
            "encoder its unpaired embeddings: self-learning matches the "
            "source's pool to the target's."
        )
    checked = {}
    for name, pool in pools.items():
        where = f"The unpaired pool of {name!r}"
        pool = _checked_pool(pool, where, name)
        width = embeddings[name].shape[1]
        if pool.shape[1] != width:
            raise ValueError(
                f"{where} has {pool.shape[1]} features but the embeddings of "
                f"{name!r} have {width}; embed the pool with the same encoder."
            )
        leaked = _identical_rows(pool, embeddings[name][test_rows])
        if leaked:
            row, test_row = next(iter(leaked.items()))
            rows = sorted(leaked)
            shown = f"{rows[:5]}"[:-1] + (", ...]" if len(rows) > 5 else "]")
            raise ValueError(
                f"{where} holds {len(leaked)} row(s) identical to test rows of "
                f"{name!r} (pool row {row} is test row {int(test_rows[test_row])})"
                ": the pool must never contain test items, or the map is fitted "
                f"on them. Drop the pool rows {shown}, e.g. with np.delete(pool, "
                "rows, axis=0); a pool of other items than the task's never "
                "overlaps."
            )
        checked[name] = pool
    return checked


def _checked_pool(pool, where, name):
    """``pool`` as a 2-D finite array of at least one row, or an error naming
    the pool and what to give instead."""
    fix = (
        f"Give {name!r} an array of shape (n_pool, n_features) of that "
        "encoder's embeddings of unpaired items, or pass unpaired=None for no pool."
    )
    if pool is None:
        raise TypeError(f"{where} is None. {fix}")
    try:
        checked = check_embeddings(
            pool, input_name=f"unpaired[{name!r}]", min_samples=0
        )
    except (TypeError, ValueError) as exc:
        nan = "NaN" in str(exc)
        advice = (
            "Drop the rows holding NaN (np.isnan(pool).any(axis=1)): each pool "
            "row is one complete embedding, the protocol marks the missing side "
            "itself."
            if nan
            else fix
        )
        raise type(exc)(f"{where} cannot be used: {exc} {advice}") from exc
    if checked.shape[0] == 0:
        raise ValueError(
            f"{where} has 0 rows. Give it at least one embedding, or pass "
            "unpaired=None to fit on the anchors alone."
        )
    return np.asarray(checked)


def _identical_rows(pool, rows):
    """Pool row -> the first of ``rows`` with the same values (float64)."""
    seen = {}
    for index, row in enumerate(np.asarray(rows, dtype=np.float64) + 0.0):
        seen.setdefault(row.tobytes(), index)  # + 0.0: -0.0 is 0.0
    pool = np.asarray(pool, dtype=np.float64) + 0.0
    found = ((i, seen.get(row.tobytes())) for i, row in enumerate(pool))
    return {i: j for i, j in found if j is not None}


def resolve_split(
    y,
    split,
    *,
    anchor_size,
    test_size,
    n_test_per_class,
    random_state,
    anchors_from="pool",
):
    """Turn per-row split names (or None: a fresh stratified split) into a Split.

    The test part is then reduced to a balanced subset of ``n_test_per_class``
    rows per class. With ``anchors_from="train"`` the anchor part joins the
    training rows and anchors are drawn from all of them (the paper's choice).
    """
    if split is None:
        split = protocol_split(
            y, anchor_size=anchor_size, test_size=test_size, random_state=random_state
        )
    split = np.asarray(split).astype(str)
    if split.shape != y.shape:
        raise ValueError(
            f"split has shape {split.shape} but y has {y.shape}: give one split "
            f"name ({', '.join(map(repr, SPLIT_NAMES))}) per sample."
        )
    parts = [np.flatnonzero(split == name) for name in SPLIT_NAMES]
    missing = [
        name for name, rows in zip(SPLIT_NAMES, parts, strict=True) if rows.size == 0
    ]
    if missing:
        raise ValueError(
            f"split has no {' or '.join(map(repr, missing))} rows; the protocol "
            "needs rows to train the decoder ('train'), a pool to draw anchors "
            "from ('anchor') and rows to score on ('test'). Other values are "
            "ignored."
        )
    train, anchor_pool, test = parts
    classes = np.unique(y[train])
    absent = np.setdiff1d(np.unique(y[test]), classes)
    if absent.size:
        raise ValueError(
            f"The test rows hold classes absent from the training rows: "
            f"{absent.tolist()!r}; the decoder cannot predict them. Stratify the "
            "split by y (the default split does)."
        )
    labels, counts = np.unique(y[test], return_counts=True)
    if n_test_per_class is not None and n_test_per_class > counts.min():
        raise ValueError(
            f"n_test_per_class={n_test_per_class} test rows per class are requested "
            f"but the test part holds only {counts.min()} of class "
            f"{labels.tolist()[np.argmin(counts)]!r}. Lower n_test_per_class= to at "
            f"most {counts.min()}, or enlarge the test part (test_size=, or more "
            "'test' rows in split)."
        )
    test = test[balanced_subset(y[test], n_test_per_class, random_state=random_state)]
    if anchors_from == "train":
        train = anchor_pool = np.union1d(train, anchor_pool)
    return Split(train, anchor_pool, test)


def anchor_counts(n_anchors, pool_size):
    """Sorted unique anchor counts, checked against the anchor pool.

    None gives six log-spaced counts from 10 (or the pool, if smaller) to the
    whole pool.
    """
    if n_anchors is None:
        low = min(10, pool_size)
        counts = np.geomspace(low, pool_size, num=6).round().astype(int)
    elif isinstance(n_anchors, Integral):
        counts = np.array([n_anchors])
    else:
        counts = np.asarray(list(n_anchors))
        if counts.size == 0 or counts.dtype.kind not in "iu":
            raise ValueError(
                f"n_anchors must be an int or a non-empty list of ints, got "
                f"{n_anchors!r}."
            )
    counts = np.unique(counts)
    if counts[0] < 2:
        raise ValueError(
            f"n_anchors must be at least 2 (an alignment needs two anchors), got "
            f"{counts[0]}."
        )
    if counts[-1] > pool_size:
        raise ValueError(
            f"{counts[-1]} anchors are requested but the anchor pool holds only "
            f"{pool_size} samples. Lower the largest n_anchors= to at most "
            f"{pool_size}, or enlarge the pool (anchor_size=, or more 'anchor' "
            "rows in split)."
        )
    return [int(count) for count in counts]


def aligner_for(template, transform):
    """The (unfitted) estimator that aligns the source for ``transform``.

    ``transform`` is a ``transform_type`` name (set on a clone of the
    template), an aligner estimator (cloned) or ``"naive"``: a
    :class:`NaiveAligner` with the template's pre-processing (centring,
    scaling, row normalisation), so the floor differs from the aligners only
    by the map.
    """
    if not isinstance(transform, str):
        return clone(transform)
    if transform == NAIVE:
        params = template.get_params(deep=False)
        kept = set(NaiveAligner._parameter_constraints) & set(params)
        return NaiveAligner(**{k: params[k] for k in kept})
    return clone(template).set_params(transform_type=transform)


@dataclass(frozen=True)
class ProtocolRun(Protocol):
    """A resolved :class:`Protocol` (see :meth:`Protocol.resolved`) that runs.

    :func:`anchor_curve`, :func:`stitching_report` and :func:`stitching_table`
    build their :class:`Protocol` from their keyword parameters, turn it into a
    run with :meth:`of`, then call :meth:`prepare` and :meth:`run`. The
    unpaired pool is data, like the embeddings: :meth:`prepare` checks it and
    :meth:`run` takes it.
    """

    @classmethod
    def of(cls, protocol):
        """The run of ``protocol``: transforms checked, decoder and aligner set."""
        resolved = protocol.resolved()
        return cls(**{f.name: getattr(resolved, f.name) for f in fields(resolved)})

    def prepare(self, embeddings, y, unpaired=None):
        """Checked embeddings (name -> array), labels, the :class:`Split` and
        the unpaired pools (name -> array, see :func:`check_pools`; empty
        without ``unpaired``)."""
        embeddings, y = check_encoders(embeddings, y)
        split = resolve_split(
            y,
            self.split,
            anchor_size=self.anchor_size,
            test_size=self.test_size,
            n_test_per_class=self.n_test_per_class,
            random_state=self.random_state,
            anchors_from=self.anchors_from,
        )
        pools = check_pools(unpaired, embeddings, split.test, self.pool_methods())
        return embeddings, y, split, pools

    def pool_methods(self):
        """The transforms fitted on the anchors plus the unpaired pool."""
        return [
            name for name in self.transforms if takes_unpaired(self.aligner_of(name))
        ]

    def run(self, embeddings, y, split, pairs, *, n_anchors, upper_bounds, pools=None):
        """Run every cell; return one row per run (see ``RUN_COLUMNS``).

        ``upper_bounds`` names the encoders whose own decoder is scored on
        their own test embeddings; every target gets a decoder regardless.
        ``pools`` (from :meth:`prepare`) are the unpaired pools, used by the
        cells of :meth:`pool_methods` only.
        """
        cells, cell_keys, decoder_keys = self.plan(
            embeddings, y, split, pairs, n_anchors=n_anchors, pools=pools
        )
        decoders, cached_decoders = self._fit_decoders(
            embeddings,
            y,
            split,
            sorted({t for _, t in pairs} | set(upper_bounds)),
            keys=decoder_keys,
        )
        rows = [
            _run_row(
                name,
                name,
                TARGET_UPPER_BOUND,
                None,
                None,
                classifier_scores(
                    decoders[name], embeddings[name][split.test], y[split.test]
                ),
                name in cached_decoders,
            )
            for name in sorted(upper_bounds)
        ]
        scores, cached_cells = self._score_cells(
            embeddings, y, split, cells, cell_keys, decoders=decoders, pools=pools
        )
        rows += [_run_row(*cell, scores[cell], cell in cached_cells) for cell in cells]
        runs = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
        return runs.astype({"n_anchors": "Int64", "seed": "Int64"})

    def plan(self, embeddings, y, split, pairs, *, n_anchors, pools=None):
        """The cells of a run and the cache keys of cells and decoders.

        Returns ``cells`` (``(source, target, method, n_anchors, seed)``
        tuples), ``cell_keys`` (cell -> key) and ``decoder_keys`` (encoder ->
        key), so that a dry run can count the stored ones. The key of a cell
        fitted with the unpaired pools holds the pools' fingerprints; the
        other keys are those of a run without pools.
        """
        pool_keys = {name: fingerprint(pool) for name, pool in (pools or {}).items()}
        pool_methods = self.pool_methods() if pool_keys else []
        data_key = fingerprint(y, split)
        keys = {name: fingerprint(X) for name, X in embeddings.items()}
        decoder_keys = {
            name: fingerprint(key, data_key, self.decoder) for name, key in keys.items()
        }
        cells = [
            (source, target, transform, count, seed)
            for source, target in pairs
            for seed in range(self.n_repeats)
            for count in n_anchors
            for transform in (NAIVE, *self.transforms)
        ]
        cell_keys = {
            cell: fingerprint(
                "cell",
                keys[cell[0]],
                keys[cell[1]],
                data_key,
                self.decoder,
                self.aligner_of(cell[2]),
                cell[3],
                cell[4],
                self.random_state,
                *(
                    ("unpaired", pool_keys[cell[0]], pool_keys[cell[1]])
                    if cell[2] in pool_methods
                    else ()
                ),
            )
            for cell in cells
        }
        return cells, cell_keys, decoder_keys

    def aligner_of(self, method):
        """The unfitted aligner of a method name (a transform or ``"naive"``)."""
        return aligner_for(self.aligner, self.transforms.get(method, method))

    def _fit_decoders(self, embeddings, y, split, names, *, keys):
        def job(name):
            return delayed(_fit_decoder)(
                clone(self.decoder), embeddings[name][split.train], y[split.train]
            )

        return self._run_cached(names, job, keys, "estimators", "decoders")

    def _score_cells(
        self, embeddings, y, split, cells, cell_keys, *, decoders, pools=None
    ):
        test_embeddings = {name: X[split.test] for name, X in embeddings.items()}
        pool_methods = self.pool_methods() if pools else []

        def job(cell):
            source, target, transform, count, seed = cell
            anchors = anchor_draw(split.anchor_pool, count, seed, self.random_state)
            pool = None
            if transform in pool_methods:
                pool = (pools[source], pools[target])
            return delayed(_score_stitched)(
                self.aligner_of(transform),
                embeddings[source][anchors],
                embeddings[target][anchors],
                test_embeddings[source],
                y[split.test],
                decoders[target],
                pool,
            )

        return self._run_cached(cells, job, cell_keys, "cells", "stitching")

    def _run_cached(self, cells, job, keys, kind, desc):
        cache = None if self.cache_dir is None else ResultCache(self.cache_dir)
        return run_cached(
            cells,
            job,
            cache=cache,
            kind=kind,
            keys=keys,
            n_jobs=self.n_jobs,
            desc=desc,
            show_progress=self.show_progress,
        )


def anchor_draw(anchor_pool, n_anchors, seed, random_state):
    """The first ``n_anchors`` of repeat ``seed``'s random order of the pool.

    Draws of one repeat are nested (100 anchors contain the 50), so a curve
    over anchor counts varies only by the anchors added.
    """
    order = np.random.default_rng([random_state, seed]).permutation(anchor_pool)
    return order[:n_anchors]


def _fit_decoder(decoder, X, y):
    return decoder.fit(X, y)


def _score_stitched(
    aligner, source_anchors, target_anchors, source_test, y_test, decoder, pool=None
):
    if pool is not None:
        source_anchors, target_anchors = with_unpaired(
            source_anchors, target_anchors, *pool
        )
    aligned = aligner.fit(source_anchors, target_anchors).transform(source_test)
    return classifier_scores(decoder, aligned, y_test)


def with_unpaired(source_anchors, target_anchors, source_pool, target_pool):
    """The anchors, then the source pool (target side all NaN), then the target
    pool (source side all NaN): :class:`~skalign.SelfLearningAligner`'s rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.evaluation._stitching import with_unpaired
    >>> X, Y = with_unpaired(np.ones((2, 3)), np.ones((2, 2)), np.zeros((4, 3)),
    ...                      np.zeros((1, 2)))
    >>> X.shape, Y.shape, int(np.isnan(X[:, 0]).sum()), int(np.isnan(Y[:, 0]).sum())
    ((7, 3), (7, 2), 1, 4)
    """
    dtype = np.result_type(source_anchors, target_anchors, np.float32)

    def missing(n_rows, like):
        return np.full((n_rows, like.shape[1]), np.nan, dtype=dtype)

    source = np.vstack(
        [source_anchors, source_pool, missing(len(target_pool), source_anchors)]
    )
    target = np.vstack(
        [target_anchors, missing(len(source_pool), target_anchors), target_pool]
    )
    return source.astype(dtype, copy=False), target.astype(dtype, copy=False)


def _run_row(source, target, transform, n_anchors, seed, scores, cached):
    return (
        source,
        target,
        transform,
        n_anchors,
        seed,
        *(scores[m] for m in METRICS),
        cached,
    )


def summarize_runs(runs, by, transforms):
    """Mean and standard deviation (``ddof=0``) of every metric over repeats.

    Returns a long table: the ``by`` columns, ``metric``, ``mean``, ``std`` and
    ``n_runs``, ordered by method (source upper bound, naive, ``transforms``,
    target upper bound), anchor count and metric.
    """
    order = [SOURCE_UPPER_BOUND, NAIVE, *transforms, TARGET_UPPER_BOUND]
    long = runs.melt(
        id_vars=list(by),
        value_vars=list(METRICS),
        var_name="metric",
        value_name="score",
    )
    summary = (
        long.groupby([*by, "metric"], sort=False, dropna=False)["score"]
        .agg(mean="mean", std=lambda s: s.std(ddof=0), n_runs="size")
        .reset_index()
    )
    sort_keys = {
        "transform": lambda c: c.map(order.index),
        "metric": lambda c: c.map(list(METRICS).index),
    }
    return summary.sort_values(
        [*by, "metric"],
        key=lambda column: sort_keys.get(column.name, lambda c: c)(column),
        kind="stable",
    ).reset_index(drop=True)
