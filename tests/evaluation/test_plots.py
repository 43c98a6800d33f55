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
