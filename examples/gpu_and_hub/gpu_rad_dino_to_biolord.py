"""
======================================================================
Chest X-rays into a biomedical text space: RAD-DINO → BioLORD on a GPU
======================================================================

The paper's medical zero-shot setting: RAD-DINO, a vision transformer trained
on chest radiographs without any text, gains zero-shot classification once its
embeddings are translated into the space of BioLORD-2023, a biomedical
sentence encoder. The map is estimated from radiographs paired with their
reports (MIMIC-CXR in the paper); new studies are then classified from a few
prompts per finding, with no labels.

This example is rendered, not run, by the documentation build: it needs a CUDA
GPU, the two models from the Hugging Face hub (downloaded on first use; set
``HF_HUB_OFFLINE=1`` afterwards) and your own data:

- ``anchors.csv``: one row per anchor study, with a column ``image`` (path of
  a PNG, JPEG or DICOM file) and a column ``report`` (its report text);
- ``new_studies/<study id>/*.dcm``: the studies to classify, one folder per
  study holding its views (frontal, lateral);
- optionally ``labels.csv`` with columns ``study`` and ``finding`` to score
  the predictions.

The same evaluation runs from the command line on embedding files
(``skalign zero-shot``, see :ref:`reproducing_the_paper`).
"""

# sphinx_gallery_thumbnail_path = "_static/thumbnails/gpu_rad_dino_to_biolord.png"

# %%
# Two extractors on the GPU
# -------------------------
# ``dtype="bf16"`` loads the weights in bfloat16 and runs the forward
# under autocast: half the memory, several times the speed on recent GPUs;
# the embeddings come back as float32. ``cache_dir`` keeps every embedding on
# disk, keyed by the model and the file's content, so re-running the script
# (or changing only the prompts or the transform) embeds nothing again.
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from skalign.extract import EmbeddingExtractor

gpu = dict(
    device="cuda",
    dtype="bf16",
    batch_size=64,
    cache_dir="embedding-cache",
    show_progress=True,
)
rad_dino = EmbeddingExtractor("hf:microsoft/rad-dino", modality="image", **gpu)
biolord = EmbeddingExtractor("sentence-transformers:FremyCompany/BioLORD-2023", **gpu)

# %%
# Estimate the map from image–report pairs
# ----------------------------------------
# DICOM files are read with their modality and VOI LUTs (rescale, window) and
# converted to 8-bit RGB before RAD-DINO's own image processor; see
# :func:`skalign.extract.load_image` to check what the model is given.
anchors = pd.read_csv("anchors.csv")
image_anchors = rad_dino.fit_transform(anchors["image"].tolist())  # (n, 768)
report_anchors = biolord.fit_transform(anchors["report"].tolist())  # (n, 768)
aligner = LatentAligner("ortho").fit(image_anchors, report_anchors)
fit_cosine = aligner.score(image_anchors, report_anchors)
print(f"{len(anchors)} anchors, mean cosine on the anchors {fit_cosine:.3f}")

# %%
# With many anchors per feature, compare the transforms by cross-validated
# cosine similarity before choosing (see :ref:`choosing_a_transform`):
from sklearn.model_selection import GridSearchCV

search = GridSearchCV(
    LatentAligner(),
    {"transform_type": ["ortho", "affine", "l-ortho"], "alpha": [0.0, "auto"]},
    cv=5,
).fit(image_anchors, report_anchors)
print(search.best_params_, round(search.best_score_, 3))

# %%
# Classify new studies zero-shot
# ------------------------------
# Each study is a group of views: a list of files per sample, whose
# embeddings are averaged (``view_pooling="mean"``). The fitted aligner is
# wrapped in :class:`~sklearn.frozen.FrozenEstimator` so that nothing refits
# it.
studies = sorted(p for p in Path("new_studies").iterdir() if p.is_dir())
views = [sorted(str(f) for f in study.glob("*.dcm")) for study in studies]
X_new = rad_dino.transform(views)

class_prompts = {
    "pneumonia": [
        "Findings consistent with pneumonia.",
        "Focal consolidation in the right lower lobe, concerning for pneumonia.",
        "Patchy airspace opacity suggestive of infection.",
    ],
    "pleural effusion": [
        "Moderate left pleural effusion.",
        "Blunting of the costophrenic angle consistent with a pleural effusion.",
    ],
    "no finding": [
        "No acute cardiopulmonary process.",
        "The lungs are clear. No pleural effusion or pneumothorax.",
        "Normal chest radiograph.",
    ],
}
classifier = ZeroShotTextSpaceClassifier(
    class_prompts, text_encoder=biolord, aligner=FrozenEstimator(aligner)
).fit(X_new)  # no labels: zero-shot
predictions = pd.DataFrame(
    classifier.predict_proba(X_new),
    index=[study.name for study in studies],
    columns=classifier.classes_,
)
predictions["prediction"] = classifier.predict(X_new)
print(predictions.head())

# %%
# Score against labels, where you have them
# -----------------------------------------
labels_file = Path("labels.csv")
if labels_file.is_file():
    labels = pd.read_csv(labels_file, dtype=str).set_index("study")["finding"]
    truth = labels.reindex(predictions.index)
    known = truth.notna().to_numpy()
    auroc = roc_auc_score(
        truth[known],
        classifier.predict_proba(X_new[known]),
        multi_class="ovr",
        labels=classifier.classes_,
    )
    accuracy = np.mean(predictions["prediction"][known] == truth[known])
    print(f"AUROC {auroc:.3f}, accuracy {accuracy:.3f} on {known.sum()} studies")

# %%
# Keep the map on the GPU
# -----------------------
# :class:`~skalign.LatentAligner` also fits and translates torch tensors on
# their own device, without copying them to the host: useful when the
# embeddings come from your own CUDA pipeline. Factorisations run in float64.
import torch

aligner_gpu = LatentAligner("ortho").fit(
    torch.as_tensor(image_anchors, device="cuda"),
    torch.as_tensor(report_anchors, device="cuda"),
)
translated = aligner_gpu.transform(torch.as_tensor(X_new, device="cuda"))
print(translated.device, translated.dtype)
