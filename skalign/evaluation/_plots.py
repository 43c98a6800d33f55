"""Figures of the evaluation tables: anchor curve, stitching table, zero-shot bars."""

from itertools import cycle

import numpy as np
import pandas as pd

from .._optional import import_optional
from ._scoring import METRIC_LABELS, METRICS
from ._stitching import NAIVE, SOURCE_UPPER_BOUND, TARGET_UPPER_BOUND
from ._table1 import change_colour, format_change, modality_title, split_by_modality

CHANCE = "chance"

# The paper's colours of a change against the source upper bound.
_CHANGE_COLORS = {"green": "tab:green", "red": "tab:red", "grey": "0.5"}
# The references are grey (light: the floor, dark: the ceiling), the transforms
# take the colour cycle.
_REFERENCE_COLORS = {
    SOURCE_UPPER_BOUND: "0.55",
    NAIVE: "0.8",
    TARGET_UPPER_BOUND: "0.2",
}
# Columns of a stitching table that are not a method's score.
_TABLE_EXTRAS = ("change_transform", "change_pct", "n_pairs", "n_tasks")
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
    tasks and repeats) when the table has them. A table built with
    ``modalities`` (a ``modality`` index level) is drawn in the paper's
    column groups, "Text" and "Vision", side by side. The bars of the
    ``change_transform`` carry its change against the source upper bound in
    the paper's colours (green up, red down, grey under 5%). Bars start at
    0; AUROC's chance level (0.5) is a dashed line.

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
    ...      "target_upper_bound": [0.9], "change_transform": ["ortho"],
    ...      "change_pct": [10.0], "n_pairs": [1]},
    ...     index=pd.MultiIndex.from_tuples([("general", "medical")],
    ...                                     names=["source_group", "target_group"]))
    >>> ax = plot_stitching_table(table)
    >>> len(ax.patches), [text.get_text() for text in ax.texts]
    (4, ['▲ 10.0%'])
    """
    _check_metric(metric)
    methods = [
        c
        for c in table.columns
        if c not in _TABLE_EXTRAS and not str(c).endswith("_std")
    ]
    groups = split_by_modality(table)
    rows = pd.concat([rows for _, rows in groups])
    # clusters one after the other, a wider gap between modality groups
    x = np.concatenate(
        [np.arange(len(rows)) + 0.5 * i + sum(len(r) for _, r in groups[:i])
         for i, (_, rows) in enumerate(groups)]
    )  # fmt: skip
    # two-line labels side by side fit eight clusters; beyond, one line, upright
    upright = len(rows) > 8
    labels = [_pair_label(s, t, wrap=not upright) for s, t in rows.index]
    stds = [f"{m}_std" for m in methods]
    errors = (
        rows[stds].to_numpy(dtype=float) if set(stds) <= set(rows.columns) else None
    )
    ax = _axes(ax)
    if metric == "roc_auc":
        _chance_line(ax)
    bars = _grouped_bars(
        ax,
        rows[methods].to_numpy(dtype=float),
        errors,
        labels,
        [_METHOD_LABELS.get(m, m) for m in methods],
        [_REFERENCE_COLORS.get(m) for m in methods],
        x=x,
    )
    if {"change_transform", "change_pct"} <= set(rows.columns):
        _annotate_changes(ax, rows, methods, bars, errors)
    if len(groups) > 1:
        _label_groups(ax, groups, x)
    ax.tick_params(axis="x", labelsize="small")
    if upright:
        ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel("source → target")
    ax.set_ylabel(METRIC_LABELS[metric] if ylabel is None else ylabel)
    if title is not None:
        ax.set_title(title, pad=18 if len(groups) > 1 else None)
    return ax


def _pair_label(source, target, *, wrap):
    """``"a → b"``, on two lines when long and ``wrap``, so ticks never overlap."""
    label = f"{source} → {target}"
    return label if len(label) <= 12 or not wrap else f"{source}\n→ {target}"


def _annotate_changes(ax, rows, methods, bars, errors):
    """The change against the SUB over each ``change_transform`` bar, coloured."""
    for row, (_, values) in enumerate(rows.iterrows()):
        method = values["change_transform"]
        if method not in methods:
            continue
        bar = bars[methods.index(method)].patches[row]
        # above the cluster's highest bar and error bar
        spread = 0.0 if errors is None else np.nan_to_num(errors[row])
        heights = np.array([b.patches[row].get_height() for b in bars])
        change = values["change_pct"]
        ax.annotate(
            format_change(change),
            (bar.get_x() + bar.get_width() / 2, np.nanmax(heights + spread)),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="x-small",
            fontweight="bold",
            color=_CHANGE_COLORS[change_colour(change)],
        )


def _label_groups(ax, groups, x):
    """The paper's column-group names over each modality's clusters."""
    from matplotlib.transforms import blended_transform_factory

    above = blended_transform_factory(ax.transData, ax.transAxes)
    start = 0
    for i, (modality, rows) in enumerate(groups):
        span = x[start : start + len(rows)]
        ax.text(
            span.mean(), 1.01, modality_title(modality), transform=above,
            ha="center", va="bottom", fontweight="bold",
        )  # fmt: skip
        if i:
            ax.axvline(span[0] - 0.75, color="0.6", linewidth=0.8)
        start += len(rows)


def _chance_line(ax):
    ax.axhline(0.5, color="0.3", linestyle="--", linewidth=1.0, label="chance (0.5)")


def plot_zero_shot(report, *, metric="roc_auc", ax=None, title=None):
    """Bar chart of zero-shot scores: one cluster per task, one bar per method (Fig. 4).

    The ``"chance"`` rows of the report are drawn as a dashed line over each
    task's bars; without them, AUROC's 0.5 is a dashed "chance" line. The
    methods of one encoder (``"<encoder> (<transform>)"``) share its colour,
    told apart by hatches; its naive floor is light and striped. Bars start
    at 0.

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
        _chance_line(ax)
    colors, hatches = _zero_shot_styles(methods)
    _grouped_bars(ax, means.to_numpy(), errors, tasks, methods, colors, hatches=hatches)
    ax.set_xlabel("task")
    ax.set_ylabel(METRIC_LABELS[metric])
    if title is not None:
        ax.set_title(title)
    return ax


def _zero_shot_styles(methods):
    """A colour per encoder or baseline, a hatch per method of an encoder.

    ``"<encoder> (<transform>)"`` methods share their encoder's colour: the
    first transform solid, the others dotted or crossed, the naive floor
    light and striped, so two encoders' naive bars never look alike.
    """
    from matplotlib.colors import to_rgba

    families = list(dict.fromkeys(_family(m)[0] for m in methods))
    palette = cycle(f"C{i}" for i in range(10))
    family_colors = {family: next(palette) for family in families}
    seen = {family: 0 for family in families}
    colors, hatches = [], []
    for method in methods:
        family, is_naive = _family(method)
        color = family_colors[family]
        if is_naive:
            # a naive floor of no named encoder: the stitching figures' grey
            alone = family == str(method) or family == NAIVE
            colors.append(_REFERENCE_COLORS[NAIVE] if alone else to_rgba(color, 0.35))
            hatches.append("//")
            continue
        colors.append(color)
        hatches.append([None, "..", "xx", "oo", "--"][seen[family] % 5])
        seen[family] += 1
    return colors, hatches


def _family(method):
    """``("efficientnet", True)`` for ``"efficientnet (naive)"``."""
    name, _, detail = str(method).rpartition(" (")
    if not name or not detail.endswith(")"):
        return str(method), str(method) == NAIVE
    return name, NAIVE in (name, detail[:-1])


def _grouped_bars(ax, heights, errors, groups, series, colors=None, *, x=None,
                  hatches=None):  # fmt: skip
    """Bars of ``heights`` (n_groups, n_series), clustered by group at ``x``.

    Bars start at 0 (a score's bar length is the score); the top leaves room
    for error bars and annotations. Returns the bar containers, one per
    series.
    """
    width = 0.8 / len(series)
    x = np.arange(len(groups)) if x is None else np.asarray(x, dtype=float)
    colors = [None] * len(series) if colors is None else colors
    hatches = [None] * len(series) if hatches is None else hatches
    containers = [
        ax.bar(
            x + (i - (len(series) - 1) / 2) * width,
            heights[:, i],
            width,
            yerr=None if errors is None else errors[:, i],
            capsize=2,
            label=name,
            color=color,
            hatch=hatch,
            edgecolor="0.25" if hatch else None,
            linewidth=0,
        )
        for i, (name, color, hatch) in enumerate(
            zip(series, colors, hatches, strict=True)
        )
    ]
    ax.set_xticks(x, groups)
    spread = 0 if errors is None else np.nan_to_num(errors)
    high = np.nanmax(heights + spread)
    ax.set_ylim(0.0, max(1.0, high) + 0.08)
    _legend_outside(ax)
    ax.grid(axis="y", alpha=0.3)
    return containers


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
