"""scikit-learn's private helpers, imported in this one module.

skalign validates its parameters as scikit-learn's own estimators do (the
constraints of ``_param_validation``, ``_fit_context``) and checks feature
names and sample weights with ``_check_feature_names`` and
``_check_sample_weight``; scikit-learn keeps all of them private. Every
skalign module imports them from here, so a scikit-learn release that moves
one breaks this file alone, where the fallback goes; the package sets no
upper bound on scikit-learn, and the test suite runs against the newest
release on the package index.

The two helpers with a simple public equivalent fall back to it when
scikit-learn no longer has them: ``_num_samples`` (the length of the first
axis) and ``_fit_context`` (validate the parameters, then fit).
"""

import functools

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    StrOptions,
    make_constraint,
    validate_params,
)

# No public twins: a fitted estimator's feature names against new data, and
# sample weights checked against the rows.
from sklearn.utils._param_validation import Interval as _SklearnInterval
from sklearn.utils.validation import _check_feature_names, _check_sample_weight


class Interval(_SklearnInterval):
    """scikit-learn's ``Interval`` constraint, which refuses booleans.

    scikit-learn's accepts ``True`` as the number 1 (``bool`` is an ``int``):
    ``alpha=True`` or ``n_neighbors=True`` would be coerced, silently. A
    parameter that also takes booleans lists ``"boolean"`` beside it.

    Examples
    --------
    >>> from numbers import Real
    >>> from skalign._sklearn_compat import Interval
    >>> positive = Interval(Real, 0, None, closed="left")
    >>> positive.is_satisfied_by(1.0), positive.is_satisfied_by(True)
    (True, False)
    """

    def is_satisfied_by(self, val):
        if isinstance(val, bool | np.bool_):
            return False
        return super().is_satisfied_by(val)


def fit_context_fallback(*, prefer_skip_nested_validation):
    """``_fit_context`` without scikit-learn: validate the parameters, then fit."""

    def decorator(fit_method):
        @functools.wraps(fit_method)
        def wrapper(estimator, *args, **kwargs):
            estimator._validate_params()
            return fit_method(estimator, *args, **kwargs)

        return wrapper

    return decorator


def num_samples_fallback(x):
    """``_num_samples`` without scikit-learn: the length of the first axis."""
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape is not None else len(x)


try:
    from sklearn.base import _fit_context
except ImportError:  # pragma: no cover - a scikit-learn that moved it
    _fit_context = fit_context_fallback

try:
    from sklearn.utils.validation import _num_samples
except ImportError:  # pragma: no cover - a scikit-learn that moved it
    _num_samples = num_samples_fallback


__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names",
    "_check_sample_weight",
    "_fit_context",
    "_num_samples",
    "make_constraint",
    "validate_params",
]
