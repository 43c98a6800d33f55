"""Figures of the evaluation tables: anchor curve, stitching table, zero-shot bars."""

from itertools import cycle

import numpy as np

from .._optional import import_optional
from ._scoring import METRIC_LABELS, METRICS
from ._stitching import NAIVE, SOURCE_UPPER_BOUND, TARGET_UPPER_BOUND

CHANCE = "chance"

# The references are grey (light: the floor, dark: the ceiling), the transforms
# take the colour cycle.
_REFERENCE_COLORS = {
    SOURCE_UPPER_BOUND: "0.55",
    NAIVE: "0.8",
    TARGET_UPPER_BOUND: "0.2",
}
# Columns of a stitching table that are not a method's score.
_TABLE_EXTRAS = ("best_transform", "change_pct", "n_pairs", "n_tasks")
_METHOD_LABELS = {
    NAIVE: "naive (no alignment)",
    SOURCE_UPPER_BOUND: "source upper bound",
    TARGET_UPPER_BOUND: "upper bound (target encoder)",
}


def plot_anchor_curve(curve, *, metric="roc_auc", ax=None, title=None):
    """Draw a stitching curve: score against the number of anchors (Fig. 3).

    One line per transform with a band of ± one standard deviation over
    repeats, the naive floor dashed, the upper bound as a horizontal line.
    The anchor axis is logarithmic when the counts span a factor of ten or
    more.

    Parameters
    ----------
    curve : pandas.DataFrame
        The output of :func:`anchor_curve`.
    metric : {"roc_auc", "accuracy", "f1_macro"}, default="roc_auc"
    ax : matplotlib Axes or None, default=None
        Axes to draw on; None creates a figure.
    title : str or None, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skalign.evaluation import plot_anchor_curve
    >>> curve = pd.DataFrame({
    ...     "transform": ["naive", "naive", "ortho", "ortho", "target_upper_bound"],
    ...     "n_anchors": pd.array([10, 100, 10, 100, None], dtype="Int64"),
    ...     "metric": "roc_auc", "mean": [0.5, 0.52, 0.7, 0.9, 0.95],
    ...     "std": [0.01, 0.01, 0.05, 0.01, 0.0], "n_runs": [3, 3, 3, 3, 1]})
    >>> ax = plot_anchor_curve(curve)
    >>> [line.get_label() for line in ax.get_lines()]
    ['naive (no alignment)', 'ortho', 'upper bound (target encoder)']
    """
    rows = _metric_rows(curve, metric)
    ax = _axes(ax)
    curves = rows[rows["transform"] != TARGET_UPPER_BOUND]
    aligned = (t for t in dict.fromkeys(curves["transform"]) if t != NAIVE)
    # Markers shrink line after line so that curves lying on top of each
    # other (affine and linear coincide on centred anchors) stay visible.
    styles = {
        NAIVE: dict(color="0.45", linestyle="--", marker="x"),
        **{
            transform: dict(marker=marker, markersize=size)
            for transform, marker, size in zip(
                aligned, cycle("osD^v<>p"), cycle(range(9, 1, -1)), strict=False
            )
        },
    }
    for transform, line in curves.groupby("transform", sort=False):
        x = line["n_anchors"].to_numpy(dtype=float)
        mean, std = line["mean"].to_numpy(), line["std"].to_numpy()
        drawn = ax.plot(
            x, mean, label=_METHOD_LABELS.get(transform, transform), **styles[transform]
        )
        ax.fill_between(
            x, mean - std, mean + std, color=drawn[0].get_color(), alpha=0.15
        )
    bound = rows[rows["transform"] == TARGET_UPPER_BOUND]["mean"]
    if len(bound):
        ax.axhline(
            bound.iloc[0],
            color="black",
            linestyle=":",
            label=_METHOD_LABELS[TARGET_UPPER_BOUND],
        )
    counts = np.unique(curves["n_anchors"].dropna().to_numpy(dtype=int))
    if counts.size and counts.max() >= 10 * counts.min():
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(counts, [str(count) for count in counts])
    ax.set_xlabel("number of anchors")
    ax.set_ylabel(METRIC_LABELS[metric])
    _legend_outside(ax)
    ax.grid(alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_stitching_table(table, *, metric="roc_auc", ax=None, title=None, ylabel=None):
    """Bar chart of a stitching table: one cluster per (source → target) group.

    Error bars show the ``<method>_std`` columns (the spread over pairs,
    tasks and repeats) when the table has them.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`stitching_table` or :func:`pooled_stitching_table`.
    metric : {"roc_auc", "accuracy", "f1_macro"}, default="roc_auc"
        The metric the table was built with; it names the y axis.
    ax : matplotlib Axes or None, default=None
    title : str or None, default=None
    ylabel : str or None, default=None
        Label of the y axis; None is the metric's name (e.g. "AUROC").

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skalign.evaluation import plot_stitching_table
    >>> table = pd.DataFrame(
    ...     {"source_upper_bound": [0.8], "naive": [0.5], "ortho": [0.88],
    ...      "target_upper_bound": [0.9], "best_transform": ["ortho"],
    ...      "change_pct": [10.0], "n_pairs": [1]},
    ...     index=pd.MultiIndex.from_tuples([("general", "medical")],
    ...                                     names=["source_group", "target_group"]))
    >>> len(plot_stitching_table(table).patches)
    4
    """
    methods = [
        c
        for c in table.columns
        if c not in _TABLE_EXTRAS and not str(c).endswith("_std")
    ]
    labels = [f"{source} → {target}" for source, target in table.index]
    bars = table[methods].astype(float)
    stds = [f"{m}_std" for m in methods]
    errors = (
        table[stds].to_numpy(dtype=float) if set(stds) <= set(table.columns) else None
    )
    colors = [_REFERENCE_COLORS.get(m) for m in methods]
    ax = _grouped_bars(
        _axes(ax),
        bars.to_numpy(),
        errors,
        labels,
        [_METHOD_LABELS.get(m, m) for m in methods],
        colors,
    )
    ax.set_xlabel("source → target")
    ax.set_ylabel(METRIC_LABELS[_check_metric(metric)] if ylabel is None else ylabel)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_zero_shot(report, *, metric="roc_auc", ax=None, title=None):
    """Bar chart of zero-shot scores: one cluster per task, one bar per method (Fig. 4).

    The ``"chance"`` rows of the report are drawn as a dashed line over each
    task's bars; without them, AUROC's 0.5 is marked.

    Parameters
    ----------
    report : pandas.DataFrame
        The output of :func:`zero_shot_report`.
    metric : {"roc_auc", "accuracy", "f1_macro"}, default="roc_auc"
    ax : matplotlib Axes or None, default=None
    title : str or None, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skalign.evaluation import plot_zero_shot
    >>> report = pd.DataFrame({"method": ["clip", "ours", "clip", "ours"],
    ...     "task": ["pneumonia", "pneumonia", "effusion", "effusion"],
    ...     "metric": "roc_auc", "mean": [0.6, 0.8, 0.55, 0.7], "std": 0.0,
    ...     "n_runs": 1, "n_test": 400})
    >>> len(plot_zero_shot(report).patches)
    4
    """
    rows = _metric_rows(report, metric)
    chance = rows[rows["method"] == CHANCE].set_index("task")["mean"]
    rows = rows[rows["method"] != CHANCE]
    tasks = list(dict.fromkeys(rows["task"]))
    methods = list(dict.fromkeys(rows["method"]))
    means = rows.pivot(index="task", columns="method", values="mean").loc[
        tasks, methods
    ]
    stds = rows.pivot(index="task", columns="method", values="std").loc[tasks, methods]
    errors = stds.to_numpy() if np.nanmax(stds.to_numpy()) > 0 else None
    ax = _axes(ax)
    if len(chance):
        # one dashed segment per task cluster, at that task's chance level
        x = np.arange(len(tasks))
        ax.hlines(
            [chance.get(task, np.nan) for task in tasks],
            x - 0.45,
            x + 0.45,
            color="black",
            linestyle="--",
            linewidth=1.2,
            label="chance",
            zorder=3,
        )
    elif metric == "roc_auc":
        ax.axhline(0.5, color="0.6", linewidth=0.8)  # chance
    # the naive floors of aligned encoders in grey, as in the stitching figures
    colors = [
        _REFERENCE_COLORS[NAIVE] if m.endswith(f"({NAIVE})") else None for m in methods
    ]
    ax = _grouped_bars(ax, means.to_numpy(), errors, tasks, methods, colors)
    if len(chance):
        bottom, top = ax.get_ylim()
        ax.set_ylim(max(0.0, min(bottom, chance.min() - 0.05)), top)
    ax.set_xlabel("task")
    ax.set_ylabel(METRIC_LABELS[metric])
    if title is not None:
        ax.set_title(title)
    return ax


def _grouped_bars(ax, heights, errors, groups, series, colors=None):
    """Bars of ``heights`` (n_groups, n_series), clustered by group."""
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    colors = [None] * len(series) if colors is None else colors
    for i, (name, color) in enumerate(zip(series, colors, strict=True)):
        ax.bar(
            x + (i - (len(series) - 1) / 2) * width,
            heights[:, i],
            width,
            yerr=None if errors is None else errors[:, i],
            capsize=2,
            label=name,
            color=color,
        )
    ax.set_xticks(x, groups)
    spread = 0 if errors is None else np.nan_to_num(errors)
    low, high = np.nanmin(heights - spread), np.nanmax(heights + spread)
    ax.set_ylim(max(0.0, min(0.5, low) - 0.05), min(1.0, high + 0.03) + 0.02)
    _legend_outside(ax)
    ax.grid(axis="y", alpha=0.3)
    return ax


def _legend_outside(ax):
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def _check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}.")
    return metric


def _metric_rows(frame, metric):
    rows = frame[frame["metric"] == _check_metric(metric)]
    if rows.empty:
        raise ValueError(
            f"The table has no {metric!r} rows; pass the output of anchor_curve or "
            "zero_shot_report."
        )
    return rows


def _axes(ax):
    if ax is not None:
        return ax
    plt = import_optional("matplotlib.pyplot", purpose="Plotting")
    return plt.subplots(figsize=(8, 4.5), layout="constrained")[1]
