"""Table 1 as the paper defines it: the change against the source upper bound
(SUB), its colour, and Text / Vision column groups, on numbers worked out by hand."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from skalign.evaluation import plot_stitching_table  # noqa: E402
from skalign.evaluation._pooled import _domain_table  # noqa: E402
from skalign.evaluation._table1 import (  # noqa: E402
    change_colour,
    methods_markdown,
    table1_markdown,
)


def _runs(rows):
    """Runs of (modality, source, target, source domain, target domain, method, AUROC)."""
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


def _pair(modality, source, target, domains, sub, naive, ortho, tub):
    return [
        (modality, source, target, *domains, "source_upper_bound", sub),
        (modality, source, target, *domains, "naive", naive),
        (modality, source, target, *domains, "ortho", ortho),
        (modality, source, target, *domains, "target_upper_bound", tub),
    ]


GM = ("general", "medical")
MG = ("medical", "general")
GG = ("general", "general")

# Two general text encoders g1 (own decoder: 0.70) and g2 (0.80) and one
# medical m (0.83): the SUB of general -> medical is (0.70 + 0.80) / 2 = 0.75.
HAND = _runs(
    _pair("text", "g1", "m", GM, 0.70, 0.50, 0.78, 0.83)
    + _pair("text", "g2", "m", GM, 0.80, 0.50, 0.82, 0.83)
    + _pair("text", "m", "g1", MG, 0.83, 0.50, 0.70, 0.70)
    + _pair("text", "m", "g2", MG, 0.83, 0.50, 0.70, 0.80)
    + _pair("text", "g1", "g2", GG, 0.70, 0.50, 0.73, 0.80)
    + _pair("text", "g2", "g1", GG, 0.80, 0.50, 0.73, 0.70)
)


def test_change_is_against_the_source_upper_bound_by_hand():
    table = _domain_table(HAND, "roc_auc", ["ortho"], "ortho")
    gm, mg, gg = (table.loc[pair] for pair in (GM, MG, GG))
    # general -> medical: alignment (0.78 + 0.82) / 2 = 0.80 against the SUB
    # 0.75: (0.80 - 0.75) / 0.75 = +6.667 % (against the TUB 0.83 it would
    # be -3.6 %: the sign flips)
    assert gm["source_upper_bound"] == pytest.approx(0.75)
    assert gm["ortho"] == pytest.approx(0.80)
    assert gm["ortho_std"] == pytest.approx(0.02)
    assert gm["target_upper_bound"] == pytest.approx(0.83)
    assert gm["change_pct"] == pytest.approx(6.6667, abs=1e-4)
    # medical -> general: 0.70 against the SUB 0.83: (0.70 - 0.83) / 0.83 = -15.663 %
    assert mg["change_pct"] == pytest.approx(-15.6627, abs=1e-4)
    # general -> general: 0.73 against (0.70 + 0.80) / 2 = 0.75: -2.667 %
    assert gg["change_pct"] == pytest.approx(-2.6667, abs=1e-4)
    assert set(table["change_transform"]) == {"ortho"}
    assert [change_colour(v) for v in table.loc[[GM, MG, GG], "change_pct"]] == [
        "green",
        "red",
        "grey",
    ]


@pytest.mark.parametrize(
    ("change", "colour"),
    [(5.0, "green"), (4.99, "grey"), (-4.99, "grey"), (-5.0, "red"), (0.0, "grey")],
)
def test_the_papers_colour_rule_grey_under_five_percent(change, colour):
    assert change_colour(change) == colour


def test_colour_rule_refuses_a_non_finite_change():
    with pytest.raises(ValueError, match="must be a finite percentage"):
        change_colour(np.inf)


def test_markdown_prints_the_papers_layout_by_hand():
    table = _domain_table(HAND, "roc_auc", ["ortho"], "ortho")
    lines = table1_markdown(table).splitlines()
    assert lines[0] == "| source → target | SUB | ortho | TUB |"
    assert "| general → medical | 0.75 | 0.80 ± 0.02 🟢 ▲ 6.7% | 0.83 |" in lines
    assert "| medical → general | 0.83 | 0.70 ± 0.00 🔴 ▼ 15.7% | 0.75 |" in lines
    assert "| general → general | 0.75 | 0.73 ± 0.00 ⚪ ▼ 2.7% | 0.75 |" in lines
    assert "change is against the SUB" in lines[-1]
    every = methods_markdown(table)
    assert "| general → medical | 0.750 ± 0.050 | 0.500 ± 0.000 |" in every
    assert "ortho 🟢 ▲ 6.7% | 2 |" in every


def test_the_figure_annotates_the_change_in_the_papers_colours():
    table = _domain_table(HAND, "roc_auc", ["ortho"], "ortho")
    ax = plot_stitching_table(table)
    texts = {text.get_text(): text.get_color() for text in ax.texts}
    assert set(texts) == {"▲ 6.7%", "▼ 15.7%", "▼ 2.7%"}
    assert to_rgba(texts["▲ 6.7%"]) == to_rgba("tab:green")
    assert to_rgba(texts["▼ 15.7%"]) == to_rgba("tab:red")
    assert to_rgba(texts["▼ 2.7%"]) == to_rgba("0.5")
