"""The command line's help shows defaults and only real flags; outputs carry
the encoder names; identical repeats are flagged."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from skalign._cli import build_parser, main
from tests.test_cli import _curve_args, files  # noqa: F401  (the shared fixture)


def _help(command):
    parser = build_parser()
    subparsers = next(action for action in parser._actions if action.dest == "command")
    return subparsers.choices[command].format_help()


@pytest.mark.parametrize(
    "command", ["curve", "table", "zero-shot", "demo", "experiment"]
)
def test_help_shows_every_default_once(command):
    text = " ".join(_help(command).split())
    assert "(default: None)" not in text
    assert "(default: False)" not in text
    # the demo and the experiment take their seed from the configuration
    seeded = command not in ("demo", "experiment")
    assert text.count("random seed (default: 0)") == int(seeded)


def test_help_shows_the_defaults_of_options_that_had_none():
    curve = " ".join(_help("curve").split())
    assert "(default: 0.25)" in curve  # --anchor-size and --test-size
    zero_shot = " ".join(_help("zero-shot").split())
    assert "LatentAligner transform_type (default: ortho)" in zero_shot
    assert "ridge penalty or auto (default: 0.0)" in zero_shot


def test_zero_shot_help_names_only_its_own_flags():
    text = _help("zero-shot")
    for absent in ("--anchor-size", "--test-size", "cache"):
        assert absent not in text
    actions = build_parser()._actions[-1].choices["zero-shot"]._option_string_actions
    assert "--anchor-size" not in actions


def test_curve_runs_name_the_encoders(files, tmp_path, capsys):  # noqa: F811
    folder = files[0]
    assert main(_curve_args(folder, tmp_path, "--quiet")) == 0
    runs = pd.read_csv(tmp_path / "curve_runs.csv")
    aligned = runs.dropna(subset=["n_anchors"])
    assert set(aligned["source"]) == {"pixels"}
    assert set(runs["target"]) == {"tanh"}
    assert "warning" not in capsys.readouterr().err


def test_identical_repeats_are_flagged(files, tmp_path, capsys):  # noqa: F811
    folder = files[0]
    args = _curve_args(folder, tmp_path, "--quiet")
    n_anchors = args.index("--n-anchors")
    pool = int(0.25 * len(load_digits(n_class=4).target))
    args[n_anchors + 1 : n_anchors + 4] = ["10", str(pool), str(pool)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"at n_anchors=[{pool}] the 2 repeats scored identically" in err
    curve = pd.read_csv(tmp_path / "curve.csv")
    whole = curve[(curve["n_anchors"] == pool) & (curve["transform"] != "naive")]
    np.testing.assert_array_equal(whole["std"], 0)


@pytest.mark.parametrize(
    "command", ["curve", "table", "zero-shot", "demo", "experiment"]
)
def test_every_command_shows_examples_and_a_short_quiet(command):
    text = _help(command)
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert examples[0].startswith(f"  skalign {command} ")
    assert "-q, --quiet" in text
    assert max(map(len, text.splitlines())) <= 100


def test_a_runtime_failure_exits_1_and_a_usage_error_2(monkeypatch, tmp_path, capsys):
    import skalign.evaluation

    def fail(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(skalign.evaluation, "run_experiment", fail)
    assert main(["demo", "-o", str(tmp_path), "-q"]) == 1
    assert "error: No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["experiment", "skalign:nope", "-o", str(tmp_path)]) == 2


def test_printed_tables_fit_in_100_columns(files, tmp_path, capsys):  # noqa: F811
    folder = files[0]
    groups = ["pixels=raw", "tanh=warped"]
    embeddings = [f"pixels={folder / 'pixels.npz'}", f"tanh={folder / 'tanh.parquet'}"]
    argv = ["table", "--embeddings", *embeddings, "--groups", *groups]
    assert main([*argv, "--n-repeats", "1", "-o", str(tmp_path), "-q"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert any("target_upper_bound" in line for line in printed)
    assert max(map(len, printed)) <= 100
