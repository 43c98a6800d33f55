"""Torch tensors given to the aligners: dtypes, devices, autograd, layouts."""

import numpy as np
import torch

from skalign import AnchorKernelAligner, LatentAligner
from skalign.evaluation import NaiveAligner
from skalign.metrics import mean_cosine_similarity
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(3)
X = RNG.normal(size=(40, 5))
Y = X @ RNG.normal(size=(5, 3)) + 0.05 * RNG.normal(size=(40, 3))
TX, TY = torch.from_numpy(X), torch.from_numpy(Y)


def _reference():
    return LatentAligner("affine").fit(X, Y)


def _agrees(out, atol=1e-9, dtype=None, X_in=X):
    assert torch.is_tensor(out)
    if dtype is not None:
        assert out.dtype == dtype, out.dtype
    np.testing.assert_allclose(
        out.detach().double().numpy(), _reference().transform(X_in), atol=atol
    )
    return True


def _low_precision_fit(dtype):
    aligner = LatentAligner("affine").fit(TX.to(dtype), TY.to(dtype))
    return aligner.transform(TX.to(dtype))


def _low_precision_agrees(out, dtype):
    assert out.dtype == dtype, out.dtype
    rounded = TX.to(dtype).double().numpy()
    reference = LatentAligner("affine").fit(rounded, TY.to(dtype).double().numpy())
    np.testing.assert_allclose(
        out.double().numpy(), reference.transform(rounded), rtol=0.05, atol=0.05
    )
    return True


CASES = [
    Case(
        "tensors",
        "float64 CPU tensors give the NumPy fit",
        lambda tmp: LatentAligner("affine").fit(TX, TY).transform(TX),
        Behaves(lambda out: _agrees(out, dtype=torch.float64)),
    ),
    Case(
        "tensors",
        "anchors that require grad",
        lambda tmp: (
            LatentAligner("affine")
            .fit(TX.clone().requires_grad_(True), TY)
            .transform(TX.clone().requires_grad_(True))
        ),
        Behaves(lambda out: _agrees(out)),
    ),
    Case(
        "tensors",
        "non-contiguous (transposed) tensors",
        lambda tmp: (
            LatentAligner("affine")
            .fit(TX.T.contiguous().T, TY.T.contiguous().T)
            .transform(TX.T.contiguous().T[::2])
        ),
        Behaves(lambda out: _agrees(out, X_in=X[::2])),
    ),
    Case(
        "tensors",
        "float16 tensors",
        lambda tmp: _low_precision_fit(torch.float16),
        Behaves(lambda out: _low_precision_agrees(out, torch.float16)),
    ),
    Case(
        "tensors",
        "bfloat16 tensors",
        lambda tmp: _low_precision_fit(torch.bfloat16),
        Behaves(lambda out: _low_precision_agrees(out, torch.bfloat16)),
    ),
    Case(
        "tensors",
        "integer tensors",
        lambda tmp: (
            LatentAligner("affine")
            .fit(TX.mul(100).round().long(), TY)
            .transform(TX.mul(100).round().long())
        ),
        Behaves(lambda out: torch.is_tensor(out) and out.dtype.is_floating_point),
    ),
    Case(
        "tensors",
        "bool tensor",
        lambda tmp: LatentAligner().fit(TX > 0, TY),
        Raises(TypeError, r"real floating tensor.*torch.bool.*Embed"),
    ),
    Case(
        "tensors",
        "complex tensor",
        lambda tmp: LatentAligner().fit(TX.to(torch.complex128), TY),
        Raises(TypeError, r"real floating tensor.*complex"),
    ),
    Case(
        "tensors",
        "meta-device source anchors",
        lambda tmp: LatentAligner().fit(torch.empty(40, 5, device="meta"), TY),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "tensors",
        "meta-device target anchors",
        lambda tmp: LatentAligner().fit(TX, torch.empty(40, 3, device="meta")),
        Raises(ValueError, r"y.*meta device.*(cpu|cuda)"),
    ),
    Case(
        "tensors",
        "meta-device batch to transform",
        lambda tmp: _reference().transform(torch.empty(4, 5, device="meta")),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "tensors",
        "3-D tensor",
        lambda tmp: _reference().transform(TX.reshape(8, 5, 5)),
        Raises(ValueError, r"2-D tensor.*3-D.*Reshape"),
    ),
    Case(
        "tensors",
        "tensor with NaN",
        lambda tmp: LatentAligner().fit(torch.where(TX > 1, torch.nan, TX), TY),
        Raises(ValueError, r"NaN.*(Remove|impute)"),
    ),
    Case(
        "tensors",
        "tensor with zero rows to transform",
        lambda tmp: _reference().transform(TX[:0]),
        Raises(ValueError, r"0 sample.*minimum of 1"),
    ),
    Case(
        "tensors",
        "tensor with zero columns",
        lambda tmp: LatentAligner().fit(TX[:, :0], TY),
        Raises(ValueError, r"0 feature.*minimum of 1"),
    ),
    Case(
        "tensors",
        "float32 tensor through a NumPy-fitted aligner",
        lambda tmp: _reference().transform(TX.float()),
        Behaves(lambda out: _agrees(out, atol=1e-5, dtype=torch.float32)),
    ),
    Case(
        "tensors",
        "tensor source and NumPy target anchors",
        lambda tmp: LatentAligner("affine").fit(TX, Y).transform(TX),
        Behaves(lambda out: _agrees(out)),
    ),
    Case(
        "tensors",
        "kernel aligner on float16 tensors",
        lambda tmp: (
            AnchorKernelAligner().fit(TX.half(), TY.half()).transform(TX.half())
        ),
        Behaves(
            lambda out: out.dtype == torch.float16 and bool(torch.isfinite(out).all())
        ),
    ),
    Case(
        "tensors",
        "score on a meta tensor",
        lambda tmp: _reference().score(TX, torch.empty(40, 3, device="meta")),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "tensors",
        "mean_cosine_similarity of tensors of other shapes",
        lambda tmp: mean_cosine_similarity(TY, TY[:-1]),
        Raises(ValueError, r"shape.*\(40, 3\).*\(39, 3\)"),
    ),
]


def _fit_detached(aligner):
    fitted = aligner.fit(
        TX.clone().requires_grad_(True), TY.clone().requires_grad_(True)
    )
    tensors = [v for v in vars(fitted).values() if torch.is_tensor(v)]
    assert tensors and not any(t.requires_grad for t in tensors)
    out = fitted.transform(TX.clone().requires_grad_(True))
    assert out.requires_grad  # gradients still flow through transform
    return True


CASES += [
    Case(
        "tensors",
        "NaiveAligner fitted on anchors that require grad holds no graph",
        lambda tmp: _fit_detached(NaiveAligner()),
        Behaves(bool),
    ),
    Case(
        "tensors",
        "LatentAligner fitted on anchors that require grad holds no graph",
        lambda tmp: _fit_detached(LatentAligner("affine")),
        Behaves(bool),
    ),
]
