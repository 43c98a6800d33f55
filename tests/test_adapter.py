"""AdapterAligner: identity start, exact inverse, determinism, devices."""

import numpy as np
import pytest

from skalign import AdapterAligner, LatentAligner

pytest.importorskip("torch")


def _bent(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.c_[X[:, :2], X[:, 2:] + np.tanh(2 * X[:, :2])]


def test_exact_inverse_when_the_base_map_is_invertible():
    X, Y = _bent()
    Y_wide = np.c_[Y, np.zeros((len(Y), 2))]  # ortho 4 -> 6 is invertible
    adapter = AdapterAligner(random_state=0, max_iter=100).fit(X, Y_wide)
    assert adapter.best_iter_ > 0  # the blocks moved away from the identity
    np.testing.assert_allclose(
        adapter.inverse_transform(adapter.transform(X)), X, atol=1e-10
    )


def test_learns_what_the_linear_map_cannot_and_is_deterministic():
    X, Y = _bent(400)
    first = AdapterAligner(random_state=0).fit(X[:300], Y[:300])
    second = AdapterAligner(random_state=0).fit(X[:300], Y[:300])
    base = LatentAligner("ortho").fit(X[:300], Y[:300])
    assert first.score(X[300:], Y[300:]) > base.score(X[300:], Y[300:]) + 0.01
    np.testing.assert_array_equal(first.transform(X), second.transform(X))


def test_stays_the_base_map_when_nothing_is_to_learn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    Y = X @ rng.normal(size=(5, 5))  # linear: the base map is exact
    adapter = AdapterAligner("affine", random_state=0, max_iter=50).fit(X, Y)
    base = LatentAligner("affine").fit(X, Y)
    assert adapter.best_iter_ == 0
    assert adapter.validation_scores_[0] == max(adapter.validation_scores_)
    np.testing.assert_allclose(adapter.transform(X), base.transform(X), atol=1e-10)


def test_float32_and_estimator_base():
    X, Y = _bent()
    adapter = AdapterAligner(LatentAligner("affine", alpha="auto"), max_iter=20)
    out = adapter.fit(X.astype(np.float32), Y).transform(X.astype(np.float32))
    assert out.dtype == np.float32
    assert all(w.dtype == np.float32 for b in adapter.blocks_ for w in b["F"])


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(
                not __import__("torch").cuda.is_available(), reason="no CUDA device"
            ),
        ),
    ],
)
def test_tensor_inputs_stay_on_their_device(device):
    import torch

    X, Y = _bent()
    Xt, Yt = (torch.from_numpy(a).to(device) for a in (X, Y))
    adapter = AdapterAligner(random_state=0, max_iter=30).fit(Xt, Yt)
    out = adapter.transform(Xt)
    assert out.device.type == device
    back = adapter.inverse_transform(out)
    np.testing.assert_allclose(back.cpu().numpy(), X, atol=1e-8)
    np.testing.assert_allclose(out.cpu().numpy(), adapter.transform(X), atol=1e-8)


def test_round_trip_is_exact_only_on_the_anchors_span():
    """Fewer anchors than source features: ortho into a wider space inverts
    the anchors exactly, and loses the part of a new point off their span."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 30))
    Y = np.c_[X, np.tanh(X)] @ np.linalg.qr(rng.normal(size=(60, 60)))[0]
    adapter = AdapterAligner(random_state=0, max_iter=5).fit(X, Y)
    new = rng.normal(size=(10, 30))
    with pytest.warns(UserWarning, match="minimum-norm preimage"):
        anchors_back = adapter.inverse_transform(adapter.transform(X))
        back = adapter.inverse_transform(adapter.transform(new))
    np.testing.assert_allclose(anchors_back, X, atol=1e-8)
    relative = np.linalg.norm(back - new, axis=1) / np.linalg.norm(new, axis=1)
    assert np.all(relative > 0.3)


def test_closed_form_start_beats_the_identity_before_any_adam_step():
    X, Y = _bent(400)
    adapter = AdapterAligner(random_state=0, max_iter=1).fit(X[:300], Y[:300])
    identity, start = adapter.validation_scores_[:2]
    assert start > identity + 0.01
    assert adapter.best_iter_ >= 1 and len(adapter.validation_scores_) == 3
    base = LatentAligner("ortho").fit(X[:300], Y[:300])
    assert adapter.score(X[300:], Y[300:]) > base.score(X[300:], Y[300:]) + 0.01
    np.testing.assert_allclose(
        adapter.inverse_transform(adapter.transform(X)), X, atol=1e-10
    )
