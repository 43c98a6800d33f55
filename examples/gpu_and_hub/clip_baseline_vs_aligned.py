"""
====================================================================
CLIP's zero-shot baseline vs a vision-only encoder aligned into CLIP
====================================================================

A multimodal model such as CLIP embeds images and texts in one space, so it
classifies zero-shot directly: :class:`~skalign.ZeroShotTextSpaceClassifier`
with ``aligner=None`` is that standard baseline (prompt ensembles, cosine
similarity, softmax with CLIP's temperature). A vision-only encoder such as
DINOv2 has no text tower; aligned into CLIP's text space from image–caption
anchors, it can use the same prompts.

This example compares the two on CIFAR-10. It is rendered, not run, by the
documentation build: it downloads CLIP ViT-B/32 (LAION-2B), DINOv2-base and
CIFAR-10 on first use and runs best on a GPU (``device="auto"`` picks it).
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/clip_baseline_vs_aligned.png"

# %%
# The encoders
# ------------
# The two towers of one open_clip model are two extractors with the same
# ``model`` and different ``modality``; they share one loaded model.
import matplotlib.pyplot as plt
import numpy as np
from torchvision.datasets import CIFAR10

from skalign import LatentAligner
from skalign.evaluation import plot_zero_shot, zero_shot_report
from skalign.extract import EmbeddingExtractor

CLIP = "open_clip:ViT-B-32/laion2b_s34b_b79k"
common = dict(device="auto", batch_size=256, cache_dir="embedding-cache")
clip_images = EmbeddingExtractor(CLIP, modality="image", **common)
clip_texts = EmbeddingExtractor(CLIP, modality="text", **common)
dinov2 = EmbeddingExtractor("hf:facebook/dinov2-base", **common)

# %%
# Data, anchors and prompts
# -------------------------
# Anchors come from the training split: 2,500 images, each paired with a
# caption naming its class. The test split is classified zero-shot.
train = CIFAR10("cifar10", train=True, download=True)
test = CIFAR10("cifar10", train=False, download=True)
classes = train.classes
rng = np.random.default_rng(0)
anchor_rows = rng.choice(len(train), size=2500, replace=False)
anchor_images = [train[i][0] for i in anchor_rows]
captions = [f"a photo of a {classes[train.targets[i]]}." for i in anchor_rows]
test_images, y_test = [image for image, _ in test], np.asarray(test.targets)

templates = [
    "a photo of a {}.",
    "a blurry photo of a {}.",
    "a low resolution photo of a {}.",
]
prompts = {i: [t.format(name) for t in templates] for i, name in enumerate(classes)}

# %%
# Two zero-shot classifiers
# -------------------------
aligner = LatentAligner("ortho").fit(
    dinov2.fit_transform(anchor_images), clip_texts.fit_transform(captions)
)
methods = {
    # no aligner: CLIP's image embeddings already live in its text space
    "CLIP (image and text towers)": (clip_images.fit_transform(test_images), None),
    "DINOv2 → CLIP text space": (dinov2.transform(test_images), aligner),
}

# %%
# :func:`~skalign.evaluation.zero_shot_report` embeds the prompts once with
# the CLIP text tower, classifies each method's images zero-shot (no labels)
# and scores them on class-balanced subsets (here all 1,000 test images per
# class).
report = zero_shot_report(
    methods,
    {"CIFAR-10": (y_test, prompts)},
    text_encoder=clip_texts,
    show_progress=True,
)
print(report.pivot(index="method", columns="metric", values="mean").round(3))
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_zero_shot(report, metric="roc_auc", ax=axes[0])
plot_zero_shot(report, metric="accuracy", ax=axes[1])
plt.show()
