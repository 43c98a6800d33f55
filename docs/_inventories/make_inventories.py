"""Write the intersphinx inventories the docs link out with, for offline builds.

The documentation builds without a network (the test suite builds it with
``-W`` and ``nitpicky``), so intersphinx cannot download the projects'
``objects.inv``. This script writes local inventories instead, two ways:

- **generated from the installed packages** (Python's standard library,
  NumPy, pandas, PyTorch, joblib): every public class, function and method
  found by introspection, placed on its page by the rule that project's docs
  follow (``numpy.X`` -> ``reference/generated/numpy.X.html``), with the
  exceptions to each rule listed in ``*_PAGES``. Any name these projects
  document can be cited without editing this file (re-run it after upgrading
  them to pick up new names);
- **listed by hand** (scikit-learn, SciPy, imbalanced-learn, Pillow, Dask,
  sentence-transformers): the objects skalign's pages reference, each checked
  against the published page. After citing a new one, add it below.

``conf.py`` maps each project's base URL to its file here. Run::

    python docs/_inventories/make_inventories.py

A reference that no inventory resolves fails the build (``nitpicky``), unless
``conf.py``'s ``nitpick_ignore`` lists it with the reason.
"""

import builtins
import importlib
import inspect
import zlib
from pathlib import Path

HERE = Path(__file__).parent

# project -> (display name, {object: (role, page relative to the base URL)})
# "#" + the object's name is appended to each page (Sphinx's anchor) unless
# the page names its own anchor.
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
                ("sklearn.set_config", "function", None),
                (
                    "sklearn.base.ClassifierMixin.score",
                    "method",
                    "sklearn.base.ClassifierMixin",
                ),
                (
                    "sklearn.semi_supervised.SelfTrainingClassifier",
                    "class",
                    None,
                ),
                (
                    "sklearn.utils.metadata_routing.MetadataRequest",
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
    "PIL": (
        "Pillow",
        {"PIL.Image.Image": ("class", "reference/Image.html")},
    ),
    "dask": (
        "Dask",
        {
            "dask.array.Array": ("class", "generated/dask.array.Array.html"),
            "dask.array.from_array": (
                "function",
                "generated/dask.array.from_array.html",
            ),
            "dask.dataframe.DataFrame": (
                "class",
                "generated/dask.dataframe.DataFrame.html",
            ),
        },
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


# -- generated from the installed packages ----------------------------------


def _public(namespace):
    """Public (name, object) pairs of a module or class, sorted by name."""
    names = getattr(namespace, "__all__", None)
    if names is None or inspect.isclass(namespace):  # classes: inherited too
        names = [name for name in dir(namespace) if not name.startswith("_")]
    pairs = []
    for name in sorted(set(names)):
        try:
            pairs.append((name, getattr(namespace, name)))
        except AttributeError:  # listed in __all__ but lazily absent
            continue
    return pairs


def _role(obj):
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return None


def _members(prefix, cls, page):
    """``prefix.member`` entries for the public methods and properties of ``cls``."""
    entries = {}
    for name, member in _public(cls):
        if callable(member):
            entries[f"{prefix}.{name}"] = ("method", page(name))
        elif isinstance(member, property) or inspect.isdatadescriptor(member):
            entries[f"{prefix}.{name}"] = ("attribute", page(name))
    return entries


def _module_entries(module_name, page, *, methods_page=None):
    """Public classes and functions of a module on the page ``page(name)``.

    With ``methods_page(class, member)``, the classes' public methods and
    properties are listed too.
    """
    module = importlib.import_module(module_name)
    entries = {}
    for name, obj in _public(module):
        role = _role(obj)
        if role is None or inspect.ismodule(obj):
            continue
        entries[f"{module_name}.{name}"] = (role, page(name))
        if methods_page is not None and inspect.isclass(obj):
            entries.update(
                _members(
                    f"{module_name}.{name}",
                    obj,
                    lambda member, cls=name: methods_page(cls, member),
                )
            )
    return entries


# The standard-library modules whose objects the docs (docstrings, type hints)
# cite; each is documented on library/<module>.html.
PYTHON_MODULES = (
    "abc collections collections.abc concurrent.futures contextlib csv"
    " dataclasses datetime enum functools glob hashlib io itertools json"
    " logging math multiprocessing numbers os os.path pathlib random re shutil"
    " sqlite3 string tempfile threading time types typing urllib.parse uuid"
    " warnings zipfile"
).split()
# builtins documented outside library/functions.html
PYTHON_PAGES = {
    name: "library/stdtypes.html"
    for name in (
        "bytearray bytes dict frozenset list memoryview range set str tuple"
    ).split()
}


def python_inventory():
    entries = {}
    for module_name in PYTHON_MODULES:
        page = f"library/{module_name}.html"
        entries[module_name] = ("module", f"{page}#module-{module_name}")
        entries.update(
            _module_entries(
                module_name,
                lambda name, page=page: page,
                methods_page=lambda cls, member, page=page: page,
            )
        )
    for name, obj in _public(builtins):
        role = _role(obj)
        if role == "exception":
            entries[name] = (role, "library/exceptions.html")
        elif role is not None:
            entries[name] = (role, PYTHON_PAGES.get(name, "library/functions.html"))
    for name in ("None", "True", "False", "Ellipsis", "NotImplemented"):
        entries[name] = ("data", "library/constants.html")
    return entries


NUMPY_PAGES = {
    "numpy.random.Generator": "reference/random/generator.html",
    "numpy.random.default_rng": "reference/random/generator.html",
    "numpy.random.RandomState": "reference/random/legacy.html",
    "numpy.typing.ArrayLike": "reference/typing.html",
    "numpy.typing.NDArray": "reference/typing.html",
    "numpy.typing.DTypeLike": "reference/typing.html",
}


def numpy_inventory():
    import numpy as np

    def page(name):
        obj = getattr(np, name)
        if inspect.isclass(obj) and issubclass(obj, np.generic):
            return "reference/arrays.scalars.html"  # float32, int64, ...
        return f"reference/generated/numpy.{name}.html"

    entries = _module_entries(
        "numpy",
        page,
        methods_page=lambda cls, member: (
            f"reference/generated/numpy.{cls}.{member}.html"
        ),
    )
    # the scalar types' methods have no page of their own
    scalars = {
        f"numpy.{name}."
        for name, obj in _public(np)
        if inspect.isclass(obj) and issubclass(obj, np.generic)
    }
    entries = {
        name: entry
        for name, entry in entries.items()
        if not any(name.startswith(scalar) for scalar in scalars)
    }
    for name in ("nan", "inf", "pi", "e", "newaxis"):
        entries[f"numpy.{name}"] = ("data", "reference/constants.html")
    for name, page_name in NUMPY_PAGES.items():
        entries[name] = (
            "function" if name.endswith("default_rng") else "class",
            page_name,
        )
    return entries


def pandas_inventory():
    return _module_entries(
        "pandas",
        lambda name: f"reference/api/pandas.{name}.html",
        methods_page=lambda cls, member: f"reference/api/pandas.{cls}.{member}.html",
    )


TORCH_PAGES = {
    "torch.Tensor": ("class", "tensors.html"),
    "torch.device": ("class", "tensor_attributes.html"),
    "torch.dtype": ("class", "tensor_attributes.html"),
    "torch.autocast": ("class", "amp.html"),
    # documented under its full name only
    "torch.inference_mode": (
        "class",
        "generated/torch.autograd.grad_mode.inference_mode.html"
        "#torch.autograd.grad_mode.inference_mode",
    ),
    "torch.autograd.grad_mode.inference_mode": (
        "class",
        "generated/torch.autograd.grad_mode.inference_mode.html",
    ),
    "torch.utils.data.DataLoader": ("class", "data.html"),
    "torch.utils.data.Dataset": ("class", "data.html"),
}


def torch_inventory():
    import torch

    entries = {}
    # functions and classes documented one per generated page
    for module_name in ("torch", "torch.nn", "torch.cuda", "torch.backends.mps"):
        entries.update(
            _module_entries(
                module_name, lambda name, m=module_name: f"generated/{m}.{name}.html"
            )
        )
    entries.update(
        _members(
            "torch.Tensor",
            torch.Tensor,
            lambda member: f"generated/torch.Tensor.{member}.html",
        )
    )
    entries.update(
        _members(
            "torch.nn.Module",
            torch.nn.Module,
            lambda member: "generated/torch.nn.Module.html",
        )
    )
    entries["torch"] = ("module", "torch.html#module-torch")
    entries.update(TORCH_PAGES)
    return entries


def joblib_inventory():
    return _module_entries(
        "joblib",
        lambda name: f"generated/joblib.{name}.html",
        methods_page=lambda cls, member: f"generated/joblib.{cls}.html",
    )


# key -> (display name, function listing {object: (role, page)})
GENERATED = {
    "python": ("Python", python_inventory),
    "numpy": ("NumPy", numpy_inventory),
    "pandas": ("pandas", pandas_inventory),
    "torch": ("PyTorch", torch_inventory),
    "joblib": ("joblib", joblib_inventory),
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
        f"{name} py:{role} 1 {page if '#' in page else page + '#$'} -\n"
        for name, (role, page) in sorted(objects.items())
    )
    return header.encode() + zlib.compress(lines.encode())


def main():
    for key, (project, objects) in INVENTORIES.items():
        (HERE / f"{key}.inv").write_bytes(inventory_bytes(project, objects))
    for key, (project, list_objects) in GENERATED.items():
        (HERE / f"{key}.inv").write_bytes(inventory_bytes(project, list_objects()))


if __name__ == "__main__":
    main()
