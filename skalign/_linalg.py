"""Linear-algebra primitives shared by the solvers and the alpha search."""

from ._backend import get_namespace


def nonzero_eigh(gram, size, eps=None):
    """Eigenpairs of a symmetric PSD matrix above ``size · eps · λ_max``.

    ``eps`` defaults to the machine epsilon of ``gram``'s dtype; pass the
    resolution of the data the matrix was computed from when it is coarser.
    """
    xp = get_namespace(gram)
    eps = xp.finfo(gram.dtype).eps if eps is None else eps
    eigenvalues, basis = xp.linalg.eigh(gram)
    keep = eigenvalues > xp.max(eigenvalues) * size * eps
    return eigenvalues[keep], basis[:, keep]
