"""write_outputs: the one writer of CSV tables and PNG figures (CLI and demo)."""

import pandas as pd
import pytest

from skalign.evaluation import write_outputs

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_tables_and_figures_round_trip(tmp_path):
    long = pd.DataFrame({"method": ["ortho", "naive"], "mean": [0.9, 0.5]})
    wide = long.set_index("method")
    drawn = []
    paths = write_outputs(
        tmp_path / "new" / "folder",
        {"long": long, "wide": wide},
        {"bars": lambda ax: drawn.append(ax.bar(long["method"], long["mean"]))},
    )
    folder = tmp_path / "new" / "folder"
    assert paths == [folder / "long.csv", folder / "wide.csv", folder / "bars.png"]
    # a default index is not written, a meaningful one is
    pd.testing.assert_frame_equal(pd.read_csv(paths[0]), long)
    pd.testing.assert_frame_equal(pd.read_csv(paths[1], index_col="method"), wide)
    assert len(drawn) == 1 and paths[2].read_bytes()[:8] == PNG_SIGNATURE


def test_nothing_to_write(tmp_path):
    assert write_outputs(tmp_path / "out") == []
    assert (tmp_path / "out").is_dir()


def test_panels_and_the_report(tmp_path):
    """A list of draws stacks one panel each; the report is report.md, last."""
    axes = []
    paths = write_outputs(
        tmp_path,
        figures={"two": [axes.append, axes.append]},
        report="# Report\n\n![two](two.png)\n",
    )
    assert [p.name for p in paths] == ["two.png", "report.md"]
    assert len(axes) == 2 and axes[0].figure is axes[1].figure
    width, height = axes[0].figure.get_size_inches()
    assert (width, height) == (8, 9)
    assert paths[0].read_bytes()[:8] == PNG_SIGNATURE
    assert paths[1].read_text().startswith("# Report")
