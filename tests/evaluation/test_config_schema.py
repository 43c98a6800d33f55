"""The experiment configuration's typed schema: every wrong type or range is
refused, nothing is coerced, and the error names the key, the value and the fix."""

import copy
import re

import pytest

from skalign.evaluation import ConfigError, ExperimentConfig

BASE = {
    "datasets": {
        "digits": {"source": "skalign:digits"},
        "topics": {"source": "skalign:docstring-topics"},
    },
    "encoders": {
        "a": {"modality": "text", "domain": "general", "extractor": "x"},
        "b": {"modality": "text", "domain": "medical", "extractor": "y"},
        "v": {"modality": "image", "domain": "general", "extractor": "z"},
    },
    "stitching": {"topics": {"dataset": "topics"}},
    "zero_shot": {
        "text_encoder": "a",
        "anchors": "digits",
        "tasks": {"digits": {"dataset": "digits", "prompts": "skalign:digits"}},
    },
}


def _with(path, value):
    config = copy.deepcopy(BASE)
    *parents, key = path.split(".")
    table = config
    for parent in parents:
        table = table.setdefault(parent, {})
    table[key] = value
    return config


# dotted key, value, what the message must say (besides the key and the value)
CASES = [
    ("datasets.digits.classes", "ab", "a non-empty list of labels"),
    ("datasets.digits.classes", [True], "the element True is not a label"),
    ("datasets.digits.n_per_class", -1, "a whole number >= 1"),
    ("datasets.digits.n_per_class", 2.5, "a whole number >= 1"),
    ("datasets.digits.rows", [5, 2], "0 <= start < stop"),
    ("datasets.digits.rows", 10, r"\[start, stop\]"),
    ("zero_shot.naive", "false", "true or false"),
    ("zero_shot.n_repeats", 0, "a whole number >= 1"),
    ("zero_shot.vision_encoders", "v", "a non-empty list of encoder names"),
    ("zero_shot.transforms", "ortho", "a non-empty list of transform names"),
    ("zero_shot.transforms", ["ortho", "rotate"], "one of"),
    ("zero_shot.prompt_pooling", "mean", "one of"),
    ("protocol.n_anchors", 10, "a non-empty list of whole numbers >= 2"),
    ("protocol.n_anchors", [10, 1], "the element 1 is not a whole number >= 2"),
    ("protocol.n_repeats", True, r"an int in the range \[1, inf\)"),
    ("protocol.n_repeats", "3", r"an int in the range \[1, inf\)"),
    ("protocol.anchor_size", 1.5, r"a float in the range \(0.0, 1.0\) or an int"),
    ("protocol.random_state", -1, r"an int in the range \[0, inf\)"),
    ("protocol.decoder", "forest", r"one of \['linear-svm', 'logistic'\]"),
    ("protocol.metric", "auc", "one of"),
    ("protocol.table_n_anchors", [20], "a whole number >= 2"),
    ("extract.batch_size", "32", "a whole number >= 1"),
    ("extract.device", 0, "a non-empty string"),
    ("encoders.a.domain", 3, "a non-empty string"),
    ("stitching.topics.encoders", "a", "a non-empty list of encoder names"),
    ("zero_shot.tasks.digits.prompts", {"0": []}, "class '0' has \\[\\]"),
    ("zero_shot.tasks.digits.prompts", {"0": "zero"}, "list of non-empty prompts"),
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES, ids=lambda c: str(c))
def test_a_wrong_value_is_refused_naming_key_value_and_fix(key, value, expected):
    with pytest.raises(ConfigError) as error:
        ExperimentConfig.read(_with(key, value))
    message = str(error.value)
    assert f"{key} must be " in message
    assert re.search(expected, message), message
    assert f"got {value!r}" in message
    section = key.rsplit(".", 1)[0]
    assert f"fix the value in [{section}]" in message


def test_valid_values_are_kept_as_written():
    config = ExperimentConfig.read(
        _with("datasets.digits.classes", ["0", 1])
        | {
            "protocol": {
                "n_anchors": [10, 20],
                "anchor_size": 40,
                "decoder": "logistic",
            }
        }
    )
    assert config.datasets["digits"].classes == ("0", "1")
    assert config.curves["n_anchors"] == [10, 20]
    assert config.protocol.anchor_size == 40 and config.protocol.decoder == "logistic"
    assert config.zero_shot.naive is True and config.zero_shot.n_repeats == 3


def test_a_missing_required_key_is_named():
    config = copy.deepcopy(BASE)
    del config["encoders"]["v"]["modality"]
    with pytest.raises(ConfigError, match=r"encoders.v has no 'modality'.*Add"):
        ExperimentConfig.read(config)


def test_an_unknown_packaged_configuration_is_named():
    with pytest.raises(ConfigError, match="'skalign:dmeo' is not a packaged"):
        ExperimentConfig.read("skalign:dmeo")


def test_the_packaged_demo_is_valid():
    config = ExperimentConfig.read("skalign:demo")
    assert set(config.stitching) == {"topics"}
    assert config.zero_shot.vision_encoders == ("efficientnet",)
