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
    """Runs: modality, source, target, their domains, method and AUROC."""
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


# --- Text and Vision apart -------------------------------------------------------


def _encoders(rng, base, widths):
    n = base.shape[0]
    return {
        name: base @ rng.normal(size=(base.shape[1], width))
        + 0.6 * rng.normal(size=(n, width))
        for name, width in widths.items()
    }


@pytest.fixture(scope="module")
def two_modalities():
    """An image task with two general encoders and a medical one, a text task
    with two general encoders: general -> general exists in both modalities."""
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], 60)
    base = np.eye(2)[(y == "b").astype(int)] * 2.0
    images = _encoders(rng, base, {"vit": 10, "dino": 14, "rad": 8})
    texts = _encoders(rng, base, {"roberta": 12, "llama": 16})
    domains = {"vit": "general", "dino": "general", "rad": "medical"}
    domains |= {"roberta": "general", "llama": "general"}
    modalities = {"vit": "image", "dino": "image", "rad": "image"}
    modalities |= {"roberta": "text", "llama": "text"}
    return {"cxr": (images, y), "reports": (texts, y)}, domains, modalities


OPTIONS = dict(
    n_anchors=20,
    transforms=["ortho"],
    n_repeats=2,
    decoder=None,
    anchor_size=0.3,
)


def test_general_to_general_never_pools_text_with_images(two_modalities):
    from sklearn.linear_model import LogisticRegression

    from skalign.evaluation import pooled_stitching_table

    tasks, domains, modalities = two_modalities
    options = {**OPTIONS, "decoder": LogisticRegression(max_iter=3000)}
    mixed = pooled_stitching_table(tasks, domains, **options)
    # the fault of the issue: 2 text pairs and 2 image pairs in one row
    assert mixed.loc[("general", "general"), "n_pairs"] == 4
    table, pairs = pooled_stitching_table(
        tasks, domains, modalities=modalities, return_pairs=True, **options
    )
    assert table.index.tolist() == [
        ("image", "general", "general"),
        ("image", "general", "medical"),
        ("image", "medical", "general"),
        ("text", "general", "general"),
    ]
    assert table["n_pairs"].tolist() == [2, 2, 2, 2]
    auroc = pairs[(pairs["metric"] == "roc_auc") & (pairs["transform"] == "ortho")]
    for modality, task in (("image", "cxr"), ("text", "reports")):
        general = auroc[
            (auroc["task"] == task)
            & (auroc["source_domain"] == "general")
            & (auroc["target_domain"] == "general")
        ]
        assert set(general["modality"]) == {modality} and len(general) == 2
        expected = general["mean"].mean()  # equal runs per pair
        assert table.loc[(modality, "general", "general"), "ortho"] == pytest.approx(
            expected
        )
    # the pooled row is the mean of the two groups (same number of runs each)
    assert mixed.loc[("general", "general"), "ortho"] == pytest.approx(
        table.xs(("general", "general"), level=(1, 2))["ortho"].mean()
    )
    markdown = table1_markdown(table).splitlines()
    assert markdown[0] == (
        "| source → target | Text: SUB | Text: ortho | Text: TUB | "
        "Vision: SUB | Vision: ortho | Vision: TUB |"
    )
    # medical -> general exists for the images only: "-" in the text group
    (row,) = [line for line in markdown if line.startswith("| medical → general")]
    assert row.startswith("| medical → general | - | - | - |")
    ax = plot_stitching_table(table)
    groups = [t.get_text() for t in ax.texts if t.get_text() in ("Text", "Vision")]
    assert groups == ["Text", "Vision"]
    assert len(ax.patches) == 4 * 4  # 4 groups x (SUB, naive, ortho, TUB)


def test_the_experiment_prints_text_and_vision_groups_recomputed_by_hand(
    two_modalities, tmp_path
):
    """run_experiment on embedding files of both modalities: report.md has the
    paper's column groups, and the % change equals the one recomputed by hand
    from the single runs (alignment mean over pairs and draws, SUB mean over
    the pairs' source encoders)."""
    from skalign.evaluation import run_experiment

    tasks, domains, modalities = two_modalities
    config = {
        "protocol": {
            "n_anchors": [20],
            "n_repeats": 2,
            "decoder": "logistic",
            "anchor_size": 0.3,
            "transforms": ["ortho"],
        },
        "datasets": {},
        "encoders": {},
        "stitching": {},
    }
    for task, (embeddings, y) in tasks.items():
        ids = np.array([f"{task}-{i}" for i in range(len(y))])
        labels = tmp_path / f"{task}.csv"
        pd.DataFrame({"id": ids, "finding": y}).to_csv(labels, index=False)
        config["datasets"][task] = {"labels": str(labels)}
        config["stitching"][task] = {"dataset": task}
        for name, X in embeddings.items():
            path = tmp_path / f"{name}.npz"
            np.savez(path, embeddings=X, ids=ids)
            config["encoders"][name] = {
                "modality": modalities[name],
                "domain": domains[name],
                "embeddings": {task: str(path)},
            }
    results = run_experiment(config, tmp_path / "out", show_progress=False)
    table = results["table"]
    runs = results["runs"]
    own = runs[runs["transform"] == "target_upper_bound"].set_index("target")
    ortho = runs[runs["transform"] == "ortho"]
    for (modality, source_domain, target_domain), row in table.iterrows():
        cells = ortho[
            (ortho["source"].map(domains) == source_domain)
            & (ortho["target"].map(domains) == target_domain)
            & (ortho["source"].map(modalities) == modality)
        ]
        pairs = cells[["source", "target"]].drop_duplicates()
        sub = np.mean([own.loc[s, "roc_auc"] for s in pairs["source"]])
        alignment = cells["roc_auc"].mean()
        assert row["source_upper_bound"] == pytest.approx(sub)
        assert row["ortho"] == pytest.approx(alignment)
        assert row["change_pct"] == pytest.approx(100 * (alignment - sub) / sub)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| Text: SUB | Text: ortho | Text: TUB | Vision: SUB |" in report
    written = pd.read_csv(tmp_path / "out" / "stitching_table.csv")
    assert set(written["modality"]) == {"image", "text"}
