"""The experiment's configuration (``load_config`` / ``run_experiment``):
wrong types, ranges, repeats, names, files, and reruns after edits."""

import json
import os
from pathlib import Path

import numpy as np

from skalign.evaluation import ConfigError, ExperimentConfig
from tests.catalogue._evaluation_data import (
    embedding_file,
    labels_file,
    rerun_after,
    same_table,
    stitching_config,
    with_changes,
)
from tests.catalogue._harness import Behaves, Case, Raises

SURFACE = "experiment config"


def _read(change):
    """Read the small stitching configuration after ``change(tmp, config)``."""

    def call(tmp):
        config = stitching_config(tmp)
        return ExperimentConfig.read(change(tmp, config) or config)

    return call


def _protocol(**values):
    return _read(lambda tmp, config: with_changes(config, "protocol", None, **values))


def _dataset(**values):
    return _read(lambda tmp, config: with_changes(config, "datasets", "d", **values))


def _task(**values):
    return _read(lambda tmp, config: with_changes(config, "stitching", "t", **values))


def _encoder(**values):
    return _read(lambda tmp, config: with_changes(config, "encoders", "e1", **values))


def _config_error(key, fix):
    return Raises(ConfigError, rf"{key}.*{fix}")


def _toml(tmp, text, name="experiment.toml"):
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _relative_paths(tmp):
    """A TOML in a sub-folder naming its files relatively, read from another cwd."""
    folder = tmp / "study"
    labels_file(folder)
    for name in ("e1", "e2"):
        embedding_file(folder, name, 4)
    path = _toml(
        folder,
        """
[datasets.d]
labels = "labels.csv"
[encoders.e1]
modality = "text"
domain = "general"
embeddings = {d = "e1.npz"}
[encoders.e2]
modality = "text"
domain = "general"
embeddings = {d = "e2.npz"}
[stitching.t]
dataset = "d"
""",
    )
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    cwd = os.getcwd()
    os.chdir(elsewhere)
    try:
        return ExperimentConfig.read(f"../{path.relative_to(tmp).as_posix()}")
    finally:
        os.chdir(cwd)


def _resolved_against_config(config):
    """Files are found beside the TOML, by absolute paths (a later change of
    the working folder cannot make them point elsewhere)."""
    for path in (config.datasets["d"].labels, config.encoders["e1"].embeddings["d"]):
        assert path.is_absolute() and path.is_file(), path
        assert path.parent.name == "study", path
    return True


def _binary(path):
    path.write_bytes(b"\xff\xfe\x00\x81 not text")
    return path


def _three_classes(tmp):
    labels = ["a", "b", "c"] * 13 + ["a"]
    return labels_file(tmp, labels, name="three.csv")


def _rerun(edit):
    return lambda tmp: rerun_after(tmp, edit)


def _same_as_fresh(results):
    again, fresh = results
    return same_table(again, fresh)


def _edit_embeddings(tmp, config):
    path = config["encoders"]["e1"]["embeddings"]["d"]
    with np.load(path) as archive:
        X, ids = archive["embeddings"], archive["ids"]
    rng = np.random.default_rng(7)
    np.savez(path, embeddings=X[rng.permutation(len(X))], ids=ids)
    return config


def _edit_labels(tmp, config):
    labels_file(tmp / "data", ["a"] * 16 + ["b"] * 24)
    return config


def _prompts_file(tmp, content):
    path = tmp / "prompts.json"
    path.write_text(json.dumps(content))
    return path


def _zero_shot(prompts):
    """A zero-shot section (a baseline from prompt embedding files) whose task
    prompts are ``prompts(tmp)``."""

    def change(tmp, config):
        config = with_changes(config, "encoders", "e1", modality="image")
        del config["stitching"]
        prompt_file = tmp / "prompt_embeddings.npz"
        np.savez(prompt_file, embeddings=np.eye(4), ids=np.array(["p", "q", "r", "s"]))
        config["zero_shot"] = {
            "text_encoder": "e2",
            "baselines": {
                "clip": {"image_encoder": "e1", "prompt_embeddings": str(prompt_file)}
            },
            "tasks": {"t": {"dataset": "d", "prompts": prompts(tmp)}},
        }
        return config

    return _read(change)


def _formula_named(section, table):
    def change(tmp, config):
        config[section]["=cmd|' /C calc'!A0"] = config[section].pop(table)
        if section == "datasets":
            config["stitching"]["t"]["dataset"] = "=cmd|' /C calc'!A0"

    return _read(change)


CASES = [
    Case(
        SURFACE,
        "an encoder named like a spreadsheet formula",
        _formula_named("encoders", "e1"),
        _config_error(r"encoders\.\"=cmd", r"formula.*start the name with a letter"),
    ),
    Case(
        SURFACE,
        "a data set named like a spreadsheet formula",
        _formula_named("datasets", "d"),
        _config_error(r"datasets\.\"=cmd", r"formula.*start the name with a letter"),
    ),
    Case(
        SURFACE,
        "classes is an empty list",
        _dataset(classes=[]),
        _config_error("datasets.d.classes", "non-empty list"),
    ),
    Case(
        SURFACE,
        "classes repeats a label",
        _dataset(classes=["a", "a"]),
        _config_error("datasets.d.classes", "without repeats"),
    ),
    Case(
        SURFACE,
        "classes names one label as 1 and as '1'",
        _dataset(classes=[1, "1"]),
        _config_error("datasets.d.classes", "(repeat|twice|same)"),
    ),
    Case(
        SURFACE,
        "classes is a string",
        _dataset(classes="ab"),
        _config_error("datasets.d.classes", "list"),
    ),
    Case(
        SURFACE,
        "n_per_class is 0",
        _dataset(n_per_class=0),
        _config_error("datasets.d.n_per_class", ">= 1"),
    ),
    Case(
        SURFACE,
        "n_per_class is a float",
        _dataset(n_per_class=2.5),
        _config_error("datasets.d.n_per_class", "whole number"),
    ),
    Case(
        SURFACE,
        "rows stop before start",
        _dataset(rows=[5, 2]),
        _config_error("datasets.d.rows", "start < stop"),
    ),
    Case(
        SURFACE,
        "rows given as a string",
        _dataset(rows="0:10"),
        _config_error("datasets.d.rows", r"\[start, stop\]"),
    ),
    Case(
        SURFACE,
        "n_anchors a single number, not a list",
        _protocol(n_anchors=4),
        _config_error("protocol.n_anchors", "list"),
    ),
    Case(
        SURFACE,
        "n_anchors repeats a count",
        _protocol(n_anchors=[4, 4]),
        _config_error("protocol.n_anchors", "without repeats"),
    ),
    Case(
        SURFACE,
        "n_anchors below 2",
        _protocol(n_anchors=[1, 4]),
        _config_error("protocol.n_anchors", ">= 2"),
    ),
    Case(
        SURFACE,
        "table_n_anchors a float",
        _protocol(table_n_anchors=7.5),
        _config_error("protocol.table_n_anchors", "whole number"),
    ),
    Case(
        SURFACE,
        "unknown decoder name",
        _protocol(decoder="svm"),
        _config_error("protocol.decoder", "linear-svm.*logistic"),
    ),
    Case(
        SURFACE,
        "unknown preset among transforms",
        _protocol(transforms=["paper-afine"], change_transform="paper-afine"),
        _config_error("protocol.transforms", "paper-affine"),
    ),
    Case(
        SURFACE,
        "transforms an empty list",
        _protocol(transforms=[]),
        _config_error("protocol.transforms", "non-empty list"),
    ),
    Case(
        SURFACE,
        "transforms repeats a name",
        _protocol(transforms=["ortho", "ortho"]),
        _config_error("protocol.transforms", "(repeat|twice|duplicate|once)"),
    ),
    Case(
        SURFACE,
        "change_transform not among transforms",
        _protocol(change_transform="affine"),
        _config_error("change_transform", "add it or choose another"),
    ),
    Case(
        SURFACE,
        "unknown metric",
        _protocol(metric="auc"),
        _config_error("protocol.metric", "roc_auc"),
    ),
    Case(
        SURFACE,
        "n_repeats is a boolean",
        _protocol(n_repeats=True),
        _config_error("protocol.n_repeats", "fix the value"),
    ),
    Case(
        SURFACE,
        "random_state is a string",
        _protocol(random_state="0"),
        _config_error("protocol.random_state", "fix the value"),
    ),
    Case(
        SURFACE,
        "anchor_size of 1.5",
        _protocol(anchor_size=1.5),
        _config_error("protocol.anchor_size", "fix the value"),
    ),
    Case(
        SURFACE,
        "a key typo in [protocol]",
        _protocol(n_repeat=2),
        _config_error("n_repeat", "did you mean.*n_repeats"),
    ),
    Case(
        SURFACE,
        "extract.batch_size 0",
        _read(lambda tmp, c: {**c, "extract": {"batch_size": 0}}),
        _config_error("extract.batch_size", ">= 1"),
    ),
    Case(
        SURFACE,
        "modality audio",
        _encoder(modality="audio"),
        _config_error("encoders.e1.modality", "image.*text"),
    ),
    Case(
        SURFACE,
        "embeddings for an undeclared data set",
        _encoder(embeddings={"D": "e1.npz"}),
        _config_error("encoders.e1.embeddings", "not declared.*did you mean 'd'"),
    ),
    Case(
        SURFACE,
        "embedding file missing",
        _encoder(embeddings={"d": "/nonexistent/e1.npz"}),
        _config_error("encoders.e1.embeddings.d", "no such file.*fix the path"),
    ),
    Case(
        SURFACE,
        "embedding file is a folder",
        _read(
            lambda tmp, c: with_changes(c, "encoders", "e1", embeddings={"d": str(tmp)})
        ),
        _config_error("encoders.e1.embeddings.d", "(folder|directory).*file"),
    ),
    Case(
        SURFACE,
        "labels file is a folder",
        _read(lambda tmp, c: with_changes(c, "datasets", "d", labels=str(tmp))),
        _config_error("datasets.d.labels", "(folder|directory).*file"),
    ),
    Case(
        SURFACE,
        "labels file is an embedding file (another kind)",
        _read(
            lambda tmp, c: with_changes(
                c, "datasets", "d", labels=c["encoders"]["e1"]["embeddings"]["d"]
            )
        ),
        _config_error("datasets.d.labels", r"\.csv"),
    ),
    Case(
        SURFACE,
        "source CSV is empty",
        _read(
            lambda tmp, c: with_changes(
                c, "datasets", "d", source=str(_toml(tmp, "", "empty.csv"))
            )
        ),
        _config_error("datasets.d.source", "empty.*(header|column)"),
    ),
    Case(
        SURFACE,
        "an encoder named with another case",
        _task(encoders=["e1", "E2"]),
        _config_error("stitching.t.encoders", "did you mean 'e2'"),
    ),
    Case(
        SURFACE,
        "task encoders repeat one",
        _task(encoders=["e1", "e1"]),
        _config_error("stitching.t.encoders", "without repeats"),
    ),
    Case(
        SURFACE,
        "task encoders a comma string",
        _task(encoders="e1,e2"),
        _config_error("stitching.t.encoders", "list"),
    ),
    Case(
        SURFACE,
        "task on an undeclared data set",
        _task(dataset="D"),
        _config_error("stitching.t.dataset", "not declared"),
    ),
    Case(
        SURFACE,
        "config path is a folder",
        lambda tmp: ExperimentConfig.read(tmp),
        Raises(ConfigError, r"(folder|directory).*TOML file"),
    ),
    Case(
        SURFACE,
        "config file is not text",
        lambda tmp: ExperimentConfig.read(_binary(tmp / "binary.toml")),
        Raises(ConfigError, r"binary\.toml.*(UTF-8|text)"),
    ),
    Case(
        SURFACE,
        "config given as an integer",
        lambda tmp: ExperimentConfig.read(5),
        Raises((TypeError, ConfigError), r"config must be.*(TOML|dict).*got 5"),
    ),
    Case(
        SURFACE,
        "unknown packaged configuration",
        lambda tmp: ExperimentConfig.read("skalign:dmeo"),
        Raises(ConfigError, r"skalign:dmeo.*skalign:demo"),
    ),
    Case(
        SURFACE,
        "relative paths resolved against the config's folder",
        _relative_paths,
        Behaves(_resolved_against_config),
    ),
    Case(
        SURFACE,
        "prompts inline with an empty list",
        _zero_shot(lambda tmp: {"a": [], "b": ["b"]}),
        _config_error("zero_shot.tasks.t.prompts", "non-empty prompts"),
    ),
    Case(
        SURFACE,
        "prompts file with a non-string prompt",
        _zero_shot(lambda tmp: str(_prompts_file(tmp, {"a": [1], "b": ["b"]}))),
        _config_error("prompts", r"non-empty prompts.*'a' has \[1\].*fix the file"),
    ),
    Case(
        SURFACE,
        "prompts file holding a list",
        _zero_shot(lambda tmp: str(_prompts_file(tmp, ["a", "b"]))),
        _config_error("prompts", "class.*list of prompts"),
    ),
    Case(
        SURFACE,
        "zero_shot.naive as a string",
        _read(
            lambda tmp, c: {**c, "zero_shot": {"text_encoder": "e2", "naive": "false"}}
        ),
        _config_error("zero_shot.naive", "true or false"),
    ),
    Case(
        SURFACE,
        "rerun after editing the embedding file serves no stale cell",
        _rerun(_edit_embeddings),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun after editing the labels file serves no stale cell",
        _rerun(_edit_labels),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with another decoder serves no stale cell",
        _rerun(lambda tmp, c: with_changes(c, "protocol", None, decoder="logistic")),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with another seed serves no stale cell",
        _rerun(lambda tmp, c: with_changes(c, "protocol", None, random_state=5)),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with n_per_class serves no stale cell",
        _rerun(
            lambda tmp, c: with_changes(
                with_changes(c, "datasets", "d", n_per_class=12),
                "protocol",
                None,
                n_anchors=[3, 5],
            )
        ),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with fewer classes serves no stale cell",
        _rerun(
            lambda tmp, c: (
                with_changes(
                    c,
                    "datasets",
                    "d",
                    labels=str(_three_classes(tmp)),
                    classes=["a", "c"],
                )
                | {"protocol": {**c["protocol"], "n_anchors": [3, 5]}}
            )
        ),
        Behaves(_same_as_fresh),
    ),
]


def _path_objects(tmp):
    """A dict configuration naming its files by pathlib.Path."""
    config = stitching_config(tmp)
    config["datasets"]["d"]["labels"] = tmp / "labels.csv"
    for encoder in config["encoders"].values():
        encoder["embeddings"] = {"d": tmp / Path(encoder["embeddings"]["d"]).name}
    return ExperimentConfig.read(config)


def _paths_read(config):
    assert config.datasets["d"].labels.name == "labels.csv"
    assert config.encoders["e2"].embeddings["d"].name == "e2.npz"
    return True


CASES += [
    Case(
        SURFACE,
        "files named by pathlib.Path in a dict configuration",
        _path_objects,
        Behaves(_paths_read),
    ),
    Case(
        SURFACE,
        "a file named by a number",
        _dataset(labels=5),
        _config_error("datasets.d.labels", "string"),
    ),
]


def _zero_shot_key(**values):
    """The small zero-shot configuration with ``values`` in [zero_shot]."""
    from tests.catalogue._evaluation_data import zero_shot_config

    def call(tmp):
        config = zero_shot_config(tmp)
        config["zero_shot"].update(values)
        return ExperimentConfig.read(config)

    return call


CASES += [
    Case(
        SURFACE,
        "anchors_from unknown",
        _protocol(anchors_from="test"),
        _config_error("protocol.anchors_from", "pool.*train"),
    ),
    Case(
        SURFACE,
        "n_test_per_class 0",
        _protocol(n_test_per_class=0),
        _config_error("protocol.n_test_per_class", "fix the value"),
    ),
    Case(
        SURFACE,
        "zero_shot.hubness_neighbors 0",
        _zero_shot_key(hubness_neighbors=0),
        _config_error("zero_shot.hubness_neighbors", ">= 1"),
    ),
    Case(
        SURFACE,
        "zero_shot.prompt_pooling unknown",
        _zero_shot_key(prompt_pooling="mean"),
        _config_error("zero_shot.prompt_pooling", "similarity.*embedding"),
    ),
    Case(
        SURFACE,
        "zero_shot.anchor_repeats without anchor_size",
        _zero_shot_key(anchor_repeats=3),
        _config_error("anchor_repeats = 3", "needs zero_shot.anchor_size"),
    ),
    Case(
        SURFACE,
        "zero_shot.anchors an undeclared data set",
        _zero_shot_key(anchors="anchor"),
        _config_error("zero_shot.anchors", "did you mean 'anchors'"),
    ),
    Case(
        SURFACE,
        "zero_shot.text_encoder an image encoder",
        _zero_shot_key(text_encoder="img"),
        _config_error("zero_shot.text_encoder = 'img'", "must be a text encoder"),
    ),
    Case(
        SURFACE,
        "datasets given as a list",
        _read(lambda tmp, c: {**c, "datasets": ["d"]}),
        _config_error("datasets", r"tables \[datasets\.NAME\]"),
    ),
    Case(
        SURFACE,
        "an encoder without modality",
        _read(lambda tmp, c: (c["encoders"]["e1"].pop("modality"), c)[1]),
        _config_error("encoders.e1 has no 'modality'", "Add modality"),
    ),
    Case(
        SURFACE,
        "rerun with anchors drawn from the training rows serves no stale cell",
        _rerun(lambda tmp, c: with_changes(c, "protocol", None, anchors_from="train")),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with another transform serves no stale cell",
        _rerun(
            lambda tmp, c: with_changes(
                c, "protocol", None, transforms=["affine"], change_transform="affine"
            )
        ),
        Behaves(_same_as_fresh),
    ),
    Case(
        SURFACE,
        "rerun with the encoders' files swapped serves no stale cell",
        _rerun(lambda tmp, c: _swap_files(c)),
        Behaves(_same_as_fresh),
    ),
]


def _swap_files(config):
    first, second = (config["encoders"][e]["embeddings"]["d"] for e in ("e1", "e2"))
    config["encoders"]["e1"]["embeddings"]["d"] = second
    config["encoders"]["e2"]["embeddings"]["d"] = first
    return config


def _labels_text(text):
    """The small configuration whose labels file holds ``text``."""

    def change(tmp, config):
        (tmp / "labels.csv").write_bytes(text.encode())

    return _read(change)


def _bom_toml(tmp):
    """A TOML saved by Notepad (a UTF-8 byte order mark first)."""
    path = tmp / "experiment.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[protocol]\nn_repeats = 2\n")
    try:
        ExperimentConfig.read(path)
    except ConfigError as error:
        return str(error)
    return "read"


CASES += [
    Case(
        SURFACE,
        "labels CSV separated by semicolons",
        _labels_text("id;label\ni0;a\ni1;b\n"),
        _config_error("datasets.d.labels", "no 'id' column.*separated by ';'"),
    ),
    Case(
        SURFACE,
        "labels CSV without an id column",
        _labels_text("name,label\ni0,a\ni1,b\n"),
        _config_error("datasets.d.labels", "no 'id' column.*Add an 'id' column"),
    ),
    Case(
        SURFACE,
        "labels CSV with a byte order mark and quoted header is read",
        _labels_text(
            "\ufeff"
            + '"id","label"\n'
            + "".join(f"i{k},{'ab'[k % 2]}\n" for k in range(40))
        ),
        Behaves(lambda config: config.datasets["d"].labels.name == "labels.csv"),
    ),
    Case(
        SURFACE,
        "a TOML with a byte order mark is read as TOML",
        _bom_toml,
        # the BOM is skipped: what remains is the missing-sections error
        Behaves(lambda message: "nothing to run" in message),
    ),
]
