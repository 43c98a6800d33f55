"""Sphinx configuration for skalign's documentation."""

import os
import warnings

import skalign

project = "skalign"
author = "skalign developers"
copyright = "2026, skalign developers"
release = skalign.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sphinx_copybutton",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# Links into other projects' docs. The build is offline (the test suite builds
# with -W and no network), so each inventory is a local file:
# _inventories/make_inventories.py writes them, generated from the installed
# packages (Python, NumPy, pandas, PyTorch, joblib) or listed by hand (the
# others).
intersphinx_mapping = {
    name: (url, f"_inventories/{name}.inv")
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "pandas": "https://pandas.pydata.org/docs/",
        "torch": "https://docs.pytorch.org/docs/stable/",
        "joblib": "https://joblib.readthedocs.io/en/stable/",
        "sklearn": "https://scikit-learn.org/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "imblearn": "https://imbalanced-learn.org/stable/",
        "PIL": "https://pillow.readthedocs.io/en/stable/",
        "dask": "https://docs.dask.org/en/stable/",
        "distributed": "https://distributed.dask.org/en/stable/",
        "sentence_transformers": "https://sbert.net/",
    }.items()
}

# Every cross-reference must resolve: with -W a broken or misspelt one fails
# the build. The exceptions, each for a reason:
nitpicky = True
nitpick_ignore = [
    # Each entry says why it cannot resolve; cite an object of another project
    # by adding it to _inventories/make_inventories.py instead.
    # ExperimentConfig.zero_shot's annotation: a private record of the checked
    # [zero_shot] keys, which the attribute's description lists.
    ("py:class", "skalign.evaluation._experiment_config.ZeroShot"),
]
# Not an exception but a rendering choice: the labels of scikit-learn's own
# pages that the docstrings of inherited methods cite are shown as plain text
# (_inherited_sklearn_label below).

autosummary_generate = True
# The methods inherited from scikit-learn's mixins are listed with the class
# (set_output, fit_transform, get_feature_names_out, get_params, ...);
# _skip_generated_members leaves out the metadata-routing ones.
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The copy button leaves out prompts and output in doctest-style blocks.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False

html_theme = "pydata_sphinx_theme"
html_title = f"skalign {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
}

# Examples run offline during the build (HF_HUB_OFFLINE is set); only files
# named plot_*.py are executed, the others (GPU, hub models) are rendered.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skalign",),
    # A cell ending in a matplotlib call (fig.suptitle, ax.legend) would
    # print the returned artist's repr; estimators still show their diagram.
    "ignore_repr_types": r"matplotlib\.",
}

# Third-party libraries' own deprecation chatter is not ours to fix.
warnings.filterwarnings("ignore", category=FutureWarning)


def _skip_generated_members(app, what, name, obj, skip, options):
    """Leave out members that other tools generate, documented elsewhere.

    - scikit-learn's ``set_*_request`` methods, added to every estimator whose
      methods take metadata (``sample_weight``): documented in its
      metadata-routing guide, their docstrings point at labels that only
      exist in scikit-learn's docs;
    - the fields of named tuples ("Alias for field number 0"): the class's
      Attributes section describes them.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    if type(obj).__name__ == "_tuplegetter":
        return True
    return skip


# Labels of scikit-learn's own docs cited by the docstrings of the methods our
# estimators inherit (set_output, get_metadata_routing, score): shown as text.
_INHERITED_SKLEARN_LABELS = {
    "accuracy_score",
    "df_output_transform",
    "metadata_routing",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
}


def _inherited_sklearn_label(app, env, node, contnode):
    if node.get("reftype") == "ref" and node.get("reftarget") in (
        _INHERITED_SKLEARN_LABELS
    ):
        return contnode
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_members)
    app.connect("missing-reference", _inherited_sklearn_label)
