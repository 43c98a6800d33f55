"""The command line (``skalign experiment``, ``demo``, ``curve``, ``table``,
``zero-shot``): bad paths, option values, configurations; the exit status
and the message on stderr."""

import contextlib
import io
import json

import numpy as np

from skalign._cli import main
from tests.catalogue._evaluation_data import (
    N_ITEMS,
    embedding_file,
    labels_file,
    stitching_config,
)
from tests.catalogue._harness import Behaves, Case, Raises

SURFACE = "cli"


class CliError(Exception):
    """The command failed: its exit status and stderr."""


def _cli(*argv):
    """Run ``skalign ARGV``; raise CliError('exit N: stderr') when it fails."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's usage errors
            status = exit_.code
    if status:
        raise CliError(f"exit {status}: {err.getvalue()}")
    return out.getvalue()


def _usage(names):
    """A usage error (exit 2) whose message matches ``names``."""
    return Raises(CliError, rf"exit 2:.*{names}")


def _files(tmp):
    """Two embedding files with ids and a labels file, for curve and table."""
    folder = tmp / "data"
    folder.mkdir(parents=True, exist_ok=True)
    return (embedding_file(folder, "e1", 6, seed=1), embedding_file(folder, "e2", 4,
            seed=2), labels_file(folder))  # fmt: skip


def _curve(*extra, source=None, labels=None):
    def call(tmp):
        e1, e2, default_labels = _files(tmp)
        return _cli("curve", "--source", source(tmp) if source else e1, "--target", e2,
                    "--labels", labels(tmp) if labels else default_labels,
                    "-o", tmp / "out", "-q", "--n-repeats", "1",
                    "--transforms", "ortho", *extra)  # fmt: skip

    return call


def _table(*embeddings, extra=()):
    def call(tmp):
        e1, e2, labels = _files(tmp)
        paths = {"e1": e1, "e2": e2}
        given = [f"{n}={paths.get(p, p)}" for n, p in embeddings]
        return _cli("table", "--embeddings", *given, "--labels", labels,
                    "-o", tmp / "out", "-q", "--n-repeats", "1",
                    "--transforms", "ortho", *extra)  # fmt: skip

    return call


def _toml(tmp, text):
    path = tmp / "experiment.toml"
    path.write_text(text)
    return path


def _experiment(config, *extra, output=None):
    """``skalign experiment``; ``config(tmp)`` gives its path."""

    def call(tmp):
        path = config(tmp)
        out = output(tmp) if output else tmp / "out"
        return _cli("experiment", path, "-o", out, "-q", *extra)

    return call


def _config_toml(tmp, **protocol):
    config = stitching_config(tmp / "data", **protocol)
    lines = ["[protocol]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in config["protocol"].items()]
    lines += [
        "[datasets.d]",
        f"labels = {json.dumps(config['datasets']['d']['labels'])}",
    ]
    for name, encoder in config["encoders"].items():
        lines += [
            f"[encoders.{name}]",
            'modality = "text"',
            'domain = "general"',
            f"embeddings = {{d = {json.dumps(encoder['embeddings']['d'])}}}",
        ]
    lines += ["[stitching.t]", 'dataset = "d"']
    return _toml(tmp, "\n".join(lines) + "\n")


def _file(tmp, name="notes.txt", text="notes"):
    path = tmp / name
    path.write_text(text)
    return path


def _one_class_labels(tmp):
    return labels_file(tmp / "one", ["a"] * N_ITEMS)


CASES = [
    Case(
        SURFACE,
        "experiment: the config is a folder",
        _experiment(lambda tmp: tmp),
        _usage("is a folder.*TOML file"),
    ),
    Case(
        SURFACE,
        "experiment: the config does not exist",
        _experiment(lambda tmp: tmp / "missing.toml"),
        _usage("missing.toml.*does not exist.*TOML file"),
    ),
    Case(
        SURFACE,
        "experiment: invalid TOML",
        _experiment(lambda tmp: _toml(tmp, "[protocol\nn_repeats = 2")),
        _usage("experiment.toml.*not valid TOML"),
    ),
    Case(
        SURFACE,
        "experiment: a key typo",
        _experiment(lambda tmp: _toml(tmp, "[protocol]\nn_repeat = 2\n")),
        _usage("n_repeat.*did you mean.*n_repeats"),
    ),
    Case(
        SURFACE,
        "experiment: -o is a file",
        _experiment(_config_toml, output=lambda tmp: _file(tmp)),
        _usage("-o/--output-dir.*notes.txt.*must be a folder"),
    ),
    Case(
        SURFACE,
        "experiment: --cache-dir inside a file",
        lambda tmp: _experiment(_config_toml, "--cache-dir", _file(tmp) / "cache")(tmp),
        _usage("--cache-dir.*inside the file.*must be a folder"),
    ),
    Case(
        SURFACE,
        "experiment: a string where a number is expected",
        _experiment(lambda tmp: _config_toml(tmp, n_repeats="3")),
        _usage("protocol.n_repeats.*'3'.*fix the value"),
    ),
    Case(
        SURFACE,
        "experiment: runs and writes its report",
        _experiment(_config_toml),
        Behaves(lambda out: "Model stitching" in out),
    ),
    Case(
        SURFACE,
        "demo: -o is a file",
        lambda tmp: _cli("demo", "-o", _file(tmp), "-q"),
        _usage("-o/--output-dir.*must be a folder"),
    ),
    Case(
        SURFACE,
        "curve: --source is a text file",
        _curve(source=lambda tmp: _file(tmp)),
        _usage(r"notes\.txt.*unknown file type.*\.npy, \.npz or \.parquet"),
    ),
    Case(
        SURFACE,
        "curve: --source is missing",
        _curve(source=lambda tmp: tmp / "missing.npz"),
        _usage("--source.*missing.npz.*does not exist"),
    ),
    Case(
        SURFACE,
        "curve: --source is a folder",
        _curve(source=lambda tmp: tmp),
        _usage("(folder|directory).*(file|\\.npz)"),
    ),
    Case(
        SURFACE,
        "curve: --n-anchors 0",
        _curve("--n-anchors", "0"),
        _usage("--n-anchors.*whole number >= 1"),
    ),
    Case(
        SURFACE,
        "curve: --n-anchors not a number",
        _curve("--n-anchors", "ten"),
        _usage("--n-anchors.*whole number.*'ten'"),
    ),
    Case(
        SURFACE,
        "curve: --anchor-size nan",
        _curve("--anchor-size", "nan"),
        _usage("--anchor-size.*(fraction|count).*'nan'"),
    ),
    Case(
        SURFACE,
        "curve: --alpha nan",
        _curve("--alpha", "nan"),
        _usage("--alpha.*(>= 0|auto).*'nan'"),
    ),
    Case(
        SURFACE,
        "curve: --alpha inf",
        _curve("--alpha", "inf"),
        _usage("--alpha.*(finite|>= 0|auto).*'inf'"),
    ),
    Case(
        SURFACE,
        "curve: --n-jobs 0",
        _curve("--n-jobs", "0"),
        _usage("--n-jobs.*positive count.*-1"),
    ),
    Case(SURFACE, "curve: --seed -1", _curve("--seed", "-1"), _usage("--seed.*-1")),
    Case(
        SURFACE,
        "curve: an unknown transform",
        _curve("--transforms", "orth"),
        _usage("orth.*choose from.*ortho"),
    ),
    Case(
        SURFACE,
        "curve: --task names no column",
        _curve("--task", "pneumonia"),
        _usage("pneumonia.*(label|column)"),
    ),
    Case(
        SURFACE,
        "curve: labels with a single class",
        _curve(labels=_one_class_labels),
        _usage("(one|single|1) class.*(two|2)"),
    ),
    Case(
        SURFACE,
        "table: one encoder named twice",
        _table(("e1", "e1"), ("e1", "e2")),
        _usage("--embeddings.*twice.*'e1'.*(once|different)"),
    ),
    Case(
        SURFACE,
        "table: a single encoder",
        _table(("e1", "e1")),
        _usage("(two|2|several).*encoders"),
    ),
    Case(
        SURFACE,
        "table: --groups names an unknown encoder",
        _table(("e1", "e1"), ("e2", "e2"), extra=("--groups", "e1=g", "e3=g")),
        _usage("e3.*--embeddings"),
    ),
    Case(
        SURFACE,
        "table: NAME=PATH without a path",
        _table(
            ("e1", "e1"),
            ("e2", ""),
        ),
        _usage("NAME=VALUE.*'e2='"),
    ),
]


def _zero_shot_cli(*extra, prompts=None, reports=None):
    """``skalign zero-shot`` on files; ``prompts(tmp)`` / ``reports(tmp)``
    replace the good prompts file / reports file."""

    def call(tmp):
        folder = tmp / "data"
        folder.mkdir(parents=True, exist_ok=True)
        images = embedding_file(folder, "img", 6, seed=1)
        good_reports = folder / "reports.npz"
        np.savez(good_reports, embeddings=np.random.default_rng(0).normal(size=(20, 4)),
                 ids=np.array([f"i{k}" for k in range(20)]))  # fmt: skip
        good_prompts = folder / "prompts.json"
        good_prompts.write_text(json.dumps({"label": {"a": ["an a"], "b": ["a b"]}}))
        return _cli("zero-shot", "--images", f"img={images}",
                    "--reports", reports(tmp) if reports else good_reports,
                    "--prompts", prompts(tmp) if prompts else good_prompts,
                    "--labels", labels_file(folder), "--text-encoder",
                    "all-minilm-l6-v2", "-o", tmp / "out", "-q", *extra)  # fmt: skip

    return call


def _json(tmp, content):
    path = tmp / "bad.json"
    path.write_text(json.dumps(content))
    return path


def _foreign_reports(tmp):
    path = tmp / "foreign.npz"
    np.savez(path, embeddings=np.eye(4), ids=np.array(["x1", "x2", "x3", "x4"]))
    return path


CASES += [
    Case(
        SURFACE,
        "zero-shot: --prompts is a folder",
        _zero_shot_cli(prompts=lambda tmp: tmp),
        _usage("prompts file.*is a folder.*JSON file"),
    ),
    Case(
        SURFACE,
        "zero-shot: a blank prompt",
        _zero_shot_cli(
            prompts=lambda tmp: _json(tmp, {"label": {"a": [" "], "b": ["b"]}})
        ),
        _usage("class 'a'.*non-empty string"),
    ),
    Case(
        SURFACE,
        "zero-shot: --tasks names a task without prompts",
        _zero_shot_cli("--tasks", "lable"),
        _usage("lable.*(prompts|task)"),
    ),
    Case(
        SURFACE,
        "zero-shot: reports of no image",
        _zero_shot_cli(reports=_foreign_reports),
        _usage("(report|anchor).*(id|image)"),
    ),
]

CASES += [
    Case(
        SURFACE,
        "curve: --anchor-size and --test-size leave no training row",
        _curve("--anchor-size", "0.6", "--test-size", "0.6"),
        _usage("--anchor-size 0.6 and --test-size 0.6.*leaving none.*Lower them"),
    ),
    Case(
        SURFACE,
        "curve: --test-size 1 row for 2 classes",
        _curve("--test-size", "1"),
        _usage("--test-size 1 gives 1 row.*2 classes.*Raise --test-size"),
    ),
    Case(
        SURFACE,
        "curve: --seed beyond 32 bits",
        _curve("--seed", "99999999999"),
        _usage("--seed 99999999999 is above 4294967295.*smaller seed"),
    ),
    Case(
        SURFACE,
        "curve: --seed not a number",
        _curve("--seed", "abc"),
        _usage("--seed.*whole number.*'abc'"),
    ),
]
