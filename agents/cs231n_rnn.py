"""CS231n (2017) assignment 3, parts 1-2, in numpy: RNN and LSTM layers with hand-written backward passes.

A small library (the image-captioning model of a later issue builds on it): every `*_forward` returns
(output, cache) and its `*_backward` takes the upstream gradient and that cache, as in the assignment.
Shapes: N batch, T time steps, D input size, H hidden size, V vocabulary, M output size.
LSTM gates are stacked in the order i, f, o, g (input, forget, output, candidate), as in the assignment.
tests/agents/test_cs231n_rnn.py checks each backward pass against numeric gradients and torch autograd.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Cache = Any


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow for large |x|)."""
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


# ----- vanilla RNN ------------------------------------------------------------------------------------------
def rnn_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Cache]:
    """next_h = tanh(x Wx + prev_h Wh + b); x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Gradients (dx, dprev_h, dWx, dWh, db) of one RNN step."""
    x, prev_h, Wx, Wh, next_h = cache
    da = (1.0 - next_h**2) * dnext_h  # through tanh
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Cache]:
    """Runs the RNN over a sequence: x (N, T, D), h0 (N, H) -> h (N, T, H)."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    caches, prev_h = [], h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Gradients (dx, dh0, dWx, dWh, db) from dh (N, T, H), the upstream gradient of every hidden state."""
    N, T, _ = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.empty((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0], dtype=dh.dtype)
    dprev_h = np.zeros_like(dh[:, 0])
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


# ----- LSTM -------------------------------------------------------------------------------------------------
def lstm_step_forward(
    x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Cache]:
    """One LSTM step: x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,) -> next_h, next_c.

    a = x Wx + prev_h Wh + b; i, f, o = sigmoid(a[:, :3H]); g = tanh(a[:, 3H:]);
    next_c = f * prev_c + i * g; next_h = o * tanh(next_c).
    """
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (sigmoid(a[:, k * H : (k + 1) * H]) for k in range(3))
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Gradients (dx, dprev_h, dprev_c, dWx, dWh, db) of one LSTM step."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c**2)
    di, df, dg = dc * g, dc * prev_c, dc * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, Cache]:
    """Runs the LSTM over a sequence from h0 and a zero cell state: x (N, T, D) -> h (N, T, H)."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    caches, prev_h, prev_c = [], h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Gradients (dx, dh0, dWx, dWh, db) from dh (N, T, H); the cell gradient is carried back in time."""
    N, T, H = dh.shape
    x0, _, _, Wx, Wh = cache[0][:5]
    dx = np.empty((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, cache[t]
        )
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


# ----- embedding, temporal affine, temporal softmax loss ----------------------------------------------------
def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Looks up word vectors: x int (N, T) in [0, V), W (V, D) -> (N, T, D)."""
    return W[x], (x, W.shape)


def word_embedding_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dW (V, D); a word used several times accumulates all its gradients (np.add.at)."""
    x, shape = cache
    dW = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dW, x, dout)
    return dW


def temporal_affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """The same affine map at every step: x (N, T, D), w (D, M), b (M,) -> (N, T, M)."""
    return x @ w + b, (x, w)


def temporal_affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dw, db) of the temporal affine layer."""
    x, w = cache
    D, M = w.shape
    return dout @ w.T, x.reshape(-1, D).T @ dout.reshape(-1, M), dout.reshape(-1, M).sum(axis=0)


def temporal_softmax_loss(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy summed over the unmasked steps and averaged over the batch; returns (loss, dx).

    x (N, T, V) scores, y int (N, T) targets, mask bool (N, T): False steps (padding, <NULL>) count nothing.
    """
    N, T, V = x.shape
    flat, y_flat, m = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(m * log_p[np.arange(N * T), y_flat]).sum() / N
    dx = np.exp(log_p)
    dx[np.arange(N * T), y_flat] -= 1.0
    dx *= m[:, None] / N
    return float(loss), dx.reshape(N, T, V)
