"""The paper's evaluation protocol, one call each.

- :func:`anchor_curve`: stitching scores of every transform against the
  number of anchors, with the naive floor and the upper bound (Fig. 3);
- :func:`stitching_report` and :func:`stitching_table`: stitching at one
  anchor count, for one pair or for groups of encoders;
- :func:`pooled_anchor_curve` and :func:`pooled_stitching_table`: the same
  pooled over every encoder pair and task, mean ± std per modality (Fig. 3)
  and per domain group (Table 1);
- :func:`zero_shot_report`: zero-shot classification in a text space over
  several tasks (Fig. 4), and :func:`zero_shot_from_reports`, the same from
  embedding files with the alignment fitted on image–report pairs;
- :class:`Protocol`: the protocol's settings and their defaults, one record
  for the functions above, the command line and the experiment configuration,
  with the decoders by name;
- :func:`balanced_subset` and :func:`protocol_split`: the balanced test
  subsets and the train / anchor / test split;
- :class:`NaiveAligner`: the naive floor, zero-padding without alignment;
- :func:`plot_anchor_curve`, :func:`plot_stitching_table`,
  :func:`plot_zero_shot`: the figures, and :func:`write_outputs`, which saves
  tables and figures;
- :func:`read_embeddings`, :func:`read_labels`, :func:`read_prompts` and
  :func:`pair_files`: the files of the command line;
- :func:`run_experiment`: the paper's whole experiment (Fig. 3, Table 1,
  Fig. 4 and a report) from one configuration (``skalign experiment``),
  checked by :class:`ExperimentConfig` (errors: :class:`ConfigError`);
  ``skalign demo`` runs it on the packaged configuration ``"skalign:demo"``.
"""

from . import _dependencies  # noqa: F401  (names the extra if pandas is missing)
from ._curves import anchor_curve
from ._experiment import run_experiment
from ._experiment_config import ConfigError, ExperimentConfig
from ._io import EmbeddingFile, pair_files, read_embeddings, read_labels, read_prompts
from ._naive import NaiveAligner
from ._outputs import write_outputs
from ._plots import plot_anchor_curve, plot_stitching_table, plot_zero_shot
from ._pooled import pooled_anchor_curve, pooled_stitching_table
from ._protocol import Protocol
from ._subsets import balanced_subset, protocol_split
from ._tables import stitching_report, stitching_table
from ._zeroshot_eval import zero_shot_report
from ._zeroshot_files import zero_shot_from_reports

__all__ = [
    "ConfigError",
    "EmbeddingFile",
    "ExperimentConfig",
    "NaiveAligner",
    "Protocol",
    "anchor_curve",
    "balanced_subset",
    "pair_files",
    "plot_anchor_curve",
    "plot_stitching_table",
    "plot_zero_shot",
    "pooled_anchor_curve",
    "pooled_stitching_table",
    "protocol_split",
    "read_embeddings",
    "read_labels",
    "read_prompts",
    "run_experiment",
    "stitching_report",
    "stitching_table",
    "write_outputs",
    "zero_shot_from_reports",
    "zero_shot_report",
]
