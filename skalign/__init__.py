"""skalign: scikit-learn-compatible semantic alignment of pretrained encoders.

Stitch a pretrained encoder to a decoder trained on another encoder's space, or
move image embeddings into a text encoder's space for zero-shot classification,
with a map estimated from a few thousand paired anchors and no fine-tuning.
"""

from ._adapter import AdapterAligner
from ._aligner import LatentAligner
from ._downstream_scorer import make_downstream_scorer
from ._kernel import AnchorKernelAligner
from ._self_learning import SelfLearningAligner
from ._solvers import Alignment, fit_alignment
from ._zeroshot import ZeroShotTextSpaceClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "AdapterAligner",
    "Alignment",
    "AnchorKernelAligner",
    "LatentAligner",
    "SelfLearningAligner",
    "ZeroShotTextSpaceClassifier",
    "__version__",
    "fit_alignment",
    "make_downstream_scorer",
]
