"""zero_shot_report: hand computation, missing labels, fitted aligners, errors."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from skalign.evaluation import balanced_subset, zero_shot_report
from skalign.evaluation._scoring import classifier_scores


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def spaces():
    """A 6-d "text" space with three classes, and a 9-d "image" space mapped from it."""
    rng = np.random.default_rng(0)
    prompts = {c: rng.normal(size=(2, 6)) for c in ["cat", "dog", "owl"]}
    centres = np.stack([_unit(_unit(p).mean(0)) for p in prompts.values()])
    truth = np.array(["cat", "dog", "owl"])[rng.integers(0, 3, size=400)]
    text = 3 * centres[np.searchsorted(["cat", "dog", "owl"], truth)]
    text += 0.8 * rng.normal(size=text.shape)
    images = text @ rng.normal(size=(6, 9)) + rng.normal(size=9)
    return prompts, truth, text, images


def test_report_matches_a_hand_computation(spaces):
    prompts, truth, text, images = spaces
    aligner = LatentAligner("affine").fit(images[:200], text[:200])
    classifier = ZeroShotTextSpaceClassifier({}, aligner=FrozenEstimator(aligner))
    report = zero_shot_report(
        {"aligned": (images[200:], classifier)},
        {"animals": (truth[200:], prompts)},
        n_per_class=40,
        n_repeats=2,
        random_state=5,
    )
    assert report.columns.tolist() == [
        "method",
        "task",
        "metric",
        "mean",
        "std",
        "n_runs",
        "n_test",
    ]
    assert report["metric"].tolist() == ["roc_auc", "accuracy", "f1_macro"]
    assert (report["n_test"] == 120).all() and (report["n_runs"] == 2).all()
    fitted = ZeroShotTextSpaceClassifier(prompts, aligner=FrozenEstimator(aligner))
    fitted.fit(images[200:])
    seed = int(np.random.default_rng([5, 1]).integers(2**31))
    subset = balanced_subset(truth[200:], 40, random_state=seed)
    second = classifier_scores(fitted, images[200:][subset], truth[200:][subset])
    first_seed = int(np.random.default_rng([5, 0]).integers(2**31))
    subset = balanced_subset(truth[200:], 40, random_state=first_seed)
    first = classifier_scores(fitted, images[200:][subset], truth[200:][subset])
    for metric in ("roc_auc", "accuracy", "f1_macro"):
        row = report[report["metric"] == metric].iloc[0]
        assert row["mean"] == pytest.approx((first[metric] + second[metric]) / 2)
        assert row["std"] == pytest.approx(abs(first[metric] - second[metric]) / 2)
    assert report.iloc[0]["mean"] > 0.9


def test_tasks_with_missing_labels_and_a_plain_fitted_aligner(spaces):
    prompts, truth, text, images = spaces
    aligner = LatentAligner("affine").fit(images[:200], text[:200])  # not frozen
    cat_or_dog = np.where(truth == "owl", None, truth)
    report = zero_shot_report(
        {
            "aligned": (images, ZeroShotTextSpaceClassifier({}, aligner=aligner)),
            "text space": (text, ZeroShotTextSpaceClassifier({})),
        },
        {
            "animals": (truth, prompts),
            "cat vs dog": (cat_or_dog, {k: prompts[k] for k in ("cat", "dog")}),
        },
    )
    auroc = report[report["metric"] == "roc_auc"].set_index(["method", "task"])
    assert auroc.index.tolist() == [
        ("aligned", "animals"),
        ("aligned", "cat vs dog"),
        ("text space", "animals"),
        ("text space", "cat vs dog"),
    ]
    smallest = min(np.sum(truth == c) for c in ("cat", "dog"))
    assert auroc.loc[("aligned", "cat vs dog"), "n_test"] == 2 * smallest
    assert (auroc["mean"] > 0.9).all()


def test_errors(spaces):
    prompts, truth, text, images = spaces
    clf = ZeroShotTextSpaceClassifier({})
    with pytest.raises(ValueError, match="labels without prompts: \\['owl'\\]"):
        zero_shot_report(
            {"m": (text, clf)},
            {"t": (truth, {"cat": prompts["cat"], "dog": prompts["dog"]})},
        )
    with pytest.raises(
        ValueError, match="labels of shape \\(10,\\) but the methods embed 400"
    ):
        zero_shot_report({"m": (text, clf)}, {"t": (truth[:10], prompts)})
    with pytest.raises(ValueError, match="different numbers of images"):
        zero_shot_report(
            {"m": (text, clf), "n": (text[:5], clf)}, {"t": (truth, prompts)}
        )
    with pytest.raises(TypeError, match="must be a pair \\(X, classifier\\)"):
        zero_shot_report({"m": text}, {"t": (truth, prompts)})
    with pytest.raises(TypeError, match="not a zero-shot classifier"):
        zero_shot_report({"m": (text, LatentAligner())}, {"t": (truth, prompts)})
    unfitted = ZeroShotTextSpaceClassifier({}, aligner=LatentAligner())
    with pytest.raises(Exception, match="needs a fitted aligner"):
        zero_shot_report({"m": (images, unfitted)}, {"t": (truth, prompts)})
