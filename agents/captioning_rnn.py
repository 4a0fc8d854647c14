"""CS231n (2017) assignment 3's CaptioningRNN in numpy, on the layers of rlkit.agents.cs231n_rnn, with the
assignment's update rules (SGD, Adam), and its torch twin for checking one against the other.

The model: image features (N, D) -> h0 = features W_proj + b_proj; captions are word ids in the layout of
rlkit.core.tokens (``<s>`` = the assignment's <START>, ``</s>`` = <END>, 0 = <NULL>); `loss` teacher-forces
``captions[:, :-1]`` to predict ``captions[:, 1:]`` through a vanilla RNN or an LSTM (`cell`), a temporal
affine layer to the vocabulary and the temporal softmax loss masked where the target is padding (summed
over time, averaged over the batch, as the assignment's). `sample` decodes greedily from ``<s>``: the
assignment takes the argmax and writes every step (it does not stop at ``</s>``); here a caption is padded
after its ``</s>``, as the task envs expect. Initialisation is the assignment's (randn / sqrt(fan_in),
embedding / 100, zero biases), from a seeded numpy Generator. Use float64 for gradient checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rlkit.agents.cs231n_rnn import (
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rlkit.core.errors import invalid_choice
from rlkit.core.tokens import BOS, EOS, PAD

CELLS = ("rnn", "lstm")


class CaptioningRNN:
    """The assignment's image-captioning RNN: features -> h0, words -> RNN/LSTM -> vocabulary scores."""

    def __init__(
        self,
        vocab_size: int,
        input_dim: int = 512,
        wordvec_dim: int = 128,
        hidden_dim: int = 128,
        cell: str = "rnn",
        dtype: Any = np.float32,
        seed: int = 0,
    ):
        if cell not in CELLS:
            raise invalid_choice(f"cell={cell!r}", CELLS)  # (a UserError is a ValueError)
        self.cell, self.dtype = cell, dtype
        rng, k = np.random.default_rng(seed), 4 if cell == "lstm" else 1
        V, D, W, H = vocab_size, input_dim, wordvec_dim, hidden_dim
        self.params = {
            "W_embed": rng.standard_normal((V, W)) / 100,
            "W_proj": rng.standard_normal((D, H)) / np.sqrt(D),
            "b_proj": np.zeros(H),
            "Wx": rng.standard_normal((W, k * H)) / np.sqrt(W),
            "Wh": rng.standard_normal((H, k * H)) / np.sqrt(H),
            "b": np.zeros(k * H),
            "W_vocab": rng.standard_normal((H, V)) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        self.params = {name: p.astype(dtype) for name, p in self.params.items()}

    def loss(self, features: np.ndarray, captions: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """(loss, gradients keyed like params) of captions (N, T) given features (N, D)."""
        p = self.params
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != PAD
        h0 = features @ p["W_proj"] + p["b_proj"]
        x, embed_cache = word_embedding_forward(captions_in, p["W_embed"])
        forward, backward = (
            (lstm_forward, lstm_backward) if self.cell == "lstm" else (rnn_forward, rnn_backward)
        )
        h, rnn_cache = forward(x, h0, p["Wx"], p["Wh"], p["b"])
        scores, affine_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)
        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, affine_cache)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, rnn_cache)
        grads["W_embed"] = word_embedding_backward(dx, embed_cache)
        grads["W_proj"], grads["b_proj"] = features.T @ dh0, dh0.sum(axis=0)
        return loss, grads

    def sample(self, features: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Greedy captions (N, max_length): word ids, ``</s>``, then padding."""
        p = self.params
        n = len(features)
        h = features @ p["W_proj"] + p["b_proj"]
        c = np.zeros_like(h)
        words = np.full(n, BOS)
        out = np.full((n, max_length), PAD, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        for t in range(max_length):
            x = p["W_embed"][words]
            if self.cell == "lstm":
                h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            else:
                h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            words = (h @ p["W_vocab"] + p["b_vocab"]).argmax(axis=1)
            out[~done, t] = words[~done]
            done |= words == EOS
        return out


def sgd(w: np.ndarray, dw: np.ndarray, config: dict) -> np.ndarray:
    """The assignment's vanilla SGD: w - learning_rate * dw."""
    return w - config.setdefault("learning_rate", 1e-2) * dw


def adam(w: np.ndarray, dw: np.ndarray, config: dict) -> np.ndarray:
    """The assignment's Adam (bias-corrected moments; its config dict carries m, v and t between calls)."""
    lr, b1, b2 = (
        config.setdefault("learning_rate", 1e-3),
        config.setdefault("beta1", 0.9),
        config.setdefault("beta2", 0.999),
    )
    eps = config.setdefault("epsilon", 1e-8)
    config["t"] = config.get("t", 0) + 1
    config["m"] = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    config["v"] = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat, v_hat = config["m"] / (1 - b1 ** config["t"]), config["v"] / (1 - b2 ** config["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


def train_step(
    model: CaptioningRNN, features: np.ndarray, captions: np.ndarray, rule: Any, configs: dict
) -> float:
    """One update of every parameter by `rule` (sgd or adam; `configs` keeps one config per parameter)."""
    loss, grads = model.loss(features, captions)
    for name, w in model.params.items():
        model.params[name] = rule(w, grads[name], configs.setdefault(name, {}))
    return loss


class TorchCaptioningRNN(nn.Module):
    """The same model in torch (nn.RNN / nn.LSTM): `from_numpy` copies a CaptioningRNN's weights."""

    def __init__(self, vocab_size: int, input_dim: int, wordvec_dim: int, hidden_dim: int, cell: str):
        super().__init__()
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        self.proj = nn.Linear(input_dim, hidden_dim)
        kind = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = kind(wordvec_dim, hidden_dim, batch_first=True)
        self.vocab = nn.Linear(hidden_dim, vocab_size)

    @classmethod
    def from_numpy(cls, model: CaptioningRNN) -> TorchCaptioningRNN:
        """A torch model holding `model`'s weights (LSTM gates i, f, o, g reordered to torch's i, f, g, o)."""
        p = {k: torch.as_tensor(v) for k, v in model.params.items()}
        (V, W), H = p["W_embed"].shape, p["Wh"].shape[0]
        net = cls(V, p["W_proj"].shape[0], W, H, model.cell).to(p["Wx"].dtype)
        order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
        order = order if model.cell == "lstm" else torch.arange(H)
        with torch.no_grad():
            net.embed.weight.copy_(p["W_embed"])
            net.proj.weight.copy_(p["W_proj"].T)
            net.proj.bias.copy_(p["b_proj"])
            net.rnn.weight_ih_l0.copy_(p["Wx"].T[order])
            net.rnn.weight_hh_l0.copy_(p["Wh"].T[order])
            net.rnn.bias_ih_l0.copy_(p["b"][order])
            net.rnn.bias_hh_l0.zero_()  # the assignment has one bias; torch's two are added
            net.vocab.weight.copy_(p["W_vocab"].T)
            net.vocab.bias.copy_(p["b_vocab"])
        return net

    def forward(self, features: torch.Tensor, captions_in: torch.Tensor) -> torch.Tensor:
        """Vocabulary scores (N, T, V) of the next word after each of captions_in (N, T)."""
        h0 = self.proj(features)[None]
        state = (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0
        out, _ = self.rnn(self.embed(captions_in), state)
        return self.vocab(out)
