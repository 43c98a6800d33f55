"""ZeroShotTextSpaceClassifier at its edges: no NaN, no silent tie, state
fixed at fit."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skalign import ZeroShotTextSpaceClassifier


def _space(seed=0):
    rng = np.random.default_rng(seed)
    prompts = {c: rng.normal(size=(2, 6)) for c in range(3)}
    return prompts, rng.normal(size=(30, 6))


@pytest.mark.parametrize("temperature", [0.0, -1.0, 1e-310])
def test_temperatures_that_can_only_give_nan_are_rejected(temperature):
    prompts, X = _space()
    with pytest.raises(InvalidParameterError, match="temperature"):
        ZeroShotTextSpaceClassifier(prompts, temperature=temperature).fit(X)


def test_smallest_allowed_temperature_gives_finite_probabilities():
    prompts, X = _space()
    clf = ZeroShotTextSpaceClassifier(
        prompts, temperature=float(np.finfo(np.float64).tiny)
    ).fit(X)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    log_proba = clf.predict_log_proba(X)
    assert not np.isnan(log_proba).any()


def test_temperature_is_fixed_at_fit():
    prompts, X = _space()
    clf = ZeroShotTextSpaceClassifier(prompts, temperature=0.05).fit(X)
    before = clf.predict_proba(X)
    clf.set_params(temperature=1.0)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    with pytest.raises(InvalidParameterError):
        clf.set_params(temperature=0.0).fit(X)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.temperature_ == 0.05


def test_classes_with_identical_prompts_are_an_error():
    prompts, X = _space()
    prompts[2] = prompts[0].copy()
    with pytest.raises(ValueError, match="Classes 0 and 2 have the same prompt"):
        ZeroShotTextSpaceClassifier(prompts).fit(X)
    scaled = {0: prompts[0], 1: prompts[1], 2: 3.0 * prompts[0]}
    with pytest.raises(ValueError, match="same prompt embeddings"):
        ZeroShotTextSpaceClassifier(scaled).fit(X)


def test_none_prompts_are_named_as_none():
    prompts, X = _space()
    prompts[1] = None
    with pytest.raises(ValueError, match=r"class_prompts\[1\] is None"):
        ZeroShotTextSpaceClassifier(prompts).fit(X)


def test_score_refuses_labels_or_weights_of_another_length():
    prompts = {"cat": np.array([[1.0, 0.0, 0.0]]), "dog": np.array([[0.0, 1.0, 0.0]])}
    images = np.eye(3)[:2]
    model = ZeroShotTextSpaceClassifier(prompts).fit(images, ["cat", "dog"])
    with pytest.raises(ValueError, match="y has 1 label.*X has 2 input"):
        model.score(images, ["cat"])
    with pytest.raises(ValueError, match=r"sample_weight must be of shape \(2,\)"):
        model.score(images, ["cat", "dog"], sample_weight=[1.0])
    # weighted accuracy: the right prediction weighs 1, the wrong one 3
    assert model.score(images, ["cat", "cat"], sample_weight=[1.0, 3.0]) == 0.25
