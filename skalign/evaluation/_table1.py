"""Table 1 as the paper prints it: Text and Vision column groups, the change
against the source upper bound and its colour.

The paper's Table 1 caption: source and target domain upper bounds (SUB, TUB)
beside the alignment's mean ± std, and "▲x% corresponds to the percentage of
change in performance compared to the SUB coloured in green and red for
increase and decrease and in grey if the difference is less than 5%". The
numbers come from :func:`~skalign.evaluation.pooled_stitching_table`; this
module only lays them out (markdown report, figure annotations).
"""

import numpy as np
import pandas as pd

from ._stitching import SOURCE_UPPER_BOUND, TARGET_UPPER_BOUND

# Below this absolute change (in percent) the paper greys the cell out.
GREY_BELOW_PCT = 5.0
# The paper's column groups are named by modality.
MODALITY_TITLES = {"text": "Text", "image": "Vision"}
# Markdown cannot colour text: one coloured mark per colour, explained below
# the table.
_MARKS = {"green": "🟢", "red": "🔴", "grey": "⚪"}


def change_colour(change_pct):
    """The paper's colour of a change against the SUB: green, red or grey.

    Grey when the absolute change is under 5%, else green for an increase
    and red for a decrease.

    Examples
    --------
    >>> from skalign.evaluation._table1 import change_colour
    >>> change_colour(6.7), change_colour(-7.8), change_colour(-2.8)
    ('green', 'red', 'grey')
    """
    if not np.isfinite(change_pct):
        raise ValueError(
            f"The change against the source upper bound is {change_pct!r}; it "
            "must be a finite percentage (is the source upper bound 0?)."
        )
    if abs(change_pct) < GREY_BELOW_PCT:
        return "grey"
    return "green" if change_pct > 0 else "red"


def format_change(change_pct):
    """``"▲ 6.7%"`` or ``"▼ 7.8%"``: the paper's arrow and the absolute change.

    Examples
    --------
    >>> from skalign.evaluation._table1 import format_change
    >>> format_change(6.666), format_change(-7.8)
    ('▲ 6.7%', '▼ 7.8%')
    """
    arrow = "▲" if change_pct >= 0 else "▼"
    return f"{arrow} {abs(change_pct):.1f}%"


def modality_title(modality):
    """``"Text"`` / ``"Vision"``, the paper's group names; others capitalised."""
    return MODALITY_TITLES.get(modality, str(modality).capitalize())


def split_by_modality(table):
    """``[(modality or None, rows indexed by (source, target))]`` of a table.

    A table with a ``modality`` index level (built with ``modalities=``) is
    split into its groups, Text then Vision as in the paper, then any other;
    one without it is a single group.
    """
    if "modality" not in (table.index.names or []):
        return [(None, table)]
    order = list(MODALITY_TITLES)
    found = dict.fromkeys(table.index.get_level_values("modality"))
    return [
        (modality, table.xs(modality, level="modality"))
        for modality in sorted(
            found, key=lambda m: order.index(m) if m in order else len(order)
        )
    ]


def table1_markdown(table, *, decimals=2):
    """Markdown of a stitching table in the paper's layout.

    One row per (source → target) domain pair; per modality a column group
    with the SUB, the ``change_transform`` mean ± std followed by its change
    against the SUB (arrow, percent and the paper's colour as a mark) and
    the TUB. A legend line explains the marks.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`~skalign.evaluation.pooled_stitching_table`
        (with or without ``modalities``).
    decimals : int, default=2
        Decimals of the scores (the paper prints two).

    Returns
    -------
    markdown : str

    Examples
    --------
    >>> import pandas as pd
    >>> from skalign.evaluation._table1 import table1_markdown
    >>> table = pd.DataFrame(
    ...     {"source_upper_bound": [0.75], "ortho": [0.80], "ortho_std": [0.01],
    ...      "target_upper_bound": [0.83], "change_transform": ["ortho"],
    ...      "change_pct": [6.67], "n_pairs": [4]},
    ...     index=pd.MultiIndex.from_tuples([("text", "general", "medical")],
    ...         names=["modality", "source_domain", "target_domain"]))
    >>> print(table1_markdown(table).splitlines()[2])
    | general → medical | 0.75 | 0.80 ± 0.01 🟢 ▲ 6.7% | 0.83 |
    """
    groups = split_by_modality(table)
    pairs = list(dict.fromkeys(pair for _, rows in groups for pair in rows.index))
    header, cells = ["source → target"], [[f"{s} → {t}"] for s, t in pairs]
    for modality, rows in groups:
        method = _change_transform(rows)
        prefix = "" if modality is None else f"{modality_title(modality)}: "
        header += [f"{prefix}SUB", f"{prefix}{method}", f"{prefix}TUB"]
        for cell, pair in zip(cells, pairs, strict=True):
            if pair not in rows.index:
                cell += ["-", "-", "-"]
                continue
            row = rows.loc[pair]
            change = row["change_pct"]
            aligned = (
                f"{row[method]:.{decimals}f} ± {row[f'{method}_std']:.{decimals}f} "
                f"{_MARKS[change_colour(change)]} {format_change(change)}"
            )
            cell += [
                f"{row[SOURCE_UPPER_BOUND]:.{decimals}f}",
                aligned,
                f"{row[TARGET_UPPER_BOUND]:.{decimals}f}",
            ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cell) + " |" for cell in cells),
        "",
        "SUB / TUB: source / target domain upper bound (each encoder with its "
        "own decoder). The change is against the SUB: "
        f"{_MARKS['green']} increase, {_MARKS['red']} decrease, "
        f"{_MARKS['grey']} (grey) under {GREY_BELOW_PCT:.0f}%.",
    ]
    return "\n".join(lines)


def methods_markdown(table, *, decimals=3):
    """Markdown of every method of a stitching table, mean ± std, one row per
    (modality,) source → target group, with the change against the SUB.

    Examples
    --------
    >>> import pandas as pd
    >>> from skalign.evaluation._table1 import methods_markdown
    >>> table = pd.DataFrame(
    ...     {"source_upper_bound": [0.71], "source_upper_bound_std": [0.0],
    ...      "ortho": [0.69], "ortho_std": [0.08], "change_transform": ["ortho"],
    ...      "change_pct": [-2.8], "n_pairs": [2]},
    ...     index=pd.MultiIndex.from_tuples([("general", "medical")],
    ...         names=["source_domain", "target_domain"]))
    >>> print(methods_markdown(table).splitlines()[2])
    | general → medical | 0.710 ± 0.000 | 0.690 ± 0.080 | ortho ⚪ ▼ 2.8% | 2 |
    """
    methods = [c for c in table.columns if f"{c}_std" in table.columns]
    header = ["source → target", *methods, "change vs SUB", "pairs"]
    rows = []
    for modality, group in split_by_modality(table):
        prefix = "" if modality is None else f"{modality_title(modality)}: "
        for (source, target), row in group.iterrows():
            change = row["change_pct"]
            rows.append(
                [
                    f"{prefix}{source} → {target}",
                    *(
                        f"{row[m]:.{decimals}f} ± {row[f'{m}_std']:.{decimals}f}"
                        for m in methods
                    ),
                    f"{row['change_transform']} {_MARKS[change_colour(change)]} "
                    f"{format_change(change)}",
                    str(row["n_pairs"]),
                ]
            )
    return "\n".join(
        [
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(cells) + " |" for cells in rows),
        ]
    )


def _change_transform(rows):
    methods = pd.unique(rows["change_transform"])
    if len(methods) != 1:
        raise ValueError(
            f"The table reports the change of several methods {list(methods)!r}; "
            "build it with one change_transform."
        )
    return methods[0]
