"""Every public name imports, is in the API reference and has a runnable example.

The examples themselves run as doctests (pytest is configured with
``--doctest-modules``); this checks that none is missing.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

PUBLIC_MODULES = (
    "skalign",
    "skalign.datasets",
    "skalign.evaluation",
    "skalign.extract",
    "skalign.metrics",
    "skalign.retrieval",
)
API_REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _public_names():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        assert hasattr(module, "__all__"), f"{module_name} has no __all__"
        for name in module.__all__:
            if not (name.startswith("__") and name.endswith("__")):
                yield module_name, name


PUBLIC_NAMES = sorted(_public_names())


def _documented_names(api_reference):
    """``module.name`` for every entry of the autosummary tables of ``api.rst``."""
    documented, module, in_autosummary = set(), None, False
    for line in api_reference.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\.\. (?:current)?module:: (\S+)", line):
            module = match.group(1)
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            entry = line.strip()
            if line and not line.startswith(" "):
                in_autosummary = False
            elif entry and not entry.startswith(":"):
                documented.add(f"{module}.{entry}")
    return documented


def test_public_modules_list_names():
    assert len(PUBLIC_NAMES) > len(PUBLIC_MODULES)
    skalign = importlib.import_module("skalign")
    assert re.fullmatch(r"\d+\.\d+\.\d+(\S*)", skalign.__version__)


@pytest.mark.parametrize(("module_name", "name"), PUBLIC_NAMES)
def test_public_name_imports(module_name, name):
    module = importlib.import_module(module_name)
    obj = getattr(module, name)
    assert inspect.isclass(obj) or inspect.isfunction(obj), (module_name, name)
    exec(f"from {module_name} import {name}", {})


@pytest.mark.skipif(
    not API_REFERENCE.is_file(), reason="docs/ ships with the source checkout only"
)
def test_api_reference_lists_every_public_name():
    documented = _documented_names(API_REFERENCE)
    missing = [f"{m}.{n}" for m, n in PUBLIC_NAMES if f"{m}.{n}" not in documented]
    assert not missing, f"add these to an autosummary table of docs/api.rst: {missing}"
    public = {f"{m}.{n}" for m, n in PUBLIC_NAMES}
    assert documented <= public, f"not public: {sorted(documented - public)}"


def test_api_reference_parser_reads_autosummary_tables(tmp_path):
    api = tmp_path / "api.rst"
    api.write_text(
        ".. currentmodule:: pkg\n\n.. autosummary::\n   :toctree: generated/\n\n"
        "   Foo\n   bar\n\nText.\n\n.. currentmodule:: pkg.sub\n\n"
        ".. autosummary::\n\n   baz\n"
    )
    assert _documented_names(api) == {"pkg.Foo", "pkg.bar", "pkg.sub.baz"}


@pytest.mark.parametrize(("module_name", "name"), PUBLIC_NAMES)
def test_public_docstring_has_a_runnable_example(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    docstring = inspect.cleandoc(obj.__doc__ or "")  # its own, not inherited
    sections = re.split(r"\n(?=\S[^\n]*\n-{3,}\n)", docstring)
    examples = [s for s in sections if s.startswith("Examples\n--------")]
    assert examples, f"{module_name}.{name} has no Examples section"
    assert re.search(r"^>>> ", examples[0], flags=re.MULTILINE), (
        f"the Examples of {module_name}.{name} hold no doctest (>>> line)"
    )
