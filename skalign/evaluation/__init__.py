"""The paper's evaluation protocol, one call each.

- :func:`anchor_curve`: stitching scores of every transform against the
  number of anchors, with the naive floor and the upper bound (Fig. 3);
- :func:`stitching_report` and :func:`stitching_table`: stitching at one
  anchor count, for one pair or for groups of encoders (Table 1);
- :func:`zero_shot_report`: zero-shot classifiers over several tasks (Fig. 4);
- :func:`balanced_subset` and :func:`protocol_split`: the balanced test
  subsets and the train / anchor / test split;
- :class:`NaiveAligner`: the naive floor, zero-padding without alignment;
- :func:`plot_anchor_curve`, :func:`plot_stitching_table`,
  :func:`plot_zero_shot`: the figures;
- :func:`read_embeddings`: the embedding files of the command line.
"""

from ._curves import anchor_curve
from ._io import EmbeddingFile, read_embeddings
from ._naive import NaiveAligner
from ._plots import plot_anchor_curve, plot_stitching_table, plot_zero_shot
from ._subsets import balanced_subset, protocol_split
from ._tables import stitching_report, stitching_table
from ._zeroshot_eval import zero_shot_report

__all__ = [
    "EmbeddingFile",
    "NaiveAligner",
    "anchor_curve",
    "balanced_subset",
    "plot_anchor_curve",
    "plot_stitching_table",
    "plot_zero_shot",
    "protocol_split",
    "read_embeddings",
    "stitching_report",
    "stitching_table",
    "zero_shot_report",
]
