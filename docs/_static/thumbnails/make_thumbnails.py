"""Draw the gallery thumbnails of the examples the docs build renders but does
not run (GPU / hub models): a diagram of each example's pipeline.

Run ``python docs/_static/thumbnails/make_thumbnails.py`` after changing one;
the PNGs are committed beside this script.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).parent
COLORS = {"image": "#4C72B0", "text": "#DD8452", "map": "#55A868", "out": "#8172B3"}

DIAGRAMS = {
    "gpu_rad_dino_to_biolord": (
        "RAD-DINO → BioLORD (GPU)",
        [
            ("chest X-ray", "image"),
            ("RAD-DINO", "image"),
            ("LatentAligner", "map"),
            ("BioLORD space", "text"),
            ("zero-shot finding", "out"),
        ],
    ),
    "clip_baseline_vs_aligned": (
        "CLIP baseline vs aligned towers",
        [
            ("image", "image"),
            ("CLIP image tower", "image"),
            ("LatentAligner", "map"),
            ("CLIP text space", "text"),
            ("zero-shot class", "out"),
        ],
    ),
    "stitch_general_into_medical": (
        "Stitching: general → medical",
        [
            ("image", "image"),
            ("EfficientNet (general)", "image"),
            ("LatentAligner", "map"),
            ("VGG16-MRI space", "text"),
            ("SVM of the target", "out"),
        ],
    ),
}


def draw(title, boxes, path):
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    ax.text(0.5, 0.95, title, ha="center", va="top", fontsize=11, weight="bold")
    step = 0.8 / len(boxes)
    for i, (label, kind) in enumerate(boxes):
        y = 0.82 - i * step
        ax.add_patch(
            FancyBboxPatch(
                (0.15, y - 0.055),
                0.7,
                0.1,
                boxstyle="round,pad=0.01",
                facecolor=COLORS[kind],
                edgecolor="none",
                alpha=0.9,
            )
        )
        ax.text(0.5, y, label, ha="center", va="center", color="white", fontsize=9)
        if i:
            ax.add_patch(
                FancyArrowPatch(
                    (0.5, y + step - 0.06),
                    (0.5, y + 0.05),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="0.3",
                )
            )
    fig.savefig(path)
    plt.close(fig)


def main():
    for name, (title, boxes) in DIAGRAMS.items():
        draw(title, boxes, HERE / f"{name}.png")


if __name__ == "__main__":
    main()
