"""Figures: what is drawn, from the real tables."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skalign.evaluation import (  # noqa: E402
    anchor_curve,
    plot_anchor_curve,
    plot_stitching_table,
    plot_zero_shot,
    stitching_table,
)

DECODER = LogisticRegression(max_iter=3000)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(n_class=3, return_X_y=True)
    return X, X @ np.random.default_rng(0).normal(size=(64, 20)), y


def test_anchor_curve_plot(digits, tmp_path):
    X, Y, y = digits
    curve = anchor_curve(
        X,
        Y,
        y,
        n_anchors=[10, 40, 120],
        transforms=["ortho", "affine"],
        n_repeats=2,
        decoder=DECODER,
    )
    ax = plot_anchor_curve(curve, metric="accuracy", title="pixels → projection")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "naive (no alignment)",
        "ortho",
        "affine",
        "upper bound (target encoder)",
    ]
    ortho = ax.get_lines()[1]
    np.testing.assert_array_equal(ortho.get_xdata(), [10, 40, 120])
    expected = curve[(curve["transform"] == "ortho") & (curve["metric"] == "accuracy")][
        "mean"
    ]
    np.testing.assert_allclose(ortho.get_ydata(), expected)
    bound = curve[
        (curve["transform"] == "target_upper_bound") & (curve["metric"] == "accuracy")
    ]
    assert ax.get_lines()[-1].get_ydata()[0] == pytest.approx(bound["mean"].iloc[0])
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "Accuracy"
    ax.figure.savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 10_000


def test_table_and_zero_shot_bars(digits):
    X, Y, y = digits
    table = stitching_table(
        {"a": X, "b": Y}, y, transforms=["ortho"], n_repeats=1, decoder=DECODER
    )
    ax = plot_stitching_table(table)
    # 2 group pairs x (source bound, naive, ortho, target bound)
    assert len(ax.patches) == 8
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a → b", "b → a"]
    # error bars: one per bar (the std over pairs and repeats)
    from matplotlib.container import ErrorbarContainer

    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 4
    heights = sorted(p.get_height() for p in ax.patches)
    np.testing.assert_allclose(
        heights,
        sorted(
            table[["source_upper_bound", "naive", "ortho", "target_upper_bound"]]
            .to_numpy()
            .ravel()
            .astype(float)
        ),
    )


def test_metric_errors(digits):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "metric": ["roc_auc"],
            "method": ["m"],
            "task": ["t"],
            "mean": [0.7],
            "std": [0.0],
        }
    )
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_zero_shot(frame, metric="auc")
    with pytest.raises(ValueError, match="no 'accuracy' rows"):
        plot_zero_shot(frame, metric="accuracy")


def test_zero_shot_chance_rows_are_a_line_per_task_not_a_bar():
    import pandas as pd

    report = pd.DataFrame(
        {
            "method": ["ours", "clip", "chance", "ours", "clip", "chance"],
            "task": ["digits"] * 3 + ["topics"] * 3,
            "metric": "accuracy",
            "mean": [0.6, 0.4, 0.1, 0.7, 0.5, 0.2],
            "std": [0.02, 0.03, 0.0, 0.01, 0.02, 0.0],
            "n_runs": 3,
            "n_test": 50,
        }
    )
    ax = plot_zero_shot(report, metric="accuracy")
    assert len(ax.patches) == 4  # two methods x two tasks, no chance bar
    (chance,) = [c for c in ax.collections if c.get_label() == "chance"]
    segments = chance.get_segments()
    assert [s[0][1] for s in segments] == [0.1, 0.2]
    assert ax.get_ylim()[0] <= 0.1


# --- readable figures: ticks, baseline, legend, chance -------------------------------


def _domain_runs(pairs):
    """Runs of a pooled table: (modality, source domain, target domain) groups."""
    import pandas as pd

    rows = []
    for i, (modality, source, target) in enumerate(pairs):
        for method, score in (
            ("source_upper_bound", 0.75),
            ("naive", 0.5),
            ("ortho", 0.7 + 0.01 * i),
            ("target_upper_bound", 0.8),
        ):
            rows.append((modality, f"s{i}", f"t{i}", source, target, method, score))
    return pd.DataFrame(
        rows,
        columns=[
            "modality",
            "source",
            "target",
            "source_domain",
            "target_domain",
            "transform",
            "roc_auc",
        ],
    ).assign(task="t")


def _overlapping_ticks(ax):
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]


@pytest.mark.parametrize("n_domains", [2, 3])
def test_table_ticks_never_overlap_and_bars_start_at_zero(n_domains):
    """The paper's table (text and vision, every domain pair) and a larger one,
    drawn at the report's size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from skalign.evaluation._outputs import FIGURE_SIZE
    from skalign.evaluation._pooled import _domain_table

    domains = ["general", "medical", "veterinary"][:n_domains]
    pairs = [(m, s, t) for m in ("text", "image") for s in domains for t in domains]
    table = _domain_table(
        _domain_runs(pairs), "roc_auc", ["ortho"], "ortho", by_modality=True
    )
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained", dpi=150)
    FigureCanvasAgg(figure)
    ax = plot_stitching_table(table, ax=figure.subplots(), title="Table 1")
    figure.canvas.draw()
    assert len(ax.get_xticklabels()) == len(pairs)
    assert _overlapping_ticks(ax) == []
    assert ax.get_ylim()[0] == 0.0
    (chance,) = [line for line in ax.get_lines() if line.get_label() == "chance (0.5)"]
    assert chance.get_ydata()[0] == 0.5


def _zero_shot_report(with_chance):
    import pandas as pd

    methods = ["vit (ortho)", "vit (naive)", "dino (ortho)", "dino (naive)", "clip"]
    methods += ["chance"] if with_chance else []
    return pd.DataFrame(
        {
            "method": methods * 2,
            "task": ["effusion"] * len(methods) + ["pneumonia"] * len(methods),
            "metric": "roc_auc",
            "mean": np.linspace(0.45, 0.9, 2 * len(methods)),
            "std": 0.01,
            "n_runs": 3,
            "n_test": 100,
        }
    )


def test_zero_shot_naive_bars_of_two_encoders_look_different():
    from matplotlib.colors import to_rgba

    ax = plot_zero_shot(_zero_shot_report(with_chance=True))
    handles, labels = ax.get_legend_handles_labels()
    styles = {
        label: (to_rgba(bars[0].get_facecolor()), bars[0].get_hatch())
        for bars, label in zip(handles, labels, strict=True)
        if label != "chance"
    }
    assert len(styles) == 5 and len(set(styles.values())) == 5
    assert styles["vit (naive)"] != styles["dino (naive)"]
    # an encoder's naive floor is striped, in a light tint of its own colour
    assert styles["vit (naive)"][1] == "//" and styles["dino (naive)"][1] == "//"
    assert styles["vit (naive)"][0][:3] == styles["vit (ortho)"][0][:3]
    assert styles["dino (naive)"][0][:3] == styles["dino (ortho)"][0][:3]
    assert ax.get_ylim()[0] == 0.0


def test_zero_shot_without_chance_rows_draws_a_labelled_chance_line():
    """The demo's report has no chance rows: AUROC's 0.5 is a labelled line."""
    ax = plot_zero_shot(_zero_shot_report(with_chance=False))
    (chance,) = [line for line in ax.get_lines() if line.get_label() == "chance (0.5)"]
    assert chance.get_ydata()[0] == 0.5
    assert "chance (0.5)" in [t.get_text() for t in ax.get_legend().get_texts()]
