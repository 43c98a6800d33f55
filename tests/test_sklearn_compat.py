"""scikit-learn's private helpers come from one module, with working fallbacks."""

import ast
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError, StrOptions
from sklearn.utils.validation import _num_samples

from skalign import _sklearn_compat

PACKAGE = Path(_sklearn_compat.__file__).parent


def _private_sklearn_imports(path):
    """``module.name`` of every private scikit-learn name ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn"
        ):
            private_module = any(p.startswith("_") for p in node.module.split("."))
            for alias in node.names:
                if private_module or alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
    return found


def test_private_helpers_are_imported_in_one_module():
    offenders = {
        str(path.relative_to(PACKAGE)): names
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_sklearn_compat.py"
        and (names := _private_sklearn_imports(path))
    }
    assert not offenders, (
        "import scikit-learn's private helpers from skalign._sklearn_compat: "
        f"{offenders}"
    )


def test_runs_on_the_installed_scikit_learn():
    # CI installs the newest release on the package index (no upper bound).
    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    assert (major, minor) >= (1, 6)
    for name in _sklearn_compat.__all__:
        assert callable(getattr(_sklearn_compat, name))


@pytest.mark.parametrize(
    "x", [np.zeros((7, 3)), [[1, 2], [3, 4], [5, 6]], np.arange(4.0)]
)
def test_num_samples_fallback_agrees_with_scikit_learn(x):
    assert _sklearn_compat.num_samples_fallback(x) == _num_samples(x)


class _Estimator(BaseEstimator):
    _parameter_constraints = {"mode": [StrOptions({"a", "b"})]}

    def __init__(self, mode="a"):
        self.mode = mode

    @_sklearn_compat.fit_context_fallback(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        self.fitted_ = True
        return self


def test_fit_context_fallback_validates_parameters_before_fitting():
    assert _Estimator("b").fit(None).fitted_
    estimator = _Estimator("c")
    with pytest.raises(InvalidParameterError, match="mode"):
        estimator.fit(None)
    assert not hasattr(estimator, "fitted_")
