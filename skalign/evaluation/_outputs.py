"""write_outputs: the CSV tables and PNG figures of an evaluation, in one folder."""

from pathlib import Path

import pandas as pd

FIGURE_SIZE = (8, 4.5)


def write_outputs(output_dir, tables=None, figures=None):
    """Write tables as CSV and figures as PNG into ``output_dir``.

    Parameters
    ----------
    output_dir : str or path-like
        Created if needed.
    tables : mapping of str to pandas.DataFrame or None, default=None
        File stem → table, written to ``<stem>.csv``. A table's index is
        written unless it is the default range index.
    figures : mapping of str to callable or None, default=None
        File stem → ``draw(ax)``, called on the axes of a new 8 × 4.5 inch
        figure, saved to ``<stem>.png`` at 150 dpi (e.g.
        ``lambda ax: plot_anchor_curve(curve, ax=ax)``).

    Returns
    -------
    paths : list of pathlib.Path
        The files written, tables first.

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
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in (tables or {}).items():
        path = output_dir / f"{name}.csv"
        table.to_csv(path, index=not isinstance(table.index, pd.RangeIndex))
        paths.append(path)
    for name, draw in (figures or {}).items():
        from matplotlib.figure import Figure

        figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
        draw(figure.subplots())
        path = output_dir / f"{name}.png"
        figure.savefig(path, dpi=150)
        paths.append(path)
    return paths
