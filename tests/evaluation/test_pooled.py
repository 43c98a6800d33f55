"""pooled_anchor_curve and pooled_stitching_table against the single-pair runs, and
any aligner estimator on the curve."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from skalign import LatentAligner
from skalign.evaluation import (
    anchor_curve,
    plot_stitching_table,
    pooled_anchor_curve,
    pooled_stitching_table,
)

DECODER = LogisticRegression(max_iter=5000)
OPTIONS = dict(n_repeats=2, decoder=DECODER, n_test_per_class=20)


@pytest.fixture(scope="module")
def tasks():
    """Two tasks (digit classes 0-3 and 4-7), three encoders each: pixels, a
    rotation, a nonlinear view; and a text-like modality of two encoders."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    rotation = np.linalg.qr(rng.normal(size=(64, 64)))[0]
    weights = rng.normal(size=(64, 40))

    def encoders(rows):
        Xr = X[rows]
        return {
            "pixels": Xr,
            "rotated": Xr @ rotation,
            "tanh": np.tanh((Xr - 8) @ weights / 40),
        }

    low, high = np.flatnonzero(y < 4), np.flatnonzero((y >= 4) & (y < 8))
    return {
        "low digits": (encoders(low), y[low]),
        "high digits": (encoders(high), y[high]),
    }


def test_pooled_curve_pools_every_pair_task_and_repeat(tasks):
    curve, runs = pooled_anchor_curve(
        tasks,
        n_anchors=[20, 80],
        transforms=["ortho", "affine"],
        return_runs=True,
        **OPTIONS,
    )
    assert set(curve["modality"]) == {"all"}
    ortho = curve[(curve["transform"] == "ortho") & (curve["metric"] == "roc_auc")]
    # 2 tasks x 6 ordered pairs x 2 repeats
    assert ortho["n_runs"].tolist() == [24, 24]
    assert ortho["n_pairs"].tolist() == [12, 12]
    # the pooled mean and std are those of the single runs, over pairs and tasks
    cells = runs[(runs["transform"] == "ortho") & (runs["n_anchors"] == 80)]
    row = ortho[ortho["n_anchors"] == 80].iloc[0]
    assert row["mean"] == pytest.approx(cells["roc_auc"].mean())
    assert row["std"] == pytest.approx(cells["roc_auc"].std(ddof=0))
    # the single-pair curve is one slice of the pooled runs
    embeddings, y = tasks["low digits"]
    single = anchor_curve(
        embeddings["pixels"],
        embeddings["tanh"],
        y,
        n_anchors=[20, 80],
        transforms=["ortho", "affine"],
        **OPTIONS,
    )
    pair = cells[(cells["task"] == "low digits") & (cells["source"] == "pixels")]
    pair = pair[pair["target"] == "tanh"]
    expected = single[
        (single["transform"] == "ortho")
        & (single["n_anchors"] == 80)
        & (single["metric"] == "roc_auc")
    ]["mean"].iloc[0]
    assert pair["roc_auc"].mean() == pytest.approx(expected)
    auroc = curve[curve["metric"] == "roc_auc"].set_index(["transform", "n_anchors"])
    assert auroc.loc[("ortho", 80), "mean"] > auroc.loc[("naive", 80), "mean"]


def test_pooled_curve_per_modality(tasks):
    embeddings, y = tasks["low digits"]
    text_like = {"a": embeddings["pixels"][:, :40], "b": embeddings["tanh"][:, :30]}
    curve = pooled_anchor_curve(
        {"images": tasks["low digits"], "texts": (text_like, y)},
        modalities={
            "pixels": "image",
            "rotated": "image",
            "tanh": "image",
            "a": "text",
            "b": "text",
        },
        n_anchors=[30],
        transforms=["ortho"],
        **OPTIONS,
    )
    pairs = curve[curve["transform"] == "ortho"].groupby("modality")["n_pairs"].max()
    assert pairs.to_dict() == {"image": 6, "text": 2}
    bounds = curve[curve["transform"] == "target_upper_bound"]
    assert set(bounds["modality"]) == {"image", "text"}
    with pytest.raises(ValueError, match="mixes encoders of the modalities"):
        pooled_anchor_curve(
            {"t": ({"a": text_like["a"], "pixels": embeddings["pixels"]}, y)},
            modalities={"a": "text", "pixels": "image"},
            n_anchors=[30],
            **OPTIONS,
        )


def test_pooled_table_groups_by_domain_with_std_and_a_fixed_change(tasks):
    domains = {"pixels": "general", "rotated": "general", "tanh": "medical"}
    table, pairs = pooled_stitching_table(
        tasks,
        domains,
        n_anchors=100,
        transforms=["ortho", "linear"],
        return_pairs=True,
        **OPTIONS,
    )
    assert table.index.tolist() == [
        ("general", "general"),
        ("general", "medical"),
        ("medical", "general"),
    ]
    # general -> general: (pixels, rotated) both ways, in two tasks
    assert table["n_pairs"].tolist() == [4, 4, 4]
    assert table["n_tasks"].tolist() == [2, 2, 2]
    row = table.loc[("general", "medical")]
    # the paper's % change: against the source upper bound (SUB)
    assert row["change_pct"] == pytest.approx(
        100 * (row["ortho"] - row["source_upper_bound"]) / row["source_upper_bound"]
    )
    # a rotation is recovered: stitching general -> general loses nothing
    assert table.loc[("general", "general"), "ortho"] == pytest.approx(
        table.loc[("general", "general"), "target_upper_bound"], abs=0.01
    )
    # mean ± std pool the pairs' runs: recompute from the per-pair summary
    auroc = pairs[(pairs["metric"] == "roc_auc") & (pairs["transform"] == "ortho")]
    group = auroc[
        (auroc["source_domain"] == "general") & (auroc["target_domain"] == "medical")
    ]
    assert row["ortho"] == pytest.approx(group["mean"].mean())
    pooled_var = (group["std"] ** 2 + group["mean"] ** 2).mean() - row["ortho"] ** 2
    assert row["ortho_std"] == pytest.approx(np.sqrt(pooled_var))
    ax = plot_stitching_table(table)
    assert [t.get_text() for t in ax.get_xticklabels()][1] == "general\n→ medical"
    with pytest.raises(ValueError, match="change_transform='affine' is not one"):
        pooled_stitching_table(
            tasks,
            domains,
            transforms=["ortho"],
            change_transform="affine",
            **OPTIONS,
        )
    with pytest.raises(ValueError, match="domains gives no domain for \\['tanh'\\]"):
        pooled_stitching_table(
            tasks, {"pixels": "general", "rotated": "general"}, **OPTIONS
        )


class _RidgeAligner(Ridge):
    """A user's own aligner: ridge regression with a transform method."""

    def transform(self, X):
        return self.predict(X)


def test_any_aligner_estimator_is_on_the_curve(tasks):
    embeddings, y = tasks["low digits"]
    curve = anchor_curve(
        embeddings["pixels"],
        embeddings["tanh"],
        y,
        n_anchors=[60],
        transforms={
            "ortho": "ortho",
            "affine ridge": LatentAligner("affine", alpha="auto"),
            "pca + ortho": make_pipeline(PCA(20), LatentAligner("ortho")),
            "my ridge": _RidgeAligner(alpha=10.0),
        },
        **OPTIONS,
    )
    auroc = curve[curve["metric"] == "roc_auc"].set_index("transform")["mean"]
    assert list(auroc.index) == [
        "naive",
        "ortho",
        "affine ridge",
        "pca + ortho",
        "my ridge",
        "target_upper_bound",
    ]
    for method in ("affine ridge", "pca + ortho", "my ridge"):
        assert auroc[method] > auroc["naive"] + 0.1
    with pytest.raises(TypeError, match="transforms\\['bad'\\] is a float"):
        anchor_curve(
            embeddings["pixels"], embeddings["tanh"], y, transforms={"bad": 1.0}
        )
    with pytest.raises(ValueError, match="reserved names \\['naive'\\]"):
        anchor_curve(
            embeddings["pixels"],
            embeddings["tanh"],
            y,
            transforms={"naive": LatentAligner()},
        )


def test_estimators_are_cached_by_their_parameters(tasks, tmp_path):
    embeddings, y = tasks["low digits"]
    options = dict(n_anchors=[40], cache_dir=tmp_path, return_runs=True, **OPTIONS)
    source, target = embeddings["pixels"], embeddings["tanh"]
    _, first = anchor_curve(
        source, target, y, transforms={"r": _RidgeAligner(alpha=1.0)}, **options
    )
    _, again = anchor_curve(
        source, target, y, transforms={"r": _RidgeAligner(alpha=1.0)}, **options
    )
    _, other = anchor_curve(
        source, target, y, transforms={"r": _RidgeAligner(alpha=50.0)}, **options
    )
    assert not first["cached"].any() and again["cached"].all()
    changed = other[other["transform"] == "r"]
    assert not changed["cached"].any()
    pd.testing.assert_frame_equal(
        first.drop(columns="cached"), again.drop(columns="cached")
    )
