"""The configuration of ``skalign experiment``: parsing and validation only.

A TOML file (or the same structure as a dict) declares the data sets, the
encoders with their modality and domain, the stitching tasks and the
zero-shot comparison. :func:`load_config` checks everything it can without
embedding anything: unknown keys (with the close key suggested), missing
files, references to undeclared data sets or encoders, an encoder without a
domain, a zero-shot task without prompts. Every error names the file, the key
and the fix. Running is :mod:`._experiment`'s job.
"""

import difflib
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from .._solvers import TRANSFORM_TYPES
from ._scoring import METRICS

BUILTIN_DATASETS = ("skalign:digits", "skalign:docstring-topics")
BUILTIN_PROMPTS = BUILTIN_DATASETS
MODALITIES = ("image", "text")
DECODERS = ("linear-svm", "logistic")

# Every key the file may hold, section by section, with its documentation:
# the command's --help is generated from this table.
KEYS = {
    "protocol": {
        "n_anchors": "anchor counts of the stitching curves (list of int)",
        "n_repeats": "random anchor draws per count (default 3)",
        "table_n_anchors": "anchors of the stitching table (default: the "
        "largest of n_anchors)",
        "transforms": "transforms compared (default: all four)",
        "change_transform": "transform whose % change against the source "
        "upper bound the table reports (default ortho)",
        "anchor_size": "anchor pool per task, fraction or count (default 0.25)",
        "test_size": "test part per task, fraction or count (default 0.25)",
        "n_test_per_class": "balanced test rows per class (default: the rarest)",
        "decoder": "linear-svm (the paper's, default) or logistic",
        "metric": "metric of the figures and table: roc_auc (default), "
        "accuracy, f1_macro",
        "random_state": "seed of splits, subsets and anchor draws (default 0)",
    },
    "extract": {
        "device": "auto (default), cpu, cuda, ...",
        "batch_size": "extraction batch size (default 32)",
    },
    "datasets.NAME": {
        "source": "skalign:digits, skalign:docstring-topics, or a CSV with 'id', "
        "'image' (path) or 'text', optional 'report', and label columns; "
        "optional when every encoder reads embedding files (then 'labels')",
        "labels": "CSV with 'id' and label columns (with embedding files)",
        "label": "label column (default: the only one)",
        "rows": "[start, stop]: a slice of the rows",
        "classes": "keep only these labels (of the label column)",
        "n_per_class": "keep the first N rows of each class",
    },
    "encoders.NAME": {
        "modality": "image or text (required)",
        "domain": "e.g. general or medical (required; groups Table 1)",
        "extractor": "EmbeddingExtractor spec, e.g. hf:microsoft/rad-dino",
        "embeddings": "{DATASET = 'file.npz', ...}: precomputed embeddings "
        "(.npy/.npz/.parquet, ids matching the data set)",
    },
    "stitching.TASK": {
        "dataset": "the data set whose items every encoder embeds (required)",
        "encoders": "encoders to stitch (default: every encoder of the "
        "data set's modality)",
        "label": "label column (default: the data set's)",
    },
    "zero_shot": {
        "text_encoder": "encoder whose space the images are aligned into",
        "anchors": "data set of images paired with reports (the map T is "
        "fitted on it once)",
        "vision_encoders": "encoders aligned (default: every image encoder "
        "that is not a baseline)",
        "transforms": "maps fitted on the anchors (default ['ortho'])",
        "naive": "add the naive floor (default true)",
        "prompt_pooling": "similarity (the paper's rule, default) or embedding",
        "prompt_embeddings": "the prompts already embedded by text_encoder: a "
        "file whose ids are the prompt texts (then text_encoder needs no "
        "extractor; its report embeddings may come from files)",
        "n_per_class": "images per class of each balanced subset",
        "n_repeats": "balanced subsets per task (default 3)",
    },
    "zero_shot.tasks.TASK": {
        "dataset": "the images classified (required)",
        "label": "label column (default: the data set's)",
        "prompts": "class -> prompts: a JSON file, an inline table, or "
        "skalign:digits / skalign:docstring-topics (required)",
    },
    "zero_shot.baselines.NAME": {
        "image_encoder": "its image tower (an image encoder)",
        "text_encoder": "its text tower (a text encoder), embedding the prompts",
        "prompt_embeddings": "or its prompts already embedded: a file whose "
        "ids are the prompt texts (for towers without an extractor)",
    },
}
_SECTIONS = ("protocol", "extract", "datasets", "encoders", "stitching", "zero_shot")


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the key and the fix."""


@dataclass(frozen=True)
class Dataset:
    name: str
    source: object  # a builtin name, a Path, or None (embedding files only)
    labels: Path | None
    label: str | None
    rows: tuple | None
    classes: tuple | None
    n_per_class: int | None


@dataclass(frozen=True)
class Encoder:
    name: str
    modality: str
    domain: str
    extractor: str | None
    embeddings: dict  # dataset name -> Path


@dataclass(frozen=True)
class StitchingTask:
    name: str
    dataset: str
    encoders: tuple
    label: str | None


@dataclass(frozen=True)
class ZeroShotTask:
    name: str
    dataset: str
    label: str | None
    prompts: object  # a builtin name, a Path or a dict


@dataclass(frozen=True)
class ZeroShot:
    text_encoder: str
    anchors: str
    vision_encoders: tuple
    transforms: tuple
    naive: bool
    prompt_pooling: str
    n_per_class: int | None
    n_repeats: int
    tasks: dict
    baselines: dict  # name -> (image encoder, text encoder or prompt file)
    prompt_embeddings: Path | None = None  # the text encoder's prompts, embedded


@dataclass(frozen=True)
class ExperimentConfig:
    """A checked experiment: what :func:`run_experiment` runs."""

    path: Path | None
    protocol: dict
    extract: dict
    datasets: dict
    encoders: dict
    stitching: dict
    zero_shot: ZeroShot | None
    raw: dict = field(repr=False)


def load_config(config):
    """Parse and check an experiment configuration.

    Parameters
    ----------
    config : str, path-like or dict
        A TOML file, or its content as a dict (relative paths are then
        relative to the current directory).

    Returns
    -------
    config : ExperimentConfig

    Examples
    --------
    >>> from skalign.evaluation._experiment_config import load_config
    >>> config = load_config({
    ...     "datasets": {"topics": {"source": "skalign:docstring-topics"}},
    ...     "encoders": {
    ...         "minilm": {"modality": "text", "domain": "general",
    ...                    "extractor": "all-minilm-l6-v2"},
    ...         "l3": {"modality": "text", "domain": "general",
    ...                "extractor": "paraphrase-minilm-l3"}},
    ...     "stitching": {"topics": {"dataset": "topics"}}})
    >>> config.stitching["topics"].encoders
    ('minilm', 'l3')
    >>> load_config({"protocl": {}})
    Traceback (most recent call last):
    ...
    skalign.evaluation._experiment_config.ConfigError: config: unknown key 'protocl'; did you mean 'protocol'?
    """  # noqa: E501
    if isinstance(config, dict):
        path, raw, base = None, config, Path.cwd()
    else:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(
                f"The experiment configuration {str(path)!r} does not exist; pass "
                "the path of a TOML file (see skalign experiment --help)."
            )
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        base = path.parent
    where = str(path) if path is not None else "config"
    reader = _Reader(where, base)
    reader.keys(raw, _SECTIONS, "")
    protocol = reader.section(raw, "protocol")
    extract = reader.section(raw, "extract")
    datasets = {
        name: reader.dataset(name, value)
        for name, value in reader.tables(raw, "datasets").items()
    }
    encoders = {
        name: reader.encoder(name, value, datasets)
        for name, value in reader.tables(raw, "encoders").items()
    }
    stitching = {
        name: reader.stitching(name, value, datasets, encoders)
        for name, value in reader.tables(raw, "stitching").items()
    }
    zero_shot = (
        reader.zero_shot(raw["zero_shot"], datasets, encoders)
        if "zero_shot" in raw
        else None
    )
    if not stitching and zero_shot is None:
        raise ConfigError(
            f"{where}: nothing to run; declare [stitching.TASK] tables and/or a "
            "[zero_shot] section."
        )
    _check_protocol(where, protocol)
    return ExperimentConfig(
        path, protocol, extract, datasets, encoders, stitching, zero_shot, raw
    )


def _check_protocol(where, protocol):
    transforms = protocol.get("transforms", list(TRANSFORM_TYPES))
    unknown = [t for t in transforms if t not in TRANSFORM_TYPES]
    if unknown:
        raise ConfigError(
            f"{where}: protocol.transforms names unknown transforms {unknown!r}; "
            f"choose among {list(TRANSFORM_TYPES)}."
        )
    change = protocol.get("change_transform", "ortho")
    if change not in transforms:
        raise ConfigError(
            f"{where}: protocol.change_transform = {change!r} is not one of "
            f"protocol.transforms {transforms!r}; add it or choose another."
        )
    if protocol.get("metric", "roc_auc") not in METRICS:
        raise ConfigError(
            f"{where}: protocol.metric must be one of {list(METRICS)}, got "
            f"{protocol['metric']!r}."
        )
    if protocol.get("decoder", "linear-svm") not in DECODERS:
        raise ConfigError(
            f"{where}: protocol.decoder must be one of {list(DECODERS)}, got "
            f"{protocol['decoder']!r}."
        )


class _Reader:
    """Checks the sections of one configuration, naming ``where`` in errors."""

    def __init__(self, where, base):
        self.where = where
        self.base = base

    def fail(self, message):
        raise ConfigError(f"{self.where}: {message}")

    def keys(self, table, allowed, prefix):
        if not isinstance(table, dict):
            self.fail(f"{prefix.rstrip('.') or 'the file'} must be a table.")
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"; did you mean {prefix}{close[0]!r}?"
                    if close
                    else f" (known keys: {', '.join(allowed)})"
                )
                self.fail(f"unknown key {prefix}{key!r}{hint}")

    def section(self, raw, name):
        table = raw.get(name, {})
        self.keys(table, tuple(KEYS[name]), f"{name}.")
        return dict(table)

    def tables(self, raw, name):
        tables = raw.get(name, {})
        if not isinstance(tables, dict):
            self.fail(f"{name} must hold tables [{name}.NAME].")
        for key, value in tables.items():
            if not isinstance(value, dict):
                self.fail(f"{name}.{key} must be a table ([{name}.{key}]).")
        return tables

    def file(self, value, key):
        path = Path(value)
        path = path if path.is_absolute() else self.base / path
        if not path.exists():
            self.fail(
                f"{key} = {str(value)!r}: no such file ({path}). Fix the path "
                "(relative paths are relative to the configuration file)."
            )
        return path

    def dataset(self, name, table):
        prefix = f"datasets.{name}"
        self.keys(table, tuple(KEYS["datasets.NAME"]), f"{prefix}.")
        source = table.get("source")
        if source is not None and source not in BUILTIN_DATASETS:
            source = self.file(source, f"{prefix}.source")
        labels = table.get("labels")
        if labels is not None:
            labels = self.file(labels, f"{prefix}.labels")
        if source is None and labels is None:
            self.fail(
                f"{prefix} has neither 'source' (the items and labels) nor "
                f"'labels' (a CSV of ids and labels); give one "
                f"(builtin sources: {', '.join(BUILTIN_DATASETS)})."
            )
        rows = table.get("rows")
        if rows is not None and (
            len(rows) != 2 or not all(isinstance(r, int) for r in rows)
        ):
            self.fail(f"{prefix}.rows must be [start, stop], got {rows!r}.")
        return Dataset(
            name,
            source,
            labels,
            table.get("label"),
            None if rows is None else tuple(rows),
            None if "classes" not in table else tuple(map(str, table["classes"])),
            table.get("n_per_class"),
        )

    def encoder(self, name, table, datasets):
        prefix = f"encoders.{name}"
        self.keys(table, tuple(KEYS["encoders.NAME"]), f"{prefix}.")
        for key in ("modality", "domain"):
            if key not in table:
                self.fail(
                    f"{prefix} has no {key!r}: "
                    f"{KEYS['encoders.NAME'][key]}. Add e.g. {key} = "
                    f"{'image' if key == 'modality' else 'general'!r}."
                )
        if table["modality"] not in MODALITIES:
            self.fail(
                f"{prefix}.modality must be one of {list(MODALITIES)}, got "
                f"{table['modality']!r}."
            )
        embeddings = table.get("embeddings", {})
        if "extractor" not in table and not embeddings:
            self.fail(
                f"{prefix} has neither 'extractor' (a spec that embeds the data "
                "sets' items) nor 'embeddings' (files per data set); give one."
            )
        files = {}
        for dataset, value in embeddings.items():
            self.known(dataset, datasets, f"{prefix}.embeddings", "datasets")
            files[dataset] = self.file(value, f"{prefix}.embeddings.{dataset}")
        return Encoder(
            name,
            table["modality"],
            str(table["domain"]),
            table.get("extractor"),
            files,
        )

    def known(self, name, declared, key, section):
        if name not in declared:
            close = difflib.get_close_matches(str(name), list(declared), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            self.fail(
                f"{key} names {name!r}, which is not declared in [{section}] "
                f"(declared: {list(declared)!r}).{hint}"
            )

    def stitching(self, name, table, datasets, encoders):
        prefix = f"stitching.{name}"
        self.keys(table, tuple(KEYS["stitching.TASK"]), f"{prefix}.")
        if "dataset" not in table:
            self.fail(f"{prefix} has no 'dataset': the data set to stitch on.")
        self.known(table["dataset"], datasets, f"{prefix}.dataset", "datasets")
        names = table.get("encoders")
        if names is None:
            dataset = datasets[table["dataset"]]
            modality = _modality_of(dataset, encoders)
            names = [
                e.name
                for e in encoders.values()
                if e.modality == modality and _embeds(e, dataset)
            ]
        for encoder in names:
            self.known(encoder, encoders, f"{prefix}.encoders", "encoders")
        if len(names) < 2:
            self.fail(
                f"{prefix} has {len(names)} encoder(s) for its data set; stitching "
                "needs at least two of the same modality (list them in "
                f"{prefix}.encoders)."
            )
        found = sorted({encoders[n].modality for n in names})
        if len(found) > 1:
            self.fail(
                f"{prefix}.encoders mixes modalities {found!r}; stitch encoders "
                "of one modality (list them in encoders = [...])."
            )
        return StitchingTask(name, table["dataset"], tuple(names), table.get("label"))

    def zero_shot(self, table, datasets, encoders):
        prefix = "zero_shot"
        self.keys(table, (*KEYS["zero_shot"], "tasks", "baselines"), f"{prefix}.")
        baselines = {}
        for name, value in self.tables(table, "baselines").items():
            self.keys(
                value, tuple(KEYS["zero_shot.baselines.NAME"]), f"baselines.{name}."
            )
            prefix = f"zero_shot.baselines.{name}"
            if "image_encoder" not in value:
                self.fail(f"{prefix} has no 'image_encoder' (its image tower).")
            image = value["image_encoder"]
            self.known(image, encoders, f"{prefix}.image_encoder", "encoders")
            self.modality(image, encoders, "image", f"{prefix}.image_encoder")
            if ("text_encoder" in value) == ("prompt_embeddings" in value):
                self.fail(
                    f"{prefix} needs exactly one of 'text_encoder' (its text "
                    "tower, which embeds the prompts) and 'prompt_embeddings' (a "
                    "file of the prompts embedded, ids = the prompt texts)."
                )
            if "text_encoder" in value:
                text = value["text_encoder"]
                self.known(text, encoders, f"{prefix}.text_encoder", "encoders")
                self.modality(text, encoders, "text", f"{prefix}.text_encoder")
            else:
                text = self.file(
                    value["prompt_embeddings"], f"{prefix}.prompt_embeddings"
                )
            baselines[name] = (image, text)
        in_baselines = {image for image, _ in baselines.values()}
        text = table.get("text_encoder")
        if text is None:
            self.fail("zero_shot has no 'text_encoder': the text space to align into.")
        self.known(text, encoders, "zero_shot.text_encoder", "encoders")
        self.modality(text, encoders, "text", "zero_shot.text_encoder")
        vision = table.get(
            "vision_encoders",
            [
                e.name
                for e in encoders.values()
                if e.modality == "image" and e.name not in in_baselines
            ],
        )
        for name in vision:
            self.known(name, encoders, "zero_shot.vision_encoders", "encoders")
            self.modality(name, encoders, "image", "zero_shot.vision_encoders")
        if vision and "anchors" not in table:
            self.fail(
                "zero_shot has no 'anchors': the data set of images paired with "
                "reports on which the vision encoders are aligned."
            )
        if "anchors" in table:
            self.known(table["anchors"], datasets, "zero_shot.anchors", "datasets")
        tasks = {}
        for name, value in self.tables(table, "tasks").items():
            key = f"zero_shot.tasks.{name}"
            self.keys(value, tuple(KEYS["zero_shot.tasks.TASK"]), f"{key}.")
            if "dataset" not in value:
                self.fail(f"{key} has no 'dataset': the images it classifies.")
            self.known(value["dataset"], datasets, f"{key}.dataset", "datasets")
            if "prompts" not in value:
                self.fail(
                    f"{key} has no 'prompts': a zero-shot task is defined by its "
                    'class prompts. Add prompts = "prompts.json" (class -> list of '
                    "prompts), an inline table, or one of "
                    f"{', '.join(BUILTIN_PROMPTS)}."
                )
            prompts = value["prompts"]
            if isinstance(prompts, str) and prompts not in BUILTIN_PROMPTS:
                prompts = self.file(prompts, f"{key}.prompts")
                try:
                    json.loads(prompts.read_text())
                except json.JSONDecodeError as exc:
                    self.fail(f"{key}.prompts = {str(prompts)!r} is not JSON: {exc}")
            elif not isinstance(prompts, str | dict):
                self.fail(f"{key}.prompts must be a file, a table or a builtin name.")
            tasks[name] = ZeroShotTask(
                name, value["dataset"], value.get("label"), prompts
            )
        if not tasks:
            self.fail("zero_shot declares no task; add [zero_shot.tasks.NAME] tables.")
        pooling = table.get("prompt_pooling", "similarity")
        if pooling not in ("similarity", "embedding"):
            self.fail(
                "zero_shot.prompt_pooling must be 'similarity' (the paper's rule) "
                f"or 'embedding', got {pooling!r}."
            )
        transforms = tuple(table.get("transforms", ["ortho"]))
        unknown = [t for t in transforms if t not in TRANSFORM_TYPES]
        if unknown:
            self.fail(
                f"zero_shot.transforms names unknown transforms {unknown!r}; choose "
                f"among {list(TRANSFORM_TYPES)}."
            )
        return ZeroShot(
            text,
            table.get("anchors"),
            tuple(vision),
            transforms,
            bool(table.get("naive", True)),
            pooling,
            table.get("n_per_class"),
            int(table.get("n_repeats", 3)),
            tasks,
            baselines,
            None
            if "prompt_embeddings" not in table
            else self.file(table["prompt_embeddings"], "zero_shot.prompt_embeddings"),
        )

    def modality(self, name, encoders, modality, key):
        if encoders[name].modality != modality:
            self.fail(
                f"{key} = {name!r} is a {encoders[name].modality} encoder; it must "
                f"be a {modality} encoder."
            )


def _embeds(encoder, dataset):
    """Whether ``encoder`` can embed ``dataset``: a file for it, or an extractor
    and the data set's items."""
    if dataset.name in encoder.embeddings:
        return True
    return encoder.extractor is not None and dataset.source is not None


def _modality_of(dataset, encoders):
    """The modality of a data set's items: from its source, else that of the
    encoders holding an embedding file for it."""
    if dataset.source == "skalign:digits":
        return "image"
    if dataset.source == "skalign:docstring-topics":
        return "text"
    if isinstance(dataset.source, Path):
        header = dataset.source.read_text().splitlines()[0].split(",")
        return "image" if "image" in header else "text"
    with_files = [e.modality for e in encoders.values() if dataset.name in e.embeddings]
    return with_files[0] if with_files else None


def help_text():
    """The config keys, section by section, for ``skalign experiment --help``."""
    lines = []
    for section, keys in KEYS.items():
        lines.append(f"[{section}]")
        width = max(len(k) for k in keys)
        for key, doc in keys.items():
            lines += textwrap.wrap(
                doc,
                width=79,
                initial_indent=f"  {key:<{width}}  ",
                subsequent_indent=" " * (width + 4),
            )
    return "\n".join(lines)
