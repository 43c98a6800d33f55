"""LatentAligner on torch tensors passes scikit-learn's array API input check,
and n_iter_ exists only where something iterates."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_array_api_input

from skalign import LatentAligner

pytest.importorskip("torch")


class _ArrayAPIAligner(LatentAligner):
    """The tag set, as scikit-learn's check requires; the real tag stays False
    because array_api_strict arrays are not supported."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_torch_tensors_pass_the_array_api_input_check(monkeypatch, dtype_name):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check_array_api_input(
        "LatentAligner",
        _ArrayAPIAligner(),
        array_namespace="torch",
        device_name="cpu",
        dtype_name=dtype_name,
        check_values=True,
    )


def test_the_tag_is_honest():
    assert LatentAligner().__sklearn_tags__().array_api_support is False


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_n_iter_is_set_by_adam_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 3))
    aligner = LatentAligner("affine", solver="adam", max_iter=50).fit(X, Y)
    assert 1 <= aligner.n_iter_ <= 50
    aligner.set_params(solver="closed-form").fit(X, Y)
    assert not hasattr(aligner, "n_iter_")
