"""zero_shot_report: zero-shot classifiers over several tasks (the paper's Fig. 4)."""

import copy
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from tqdm.auto import tqdm

from .._validation import check_embeddings
from ._scoring import METRICS, classifier_scores
from ._subsets import balanced_subset

REPORT_COLUMNS = ("method", "task", "metric", "mean", "std", "n_runs", "n_test")
_ZERO_SHOT_CLASSIFIER = HasMethods(["fit", "predict", "set_params"])


@validate_params(
    {
        "methods": [Mapping],
        "tasks": [Mapping],
        "n_per_class": [None, Interval(Integral, 1, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [None, Integral],
        "show_progress": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def zero_shot_report(
    methods,
    tasks,
    *,
    n_per_class=None,
    n_repeats=1,
    random_state=0,
    n_jobs=None,
    show_progress=False,
):
    """Score zero-shot classifiers on several tasks, on balanced subsets.

    Each method is a set of image embeddings and a zero-shot classifier
    (typically a :class:`~skalign.ZeroShotTextSpaceClassifier` with a text
    encoder and an aligner fitted beforehand on image–report pairs, or with
    no aligner for a CLIP-style model). Each task is a labelling of the images
    and the prompts describing its classes. For every (method, task) the
    classifier gets the task's prompts, is fitted without labels (zero-shot)
    and is scored on class-balanced subsets of the task's images.

    Parameters
    ----------
    methods : mapping of str to (array-like, classifier)
        Method name → ``(X, classifier)``: the embeddings of all images by
        this method's vision encoder, shape (n_images, n_features), rows in
        the same order for every method; and a classifier with a
        ``class_prompts`` parameter, ``fit(X)`` without labels, ``predict``
        and ``decision_function`` or ``predict_proba``. The classifier is
        copied (not cloned) per task, so a fitted aligner inside it is used
        as is.
    tasks : mapping of str to (array-like, mapping)
        Task name → ``(labels, class_prompts)``: labels of shape (n_images,),
        missing (None or NaN) for images outside the task (e.g. another
        dataset), and the prompts of each class (keys: the labels).
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

    Examples
    --------
    A toy text space with precomputed prompt embeddings; images already live
    in it (``aligner=None``, the multimodal setting):

    >>> import numpy as np
    >>> from skalign import ZeroShotTextSpaceClassifier
    >>> from skalign.evaluation import zero_shot_report
    >>> rng = np.random.default_rng(0)
    >>> X = np.repeat(np.eye(3), 20, axis=0) + 0.3 * rng.normal(size=(60, 3))
    >>> truth = np.repeat(["a", "b", "c"], 20)
    >>> prompts = {"a": [1.0, 0, 0], "b": [0, 1.0, 0], "c": [0, 0, 1.0]}
    >>> binary = np.where(truth == "a", "a", "not a").astype(object)
    >>> binary[truth == "c"] = None  # images outside this task
    >>> tasks = {"abc": (truth, prompts),
    ...          "a vs b": (binary, {"a": [1.0, 0, 0], "not a": [0, 1.0, 0]})}
    >>> report = zero_shot_report({"toy": (X, ZeroShotTextSpaceClassifier({}))}, tasks)
    >>> report[report.metric == "roc_auc"][["task", "mean", "n_test"]]
         task  mean  n_test
    0     abc   1.0      60
    3  a vs b   1.0      40
    """
    methods, n_images = _check_methods(methods)
    tasks = _check_tasks(tasks, n_images)
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
            classifier,
            X[rows],
            labels,
            prompts,
            subsets[task],
        )
        for method, (X, classifier) in methods.items()
        for task, (rows, labels, prompts) in tasks.items()
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


def _evaluate(method, task, classifier, X, labels, prompts, subsets):
    fitted = copy.copy(classifier).set_params(class_prompts=prompts).fit(X)
    return (method, task), [
        classifier_scores(fitted, X[subset], labels[subset]) for subset in subsets
    ]


def _check_methods(methods):
    if not methods:
        raise ValueError(
            "methods is empty; map at least one method name to (X, classifier)."
        )
    checked, widths = {}, {}
    for name, value in methods.items():
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise TypeError(
                f"methods[{name!r}] must be a pair (X, classifier): the image "
                "embeddings of this method and its zero-shot classifier, got "
                f"{type(value).__name__}."
            )
        X, classifier = value
        if not _ZERO_SHOT_CLASSIFIER.is_satisfied_by(classifier):
            raise TypeError(
                f"methods[{name!r}] holds {type(classifier).__name__}, which is not "
                "a zero-shot classifier (it needs fit, predict and set_params). "
                "Pass e.g. ZeroShotTextSpaceClassifier({}, text_encoder=..., "
                "aligner=...)."
            )
        X = check_embeddings(X, input_name=f"methods[{name!r}] embeddings")
        checked[str(name)] = (np.asarray(X), classifier)
        widths[str(name)] = X.shape[0]
    if len(set(widths.values())) > 1:
        raise ValueError(
            f"The methods embed different numbers of images: {widths}. Every "
            "method must embed the same images in the same order (the task "
            "labels index them)."
        )
    return checked, next(iter(widths.values()))


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
