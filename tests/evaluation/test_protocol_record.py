"""One protocol specification: the record's defaults are those of every public
function, of the command line and of the experiment configuration."""

import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import skalign
from skalign._cli import build_parser
from skalign.evaluation import (
    ExperimentConfig,
    Protocol,
    anchor_curve,
    pooled_anchor_curve,
    pooled_stitching_table,
    stitching_report,
    stitching_table,
)

FUNCTIONS = [
    anchor_curve,
    stitching_report,
    stitching_table,
    pooled_anchor_curve,
    pooled_stitching_table,
]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_public_signatures_default_to_the_record(function):
    parameters = inspect.signature(function).parameters
    shared = [f for f in dataclasses.fields(Protocol) if f.name in parameters]
    assert len(shared) >= 11  # every setting but split (pooled: per task)
    for field in shared:
        assert parameters[field.name].default == field.default, field.name


def test_no_locals_in_the_package():
    root = Path(skalign.__file__).parent
    users = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"\blocals\(\)", path.read_text())
    ]
    assert users == []


def test_a_decoder_by_name_is_the_table_entry():
    X, y = load_digits(n_class=3, return_X_y=True)
    Y = X @ np.random.default_rng(0).normal(size=(64, 20))
    options = dict(n_anchors=[30], transforms=["ortho"], n_repeats=1)
    by_name = anchor_curve(X, Y, y, decoder="logistic", **options)
    by_estimator = anchor_curve(
        X, Y, y, decoder=LogisticRegression(max_iter=5000), **options
    )
    np.testing.assert_array_equal(by_name["mean"], by_estimator["mean"])
    assert Protocol.decoder_names() == ("linear-svm", "logistic")
    assert type(Protocol().resolved().decoder).__name__ == "SVC"
    with pytest.raises(ValueError, match="'decoder' parameter of anchor_curve"):
        anchor_curve(X, Y, y, decoder="forest", **options)


def _option_defaults(command):
    parser = build_parser()
    subparsers = next(action for action in parser._actions if action.dest == "command")
    return {
        action.dest: action.default for action in subparsers.choices[command]._actions
    }


@pytest.mark.parametrize("command", ["curve", "table"])
def test_command_line_defaults_are_the_record(command):
    defaults = _option_defaults(command)
    assert defaults["n_repeats"] == Protocol.n_repeats
    assert defaults["anchor_size"] == Protocol.anchor_size
    assert defaults["test_size"] == Protocol.test_size
    assert defaults["seed"] == Protocol.random_state
    assert defaults["decoder"] is Protocol.decoder
    assert tuple(defaults["transforms"]) == Protocol.transforms


def test_configuration_defaults_and_help_come_from_the_record():
    config = ExperimentConfig.read(
        {
            "datasets": {"d": {"source": "skalign:docstring-topics"}},
            "encoders": {
                "a": {"modality": "text", "domain": "g", "extractor": "x"},
                "b": {"modality": "text", "domain": "g", "extractor": "y"},
            },
            "stitching": {"d": {"dataset": "d"}},
        }
    )
    assert config.protocol == Protocol(
        transforms=list(Protocol.transforms), decoder="linear-svm"
    )
    text = " ".join(ExperimentConfig.keys_help().split())
    for name in Protocol.config_settings():
        assert " ".join(Protocol.doc(name).split()) in text, name
    assert f"{Protocol.doc('n_repeats')} (default: {Protocol.n_repeats})" in text
    assert f"(default: {Protocol.anchor_size})" in text
