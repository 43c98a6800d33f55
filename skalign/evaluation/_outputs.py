"""write_outputs: the one writer of an evaluation's CSV tables, PNG figures and
report, in one folder (the command line and :func:`run_experiment` use it)."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

FIGURE_SIZE = (8, 4.5)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Longest output file name (most file systems allow 255 bytes).
MAX_NAME = 200


def safe_file_name(name):
    """``name`` as a plain file name: only letters, digits, ``.``, ``_`` and ``-``,
    no leading dot, at most 100 characters (a user-given encoder or data set
    name can never name a folder or a path).

    Examples
    --------
    >>> from skalign.evaluation._outputs import safe_file_name
    >>> safe_file_name("../../etc/passwd"), safe_file_name("rad-dino v2")
    ('etc_passwd', 'rad-dino_v2')
    """
    safe = _UNSAFE.sub("_", str(name)).strip("._-")[:100]
    return safe or "unnamed"


#: A spreadsheet opening a CSV runs a cell that starts with one of these as a
#: formula (OWASP's "CSV injection": ``=HYPERLINK(...)``, ``@SUM(...)``);
#: ``+`` and ``-`` only when the text is not a number.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(text):
    """Whether a spreadsheet would run ``text``, written in a CSV cell, as a formula.

    Examples
    --------
    >>> from skalign.evaluation._outputs import formula_like
    >>> formula_like("=HYPERLINK('http://x')"), formula_like("-0.5")
    (True, False)
    >>> formula_like("rad-dino"), formula_like("+cmd")
    (False, True)
    """
    if not isinstance(text, str) or not text.startswith(_FORMULA_STARTS):
        return False
    if text[0] in "+-":
        try:
            float(text)
        except ValueError:
            return True
        return False
    return True


def _check_cells(name, table):
    """Refuse a table with a text cell, column or index name that a spreadsheet
    would run as a formula (names come from configurations people share)."""
    columns = [(f"column name {c!r}", c) for c in table.columns]
    index = [(f"index {table.index.name!r}", v) for v in table.index]
    cells = [
        (f"column {column!r}", value)
        for column in table.columns
        if not pd.api.types.is_numeric_dtype(table[column].dtype)
        for value in table[column].unique()
    ]
    for where, value in [*columns, *index, *cells]:
        if formula_like(value):
            raise ValueError(
                f"The table {name!r} holds the text {value!r} ({where}), which a "
                f"spreadsheet opening {name}.csv would run as a formula (it starts "
                f"with {value[0]!r}). Rename what it names (an encoder, data set, "
                "task, transform or class) so that it starts with a letter or a "
                "digit."
            )


def path_inside(folder, name):
    """``folder / name``, refused unless it stays inside ``folder``.

    Examples
    --------
    >>> from skalign.evaluation._outputs import path_inside
    >>> path_inside("out", "table.csv").as_posix()
    'out/table.csv'
    >>> path_inside("out", "../table.csv")
    Traceback (most recent call last):
    ...
    ValueError: The file name '../table.csv' leads outside the folder 'out'; ...
    """
    folder = Path(folder)
    _check_name(name)
    path = folder / name
    if path.resolve().parent != folder.resolve():
        raise ValueError(
            f"The file name {str(name)!r} leads outside the folder {str(folder)!r}; "
            "name outputs with plain file names (letters, digits, '.', '_', '-')."
        )
    return path


def _check_name(name):
    """Refuse a file name no file system can hold: not text, a NUL byte, too long."""
    if not isinstance(name, str):
        raise TypeError(
            f"The output name {name!r} is a {type(name).__name__}; name outputs "
            "with plain file names (strings of letters, digits, '.', '_', '-')."
        )
    if "\0" in name:
        raise ValueError(
            f"The output name {name!r} holds a NUL byte; name outputs with plain "
            "file names (letters, digits, '.', '_', '-')."
        )
    if len(name.encode()) > MAX_NAME:
        raise ValueError(
            f"The output name {name[:40]!r}... is {len(name.encode())} bytes long; "
            f"give a shorter name, at most {MAX_NAME} bytes."
        )


def _check_outputs(tables, figures, report):
    """Refuse what cannot be written, before anything is: a table that is not a
    DataFrame, a figure that does not draw, a report that is not text, and two
    names that only differ by case (one file on macOS and Windows)."""
    import pandas as pd

    for name, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(
                f"The table {name!r} is a {type(table).__name__}; pass a "
                "pandas.DataFrame (e.g. pd.DataFrame(rows))."
            )
        _check_cells(name, table)
    for name, draw in figures.items():
        draws = draw if isinstance(draw, list | tuple) else [draw]
        if not draws or not all(callable(d) for d in draws):
            raise TypeError(
                f"The figure {name!r} is {draw!r}; pass a callable draw(ax) (or "
                "a list of them), e.g. lambda ax: plot_anchor_curve(curve, ax=ax)."
            )
    if report is not None and not isinstance(report, str):
        raise TypeError(
            f"report is a {type(report).__name__}; pass the report's Markdown text "
            "(a str) or None."
        )
    seen = {}
    for name in [*tables, *figures]:
        other = seen.setdefault(str(name).casefold(), name)
        if other != name:
            raise ValueError(
                f"The output names {other!r} and {name!r} differ only by case, so "
                "they name one file on macOS and Windows; rename one of them."
            )


def write_outputs(output_dir, tables=None, figures=None, report=None):
    """Write tables as CSV, figures as PNG and a Markdown report into ``output_dir``.

    Parameters
    ----------
    output_dir : str or path-like
        Created if needed.
    tables : mapping of str to pandas.DataFrame or None, default=None
        File stem → table, written to ``<stem>.csv``. A table's index is
        written unless it is the default range index.
    figures : mapping of str to callable or list of callable, default=None
        File stem → ``draw(ax)``, called on the axes of a new 8 × 4.5 inch
        figure, saved to ``<stem>.png`` at 150 dpi (e.g.
        ``lambda ax: plot_anchor_curve(curve, ax=ax)``); a list of them draws
        one panel each, stacked (the figure 4.5 inches taller per panel).
    report : str or None, default=None
        Markdown written to ``report.md`` (figures referenced by their file
        names show in it).

    Returns
    -------
    paths : list of pathlib.Path
        The files written: tables, figures, then the report.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from skalign.evaluation import write_outputs
    >>> table = pd.DataFrame({"method": ["ortho"], "AUROC": [0.9]})
    >>> paths = write_outputs(tempfile.mkdtemp(), {"scores": table},
    ...                       {"bars": lambda ax: ax.bar(["ortho"], [0.9])})
    >>> [path.name for path in paths]
    ['scores.csv', 'bars.png']
    """
    output_dir = Path(output_dir)
    tables, figures = tables or {}, figures or {}
    for name in [*tables, *figures]:
        path_inside(output_dir, f"{name}.csv")
        path_inside(output_dir, f"{name}.png")
    path_inside(output_dir, "report.md")
    _check_outputs(tables, figures, report)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = path_inside(output_dir, f"{name}.csv")
        table.to_csv(path, index=not isinstance(table.index, pd.RangeIndex))
        paths.append(path)
    for name, draw in figures.items():
        path = path_inside(output_dir, f"{name}.png")
        _figure(draw if isinstance(draw, list | tuple) else [draw]).savefig(
            path, dpi=150
        )
        paths.append(path)
    if report is not None:
        path = path_inside(output_dir, "report.md")
        path.write_text(report)
        paths.append(path)
    return paths


def _figure(draws):
    """A figure of one panel per ``draw(ax)``, stacked."""
    from matplotlib.figure import Figure

    width, height = FIGURE_SIZE
    figure = Figure(figsize=(width, height * len(draws)), layout="constrained")
    for ax, draw in zip(
        np.atleast_1d(figure.subplots(len(draws), 1)), draws, strict=True
    ):
        draw(ax)
    return figure
