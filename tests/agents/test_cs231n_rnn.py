"""The CS231n numpy RNN library: hand numbers, numeric gradients and torch autograd check its backwards."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlkit.agents import cs231n_rnn as L


def numeric_grad(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d(sum(f() * dout))/dx by central differences (f reads x, which is perturbed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(f() * dout)
        x[i] = old - h
        minus = np.sum(f() * dout)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n's relative error; entries below 1e-4 are compared on an absolute scale (rounding noise)."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-4, np.abs(a) + np.abs(b))))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_rnn_step_forward_by_hand() -> None:
    x, h = np.array([[1.0, 2.0]]), np.array([[0.5]])
    Wx, Wh, b = np.array([[0.1], [0.2]]), np.array([[0.3]]), np.array([0.05])
    next_h, _ = L.rnn_step_forward(x, h, Wx, Wh, b)
    np.testing.assert_allclose(next_h, np.tanh([[0.1 + 0.4 + 0.15 + 0.05]]))


def test_lstm_step_forward_by_hand() -> None:
    # D = H = 1, all gate pre-activations equal a = x*1 + h*0 + 0 = 0.5
    x, h, c = np.array([[0.5]]), np.array([[0.0]]), np.array([[2.0]])
    Wx, Wh, b = np.ones((1, 4)), np.zeros((1, 4)), np.zeros(4)
    next_h, next_c, _ = L.lstm_step_forward(x, h, c, Wx, Wh, b)
    s, g = 1 / (1 + np.exp(-0.5)), np.tanh(0.5)
    np.testing.assert_allclose(next_c, [[s * 2.0 + s * g]])
    np.testing.assert_allclose(next_h, [[s * np.tanh(s * 2.0 + s * g)]])


def test_temporal_softmax_loss_by_hand() -> None:
    # uniform scores over V=4: each unmasked step costs log 4; 3 unmasked steps over N=2 -> 1.5 log 4
    x = np.zeros((2, 2, 4))
    y = np.array([[0, 1], [2, 3]])
    mask = np.array([[True, True], [True, False]])
    loss, dx = L.temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(1.5 * np.log(4))
    np.testing.assert_allclose(dx[0, 0], np.array([0.25 - 1, 0.25, 0.25, 0.25]) / 2)
    np.testing.assert_allclose(dx[1, 1], 0.0)


def test_sigmoid_is_stable() -> None:
    out = L.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


def test_rnn_step_backward_matches_numeric(rng) -> None:
    N, D, H = 3, 4, 5
    x, h, Wx, Wh, b = (rng.standard_normal(s) for s in ((N, D), (N, H), (D, H), (H, H), (H,)))
    out, cache = L.rnn_step_forward(x, h, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = L.rnn_step_backward(dout, cache)
    for arr, grad in zip((x, h, Wx, Wh, b), grads):
        num = numeric_grad(lambda: L.rnn_step_forward(x, h, Wx, Wh, b)[0], arr, dout)
        assert rel_error(num, grad) < 1e-5


def test_rnn_backward_matches_numeric(rng) -> None:
    N, T, D, H = 2, 3, 4, 5
    x, h0, Wx, Wh, b = (rng.standard_normal(s) for s in ((N, T, D), (N, H), (D, H), (H, H), (H,)))
    out, cache = L.rnn_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = L.rnn_backward(dout, cache)
    for arr, grad in zip((x, h0, Wx, Wh, b), grads):
        num = numeric_grad(lambda: L.rnn_forward(x, h0, Wx, Wh, b)[0], arr, dout)
        assert rel_error(num, grad) < 1e-5


def test_lstm_step_backward_matches_numeric(rng) -> None:
    N, D, H = 3, 4, 5
    shapes = ((N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))
    x, h, c, Wx, Wh, b = (rng.standard_normal(s) for s in shapes)
    next_h, next_c, cache = L.lstm_step_forward(x, h, c, Wx, Wh, b)
    dh, dc = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    grads = L.lstm_step_backward(dh, dc, cache)

    def both() -> np.ndarray:  # sum(h * dh) + sum(c * dc) as one product with [dh, dc]
        nh, nc, _ = L.lstm_step_forward(x, h, c, Wx, Wh, b)
        return np.concatenate([nh, nc], axis=1)

    dout = np.concatenate([dh, dc], axis=1)
    for arr, grad in zip((x, h, c, Wx, Wh, b), grads):
        assert rel_error(numeric_grad(both, arr, dout), grad) < 1e-5


def test_lstm_backward_matches_numeric(rng) -> None:
    N, T, D, H = 2, 3, 4, 3
    x, h0, Wx, Wh, b = (rng.standard_normal(s) for s in ((N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)))
    out, cache = L.lstm_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = L.lstm_backward(dout, cache)
    for arr, grad in zip((x, h0, Wx, Wh, b), grads):
        num = numeric_grad(lambda: L.lstm_forward(x, h0, Wx, Wh, b)[0], arr, dout)
        assert rel_error(num, grad) < 1e-5


def test_embedding_affine_and_loss_match_numeric(rng) -> None:
    N, T, V, D, M = 2, 3, 5, 4, 6
    words = np.array([[0, 3, 3], [1, 3, 4]])  # word 3 three times: its gradient accumulates
    W = rng.standard_normal((V, D))
    out, cache = L.word_embedding_forward(words, W)
    np.testing.assert_array_equal(out[0, 1], W[3])
    dout = rng.standard_normal(out.shape)
    num = numeric_grad(lambda: L.word_embedding_forward(words, W)[0], W, dout)
    np.testing.assert_allclose(L.word_embedding_backward(dout, cache), num, atol=1e-8)

    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    out, cache = L.temporal_affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    for arr, grad in zip((x, w, b), L.temporal_affine_backward(dout, cache)):
        assert rel_error(numeric_grad(lambda: L.temporal_affine_forward(x, w, b)[0], arr, dout), grad) < 1e-5

    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) > 0.3
    _, dx = L.temporal_softmax_loss(scores, y, mask)
    num = numeric_grad(lambda: np.array(L.temporal_softmax_loss(scores, y, mask)[0]), scores, np.array(1.0))
    assert rel_error(num, dx) < 1e-5


def torch_lstm_reference(x, h0, Wx, Wh, b) -> torch.Tensor:
    """The same LSTM (gates i, f, o, g; c0 = 0) written with torch ops, for autograd."""
    H = h0.shape[1]
    h, c, outs = h0, torch.zeros_like(h0), []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = (torch.sigmoid(a[:, k * H : (k + 1) * H]) for k in range(3))
        c = f * c + i * torch.tanh(a[:, 3 * H :])
        h = o * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs, dim=1)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_sequence_gradients_match_torch_autograd(rng, cell: str) -> None:
    N, T, D, H, V = 4, 6, 5, 7, 9
    k = 4 if cell == "lstm" else 1
    arrays = [rng.standard_normal(s) * 0.5 for s in ((N, T, D), (N, H), (D, k * H), (H, k * H), (k * H,))]
    w_out, b_out = rng.standard_normal((H, V)), rng.standard_normal(V)
    y, mask = rng.integers(0, V, (N, T)), rng.random((N, T)) > 0.2

    forward, backward = (
        (L.lstm_forward, L.lstm_backward) if cell == "lstm" else (L.rnn_forward, L.rnn_backward)
    )
    h, cache = forward(*arrays)
    scores, a_cache = L.temporal_affine_forward(h, w_out, b_out)
    loss, dscores = L.temporal_softmax_loss(scores, y, mask)
    dh, dw_out, db_out = L.temporal_affine_backward(dscores, a_cache)
    ours = [*backward(dh, cache), dw_out, db_out]

    ts = [torch.tensor(a, requires_grad=True) for a in (*arrays, w_out, b_out)]
    if cell == "lstm":
        th = torch_lstm_reference(*ts[:5])
    else:
        th, hs = ts[1], []
        for t in range(T):
            th = torch.tanh(ts[0][:, t] @ ts[2] + th @ ts[3] + ts[4])
            hs.append(th)
        th = torch.stack(hs, dim=1)
    logits = th @ ts[5] + ts[6]
    ce = torch.nn.functional.cross_entropy(
        logits.reshape(-1, V), torch.tensor(y).reshape(-1), reduction="none"
    )
    t_loss = (ce * torch.tensor(mask).reshape(-1)).sum() / N
    t_loss.backward()
    assert loss == pytest.approx(float(t_loss.detach()), rel=1e-10)
    np.testing.assert_allclose(h, th.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, t in zip(ours, ts):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-8, atol=1e-10)
