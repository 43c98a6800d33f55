"""The guard of self-learning: keep matches only when held-out pairs gain.

Self-learning (:class:`~skalign.SelfLearningAligner`) adds matches between
unpaired rows to the pairs. When the unpaired pools hold no true pair (e.g.
images of five classes against descriptions of five others), every match is
wrong, and a map refitted on them is worse than the pairs alone. The guard
cross-validates the whole procedure on the pairs: per fold, the matches are
learned from the other folds' pairs only, and each held-out pair is scored
under the maps fitted on those pairs with and without the matches.
"""

import warnings

import numpy as np
from scipy.stats import t as student_t

from ._backend import take_rows, to_numpy
from ._preprocessing import normalize_rows

#: The mean per-pair gain in held-out retrieval rank must be positive at this
#: one-sided confidence (Student's t on the per-pair gains) ...
CONFIDENCE = 0.99
#: ... and exceed this absolute margin (a share of the candidate targets).
MIN_GAIN = 0.01
#: Fewest pairs the guard can judge by: each held-out fold must leave two
#: pairs to learn from (leave-one-out below ``n_folds`` pairs).
MIN_GUARDED_PAIRS = 3


def warn_too_few_pairs(n_pairs, n_matches):
    """Warn that ``n_matches`` matches are refused: too few pairs to check them."""
    warnings.warn(
        f"{n_pairs} pairs are too few to check the {n_matches} self-learned "
        f"matches on held-out pairs (the guard needs at least "
        f"{MIN_GUARDED_PAIRS}: each held-out pair must leave two to learn "
        "from), so they are refused and the map is the pairs-only map. Add "
        "pairs, or pass n_folds=None to keep the matches unchecked.",
        UserWarning,
        stacklevel=4,
    )


def guard_matches(learn, fit_on, X, Y, pairs, target_pool, n_folds):
    """Cross-validate self-learning against the pairs alone.

    Parameters
    ----------
    learn : callable
        ``learn(pair_rows)`` runs the self-learning from the pairs
        ``pair_rows`` and returns ``(matches, aligner)``: the matches as an
        array of (source row, target row) indices, the map fitted on the
        pairs and the matches.
    fit_on : callable
        ``fit_on(pair_rows, matches)`` fits the base map on the pairs and the
        matches.
    X, Y : array-like or torch.Tensor
        Source and target rows that ``pairs`` index.
    pairs : ndarray of int
        Paired rows.
    target_pool : ndarray of shape (n_distinct, n_target_features)
        Distinct unpaired target rows (NumPy), candidates of the ranking.
    n_folds : int >= 2
        Number of folds; the pairs are dealt out to them in turn.

    Returns
    -------
    scores : dict
        ``"pairs"`` and ``"pairs+matches"``: mean held-out retrieval rank
        (see :func:`retrieval_ranks`) without and with the learned matches;
        ``"gain"``: their difference, ``"standard_error"``: the standard
        error of the mean per-pair gain, ``"threshold"``: the gain the
        matches had to beat (``max(MIN_GAIN, Z_SCORE * standard_error)``),
        and ``"accepted"``: whether they beat it.
    """
    folds = [pairs[k::n_folds] for k in range(n_folds)]
    ranks = {"pairs": [], "pairs+matches": []}
    for k, held_out in enumerate(folds):
        rest = np.concatenate(folds[:k] + folds[k + 1 :])
        targets = to_numpy(take_rows(Y, held_out))
        source = take_rows(X, held_out)
        _, with_matches = learn(rest)
        for name, aligner in (
            ("pairs", fit_on(rest, np.empty((0, 2), dtype=np.intp))),
            ("pairs+matches", with_matches),
        ):
            translated = to_numpy(aligner.transform(source))
            ranks[name].append(retrieval_ranks(translated, targets, target_pool))
    ranks = {name: np.concatenate(values) for name, values in ranks.items()}
    gains = ranks["pairs+matches"] - ranks["pairs"]
    standard_error = float(gains.std(ddof=1) / np.sqrt(gains.size))
    quantile = student_t.ppf(CONFIDENCE, df=gains.size - 1)
    threshold = max(MIN_GAIN, float(quantile) * standard_error)
    return {
        "pairs": float(ranks["pairs"].mean()),
        "pairs+matches": float(ranks["pairs+matches"].mean()),
        "gain": float(gains.mean()),
        "standard_error": standard_error,
        "threshold": threshold,
        "accepted": bool(gains.mean() > threshold),
    }


def retrieval_ranks(translated, targets, target_pool):
    """Share of the other candidate targets that each row's own target outranks.

    The candidates are the distinct rows of ``targets`` and ``target_pool``;
    row i scores the fraction of the other candidates whose cosine similarity
    to ``translated[i]`` is below that of ``targets[i]`` (1: its own target
    is retrieved first; 0.5: chance). Unlike the mean cosine, a map cannot
    raise it by moving every translation towards the dense part of the target
    space (e.g. a few near-identical class descriptions).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._matching_guard import retrieval_ranks
    >>> targets = np.eye(3)
    >>> retrieval_ranks(targets, targets, np.ones((1, 3))).tolist()
    [1.0, 1.0, 1.0]
    """
    candidates, inverse = np.unique(
        np.vstack([targets, target_pool]), axis=0, return_inverse=True
    )
    similarities = normalize_rows(translated) @ normalize_rows(candidates).T
    own = similarities[np.arange(len(targets)), inverse.ravel()[: len(targets)]]
    outranked = (similarities < own[:, None]).sum(axis=1)
    return outranked / max(len(candidates) - 1, 1)
