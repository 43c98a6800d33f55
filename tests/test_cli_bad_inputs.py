"""Bad inputs to every ``skalign`` command: each exits with status 2 and a
message naming the flag the user typed (not the library's parameter) and the
fix, before any computation."""

import re

import numpy as np
import pytest

from skalign._cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_inputs")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = np.repeat([0, 1], 60)
    ids = np.array([f"i{i}" for i in range(120)])
    np.savez(folder / "a.npz", embeddings=X, ids=ids, labels=y)
    np.savez(
        folder / "b.npz", embeddings=X @ rng.normal(size=(6, 5)), ids=ids, labels=y
    )
    (folder / "a_file").write_text("not a folder")
    (folder / "broken.npz").write_text("not a zip")
    (folder / "bad.json").write_text("{bad json")
    (folder / "labels.csv").write_text(
        "id,task\n" + "".join(f"i{i},{i % 2}\n" for i in range(120))
    )
    (folder / "prompts.json").write_text('{"task": {"0": [], "1": ["one"]}}')
    return folder


def _curve(f, *extra, output=None):
    return [
        "curve",
        "--source", str(f / "a.npz"),
        "--target", str(f / "b.npz"),
        "--n-anchors", "10",
        "--transforms", "ortho",
        "--n-repeats", "1",
        "--quiet",
        "-o", str(output or f / "out"),
        *extra,
    ]  # fmt: skip


def _table(f, *extra):
    return ["table", "--embeddings", f"a={f / 'a.npz'}", f"b={f / 'b.npz'}",
            "-o", str(f / "out"), "--quiet", *extra]  # fmt: skip


def _zero_shot(f, *extra, prompts="prompts.json", labels="labels.csv"):
    return [
        "zero-shot",
        "--images", f"v={f / 'a.npz'}",
        "--reports", str(f / "b.npz"),
        "--prompts", str(f / prompts),
        "--text-encoder", "paraphrase-minilm-l3",
        "--labels", str(f / labels),
        "-o", str(f / "out"),
        "--quiet",
        *extra,
    ]  # fmt: skip


def _demo(f, *extra):
    return ["demo", "-o", str(f / "demo_out"), "--quiet", *extra]


# command line -> (pattern in stderr); every case exits with status 2.
CASES = {
    # curve
    "curve: -o is a file": (
        lambda f: _curve(f, output=f / "a_file"),
        r"-o/--output-dir '.*a_file' is the file .* must be a folder",
    ),
    "curve: -o inside a file": (
        lambda f: _curve(f, output=f / "a_file" / "out"),
        r"-o/--output-dir .* is inside the file",
    ),
    "curve: --seed -1": (
        lambda f: _curve(f, "--seed", "-1"),
        r"The option --seed must be an int in the range \[0, ",
    ),
    "curve: --n-repeats 0": (
        lambda f: _curve(f, "--n-repeats", "0"),
        r"argument --n-repeats: must be a whole number >= 1, got '0'",
    ),
    "curve: --n-jobs 0": (
        lambda f: _curve(f, "--n-jobs", "0"),
        r"argument --n-jobs: 0 jobs cannot run anything.*-1",
    ),
    "curve: --n-anchors too many": (
        lambda f: _curve(f, "--n-anchors", "1000"),
        r"1000 anchors are requested.*Lower the largest --n-anchors",
    ),
    "curve: --n-anchors 0": (
        lambda f: _curve(f, "--n-anchors", "0"),
        r"argument --n-anchors: must be a whole number >= 1",
    ),
    "curve: missing --source": (
        lambda f: _curve(f)[:2] + [str(f / "none.npz")] + _curve(f)[3:],
        r"--source '.*none.npz' does not exist",
    ),
    "curve: --target not a zip": (
        lambda f: _curve(f)[:4] + [str(f / "broken.npz")] + _curve(f)[5:],
        r"broken.npz': it is not a .npz archive",
    ),
    "curve: missing --labels": (
        lambda f: _curve(f, "--labels", str(f / "none.csv")),
        r"--labels '.*none.csv' does not exist",
    ),
    "curve: unknown --task": (
        lambda f: _curve(f, "--labels", str(f / "labels.csv"), "--task", "nope"),
        r"--task 'nope' is not a column of the labels file.*\['task'\].*--task",
    ),
    "curve: unknown transform": (
        lambda f: _curve(f, "--transforms", "rotation"),
        r"argument --transforms: invalid choice: 'rotation'",
    ),
    "curve: --anchor-size 1.5": (
        lambda f: _curve(f, "--anchor-size", "1.5"),
        r"argument --anchor-size: a size is a fraction",
    ),
    "curve: --alpha -1": (
        lambda f: _curve(f, "--alpha", "-1"),
        r"argument --alpha: alpha must be >= 0 or auto",
    ),
    # table
    "table: one name twice": (
        lambda f: [
            "table",
            "--embeddings",
            f"a={f / 'a.npz'}",
            f"a={f / 'b.npz'}",
            "-o",
            str(f / "out"),
        ],  # fmt: skip
        r"--embeddings names an encoder twice",
    ),
    "table: not NAME=PATH": (
        lambda f: ["table", "--embeddings", str(f / "a.npz"), "-o", str(f / "out")],
        r"argument --embeddings: expected NAME=VALUE",
    ),
    "table: a missing file": (
        lambda f: [
            "table",
            "--embeddings",
            f"a={f / 'a.npz'}",
            f"b={f / 'none.npz'}",
            "-o",
            str(f / "out"),
        ],  # fmt: skip
        r"--embeddings b=.*none.npz: '.*none.npz' does not exist",
    ),
    "table: -o is a file": (
        lambda f: _table(f)[:-3] + ["-o", str(f / "a_file")],
        r"-o/--output-dir '.*a_file' is the file",
    ),
    "table: --n-anchors 0": (
        lambda f: _table(f, "--n-anchors", "0"),
        r"argument --n-anchors: must be a whole number >= 1",
    ),
    "table: --groups misses an encoder": (
        lambda f: _table(f, "--groups", "a=general"),
        r"--groups gives no group for \['b'\]",
    ),
    # zero-shot
    "zero-shot: invalid prompts JSON": (
        lambda f: _zero_shot(f, prompts="bad.json"),
        r"prompts file '.*bad.json' is not valid JSON",
    ),
    "zero-shot: an empty prompt list": (
        lambda f: _zero_shot(f),
        r"prompts.json': task 'task', class '0' has an empty prompt list",
    ),
    "zero-shot: missing --prompts": (
        lambda f: _zero_shot(f, prompts="none.json"),
        r"--prompts '.*none.json' does not exist",
    ),
    "zero-shot: missing --labels": (
        lambda f: _zero_shot(f, labels="none.csv"),
        r"--labels '.*none.csv' does not exist",
    ),
    "zero-shot: --n-per-class 0": (
        lambda f: _zero_shot(f, "--n-per-class", "0"),
        r"argument --n-per-class: must be a whole number >= 1",
    ),
    # demo (every case fails before any model loads)
    "demo: -o is a file": (
        lambda f: ["demo", "-o", str(f / "a_file")],
        r"-o/--output-dir '.*a_file' is the file",
    ),
    "demo: --cache-dir is a file": (
        lambda f: _demo(f, "--cache-dir", str(f / "a_file")),
        r"--cache-dir '.*a_file' is the file",
    ),
    # experiment
    "experiment: not a packaged configuration": (
        lambda f: ["experiment", "skalign:dmeo", "-o", str(f / "out")],
        r"'skalign:dmeo' is not a packaged configuration.*\['skalign:demo'\]",
    ),
    "experiment: -o is a file": (
        lambda f: ["experiment", "skalign:demo", "-o", str(f / "a_file")],
        r"-o/--output-dir '.*a_file' is the file",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_cli_bad_input_names_the_flag(case, folder, capsys):
    argv, pattern = CASES[case]
    try:
        status = main(argv(folder))
    except SystemExit as exit_info:  # argparse rejects the value itself
        status = exit_info.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith(("skalign ", "usage: skalign"))
    assert re.search(pattern, err, flags=re.S), err


def test_table_warns_when_every_repeat_took_the_whole_pool(folder, capsys):
    """With --n-anchors left at the whole pool, repeats draw the same anchors:
    the table says its stds of 0 mean nothing, and how to get a spread."""
    assert main(_table(folder, "--transforms", "ortho", "--n-repeats", "2")) == 0
    assert "pass --n-anchors below the pool size" in capsys.readouterr().err
    assert (
        main(_table(folder, "--transforms", "ortho", "--n-repeats", "2",
                    "--n-anchors", "10"))
        == 0
    )  # fmt: skip
    assert "pool size" not in capsys.readouterr().err
