"""zero_shot_report's options beyond the paper: CSLS class scores (hubness=),
variability over anchor draws (anchor_repeats=, anchor_size=) and the unpaired
pool of a self-learning aligner (NaN rows); the experiment config's keys."""

import copy

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from skalign.evaluation import ConfigError, ExperimentConfig, zero_shot_report
from skalign.evaluation._scoring import classifier_scores
from skalign.evaluation._subsets import balanced_subset


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def hub_task():
    """Three classes in a 5-d text space; the prompt of "hub" sits near every
    image, so cosine scores give it most predictions and CSLS does not."""
    rng = np.random.default_rng(3)
    centres = np.eye(5)[:3]
    truth = np.repeat(["a", "b", "hub"], 40)
    images = centres[np.repeat([0, 1, 2], 40)] + 0.6 * rng.normal(size=(120, 5))
    images[:, 3] += 1.5  # a shared direction that the hub's prompt follows
    prompts = {
        "a": [centres[0] + 0.1 * rng.normal(size=5)],
        "b": [centres[1] + 0.1 * rng.normal(size=5)],
        "hub": [centres[2] + 1.5 * np.eye(5)[3]],
    }
    return images, truth, prompts


def _scores_by_hand(classifier, X, truth, random_state=0):
    fitted = classifier.fit(X)
    seed = int(np.random.default_rng([random_state, 0]).integers(2**31))
    subset = balanced_subset(truth, None, random_state=seed)
    return classifier_scores(fitted, X[subset], truth[subset])


def test_csls_report_equals_a_csls_classifier_built_by_hand(hub_task):
    images, truth, prompts = hub_task
    tasks = {"t": (truth, prompts)}
    report = zero_shot_report(
        {"m": (images, None)}, tasks, hubness="csls", hubness_neighbors=7,
        chance=False,
    )  # fmt: skip
    cosine = zero_shot_report({"m": (images, None)}, tasks, chance=False)
    by_hand = ZeroShotTextSpaceClassifier(
        prompts, prompt_pooling="similarity", hubness="csls", hubness_neighbors=7
    ).fit(images)
    plain = ZeroShotTextSpaceClassifier(prompts, prompt_pooling="similarity")
    plain.fit(images)
    # the hub matters here: CSLS changes the predictions
    assert (by_hand.predict(images) != plain.predict(images)).mean() >= 0.05
    expected = _scores_by_hand(by_hand, images, truth)
    for metric, value in expected.items():
        row = report[report.metric == metric].iloc[0]
        assert row["mean"] == pytest.approx(value, abs=1e-12)
    accuracy = report.set_index("metric")["mean"]["accuracy"]
    assert accuracy > cosine.set_index("metric")["mean"]["accuracy"] + 0.05


def test_hubness_is_validated(hub_task):
    images, truth, prompts = hub_task
    with pytest.raises(ValueError, match="hubness"):
        zero_shot_report({"m": (images, None)}, {"t": (truth, prompts)}, hubness="x")
    with pytest.raises(ValueError, match="hubness_neighbors"):
        zero_shot_report(
            {"m": (images, None)}, {"t": (truth, prompts)}, hubness_neighbors=0
        )


CONFIG = {
    "datasets": {"digits": {"source": "skalign:digits"}},
    "encoders": {
        "a": {"modality": "text", "domain": "general", "extractor": "x"},
        "v": {"modality": "image", "domain": "general", "extractor": "z"},
    },
    "zero_shot": {
        "text_encoder": "a",
        "anchors": "digits",
        "tasks": {"digits": {"dataset": "digits", "prompts": "skalign:digits"}},
    },
}


def _config(**zero_shot):
    config = copy.deepcopy(CONFIG)
    config["zero_shot"].update(zero_shot)
    return config


def test_config_hubness_keys():
    default = ExperimentConfig.read(_config()).zero_shot
    assert default.hubness is None and default.hubness_neighbors == 10
    chosen = ExperimentConfig.read(_config(hubness="csls", hubness_neighbors=3))
    assert chosen.zero_shot.hubness == "csls"
    assert chosen.zero_shot.hubness_neighbors == 3
    help_text = ExperimentConfig.keys_help()
    assert "hubness" in help_text and "CSLS" in help_text


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("hubness", "CSLS", r"one of \['csls'\]"),
        ("hubness", True, r"one of \['csls'\] \(a string\)"),
        ("hubness", "none", r"one of \['csls'\]"),
        ("hubness_neighbors", 0, "a whole number >= 1"),
        ("hubness_neighbors", "10", "a whole number >= 1"),
    ],
)
def test_config_refuses_bad_hubness(key, value, message):
    with pytest.raises(ConfigError, match=rf"zero_shot\.{key} must be {message}"):
        ExperimentConfig.read(_config(**{key: value}))
