"""Aligners whose fitted map is affine in the raw spaces (LatentAligner, NaiveAligner).

The map is stored as the paper states it: ``coef_`` and ``intercept_`` act on
the standardised spaces, between the anchor statistics ``x_mean_``,
``x_scale_`` and ``y_mean_``, ``y_scale_``. It is folded into one affine map
(one matrix product per batch) for :meth:`transform`, and pseudo-inverted for
:meth:`inverse_transform`.
"""

import warnings

from ._backend import get_namespace, solve_dtype, to_namespace_of
from ._base import BaseAligner
from ._preprocessing import apply_affine_map, compose_affine_map, invert_affine_map


class AffineMapAligner(BaseAligner):
    """Base of the aligners that translate by ``x ↦ x W + b``.

    A subclass's ``_fit(X, Y, sample_weight=None)`` computes the map in the
    standardised spaces and the anchor statistics (weighted when weights are
    given), then calls :meth:`_set_affine_map`.
    """

    def _set_affine_map(self, coef, intercept, statistics, *, like):
        """Store the map, each array in the namespace, device and dtype of ``like``."""
        # converted first, so the composed map is built in the output dtype
        # (no second d x d float64 array beside the solver's); composed before
        # anything is stored, so a map that cannot be held changes nothing
        coef, intercept = to_namespace_of(coef, like), to_namespace_of(intercept, like)
        x_mean, x_scale, y_mean, y_scale = (
            to_namespace_of(statistic, like) for statistic in statistics
        )
        weights, bias = compose_affine_map(
            coef, intercept, x_mean, x_scale, y_mean, y_scale
        )
        self.coef_, self.intercept_ = coef, intercept
        self._weights, self._bias = weights, bias
        self.x_mean_, self.x_scale_ = x_mean, x_scale
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        self.l2_normalize_ = bool(self.l2_normalize)

    def _transform(self, X):
        return apply_affine_map(
            X,
            to_namespace_of(self._weights, X),
            to_namespace_of(self._bias, X),
            unit_rows=self.l2_normalize_,
        )

    def _inverse_transform(self, Y):
        """The pseudo-inverse of the map (over its non-negligible singular values).

        The round trip ``inverse_transform(transform(X))`` is exact only when
        the map is injective: fewer source than target features and more
        anchors than source features, e.g. ``ortho`` from a smaller into a
        larger space. Otherwise the map has rank ``r < n_features_in_`` (at
        most ``n_samples - 1`` with centring when anchors are fewer than
        features) and the result is the minimum-norm preimage: in the
        standardised source space, the orthogonal projection onto the
        ``r``-dimensional row space of ``coef_`` (for least-squares maps with
        ``n_target_features >= n_samples - 1``, the span of the centred
        anchors, so the anchors themselves round-trip exactly). A
        ``UserWarning`` says so. With ``l2_normalize=True`` the result lives
        among unit-norm source embeddings.
        """
        xp = get_namespace(self.coef_)
        work = solve_dtype(xp, self.coef_)
        fitted = (
            self.coef_,
            self.intercept_,
            self.x_mean_,
            self.x_scale_,
            self.y_mean_,
            self.y_scale_,
        )
        weights, bias, rank = invert_affine_map(
            *(xp.astype(a, work) for a in fitted),
            eps=float(xp.finfo(self.coef_.dtype).eps),
        )
        if rank < self.n_features_in_:
            warnings.warn(
                f"The fitted map has rank {rank} < n_features_in_="
                f"{self.n_features_in_} (fewer anchors than source features, or "
                "a smaller target space), so inverse_transform returns the "
                "minimum-norm preimage: source directions outside the map's "
                "row space are set to the anchors' mean, not recovered.",
                UserWarning,
                stacklevel=3,
            )
        return apply_affine_map(
            Y,
            to_namespace_of(weights, Y),
            to_namespace_of(bias, Y),
            unit_rows=self.l2_normalize_,
        )
