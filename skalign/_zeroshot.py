"""ZeroShotTextSpaceClassifier: classify embeddings by their similarity to prompts.

A vision encoder trained without text gains zero-shot classification once its
embeddings are translated into a text encoder's space (the paper's Fig. 2): each
class is described by a few prompts, the prompts' normalised embeddings are
averaged into one class embedding (as :func:`open_clip.build_zero_shot_classifier`
does), and a translated image goes to the class it is most cosine-similar to.
Without an aligner this is the standard CLIP-style zero-shot classifier.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import normalize
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    NotFittedError,
    check_is_fitted,
    validate_data,
)

from ._backend import to_numpy
from ._csls import csls_from_cosine, neighborhood_similarity
from ._text_space import check_text_width, encode_texts, fit_aligner, is_learned


class ZeroShotTextSpaceClassifier(ClassifierMixin, BaseEstimator):
    """Zero-shot classifier comparing (translated) embeddings with class prompts.

    Each class is described by one or more prompts. Their embeddings by a text
    encoder are L2-normalised, averaged and normalised again into one class
    embedding (a prompt ensemble). An input embedding is translated into the
    text space by ``aligner`` and scored by its cosine similarity with every
    class embedding.

    - ``aligner=None``: the inputs already live in the text space, as the image
      embeddings of CLIP-style models do (the standard multimodal baseline).
    - A fitted aligner, e.g. a :class:`~skalign.LatentAligner` estimated
      beforehand on image–report pairs, makes the classifier zero-shot:
      :meth:`fit` needs no labels.
    - An unfitted aligner is estimated in :meth:`fit` from labelled anchors,
      each image paired with its class embedding (its label's description), so
      the transform can be chosen by cross-validation.

    Parameters
    ----------
    class_prompts : mapping
        Label → prompts describing that class: a string, a list of strings
        (averaged after normalisation), or, with ``text_encoder=None``,
        precomputed prompt embeddings of shape ``(n_prompts, n_text_features)``
        or ``(n_text_features,)``. Its keys are the classes (``classes_``),
        whether or not they occur in the labels passed to :meth:`fit`.
    text_encoder : transformer or None, default=None
        Embeds the prompts: anything with ``fit`` and ``transform(list of str)
        -> (n, n_text_features)``, e.g.
        ``EmbeddingExtractor("sentence-transformers:all-MiniLM-L6-v2")``. A
        clone is fitted (wrap it in :class:`~sklearn.frozen.FrozenEstimator` to
        use it as is). None means ``class_prompts`` holds embeddings.
    aligner : transformer or None, default=None
        Translates the inputs into the text space (see above). Which aligner is
        used after :meth:`fit`:

        - ``fit(X)`` (no labels) uses ``aligner`` itself, which must be fitted;
        - ``fit(X, y)`` fits a clone on the anchors ``X`` paired with the class
          embeddings of ``y``, unless ``aligner`` is a
          :class:`~sklearn.frozen.FrozenEstimator`, which is never refitted.

        Wrap a pre-fitted aligner in ``FrozenEstimator`` whenever labels are
        passed to ``fit``, e.g. by :func:`~sklearn.model_selection.cross_val_score`,
        which also clones the classifier (a clone of a plain fitted aligner is
        unfitted and would be re-estimated from the labels).
    temperature : float > 0, default=0.01
        Softmax temperature of :meth:`predict_proba`: probabilities are
        ``softmax(similarities / temperature)``. The default is CLIP's (a
        logit scale of 100).
    hubness : {"csls"} or None, default=None
        None scores by cosine similarity. ``"csls"`` scores by the
        hubness-aware CSLS similarity ``2 cos(x, c) - r(x) - r(c)`` (see
        :func:`~skalign.retrieval.retrieve`), which stops a class embedding
        that sits near every input (a hub) from taking most predictions:
        ``r(c)`` is the mean cosine similarity of class ``c`` to its
        ``hubness_neighbors`` nearest translated inputs *seen in* :meth:`fit`
        (kept as ``class_hubness_``, so a prediction does not depend on the
        batch it arrives in), and ``r(x)`` that of the input to its nearest
        class embeddings. Scores then lie in ``[-4, 4]``.
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties (clipped to the number of
        fitted inputs, or of classes).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted keys of ``class_prompts``.
    class_embeddings_ : ndarray of shape (n_classes, n_text_features)
        Unit-norm prompt-ensemble embedding of each class, in ``classes_`` order.
    aligner_ : transformer or None
        The aligner used by :meth:`predict`: ``aligner`` itself (fitted or
        frozen), its fitted clone, or None.
    class_hubness_ : ndarray of shape (n_classes,)
        CSLS penalty ``r(c)`` of each class (only with ``hubness="csls"``).
    text_encoder_ : transformer
        The fitted clone of ``text_encoder`` (only when one is given).
    n_features_in_ : int
        Number of input features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features,)
        Input feature names, when ``X`` has string column names.

    See Also
    --------
    LatentAligner : The aligner that translates one encoder's space into another's.

    Notes
    -----
    :meth:`decision_function` returns cosine similarities, one column per
    class; for two classes it returns the single column ``s[1] - s[0]``
    (positive means ``classes_[1]``), so that
    :func:`~sklearn.metrics.roc_auc_score` and the ``"roc_auc"`` scorer work.

    Examples
    --------
    Translate a toy "image" space into a toy "text" space with an aligner
    learned from labelled anchors, then classify new images zero-shot:

    >>> import numpy as np
    >>> from skalign import LatentAligner, ZeroShotTextSpaceClassifier
    >>> rng = np.random.default_rng(0)
    >>> prompts = {"cat": rng.normal(size=(3, 6)), "dog": rng.normal(size=(3, 6))}
    >>> y = rng.choice(["cat", "dog"], size=60)
    >>> X = np.where((y == "cat")[:, None], 2.0, -2.0) + rng.normal(size=(60, 4))
    >>> clf = ZeroShotTextSpaceClassifier(prompts, aligner=LatentAligner("affine"))
    >>> clf = clf.fit(X[:40], y[:40])
    >>> clf.classes_.tolist()
    ['cat', 'dog']
    >>> float(clf.score(X[40:], y[40:]))
    1.0
    >>> clf.decision_function(X[40:]).shape
    (20,)

    The CLIP-style baseline with a real text encoder (the packaged
    all-MiniLM-L6-v2); here the inputs are themselves text embeddings:

    >>> from skalign.extract import EmbeddingExtractor
    >>> encoder = EmbeddingExtractor("all-minilm-l6-v2", device="cpu")
    >>> clf = ZeroShotTextSpaceClassifier(
    ...     {"cat": ["a photo of a cat", "a kitten"], "dog": ["a photo of a dog"]},
    ...     text_encoder=encoder,
    ... )
    >>> captions = encoder.fit_transform(["a tabby sleeps on the sofa", "a puppy yaps"])
    >>> clf.fit(captions).predict(captions).tolist()
    ['cat', 'dog']
    """

    _parameter_constraints: dict = {
        "class_prompts": [Mapping],
        "text_encoder": [None, HasMethods(["fit", "transform"])],
        "aligner": [None, HasMethods(["fit", "transform"])],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "hubness": [StrOptions({"csls"}), None],
        "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        class_prompts,
        *,
        text_encoder=None,
        aligner=None,
        temperature=0.01,
        hubness=None,
        hubness_neighbors=10,
    ):
        self.class_prompts = class_prompts
        self.text_encoder = text_encoder
        self.aligner = aligner
        self.temperature = temperature
        self.hubness = hubness
        self.hubness_neighbors = hubness_neighbors

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Embed the class prompts and settle the aligner.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input embeddings (e.g. images embedded by a vision encoder). Used
            as anchors when the aligner is learned; otherwise only checked.
        y : array-like of shape (n_samples,), default=None
            Class labels of ``X``, each a key of ``class_prompts``. Given, an
            unfrozen ``aligner`` is estimated from ``X`` paired with the class
            embeddings of ``y`` (with ``aligner=None`` or a frozen one they
            are only checked). None (zero-shot) needs a fitted ``aligner`` or
            none.

        Returns
        -------
        self : ZeroShotTextSpaceClassifier
            The fitted classifier.
        """
        if y is None:
            X = validate_data(self, X, dtype=(np.float64, np.float32))
        else:
            X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
            check_classification_targets(y)
        classes = _class_labels(self.class_prompts)
        if y is not None:
            _check_labels_have_prompts(y, classes)
        text_encoder, class_embeddings = self._embed_classes(classes)
        aligner = self._settle_aligner(X, y, classes, class_embeddings)
        check_text_width(X, aligner, class_embeddings.shape[1])
        self.classes_ = classes
        self.class_embeddings_ = class_embeddings
        self.aligner_ = aligner
        if text_encoder is not None:
            self.text_encoder_ = text_encoder
        if self.hubness == "csls":
            self.class_hubness_ = neighborhood_similarity(
                class_embeddings, self._translate(X), self.hubness_neighbors
            )
        return self

    def decision_function(self, X):
        """Cosine similarity of each (translated) input with each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            Cosine similarities in ``[-1, 1]``, columns in ``classes_`` order;
            for two classes, ``similarity(classes_[1]) - similarity(classes_[0])``.
        """
        similarities = self._similarities(X)
        if len(self.classes_) == 2:
            return similarities[:, 1] - similarities[:, 0]
        return similarities

    def predict(self, X):
        """Most similar class of each input.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        similarities = self._similarities(X)
        return self.classes_[np.argmax(similarities, axis=1)]

    def predict_proba(self, X):
        """Softmax of the similarities divided by ``temperature``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one, columns in ``classes_`` order.
        """
        return softmax(self._similarities(X) / self.temperature, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._similarities(X) / self.temperature, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def _similarities(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        X = self._translate(X)
        cosine = normalize(X) @ self.class_embeddings_.T
        if self.hubness != "csls":
            return cosine
        return csls_from_cosine(
            cosine,
            neighborhood_similarity(X, self.class_embeddings_, self.hubness_neighbors),
            self.class_hubness_,
        )

    def _translate(self, X):
        return X if self.aligner_ is None else to_numpy(self.aligner_.transform(X))

    def _embed_classes(self, classes):
        """Return the fitted text encoder (or None) and the class embeddings."""
        if self.text_encoder is None:
            return None, prompt_ensemble(
                _precomputed_prompt_embeddings(self.class_prompts, classes), classes
            )
        prompts = _text_prompts(self.class_prompts, classes)
        flat = [prompt for class_prompts in prompts for prompt in class_prompts]
        text_encoder, embeddings = encode_texts(self.text_encoder, flat)
        splits = np.cumsum([len(class_prompts) for class_prompts in prompts])[:-1]
        return text_encoder, prompt_ensemble(np.split(embeddings, splits), classes)

    def _settle_aligner(self, X, y, classes, class_embeddings):
        """Return the aligner to predict with, fitting a clone when labels are given."""
        if y is not None:
            if is_learned(self.aligner):
                _check_two_labelled_classes(y)
            targets = class_embeddings[np.searchsorted(classes, y)]
            return fit_aligner(self.aligner, X, targets)
        if self.aligner is None:
            return None
        try:
            check_is_fitted(self.aligner)
        except NotFittedError as exc:
            raise NotFittedError(
                f"fit(X) without labels needs a fitted aligner, but "
                f"{type(self.aligner).__name__} is not fitted. Fit it on paired "
                "anchors first (e.g. LatentAligner().fit(image_anchors, "
                "report_embeddings)), or pass labels y so that fit learns it from "
                "anchors paired with their class descriptions."
            ) from exc
        return self.aligner


def prompt_ensemble(prompt_embeddings, classes=None):
    """Average each class's normalised prompt embeddings into a unit vector.

    The prompt ensemble of CLIP's zero-shot classifiers: every prompt
    embedding is scaled to unit norm, the class's prompts are averaged and
    the mean is scaled to unit norm again.

    Parameters
    ----------
    prompt_embeddings : sequence of array-like of shape (n_prompts, n_features)
        One array per class (the number of prompts may differ by class).
    classes : array-like of shape (n_classes,), default=None
        Class names, used in error messages only.

    Returns
    -------
    class_embeddings : ndarray of shape (n_classes, n_features)
        Unit-norm rows.

    Examples
    --------
    >>> from skalign._zeroshot import prompt_ensemble
    >>> prompt_ensemble([[[3.0, 0.0], [0.0, 1.0]]]).round(4).tolist()
    [[0.7071, 0.7071]]
    """
    means = np.stack([normalize(np.asarray(e)).mean(axis=0) for e in prompt_embeddings])
    norms = np.linalg.norm(means, axis=1)
    if np.any(norms == 0):
        names = np.arange(len(means)) if classes is None else np.asarray(classes)
        raise ValueError(
            f"The prompts of class {names[np.flatnonzero(norms == 0)[0]]!r} average "
            "to the zero vector (zero or opposite prompt embeddings), so the class "
            "has no direction to compare with. Give it prompts that describe it."
        )
    return means / norms[:, None]


def _class_labels(class_prompts):
    """Return the sorted classes of ``class_prompts``; at least two are needed."""
    if len(class_prompts) < 2:
        raise ValueError(
            f"class_prompts must describe at least two classes, got "
            f"{len(class_prompts)} ({list(class_prompts)!r}): a zero-shot "
            "classifier chooses between classes. Add a prompt list for each class."
        )
    try:
        return unique_labels(list(class_prompts))
    except ValueError as exc:
        raise ValueError(
            f"The keys of class_prompts are the class labels and must all be "
            f"strings or all numbers ({exc}). Got {list(class_prompts)!r}."
        ) from exc


def _check_two_labelled_classes(y):
    """Raise unless ``y`` holds two classes: one class gives every anchor one target."""
    labels = unique_labels(y)
    if labels.size < 2:
        raise ValueError(
            f"Learning the aligner from labelled anchors needs at least two classes "
            f"in y, got one class ({labels[0]!r}): every anchor would be paired with "
            "the same class embedding, which leaves the map undetermined. Pass "
            "anchors of two or more classes, or a fitted aligner (wrapped in "
            "sklearn.frozen.FrozenEstimator) to skip learning it."
        )


def _check_labels_have_prompts(y, classes):
    missing = np.setdiff1d(unique_labels(y), classes)
    if missing.size:
        raise ValueError(
            f"y contains labels without prompts: {missing.tolist()!r}. Every label "
            f"passed to fit must be a key of class_prompts (classes: "
            f"{classes.tolist()!r}); add prompts for these labels or drop their "
            "samples."
        )


def _text_prompts(class_prompts, classes):
    """Return, in ``classes`` order, each class's prompts as a list of strings."""
    prompts = []
    for label in classes.tolist():
        value = class_prompts[label]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise TypeError(
                f"class_prompts[{label!r}] must be a string or a list of strings, "
                f"got {type(value).__name__}. To pass precomputed prompt "
                "embeddings, set text_encoder=None."
            )
        if not items:
            raise ValueError(
                f"Class {label!r} has no prompts. Give every class at least one "
                "prompt (e.g. 'a photo of a {label}'), or remove it from "
                "class_prompts."
            )
        not_text = [item for item in items if not isinstance(item, str)]
        if not_text:
            raise TypeError(
                f"Prompts must be strings, but class_prompts[{label!r}] holds "
                f"{not_text[0]!r} ({type(not_text[0]).__name__}). Pass text prompts, "
                "or set text_encoder=None and pass prompt embeddings."
            )
        prompts.append(list(items))
    return prompts


def _precomputed_prompt_embeddings(class_prompts, classes):
    """Return, in ``classes`` order, each class's prompt embeddings (2-D)."""
    embeddings = []
    for label in classes.tolist():
        value = class_prompts[label]
        if _holds_text(value):
            raise TypeError(
                f"class_prompts[{label!r}] holds text, but text_encoder is None, so "
                "class_prompts must hold prompt embeddings. Pass a text encoder "
                "(e.g. text_encoder=EmbeddingExtractor('sentence-transformers:...'))."
            )
        if np.size(value) == 0:
            raise ValueError(
                f"Class {label!r} has no prompts (an empty array). Give every "
                "class at least one prompt embedding, or remove it from "
                "class_prompts."
            )
        embeddings.append(
            check_array(
                np.atleast_2d(value),
                dtype=(np.float64, np.float32),
                input_name=f"class_prompts[{label!r}]",
            )
        )
    widths = {e.shape[1] for e in embeddings}
    if len(widths) > 1:
        raise ValueError(
            f"The prompt embeddings have different widths {sorted(widths)}; all "
            "classes must be embedded by the same text encoder."
        )
    return embeddings


def _holds_text(value):
    if isinstance(value, str):
        return True
    if isinstance(value, list | tuple):
        return any(isinstance(item, str) for item in value)
    return np.asarray(value).dtype.kind in "OUS"
