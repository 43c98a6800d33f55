"""``run_experiment`` on data that the configuration's checks cannot see: label
columns, class selections and row slices against the data, one-class labels,
embedding files that do not fit, the embedding store's entries moved around."""

import json
import shutil
import warnings

import numpy as np

from skalign.evaluation import ExperimentConfig
from skalign.evaluation._cache import DamagedCellWarning
from skalign.evaluation._experiment import _read_stored, _write_stored
from tests.catalogue._evaluation_data import (
    labels_file,
    run,
    stitching_config,
    with_changes,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns

SURFACE = "experiment"


def _run(change):
    def call(tmp):
        config = stitching_config(tmp / "data")
        return run(change(tmp, config) or config, tmp / "out")

    return call


def _dataset(**values):
    return _run(lambda tmp, config: with_changes(config, "datasets", "d", **values))


def _labels(labels):
    def change(tmp, config):
        labels_file(tmp / "data", labels)

    return _run(change)


def _embeddings(**arrays):
    """e1's file replaced by ``arrays``."""

    def change(tmp, config):
        np.savez(config["encoders"]["e1"]["embeddings"]["d"], **arrays)

    return _run(change)


def _two_columns(tmp, config, **values):
    path = tmp / "data" / "labels.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",other"] + [line + ",x" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    return with_changes(config, "datasets", "d", **values)


def _only_ids(tmp):
    path = tmp / "data" / "labels.csv"
    path.write_text(
        "\n".join(line.split(",")[0] for line in path.read_text().splitlines()) + "\n"
    )


IDS = np.array([f"i{k}" for k in range(40)])


def _stored_copy(tmp):
    """An entry of the embedding store copied under another entry's name."""
    folder = tmp / "embeddings"
    folder.mkdir()
    first, second = folder / "a--d--key1.npy", folder / "b--d--key2.npy"
    _write_stored(first, np.ones((4, 3)))
    shutil.copy(first, second)
    shutil.copy(first.with_suffix(".json"), second.with_suffix(".json"))
    return _read_stored(second, n_rows=4)


def _stored_swapped_record(tmp):
    """Two entries of one shape whose checksum records are swapped."""
    folder = tmp / "embeddings"
    folder.mkdir()
    first, second = folder / "a--d--key1.npy", folder / "b--d--key2.npy"
    _write_stored(first, np.ones((4, 3)))
    _write_stored(second, np.zeros((4, 3)))
    record = first.with_suffix(".json").read_text()
    first.with_suffix(".json").write_text(second.with_suffix(".json").read_text())
    second.with_suffix(".json").write_text(record)
    return _read_stored(second, n_rows=4)


def _sound_store(tmp):
    folder = tmp / "embeddings"
    folder.mkdir()
    path = folder / "a--d--key1.npy"
    _write_stored(path, np.arange(12.0).reshape(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return _read_stored(path, n_rows=4)


def _toml_run_from_other_cwd(tmp):
    """The TOML names its files relatively; run from another folder."""
    import os

    config = stitching_config(tmp / "study")
    lines = ["[protocol]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in config["protocol"].items()]
    lines += ["[datasets.d]", 'labels = "labels.csv"']
    for name in config["encoders"]:
        lines += [
            f"[encoders.{name}]",
            'modality = "text"',
            'domain = "general"',
            f'embeddings = {{d = "{name}.npz"}}',
        ]
    lines += ["[stitching.t]", 'dataset = "d"']
    path = tmp / "study" / "experiment.toml"
    path.write_text("\n".join(lines) + "\n")
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    cwd = os.getcwd()
    os.chdir(elsewhere)
    try:
        loaded = ExperimentConfig.read("../study/experiment.toml")
    finally:
        os.chdir(cwd)
    return run(loaded, tmp / "out"), run(config, tmp / "fresh")


def _same_results(results):
    from tests.catalogue._evaluation_data import same_table

    return same_table(*results)


CASES = [
    Case(
        SURFACE,
        "label column that the data set lacks",
        _dataset(label="lable"),
        Raises(ValueError, r"datasets\.d\.label = 'lable'.*'label'.*fix label"),
    ),
    Case(
        SURFACE,
        "classes that match no label",
        _dataset(classes=["a", "z"]),
        Raises(ValueError, r"classes.*'z'.*(no|not).*label.*'a', 'b'"),
    ),
    Case(
        SURFACE,
        "rows beyond the data",
        _dataset(rows=[100, 200]),
        Raises(ValueError, r"rows.*\[100, 200\].*40"),
    ),
    Case(
        SURFACE,
        "labels of one class",
        _labels(["a"] * 40),
        Raises(ValueError, r"(one|single|1) class.*(two|2|several)"),
    ),
    Case(
        SURFACE,
        "classes with several label columns and no label",
        _run(lambda tmp, config: _two_columns(tmp, config, classes=["a", "b"])),
        Raises(ValueError, r"label columns.*'label'.*'other'.*choose one with label"),
    ),
    Case(
        SURFACE,
        "a labels file without a label column",
        _run(lambda tmp, config: _only_ids(tmp)),
        Raises(ValueError, r"no label column.*labels\.csv.*add"),
    ),
    Case(
        SURFACE,
        "embedding file of other ids",
        _embeddings(embeddings=np.eye(40), ids=np.char.add("x", IDS)),
        Raises(ValueError, r"e1\.npz.*no embedding for 40 ids.*embed every item"),
    ),
    Case(
        SURFACE,
        "embedding file without ids and other rows",
        _embeddings(embeddings=np.eye(30)),
        Raises(ValueError, r"e1\.npz.*30 rows.*40.*save 'ids'"),
    ),
    Case(
        SURFACE,
        "embedding file holding NaN",
        _embeddings(embeddings=np.full((40, 3), np.nan), ids=IDS),
        Raises(ValueError, r"e1\.npz.*(NaN|finite)"),
    ),
    Case(
        SURFACE,
        "a store entry copied under another key",
        _stored_copy,
        Warns(
            DamagedCellWarning,
            r"b--d--key2\.npy.*(key|another)",
            lambda result: result is None,
        ),
    ),
    Case(
        SURFACE,
        "store entries with swapped checksum records",
        _stored_swapped_record,
        Warns(
            DamagedCellWarning,
            r"b--d--key2\.npy.*(checksum|key)",
            lambda result: result is None,
        ),
    ),
    Case(
        SURFACE,
        "a sound store entry is read silently",
        _sound_store,
        Behaves(lambda X: np.array_equal(X, np.arange(12.0).reshape(4, 3))),
    ),
    Case(
        SURFACE,
        "a TOML with relative paths run from another folder",
        _toml_run_from_other_cwd,
        Behaves(_same_results),
    ),
]


def _zero_shot(change=None):
    from tests.catalogue._evaluation_data import zero_shot_config

    def call(tmp):
        config = zero_shot_config(tmp / "data")
        if change is not None:
            config = change(tmp, config) or config
        return run(config, tmp / "out")

    return call


def _zero_shot_option(**values):
    return _zero_shot(
        lambda tmp, config: with_changes(config, "zero_shot", None, **values)
    )


def _prompt_file(embeddings, ids):
    def change(tmp, config):
        np.savez(config["zero_shot"]["prompt_embeddings"], embeddings=embeddings,
                 ids=np.array(ids))  # fmt: skip

    return _zero_shot(change)


def _task_prompts(prompts):
    def change(tmp, config):
        config["zero_shot"]["tasks"]["t"]["prompts"] = prompts
        return config

    return _zero_shot(change)


def _anchors_never_tested(results):
    """The anchors (rows 0-19 of the one labels file) are not test images."""
    report = results["zero_shot"]
    assert set(report["n_test"]) == {20}, report[["method", "n_test"]]
    return True


CASES += [
    Case(
        SURFACE,
        "zero-shot: anchors from the task's own labels file are not tested",
        _zero_shot(),
        Behaves(_anchors_never_tested),
    ),
    Case(
        SURFACE,
        "zero-shot: a prompt missing from the prompt embeddings",
        _prompt_file(np.ones((1, 4)), ["an a"]),
        Raises(ValueError, r"prompts\.npz.*'a b'"),
    ),
    Case(
        SURFACE,
        "zero-shot: prompt embeddings of another width",
        _prompt_file(np.arange(14.0).reshape(2, 7), ["an a", "a b"]),
        Raises(ValueError, r"(7|width|features|dimension).*4|4.*(7|width)"),
    ),
    Case(
        SURFACE,
        "zero-shot: prompts for classes the labels lack",
        _task_prompts({"x": ["an a"], "y": ["a b"]}),
        Raises(ValueError, r"(class|label).*'a'.*prompt"),
    ),
    Case(
        SURFACE,
        "zero-shot: anchor_size above the anchors",
        _zero_shot_option(anchor_repeats=2, anchor_size=50),
        Raises(ValueError, r"anchor_size.*50.*20"),
    ),
]


def _reordered_file(tmp):
    """e1's file with its rows shuffled (ids with them): the same results."""
    config = stitching_config(tmp / "data")
    reference = run(config, tmp / "reference")
    path = config["encoders"]["e1"]["embeddings"]["d"]
    with np.load(path) as archive:
        X, ids = archive["embeddings"], archive["ids"]
    order = np.random.default_rng(1).permutation(len(ids))
    np.savez(path, embeddings=X[order], ids=ids[order])
    return run(config, tmp / "shuffled"), reference


def _integer_ids(tmp):
    """Files whose ids are integers, a labels CSV whose ids are '0'...: paired."""
    config = stitching_config(tmp / "data")
    reference = run(config, tmp / "reference")
    labels = tmp / "data" / "labels.csv"
    labels.write_text(labels.read_text().replace("\ni", "\n"))
    for encoder in config["encoders"].values():
        path = encoder["embeddings"]["d"]
        with np.load(path) as archive:
            X = archive["embeddings"]
        np.savez(path, embeddings=X, ids=np.arange(len(X)))
    return run(config, tmp / "out"), reference


def _dry_run_writes_nothing(tmp):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = run(stitching_config(tmp / "data"), tmp / "out", dry_run=True)
    return result, (tmp / "out").exists()


CASES += [
    Case(
        SURFACE,
        "a task's label column that the data set lacks",
        _run(lambda tmp, config: with_changes(config, "stitching", "t", label="lable")),
        Raises(ValueError, r"no label column 'lable'.*'label'.*fix the task's label"),
    ),
    Case(
        SURFACE,
        "an embedding file whose rows are shuffled gives the same results",
        _reordered_file,
        Behaves(lambda results: _same_results(results)),
    ),
    Case(
        SURFACE,
        "integer ids in the files pair with the CSV's ids",
        _integer_ids,
        Behaves(lambda results: _same_results(results)),
    ),
    Case(
        SURFACE,
        "an embedding file repeating an id",
        _embeddings(embeddings=np.eye(40), ids=np.repeat(IDS[:20], 2)),
        Raises(ValueError, r"e1\.npz.*appears 2 times.*one item each"),
    ),
    Case(
        SURFACE,
        "a dry run writes nothing",
        _dry_run_writes_nothing,
        Behaves(lambda outcome: "plan" in outcome[0] and not outcome[1]),
    ),
]


def _bom_labels(tmp):
    """The labels CSV saved by Excel (a byte order mark): same results."""
    config = stitching_config(tmp / "data")
    reference = run(config, tmp / "reference")
    path = tmp / "data" / "labels.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return run(config, tmp / "bom"), reference


CASES += [
    Case(
        SURFACE,
        "a labels CSV with a byte order mark gives the same results",
        _bom_labels,
        Behaves(_same_results),
    ),
]
