"""One code path for NumPy arrays and PyTorch tensors (CPU or GPU).

The solvers and the aligner are written against the array API standard through
:mod:`array_api_compat`, so a CUDA tensor is fitted and transformed on its own
device and never copied to the host.
"""

import numpy as np
from array_api_compat import array_namespace, is_dask_array, is_torch_array
from array_api_compat import device as array_device


def get_namespace(*arrays):
    """Return the array-API namespace shared by ``arrays`` (NumPy or PyTorch)."""
    return array_namespace(*arrays)


def solve_dtype(xp, array):
    """Return the floating dtype in which factorisations are computed.

    Factorisations of Gram matrices square the condition number, so they run in
    float64 whatever the input precision; Apple's MPS has no float64 and keeps
    float32.
    """
    if is_torch_array(array) and array.device.type == "mps":
        return xp.float32
    return xp.float64


def to_namespace_of(array, like):
    """Return ``array`` as an array of the namespace, device and dtype of ``like``.

    Fitted attributes live in the namespace they were fitted in; this moves
    them, not the data, when an estimator fitted on NumPy meets a tensor (or the
    reverse).
    """
    if is_torch_array(like):
        import torch

        if not is_torch_array(array):
            # cast on the host first: NumPy's cast is cheaper than torch's .to
            # (bfloat16, which NumPy lacks, goes through float32)
            host_dtype = _numpy_twin(like.dtype)
            array = torch.from_numpy(np.ascontiguousarray(array, dtype=host_dtype))
        return array.to(device=like.device, dtype=like.dtype)
    return np.asarray(to_numpy(array), dtype=like.dtype)


def _numpy_twin(torch_dtype):
    """The NumPy dtype a tensor of ``torch_dtype`` converts to (float32 for
    the dtypes NumPy lacks, e.g. bfloat16)."""
    import torch

    try:
        return torch.empty(0, dtype=torch_dtype).numpy().dtype
    except TypeError:
        return np.dtype(np.float32)


def host_view(array):
    """A zero-copy NumPy view of a CPU float32/float64 tensor; anything else as is.

    CPU tensors are solved through NumPy and SciPy (their factorisations and
    thread pools are faster than torch's on CPU, and LAPACK's Cholesky is
    reachable there); the fitted attributes go back to torch with
    :func:`to_namespace_of`.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._backend import host_view
    >>> host_view(np.ones(2)).tolist()
    [1.0, 1.0]
    """
    if not is_torch_array(array) or array.device.type != "cpu":
        return array
    import torch

    if array.dtype not in (torch.float32, torch.float64):
        return array
    return array.detach().numpy()


def refuse_meta_tensor(array, input_name=None):
    """Refuse a tensor on the meta device, which holds shapes but no values.

    Examples
    --------
    >>> import torch
    >>> from skalign._backend import refuse_meta_tensor
    >>> refuse_meta_tensor(torch.zeros(2, 3, device="meta"), "X")
    Traceback (most recent call last):
    ...
    ValueError: X is a tensor on the meta device, which holds shapes but no ...
    """
    if is_torch_array(array) and array.device.type == "meta":
        what = input_name or f"A tensor of shape {tuple(array.shape)}"
        raise ValueError(
            f"{what} is a tensor on the meta device, which holds shapes but no "
            "values. Pass a tensor with data (e.g. materialise the model that "
            "produced it, or move it to 'cpu' or 'cuda')."
        )


def to_numpy(array):
    """Return ``array`` as a NumPy array (a device tensor is copied to the host).

    A tensor of a dtype NumPy lacks (bfloat16) becomes float32; a tensor on
    the meta device, which holds no values, is refused.
    """
    if is_torch_array(array):
        refuse_meta_tensor(array)
        host = array.detach().cpu()
        try:
            return host.numpy()
        except TypeError:  # a dtype NumPy lacks
            return host.float().numpy()
    return np.asarray(array)


def on_host(array):
    """A tensor as a NumPy array (see :func:`to_numpy`; meta tensors are
    refused); anything else as it is, so that a DataFrame keeps its column
    names for scikit-learn's feature-name checks."""
    return to_numpy(array) if is_torch_array(array) else array


def take_rows(array, rows):
    """Rows ``rows`` (NumPy indices) of an array or a tensor, kept on its device."""
    if is_torch_array(array):
        import torch

        return array[torch.as_tensor(rows, device=array.device)]
    return array[rows]


def float_scalar(value):
    """Return a 0-d array or tensor as a Python float."""
    return float(to_numpy(value))


__all__ = [
    "array_device",
    "float_scalar",
    "get_namespace",
    "is_dask_array",
    "is_torch_array",
    "solve_dtype",
    "take_rows",
    "to_namespace_of",
    "to_numpy",
]
