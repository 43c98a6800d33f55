"""Helpers shared by the estimators that meet inputs in a text encoder's space.

:class:`~skalign.ZeroShotTextSpaceClassifier` and
:class:`~skalign.retrieval.ReportRetriever` both embed texts with a cloned text
encoder, fit (a clone of) an aligner on anchors whose targets are those text
embeddings, and need the translated inputs to be as wide as the texts.
"""

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_array

from ._backend import to_numpy


def encode_texts(text_encoder, texts):
    """Fit a clone of ``text_encoder`` and embed ``texts`` with it.

    Parameters
    ----------
    text_encoder : transformer
        Anything with ``fit`` and ``transform(list of str)``.
    texts : list of str

    Returns
    -------
    fitted_encoder : transformer
        The fitted clone (``text_encoder`` itself if it is frozen).
    embeddings : ndarray of shape (len(texts), n_text_features)

    Examples
    --------
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skalign._text_space import encode_texts
    >>> length = FunctionTransformer(lambda texts: [[len(t)] for t in texts])
    >>> encode_texts(length, ["a", "abc"])[1].tolist()
    [[1.0], [3.0]]
    """
    fitted = clone(text_encoder).fit(texts, None)
    embeddings = to_numpy(fitted.transform(texts))
    if embeddings.ndim != 2 or embeddings.shape[0] != len(texts):
        raise ValueError(
            f"The text encoder returned an array of shape {embeddings.shape} for "
            f"{len(texts)} texts; it must return one row per text, i.e. shape "
            "(n_texts, n_text_features)."
        )
    embeddings = check_array(
        embeddings,
        dtype=(np.float64, np.float32),
        ensure_all_finite=False,
        input_name="text embeddings",
    )
    bad = np.flatnonzero(~np.isfinite(embeddings).all(axis=1))
    if bad.size:
        raise ValueError(
            f"The text encoder {type(text_encoder).__name__} returned NaN or "
            f"infinite text embeddings for {bad.size} of {len(texts)} texts (first "
            f"{texts[bad[0]]!r}). Check the encoder (e.g. a model in half "
            "precision that overflows) and those texts."
        )
    return fitted, embeddings


def is_learned(aligner):
    """Whether :func:`fit_aligner` estimates ``aligner`` from the anchors.

    None and a :class:`~sklearn.frozen.FrozenEstimator` are used as they are.
    """
    return aligner is not None and not isinstance(aligner, FrozenEstimator)


def fit_aligner(aligner, X, targets, sample_weight=None):
    """Fit a clone of ``aligner`` on ``X`` paired with text ``targets``.

    A :class:`~sklearn.frozen.FrozenEstimator` is returned as is (its clone is
    itself and its ``fit`` does nothing); None stays None. ``sample_weight``,
    when given, goes to the clone's ``fit``.
    """
    if aligner is None:
        return None
    if is_learned(aligner) and getattr(aligner, "target_encoder", None) is not None:
        raise ValueError(
            "The aligner is fitted on text embeddings computed here, but it has a "
            "target_encoder that would embed them again. Set its "
            "target_encoder=None, or pass a fitted aligner wrapped in "
            "sklearn.frozen.FrozenEstimator."
        )
    if sample_weight is None:
        return clone(aligner).fit(X, targets)
    return clone(aligner).fit(X, targets, sample_weight=sample_weight)


def check_text_width(X, aligner, n_text_features, texts="prompt embeddings"):
    """Raise unless ``X``, translated by ``aligner``, is ``n_text_features`` wide."""
    if aligner is None:
        if X.shape[1] != n_text_features:
            raise ValueError(
                f"X has {X.shape[1]} features but the {texts} have "
                f"{n_text_features}. With aligner=None the inputs must already live "
                "in the text encoder's space (as CLIP image embeddings do); pass "
                "an aligner (e.g. LatentAligner) to translate them into it."
            )
        return
    width = to_numpy(aligner.transform(X[:1])).shape[1]
    if width != n_text_features:
        raise ValueError(
            f"The aligner maps X into a {width}-dimensional space but the {texts} "
            f"have {n_text_features} dimensions. Fit the aligner with targets "
            "embedded by the same text encoder."
        )
