"""
==============
Fewer anchors
==============

Paired anchors (the same item seen by both encoders) are the expensive part of
an alignment; unpaired embeddings are cheap. This example stitches
all-MiniLM-L6-v2 into a decoder trained on paraphrase-MiniLM-L3-v2 (as in
:ref:`sphx_glr_auto_examples_plot_02_stitching_anchor_curve.py`) from 10 to
400 pairs, and compares the paper's pairs-only ``ortho`` map with three
aligners that go beyond it:

- :class:`~skalign.SelfLearningAligner` also reads the *unpaired* embeddings:
  it matches translated source rows to target rows by CSLS mutual nearest
  neighbours and refits on pairs + matches (VecMap / MUSE self-learning);
- :class:`~skalign.AdapterAligner` adds reversible additive-coupling blocks
  on top of the ``ortho`` map, trained on the pairs with early stopping;
- :class:`~skalign.AnchorKernelAligner` solves nothing: a translation is a
  softmax-weighted mean of the target anchors most similar to the input.
"""

# %%
# The sentences, both encoders, and a decoder on the target
# ----------------------------------------------------------
# A quarter of the sentences trains the decoder (a linear SVM on the target
# embeddings), a quarter is the test set (source embeddings, seen by nobody),
# and the pairs are drawn from the other half.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import label_binarize
from sklearn.svm import SVC

from skalign.datasets import load_docstring_topics
from skalign.evaluation import protocol_split
from skalign.extract import EmbeddingExtractor

cache_dir = Path(tempfile.gettempdir()) / "skalign-examples"
topics = load_docstring_topics(n_per_topic=200)
texts, y = list(topics.texts), topics.target
source = EmbeddingExtractor("all-minilm-l6-v2", cache_dir=cache_dir).fit_transform(
    texts
)
target = EmbeddingExtractor("paraphrase-minilm-l3", cache_dir=cache_dir).fit_transform(
    texts
)
split = protocol_split(y, anchor_size=0.5, test_size=0.25, random_state=0)
train, anchor_pool, test = (
    np.flatnonzero(split == part) for part in ("train", "anchor", "test")
)
decoder = SVC(kernel="linear").fit(target[train], y[train])


def stitched_auroc(aligner):
    """One-vs-rest AUROC of the target's decoder on aligned test sentences."""
    stitched = make_pipeline(aligner, FrozenEstimator(decoder))
    scores = stitched.decision_function(source[test])
    return roc_auc_score(label_binarize(y[test], classes=decoder.classes_), scores)


# %%
# Unpaired rows: NaN on the other side
# ------------------------------------
# :class:`~skalign.SelfLearningAligner` takes the pairs and the unpaired rows
# in one ``(X, y)``, with the convention of scikit-learn's
# :class:`~sklearn.semi_supervised.SelfTrainingClassifier`: a row whose ``y``
# is all NaN is an unpaired source embedding, a row whose ``X`` is all NaN an
# unpaired target embedding. The unpaired rows here are every sentence that is
# neither a pair nor a test sentence (at most 300 per side, to keep the
# example fast), and the target side is shuffled: no pairing among them is
# known.
rng = np.random.default_rng(0)


def with_unpaired(pairs):
    unpaired = np.setdiff1d(np.concatenate([train, anchor_pool]), pairs)
    unpaired = rng.choice(unpaired, min(300, len(unpaired)), replace=False)
    n, d1, d2 = len(unpaired), source.shape[1], target.shape[1]
    X = np.vstack([source[pairs], source[unpaired], np.full((n, d1), np.nan)])
    Y = np.vstack(
        [target[pairs], np.full((n, d2), np.nan), target[rng.permutation(unpaired)]]
    )
    return X, Y


pairs = rng.choice(anchor_pool, 25, replace=False)
X, Y = with_unpaired(pairs)
print(f"25 pairs + {np.isnan(Y[:, 0]).sum()} unpaired rows per side: X {X.shape}")

# %%
# The curve: AUROC against the number of pairs
# --------------------------------------------
# One random draw of pairs per count, and the adapter trained for at most 200
# steps (the benchmark ``bench_beyond.py`` averages three draws, with the
# defaults).
from skalign import (
    AdapterAligner,
    AnchorKernelAligner,
    LatentAligner,
    SelfLearningAligner,
)

n_pairs = [10, 25, 50, 100, 400]
aligners = {
    "ortho (pairs only)": LatentAligner("ortho"),
    "self-learning (+ unpaired)": SelfLearningAligner(),
    "adapter": AdapterAligner(max_iter=200, random_state=0),
    "anchor kernel": AnchorKernelAligner(),
}
auroc = {name: [] for name in aligners}
for n in n_pairs:
    pairs = rng.choice(anchor_pool, n, replace=False)
    for name, aligner in aligners.items():
        if isinstance(aligner, SelfLearningAligner):
            aligner.fit(*with_unpaired(pairs))
        else:
            aligner.fit(source[pairs], target[pairs])
        auroc[name].append(stitched_auroc(aligner))
    learner = aligners["self-learning (+ unpaired)"]
    print(
        f"{n:>3} pairs: {len(learner.matches_)} matches kept, matches per round "
        f"{learner.n_matches_per_round_}"
    )

upper_bound = roc_auc_score(
    label_binarize(y[test], classes=decoder.classes_),
    decoder.decision_function(target[test]),
)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for name, values in auroc.items():
    ax.plot(n_pairs, values, marker="o", label=name)
ax.axhline(upper_bound, color="gray", linestyle="--", label="decoder on its encoder")
ax.set(
    xscale="log",
    xticks=n_pairs,
    xticklabels=[str(n) for n in n_pairs],
    xlabel="paired anchors",
    ylabel="stitched AUROC",
    title="all-MiniLM-L6-v2 → paraphrase-MiniLM-L3-v2 decoder",
)
ax.legend()
for name, values in auroc.items():
    print(f"{name:>28}: " + "  ".join(f"{v:.3f}" for v in values))

# %%
# With 25 pairs the self-learning aligner reaches about what ``ortho`` needs
# 400 pairs for: the unpaired embeddings pin down the rotation that 25 pairs
# leave loose. Its matches are guarded (mutual nearest neighbours, at most
# ``max_match_ratio`` matches per pair, and a cross-validated check on the
# pairs that keeps the pairs-only map when the matches do not help), so it
# falls back to ``ortho`` when the unpaired pools hold no true pair. The
# adapter starts at its ``ortho`` base and only moves where held-out pairs
# improve, so it tracks ``ortho``; the kernel map is a cheap nonlinear
# baseline whose translations stay inside the span of the target anchors.
plt.show()
