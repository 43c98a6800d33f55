"""zero_shot_report: zero-shot classification over several tasks (Fig. 4)."""

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from tqdm.auto import tqdm

from .._text_space import encode_texts
from .._validation import check_embeddings
from .._zeroshot import ZeroShotTextSpaceClassifier
from ._scoring import METRICS, classifier_scores
from ._subsets import balanced_subset

REPORT_COLUMNS = ("method", "task", "metric", "mean", "std", "n_runs", "n_test")
_ALIGNER = HasMethods(["fit", "transform"])


# Parameter constraints shared by the functions that build a zero-shot report.
REPORT_CONSTRAINTS = {
    "text_encoder": [None, HasMethods(["fit", "transform"])],
    "n_per_class": [None, Interval(Integral, 1, None, closed="left")],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "n_jobs": [None, Integral],
    "show_progress": ["boolean"],
}


@validate_params(
    {"methods": [Mapping], "tasks": [Mapping], **REPORT_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def zero_shot_report(
    methods,
    tasks,
    *,
    text_encoder=None,
    n_per_class=None,
    n_repeats=1,
    random_state=0,
    n_jobs=None,
    show_progress=False,
):
    """Score zero-shot classification in a text space on several tasks.

    Each method is a set of image embeddings and the aligner that translates
    them into the text space (typically a :class:`~skalign.LatentAligner`
    fitted beforehand on image–report pairs; None for a CLIP-style model whose
    image embeddings already live there). Each task is a labelling of the
    images and the prompts describing its classes. For every (method, task) a
    :class:`~skalign.ZeroShotTextSpaceClassifier` with the task's prompts and
    the method's aligner (used as is, never refitted) is scored on
    class-balanced subsets of the task's images. Every prompt is embedded
    once per text encoder, whatever the number of methods.

    Parameters
    ----------
    methods : mapping of str to tuple
        Method name → ``(X, aligner)`` or ``(X, aligner, text_encoder)``: the
        embeddings of all images by this method's vision encoder, shape
        (n_images, n_features), rows in the same order for every method; a
        fitted transformer into the text space, or None when ``X`` is already
        in it (a CLIP-style image tower); and optionally the method's own
        text encoder (e.g. the CLIP text tower of a CLIP baseline), else
        ``text_encoder``.
    tasks : mapping of str to (array-like, mapping)
        Task name → ``(labels, class_prompts)``: labels of shape (n_images,),
        missing (None or NaN) for images outside the task (e.g. another
        dataset), and the prompts of each class (keys: the labels), as in
        :class:`~skalign.ZeroShotTextSpaceClassifier`'s ``class_prompts``.
    text_encoder : transformer or None, default=None
        Embeds the prompts of the methods without their own (e.g. an
        :class:`~skalign.extract.EmbeddingExtractor`). None: the prompts are
        given as embeddings, shape (n_prompts, n_text_features) per class.
    n_per_class : int or None, default=None
        Images per class in each balanced subset (e.g. 200). None: as many as
        the task's rarest class has.
    n_repeats : int, default=1
        Balanced subsets drawn per task (different draws when classes are
        imbalanced); scores are averaged over them.
    random_state : int, default=0
        Seeds the subsets.
    n_jobs : int or None, default=None
        (method, task) evaluations run in parallel with :class:`joblib.Parallel`.
    show_progress : bool, default=False
        Show a tqdm progress bar.

    Returns
    -------
    report : pandas.DataFrame
        Columns ``method``, ``task``, ``metric`` (``"roc_auc"``,
        ``"accuracy"``, ``"f1_macro"``), ``mean``, ``std`` (over subsets,
        ``ddof=0``), ``n_runs`` and ``n_test`` (images per subset).

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
    >>> report[report.metric == "roc_auc"][["task", "mean", "n_test"]]
         task  mean  n_test
    0     abc   1.0      60
    3  a vs b   1.0      40
    """
    methods, n_images = _check_methods(methods, text_encoder)
    tasks = _check_tasks(tasks, n_images)
    # each distinct text encoder embeds every prompt once
    encoders = {id(encoder): encoder for _, _, encoder in methods.values()}
    prompts_by_encoder = {
        key: _embed_prompts(tasks, encoder) for key, encoder in encoders.items()
    }
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
            method,
            task,
            ZeroShotTextSpaceClassifier(
                prompts_by_encoder[id(encoder)][task], aligner=aligner
            ),
            X[rows],
            labels,
            subsets[task],
        )
        for method, (X, aligner, encoder) in methods.items()
        for task, (rows, labels, _) in tasks.items()
    )
    results = {}
    with tqdm(
        total=len(methods) * len(tasks), desc="zero-shot", disable=not show_progress
    ) as bar:
        for key, scores in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            jobs
        ):
            results[key] = scores
            bar.update()
    rows = []
    for method in methods:
        for task in tasks:
            runs = pd.DataFrame(results[method, task])
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
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def _evaluate(method, task, classifier, X, labels, subsets):
    fitted = classifier.fit(X)
    return (method, task), [
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
                f"as a third item; got {type(value).__name__}."
            )
        X, aligner, encoder = (*value, text_encoder)[:3]
        if encoder is not None and not _ALIGNER.is_satisfied_by(encoder):
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
        task_labels = np.asarray(labels[rows].tolist())
        unknown = sorted(set(task_labels.tolist()) - set(prompts))
        if unknown:
            raise ValueError(
                f"Task {name!r} has labels without prompts: {unknown!r} (prompted "
                f"classes: {list(prompts)!r}). Add prompts for them, or mark "
                "those images as missing (None) to leave them out of the task."
            )
        checked[str(name)] = (rows, task_labels, prompts)
    return checked


def _repeat_seed(random_state, repeat):
    return int(np.random.default_rng([random_state, repeat]).integers(2**31))
