"""anchor_curve, stitching_report, stitching_table: against hand computations,
known answers, the cache and parallel runs."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

from skalign import LatentAligner
from skalign.evaluation import (
    anchor_curve,
    balanced_subset,
    protocol_split,
    stitching_report,
    stitching_table,
)
from skalign.evaluation._scoring import classifier_scores
from skalign.evaluation._stitching import anchor_draw

TRANSFORMS = ["affine", "linear", "l-ortho", "ortho"]
DECODER = LogisticRegression(max_iter=5000)


@pytest.fixture(scope="module")
def digits():
    """Real digits: pixels (source) and a nonlinear 40-d view of them (target)."""
    X, y = load_digits(n_class=5, return_X_y=True)
    rng = np.random.default_rng(0)
    Y = np.tanh((X - X.mean(0)) / (X.std(0) + 1) @ rng.normal(size=(64, 40)) / 4)
    return X, Y, y


def _auroc(curve, transform, n_anchors=None):
    rows = curve[(curve["metric"] == "roc_auc") & (curve["transform"] == transform)]
    if n_anchors is not None:
        rows = rows[rows["n_anchors"] == n_anchors]
    (value,) = rows["mean"]
    return value


# --- anchor_curve ---------------------------------------------------------------


def test_curve_has_every_cell_and_the_references(digits):
    X, Y, y = digits
    curve, runs = anchor_curve(
        X, Y, y, n_anchors=[20, 80], n_repeats=2, decoder=DECODER, return_runs=True
    )
    assert list(curve.columns) == [
        "transform",
        "n_anchors",
        "metric",
        "mean",
        "std",
        "n_runs",
    ]
    # (naive + 4 transforms) x 2 counts + the upper bound, for 3 metrics
    assert len(curve) == (5 * 2 + 1) * 3
    assert curve["transform"].drop_duplicates().tolist() == [
        "naive",
        *TRANSFORMS,
        "target_upper_bound",
    ]
    bound = curve[curve["transform"] == "target_upper_bound"]
    assert bound["n_anchors"].isna().all() and (bound["n_runs"] == 1).all()
    assert (curve[curve["transform"] != "target_upper_bound"]["n_runs"] == 2).all()
    assert len(runs) == 1 + 5 * 2 * 2
    assert not runs["cached"].any()
    assert curve[["mean", "std"]].notna().all().all()


def test_one_cell_matches_a_hand_computation(digits):
    """Split, balanced test subset, decoder, anchor draw, aligner, AUROC by hand."""
    X, Y, y = digits
    _, runs = anchor_curve(
        X,
        Y,
        y,
        n_anchors=[60],
        transforms=["ortho"],
        n_repeats=2,
        decoder=DECODER,
        random_state=7,
        return_runs=True,
    )
    split = protocol_split(y, random_state=7)
    test = np.flatnonzero(split == "test")
    test = test[balanced_subset(y[test], random_state=7)]
    train = np.flatnonzero(split == "train")
    decoder = clone(DECODER).fit(Y[train], y[train])
    anchors = anchor_draw(np.flatnonzero(split == "anchor"), 60, 1, 7)
    aligned = LatentAligner("ortho").fit(X[anchors], Y[anchors]).transform(X[test])
    scores = decoder.decision_function(aligned)
    one_vs_rest = [
        roc_auc_score(y[test] == label, scores[:, column])
        for column, label in enumerate(decoder.classes_)
    ]
    row = runs[(runs["transform"] == "ortho") & (runs["seed"] == 1)].iloc[0]
    assert row["roc_auc"] == pytest.approx(np.mean(one_vs_rest))
    predicted = decoder.predict(aligned)
    assert row["accuracy"] == pytest.approx(accuracy_score(y[test], predicted))
    assert row["f1_macro"] == pytest.approx(
        f1_score(y[test], predicted, average="macro")
    )
    upper = runs[runs["transform"] == "target_upper_bound"].iloc[0]
    assert upper["accuracy"] == pytest.approx(decoder.score(Y[test], y[test]))


def test_isometric_target_is_stitched_exactly(digits):
    """Target = rotated source: ortho recovers it, so stitching hits the upper bound."""
    X, _, y = digits
    Y = X @ ortho_group.rvs(64, random_state=0)
    curve = anchor_curve(
        X,
        Y,
        y,
        n_anchors=[200],
        transforms=["ortho"],
        n_repeats=1,
        decoder=DECODER,
        aligner=LatentAligner(center=False, std_scaling=False),
    )
    assert _auroc(curve, "ortho") == pytest.approx(_auroc(curve, "target_upper_bound"))
    assert _auroc(curve, "naive") < _auroc(curve, "ortho") - 0.2


def test_naive_is_the_upper_bound_when_both_encoders_agree(digits):
    X, _, y = digits
    curve = anchor_curve(X, X, y, n_anchors=[200], transforms=["affine"], n_repeats=1)
    assert _auroc(curve, "naive") == pytest.approx(_auroc(curve, "target_upper_bound"))


def test_curve_shows_what_alignment_adds(digits):
    X, Y, y = digits
    curve = anchor_curve(X, Y, y, n_anchors=[15, 200], decoder=DECODER)
    for transform in TRANSFORMS:
        assert _auroc(curve, transform, 15) > _auroc(curve, "naive", 15) + 0.2
        assert _auroc(curve, transform, 200) > _auroc(curve, transform, 15)


def test_draws_are_nested_and_seeded():
    pool = np.arange(100, 200)
    small, large = anchor_draw(pool, 10, 0, 3), anchor_draw(pool, 40, 0, 3)
    np.testing.assert_array_equal(small, large[:10])
    assert set(large) <= set(pool.tolist())
    assert not np.array_equal(small, anchor_draw(pool, 10, 1, 3))


def test_custom_split_is_used(digits):
    X, Y, y = digits
    split = np.full(y.shape, "unused", dtype=object)
    split[:300], split[300:420], split[420:700] = "train", "anchor", "test"
    _, runs = anchor_curve(
        X,
        Y,
        y,
        n_anchors=[120],
        transforms=["ortho"],
        n_repeats=2,
        split=split,
        decoder=DECODER,
        return_runs=True,
    )
    # the pool holds exactly 120 anchors: every repeat draws all of them
    ortho = runs[runs["transform"] == "ortho"]
    assert ortho["roc_auc"].nunique() == 1
    with pytest.raises(ValueError, match="at most 120"):
        anchor_curve(X, Y, y, n_anchors=[121], split=split)


def test_default_anchor_counts_span_the_pool(digits):
    X, Y, y = digits
    curve = anchor_curve(
        X, Y, y, transforms=["ortho"], n_repeats=1, anchor_size=200, decoder=DECODER
    )
    counts = curve["n_anchors"].dropna().unique().tolist()
    assert counts[0] == 10 and counts[-1] == 200 and len(counts) == 6


def test_binary_auroc_and_a_probability_only_decoder(digits):
    X, Y, y = digits
    binary = y < 2
    curve = anchor_curve(
        X[binary],
        Y[binary],
        y[binary],
        n_anchors=[50],
        transforms=["ortho"],
        n_repeats=1,
        decoder=GaussianNB(),
    )
    assert 0.5 < _auroc(curve, "ortho") <= 1.0


def test_classifier_scores_reference_multiclass_auroc(digits):
    X, _, y = digits
    model = GaussianNB().fit(X[::2], y[::2])
    scores = classifier_scores(model, X[1::2], y[1::2])
    assert scores["roc_auc"] == pytest.approx(
        roc_auc_score(y[1::2], model.predict_proba(X[1::2]), multi_class="ovr")
    )


def test_svc_is_the_default_decoder(digits):
    X, Y, y = digits
    _, runs = anchor_curve(
        X, Y, y, n_anchors=[50], transforms=["ortho"], n_repeats=1, return_runs=True
    )
    split = protocol_split(y, random_state=0)
    train, test = split == "train", split == "test"
    svc = SVC(kernel="linear").fit(Y[train], y[train])
    rows = np.flatnonzero(test)[balanced_subset(y[test], random_state=0)]
    upper = runs[runs["transform"] == "target_upper_bound"].iloc[0]
    assert upper["accuracy"] == pytest.approx(svc.score(Y[rows], y[rows]))


# --- cache and parallelism ----------------------------------------------------------


def test_resumed_run_recomputes_nothing_and_extends_cheaply(digits, tmp_path):
    X, Y, y = digits
    options = dict(transforms=["ortho", "affine"], n_repeats=2, decoder=DECODER)
    first, runs = anchor_curve(
        X, Y, y, n_anchors=[20, 40], cache_dir=tmp_path, return_runs=True, **options
    )
    assert not runs["cached"].any()
    again, runs = anchor_curve(
        X, Y, y, n_anchors=[20, 40], cache_dir=tmp_path, return_runs=True, **options
    )
    assert runs["cached"].all()
    pd.testing.assert_frame_equal(first, again)
    # one more count: only its (naive, ortho, affine) x 2 repeats are computed
    _, runs = anchor_curve(
        X, Y, y, n_anchors=[20, 40, 80], cache_dir=tmp_path, return_runs=True, **options
    )
    assert (~runs["cached"]).sum() == 3 * 2
    assert set(runs.loc[~runs["cached"], "n_anchors"]) == {80}
    # other labels: nothing may be reused
    _, runs = anchor_curve(
        X,
        Y,
        (y + 1) % 5,
        n_anchors=[20],
        cache_dir=tmp_path,
        return_runs=True,
        **options,
    )
    assert not runs["cached"].any()


def test_interrupted_run_resumes_from_the_finished_cells(digits, tmp_path, monkeypatch):
    import skalign.evaluation._stitching as stitching

    X, Y, y = digits
    options = dict(
        n_anchors=[20, 40], transforms=["ortho"], n_repeats=2, decoder=DECODER
    )
    calls = {"n": 0}
    score = stitching._score_stitched

    def failing_after_three(*args):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return score(*args)

    monkeypatch.setattr(stitching, "_score_stitched", failing_after_three)
    with pytest.raises(KeyboardInterrupt):
        anchor_curve(X, Y, y, cache_dir=tmp_path, **options)
    monkeypatch.setattr(stitching, "_score_stitched", score)
    _, runs = anchor_curve(X, Y, y, cache_dir=tmp_path, return_runs=True, **options)
    stitched = runs[runs["transform"] != "target_upper_bound"]
    assert stitched["cached"].sum() == 3
    assert runs["cached"].iloc[0]  # the decoder was stored before the interruption


def test_parallel_run_gives_the_same_table(digits):
    X, Y, y = digits
    options = dict(n_anchors=[20, 60], transforms=["ortho", "l-ortho"], n_repeats=2)
    sequential = anchor_curve(X, Y, y, decoder=DECODER, **options)
    parallel = anchor_curve(X, Y, y, decoder=DECODER, n_jobs=2, **options)
    pd.testing.assert_frame_equal(sequential, parallel)


# --- stitching_report and stitching_table -------------------------------------------


def test_report_rows_and_source_upper_bound(digits):
    X, Y, y = digits
    report = stitching_report(X, Y, y, n_anchors=100, n_repeats=2, decoder=DECODER)
    assert report.index.tolist() == [
        "source_upper_bound",
        "naive",
        *TRANSFORMS,
        "target_upper_bound",
    ]
    assert report.columns.tolist() == [
        "roc_auc",
        "roc_auc_std",
        "accuracy",
        "accuracy_std",
        "f1_macro",
        "f1_macro_std",
    ]
    split = protocol_split(y, random_state=0)
    test = np.flatnonzero(split == "test")
    test = test[balanced_subset(y[test], random_state=0)]
    own = clone(DECODER).fit(X[split == "train"], y[split == "train"])
    assert report.loc["source_upper_bound", "accuracy"] == pytest.approx(
        own.score(X[test], y[test])
    )


def test_table_groups_pairs_and_reports_the_change(digits):
    X, Y, y = digits
    rng = np.random.default_rng(1)
    embeddings = {"pixels": X, "tanh": Y, "projection": X @ rng.normal(size=(64, 30))}
    groups = {"pixels": "general", "tanh": "medical", "projection": "medical"}
    table, pairs = stitching_table(
        embeddings,
        y,
        groups=groups,
        n_anchors=150,
        transforms=["ortho", "affine"],
        n_repeats=2,
        decoder=DECODER,
        return_pairs=True,
    )
    assert table.index.tolist() == [
        ("general", "medical"),
        ("medical", "general"),
        ("medical", "medical"),
    ]
    assert table["n_pairs"].tolist() == [2, 2, 2]
    assert set(zip(pairs["source"], pairs["target"], strict=True)) == {
        (s, t) for s in embeddings for t in embeddings if s != t
    }
    auroc = pairs[pairs["metric"] == "roc_auc"].set_index(
        ["source", "target", "transform"]
    )["mean"]
    general_to_medical = [("pixels", "tanh"), ("pixels", "projection")]
    for method in ("naive", "ortho", "source_upper_bound", "target_upper_bound"):
        expected = np.mean([auroc[(s, t, method)] for s, t in general_to_medical])
        assert table.loc[("general", "medical"), method] == pytest.approx(expected)
    row = table.loc[("medical", "general")]
    # the change is the fixed change_transform's (ortho), never the best on test
    assert row["change_pct"] == pytest.approx(
        100 * (row["ortho"] - row["source_upper_bound"]) / row["source_upper_bound"]
    )
    other = stitching_table(
        embeddings,
        y,
        groups=groups,
        n_anchors=150,
        transforms=["ortho", "affine"],
        change_transform="affine",
        n_repeats=2,
        decoder=DECODER,
    ).loc[("medical", "general")]
    assert other["change_pct"] == pytest.approx(
        100 * (row["affine"] - row["source_upper_bound"]) / row["source_upper_bound"]
    )
    # the source upper bound of a pair is the target upper bound of the reverse pair
    assert auroc[("tanh", "pixels", "source_upper_bound")] == pytest.approx(
        auroc[("pixels", "tanh", "target_upper_bound")]
    )


def test_table_without_groups_uses_encoder_names(digits):
    X, Y, y = digits
    table = stitching_table(
        {"a": X, "b": Y}, y, transforms=["ortho"], n_repeats=1, decoder=DECODER
    )
    assert table.index.tolist() == [("a", "b"), ("b", "a")]


# --- errors ---------------------------------------------------------------------------


def test_errors_name_the_problem_and_the_fix(digits):
    X, Y, y = digits
    with pytest.raises(ValueError, match="the anchor pool holds only 226 samples"):
        anchor_curve(X, Y, y, n_anchors=[50, 1000])
    with pytest.raises(ValueError, match="at least 2"):
        anchor_curve(X, Y, y, n_anchors=[1, 5])
    with pytest.raises(ValueError, match="'target' have 100 rows but y has 901"):
        anchor_curve(X, Y[:100], y)
    with pytest.raises(ValueError, match="Unknown transforms \\['procrustes'\\]"):
        anchor_curve(X, Y, y, transforms=["procrustes"])
    with pytest.raises(ValueError, match="split has no 'anchor' rows"):
        anchor_curve(X, Y, y, split=np.where(np.arange(y.size) % 2, "train", "test"))
    with pytest.raises(ValueError, match="no group for \\['b'\\]"):
        stitching_table({"a": X, "b": Y}, y, groups={"a": "general"})
    with pytest.raises(ValueError, match="at least two encoders"):
        stitching_table({"a": X}, y)
    with pytest.raises(
        ValueError, match="n_test_per_class=500 test rows.*only 44 of class"
    ):
        anchor_curve(X, Y, y, n_test_per_class=500)


def test_anchors_from_train_draws_anchors_among_the_decoders_rows():
    from skalign.evaluation._stitching import resolve_split

    y = np.repeat([0, 1, 2], 20)
    kwargs = dict(anchor_size=0.25, test_size=0.25, n_test_per_class=None)
    held_apart = resolve_split(y, None, random_state=0, **kwargs)
    paper = resolve_split(y, None, random_state=0, anchors_from="train", **kwargs)
    # the paper's option: anchors are drawn from the rows the decoder learns
    # from, which now include the former anchor part; the test rows are kept
    np.testing.assert_array_equal(paper.anchor_pool, paper.train)
    np.testing.assert_array_equal(
        paper.train, np.union1d(held_apart.train, held_apart.anchor_pool)
    )
    np.testing.assert_array_equal(paper.test, held_apart.test)
    assert np.intersect1d(held_apart.train, held_apart.anchor_pool).size == 0


def test_anchors_from_reaches_the_curve_and_the_configuration():
    from sklearn.datasets import load_digits

    from skalign.evaluation import ExperimentConfig, anchor_curve

    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    source, target = X[:, :32] + 0.1, X[:, 32:] + 0.1
    curves = {
        where: anchor_curve(
            source,
            target,
            y,
            n_anchors=[40],
            transforms=["ortho"],
            n_repeats=1,
            decoder="logistic",
            anchors_from=where,
        )  # fmt: skip
        for where in ("pool", "train")
    }
    scores = {
        where: curve.query("transform == 'ortho' and metric == 'roc_auc'")[
            "mean"
        ].to_numpy()
        for where, curve in curves.items()
    }
    assert not np.allclose(scores["pool"], scores["train"])
    with pytest.raises(ValueError, match="anchors_from"):
        anchor_curve(source, target, y, n_anchors=[40], anchors_from="test")
    config = {
        "protocol": {"anchors_from": "train"},
        "datasets": {"d": {"source": "skalign:docstring-topics"}},
        "encoders": {
            "a": {"modality": "text", "domain": "general", "extractor": "x"},
            "b": {"modality": "text", "domain": "general", "extractor": "y"},
        },
        "stitching": {"t": {"dataset": "d"}},
    }
    assert ExperimentConfig.read(config).protocol.anchors_from == "train"
    config["protocol"]["anchors_from"] = "training"
    with pytest.raises(ValueError, match="anchors_from"):
        ExperimentConfig.read(config)
