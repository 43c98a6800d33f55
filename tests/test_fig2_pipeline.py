"""The paper's Fig. 2 as one estimator: fitted on (images, paired texts),
predicting classes by prompts, with y_kind saying what y holds."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from tests._toy_encoders import LookupTextEncoder

CLASSES = ["effusion", "normal", "pneumonia"]
REPORTS = {
    "effusion": ["small left effusion", "bilateral pleural effusions"],
    "normal": ["no acute findings", "normal chest"],
    "pneumonia": ["right lower lobe pneumonia", "consolidation, pneumonia"],
}


def _world(seed=0, n=120, image_width=7):
    """Report embeddings near their class's direction, images a linear map of
    them plus noise, and a lookup text encoder for reports and prompts."""
    rng = np.random.default_rng(seed)
    directions = {c: rng.normal(size=5) for c in CLASSES}
    table = {c: 3 * directions[c] + 0.3 * rng.normal(size=5) for c in CLASSES}
    for c, reports in REPORTS.items():
        for report in reports:
            table[report] = 3 * directions[c] + 0.5 * rng.normal(size=5)
    labels = rng.choice(CLASSES, size=n)
    reports = [REPORTS[c][rng.integers(2)] for c in labels]
    text = np.array([table[r] for r in reports])
    images = text @ rng.normal(size=(5, image_width)) + 0.05 * rng.normal(
        size=(n, image_width)
    )
    return images, labels, reports, LookupTextEncoder(table)


def _prompts():
    return {c: c for c in CLASSES}


@pytest.mark.parametrize("y_kind", ["texts", "auto"])
def test_pipeline_fitted_on_images_and_reports_predicts_classes(y_kind):
    images, labels, reports, encoder = _world()
    fig2 = make_pipeline(
        LatentAligner("affine", target_encoder=encoder),
        ZeroShotTextSpaceClassifier(_prompts(), text_encoder=encoder, y_kind=y_kind),
    ).fit(images[:80], reports[:80])
    assert fig2.classes_.tolist() == CLASSES
    assert (fig2.predict(images[80:]) == labels[80:]).mean() > 0.9


def test_classifier_alone_learns_the_map_from_texts():
    """With its own aligner, the classifier pairs each image with its text's
    embedding: the same map as the LatentAligner step fitted on those texts."""
    images, _, reports, encoder = _world()
    alone = ZeroShotTextSpaceClassifier(
        _prompts(),
        text_encoder=encoder,
        aligner=LatentAligner("affine"),
        y_kind="texts",
    ).fit(images, reports)
    step = LatentAligner("affine", target_encoder=encoder).fit(images, reports)
    np.testing.assert_allclose(
        alone.aligner_.transform(images), step.transform(images), rtol=1e-10
    )


def test_labels_and_texts_give_different_anchors_targets():
    images, labels, reports, encoder = _world()
    by_label = ZeroShotTextSpaceClassifier(
        _prompts(), text_encoder=encoder, aligner=LatentAligner("affine")
    ).fit(images, labels)
    by_text = ZeroShotTextSpaceClassifier(
        _prompts(), text_encoder=encoder, aligner=LatentAligner("affine")
    ).fit(images, reports)
    assert not np.allclose(
        by_label.aligner_.transform(images), by_text.aligner_.transform(images)
    )


def test_mixed_y_is_an_error_that_names_the_choice():
    images, labels, reports, encoder = _world()
    mixed = list(labels[:40]) + list(reports[40:80])
    clf = ZeroShotTextSpaceClassifier(
        _prompts(), text_encoder=encoder, aligner=LatentAligner()
    )
    with pytest.raises(ValueError, match="labels without prompts.*y_kind='texts'"):
        clf.fit(images[:80], mixed)


def test_texts_errors_are_raised_before_state_changes():
    images, labels, reports, encoder = _world()
    clf = ZeroShotTextSpaceClassifier(
        _prompts(), text_encoder=encoder, aligner=LatentAligner(), y_kind="texts"
    ).fit(images, reports)
    before = clf.decision_function(images)
    with pytest.raises(TypeError, match="one text \\(a string\\) per input"):
        clf.fit(images[:3], ["a", 2, "b"])
    with pytest.raises(ValueError, match="3 inputs but y has 2 texts"):
        clf.fit(images[:3], ["normal chest", "no acute findings"])
    without_encoder = clf.set_params(
        text_encoder=None,
        class_prompts={c: np.ones((1, 5)) * i for i, c in enumerate(CLASSES, 1)},
    )
    with pytest.raises(ValueError, match="text_encoder is None"):
        without_encoder.fit(images, reports)
    np.testing.assert_array_equal(clf.decision_function(images), before)


def test_texts_with_a_frozen_aligner_are_only_checked():
    images, labels, reports, encoder = _world()
    fitted = LatentAligner("affine", target_encoder=encoder).fit(images, reports)
    clf = ZeroShotTextSpaceClassifier(
        _prompts(),
        text_encoder=encoder,
        aligner=FrozenEstimator(fitted),
        y_kind="texts",
    ).fit(images, reports)
    assert clf.aligner_ is clf.aligner
    assert (clf.predict(images) == labels).mean() > 0.9
