"""Optional dependencies: import them on use, or say which extra installs them.

``pip install skalign`` installs the alignment core only (NumPy, SciPy,
scikit-learn, joblib). Encoders, DICOM, tables and plots
need extras; :func:`import_optional` imports such a package where it is used
and turns its absence into an :class:`ImportError` naming the extra.
"""

import importlib

# Top-level module -> the extra of pyproject.toml that installs it.
EXTRAS = {
    "torch": "extract",
    "torchvision": "extract",
    "PIL": "extract",
    "timm": "extract",
    "tqdm": "extract",
    "sentence_transformers": "sentence-transformers",
    "open_clip": "open-clip",
    "transformers": "hf",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "pydicom": "dicom",
    "pandas": "evaluation",
    "imblearn": "evaluation",
    "matplotlib": "evaluation",
    "dask": "distributed",
    "distributed": "distributed",
    "pyarrow": "parquet",
}


def install_command(extra):
    """The pip command that installs ``extra``.

    Examples
    --------
    >>> from skalign._optional import install_command
    >>> install_command("dicom")
    'pip install "skalign[dicom]"'
    """
    return f'pip install "skalign[{extra}]"'


def import_optional(module, extra=None, *, purpose=None):
    """Import ``module``; when it is missing, say which extra installs it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"pydicom"`` or ``"matplotlib.pyplot"``.
    extra : str, default=None
        The skalign extra that installs it; None: looked up from the top-level
        package in ``EXTRAS``.
    purpose : str, default=None
        What needs it, for the message (e.g. ``"Reading DICOM files"``).

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    ImportError
        When the module (or one of its own dependencies) cannot be imported;
        the message names the ``pip install "skalign[EXTRA]"`` command.

    Examples
    --------
    >>> from skalign._optional import import_optional
    >>> import_optional("json").__name__
    'json'
    """
    top = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = extra or EXTRAS[top]
        needs = f"{purpose} needs" if purpose else "This needs"
        missing = getattr(exc, "name", None)
        if isinstance(exc, ModuleNotFoundError) and missing in (top, module, None):
            problem = "which is not installed"
        else:
            problem = f"which failed to import ({exc})"
        raise ImportError(
            f"{needs} the optional package {top!r}, {problem}: "
            f"{install_command(extra)}."
        ) from exc
