"""Write the intersphinx inventories the docs link out with, for offline builds.

The documentation builds without a network (the test suite builds it with
``-W``), so intersphinx cannot download the projects' ``objects.inv``. This
script writes small inventories instead: each lists the objects skalign's
pages reference, with the address of their page in that project's docs
(checked against the published pages). ``conf.py`` maps each project's base
URL to its file here. After referencing a new object, add it below and run::

    python docs/_inventories/make_inventories.py

Objects absent from every inventory render as plain code (no warning).
"""

import zlib
from pathlib import Path

HERE = Path(__file__).parent

# project -> (display name, {object: (role, page relative to the base URL)})
# "#" + the object's name is appended to each page (Sphinx's anchor).
_SKLEARN = "modules/generated/{}.html"
INVENTORIES = {
    "sklearn": (
        "scikit-learn",
        {
            name: (role, _SKLEARN.format(page or name))
            for name, role, page in [
                ("sklearn.pipeline.Pipeline", "class", None),
                ("sklearn.pipeline.make_pipeline", "function", None),
                ("sklearn.frozen.FrozenEstimator", "class", None),
                ("sklearn.model_selection.GridSearchCV", "class", None),
                ("sklearn.model_selection.cross_val_score", "function", None),
                ("sklearn.metrics.roc_auc_score", "function", None),
                ("sklearn.metrics.top_k_accuracy_score", "function", None),
                ("sklearn.metrics.pairwise.cosine_similarity", "function", None),
                ("sklearn.utils.Bunch", "class", None),
                ("sklearn.utils.check_array", "function", None),
                ("sklearn.svm.SVC", "class", None),
                ("sklearn.linear_model.Ridge", "class", None),
                ("sklearn.linear_model.RidgeCV", "class", None),
                ("sklearn.linear_model.ridge_regression", "function", None),
                ("sklearn.exceptions.NotFittedError", "class", None),
                (
                    "sklearn.semi_supervised.SelfTrainingClassifier",
                    "class",
                    None,
                ),
                (
                    "sklearn.decomposition.PCA.inverse_transform",
                    "method",
                    "sklearn.decomposition.PCA",
                ),
            ]
        },
    ),
    "scipy": (
        "SciPy",
        {
            "scipy.linalg.orthogonal_procrustes": (
                "function",
                "reference/generated/scipy.linalg.orthogonal_procrustes.html",
            ),
        },
    ),
    "imblearn": (
        "imbalanced-learn",
        {
            "imblearn.under_sampling.RandomUnderSampler": (
                "class",
                "references/generated/imblearn.under_sampling.RandomUnderSampler.html",
            ),
        },
    ),
    "torch": (
        "PyTorch",
        {
            "torch.inference_mode": (
                "class",
                "generated/torch.autograd.grad_mode.inference_mode.html",
            ),
            "torch.autocast": ("class", "amp.html"),
        },
    ),
    "PIL": (
        "Pillow",
        {"PIL.Image.Image": ("class", "reference/Image.html")},
    ),
    "distributed": (
        "Dask.distributed",
        {
            "distributed.LocalCluster": ("class", "api.html"),
            "distributed.Client": ("class", "api.html"),
            "distributed.get_client": ("function", "api.html"),
        },
    ),
    "sentence_transformers": (
        "Sentence Transformers",
        {
            "sentence_transformers.SentenceTransformer": (
                "class",
                "docs/package_reference/sentence_transformer/SentenceTransformer.html",
            ),
        },
    ),
}


def inventory_bytes(project, objects):
    """A Sphinx ``objects.inv`` (version 2) listing ``objects``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: stable\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(
        f"{name} py:{role} 1 {page}#$ -\n"
        for name, (role, page) in sorted(objects.items())
    )
    return header.encode() + zlib.compress(lines.encode())


def main():
    for key, (project, objects) in INVENTORIES.items():
        (HERE / f"{key}.inv").write_bytes(inventory_bytes(project, objects))


if __name__ == "__main__":
    main()
