"""AdapterAligner: a linear map followed by reversible additive-coupling blocks."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._aligner import LatentAligner
from ._backend import (
    get_namespace,
    is_torch_array,
    take_rows,
    to_namespace_of,
    to_numpy,
)
from ._base import BaseAligner
from ._optional import import_optional
from ._preprocessing import anchor_statistics, power_of_two_magnitude
from ._sklearn_compat import HasMethods, Interval, StrOptions
from ._solvers import TRANSFORM_TYPES
from ._validation import check_fit_takes_weights, check_translation_width


class AdapterAligner(BaseAligner):
    """A linear map refined by reversible additive-coupling blocks.

    The base map (a :class:`LatentAligner`) translates the source; the
    translation is standardised with the target anchors' statistics, passed
    through ``n_blocks`` additive-coupling blocks (ClinVLA's reversible
    adapter) and de-normalised. A block splits its input into halves
    ``e1, e2`` and returns ``o1 = e1 + F(e2)``, ``o2 = e2 + G(o1)``, with
    ``F``, ``G`` small down-ReLU-up projections; it is inverted exactly by
    ``e2 = o2 - G(o1)``, ``e1 = o1 - F(e2)``, whatever its weights.

    The down-projections are drawn at random; the up-projections start in
    closed form: with the down-projections fixed, each projection is linear
    in its up-projection, which is the ridge fit of what the previous blocks
    left of the residual between the base map's translation and the target
    (penalty chosen on a held-out part of the anchors). Then the blocks are
    refined with Adam on the anchors (mean squared error in the standardised
    target space) while the held-out anchors are watched: the weights with
    the best held-out mean cosine similarity are kept (the identity, i.e.
    the base map, if neither the closed form nor training beats it), and
    training stops after ``n_iter_no_change`` steps without a better one.

    Parameters
    ----------
    base : {"ortho", "affine", "linear", "l-ortho"} or transformer, default="ortho"
        The linear map: a ``transform_type`` of :class:`LatentAligner`, or an
        estimator with ``fit(X, y)`` and ``transform`` (a clone is fitted),
        e.g. ``LatentAligner("affine", alpha="auto")``.
    n_blocks : int >= 1, default=2
        Number of coupling blocks.
    hidden : int >= 1, default=64
        Width of the hidden layer of ``F`` and ``G``.
    alpha : float >= 0, default=1e-3
        Adam's weight decay (an L2 penalty on the block weights).
    learning_rate : float > 0, default=1e-3
        Adam's step size.
    max_iter : int >= 1, default=20
        Most Adam steps after the closed-form start (full-batch: one step is
        one epoch over the anchors).
    n_iter_no_change : int >= 1, default=5
        Training stops after this many steps without a better held-out score.
    validation_fraction : float in (0, 1), default=0.2
        Share of the anchors held out for early stopping. The blocks are
        trained on the base map fitted to the other anchors, so that the
        held-out score is honest; the final base map is refitted on all
        anchors.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split and the down-projections' initialisation.
    device : str or None, default=None
        Torch device the blocks are trained on; None is the device of ``X``
        when it is a tensor, else ``"cpu"``.

    Attributes
    ----------
    base_ : transformer
        The base map fitted on all anchors.
    blocks_ : list of dict
        Per block, ``"F"`` and ``"G"``: ``(down_weight, down_bias,
        up_weight, up_bias)`` NumPy arrays of the anchors' dtype. Empty when
        the target space has a single feature.
    y_mean_, y_scale_ : ndarray of shape (n_target_features,)
        Target anchor statistics that standardise the blocks' space.
    n_iter_ : int
        Adam steps run (0 when the blocks were not trained).
    best_iter_ : int
        Index into ``validation_scores_`` of the kept weights: 0 the
        identity (the base map), 1 the closed-form start, ``k + 1`` the
        weights after Adam step ``k``.
    validation_scores_ : list of float
        Held-out mean cosine similarity of the identity, of the closed-form
        start, and after every Adam step.
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features,)
        Source width and, for ``X`` with string column names, feature names.

    See Also
    --------
    LatentAligner : The linear maps.

    Notes
    -----
    Training runs in torch (an optional dependency, imported by :meth:`fit`)
    in float32, seeded and deterministic on CPU. :meth:`transform` and
    :meth:`inverse_transform` run in the namespace and on the device of
    their input (NumPy needs no torch).

    The coupling blocks are inverted exactly whatever their weights, so
    ``inverse_transform(transform(x))`` returns ``x`` exactly when the base
    map does: ``base_.inverse_transform(base_.transform(x)) == x``. For
    ``ortho`` into a space at least as wide this holds for every ``x`` only
    when the anchors span the source space (at least as many anchors as
    source features). With fewer anchors than features, the minimum-norm
    base map is zero off the span of the (centred) anchors: only the
    component of ``x`` in that span comes back: the round trip is exact for
    the anchors, not for new points (e.g. 384 -> 768 from fewer than 384
    anchors).

    With ``sample_weight``, each anchor pair weighs its weight in the base
    map (fitted with ``sample_weight``), the target statistics, the
    closed-form start (weighted ridge fits), the training loss (a weighted
    mean of the squared errors) and the held-out score (a weighted mean of
    the cosines). The held-out split deals out pairs, not weight, so integer
    weights are not repeated rows here (a repeated pair could fall on both
    sides of the split): ``base_``, ``y_mean_`` and ``y_scale_`` equal those
    of the repeated rows, the blocks do not. What holds exactly: a pair of
    zero weight is removed before anything else (the fit equals the fit
    without it), and uniform weights give the unweighted fit.

    Examples
    --------
    A target space that is a bent copy of the source: the blocks learn the
    bend that the rotation alone cannot, and the round trip stays exact.

    >>> import numpy as np
    >>> from skalign import AdapterAligner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 4))
    >>> Y = np.c_[X[:, :2], X[:, 2:] + np.tanh(X[:, :2])]
    >>> adapter = AdapterAligner(random_state=0).fit(X[:300], Y[:300])
    >>> adapter.best_iter_ > 0
    True
    >>> bool(adapter.score(X[300:], Y[300:]) > adapter.base_.score(X[300:], Y[300:]))
    True
    >>> bool(np.allclose(adapter.inverse_transform(adapter.transform(X)), X, atol=1e-6))
    True
    """

    _parameter_constraints: dict = {
        "base": [StrOptions(set(TRANSFORM_TYPES)), HasMethods(["fit", "transform"])],
        "n_blocks": [Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "device": [None, str],
    }

    def __init__(
        self,
        base="ortho",
        *,
        n_blocks=2,
        hidden=64,
        alpha=1e-3,
        learning_rate=1e-3,
        max_iter=20,
        n_iter_no_change=5,
        validation_fraction=0.2,
        random_state=None,
        device=None,
    ):
        self.base = base
        self.n_blocks = n_blocks
        self.hidden = hidden
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device

    def _fit(self, X, Y, sample_weight=None):
        """Fit the base map, then train the coupling blocks on the anchors."""
        import_optional("torch", purpose="AdapterAligner (its coupling blocks)")
        device = self._device(X)
        _check_float32_range(alpha=self.alpha, learning_rate=self.learning_rate)
        template = LatentAligner(self.base) if isinstance(self.base, str) else self.base
        if sample_weight is not None:
            check_fit_takes_weights(template, self)
            X, Y, sample_weight = _drop_unweighted(X, Y, sample_weight)
        rng = check_random_state(self.random_state)
        order = rng.permutation(X.shape[0])
        n_val = max(1, round(self.validation_fraction * X.shape[0]))
        val, train = order[:n_val], order[n_val:]
        # safe at any magnitude (1e200 would square to infinity, 1e-200 to 0)
        y_mean, y_scale = anchor_statistics(
            to_numpy(Y).astype(np.float64), weights=sample_weight
        )
        blocks, scores, n_iter = [], [], 0
        if train.size >= 2 and Y.shape[1] >= 2:
            probe = _fit_weighted(template, X, Y, sample_weight, train)
            check_translation_width(probe, X, Y.shape[1], owner=self, param="base")
            standardise = _standardiser(y_mean, y_scale)
            blocks, scores, n_iter = _train_blocks(
                self,
                [
                    standardise(probe.transform(take_rows(X, rows)))
                    for rows in (train, val)
                ],
                [standardise(take_rows(Y, rows)) for rows in (train, val)],
                _in_unit_range(y_mean, y_scale),
                weights=None
                if sample_weight is None
                else [_mean_one(sample_weight[rows]) for rows in (train, val)],
                seed=int(rng.randint(np.iinfo(np.int32).max)),
                device=device,
            )
        dtype = to_numpy(X[:1]).dtype
        base = _fit_weighted(template, X, Y, sample_weight)
        check_translation_width(base, X, Y.shape[1], owner=self, param="base")
        self.base_ = base
        self.blocks_ = [
            {name: tuple(w.astype(dtype) for w in block[name]) for name in "FG"}
            for block in blocks
        ]
        self.y_mean_ = y_mean.astype(dtype)
        self.y_scale_ = y_scale.astype(dtype)
        self.validation_scores_ = scores
        self.best_iter_ = int(np.argmax(scores)) if scores else 0
        self.n_iter_ = n_iter

    def _transform(self, X):
        translated = self.base_.transform(X)
        mean, scale = (to_namespace_of(a, translated) for a in self._statistics())
        Z = coupling_forward((translated - mean) / scale, self._blocks_like(translated))
        return Z * scale + mean

    def _inverse_available(self):
        """Whether the base map can be inverted (a string base always can)."""
        base = getattr(self, "base_", self.base)
        return isinstance(base, str) or hasattr(base, "inverse_transform")

    def _inverse_transform(self, Y):
        """Invert the coupling blocks exactly, then the base map."""
        mean, scale = (to_namespace_of(a, Y) for a in self._statistics())
        Z = coupling_inverse((Y - mean) / scale, self._blocks_like(Y))
        return self.base_.inverse_transform(Z * scale + mean)

    def _statistics(self):
        return self.y_mean_, self.y_scale_

    def _blocks_like(self, like):
        return [
            {
                name: tuple(to_namespace_of(w, like) for w in block[name])
                for name in "FG"
            }
            for block in self.blocks_
        ]

    def _device(self, X):
        if self.device is not None:
            return check_training_device(self.device)
        return str(X.device) if is_torch_array(X) else "cpu"


def _check_float32_range(**values):
    """Refuse optimiser settings torch cannot hold (the blocks train in float32)."""
    largest = float(np.finfo(np.float32).max)
    for name, value in values.items():
        if value > largest:
            raise ValueError(
                f"AdapterAligner({name}={value!r}) is beyond float32's range "
                f"({largest:.3g}), in which the coupling blocks are trained. Pass "
                f"a smaller {name} (the defaults are alpha=1e-3, "
                "learning_rate=1e-3)."
            )


def check_training_device(device):
    """``device`` if torch can train on it here, else a ``ValueError`` naming it.

    Examples
    --------
    >>> from skalign._adapter import check_training_device
    >>> check_training_device("cpu")
    'cpu'
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"AdapterAligner(device={device!r}) is not a torch device ({exc}). "
            "Pass 'cpu', 'cuda', 'cuda:0', 'mps', or None for the device of X."
        ) from exc
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available.get(parsed.type, False):
        why = (
            "holds shapes but no values"
            if parsed.type == "meta"
            else "is not available on this machine"
        )
        raise ValueError(
            f"AdapterAligner(device={device!r}): the {parsed.type} device {why}, "
            "so the coupling blocks cannot be trained there. Pass 'cpu', an "
            "available 'cuda' or 'mps' device, or None for the device of X."
        )
    return device


def _drop_unweighted(X, Y, sample_weight):
    """The pairs of positive weight; uniform weights become None (unweighted)."""
    kept = np.flatnonzero(sample_weight > 0)
    if kept.size < sample_weight.size:
        X, Y = take_rows(X, kept), take_rows(Y, kept)
        sample_weight = sample_weight[kept]
    if np.all(sample_weight == sample_weight[0]):
        return X, Y, None
    return X, Y, sample_weight


def _fit_weighted(template, X, Y, sample_weight, rows=None):
    """A clone of ``template`` fitted on ``rows`` (all if None), weighted if given."""
    if rows is not None:
        X, Y = take_rows(X, rows), take_rows(Y, rows)
    if sample_weight is None:
        return clone(template).fit(X, Y)
    weights = sample_weight if rows is None else sample_weight[rows]
    return clone(template).fit(X, Y, sample_weight=weights)


def _mean_one(weights):
    """``weights`` divided by their mean, so a weighted mean is their dot / n."""
    return weights / weights.mean()


def coupling_forward(Z, blocks):
    """Apply additive-coupling blocks: ``o1 = e1 + F(e2)``, ``o2 = e2 + G(o1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._adapter import coupling_forward
    >>> F = (np.ones((1, 1)), np.zeros(1), np.full((1, 1), 2.0), np.zeros(1))
    >>> G = (np.ones((1, 1)), np.zeros(1), np.zeros((1, 1)), np.zeros(1))
    >>> coupling_forward(np.array([[1.0, 3.0]]), [{"F": F, "G": G}]).tolist()
    [[7.0, 3.0]]
    """
    half = Z.shape[1] // 2
    xp = get_namespace(Z)
    for block in blocks:
        e1, e2 = Z[:, :half], Z[:, half:]
        o1 = e1 + _projection(e2, block["F"])
        o2 = e2 + _projection(o1, block["G"])
        Z = xp.concat([o1, o2], axis=1)
    return Z


def coupling_inverse(Z, blocks):
    """Invert :func:`coupling_forward`: ``e2 = o2 - G(o1)``, ``e1 = o1 - F(e2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skalign._adapter import coupling_inverse
    >>> F = (np.ones((1, 1)), np.zeros(1), np.full((1, 1), 2.0), np.zeros(1))
    >>> G = (np.ones((1, 1)), np.zeros(1), np.zeros((1, 1)), np.zeros(1))
    >>> coupling_inverse(np.array([[7.0, 3.0]]), [{"F": F, "G": G}]).tolist()
    [[1.0, 3.0]]
    """
    half = Z.shape[1] // 2
    xp = get_namespace(Z)
    for block in reversed(blocks):
        o1, o2 = Z[:, :half], Z[:, half:]
        e2 = o2 - _projection(o1, block["G"])
        e1 = o1 - _projection(e2, block["F"])
        Z = xp.concat([e1, e2], axis=1)
    return Z


def _projection(E, weights):
    """Down-ReLU-up projection ``up(relu(down(E)))``."""
    down_weight, down_bias, up_weight, up_bias = weights
    hidden = E @ down_weight.T + down_bias
    hidden = hidden.clamp(min=0) if is_torch_array(hidden) else np.maximum(hidden, 0)
    return hidden @ up_weight.T + up_bias


def _in_unit_range(mean, scale):
    """``mean`` and ``scale`` divided by one power of two so that both fit
    float32 (the validation cosine, taken in float32, is unchanged by it)."""
    largest = max(float(np.abs(mean).max()), float(scale.max()))
    common = float(power_of_two_magnitude(np.asarray([largest]))[0])
    return mean / common, scale / common


def _standardiser(mean, scale):
    def standardise(Y):
        return (to_numpy(Y).astype(np.float64) - mean) / scale

    return standardise


def _train_blocks(params, inputs, targets, statistics, *, weights, seed, device):
    """Adam on the blocks from the identity; return the best-validation blocks.

    ``inputs`` and ``targets`` are (train, validation) pairs of standardised
    host arrays; the validation score is the mean cosine similarity in the
    de-normalised target space. ``weights``, None or a (train, validation)
    pair of row weights of mean 1, weigh the loss, the closed-form start and
    the validation score.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32).to(device)  # noqa: E731
    (Z_train, Z_val), (T_train, T_val) = (
        [as_tensor(a) for a in pair] for pair in (inputs, targets)
    )
    w_train, w_val = (None, None) if weights is None else map(as_tensor, weights)
    mean, scale = (as_tensor(a) for a in statistics)
    width = Z_train.shape[1]
    half = width // 2
    blocks = [
        {
            "F": _init_projection(width - half, half, params.hidden, generator, device),
            "G": _init_projection(half, width - half, params.hidden, generator, device),
        }
        for _ in range(params.n_blocks)
    ]
    weights = [w for block in blocks for name in "FG" for w in block[name]]
    optimizer = torch.optim.Adam(
        weights, lr=params.learning_rate, weight_decay=params.alpha
    )

    def validation_score():
        with torch.no_grad():
            out = coupling_forward(Z_val, blocks) * scale + mean
            truth = T_val * scale + mean
            cosines = torch.nn.functional.cosine_similarity(out, truth)
            return float(_mean(cosines, w_val))

    def snapshot():
        return [
            [w.detach().cpu().numpy().copy() for w in block[n]]
            for block in blocks
            for n in "FG"
        ]

    scores = [validation_score()]
    best = snapshot()
    _closed_form_start(blocks, Z_train, T_train, w_train, validation_score)
    scores.append(validation_score())
    if scores[-1] > scores[0]:
        best = snapshot()
    else:  # the closed form did not beat the identity: Adam starts from it
        _zero_up_projections(blocks)
    since_best, n_iter = 0, 0
    for _ in range(params.max_iter):
        n_iter += 1
        optimizer.zero_grad()
        errors = torch.mean((coupling_forward(Z_train, blocks) - T_train) ** 2, dim=1)
        loss = _mean(errors, w_train)
        loss.backward()
        optimizer.step()
        scores.append(validation_score())
        if scores[-1] > max(scores[:-1]):
            best = snapshot()
            since_best = 0
        else:
            since_best += 1
            if since_best >= params.n_iter_no_change:
                break
    kept = [
        {"F": tuple(best[2 * i]), "G": tuple(best[2 * i + 1])}
        for i in range(len(blocks))
    ]
    return kept, scores, n_iter


def _mean(values, weights):
    """Mean of ``values`` (1-D tensor), weighted by ``weights`` of mean 1 if given."""
    return values.mean() if weights is None else (values * weights).mean()


#: Ridge penalties of the closed-form start, as shares of the mean diagonal of
#: the hidden features' Gram matrix; the one with the best held-out score wins.
START_RIDGES = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


def _closed_form_start(blocks, Z, T, weights, validation_score):
    """Set the up-projections to ridge fits of the residuals, block by block.

    With its random down-projection fixed, a projection is linear in its
    up-projection, so ``F`` of the first block is fitted in closed form to
    ``T1 - e1`` on its hidden ReLU features, ``G`` to ``T2 - e2``, and each
    following block to what the previous ones left (weighted least squares
    when ``weights``, of mean 1, are given). The ridge penalty is chosen from
    ``START_RIDGES`` by ``validation_score()``.
    """
    import torch

    half = Z.shape[1] // 2
    best_score, best_ridge = -np.inf, None
    with torch.no_grad():
        for ridge in START_RIDGES:
            _fit_up_projections(blocks, Z, T, weights, half, ridge)
            score = validation_score()
            if np.isfinite(score) and score > best_score:
                best_score, best_ridge = score, ridge
        if best_ridge is None:
            _zero_up_projections(blocks)
        else:
            _fit_up_projections(blocks, Z, T, weights, half, best_ridge)


def _fit_up_projections(blocks, Z, T, weights, half, ridge):
    import torch

    for block in blocks:
        e1, e2 = Z[:, :half], Z[:, half:]
        _ridge_up_projection(block["F"], e2, T[:, :half] - e1, weights, ridge)
        o1 = e1 + _projection(e2, block["F"])
        _ridge_up_projection(block["G"], o1, T[:, half:] - e2, weights, ridge)
        Z = torch.cat([o1, e2 + _projection(o1, block["G"])], dim=1)


def _ridge_up_projection(weights, inputs, residual, row_weights, ridge):
    """Up-weights and bias of ``weights`` set to the ridge fit of ``residual``
    (weighted by ``row_weights``, of mean 1, when given)."""
    import torch

    down_weight, down_bias, up_weight, up_bias = weights
    hidden = (inputs @ down_weight.T + down_bias).clamp(min=0)
    if row_weights is None:
        hidden_mean, residual_mean = hidden.mean(dim=0), residual.mean(dim=0)
        centred = hidden - hidden_mean
        weighted = centred
    else:
        column = row_weights[:, None]
        hidden_mean = (column * hidden).mean(dim=0)
        residual_mean = (column * residual).mean(dim=0)
        centred = hidden - hidden_mean
        weighted = column * centred
    gram = (weighted.T @ centred).double()
    penalty = ridge * float(gram.diagonal().mean()) + 1e-12
    eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    solution = torch.linalg.solve(
        gram + penalty * eye, (weighted.T @ (residual - residual_mean)).double()
    ).to(up_weight.dtype)
    up_weight.copy_(solution.T)
    up_bias.copy_(residual_mean - hidden_mean @ solution)


def _zero_up_projections(blocks):
    import torch

    with torch.no_grad():
        for block in blocks:
            for name in "FG":
                block[name][2].zero_()
                block[name][3].zero_()


def _init_projection(n_in, n_out, hidden, generator, device):
    """Random down-projection, zero up-projection: the projection starts at 0."""
    import torch

    down = torch.randn(hidden, n_in, generator=generator) / np.sqrt(n_in)
    tensors = (
        down,
        torch.zeros(hidden),
        torch.zeros(n_out, hidden),
        torch.zeros(n_out),
    )
    return tuple(t.to(device).requires_grad_() for t in tensors)
