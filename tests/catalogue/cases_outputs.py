"""Output writing (``write_outputs``, ``safe_file_name``, ``path_inside``) and the
experiment's output folder: hostile names, collisions, wrong types."""

import pandas as pd

from skalign.evaluation import write_outputs
from skalign.evaluation._outputs import path_inside, safe_file_name
from tests.catalogue._evaluation_data import run, stitching_config
from tests.catalogue._harness import Behaves, Case, Raises

SURFACE = "outputs"
TABLE = pd.DataFrame({"method": ["ortho"], "score": [0.9]})


def _files(tmp):
    return sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())


def _written(tables=None, figures=None, report=None):
    return lambda tmp: write_outputs(tmp / "out", tables, figures, report)


def _hostile_encoder_names(tmp):
    """Encoders named by path traversal, an absolute path, unicode and a long
    name: every file lands under the output folder."""
    config = stitching_config(tmp / "data")
    names = {"e1": "../../escape", "e2": "/tmp/" + "é" * 150}
    config["encoders"] = {names[k]: v for k, v in config["encoders"].items()}
    config["stitching"]["../t"] = config["stitching"].pop("t")
    run(config, tmp / "out")
    return tmp


def _all_under_out(tmp):
    outside = [f for f in _files(tmp) if not f.startswith(("out/", "data/"))]
    assert not outside, outside
    assert (tmp / "out" / "report.md").is_file()
    return True


def _output_is_file(tmp):
    (tmp / "out").write_text("notes")
    return run(stitching_config(tmp / "data"), tmp / "out")


def _nothing_computed_when_output_is_file(tmp):
    (tmp / "out").write_text("notes")
    try:
        run(stitching_config(tmp / "data"), tmp / "out" / "sub")
    finally:
        assert not (tmp / "cache").exists()
    return None


def _formula_named_encoder(tmp):
    config = stitching_config(tmp / "data")
    config["encoders"]['=HYPERLINK("http://x")'] = config["encoders"].pop("e1")
    return run(config, tmp / "out")


def _no_csv_written(tmp):
    try:
        write_outputs(tmp / "out", {"scores": FORMULA_CELL})
    finally:
        assert not (tmp / "out" / "scores.csv").exists()


FORMULA_CELL = pd.DataFrame({"method": ["@SUM(A1:A9)"], "score": [0.9]})

CASES = [
    Case(
        SURFACE,
        "a cell a spreadsheet would run as a formula (CSV injection)",
        _written({"scores": FORMULA_CELL}),
        Raises(ValueError, r"'@SUM\(A1:A9\)'.*column 'method'.*formula.*Rename"),
    ),
    Case(
        SURFACE,
        "a column name starting with '+' that is no number",
        _written({"scores": pd.DataFrame({"+cmd|calc": [1.0]})}),
        Raises(ValueError, r"'\+cmd\|calc'.*column name.*formula.*letter or a digit"),
    ),
    Case(
        SURFACE,
        "negative numbers as text and hyphenated names are no formulas",
        _written(
            {"scores": pd.DataFrame({"method": ["-0.5", "rad-dino"], "x": [1, 2]})}
        ),
        Behaves(
            lambda paths: (
                pd.read_csv(paths[0])["method"].tolist() == ["-0.5", "rad-dino"]
            )
        ),
    ),
    Case(
        SURFACE,
        "a formula cell is refused before any file is written",
        _no_csv_written,
        Raises(ValueError, r"formula"),
    ),
    Case(
        SURFACE,
        "table named by path traversal",
        _written({"../x": TABLE}),
        Raises(ValueError, r"'\.\./x\.csv'.*outside.*plain file names"),
    ),
    Case(
        SURFACE,
        "table named by an absolute path",
        _written({"/tmp/x": TABLE}),
        Raises(ValueError, r"/tmp/x\.csv.*outside.*plain file names"),
    ),
    Case(
        SURFACE,
        "table name holding a NUL byte",
        _written({"a\0b": TABLE}),
        Raises(ValueError, r"(NUL|null).*plain file names"),
    ),
    Case(
        SURFACE,
        "table name of 300 characters",
        _written({"x" * 300: TABLE}),
        Raises(ValueError, r"(long|characters).*(shorter|at most)"),
    ),
    Case(
        SURFACE,
        "two tables whose names differ only by case",
        _written({"Scores": TABLE, "scores": TABLE}),
        Raises(ValueError, r"'Scores'.*'scores'.*(case|differ)"),
    ),
    Case(
        SURFACE,
        "a table that is a dict, not a DataFrame",
        _written({"scores": {"method": ["ortho"]}}),
        Raises(TypeError, r"scores.*DataFrame"),
    ),
    Case(
        SURFACE,
        "a figure that is not callable",
        _written(figures={"bars": "bar"}),
        Raises(TypeError, r"bars.*callable.*draw\(ax\)"),
    ),
    Case(
        SURFACE,
        "a report that is not text",
        _written(report=42),
        Raises(TypeError, r"report.*(str|Markdown)"),
    ),
    Case(
        SURFACE,
        "nothing is written when one name is bad",
        lambda tmp: _files_after_failed_write(tmp),
        Behaves(lambda files: files == []),
    ),
    Case(
        SURFACE,
        "safe_file_name of '..' and unicode",
        lambda tmp: [
            safe_file_name(".."),
            safe_file_name("ünïcode/ñame"),
            safe_file_name("a\0b"),
        ],
        Behaves(
            lambda names: all(
                "/" not in n and "\0" not in n and n not in ("", ".", "..")
                for n in names
            )
        ),
    ),
    Case(
        SURFACE,
        "path_inside of a name that is a symlink out of the folder",
        lambda tmp: _symlinked_name(tmp),
        Raises(ValueError, r"link\.csv.*outside.*plain file names"),
    ),
    Case(
        SURFACE,
        "hostile encoder and task names write only under -o",
        _hostile_encoder_names,
        Behaves(_all_under_out),
    ),
    Case(
        SURFACE,
        "output folder is a file",
        _output_is_file,
        Raises(NotADirectoryError, r"out.*file.*must be a folder"),
    ),
    Case(
        SURFACE,
        "output folder inside a file: refused before any work",
        _nothing_computed_when_output_is_file,
        Raises(NotADirectoryError, r"out.*file.*must be a folder"),
    ),
]


def _files_after_failed_write(tmp):
    try:
        write_outputs(tmp / "out", {"good": TABLE, "../bad": TABLE})
    except ValueError:
        pass
    return _files(tmp)


def _symlinked_name(tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "link.csv").symlink_to(tmp / "elsewhere.csv")
    return path_inside(tmp / "out", "link.csv")


def _report_symlinked_outside(tmp):
    (tmp / "out").mkdir()
    (tmp / "outside.md").write_text("precious")
    (tmp / "out" / "report.md").symlink_to(tmp / "outside.md")
    try:
        write_outputs(tmp / "out", {"scores": TABLE}, report="# report")
    finally:
        assert (tmp / "outside.md").read_text() == "precious"


def _run_output(tmp, output_dir=None, **options):
    return run(stitching_config(tmp / "data"), output_dir, **options)


CASES += [
    Case(
        SURFACE,
        "report.md a symlink out of the output folder",
        _report_symlinked_outside,
        Raises(ValueError, r"report\.md.*outside.*plain file names"),
    ),
    Case(
        SURFACE,
        "run_experiment without an output folder",
        lambda tmp: _run_output(tmp, None),
        Raises(TypeError, r"output_dir.*path of a folder.*None"),
    ),
    Case(
        SURFACE,
        "run_experiment with cache_dir a file",
        lambda tmp: _run_output(tmp, tmp / "out", cache_dir=_file(tmp / "cache.txt")),
        Raises(NotADirectoryError, r"cache_dir.*cache\.txt.*must be a folder"),
    ),
    Case(
        SURFACE,
        "run_experiment with dry_run as a string",
        lambda tmp: _run_output(tmp, tmp / "out", dry_run="no"),
        Raises(TypeError, r"dry_run.*True or False.*'no'"),
    ),
]


def _file(path):
    path.write_text("x")
    return path
