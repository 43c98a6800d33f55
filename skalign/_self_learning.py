"""SelfLearningAligner: align from a few pairs plus unpaired embeddings."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone

from ._aligner import LatentAligner
from ._backend import get_namespace, take_rows, to_namespace_of, to_numpy
from ._base import BaseAligner
from ._csls import csls_similarities
from ._matching_guard import MIN_GUARDED_PAIRS, guard_matches, warn_too_few_pairs
from ._sklearn_compat import HasMethods, Interval, StrOptions
from ._validation import (
    check_embeddings,
    check_fit_takes_weights,
    check_translation_width,
)


class SelfLearningAligner(BaseAligner):
    """Align two spaces from a few pairs and many unpaired embeddings.

    Paired anchors are expensive, unpaired embeddings cheap. Following the
    self-learning of cross-lingual word embeddings (VecMap, MUSE), the base
    aligner is fitted on the pairs, the unpaired source rows are translated,
    matched to unpaired target rows by CSLS nearest neighbours (see
    :func:`~skalign.retrieval.retrieve`), and the aligner is refitted on the
    pairs plus the matches, until the matches stop changing. A cross-validated
    guard (``n_folds``) then keeps the matches only when they improve the
    held-out pairs, so the map is never knowingly worse than the pairs-only
    map; ``n_matches_`` and ``cv_scores_`` report what it accepted and why.

    Rows of ``X`` and ``y`` follow the convention of
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier`: a row whose
    ``y`` is all NaN is an unpaired source embedding, a row whose ``X`` is all
    NaN an unpaired target embedding; the other rows are pairs. So a
    :class:`~sklearn.pipeline.Pipeline`, a CV splitter and
    :class:`~sklearn.model_selection.GridSearchCV` handle the unpaired rows
    like any other.

    Parameters
    ----------
    aligner : transformer or None, default=None
        The map refitted at every round (a clone): anything with ``fit(X, y)``
        and ``transform``, e.g. a :class:`LatentAligner`. None is
        ``LatentAligner("ortho")``, the rigid map that noisy matches disturb
        least.
    n_iter : int >= 1, default=10
        Most matching rounds.
    n_neighbors : int >= 1, default=10
        Neighbourhood size ``k`` of the CSLS hubness penalties.
    matching : {"mutual", "many-to-one"}, default="mutual"
        - ``"mutual"``: a source row and a target row are matched when each
          is the other's CSLS nearest neighbour (one to one).
        - ``"many-to-one"``: every source row goes to its CSLS nearest
          target row, for target pools of few distinct points (e.g. class
          descriptions); exact duplicate target rows count once.
    margin : float >= 0, default=0.0
        A match is kept only when its CSLS similarity beats the runner-up's
        (the second-best candidate of either row) by more than ``margin``.
    max_match_ratio : float > 0, default=20.0
        At most ``max_match_ratio`` matches per pair are kept (the most
        similar ones), so that the pairs are never drowned.
    n_folds : int >= 2 or None, default=5
        The guard, which keeps the map from ever being worse than the pairs
        alone: the pairs are dealt out to ``n_folds`` folds, and for each
        fold the whole self-learning is rerun from the other folds' pairs
        (so the matches never see the held-out pairs), and the base aligner
        is fitted on those pairs with and without their matches. Each
        held-out pair is scored by the rank of its own target among the
        distinct candidate targets (the held-out targets and the unpaired
        target rows): the share of the other candidates less cosine-similar
        to its translation (1: retrieved first). The matches are kept only
        when the mean per-pair gain beats both 0.01 and the one-sided 99 %
        Student's t bound of its standard error; otherwise the pairs-only
        map is kept (e.g. pools that share no class, where no true pair
        exists). A rank, unlike the mean cosine, does not reward a map that
        moves every translation towards a dense group of targets (e.g. a few
        near-identical class descriptions matched to the wrong images).
        With fewer pairs than ``n_folds`` each pair is its own fold
        (leave-one-out); with fewer than 3 pairs (a fold must leave 2 to
        learn from) the matches cannot be checked and are refused with a
        warning. None skips the check and keeps the matches unchecked.

    Attributes
    ----------
    aligner_ : transformer
        The base aligner fitted on the pairs and the final matches; it does
        :meth:`transform`, :meth:`inverse_transform` and :meth:`score`.
    matches_ : ndarray of shape (n_matches, 2)
        Final matches as row indices into the ``X`` and ``y`` given to
        :meth:`fit`: column 0 an unpaired source row, column 1 the unpaired
        target row it was matched to.
    n_matches_ : int
        Number of matches accepted (``len(matches_)``): 0 when the guard
        refused them, and then the map is the pairs-only map.
    n_matches_per_round_ : list of int
        Number of matches found at each round, before the guard.
    n_iter_ : int
        Matching rounds run.
    n_pairs_ : int
        Number of paired rows.
    cv_scores_ : dict or None
        What the guard measured (see ``n_folds``): ``"pairs"`` and
        ``"pairs+matches"``, the mean held-out retrieval rank of the pairs
        under the maps fitted on the other folds' pairs alone and with their
        self-learned matches; ``"gain"``, their difference;
        ``"standard_error"`` of the mean per-pair gain; ``"threshold"``, the
        gain the matches had to beat; ``"accepted"``, whether they did.
        None when the check did not run (no match found, fewer than 3
        pairs, or ``n_folds=None``).
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features,)
        Source width and, for ``X`` with string column names, feature names.

    See Also
    --------
    LatentAligner : The map fitted from pairs alone.

    Notes
    -----
    Matching runs on the host (NumPy) on the unpaired rows; the base aligner
    is fitted in the namespace and on the device of the inputs.

    With ``sample_weight``, every fit of the base aligner weights the pairs
    by their weights and each match by 1 (a self-learned match is one piece
    of evidence, whatever the weights of its unpaired rows, which are
    ignored); at most ``max_match_ratio`` times the pairs' total weight
    matches are kept. Integer weights then give the fit on repeated pairs
    when the guard is off (``n_folds=None``): the guard deals out rows, not
    weight, to its folds (and scores the held-out pairs unweighted), so
    repeating a pair differs from weighting it there. A pair of zero weight
    is left out everywhere, guard included, exactly as if it were removed,
    and weights of 1 on every pair give the unweighted fit. Uniform weights
    ``c != 1`` are not the unweighted fit: they weigh the pairs ``c`` times
    as much as each match.

    Examples
    --------
    A hidden rotation, 5 pairs, and unpaired rows of the same cloud shuffled
    on the target side:

    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skalign import LatentAligner, SelfLearningAligner
    >>> rng = np.random.default_rng(0)
    >>> source = rng.normal(size=(200, 4)) * [4.0, 3.0, 2.0, 1.0]
    >>> target = source @ ortho_group.rvs(4, random_state=0)
    >>> X = np.vstack([source[:5], source[5:], np.full((195, 4), np.nan)])
    >>> unpaired = np.full((195, 4), np.nan)
    >>> Y = np.vstack([target[:5], unpaired, rng.permutation(target[5:])])
    >>> plain = LatentAligner("ortho", std_scaling=False)
    >>> aligner = SelfLearningAligner(plain).fit(X, Y)
    >>> bool(np.allclose(aligner.transform(source), target))
    True
    >>> aligner.n_matches_per_round_[0] > 0  # matches were found ...
    True

    but five exact pairs already give the rotation: the held-out pairs gain
    nothing from the matches, so the guard keeps the pairs-only map.

    >>> aligner.n_matches_, aligner.cv_scores_["accepted"]
    (0, False)
    """

    _parameter_constraints: dict = {
        "aligner": [None, HasMethods(["fit", "transform"])],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "matching": [StrOptions({"mutual", "many-to-one"})],
        "margin": [Interval(Real, 0, None, closed="left")],
        "max_match_ratio": [Interval(Real, 0, None, closed="neither")],
        "n_folds": [None, Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        aligner=None,
        *,
        n_iter=10,
        n_neighbors=10,
        matching="mutual",
        margin=0.0,
        max_match_ratio=20.0,
        n_folds=5,
    ):
        self.aligner = aligner
        self.n_iter = n_iter
        self.n_neighbors = n_neighbors
        self.matching = matching
        self.margin = margin
        self.max_match_ratio = max_match_ratio
        self.n_folds = n_folds

    def _check_anchors(self, X, y):
        """The rows and which are pairs, unpaired sources and unpaired targets."""
        return _split_rows(X, y, estimator=self)

    def _fit(self, X_checked, Y, pairs, sources, targets, sample_weight=None):
        """Fit on the pairs, then refine with matches among the unpaired rows."""
        template = LatentAligner("ortho") if self.aligner is None else self.aligner
        if sample_weight is not None:
            check_fit_takes_weights(template, self)
            pairs = _weighted_pairs(pairs, sample_weight)
            if np.all(sample_weight[pairs] == 1):
                sample_weight = None  # the pairs weigh as the matches: unweighted
        source_pool = take_rows(X_checked, sources)
        target_pool, target_rows = _distinct_rows(
            to_numpy(take_rows(Y, targets)), targets
        )

        def fit_on(pair_rows, matches):
            return _fit_on(template, X_checked, Y, pair_rows, matches, sample_weight)

        def learn(pair_rows):
            with np.errstate(over="ignore"):  # weights near 1e308: inf pairs
                pair_weight = (
                    pair_rows.size
                    if sample_weight is None
                    else float(sample_weight[pair_rows].sum())
                )
            return self._self_learn(
                fit_on,
                pair_rows,
                pair_weight,
                (sources, source_pool),
                (target_rows, target_pool),
            )

        matches, aligner, n_matches = learn(pairs)
        cv_scores = None
        if self.n_folds is not None and len(matches):
            if pairs.size >= MIN_GUARDED_PAIRS:
                cv_scores = guard_matches(
                    lambda rows: learn(rows)[:2],
                    fit_on,
                    X_checked,
                    Y,
                    pairs,
                    target_pool,
                    min(self.n_folds, pairs.size),
                )
                accepted = cv_scores["accepted"]
            else:
                warn_too_few_pairs(pairs.size, len(matches))
                accepted = False
            if not accepted:
                matches = matches[:0]
                aligner = fit_on(pairs, matches)
        self.aligner_ = aligner
        self.matches_ = matches
        self.n_matches_ = len(matches)
        self.n_matches_per_round_ = n_matches
        self.n_iter_ = len(n_matches)
        self.n_pairs_ = int(pairs.size)
        self.cv_scores_ = cv_scores

    def _transform(self, X):
        return self.aligner_.transform(X)

    def _inverse_available(self):
        """Whether the base aligner can be inverted (an AnchorKernelAligner
        cannot): ``inverse_transform`` exists only then."""
        base = getattr(self, "aligner_", None)
        if base is None:
            base = LatentAligner() if self.aligner is None else self.aligner
        return hasattr(base, "inverse_transform")

    def _inverse_transform(self, Y):
        """Translate target-space embeddings back with the base aligner."""
        return self.aligner_.inverse_transform(Y)

    def _scored_pairs(self, X, y):
        """The paired rows only: rows NaN on one side (unpaired) are left out,
        so that :class:`~sklearn.model_selection.GridSearchCV` scores test
        folds that hold unpaired rows."""
        X, Y, pairs, _, _ = _split_rows(X, y, estimator=self, scoring=True)
        X_pairs, Y_pairs = self._check_source(take_rows(X, pairs)), take_rows(Y, pairs)
        base_pairs = getattr(self.aligner_, "_scored_pairs", None)
        if base_pairs is not None:  # e.g. a LatentAligner's target encoder
            translated, Y_pairs, _ = base_pairs(X_pairs, Y_pairs)
        else:
            translated = self.aligner_.transform(X_pairs)
        return translated, to_namespace_of(Y_pairs, translated), pairs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _self_learn(self, fit_on, pairs, pair_weight, sources, targets):
        """Match and refit until the matches stop changing.

        ``pair_weight`` is the pairs' total weight (their number when
        unweighted); ``sources`` and ``targets`` are (row indices, pool) of
        the unpaired rows; returns the matches (row indices), the map fitted
        on the pairs and the matches, and the number of matches found at each
        round.
        """
        (source_rows, source_pool), (target_rows, target_pool) = sources, targets
        # at most one match per unpaired source row, whatever the weights
        max_matches = math.floor(
            min(self.max_match_ratio * pair_weight, source_rows.size)
        )
        matches = np.empty((0, 2), dtype=np.intp)
        n_matches = []
        aligner = fit_on(pairs, matches)
        if len(source_pool):
            check_translation_width(
                aligner,
                source_pool[:1],
                target_pool.shape[1],
                owner=self,
                param="aligner",
            )
        for _ in range(self.n_iter if source_rows.size and target_rows.size else 0):
            found = self._match(
                to_numpy(aligner.transform(source_pool)), target_pool, max_matches
            )
            found = np.column_stack(
                [source_rows[found[:, 0]], target_rows[found[:, 1]]]
            )
            n_matches.append(len(found))
            if _same_matches(found, matches):
                break
            matches = found
            aligner = fit_on(pairs, matches)
        return matches, aligner, n_matches

    def _match(self, translated, target_pool, max_matches):
        """Guarded CSLS matches as (source pool row, target pool row) pairs."""
        similarities = csls_similarities(
            translated, target_pool, n_neighbors=self.n_neighbors
        )
        best_target = similarities.argmax(axis=1)
        rows = np.arange(len(translated))
        best = similarities[rows, best_target]
        gap = best - _runner_up(similarities, axis=1)
        if self.matching == "mutual":
            best_source = similarities.argmax(axis=0)
            keep = best_source[best_target] == rows
            gap = np.minimum(gap, best - _runner_up(similarities, axis=0)[best_target])
        else:
            keep = np.ones_like(rows, dtype=bool)
        keep &= gap > self.margin
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(-best[kept], kind="stable")[:max_matches]]
        kept.sort()
        return np.column_stack([kept, best_target[kept]])


def _split_rows(X, Y, *, estimator, scoring=False):
    """Check ``X`` and ``Y``; return them and the pair / unpaired row indices
    (``scoring``: rows given to ``score``, which needs one pair, not two)."""
    name = type(estimator).__name__
    if Y is None:
        raise ValueError(
            f"This {name} estimator requires y to be passed, but the target y is "
            "None. Pass the target-space embeddings (all-NaN rows for unpaired "
            "source rows)."
        )
    X = _check_with_nan(X, "X", estimator)
    Y = _check_with_nan(Y, "y", estimator)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {Y.shape[0]}: rows are paired row "
            "by row (mark an unpaired row by filling the other side with NaN). "
            "Pass the same number of rows to both sides."
        )
    if scoring:
        owner, purpose, min_pairs = "the scored rows", "score", 1
    else:
        owner, purpose, min_pairs = "the training data", f"{name}'s first map", 2
    pairs, x_missing, y_missing = paired_rows(
        X, Y, sides=("X", "y"), owner=owner, purpose=purpose, min_pairs=min_pairs
    )
    return X, Y, pairs, np.flatnonzero(y_missing), np.flatnonzero(x_missing)


def _weighted_pairs(pairs, sample_weight):
    """The pairs of positive weight; at least 2, as :func:`_split_rows` asks."""
    kept = pairs[sample_weight[pairs] > 0]
    if kept.size < 2:
        raise ValueError(
            f"sample_weight is positive on {kept.size} paired rows (rows NaN on "
            "neither side), but the first map needs at least 2. Give more pairs a "
            "weight > 0."
        )
    return kept


def _check_with_nan(X, input_name, estimator):
    if input_name == "y" and np.ndim(X) == 1:
        raise ValueError(
            f"y must be 2-D target embeddings of shape (n_samples, "
            f"n_target_features); got a 1-D array of shape {np.shape(X)}. If the "
            "target space really has one feature, pass y.reshape(-1, 1)."
        )
    return check_embeddings(
        X, input_name=input_name, estimator=estimator, min_samples=2, allow_nan=True
    )


def paired_rows(X, Y, *, sides, owner, purpose, min_pairs=2):
    """The pairs of NaN-marked anchors ``X``, ``Y`` and their unpaired rows.

    A row all-NaN on one side is an unpaired row of the other side. A row
    partly NaN, a row NaN on both sides and fewer than 2 pairs are refused;
    the messages call the two sides ``sides``, the anchors ``owner`` and what
    needs the pairs ``purpose``.

    Returns
    -------
    pairs : ndarray of int
        Rows finite on both sides.
    x_missing, y_missing : ndarray of bool
        Rows all-NaN in ``X`` (unpaired targets), in ``Y`` (unpaired sources).
    """
    x_missing, x_partial = _missing_rows(X)
    y_missing, y_partial = _missing_rows(Y)
    for side, partial in zip(sides, (x_partial, y_partial), strict=True):
        if partial.size:
            raise ValueError(
                f"Row {int(partial[0])} of {side} is partly NaN. Only whole rows "
                "may be NaN (an unpaired row: its other side is all NaN); impute "
                "or drop rows with missing features."
            )
    both = np.flatnonzero(x_missing & y_missing)
    if both.size:
        raise ValueError(
            f"Row {int(both[0])} of {owner} is NaN on both sides, in both "
            f"{sides[0]} and {sides[1]}, so it holds no embedding; drop it (an "
            "unpaired row is NaN on one side only)."
        )
    pairs = np.flatnonzero(~x_missing & ~y_missing)
    if pairs.size < min_pairs:
        raise ValueError(
            f"{owner[:1].upper()}{owner[1:]} has {pairs.size} pair(s) (rows finite "
            "on both sides); "
            f"{purpose} needs at least {min_pairs} paired row(s). Add pairs: the "
            "unpaired rows are used through the map the pairs give."
        )
    return pairs, x_missing, y_missing


def _missing_rows(X):
    """Boolean all-NaN mask and the indices of partly-NaN rows (NumPy)."""
    xp = get_namespace(X)
    nan = xp.isnan(X)
    missing = to_numpy(xp.all(nan, axis=1))
    partial = np.flatnonzero(to_numpy(xp.any(nan, axis=1)) & ~missing)
    return missing, partial


def _distinct_rows(pool, rows):
    """Exact duplicate rows of ``pool`` once, with their original row indices."""
    _, first = np.unique(pool, axis=0, return_index=True)
    first.sort()
    return pool[first], rows[first]


def _runner_up(similarities, axis):
    """Second-largest value along ``axis`` (-inf when there is a single one)."""
    if similarities.shape[axis] < 2:
        return np.full(similarities.shape[1 - axis], -np.inf)
    return -np.partition(-similarities, 1, axis=axis).take(1, axis=axis)


def _same_matches(found, matches):
    return found.shape == matches.shape and bool(np.all(found == matches))


def _fit_on(template, X, Y, pairs, matches, sample_weight=None):
    """Fit a clone of ``template`` on the pairs plus the matched rows (the
    pairs weighted by ``sample_weight`` when given, the matches by 1)."""
    source = take_rows(X, np.concatenate([pairs, matches[:, 0]]))
    target = take_rows(Y, np.concatenate([pairs, matches[:, 1]]))
    if sample_weight is None:
        return clone(template).fit(source, target)
    weights = np.concatenate([sample_weight[pairs], np.ones(len(matches))])
    return clone(template).fit(source, target, sample_weight=weights)
