"""ZeroShotTextSpaceClassifier: classify embeddings by their similarity to prompts.

A vision encoder trained without text gains zero-shot classification once its
embeddings are translated into a text encoder's space (the paper's Fig. 2): each
class is described by a few prompts, and a translated image goes to the class
whose prompts it is most similar to — by the mean of its cosine similarities
with the prompts (the paper's rule) or by its cosine similarity with the
prompts' averaged embedding (CLIP's, as ``open_clip.build_zero_shot_classifier``
does). Without an aligner this is the standard CLIP-style zero-shot classifier.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    NotFittedError,
    check_is_fitted,
    validate_data,
)

from ._backend import on_host, to_numpy
from ._csls import csls_from_cosine, top_k_mean
from ._preprocessing import normalize_rows
from ._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _num_samples,
)
from ._text_space import check_text_width, encode_texts, fit_aligner, is_learned
from ._validation import check_fit_takes_weights, check_pair_weights


class ZeroShotTextSpaceClassifier(ClassifierMixin, BaseEstimator):
    r"""Zero-shot classifier comparing (translated) embeddings with class prompts.

    Each class is described by one or more prompts, embedded by a text encoder
    and L2-normalised. An input embedding is translated into the text space by
    ``aligner`` and scored against every class by ``prompt_pooling``: the mean
    of its cosine similarities with the class's prompts (the paper's rule), or
    its cosine similarity with the class's prompt ensemble (the normalised mean
    of the prompts, CLIP's convention).

    - ``aligner=None``: the inputs already live in the text space, as the image
      embeddings of CLIP-style models do (the standard multimodal baseline).
    - A fitted aligner, e.g. a :class:`~skalign.LatentAligner` estimated
      beforehand on image–report pairs, makes the classifier zero-shot:
      :meth:`fit` needs no labels.
    - An unfitted aligner is estimated in :meth:`fit` from labelled anchors,
      each image paired with its class embedding (its label's description), so
      the transform can be chosen by cross-validation.
    - An unfitted aligner is estimated in :meth:`fit` from anchors paired with
      texts (``y_kind="texts"``: each image with its report, embedded by
      ``text_encoder``): the paper's Fig. 2 as one estimator, which then
      classifies by the prompts.

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
    temperature : float, default=0.01
        Softmax temperature of :meth:`predict_proba`: probabilities are
        ``softmax(similarities / temperature)``. The default is CLIP's (a
        logit scale of 100). At least the smallest normal float64
        (``numpy.finfo(float).tiny``, about 2.2e-308): below it the scaled
        similarities overflow and the probabilities would be NaN.
    prompt_pooling : {"embedding", "similarity"}, default="embedding"
        How a class's prompts are pooled into its score (see Notes):

        - ``"embedding"``: cosine similarity with the prompt ensemble, the
          class's normalised prompt embeddings averaged and normalised again
          (CLIP's and open_clip's convention). Every class is scored on the
          same scale, however much its prompts disagree.
        - ``"similarity"``: the mean of the cosine similarities with the
          class's prompts, the rule of Di Folco et al. ("the class similarity
          is averaged over 10 prompts"), used wherever the paper is reproduced
          (:func:`~skalign.evaluation.zero_shot_report`, ``skalign
          experiment``).
    y_kind : {"auto", "labels", "texts"}, default="auto"
        What the ``y`` passed to :meth:`fit` holds:

        - ``"labels"``: the class of each input, a key of ``class_prompts``;
          a learned aligner pairs each input with its class's prompt ensemble.
        - ``"texts"``: a text paired with each input, such as the report of
          each anchor image; a learned aligner pairs each input with the
          text's embedding by ``text_encoder``. With ``aligner=None`` the texts
          are only checked, which lets the classifier end a
          :class:`~sklearn.pipeline.Pipeline` whose earlier step learned the
          alignment from the same texts (see Examples).
        - ``"auto"``: ``"labels"`` when every value of ``y`` is a key of
          ``class_prompts``, ``"texts"`` when ``y`` holds strings none of
          which is a key (and the keys are strings); anything in between is
          an error that names the values without prompts and asks for an
          explicit choice.
    hubness : {"csls"} or None, default=None
        None scores by cosine similarity. ``"csls"`` scores by the
        hubness-aware CSLS similarity ``2 cos(x, c) - r(x) - r(c)`` (see
        :func:`~skalign.retrieval.retrieve`), which stops a class embedding
        that sits near every input (a hub) from taking most predictions:
        ``r(c)`` is the mean score of class ``c`` with its
        ``hubness_neighbors`` best-scoring translated inputs *seen in*
        :meth:`fit` (kept as ``class_hubness_``, so a prediction does not
        depend on the batch it arrives in), and ``r(x)`` the mean of the
        input's best class scores; scores are those of ``prompt_pooling``
        (cosines for ``"embedding"``). Scores then lie in ``[-4, 4]``.
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties (clipped to the number of
        fitted inputs, or of classes).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted keys of ``class_prompts``.
    temperature_ : float
        The ``temperature`` :meth:`predict_proba` uses, fixed at :meth:`fit`
        (``set_params`` takes effect at the next fit).
    class_embeddings_ : ndarray of shape (n_classes, n_text_features)
        The vector each normalised input is scored against, in ``classes_``
        order: the mean ``m_c`` of the class's normalised prompt embeddings
        (``prompt_pooling="similarity"``; its norm, at most one, is how much
        the prompts agree) or ``m_c / ||m_c||`` (``"embedding"``).
    aligner_ : transformer or None
        The aligner used by :meth:`predict`: ``aligner`` itself (fitted or
        frozen), its fitted clone, or None.
    class_hubness_ : ndarray of shape (n_classes,) or None
        CSLS penalty ``r(c)`` of each class (None unless ``hubness="csls"``).
    hubness_neighbors_ : int
        The ``hubness_neighbors`` used, fixed at :meth:`fit`.
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
    The two rules are related exactly. With ``z`` the translated input and
    ``p_1 … p_k`` the normalised prompt embeddings of class ``c``, whose mean
    is ``m_c``,

    .. math::

        \frac{1}{k} \sum_j \cos(z, p_j) = \lVert m_c \rVert \,
        \cos\!\left(z, \frac{m_c}{\lVert m_c \rVert}\right),

    so the paper's rule is CLIP's multiplied, class by class, by how much the
    class's prompts agree with each other (``||m_c||``, 1 when they are all the
    same). With homogeneous prompts (one template filled with each class name)
    the two rarely disagree; with heterogeneous prompts ("a handwritten digit
    3", "number 3", "3") the paper's rule favours the classes whose prompts
    happen to agree, and the prompt ensemble is usually the better classifier.
    Use ``"similarity"`` to reproduce the paper, ``"embedding"`` otherwise.
    Because the factor is positive and the same for every input, each class's
    one-vs-rest ranking of the inputs, and so the one-vs-rest AUROC, is the
    same under both rules; only the predicted class (accuracy, F1) can differ.

    :meth:`decision_function` returns the scores of the chosen rule, one
    column per class; for two classes it returns the single column
    ``s[1] - s[0]`` (positive means ``classes_[1]``), so that
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

    The paper's Fig. 2 as one pipeline fitted on images and their reports
    (toy encoders here; in practice ``EmbeddingExtractor`` steps, see the
    gallery): the aligner step learns the map into the text space from the
    pairs, and the classifier, told that ``y`` holds texts, predicts classes:

    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> words = CountVectorizer(vocabulary=["effusion", "pneumonia", "normal"])
    >>> text_encoder = make_pipeline(
    ...     words, FunctionTransformer(lambda m: m.toarray() + 0.1))
    >>> reports = ["small effusion", "pneumonia", "normal study"] * 10
    >>> images = text_encoder.fit_transform(reports) @ rng.normal(size=(3, 5))
    >>> images += 0.01 * rng.normal(size=images.shape)  # no two images alike
    >>> fig2 = make_pipeline(
    ...     LatentAligner("linear", center=False, std_scaling=False,
    ...                   target_encoder=text_encoder),
    ...     ZeroShotTextSpaceClassifier(
    ...         {"effusion": "effusion", "pneumonia": "pneumonia",
    ...          "normal": "normal"},
    ...         text_encoder=text_encoder, y_kind="texts"),
    ... ).fit(images, reports)
    >>> fig2.predict(images[:3]).tolist()
    ['effusion', 'pneumonia', 'normal']
    """

    _parameter_constraints: dict = {
        "class_prompts": [Mapping],
        "text_encoder": [None, HasMethods(["fit", "transform"])],
        "aligner": [None, HasMethods(["fit", "transform"])],
        "temperature": [Interval(Real, np.finfo(np.float64).tiny, None, closed="left")],
        "prompt_pooling": [StrOptions({"embedding", "similarity"})],
        "y_kind": [StrOptions({"auto", "labels", "texts"})],
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
        prompt_pooling="embedding",
        y_kind="auto",
        hubness=None,
        hubness_neighbors=10,
    ):
        self.class_prompts = class_prompts
        self.text_encoder = text_encoder
        self.aligner = aligner
        self.temperature = temperature
        self.prompt_pooling = prompt_pooling
        self.y_kind = y_kind
        self.hubness = hubness
        self.hubness_neighbors = hubness_neighbors

    # weights reach fit only once asked for (set_fit_request(sample_weight=True)),
    # so routing weights to score alone keeps working
    __metadata_request__fit = {"sample_weight": False}

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Embed the class prompts and settle the aligner.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input embeddings (e.g. images embedded by a vision encoder). Used
            as anchors when the aligner is learned; otherwise only checked.
        y : array-like of shape (n_samples,), default=None
            Class labels of ``X`` (each a key of ``class_prompts``) or a text
            paired with each row of ``X``, as ``y_kind`` says. Given, an
            unfrozen ``aligner`` is estimated from ``X`` paired with the class
            embeddings of the labels or the embeddings of the texts (with
            ``aligner=None`` or a frozen one they are only checked). None
            (zero-shot) needs a fitted ``aligner`` or none.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each anchor in the alignment step: passed
            to the ``fit`` of the aligner estimated here (which must accept
            ``sample_weight``, as :class:`~skalign.LatentAligner` does), e.g.
            to balance classes of unequal size. Checked but unused when no
            aligner is estimated (``aligner=None``, a frozen aligner, or no
            ``y``): the prompts alone define the classes. Routed by
            meta-estimators when requested with
            ``set_fit_request(sample_weight=True)``.

        Returns
        -------
        self : ZeroShotTextSpaceClassifier
            The fitted classifier.
        """
        X = on_host(X)
        if sample_weight is not None:
            sample_weight = check_pair_weights(sample_weight, _num_samples(X))
            if y is not None and is_learned(self.aligner):
                check_fit_takes_weights(self.aligner, self)
            else:
                sample_weight = None
        classes = _class_labels(self.class_prompts)
        y_kind = None if y is None else _resolve_y_kind(self.y_kind, y, classes)
        if y is not None:
            _check_one_target_per_input(y, _num_samples(X), y_kind)
        if y_kind == "labels":
            X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
            check_classification_targets(y)
            _check_labels_have_prompts(y, classes)
        else:
            X = validate_data(self, X, dtype=(np.float64, np.float32))
        if y_kind == "texts":
            y = _check_paired_texts(y, X.shape[0])
            _check_texts_can_be_embedded(self.aligner, self.text_encoder)
        text_encoder, prompt_means = self._embed_classes(classes)
        ensembles = prompt_means / np.linalg.norm(prompt_means, axis=1, keepdims=True)
        _check_classes_differ(ensembles, classes)
        if y_kind == "texts":
            targets = _embed_paired_texts(text_encoder, y, self.aligner)
            aligner = self._settle_aligner(X, targets, sample_weight)
        elif y_kind == "labels":
            if is_learned(self.aligner):
                # the classes the aligner learns from: those of positive weight
                if sample_weight is None:
                    _check_two_labelled_classes(y)
                else:
                    _check_two_labelled_classes(
                        y[sample_weight > 0], among=" of positive sample_weight"
                    )
            aligner = self._settle_aligner(
                X, ensembles[np.searchsorted(classes, y)], sample_weight
            )
        else:
            aligner = self._settle_aligner(X, None)
        check_text_width(X, aligner, ensembles.shape[1])
        self.classes_ = classes
        self.temperature_ = float(self.temperature)
        self.class_embeddings_ = (
            prompt_means if self.prompt_pooling == "similarity" else ensembles
        )
        self.aligner_ = aligner
        if text_encoder is not None:
            self.text_encoder_ = text_encoder
        self.hubness_neighbors_ = self.hubness_neighbors
        self.class_hubness_ = None
        if self.hubness == "csls":
            self.class_hubness_ = top_k_mean(
                self._scores(self._translate(X)), self.hubness_neighbors_, axis=0
            )
        return self

    def decision_function(self, X):
        """Similarity of each (translated) input with each class's prompts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            Similarities in ``[-1, 1]`` by ``prompt_pooling``, columns in
            ``classes_`` order; for two classes,
            ``similarity(classes_[1]) - similarity(classes_[0])``.
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
        return softmax(self._similarities(X) / self.temperature_, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._similarities(X) / self.temperature_, axis=1)

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``X`` against the labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True class labels, one per input.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each input (not all zero).

        Returns
        -------
        score : float
            The (weighted) fraction of inputs predicted correctly.
        """
        y_pred = self.predict(X)
        n_samples = len(y_pred)
        n_labels = _num_samples(y)
        if n_labels != n_samples:
            raise ValueError(
                f"y has {n_labels} label(s) but X has {n_samples} input(s). "
                "Pass one true label per row of X."
            )
        if sample_weight is not None:
            sample_weight = check_pair_weights(sample_weight, n_samples)
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def _similarities(self, X):
        check_is_fitted(self)
        X = validate_data(self, on_host(X), reset=False, dtype=(np.float64, np.float32))
        scores = self._scores(self._translate(X))
        if self.class_hubness_ is None:
            return scores
        return csls_from_cosine(
            scores, top_k_mean(scores, self.hubness_neighbors_), self.class_hubness_
        )

    def _scores(self, X_text):
        """Each translated input's score with each class, by the pooling rule."""
        return normalize_rows(X_text) @ self.class_embeddings_.T

    def _translate(self, X):
        return X if self.aligner_ is None else to_numpy(self.aligner_.transform(X))

    def _embed_classes(self, classes):
        """Return the fitted text encoder (or None) and each class's mean
        normalised prompt embedding."""
        if self.text_encoder is None:
            return None, mean_prompt_embeddings(
                _precomputed_prompt_embeddings(self.class_prompts, classes), classes
            )
        prompts = _text_prompts(self.class_prompts, classes)
        flat = [prompt for class_prompts in prompts for prompt in class_prompts]
        text_encoder, embeddings = encode_texts(self.text_encoder, flat)
        splits = np.cumsum([len(class_prompts) for class_prompts in prompts])[:-1]
        return text_encoder, mean_prompt_embeddings(
            np.split(embeddings, splits), classes
        )

    def _settle_aligner(self, X, targets, sample_weight=None):
        """Return the aligner to predict with, fitting a clone on ``targets``
        (the text-space embedding paired with each anchor, weighted by
        ``sample_weight`` if given) when given."""
        if targets is not None:
            return fit_aligner(self.aligner, X, targets, sample_weight)
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


def mean_prompt_embeddings(prompt_embeddings, classes=None):
    """Average each class's L2-normalised prompt embeddings.

    The mean ``m_c`` of class ``c``'s unit prompt embeddings serves both
    pooling rules: a normalised input ``z`` has ``z @ m_c`` equal to the mean
    of its cosine similarities with the prompts (the paper's rule), and
    ``m_c / ||m_c||`` is CLIP's prompt ensemble. ``||m_c||`` (at most 1) is
    how much the prompts agree.

    Parameters
    ----------
    prompt_embeddings : sequence of array-like of shape (n_prompts, n_features)
        One array per class (the number of prompts may differ by class).
    classes : array-like of shape (n_classes,), default=None
        Class names, used in error messages only.

    Returns
    -------
    means : ndarray of shape (n_classes, n_features)
        Nonzero rows of norm at most one.

    Raises
    ------
    ValueError
        When a class's prompts average to the zero vector: it then has no
        direction to compare with under either rule.

    Examples
    --------
    >>> from skalign._zeroshot import mean_prompt_embeddings
    >>> mean_prompt_embeddings([[[3.0, 0.0], [0.0, 1.0]]]).tolist()
    [[0.5, 0.5]]
    """
    means = np.stack(
        [normalize_rows(np.asarray(e)).mean(axis=0) for e in prompt_embeddings]
    )
    norms = np.linalg.norm(means, axis=1)
    if np.any(norms == 0):
        names = range(len(means)) if classes is None else np.asarray(classes).tolist()
        raise ValueError(
            f"The prompts of class {names[np.flatnonzero(norms == 0)[0]]!r} average "
            "to the zero vector (zero or opposite prompt embeddings), so the class "
            "has no direction to compare with. Give it prompts that describe it."
        )
    return means


def _check_classes_differ(ensembles, classes):
    """Raise when two classes have the same prompt ensemble: no input could
    ever be told apart between them (the first would win every tie)."""
    cosines = ensembles @ ensembles.T
    same = np.argwhere(np.triu(cosines >= 1 - 1e-9, k=1))
    if same.size:
        first, second = classes[same[0]].tolist()
        raise ValueError(
            f"Classes {first!r} and {second!r} have the same prompt embeddings "
            "(their prompts are identical, or embed identically), so no input "
            "can be assigned to one rather than the other. Give each class "
            "prompts that tell it apart, or merge the two classes."
        )


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


def _check_two_labelled_classes(y, among=""):
    """Raise unless ``y`` holds two classes: one class gives every anchor one
    target (``among`` says which labels were counted, for the message)."""
    labels = unique_labels(y)
    if labels.size < 2:
        raise ValueError(
            f"Learning the aligner from labelled anchors needs at least two "
            f"classes in y{among}, got one class ({labels.tolist()[0]!r}): every "
            "anchor would be paired with the same class embedding, which leaves "
            "the map undetermined. Pass "
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
            "samples. If y holds a text paired with each input (e.g. its "
            "report), set y_kind='texts'."
        )


def _resolve_y_kind(y_kind, y, classes):
    """``"labels"`` or ``"texts"``: ``y_kind`` itself, or what ``"auto"`` reads
    in ``y``: all keys of class_prompts, or strings none of which is one of
    the (string) keys. Anything else is read as labels, whose check names the
    ones without prompts and points to ``y_kind``."""
    if y_kind != "auto":
        return y_kind
    values = np.asarray(y, dtype=object).ravel()
    known = np.array([_is_class(value, classes) for value in values], dtype=bool)
    if known.all():
        return "labels"
    all_text = all(isinstance(value, str) for value in values)
    if not known.any() and all_text and classes.dtype.kind in "OUS":
        return "texts"
    return "labels"  # labels without prompts: the labels check names them


def _is_class(value, classes):
    try:
        return bool(np.isin(np.asarray([value]), classes)[0])
    except TypeError:  # a label of another type than the classes
        return False


def _check_paired_texts(y, n_samples):
    """Return ``y`` as a list of strings, one per anchor."""
    texts = np.asarray(y, dtype=object)
    if texts.ndim != 1:
        raise ValueError(
            f"With y_kind='texts', y must hold one text per input (1-D), got an "
            f"array of shape {texts.shape}."
        )
    not_text = [text for text in texts if not isinstance(text, str)]
    if not_text:
        raise TypeError(
            f"With y_kind='texts', y must hold one text (a string) per input, but "
            f"it holds {not_text[0]!r} ({type(not_text[0]).__name__}). Pass the "
            "texts, or set y_kind='labels' if y holds class labels."
        )
    if texts.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} inputs but y has {texts.shape[0]} texts; pass one "
            "text per input, in the same order."
        )
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise ValueError(
            f"y holds {len(empty)} empty text(s) (first at row {empty[0]}): an "
            "empty text embeds to an arbitrary vector, which the aligner would "
            "learn to map its input to. Drop those inputs or give their text."
        )
    return texts.tolist()


def _check_texts_can_be_embedded(aligner, text_encoder):
    if is_learned(aligner) and text_encoder is None:
        raise ValueError(
            "y holds texts (y_kind='texts') to learn the aligner from, but "
            "text_encoder is None, so they cannot be embedded. Pass the "
            "text_encoder that embeds the prompts, or learn the alignment in an "
            "earlier Pipeline step (LatentAligner(target_encoder=...)) and set "
            "aligner=None here."
        )


def _embed_paired_texts(text_encoder, texts, aligner):
    """The embedding of each paired text, or None when no aligner is learned."""
    if not is_learned(aligner):
        return None
    distinct, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    embeddings = to_numpy(text_encoder.transform(distinct.tolist()))
    return embeddings[inverse]


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
        if any(not item.strip() for item in items):
            raise ValueError(
                f"class_prompts[{label!r}] holds an empty prompt: an empty text "
                "embeds to an arbitrary vector, not a description of the class. "
                "Remove it, or give the prompt its text."
            )
        prompts.append(list(items))
    return prompts


def _precomputed_prompt_embeddings(class_prompts, classes):
    """Return, in ``classes`` order, each class's prompt embeddings (2-D)."""
    embeddings = []
    for label in classes.tolist():
        value = on_host(class_prompts[label])
        if value is None:
            raise ValueError(
                f"class_prompts[{label!r}] is None. Give every class its prompt "
                "embeddings (an array of shape (n_prompts, n_text_features)), or "
                "remove the class from class_prompts."
            )
        if isinstance(value, Mapping | set | frozenset):
            raise TypeError(
                f"class_prompts[{label!r}] is a {type(value).__name__}; with "
                "text_encoder=None it must hold prompt embeddings, an array of "
                "shape (n_prompts, n_text_features)."
            )
        if _holds_text(value):
            raise TypeError(
                f"class_prompts[{label!r}] holds text, but text_encoder is None, so "
                "class_prompts must hold prompt embeddings. Pass a text encoder "
                "(e.g. text_encoder=EmbeddingExtractor('sentence-transformers:...'))."
            )
        if _is_ragged(value):
            raise ValueError(
                f"class_prompts[{label!r}] holds prompt embeddings of different "
                "lengths; each prompt embedding must have n_text_features "
                "values (embed every prompt with the same text encoder)."
            )
        if np.size(value) == 0:
            raise ValueError(
                f"Class {label!r} has no prompts (an empty array). Give every "
                "class at least one prompt embedding, or remove it from "
                "class_prompts."
            )
        if np.ndim(value) > 2:
            raise ValueError(
                f"class_prompts[{label!r}] is a {np.ndim(value)}-D array of shape "
                f"{np.shape(value)}; prompt embeddings are 2-D, of shape "
                "(n_prompts, n_text_features) (or 1-D for one prompt). Reshape "
                "them, e.g. value.reshape(-1, value.shape[-1])."
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


def _is_ragged(value):
    """Whether nested sequences ``value`` have rows of different lengths."""
    try:
        np.asarray(value)
    except ValueError:
        return True
    return False


def _holds_text(value):
    """Whether ``value`` (a prompt or nested lists of them) holds any string."""
    if isinstance(value, str | bytes):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_text(item) for item in value)
    return np.asarray(value).dtype.kind in "OUS"


def _check_one_target_per_input(y, n_samples, y_kind):
    """Raise unless ``y`` holds one label (or text, by ``y_kind``) per row of
    ``X``, none missing (None or NaN). A column ``(n, 1)`` passes (scikit-learn
    ravels it with a warning)."""
    what = "texts" if y_kind == "texts" else "labels"
    if np.isscalar(y):
        raise ValueError(
            f"y must hold one label (or text) per input, got the single value "
            f"{y!r}. Pass a list with one entry per row of X."
        )
    values = np.asarray(y, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"y must hold one label (or text) per input, a 1-D sequence, but it "
            f"has shape {values.shape}. Pass a flat list (ravel a column)."
        )
    if values.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} inputs but y has {values.shape[0]} {what}; pass "
            "one entry of y per row of X, in the same order."
        )
    missing = [
        i
        for i, value in enumerate(values)
        if value is None or (isinstance(value, Real) and value != value)
    ]
    if missing:
        raise ValueError(
            f"y holds {len(missing)} missing label(s) (None or NaN; first at row "
            f"{missing[0]}). Give every input its label (or text), or drop the "
            "inputs without one."
        )
