"""zero_shot_from_reports: the zero-shot report from embedding files.

The alignment is learned from images paired with reports (the anchors: the
images whose id has a report), every other image is classified zero-shot from
the class prompts of each task. This is what ``skalign zero-shot`` runs.
"""

import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from .._sklearn_compat import HasMethods, Interval, validate_params
from ._io import EmbeddingFile, pair_files
from ._zeroshot_eval import REPORT_CONSTRAINTS, zero_shot_report


@validate_params(
    {
        "images": [Mapping],
        "reports": [EmbeddingFile],
        "labels": [pd.DataFrame],
        "prompts": [Mapping],
        "aligner": [None, HasMethods(["fit", "transform", "set_params"])],
        "transforms": ["array-like", Mapping],
        "naive": ["boolean"],
        "chance": ["boolean"],
        "tasks": [None, list],
        "anchor_repeats": [Interval(Integral, 1, None, closed="left")],
        "anchor_size": [None, Interval(Integral, 2, None, closed="left")],
        **REPORT_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def zero_shot_from_reports(
    images,
    reports,
    labels,
    prompts,
    *,
    text_encoder=None,
    transforms=("ortho",),
    aligner=None,
    naive=False,
    chance=False,
    prompt_pooling="similarity",
    hubness=None,
    hubness_neighbors=10,
    anchor_repeats=1,
    anchor_size=None,
    tasks=None,
    n_per_class=None,
    n_repeats=1,
    random_state=0,
    n_jobs=None,
    show_progress=False,
):
    """Zero-shot report of vision encoders aligned on image–report pairs.

    The paper's Fig. 4 set-up from embedding files: for each vision encoder
    an aligner is fitted on the images that have a report (same id in
    ``reports``) into the reports' text space; the other images are
    classified zero-shot for every task from its class prompts, and scored
    on class-balanced subsets by :func:`zero_shot_report`.

    Parameters
    ----------
    images : mapping of str to EmbeddingFile
        Vision encoder name → its image embeddings, with ids (see
        :func:`read_embeddings`). Images embedded by every encoder are kept.
    reports : EmbeddingFile
        Text embeddings of the reports, with the ids of their images.
    labels : pandas.DataFrame
        An ``id`` column and one column per task (see :func:`read_labels`),
        missing where an image is not part of a task.
    prompts : mapping
        Task → class → prompts (see :func:`read_prompts`); the classes are
        the labels as text (``1`` and ``1.0`` are both ``"1"``).
    text_encoder : transformer or None, default=None
        The encoder that embedded the reports; it embeds the prompts. None:
        ``prompts`` holds embeddings.
    transforms : list of str or mapping, default=("ortho",)
        The maps fitted per encoder, as in :func:`zero_shot_report` (names, or
        display name → any aligner estimator).
    aligner : transformer or None, default=None
        Template of the named transforms; None is ``LatentAligner()``.
    naive, chance : bool, default=False
        Add the naive floor of each encoder, and chance (see
        :func:`zero_shot_report`).
    prompt_pooling : {"similarity", "embedding"}, default="similarity"
        The paper's rule (mean similarity to each prompt) or CLIP's (see
        :func:`zero_shot_report`).
    hubness : {"csls"} or None, default=None
        Cosine (None) or hubness-aware CSLS class scores (see
        :func:`zero_shot_report`).
    hubness_neighbors : int >= 1, default=10
        Neighbourhood size of the CSLS penalties.
    anchor_repeats : int >= 1, default=1
        Draws of ``anchor_size`` image–report pairs each map is refitted on
        (see :func:`zero_shot_report`); 1 fits one map on every pair.
    anchor_size : int >= 2 or None, default=None
        Pairs per draw; None: every pair.
    tasks : list of str or None, default=None
        Tasks to run; None runs every task of ``prompts``.
    n_per_class, n_repeats, random_state, n_jobs, show_progress
        As in :func:`zero_shot_report`.

    Returns
    -------
    report : pandas.DataFrame
        As :func:`zero_shot_report`: one method ``"<encoder> (<transform>)"``
        per vision encoder and transform.

    Examples
    --------
    Two classes in a 2-d "text" space, images embedded by a rotated 3-d
    encoder; the first 40 images have a report:

    >>> import numpy as np, pandas as pd
    >>> from skalign.evaluation import EmbeddingFile, zero_shot_from_reports
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["0", "1"], 50)
    >>> text = np.where((y == "1")[:, None], [0.0, 1.0], [1.0, 0.0])
    >>> text = text + 0.1 * rng.normal(size=(100, 2))
    >>> ids = np.array([f"img{i}" for i in range(100)])
    >>> vision = EmbeddingFile(np.c_[text, np.ones(100)] @ rng.normal(size=(3, 3)),
    ...                        ids, None, None)
    >>> reports = EmbeddingFile(text[::2][:40], ids[::2][:40], None, None)
    >>> labels = pd.DataFrame({"id": ids, "finding": y})
    >>> prompts = {"finding": {"0": [[1.0, 0.0]], "1": [[0.0, 1.0]]}}
    >>> report = zero_shot_from_reports({"vit": vision}, reports, labels, prompts)
    >>> report[["method", "task", "metric", "mean", "n_test"]]
            method     task    metric  mean  n_test
    0  vit (ortho)  finding   roc_auc   1.0      50
    1  vit (ortho)  finding  accuracy   1.0      50
    2  vit (ortho)  finding  f1_macro   1.0      50
    """
    _check_inputs(images, prompts)
    prompts = _select_tasks(prompts, tasks)
    if any(file.ids is None for file in images.values()):
        raise ValueError(
            "images= and reports= are paired by id: save 'ids' in every file of "
            "images=."
        )
    if reports.ids is None:
        raise ValueError(
            "reports= has no ids to pair the reports with the images; save 'ids' "
            "in the reports file (np.savez(path, embeddings=Y, ids=ids))."
        )
    embeddings, _, _, ids = pair_files(images)
    report_rows = {item: row for row, item in enumerate(reports.ids)}
    is_anchor = np.array([item in report_rows for item in ids])
    if is_anchor.sum() < 2:
        raise ValueError(
            f"Only {int(is_anchor.sum())} images have a report in reports=; the "
            "alignment needs anchors (images with the same id in both)."
        )
    if is_anchor.all():
        raise ValueError(
            f"Every one of the {ids.size} images has a report in reports=, so none "
            "is left to classify: images with a report are the anchors, the others "
            "are tested. Add images without a report (the test images)."
        )
    anchor_reports = reports.embeddings[[report_rows[i] for i in ids[is_anchor]]]
    task_labels = _task_labels(labels, ids[~is_anchor], prompts)
    return zero_shot_report(
        {name: X[~is_anchor] for name, X in embeddings.items()},
        {task: (task_labels[task], prompts[task]) for task in prompts},
        anchors={
            name: (X[is_anchor], anchor_reports) for name, X in embeddings.items()
        },
        transforms=transforms,
        aligner=aligner,
        naive=naive,
        chance=chance,
        prompt_pooling=prompt_pooling,
        hubness=hubness,
        hubness_neighbors=hubness_neighbors,
        anchor_repeats=anchor_repeats,
        anchor_size=anchor_size,
        text_encoder=text_encoder,
        n_per_class=n_per_class,
        n_repeats=n_repeats,
        random_state=random_state,
        n_jobs=n_jobs,
        show_progress=show_progress,
    )


def _check_inputs(images, prompts):
    """Refuse what the parameter constraints let through: no image file, an
    image file that is not an EmbeddingFile, no prompts."""
    if not images:
        raise ValueError(
            "images= must be a non-empty mapping encoder name -> EmbeddingFile, "
            "got {}; read each file with read_embeddings."
        )
    for name, value in images.items():
        if not isinstance(value, EmbeddingFile):
            raise TypeError(
                f"images[{name!r}] is a {type(value).__name__}, not an "
                "EmbeddingFile; read it with read_embeddings(path)."
            )
    if not prompts:
        raise ValueError(
            "prompts= is empty; pass task -> {class -> [prompts]} (read_prompts)."
        )


def _select_tasks(prompts, tasks):
    if tasks is None:
        return dict(prompts)
    unknown = [task for task in tasks if task not in prompts]
    if unknown:
        raise ValueError(
            f"tasks= names tasks without prompts: {unknown!r} (tasks in prompts=: "
            f"{list(prompts)!r})."
        )
    return {task: prompts[task] for task in tasks}


def _task_labels(labels, ids, prompts):
    """Task -> labels of the images ``ids`` as the text keying the prompts."""
    if "id" not in labels.columns:
        raise ValueError("labels= needs an 'id' column to pair labels with images.")
    table = labels.set_index("id")
    unlabelled = np.setdiff1d(ids, table.index.astype(str))
    if unlabelled.size:
        warnings.warn(
            f"{unlabelled.size} of the {len(ids)} test images have no row in "
            f"labels= (e.g. id {unlabelled.tolist()[0]!r}) and are left out of "
            "every task; add their rows (labels left empty where an image is not "
            "part of a task) to silence this.",
            UserWarning,
            stacklevel=3,
        )
    table = table.reindex(ids)
    missing = [task for task in prompts if task not in table.columns]
    if missing:
        raise ValueError(
            f"labels= has no column for the tasks {missing!r}; add one column per "
            "task of prompts=."
        )
    return {task: _label_texts(table[task]) for task in prompts}


def _label_texts(column):
    """Labels as the strings that key the prompts; missing stays None."""
    return np.array(
        [
            None
            if pd.isna(v)
            else str(int(v) if isinstance(v, float) and v.is_integer() else v)
            for v in column
        ],
        dtype=object,
    )
