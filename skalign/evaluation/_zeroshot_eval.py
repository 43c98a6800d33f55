"""zero_shot_report: zero-shot classification over several tasks (Fig. 4)."""

import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from tqdm.auto import tqdm

from .._aligner import LatentAligner
from .._self_learning import paired_rows
from .._sklearn_compat import HasMethods, Interval, StrOptions, validate_params
from .._text_space import encode_texts
from .._validation import check_embeddings
from .._zeroshot import ZeroShotTextSpaceClassifier
from ._plots import CHANCE
from ._protocol import NAIVE, check_transforms, takes_unpaired
from ._scoring import METRICS, classifier_scores
from ._stitching import aligner_for
from ._subsets import balanced_subset

REPORT_COLUMNS = ("method", "task", "metric", "mean", "std", "n_runs", "n_test")
_ALIGNER = HasMethods(["fit", "transform"])
# Seeds the anchor draws apart from the subsets' seeds.
_ANCHOR_STREAM = 24


# Parameter constraints shared by the functions that build a zero-shot report.
REPORT_CONSTRAINTS = {
    "text_encoder": [None, HasMethods(["fit", "transform"])],
    "prompt_pooling": [StrOptions({"similarity", "embedding"})],
    "hubness": [StrOptions({"csls"}), None],
    "hubness_neighbors": [Interval(Integral, 1, None, closed="left")],
    "n_per_class": [None, Interval(Integral, 1, None, closed="left")],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "n_jobs": [None, Integral],
    "show_progress": ["boolean"],
}


@validate_params(
    {
        "methods": [Mapping],
        "tasks": [Mapping],
        "anchors": [None, Mapping],
        "transforms": ["array-like", Mapping],
        "aligner": [None, HasMethods(["fit", "transform", "set_params"])],
        "naive": ["boolean"],
        "chance": ["boolean"],
        "anchor_repeats": [Interval(Integral, 1, None, closed="left")],
        "anchor_size": [None, Interval(Integral, 2, None, closed="left")],
        **REPORT_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def zero_shot_report(
    methods,
    tasks,
    *,
    anchors=None,
    transforms=("ortho",),
    aligner=None,
    naive=True,
    chance=True,
    anchor_repeats=1,
    anchor_size=None,
    text_encoder=None,
    prompt_pooling="similarity",
    hubness=None,
    hubness_neighbors=10,
    n_per_class=None,
    n_repeats=1,
    random_state=0,
    n_jobs=None,
    show_progress=False,
):
    """Score zero-shot classification in a text space on several tasks (Fig. 4).

    The paper's Fig. 4 in one call. Three kinds of methods are compared, on
    every task, with chance:

    - **unimodal vision encoders aligned on an anchor set**: a method named
      in ``anchors`` is fitted once per transform on its anchor images paired
      with the anchor reports' text embeddings (the map T of the paper,
      estimated on MIMIC-CXR image–report pairs there) and applied, frozen,
      to every task; the naive floor (zero-padding, no alignment) is added;
    - **methods with a fitted aligner** (e.g. a
      :class:`~skalign.LatentAligner` fitted elsewhere), used as is;
    - **multimodal baselines** (CLIP, MedCLIP) whose image embeddings already
      share a space with their own text tower: no aligner, their prompts
      embedded by their own text encoder or given as their own embeddings.

    For every (method, task) a :class:`~skalign.ZeroShotTextSpaceClassifier`
    with the task's prompts and the method's (frozen) aligner is scored on
    class-balanced subsets of the task's images. Every prompt is embedded
    once per text encoder, whatever the number of methods.

    Parameters
    ----------
    methods : mapping of str to array-like or tuple
        Method name → its image embeddings of shape (n_images, n_features),
        rows in the same order for every method:

        - ``X`` (or ``(X, None)``) for a method named in ``anchors``;
        - ``(X, aligner)``: a fitted transformer into the text space, or None
          when ``X`` already lives in it (a CLIP-style image tower);
        - ``(X, None, own)``: a multimodal baseline with ``own`` text
          encoder (any transformer embedding the prompt strings, e.g. the
          CLIP text tower) or ``own`` prompt embeddings, a mapping task →
          class → array of shape (n_prompts, n_text_features).
    tasks : mapping of str to (array-like, mapping)
        Task name → ``(labels, class_prompts)``: labels of shape (n_images,),
        missing (None or NaN) for images outside the task (e.g. another
        dataset), and the prompts of each class (keys: the labels), as in
        :class:`~skalign.ZeroShotTextSpaceClassifier`'s ``class_prompts``
        (several per class).
    anchors : mapping of str to tuple or None, default=None
        Method name → ``(X_anchors, Y_anchors)``: that vision encoder's
        embeddings of the anchor images, and the text embeddings (by the
        shared text space's encoder) of their paired reports. Each such
        method becomes one method per transform, named ``"<method>
        (<transform>)"``, plus ``"<method> (naive)"`` when ``naive``.

        Unpaired anchors follow :class:`~skalign.SelfLearningAligner`'s
        convention: a row whose ``Y_anchors`` side is all NaN is an unpaired
        image, a row whose ``X_anchors`` side is all NaN an unpaired report.
        An aligner whose tags allow NaN (``input_tags.allow_nan``, e.g. a
        :class:`~skalign.SelfLearningAligner`) is fitted on the pairs and
        that pool; every other map, the naive floor included, on the pairs
        only (the unpaired rows are dropped for it: the pairs-only
        comparison). Rows partly NaN, NaN on both sides or infinite are
        refused, as are fewer than 2 pairs.
    transforms : list of str or mapping, default=("ortho",)
        The maps fitted on ``anchors``: ``transform_type`` names (set on a
        clone of ``aligner``) or a mapping display name → name or any aligner
        estimator (cloned, then fitted).
    aligner : transformer or None, default=None
        Template of the named transforms; None is ``LatentAligner()``.
    naive : bool, default=True
        Add the naive floor (:class:`NaiveAligner`, fitted on the same
        anchors) of every method in ``anchors``.
    chance : bool, default=True
        Add a ``"chance"`` method per task: AUROC 0.5, accuracy and macro-F1
        one over the number of classes (a uniform guess on a balanced
        subset).
    anchor_repeats : int >= 1, default=1
        Random draws of ``anchor_size`` anchor pairs on which every map of a
        method in ``anchors`` is refitted (the same draws for every transform
        and, when they hold as many anchors, for every method). Each draw's
        map is scored on the same ``n_repeats`` subsets, so ``std`` reflects
        the variability over anchor draws. The default, one map fitted on all
        anchors, is the paper's ("T estimated a priori"). Above 1 it needs
        ``anchor_size`` smaller than the number of anchor pairs (draws of all
        of them are the same map).
    anchor_size : int >= 2 or None, default=None
        Anchor pairs per draw, drawn without replacement; None uses every
        pair (``anchor_repeats=1`` only).
    text_encoder : transformer or None, default=None
        Embeds the prompts of the methods without their own (e.g. an
        :class:`~skalign.extract.EmbeddingExtractor`). None: the prompts are
        given as embeddings, shape (n_prompts, n_text_features) per class.
    prompt_pooling : {"similarity", "embedding"}, default="similarity"
        How a class's prompts are pooled (see
        :class:`~skalign.ZeroShotTextSpaceClassifier`): the mean cosine
        similarity to each prompt, the paper's rule ("the class similarity
        is averaged over 10 prompts"), or the cosine to the mean prompt
        embedding (CLIP's convention, the classifier's own default).
    hubness : {"csls"} or None, default=None
        None scores classes by cosine similarity; ``"csls"`` by the
        hubness-aware CSLS similarity, so that a class prompt near every
        image (a hub) does not take most predictions. Passed to every
        :class:`~skalign.ZeroShotTextSpaceClassifier`, whose class penalties
        are estimated on all the images of the task (the images it is
        fitted on).
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties (the classifier's
        ``hubness_neighbors``); used only with ``hubness="csls"``.
    n_per_class : int or None, default=None
        Images per class in each balanced subset (e.g. 200). None: as many as
        the task's rarest class has.
    n_repeats : int, default=1
        Balanced subsets drawn per task (different draws when classes are
        imbalanced); scores are averaged over them.
    random_state : int, default=0
        Seeds the subsets and the anchor draws.
    n_jobs : int or None, default=None
        (method, task, anchor draw) evaluations run in parallel with
        :class:`joblib.Parallel`.
    show_progress : bool, default=False
        Show a tqdm progress bar.

    Returns
    -------
    report : pandas.DataFrame
        Columns ``method``, ``task``, ``metric`` (``"roc_auc"``,
        ``"accuracy"``, ``"f1_macro"``), ``mean``, ``std`` (over the runs,
        ``ddof=0``), ``n_runs`` (subsets, times anchor draws for a method
        aligned on ``anchors``) and ``n_test`` (images per subset); the
        ``"chance"`` rows come last.

    See Also
    --------
    plot_zero_shot : Bar chart of the report.
    zero_shot_from_reports : The report from embedding files, the alignment
        fitted on images paired with reports.

    Examples
    --------
    A toy text space with precomputed prompt embeddings; images already live
    in it (``aligner=None``, the multimodal setting):

    >>> import numpy as np
    >>> from skalign.evaluation import zero_shot_report
    >>> rng = np.random.default_rng(0)
    >>> X = np.repeat(np.eye(3), 20, axis=0) + 0.3 * rng.normal(size=(60, 3))
    >>> truth = np.repeat(["a", "b", "c"], 20)
    >>> prompts = {"a": [1.0, 0, 0], "b": [0, 1.0, 0], "c": [0, 0, 1.0]}
    >>> binary = np.where(truth == "a", "a", "not a").astype(object)
    >>> binary[truth == "c"] = None  # images outside this task
    >>> tasks = {"abc": (truth, prompts),
    ...          "a vs b": (binary, {"a": [1.0, 0, 0], "not a": [0, 1.0, 0]})}
    >>> report = zero_shot_report({"toy": (X, None)}, tasks)
    >>> report[report.metric == "roc_auc"][["method", "task", "mean", "n_test"]]
      method    task  mean  n_test
    0    toy     abc   1.0      60
    3    toy  a vs b   1.0      40
    6 chance     abc   0.5      60
    9 chance  a vs b   0.5      40

    A unimodal "vision encoder" (a rotation of the text space, plus an
    offset) aligned on 30 anchor pairs:

    >>> V = X @ np.linalg.qr(rng.normal(size=(3, 3)))[0] + 2.0
    >>> report = zero_shot_report({"vision": V[30:]}, {"abc": (truth[30:], prompts)},
    ...                           anchors={"vision": (V[:30], X[:30])},
    ...                           transforms=["ortho", "affine"])
    >>> report[report.metric == "accuracy"]["method"].tolist()
    ['vision (ortho)', 'vision (affine)', 'vision (naive)', 'chance']

    The variability over anchor draws: each map refitted on 3 draws of 10 of
    the 30 anchor pairs, every draw scored on the same subset:

    >>> report = zero_shot_report({"vision": V[30:]}, {"abc": (truth[30:], prompts)},
    ...                           anchors={"vision": (V[:30], X[:30])},
    ...                           anchor_repeats=3, anchor_size=10, naive=False)
    >>> report[["method", "metric", "n_runs"]].head(1)
               method   metric  n_runs
    0  vision (ortho)  roc_auc       3
    """
    draws = _anchor_draws(anchors, anchor_repeats, anchor_size, random_state)
    methods, refitted = _with_anchored(
        methods, anchors, transforms, aligner, naive, draws
    )
    methods, n_images = _check_methods(methods, text_encoder)
    # every method's maps: one per anchor draw, or its one aligner
    maps = {
        name: [FrozenEstimator(a) for a in refitted.get(name, ())] or [fitted]
        for name, (_, fitted, _) in methods.items()
    }
    tasks = _check_tasks(tasks, n_images)
    # each distinct text encoder embeds every prompt once
    encoders = {
        id(own): own for _, _, own in methods.values() if not isinstance(own, Mapping)
    }
    prompts_by_encoder = {
        key: _embed_prompts(tasks, encoder) for key, encoder in encoders.items()
    }

    def prompts_of(own, task):
        if isinstance(own, Mapping):
            return _own_prompts(own, task, tasks[task][2])
        return prompts_by_encoder[id(own)][task]

    subsets = {
        task: [
            balanced_subset(
                labels, n_per_class, random_state=_repeat_seed(random_state, repeat)
            )
            for repeat in range(n_repeats)
        ]
        for task, (_, labels, _) in tasks.items()
    }
    jobs = (
        delayed(_evaluate)(
            (method, task, draw),
            ZeroShotTextSpaceClassifier(
                prompts_of(own, task),
                aligner=fitted,
                prompt_pooling=prompt_pooling,
                hubness=hubness,
                hubness_neighbors=hubness_neighbors,
            ),
            X[rows],
            labels,
            subsets[task],
        )
        for method, (X, _, own) in methods.items()
        for task, (rows, labels, _) in tasks.items()
        for draw, fitted in enumerate(maps[method])
    )
    results = {}
    n_jobs_total = sum(len(m) for m in maps.values()) * len(tasks)
    with tqdm(total=n_jobs_total, desc="zero-shot", disable=not show_progress) as bar:
        for key, scores in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            jobs
        ):
            results[key] = scores
            bar.update()
    rows = []
    for method in methods:
        for task in tasks:
            runs = pd.DataFrame(
                [
                    scores
                    for draw in range(len(maps[method]))
                    for scores in results[method, task, draw]
                ]
            )
            n_test = subsets[task][0].size
            for metric in METRICS:
                rows.append(
                    (
                        method,
                        task,
                        metric,
                        runs[metric].mean(),
                        runs[metric].std(ddof=0),
                        len(runs),
                        n_test,
                    )
                )
    if chance:
        rows += _chance_rows(tasks, subsets)
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def _with_anchored(methods, anchors, transforms, aligner, naive, draws):
    """The methods, each one named in ``anchors`` replaced by its fitted maps.

    Returns the methods (an anchored one as ``(X, its first map)``) and, per
    anchored method, its maps: one per draw of ``draws`` (see
    :func:`_anchor_draws`).
    """
    if not anchors:
        return methods, {}
    unknown = [name for name in anchors if name not in methods]
    if unknown:
        raise ValueError(
            f"anchors names methods that are not in methods: {unknown!r} "
            f"(methods: {list(methods)!r}). Key anchors by the vision encoder's "
            "method name."
        )
    template = LatentAligner() if aligner is None else aligner
    maps = check_transforms(transforms, template)
    if naive:
        maps[NAIVE] = NAIVE
    expanded, refitted = {}, {}
    for name, value in methods.items():
        if name not in anchors:
            expanded[name] = value
            continue
        X = value
        if isinstance(value, tuple):
            if len(value) != 2 or value[1] is not None:
                raise ValueError(
                    f"methods[{name!r}] is aligned on anchors=, so it takes its "
                    "image embeddings only (X, or (X, None)), not an aligner."
                )
            X = value[0]
        X_anchors, Y_anchors, pairs, unpaired = _anchor_pair(name, anchors[name])
        if not unpaired.size:
            _warn_without_pool(name, maps, template)
        drawn = [draw(name, pairs) for draw in draws]
        for label, spec in maps.items():
            fitted = [
                _fit_on(
                    aligner_for(template, spec), X_anchors, Y_anchors, rows, unpaired
                )
                for rows in drawn
            ]
            expanded[f"{name} ({label})"] = (X, fitted[0])
            refitted[f"{name} ({label})"] = fitted
    return expanded, refitted


def _warn_without_pool(name, maps, template):
    """Warn when maps that learn from an unpaired pool get none: they are
    fitted on the pairs alone, yet their rows carry their name."""
    pooled = [
        label
        for label, spec in maps.items()
        if spec != NAIVE and takes_unpaired(aligner_for(template, spec))
    ]
    if pooled:
        warnings.warn(
            f"The transforms {pooled!r} learn from an unpaired pool, and the "
            f"anchors of {name!r} hold no unpaired row (all-NaN on one side): "
            "they are fitted on the pairs alone (the pairs-only map of their "
            f"base aligner). Append unpaired images and reports to anchors[{name!r}]"
            " (NaN-marked rows) or, in an experiment, set zero_shot.unpaired.",
            UserWarning,
            stacklevel=5,  # the caller of zero_shot_report
        )


def _anchor_draws(anchors, anchor_repeats, anchor_size, random_state):
    """One function per anchor draw: (method name, pair rows) -> the drawn rows.

    With ``anchor_size=None`` (one draw) every pair is kept; otherwise
    ``anchor_size`` pairs are drawn without replacement, seeded by
    ``random_state`` and the draw's number only, so every method and
    transform gets the same rows when their anchors are the same.
    """
    if (anchor_repeats > 1 or anchor_size is not None) and not anchors:
        raise ValueError(
            "anchor_repeats and anchor_size draw the anchors of the methods named "
            "in anchors=, and anchors= is empty; give anchors=, or leave "
            "anchor_repeats=1 and anchor_size=None."
        )
    if anchor_repeats > 1 and anchor_size is None:
        raise ValueError(
            f"anchor_repeats={anchor_repeats} needs anchor_size (the pairs per "
            "draw): draws of every anchor pair are all the same map. Set "
            "anchor_size below the number of anchor pairs."
        )

    def draw_of(number):
        def draw(name, pairs):
            if anchor_size is None:
                return pairs
            largest = pairs.size - 1 if anchor_repeats > 1 else pairs.size
            if anchor_size > largest:
                why = " to draw different anchors" if anchor_repeats > 1 else ""
                raise ValueError(
                    f"anchor_size={anchor_size} draws from the {pairs.size} anchor "
                    f"pairs of {name!r}; it must be at most {largest}{why}. Lower "
                    "anchor_size."
                )
            rng = np.random.default_rng([_ANCHOR_STREAM, random_state, number])
            return np.sort(rng.choice(pairs, size=anchor_size, replace=False))

        return draw

    return [draw_of(number) for number in range(anchor_repeats)]


def _fit_on(estimator, X_anchors, Y_anchors, pairs, unpaired):
    """Fit ``estimator`` on the ``pairs`` rows, plus the ``unpaired`` ones when
    it takes NaN rows (a self-learning aligner's pool)."""
    rows = pairs
    if unpaired.size and get_tags(estimator).input_tags.allow_nan:
        rows = np.sort(np.concatenate([pairs, unpaired]))
    if rows.size == X_anchors.shape[0]:
        return estimator.fit(X_anchors, Y_anchors)
    return estimator.fit(X_anchors[rows], Y_anchors[rows])


def _anchor_pair(name, value):
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(
            f"anchors[{name!r}] must be a pair (X_anchors, Y_anchors): the anchor "
            "images embedded by this encoder and their reports' text embeddings."
        )
    X_anchors = check_embeddings(
        value[0], input_name=f"anchors[{name!r}] images", allow_nan=True
    )
    Y_anchors = check_embeddings(
        value[1], input_name=f"anchors[{name!r}] reports", allow_nan=True
    )
    if X_anchors.shape[0] != Y_anchors.shape[0]:
        raise ValueError(
            f"anchors[{name!r}] pairs {X_anchors.shape[0]} images with "
            f"{Y_anchors.shape[0]} reports; give one report embedding per anchor "
            "image, in the same order."
        )
    pairs, no_image, no_report = paired_rows(
        X_anchors,
        Y_anchors,
        sides=(f"anchors[{name!r}] images", f"anchors[{name!r}] reports"),
        owner=f"anchors[{name!r}]",
        purpose="the maps",
    )
    return X_anchors, Y_anchors, pairs, np.flatnonzero(no_image | no_report)


def _chance_rows(tasks, subsets):
    """A uniform guess on a balanced subset: AUROC 1/2, accuracy and F1 1/k."""
    rows = []
    for task, (_, labels, _) in tasks.items():
        k = np.unique(labels[subsets[task][0]]).size
        scores = {"roc_auc": 0.5, "accuracy": 1 / k, "f1_macro": 1 / k}
        rows += [
            (CHANCE, task, metric, scores[metric], 0.0, 1, subsets[task][0].size)
            for metric in METRICS
        ]
    return rows


def _own_prompts(own, task, class_prompts):
    """A baseline's own prompt embeddings of ``task``, checked against its classes."""
    if task not in own:
        raise ValueError(
            f"A method's own prompt embeddings have no task {task!r} (they have "
            f"{list(own)!r}); give them for every task."
        )
    missing = [label for label in class_prompts if label not in own[task]]
    if missing:
        raise ValueError(
            f"A method's own prompt embeddings of task {task!r} miss the classes "
            f"{missing!r}."
        )
    return {label: own[task][label] for label in class_prompts}


def _evaluate(key, classifier, X, labels, subsets):
    fitted = classifier.fit(X)
    return key, [
        classifier_scores(fitted, X[subset], labels[subset]) for subset in subsets
    ]


def _check_methods(methods, text_encoder):
    """Return name -> (X, frozen aligner or None, text encoder), n_images."""
    if not methods:
        raise ValueError(
            "methods is empty; map at least one method name to (X, aligner)."
        )
    checked, widths = {}, {}
    for name, value in methods.items():
        if not isinstance(value, tuple | list) or len(value) not in (2, 3):
            raise TypeError(
                f"methods[{name!r}] must be a pair (X, aligner): the image "
                "embeddings of this method and the fitted aligner into the text "
                "space (or None), optionally with the method's own text encoder "
                f"as a third item; got {type(value).__name__}. Image embeddings "
                "alone are for a method aligned on anchors= (name it there)."
            )
        X, aligner, encoder = (*value, text_encoder)[:3]
        if isinstance(encoder, Mapping):
            if aligner is not None:
                raise ValueError(
                    f"methods[{name!r}] brings its own prompt embeddings, so its "
                    "images must live in their space: its aligner must be None."
                )
        elif encoder is not None and not _ALIGNER.is_satisfied_by(encoder):
            raise TypeError(
                f"The text encoder of methods[{name!r}] is a "
                f"{type(encoder).__name__}; it needs fit and transform."
            )
        if aligner is not None and not _ALIGNER.is_satisfied_by(aligner):
            raise TypeError(
                f"methods[{name!r}] holds {type(aligner).__name__}, which is not an "
                "aligner (it needs fit and transform). Pass a fitted aligner, e.g. "
                "LatentAligner().fit(image_anchors, report_embeddings), or None "
                "when X already lives in the text space."
            )
        X = check_embeddings(X, input_name=f"methods[{name!r}] embeddings")
        frozen = None if aligner is None else FrozenEstimator(aligner)
        checked[str(name)] = (np.asarray(X), frozen, encoder)
        widths[str(name)] = X.shape[0]
    if len(set(widths.values())) > 1:
        raise ValueError(
            f"The methods embed different numbers of images: {widths}. Every "
            "method must embed the same images in the same order (the task "
            "labels index them)."
        )
    return checked, next(iter(widths.values()))


def _embed_prompts(tasks, text_encoder):
    """Task -> class prompts, every prompt string embedded once by ``text_encoder``.

    None leaves the prompts as they are (embeddings already).
    """
    prompts = {name: class_prompts for name, (_, _, class_prompts) in tasks.items()}
    if text_encoder is None:
        return prompts

    def texts_of(class_prompts):
        return np.atleast_1d(np.asarray(class_prompts, dtype=object)).tolist()

    texts = sorted(
        {
            text
            for classes in prompts.values()
            for class_prompts in classes.values()
            for text in texts_of(class_prompts)
        }
    )
    _, embeddings = encode_texts(text_encoder, texts)
    vectors = dict(zip(texts, embeddings, strict=True))
    return {
        name: {
            label: np.stack([vectors[text] for text in texts_of(class_prompts)])
            for label, class_prompts in classes.items()
        }
        for name, classes in prompts.items()
    }


def _check_tasks(tasks, n_images):
    """Return task -> (rows, labels of those rows, class_prompts)."""
    if not tasks:
        raise ValueError(
            "tasks is empty; map at least one task name to (labels, class_prompts)."
        )
    checked = {}
    for name, value in tasks.items():
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise TypeError(
                f"tasks[{name!r}] must be a pair (labels, class_prompts), got "
                f"{type(value).__name__}."
            )
        labels, prompts = value
        labels = np.asarray(labels, dtype=object)
        if labels.ndim != 1 or labels.shape[0] != n_images:
            raise ValueError(
                f"tasks[{name!r}] has labels of shape {labels.shape} but the "
                f"methods embed {n_images} images. Give one label per image, "
                "None where an image is not part of the task."
            )
        if not isinstance(prompts, Mapping):
            raise TypeError(
                f"The class prompts of task {name!r} must be a mapping of label "
                f"-> prompts, got {type(prompts).__name__}."
            )
        rows = np.flatnonzero(~pd.isna(labels))
        if rows.size == 0:
            raise ValueError(
                f"Task {name!r} has no labelled image (every label is None or "
                "NaN); give the task's images their labels."
            )
        if len({isinstance(label, str) for label in labels[rows]}) > 1:
            raise ValueError(
                f"Task {name!r} mixes string and number labels (e.g. 0 and '0', "
                "which would merge); give every label one type, e.g. str."
            )
        task_labels = np.asarray(labels[rows].tolist())
        unknown = sorted(set(task_labels.tolist()) - set(prompts))
        if unknown:
            raise ValueError(
                f"Task {name!r} has labels without prompts: {unknown!r} (prompted "
                f"classes: {list(prompts)!r}). Add prompts for them, or mark "
                "those images as missing (None) to leave them out of the task."
            )
        empty = [c for c in set(task_labels.tolist()) if np.size(prompts[c]) == 0]
        if empty:
            raise ValueError(
                f"Task {name!r} gives no prompt for the classes {sorted(empty)!r} "
                "(an empty list); give every class at least one prompt."
            )
        checked[str(name)] = (rows, task_labels, prompts)
    return checked


def _repeat_seed(random_state, repeat):
    return int(np.random.default_rng([random_state, repeat]).integers(2**31))
