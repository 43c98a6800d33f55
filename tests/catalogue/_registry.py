"""Every case of the catalogue, gathered from the ``cases_*`` modules."""

import importlib
import pkgutil
from pathlib import Path


def all_cases():
    """The cases of every ``cases_*`` module of this package, in module order."""
    folder = Path(__file__).parent
    cases = []
    for module in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if module.name.startswith("cases_"):
            cases += importlib.import_module(f"{__package__}.{module.name}").CASES
    return cases
