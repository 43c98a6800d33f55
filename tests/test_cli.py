"""The command line: curves and tables end to end on embedding files, resuming,
and the errors a user meets."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from skalign._cli import build_parser, cli_message, main
from skalign.evaluation import anchor_curve

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two encoders of the real digits (pixels; a nonlinear 40-d view), stored
    as an .npz with labels and as a parquet file in another row order."""
    folder = tmp_path_factory.mktemp("embeddings")
    X, y = load_digits(n_class=4, return_X_y=True)
    rng = np.random.default_rng(0)
    Y = np.tanh((X - X.mean(0)) / (X.std(0) + 1) @ rng.normal(size=(64, 40)) / 4)
    ids = np.array([f"img{i:04d}" for i in range(len(y))])
    np.savez(folder / "pixels.npz", embeddings=X, ids=ids, labels=y)
    order = rng.permutation(len(y))
    pd.DataFrame({"id": ids[order], "embedding": list(Y[order])}).to_parquet(
        folder / "tanh.parquet"
    )
    return folder, X, Y, y


def _curve_args(folder, output, *extra):
    return [
        "curve",
        "--source",
        str(folder / "pixels.npz"),
        "--target",
        str(folder / "tanh.parquet"),
        "--n-anchors",
        "10",
        "40",
        "150",
        "--transforms",
        "ortho",
        "affine",
        "--n-repeats",
        "2",
        "--decoder",
        "logistic",
        "-o",
        str(output),
        *extra,
    ]


def test_curve_end_to_end_and_resume(files, tmp_path, capsys):
    folder, X, Y, y = files
    assert main(_curve_args(folder, tmp_path)) == 0
    out, err = capsys.readouterr()
    assert "stitching" in err  # progress bar
    for name in ("curve.csv", "curve_runs.csv", "curve.png"):
        assert f"wrote {tmp_path / name}" in out
    assert (tmp_path / "curve.png").read_bytes()[:8] == PNG_SIGNATURE
    written = pd.read_csv(tmp_path / "curve.csv")
    from sklearn.linear_model import LogisticRegression

    expected = anchor_curve(
        X,
        Y,
        y,
        n_anchors=[10, 40, 150],
        transforms=["ortho", "affine"],
        n_repeats=2,
        decoder=LogisticRegression(max_iter=5000),
    )
    np.testing.assert_allclose(written["mean"], expected["mean"])
    assert written["transform"].tolist() == expected["transform"].tolist()
    # the same command again: every run comes from the cache
    assert main(_curve_args(folder, tmp_path, "--quiet")) == 0
    out, err = capsys.readouterr()
    assert "reused 19 of 19 finished runs" in out and err == ""
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "curve.csv"), written)


def test_table_end_to_end_with_a_labels_file(files, tmp_path, capsys):
    folder, X, Y, y = files
    ids = np.array([f"img{i:04d}" for i in range(len(y))])
    np.save(tmp_path / "raw.npy", X)
    np.savez(tmp_path / "a.npz", embeddings=X, ids=ids)
    np.savez(tmp_path / "b.npz", embeddings=Y, ids=ids)
    np.savez(tmp_path / "c.npz", embeddings=X @ np.ones((64, 3)) + Y[:, :3], ids=ids)
    pd.DataFrame({"id": ids, "digit": y, "even": y % 2}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    code = main(
        [
            "table",
            "--embeddings",
            f"pixels={tmp_path / 'a.npz'}",
            f"tanh={tmp_path / 'b.npz'}",
            f"mixed={tmp_path / 'c.npz'}",
            "--groups",
            "pixels=general",
            "tanh=medical",
            "mixed=medical",
            "--labels",
            str(tmp_path / "labels.csv"),
            "--task",
            "digit",
            "--n-anchors",
            "100",
            "--transforms",
            "ortho",
            "--n-repeats",
            "1",
            "--no-cache",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out" / "table.csv")
    assert table[["source_group", "target_group"]].values.tolist() == [
        ["general", "medical"],
        ["medical", "general"],
        ["medical", "medical"],
    ]
    assert table["n_pairs"].tolist() == [2, 2, 2]
    assert len(pd.read_csv(tmp_path / "out" / "table_pairs.csv")) == 6 * 4 * 3
    assert (tmp_path / "out" / "table.png").read_bytes()[:8] == PNG_SIGNATURE
    assert not (tmp_path / "out" / "cache").exists()


def test_python_dash_m_runs_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "skalign", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("curve", "table", "zero-shot"):
        assert command in result.stdout


def test_subcommand_help_documents_the_file_format(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["curve", "--help"])
    assert "'embeddings' (or 'X'), optional 'ids', 'labels'" in capsys.readouterr().out


# --- errors: exit code 2 and a message naming the problem and the fix --------------


def _error(args, capsys):
    assert main(args) == 2
    return capsys.readouterr().err


def test_missing_file(files, tmp_path, capsys):
    folder, *_ = files
    args = _curve_args(folder, tmp_path)
    args[args.index("--source") + 1] = str(folder / "pixel.npz")
    err = _error(args, capsys)
    assert "skalign curve: error: --source '" in err and "does not exist" in err


def test_mismatched_row_counts(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.ones((10, 3)))
    np.save(tmp_path / "b.npy", np.ones((9, 3)))
    args = ["curve", "--source", str(tmp_path / "a.npy")]
    args += ["--target", str(tmp_path / "b.npy"), "-o", str(tmp_path)]
    err = _error(args, capsys)
    assert "different numbers of rows: {'source': 10, 'target': 9}" in err
    assert "add an ids array" in err


def test_labels_that_do_not_match(files, tmp_path, capsys):
    folder, X, Y, y = files
    ids = np.array([f"img{i:04d}" for i in range(len(y))])
    wrong = y.copy()
    wrong[5] = (wrong[5] + 1) % 4
    np.savez(tmp_path / "b.npz", embeddings=Y, ids=ids, labels=wrong)
    args = ["curve", "--source", str(folder / "pixels.npz")]
    args += ["--target", str(tmp_path / "b.npz"), "-o", str(tmp_path)]
    err = _error(args, capsys)
    assert "labels of 'source' and 'target' do not match: id 'img0005'" in err


def test_no_labels(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.ones((10, 3)))
    args = ["curve", "--source", str(tmp_path / "a.npy")]
    args += ["--target", str(tmp_path / "a.npy"), "-o", str(tmp_path)]
    assert "Pass --labels (a table with 'id'" in _error(args, capsys)


def test_too_few_anchors(files, tmp_path, capsys):
    folder, *_ = files
    args = _curve_args(folder, tmp_path)
    args[args.index("150")] = "5000"
    err = _error(args, capsys)
    assert "5000 anchors are requested but the anchor pool holds only 180" in err


def test_bad_arguments_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["table", "--embeddings", "no-equals-sign", "-o", "x"])
    assert exit_info.value.code == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "curve",
                "--source",
                "a.npz",
                "--target",
                "b.npz",
                "-o",
                "x",
                "--anchor-size",
                "1.5",
            ]
        )
    assert "a fraction in (0, 1) or a whole count" in capsys.readouterr().err


def test_library_errors_speak_in_flags(files, tmp_path, capsys):
    """The library names parameters (task=); the command line names its flags."""
    folder, X, Y, y = files
    pd.DataFrame({"digit": y, "even": y % 2}).to_csv(tmp_path / "l.csv", index=False)
    np.save(tmp_path / "a.npy", X)
    args = ["curve", "--source", str(tmp_path / "a.npy"), "--target"]
    args += [str(tmp_path / "a.npy"), "--labels", str(tmp_path / "l.csv")]
    err = _error([*args, "-o", str(tmp_path)], capsys)
    assert "choose one with --task." in err and "task=" not in err
    err = _error(
        [*args, "--task", "digit", "--n-test-per-class", "900", "-o", str(tmp_path)],
        capsys,
    )
    assert "--n-test-per-class 900 test rows per class are requested" in err
    assert "Lower --n-test-per-class to at most" in err
    assert "(--test-size, or more 'test' rows" in err


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("choose one with task=.", "choose one with --task."),
        ("tasks= names tasks", "--tasks names tasks"),
        ("images='x' is not a folder", "--images 'x' is not a folder"),
        ("n_per_class=3, at most", "--n-per-class 3, at most"),
        ("the subtask= and my_labels= stay", "the subtask= and my_labels= stay"),
    ],
)
def test_cli_message_maps_parameters_to_flags(message, expected):
    assert cli_message(ValueError(message)) == expected
