"""AnchorKernelAligner against a float64 reference formula."""

import numpy as np
import pytest

from skalign import AnchorKernelAligner


def _reference(X, A, Y, k, temperature):
    X, A, Y = (np.asarray(a, dtype=np.float64) for a in (X, A, Y))
    cos = (X / np.linalg.norm(X, axis=1, keepdims=True)) @ (
        A / np.linalg.norm(A, axis=1, keepdims=True)
    ).T
    out = np.zeros((len(X), Y.shape[1]))
    for i, row in enumerate(cos):
        top = np.argsort(-row, kind="stable")[:k]
        w = np.exp(row[top] / temperature)
        out[i] = (w / w.sum()) @ Y[top]
    return out


@pytest.mark.parametrize("k, temperature", [(1, 0.1), (5, 0.05), (None, 1.0)])
def test_kernel_map_equals_reference_formula(k, temperature):
    rng = np.random.default_rng(0)
    A, Y, X = (
        rng.normal(size=(40, 6)),
        rng.normal(size=(40, 3)),
        rng.normal(size=(7, 6)),
    )
    aligner = AnchorKernelAligner(k, temperature=temperature).fit(A, Y)
    expected = _reference(X, A, Y, 40 if k is None else k, temperature)
    np.testing.assert_allclose(aligner.transform(X), expected, rtol=1e-10)
    out32 = aligner.fit(A.astype(np.float32), Y).transform(X.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, expected, rtol=1e-4, atol=1e-5)


def test_kernel_map_on_tensors_matches_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    A, Y, X = (
        rng.normal(size=(30, 4)),
        rng.normal(size=(30, 5)),
        rng.normal(size=(6, 4)),
    )
    aligner = AnchorKernelAligner(4).fit(A, Y)
    out = aligner.transform(torch.from_numpy(X))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), aligner.transform(X), rtol=1e-10)
