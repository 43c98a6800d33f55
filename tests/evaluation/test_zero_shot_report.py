"""zero_shot_report and zero_shot_from_reports: hand computation, missing labels,
prompts embedded once, pairing by id, errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from skalign.evaluation import (
    EmbeddingFile,
    balanced_subset,
    zero_shot_from_reports,
    zero_shot_report,
)
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
    report = zero_shot_report(
        {"aligned": (images[200:], aligner)},
        {"animals": (truth[200:], prompts)},
        n_per_class=40,
        n_repeats=2,
        random_state=5,
        chance=False,
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
    # the paper's rule is the report's default
    fitted = ZeroShotTextSpaceClassifier(
        prompts, aligner=FrozenEstimator(aligner), prompt_pooling="similarity"
    )
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
    aligner = LatentAligner("affine").fit(images[:200], text[:200])
    cat_or_dog = np.where(truth == "owl", None, truth)
    report = zero_shot_report(
        {"aligned": (images, aligner), "text space": (text, None)},
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
        ("chance", "animals"),
        ("chance", "cat vs dog"),
    ]
    chance = report[report["method"] == "chance"].set_index(["task", "metric"])
    assert chance.loc[("animals", "accuracy"), "mean"] == pytest.approx(1 / 3)
    assert chance.loc[("cat vs dog", "f1_macro"), "mean"] == pytest.approx(1 / 2)
    auroc = auroc.drop(index="chance", level="method")
    smallest = min(np.sum(truth == c) for c in ("cat", "dog"))
    assert auroc.loc[("aligned", "cat vs dog"), "n_test"] == 2 * smallest
    assert (auroc["mean"] > 0.9).all()


def test_errors(spaces):
    prompts, truth, text, images = spaces
    clf = None  # the text space itself
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
    with pytest.raises(TypeError, match="must be a pair \\(X, aligner\\)"):
        zero_shot_report({"m": text}, {"t": (truth, prompts)})
    with pytest.raises(TypeError, match="LogisticRegression, which is not an aligner"):
        zero_shot_report({"m": (text, LogisticRegression())}, {"t": (truth, prompts)})
    with pytest.raises(Exception, match="not fitted"):
        zero_shot_report({"m": (images, LatentAligner())}, {"t": (truth, prompts)})


def test_text_prompts_are_embedded_once_by_the_text_encoder(spaces):
    """String prompts through a text encoder give the report of their
    embeddings; every distinct prompt is embedded once for all methods."""
    prompts, truth, text, images = spaces
    vectors = {
        f"{label} {i}": row
        for label, rows in prompts.items()
        for i, row in enumerate(rows)
    }
    embedded = []

    def embed(texts):
        embedded.extend(texts)
        return np.stack([vectors[t] for t in texts])

    encoder = FunctionTransformer(embed)
    as_text = {label: [f"{label} {i}" for i in range(2)] for label in prompts}
    aligner = LatentAligner("affine").fit(images[:200], text[:200])
    methods = {"aligned": (images[200:], aligner), "text": (text[200:], None)}
    tasks = {"animals": (truth[200:], as_text), "again": (truth[200:], as_text)}
    report = zero_shot_report(methods, tasks, text_encoder=encoder)
    expected = zero_shot_report(
        methods,
        {name: (truth[200:], prompts) for name in tasks},
    )
    pd.testing.assert_frame_equal(report, expected)
    assert sorted(embedded) == sorted(vectors)  # one call, each prompt once


def test_the_aligner_is_used_as_is_never_refitted(spaces):
    prompts, truth, text, images = spaces
    aligner = LatentAligner("affine").fit(images[:200], text[:200])
    coef = aligner.coef_.copy()
    zero_shot_report({"m": (images, aligner)}, {"t": (truth, prompts)})
    np.testing.assert_array_equal(aligner.coef_, coef)


# --- zero_shot_from_reports -------------------------------------------------------


@pytest.fixture
def files(spaces):
    """Two vision encoders with ids in different orders, reports of the first
    200 images, labels by id (missing for 'owl' in a second task)."""
    prompts, truth, text, images = spaces
    ids = np.array([f"img{i:03d}" for i in range(len(truth))])
    order = np.random.default_rng(1).permutation(len(truth))
    vision = {
        "a": EmbeddingFile(images, ids, None, None),
        "b": EmbeddingFile(
            images[order] @ np.diag(np.arange(1.0, 10.0)), ids[order], None, None
        ),
    }
    reports = EmbeddingFile(text[:200][::-1], ids[:200][::-1], None, None)
    labels = pd.DataFrame(
        {
            "id": ids,
            "animals": truth,
            "cat vs dog": np.where(truth == "owl", None, truth),
        }
    )
    task_prompts = {
        "animals": prompts,
        "cat vs dog": {k: prompts[k] for k in ("cat", "dog")},
    }
    return vision, reports, labels, task_prompts


def test_from_reports_fits_on_the_paired_images_and_tests_the_others(spaces, files):
    prompts, truth, text, images = spaces
    vision, reports, labels, task_prompts = files
    report = zero_shot_from_reports(
        vision, reports, labels, task_prompts, transforms=["affine"]
    )
    aligner = LatentAligner("affine").fit(images[:200], text[:200])
    cat_or_dog = np.where(truth == "owl", None, truth)[200:]
    expected = zero_shot_report(
        {"a (affine)": (images[200:], aligner)},
        {
            "animals": (truth[200:], prompts),
            "cat vs dog": (cat_or_dog, task_prompts["cat vs dog"]),
        },
        chance=False,
    )
    ours = report[report["method"] == "a (affine)"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, expected)
    # a per-feature rescaling of the same images is undone by std_scaling
    theirs = report[report["method"] == "b (affine)"]["mean"].to_numpy()
    np.testing.assert_allclose(theirs, expected["mean"].to_numpy())
    only = zero_shot_from_reports(
        vision, reports, labels, task_prompts, tasks=["cat vs dog"]
    )
    assert set(only["task"]) == {"cat vs dog"}


def test_from_reports_errors_name_the_parameter(files):
    vision, reports, labels, prompts = files
    with pytest.raises(ValueError, match="tasks= names tasks without prompts"):
        zero_shot_from_reports(vision, reports, labels, prompts, tasks=["x"])
    no_ids = EmbeddingFile(reports.embeddings, None, None, None)
    with pytest.raises(ValueError, match="reports= has no ids"):
        zero_shot_from_reports(vision, no_ids, labels, prompts)
    with pytest.raises(ValueError, match="labels= has no column for the tasks"):
        zero_shot_from_reports(vision, reports, labels[["id", "animals"]], prompts)
    with pytest.raises(ValueError, match="labels= needs an 'id' column"):
        zero_shot_from_reports(vision, reports, labels.drop(columns="id"), prompts)
    few = EmbeddingFile(reports.embeddings[:1], reports.ids[:1], None, None)
    with pytest.raises(ValueError, match="Only 1 images have a report"):
        zero_shot_from_reports(vision, few, labels, prompts)


def test_a_method_with_its_own_text_encoder(spaces):
    """A CLIP-style baseline brings its own text tower: its prompts are
    embedded by it, the other methods' by the shared encoder."""
    prompts, truth, text, images = spaces
    as_text = {label: [f"{label} {i}" for i in range(2)] for label in prompts}
    vectors = {
        f"{k} {i}": row for k, rows in prompts.items() for i, row in enumerate(rows)
    }
    shared = FunctionTransformer(lambda t: np.stack([vectors[x] for x in t]))
    # the baseline's "text tower" is the shared one composed with a rotation
    rotation = np.linalg.qr(np.random.default_rng(3).normal(size=(6, 6)))[0]
    own = FunctionTransformer(lambda t: np.stack([vectors[x] for x in t]) @ rotation)
    report = zero_shot_report(
        {"shared": (text, None), "own": (text @ rotation, None, own)},
        {"animals": (truth, as_text)},
        text_encoder=shared,
    )
    means = report.set_index(["method", "metric"])["mean"]
    for metric in ("roc_auc", "accuracy", "f1_macro"):
        assert means["own", metric] == pytest.approx(means["shared", metric])
    assert means["own", "roc_auc"] > 0.9


# --- Fig. 4 in one call -----------------------------------------------------------


def test_anchored_encoders_baselines_naive_and_chance_in_one_call(spaces):
    """Vision encoders aligned once on an anchor set, a multimodal baseline with
    its own prompt embeddings, the naive floor and chance, side by side."""
    prompts, truth, text, images = spaces
    other = images @ np.random.default_rng(4).normal(size=(9, 12))
    own = np.linalg.qr(np.random.default_rng(5).normal(size=(6, 6)))[0]
    report = zero_shot_report(
        {
            "vit": images[200:],
            "dino": (other[200:], None),
            "clip": (
                text[200:] @ own,
                None,
                {"animals": {c: p @ own for c, p in prompts.items()}},
            ),
        },
        {"animals": (truth[200:], prompts)},
        anchors={"vit": (images[:200], text[:200]), "dino": (other[:200], text[:200])},
        transforms={"ortho": "ortho", "ridge": LatentAligner("affine", alpha="auto")},
    )
    auroc = report[report["metric"] == "roc_auc"].set_index("method")["mean"]
    assert auroc.index.tolist() == [
        "vit (ortho)",
        "vit (ridge)",
        "vit (naive)",
        "dino (ortho)",
        "dino (ridge)",
        "dino (naive)",
        "clip",
        "chance",
    ]
    # the T fitted once on the anchors, by hand
    fitted = LatentAligner("ortho").fit(images[:200], text[:200])
    expected = zero_shot_report(
        {"vit (ortho)": (images[200:], fitted)},
        {"animals": (truth[200:], prompts)},
        chance=False,
    )
    assert auroc["vit (ortho)"] == pytest.approx(expected["mean"].iloc[0])
    for method in ("vit (ortho)", "vit (ridge)", "dino (ridge)", "clip"):
        assert auroc[method] > auroc["vit (naive)"]
    assert auroc["clip"] > 0.9


def test_prompt_pooling_rules_are_passed_to_the_classifier(spaces):
    prompts, truth, text, _ = spaces
    reports = {
        rule: zero_shot_report(
            {"text": (text, None)},
            {"animals": (truth, prompts)},
            prompt_pooling=rule,
            chance=False,
        )
        for rule in ("similarity", "embedding")
    }
    for rule, report in reports.items():
        clf = ZeroShotTextSpaceClassifier(prompts, prompt_pooling=rule).fit(text)
        seed = int(np.random.default_rng([0, 0]).integers(2**31))
        subset = balanced_subset(truth, None, random_state=seed)
        expected = classifier_scores(clf, text[subset], truth[subset])
        got = report.set_index("metric")["mean"]
        for metric, value in expected.items():
            assert got[metric] == pytest.approx(value)


def test_anchored_errors(spaces):
    prompts, truth, text, images = spaces
    task = {"animals": (truth[200:], prompts)}
    with pytest.raises(ValueError, match="anchors names methods that are not"):
        zero_shot_report({"a": images[200:]}, task, anchors={"b": (images, text)})
    with pytest.raises(ValueError, match="one report embedding per anchor"):
        zero_shot_report(
            {"a": images[200:]}, task, anchors={"a": (images[:200], text[:100])}
        )
    with pytest.raises(ValueError, match="takes its image embeddings only"):
        zero_shot_report(
            {"a": (images[200:], LatentAligner())},
            task,
            anchors={"a": (images[:200], text[:200])},
        )
    with pytest.raises(ValueError, match="own prompt embeddings have no task"):
        zero_shot_report({"c": (text[200:], None, {"other": prompts})}, task)
