"""The configuration of ``skalign experiment``: parsing and validation only.

A TOML file (or the same structure as a dict) declares the data sets, the
encoders with their modality and domain, the stitching tasks and the
zero-shot comparison. ``load_config`` checks everything it can without
embedding anything, against one typed schema (:data:`SCHEMA`): unknown keys
(with the close key suggested), the type and range of every value (nothing is
coerced: ``classes = "ab"``, ``n_per_class = -1`` or ``naive = "false"`` are
refused), missing files, references to undeclared data sets or encoders, an
encoder without a domain, a zero-shot task without prompts. Every error names
the file, the key, the value and the fix. The ``[protocol]`` section is read
into a :class:`~._protocol.Protocol` record; its keys, documentation and
defaults come from that record. Running is :mod:`._experiment`'s job.
"""

import csv
import dataclasses
import difflib
import json
import os
import sys
import textwrap
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import NamedTuple

from .._sklearn_compat import make_constraint
from .._solvers import TRANSFORM_TYPES
from ._outputs import formula_like
from ._protocol import (
    DECODERS,
    DEFAULT_DECODER,
    PRESETS,
    SPEC_KEYS,
    Protocol,
    check_transforms,
    pool_transforms,
    transform_names,
)
from ._scoring import METRICS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, released as tomli
    import tomli as tomllib

BUILTIN_DATASETS = ("skalign:digits", "skalign:docstring-topics")
BUILTIN_PROMPTS = BUILTIN_DATASETS
# Configurations shipped in the package: "skalign:NAME" is configs/NAME.toml.
BUILTIN_CONFIGS = ("skalign:demo",)
MODALITIES = ("image", "text")
PROMPT_POOLINGS = ("similarity", "embedding")
HUBNESS = ("csls",)
REQUIRED = object()


class _Invalid(Exception):
    """A value of the wrong type or range: what was expected, and the fix."""


class Key(NamedTuple):
    """One key of the configuration: its documentation, its check and default.

    ``check(value)`` returns the value or raises :class:`_Invalid`;
    ``default`` is :data:`REQUIRED`, None (optional, no value) or the value
    used when the key is absent.
    """

    doc: str
    check: object
    default: object = None


def _type_name(value):
    names = {bool: "a boolean", str: "a string", int: "an integer",
             float: "a number", list: "a list", dict: "a table"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _whole(minimum, example):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise _Invalid(f"a whole number >= {minimum}, e.g. {example}")
        if value < minimum:
            raise _Invalid(f"a whole number >= {minimum}, e.g. {example}")
        return value

    return check


def _text(choices=None):
    def check(value):
        if not isinstance(value, str) or not value:
            expected = "a non-empty string"
            if choices:
                expected = f"one of {list(choices)} (a string)"
            raise _Invalid(expected)
        if choices is not None and value not in choices:
            raise _Invalid(f"one of {list(choices)}")
        return value

    return check


def _path(value):
    """A file: a non-empty string (or, in a dict configuration, a path object)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return _text()(value)


def _boolean(value):
    if not isinstance(value, bool):
        raise _Invalid("true or false (a TOML boolean, without quotes)")
    return value


def _list(item, what, example, *, choices=None):
    def check(value):
        if not isinstance(value, list) or not value:
            raise _Invalid(f"a non-empty list of {what}, e.g. {example}")
        for element in value:
            try:
                item(element)
            except _Invalid as exc:
                raise _Invalid(
                    f"a non-empty list of {what}, e.g. {example} (the element "
                    f"{element!r} is not {exc})"
                ) from None
            if choices is not None and element not in choices:
                raise _Invalid(f"a list of names among {list(choices)}")
        if len(set(map(repr, value))) != len(value):
            raise _Invalid(f"a list of {what} without repeats")
        return value

    return check


def _label(value):
    if isinstance(value, bool) or not isinstance(value, str | Integral):
        raise _Invalid("a label (a string, or an integer)")
    return value


def _rows(value):
    valid = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] < value[1]
    )
    if not valid:
        raise _Invalid("[start, stop]: two whole numbers, 0 <= start < stop")
    return value


def _prompts_value(value):
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and value:
        for label, prompts in value.items():
            if (
                not isinstance(prompts, list)
                or not prompts
                or not all(isinstance(p, str) and p.strip() for p in prompts)
            ):
                raise _Invalid(
                    f"a table class -> list of non-empty prompts (class {label!r} "
                    f"has {prompts!r})"
                )
        return value
    raise _Invalid(
        "a JSON file (class -> list of prompts), an inline table or one of "
        f"{list(BUILTIN_PROMPTS)}"
    )


def _files_table(value):
    if not isinstance(value, dict) or not all(
        isinstance(v, str | os.PathLike) and os.fspath(v) for v in value.values()
    ):
        raise _Invalid("a table DATASET = 'file.npz'")
    return {dataset: os.fspath(file) for dataset, file in value.items()}


def _constraint_check(name):
    """The check of a :class:`Protocol` setting, from its parameter constraints
    (booleans are never numbers)."""
    constraints = [
        make_constraint(c) for c in Protocol.constraints(name) if c is not None
    ]

    def check(value):
        if not isinstance(value, bool) and any(
            c.is_satisfied_by(value) for c in constraints
        ):
            return value
        raise _Invalid(" or ".join(str(c) for c in constraints))

    return check


_SPEC_EXAMPLE = (
    '["linear", "paper-affine", {name = "adam-500", transform_type = "affine", '
    'solver = "adam", max_iter = 500, learning_rate = 1e-3}]'
)


def _transform_specs(value):
    """``[protocol] transforms``: names, presets and specifications (inline
    tables with ``name``), checked as :func:`check_transforms` checks them."""
    if not isinstance(value, list) or not value:
        raise _Invalid(f"a non-empty list of transforms, e.g. {_SPEC_EXAMPLE}")
    for entry in value:
        if not isinstance(entry, str | dict):
            raise _Invalid(
                f"a list of names ({list(TRANSFORM_TYPES)}, presets "
                f"{list(PRESETS)}) and inline tables {{name = ..., "
                f"{' = ..., '.join(SPEC_KEYS)} = ...}}, e.g. {_SPEC_EXAMPLE} (the "
                f"element {entry!r} is {_type_name(entry)})"
            )
    try:
        check_transforms(value, None)
    except (TypeError, ValueError) as exc:
        raise _Invalid(
            f"a list of names ({list(TRANSFORM_TYPES)}, presets {list(PRESETS)}) "
            f"and specifications, e.g. {_SPEC_EXAMPLE}; {exc}"
        ) from None
    formulas = [name for name in transform_names(value) if formula_like(name)]
    if formulas:
        raise _Invalid(
            f"transform names that start with a letter or a digit; {formulas[0]!r} "
            "would run as a formula when a spreadsheet opens the result tables. "
            "Rename it"
        )
    return value


def _zero_shot_transforms(value):
    """``[zero_shot] transforms``: as ``[protocol] transforms``, each name one of
    the transform types and presets (e.g. ``"self-learning"``)."""
    names = [*TRANSFORM_TYPES, *PRESETS]
    if not isinstance(value, list) or not value:
        raise _Invalid(
            f"a non-empty list of transform names or specifications, e.g. {names}"
        )
    unknown = [e for e in value if isinstance(e, str) and e not in names]
    if unknown:
        raise _Invalid(
            f"a list of names, each one of {names}, or specifications (the "
            f"element {unknown[0]!r} is not)"
        )
    return _transform_specs(value)


def _protocol_key(name):
    """A ``[protocol]`` key of a :class:`Protocol` setting."""
    checks = {"transforms": _transform_specs, "decoder": _text(DECODERS)}
    default = getattr(Protocol, name)
    if name == "decoder":
        default = DEFAULT_DECODER
    if name == "transforms":
        default = list(default)
    return Key(Protocol.doc(name), checks.get(name, _constraint_check(name)), default)


# Every key the file may hold, section by section: its documentation, type and
# default. The command's --help is generated from this table.
SCHEMA = {
    "protocol": {
        "n_anchors": Key(
            "anchor counts of the stitching curves (default: six log-spaced "
            "counts up to the smallest anchor pool)",
            _list(_whole(2, 50), "whole numbers >= 2", "[10, 20, 40]"),
        ),
        "table_n_anchors": Key(
            "anchors of the stitching table (default: the largest of n_anchors)",
            _whole(2, 50),
        ),
        **{name: _protocol_key(name) for name in Protocol.config_settings()},
        "change_transform": Key(
            "transform whose % change against the source upper bound the table "
            "reports (a name in transforms)",
            _text(),
            "ortho",
        ),
        "metric": Key("metric of the figures and table", _text(METRICS), "roc_auc"),
    },
    "extract": {
        "device": Key("auto (cuda, mps, cpu), cpu, cuda, ...", _text(), "auto"),
        "batch_size": Key("extraction batch size", _whole(1, 32), 32),
    },
    "datasets.NAME": {
        "source": Key(
            "skalign:digits, skalign:docstring-topics, or a CSV with 'id', "
            "'image' (path) or 'text', optional 'report', and label columns; "
            "optional when every encoder reads embedding files (then 'labels')",
            _path,
        ),
        "labels": Key("CSV with 'id' and label columns (with embedding files)", _path),
        "label": Key("label column (default: the only one)", _text()),
        "rows": Key("[start, stop]: a slice of the rows", _rows),
        "classes": Key(
            "keep only these labels (of the label column)",
            _list(_label, "labels", '["0", "1"]'),
        ),
        "n_per_class": Key("keep the first N rows of each class", _whole(1, 50)),
    },
    "encoders.NAME": {
        "modality": Key("image or text", _text(MODALITIES), REQUIRED),
        "domain": Key("e.g. general or medical (groups Table 1)", _text(), REQUIRED),
        "extractor": Key(
            "EmbeddingExtractor spec, e.g. hf:microsoft/rad-dino", _text()
        ),
        "embeddings": Key(
            "{DATASET = 'file.npz', ...}: precomputed embeddings "
            "(.npy/.npz/.parquet, ids matching the data set)",
            _files_table,
        ),
    },
    "stitching.TASK": {
        "dataset": Key(
            "the data set whose items every encoder embeds", _text(), REQUIRED
        ),
        "encoders": Key(
            "encoders to stitch (default: every encoder of the data set's modality)",
            _list(_text(), "encoder names", '["dinov2", "rad-dino"]'),
        ),
        "label": Key("label column (default: the data set's)", _text()),
        "unpaired": Key(
            "data set whose items every encoder of the task embeds as an "
            "unpaired pool, for the self-learning transforms of "
            "protocol.transforms (e.g. 'self-learning'); it must share no item "
            "with the task's data set",
            _text(),
        ),
    },
    "zero_shot": {
        "text_encoder": Key(
            "encoder whose space the images are aligned into", _text(), REQUIRED
        ),
        "anchors": Key(
            "data set of images paired with reports (the map T is fitted on it once)",
            _text(),
        ),
        "vision_encoders": Key(
            "encoders aligned (default: every image encoder that is not a baseline)",
            _list(_text(), "encoder names", '["dinov2"]'),
        ),
        "transforms": Key(
            "maps fitted on the anchors: names, presets (self-learning learns "
            "from zero_shot.unpaired too) or specifications, as "
            "protocol.transforms",
            _zero_shot_transforms,
            ["ortho"],
        ),
        "unpaired": Key(
            "data set of unpaired images and reports (its images embedded by "
            "the vision encoders, its reports by text_encoder, never paired): "
            "the pool of the self-learning transforms; it must share no item "
            "with the tasks' data sets",
            _text(),
        ),
        "naive": Key("add the naive floor", _boolean, True),
        "prompt_pooling": Key(
            "similarity (the paper's rule) or embedding",
            _text(PROMPT_POOLINGS),
            "similarity",
        ),
        "prompt_embeddings": Key(
            "the prompts already embedded by text_encoder: a file whose ids are "
            "the prompt texts (then text_encoder needs no extractor; its report "
            "embeddings may come from files)",
            _path,
        ),
        "hubness": Key(
            "csls: score classes by the hubness-aware CSLS similarity (default: "
            "cosine similarity, the paper's rule)",
            _text(HUBNESS),
        ),
        "hubness_neighbors": Key(
            "neighbourhood size of the CSLS penalties (with hubness = 'csls')",
            _whole(1, 10),
            10,
        ),
        "n_per_class": Key("images per class of each balanced subset", _whole(1, 50)),
        "n_repeats": Key("balanced subsets per task", _whole(1, 3), 3),
        "anchor_repeats": Key(
            "random draws of anchor_size anchor pairs, each map refitted on "
            "every draw so that the std reflects anchor draws (default: 1, one "
            "map fitted on every anchor, the paper's T)",
            _whole(1, 5),
            1,
        ),
        "anchor_size": Key(
            "anchor pairs per draw, below the number of anchors (default: "
            "every anchor; required when anchor_repeats > 1)",
            _whole(2, 100),
        ),
    },
    "zero_shot.tasks.TASK": {
        "dataset": Key("the images classified", _text(), REQUIRED),
        "label": Key("label column (default: the data set's)", _text()),
        "prompts": Key(
            "class -> prompts: a JSON file, an inline table, or "
            "skalign:digits / skalign:docstring-topics",
            _prompts_value,
            REQUIRED,
        ),
    },
    "zero_shot.baselines.NAME": {
        "image_encoder": Key("its image tower (an image encoder)", _text(), REQUIRED),
        "text_encoder": Key(
            "its text tower (a text encoder), embedding the prompts", _text()
        ),
        "prompt_embeddings": Key(
            "or its prompts already embedded: a file whose ids are the prompt "
            "texts (for towers without an extractor)",
            _path,
        ),
    },
}
_SECTIONS = ("protocol", "extract", "datasets", "encoders", "stitching", "zero_shot")


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the key and the fix.

    Examples
    --------
    >>> from skalign.evaluation import ConfigError, ExperimentConfig
    >>> try:
    ...     ExperimentConfig.read({"datasets": {"d": {"n_per_class": -1}}})
    ... except ConfigError as error:
    ...     print(str(error)[:58])
    config: datasets.d.n_per_class must be a whole number >= 1
    """


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    source: object  # a builtin name, a Path, or None (embedding files only)
    labels: Path | None
    label: str | None
    rows: tuple | None
    classes: tuple | None
    n_per_class: int | None


@dataclasses.dataclass(frozen=True)
class Encoder:
    name: str
    modality: str
    domain: str
    extractor: str | None
    embeddings: dict  # dataset name -> Path


@dataclasses.dataclass(frozen=True)
class StitchingTask:
    name: str
    dataset: str
    encoders: tuple
    label: str | None
    unpaired: str | None = None  # the data set of the unpaired pool


@dataclasses.dataclass(frozen=True)
class ZeroShotTask:
    name: str
    dataset: str
    label: str | None
    prompts: object  # a builtin name, a Path or a dict


@dataclasses.dataclass(frozen=True)
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
    hubness: str | None = None
    hubness_neighbors: int = 10
    anchor_repeats: int = 1
    anchor_size: int | None = None
    unpaired: str | None = None  # the data set of the unpaired pool


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A checked experiment configuration: what :func:`run_experiment` runs.

    Read one with :meth:`read`; :meth:`keys_help` documents every key.

    Attributes
    ----------
    path : pathlib.Path or None
        The TOML file (None for a dict).
    protocol : Protocol
        The ``[protocol]`` settings of the stitching protocol.
    curves : dict
        The other ``[protocol]`` keys: ``n_anchors``, ``table_n_anchors``,
        ``change_transform`` and ``metric`` (defaults filled in).
    extract : dict
        ``device`` and ``batch_size`` of the extractors.
    datasets, encoders, stitching : dict
        Name -> the checked table.
    zero_shot : dataclass or None
        The zero-shot comparison, if declared: its checked keys as attributes
        (``text_encoder``, ``tasks``, ``baselines``, ...).

    Examples
    --------
    >>> from skalign.evaluation import ExperimentConfig
    >>> config = ExperimentConfig.read("skalign:demo")
    >>> sorted(config.encoders)[:2]
    ['efficientnet', 'minilm-l3']
    >>> "n_repeats" in ExperimentConfig.keys_help()
    True
    """

    path: Path | None
    protocol: Protocol
    curves: dict
    extract: dict
    datasets: dict
    encoders: dict
    stitching: dict
    zero_shot: ZeroShot | None
    raw: dict = dataclasses.field(repr=False)

    @classmethod
    def read(cls, config):
        """Parse and check a configuration: a TOML path, ``"skalign:NAME"``
        (a packaged one) or a dict of the same structure."""
        return load_config(config)

    @staticmethod
    def keys_help():
        """Every key, section by section, with its default (the ``--help``)."""
        return help_text()

    @staticmethod
    def builtin_text(name):
        """The TOML text of a packaged configuration, e.g. ``"skalign:demo"``."""
        return _builtin_path(name).read_text()


def _builtin_path(name):
    if name not in BUILTIN_CONFIGS:
        raise ConfigError(
            f"{name!r} is not a packaged configuration; the packaged ones are "
            f"{list(BUILTIN_CONFIGS)}."
        )
    stem = name.removeprefix("skalign:")
    return resources.files("skalign.evaluation") / "configs" / f"{stem}.toml"


def _config_path(config):
    """The TOML file ``config`` names, refused unless it is an existing file."""
    if not isinstance(config, str | os.PathLike):
        raise TypeError(
            f"config must be the path of a TOML file, 'skalign:NAME' or a dict, got "
            f"{config!r} ({type(config).__name__}); pass one of those."
        )
    path = Path(config)
    if path.is_dir():
        raise ConfigError(
            f"The experiment configuration {str(path)!r} is a folder; pass the "
            "path of a TOML file inside it (see skalign experiment --help)."
        )
    if not path.is_file():
        raise ConfigError(
            f"The experiment configuration {str(path)!r} does not exist; "
            "pass the path of a TOML file (see skalign experiment --help)."
        )
    return path


def _config_text(path):
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM (Notepad) is skipped
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a TOML file (it is not UTF-8 text: {exc}); pass the "
            "experiment's TOML file, saved as UTF-8."
        ) from None


def load_config(config):
    """Parse and check an experiment configuration.

    Parameters
    ----------
    config : str, path-like or dict
        A TOML file, a packaged configuration (``"skalign:demo"``), or the
        content of a file as a dict (relative paths are then relative to the
        current directory).

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
    >>> config.protocol.n_repeats
    3
    >>> load_config({"protocl": {}})
    Traceback (most recent call last):
    ...
    skalign.evaluation._experiment_config.ConfigError: config: unknown key 'protocl'; did you mean 'protocol'?
    """  # noqa: E501
    if isinstance(config, dict):
        path, raw, base = None, config, Path.cwd()
    else:
        if (
            isinstance(config, str)
            and config.casefold().startswith("skalign:")
            and not Path(config).is_file()
        ):
            path = _builtin_path(config)
            text = path.read_text()
        else:
            path = _config_path(config)
            text = _config_text(path)
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        base = Path(path).parent.resolve()
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
    pooled = [t.name for t in stitching.values() if t.unpaired is not None]
    if pooled and not pool_transforms(protocol["transforms"]):
        reader.fail(
            f"stitching.{pooled[0]}.unpaired gives an unpaired pool, but no "
            "transform of protocol.transforms learns from one; add "
            '"self-learning" to protocol.transforms, or remove unpaired.'
        )
    names = transform_names(protocol["transforms"])
    if protocol["change_transform"] not in names:
        reader.fail(
            f"protocol.change_transform = {protocol['change_transform']!r} is not "
            f"one of the names of protocol.transforms {names!r}; add it or "
            "choose another."
        )
    settings = Protocol.config_settings()
    curves = {k: v for k, v in protocol.items() if k not in settings}
    return ExperimentConfig(
        path,
        Protocol(**{k: v for k, v in protocol.items() if k in settings}),
        curves,
        extract,
        datasets,
        encoders,
        stitching,
        zero_shot,
        raw,
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

    def checked(self, table, schema, prefix, extra=()):
        """The table's values checked against ``schema`` (section -> Key), the
        absent ones at their default; unknown keys and missing required keys
        are errors that name the key."""
        self.keys(table, (*schema, *extra), f"{prefix}.")
        values = {}
        for name, key in schema.items():
            if name not in table:
                if key.default is REQUIRED:
                    self.fail(
                        f"{prefix} has no {name!r}: {key.doc}. Add {name} = ... "
                        f"to [{prefix}]."
                    )
                values[name] = key.default
                continue
            value = table[name]
            try:
                values[name] = key.check(value)
            except _Invalid as exc:
                self.fail(
                    f"{prefix}.{name} must be {exc}, got {value!r} "
                    f"({_type_name(value)}); fix the value in [{prefix}] "
                    f"({key.doc})."
                )
        return values

    def section(self, raw, name):
        return self.checked(raw.get(name, {}), SCHEMA[name], name)

    def tables(self, raw, name):
        tables = raw.get(name, {})
        if not isinstance(tables, dict):
            self.fail(f"{name} must hold tables [{name}.NAME].")
        for key, value in tables.items():
            if not isinstance(value, dict):
                self.fail(f"{name}.{key} must be a table ([{name}.{key}]).")
            if formula_like(key):
                self.fail(
                    f"[{name}.{key!r}]: a name starting with {key[0]!r} would run as "
                    "a formula when a spreadsheet opens the result tables; start "
                    "the name with a letter or a digit."
                )
        return tables

    def file(self, value, key, suffixes=None):
        """The file ``value`` names (relative to the configuration's folder),
        refused when it is missing, a folder, or (``suffixes``) of another kind."""
        path = Path(value)
        path = path if path.is_absolute() else self.base / path
        if not path.exists():
            self.fail(
                f"{key} = {str(value)!r}: no such file ({path}). Fix the path "
                "(relative paths are relative to the configuration file)."
            )
        if path.is_dir():
            self.fail(
                f"{key} = {str(value)!r} is a folder ({path}); give the path of a "
                "file in it."
            )
        if suffixes is not None and path.suffix.lower() not in suffixes:
            self.fail(
                f"{key} = {str(value)!r} is a {path.suffix or 'suffix-less'} file; "
                f"it must be a {' or '.join(suffixes)} file. Give the right file."
            )
        return path

    def csv_file(self, value, key):
        """A CSV file with a header naming an 'id' column (data sets' sources
        and labels)."""
        path = self.file(value, key, (".csv",))
        try:
            header = csv_header(path)
        except UnicodeDecodeError:
            self.fail(f"{key} = {str(value)!r} is not a text CSV file; give a CSV.")
        if not header:
            self.fail(
                f"{key} = {str(value)!r} is empty; a data set's CSV needs a header "
                "row naming an 'id' column and its label columns."
            )
        if "id" not in header:
            hint = (
                f" (it looks separated by {sep!r}: save it comma-separated)"
                if (sep := _other_separator(header))
                else ""
            )
            self.fail(
                f"{key} = {str(value)!r} has no 'id' column in its header "
                f"{header!r}{hint}; a data set's CSV needs one id per row (it "
                "pairs the rows with embedding files). Add an 'id' column."
            )
        return path

    def dataset(self, name, table):
        prefix = f"datasets.{name}"
        values = self.checked(table, SCHEMA["datasets.NAME"], prefix)
        source = values["source"]
        if source is not None and source not in BUILTIN_DATASETS:
            if source.startswith("skalign:"):
                self.fail(
                    f"{prefix}.source = {source!r} is not a bundled data set; "
                    f"choose one of {list(BUILTIN_DATASETS)} or give a CSV file."
                )
            source = self.csv_file(source, f"{prefix}.source")
        labels = values["labels"]
        if labels is not None:
            labels = self.csv_file(labels, f"{prefix}.labels")
        if source is None and labels is None:
            self.fail(
                f"{prefix} has neither 'source' (the items and labels) nor "
                f"'labels' (a CSV of ids and labels); give one "
                f"(builtin sources: {', '.join(BUILTIN_DATASETS)})."
            )
        classes = values["classes"]
        if classes is not None and len({str(c) for c in classes}) != len(classes):
            self.fail(
                f"{prefix}.classes = {classes!r} names a label twice (labels are "
                "compared as text: 1 and '1' are the same); list each label once."
            )
        return Dataset(
            name,
            source,
            labels,
            values["label"],
            None if values["rows"] is None else tuple(values["rows"]),
            None if classes is None else tuple(str(c) for c in classes),
            values["n_per_class"],
        )

    def encoder(self, name, table, datasets):
        prefix = f"encoders.{name}"
        values = self.checked(table, SCHEMA["encoders.NAME"], prefix)
        embeddings = values["embeddings"] or {}
        if values["extractor"] is None and not embeddings:
            self.fail(
                f"{prefix} has neither 'extractor' (a spec that embeds the data "
                "sets' items) nor 'embeddings' (files per data set); give one."
            )
        files = {}
        for dataset, value in embeddings.items():
            self.known(dataset, datasets, f"{prefix}.embeddings", "datasets")
            files[dataset] = self.file(
                value, f"{prefix}.embeddings.{dataset}", (".npy", ".npz", ".parquet")
            )
        return Encoder(
            name, values["modality"], values["domain"], values["extractor"], files
        )

    def known(self, name, declared, key, section):
        if name not in declared:
            folded = [d for d in declared if str(d).casefold() == str(name).casefold()]
            close = folded or difflib.get_close_matches(str(name), list(declared), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            self.fail(
                f"{key} names {name!r}, which is not declared in [{section}] "
                f"(declared: {list(declared)!r}).{hint}"
            )

    def stitching(self, name, table, datasets, encoders):
        prefix = f"stitching.{name}"
        values = self.checked(table, SCHEMA["stitching.TASK"], prefix)
        self.known(values["dataset"], datasets, f"{prefix}.dataset", "datasets")
        names = values["encoders"]
        if names is None:
            dataset = datasets[values["dataset"]]
            modality = _modality_of(dataset, encoders)
            names = [
                e.name
                for e in encoders.values()
                if e.modality == modality and _embeds(e, dataset)
            ]
        for encoder in names:
            self.known(encoder, encoders, f"{prefix}.encoders", "encoders")
        unpaired = values["unpaired"]
        if unpaired is not None:
            self.known(unpaired, datasets, f"{prefix}.unpaired", "datasets")
            self.not_the_tasks(unpaired, [values["dataset"]], f"{prefix}.unpaired")
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
        return StitchingTask(
            name, values["dataset"], tuple(names), values["label"], unpaired
        )

    def not_the_tasks(self, unpaired, task_datasets, key):
        """A pool is never a data set whose items are tested."""
        if unpaired in task_datasets:
            self.fail(
                f"{key} = {unpaired!r} is a data set the task tests on; an "
                "unpaired pool must never contain test items. Declare another "
                "data set of other items (e.g. other rows = [start, stop])."
            )

    def zero_shot(self, table, datasets, encoders):
        values = self.checked(
            table, SCHEMA["zero_shot"], "zero_shot", extra=("tasks", "baselines")
        )
        baselines = {}
        for name, value in self.tables(table, "baselines").items():
            prefix = f"zero_shot.baselines.{name}"
            baseline = self.checked(value, SCHEMA["zero_shot.baselines.NAME"], prefix)
            image = baseline["image_encoder"]
            self.known(image, encoders, f"{prefix}.image_encoder", "encoders")
            self.modality(image, encoders, "image", f"{prefix}.image_encoder")
            if (baseline["text_encoder"] is None) == (
                baseline["prompt_embeddings"] is None
            ):
                self.fail(
                    f"{prefix} needs exactly one of 'text_encoder' (its text "
                    "tower, which embeds the prompts) and 'prompt_embeddings' (a "
                    "file of the prompts embedded, ids = the prompt texts)."
                )
            if baseline["text_encoder"] is not None:
                text = baseline["text_encoder"]
                self.known(text, encoders, f"{prefix}.text_encoder", "encoders")
                self.modality(text, encoders, "text", f"{prefix}.text_encoder")
            else:
                text = self.file(
                    baseline["prompt_embeddings"], f"{prefix}.prompt_embeddings"
                )
            baselines[name] = (image, text)
        in_baselines = {image for image, _ in baselines.values()}
        text = values["text_encoder"]
        self.known(text, encoders, "zero_shot.text_encoder", "encoders")
        self.modality(text, encoders, "text", "zero_shot.text_encoder")
        vision = values["vision_encoders"]
        if vision is None:
            vision = [
                e.name
                for e in encoders.values()
                if e.modality == "image" and e.name not in in_baselines
            ]
        for name in vision:
            self.known(name, encoders, "zero_shot.vision_encoders", "encoders")
            self.modality(name, encoders, "image", "zero_shot.vision_encoders")
        if vision and values["anchors"] is None:
            self.fail(
                "zero_shot has no 'anchors': the data set of images paired with "
                "reports on which the vision encoders are aligned."
            )
        if values["anchors"] is not None:
            self.known(values["anchors"], datasets, "zero_shot.anchors", "datasets")
        if not vision and (
            values["anchor_repeats"] > 1 or values["anchor_size"] is not None
        ):
            self.fail(
                "zero_shot.anchor_repeats and zero_shot.anchor_size draw the "
                "anchors of the vision encoders, and zero_shot aligns none; "
                "remove them or list vision_encoders."
            )
        if values["anchor_repeats"] > 1 and values["anchor_size"] is None:
            self.fail(
                f"zero_shot.anchor_repeats = {values['anchor_repeats']} needs "
                "zero_shot.anchor_size (the anchor pairs per draw, below the "
                "number of anchors): draws of every anchor give the same map."
            )
        tasks = {}
        for name, value in self.tables(table, "tasks").items():
            key = f"zero_shot.tasks.{name}"
            if isinstance(value, dict) and "prompts" not in value:
                self.fail(
                    f"{key} has no 'prompts': a zero-shot task is defined by its "
                    'class prompts. Add prompts = "prompts.json" (class -> list of '
                    "prompts), an inline table, or one of "
                    f"{', '.join(BUILTIN_PROMPTS)}."
                )
            task = self.checked(value, SCHEMA["zero_shot.tasks.TASK"], key)
            self.known(task["dataset"], datasets, f"{key}.dataset", "datasets")
            prompts = task["prompts"]
            if isinstance(prompts, str) and prompts not in BUILTIN_PROMPTS:
                prompts = self.file(prompts, f"{key}.prompts")
                self.prompts_file(prompts, f"{key}.prompts")
            tasks[name] = ZeroShotTask(name, task["dataset"], task["label"], prompts)
        if not tasks:
            self.fail("zero_shot declares no task; add [zero_shot.tasks.NAME] tables.")
        unpaired = values["unpaired"]
        if unpaired is not None:
            self.known(unpaired, datasets, "zero_shot.unpaired", "datasets")
            self.not_the_tasks(
                unpaired, [t.dataset for t in tasks.values()], "zero_shot.unpaired"
            )
            if unpaired == values["anchors"]:
                self.fail(
                    f"zero_shot.unpaired = {unpaired!r} is zero_shot.anchors: its "
                    "images are already paired with their reports, so the "
                    "self-learning rows would read as a pool's gain that no pool "
                    "gave. Declare a data set of other, unpaired items."
                )
            if not vision or not pool_transforms(values["transforms"]):
                self.fail(
                    "zero_shot.unpaired gives an unpaired pool, but no map learns "
                    "from one: it is the pool of the self-learning transforms of "
                    'the vision encoders. Add "self-learning" to '
                    "zero_shot.transforms (and vision encoders), or remove "
                    "unpaired."
                )
        return ZeroShot(
            text,
            values["anchors"],
            tuple(vision),
            tuple(values["transforms"]),
            values["naive"],
            values["prompt_pooling"],
            values["n_per_class"],
            values["n_repeats"],
            tasks,
            baselines,
            None
            if values["prompt_embeddings"] is None
            else self.file(values["prompt_embeddings"], "zero_shot.prompt_embeddings"),
            values["hubness"],
            values["hubness_neighbors"],
            values["anchor_repeats"],
            values["anchor_size"],
            unpaired,
        )

    def prompts_file(self, path, key):
        """Refuse a prompts file that is not JSON class -> list of prompts."""
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self.fail(f"{key} = {str(path)!r} is not JSON: {exc}")
        if not isinstance(content, dict) or not content:
            self.fail(
                f"{key} = {str(path)!r} holds {_type_name(content)}, but it must "
                'hold a JSON object class -> list of prompts, e.g. {"0": ["a '
                'zero"], "1": ["a one"]}.'
            )
        try:
            _prompts_value(content)
        except _Invalid as exc:
            self.fail(f"{key} = {str(path)!r} must hold {exc}; fix the file.")

    def modality(self, name, encoders, modality, key):
        if encoders[name].modality != modality:
            self.fail(
                f"{key} = {name!r} is a {encoders[name].modality} encoder; it must "
                f"be a {modality} encoder."
            )


def csv_header(path):
    """The column names of a CSV file's first line (a UTF-8 BOM skipped)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        line = handle.readline().strip()
    return [name.strip() for name in next(csv.reader([line]))] if line else []


def _other_separator(header):
    """';' or a tab when a one-column header holds them (a CSV from a
    spreadsheet set to another list separator)."""
    if len(header) == 1:
        return next((sep for sep in (";", "\t") if sep in header[0]), None)
    return None


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
        header = csv_header(dataset.source)
        return "image" if "image" in header else "text"
    with_files = [e.modality for e in encoders.values() if dataset.name in e.embeddings]
    return with_files[0] if with_files else None


def _documented(key):
    """A key's help line: its documentation, and its default unless it is
    required, absent or already said."""
    if key.default is REQUIRED:
        return f"{key.doc} (required)"
    if key.default is None or "default" in key.doc:
        return key.doc
    default = key.default
    if isinstance(default, bool):
        default = str(default).lower()
    return f"{key.doc} (default: {default})"


def help_text():
    """The config keys, section by section, for ``skalign experiment --help``."""
    lines = []
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        width = max(len(k) for k in keys)
        for name, key in keys.items():
            lines += textwrap.wrap(
                _documented(key),
                width=79,
                initial_indent=f"  {name:<{width}}  ",
                subsequent_indent=" " * (width + 4),
            )
    return "\n".join(lines)
